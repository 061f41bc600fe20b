//! The compressor and decompressor of one connection (flate2 over zlib-rs: raw deflate,
//! window bits as negotiated). Both are created on first use: an idle connection that never
//! sends or receives a compressed message pays nothing for them (a zlib compressor holds
//! about 256 KiB).

use flate2::{Compress, Compression as Level, Decompress, FlushCompress, FlushDecompress, Status};

use tungstenite::protocol::frame::coding::{Data as OpData, OpCode};
use tungstenite::protocol::frame::Frame;

use super::Params;

/// What RFC 7692 §7.2.1 has the sender strip from the end of a message, and the receiver
/// append before inflating (§7.2.2): the end of a sync flush.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// How much room the output grows by at a time while inflating (at most up to the limit).
const INFLATE_STEP: usize = 16 << 10;

/// What may follow the end of a deflate stream (a block with BFINAL set) within a message,
/// counting the marker the receiver appends (RFC 7692 §7.2.3.4, §7.2.1): nothing (the
/// stream ended inside the marker: a final empty stored block), the marker alone (the empty
/// stored block's header bits packed into the final block's last byte), or the `00` of an
/// empty stored block starting on the next byte and the marker, as in the RFC's example.
const AFTER_END: [&[u8]; 3] = [&[], &TAIL, &[0x00, 0x00, 0x00, 0xff, 0xff]];

/// The longest of [`AFTER_END`].
const AFTER_END_MAX: usize = 5;

/// Why a compressed message could not be inflated.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// The message inflates past the limit: refused before more is allocated.
    TooLarge { size: u64 },
    /// The payload is not valid deflate data.
    Corrupt(String),
}

/// Inflates the server's compressed messages.
///
/// A message's deflate stream may end with a block that has BFINAL set (RFC 7692 §7.2.3.4).
/// Then only what [`AFTER_END`] lists may follow it in the message; anything else makes the
/// message corrupt (the connection fails with 1002, as for any data that does not inflate),
/// whatever frames the message came in. The next message starts a new deflate stream with an
/// empty window: a sender that ends its stream has to start a new one, and a reference into
/// the messages before would fail as "too far back", never read other bytes.
pub(crate) struct Inflater {
    d: Option<Decompress>,
    /// Bytes of the current message pushed so far.
    pushed: usize,
    /// `server_no_context_takeover`: every message starts from an empty window.
    reset: bool,
    /// The current message's deflate stream has ended (BFINAL).
    ended: bool,
    /// What followed the end of the stream so far (at most [`AFTER_END_MAX`] bytes).
    after: [u8; AFTER_END_MAX],
    after_len: usize,
}

impl Inflater {
    /// The decompressor for what the server agreed to.
    pub fn new(p: &Params) -> Inflater {
        Inflater {
            d: None,
            pushed: 0,
            reset: p.server_no_context_takeover,
            ended: false,
            after: [0; AFTER_END_MAX],
            after_len: 0,
        }
    }

    /// Inflates one frame's payload of a compressed message onto `out`, which may not grow
    /// past `max` bytes: the output is grown in steps and never beyond `max + 1`.
    pub fn push(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<(), InflateError> {
        self.pushed += input.len();
        if self.ended {
            return self.after_end(input);
        }
        // A window of 15 bits inflates whatever window the server compressed with.
        let d = self.d.get_or_insert_with(|| Decompress::new(false));
        let mut pos = 0;
        loop {
            if out.len() == out.capacity() {
                let room = (max + 1).saturating_sub(out.len());
                if room == 0 {
                    return Err(InflateError::TooLarge {
                        size: out.len() as u64,
                    });
                }
                out.reserve_exact(room.min(out.len().max(INFLATE_STEP)));
            }
            let (in_before, out_before) = (d.total_in(), out.len());
            let status = d
                .decompress_vec(&input[pos..], out, FlushDecompress::Sync)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            pos += (d.total_in() - in_before) as usize;
            if out.len() > max {
                return Err(InflateError::TooLarge {
                    size: out.len() as u64,
                });
            }
            if status == Status::StreamEnd {
                // The decompressor gives back the whole bytes it did not use: `pos` is the
                // byte after the stream's last bit, however the message was cut into frames.
                self.ended = true;
                return self.after_end(&input[pos..]);
            }
            let room_left = out.len() < out.capacity();
            if pos == input.len() && room_left {
                return Ok(());
            }
            if room_left && d.total_in() == in_before && out.len() == out_before {
                return Err(InflateError::Corrupt(
                    "the deflate data makes no progress".into(),
                ));
            }
        }
    }

    /// Keeps what follows the end of the deflate stream, to be checked when the message
    /// ends; more than any allowed ending is refused at once.
    fn after_end(&mut self, input: &[u8]) -> Result<(), InflateError> {
        let n = self.after_len + input.len();
        if n > AFTER_END_MAX {
            return Err(after_end_error());
        }
        self.after[self.after_len..n].copy_from_slice(input);
        self.after_len = n;
        Ok(())
    }

    /// Ends a compressed message (its last frame was pushed): inflates the flush marker the
    /// server left out and forgets the window when the server does not keep it, or when the
    /// message ended its deflate stream.
    pub fn finish(&mut self, out: &mut Vec<u8>, max: usize) -> Result<(), InflateError> {
        if self.pushed == 0 {
            // An empty payload: complete the empty block as if the server had sent its byte.
            self.push(&[0x00], out, max)?;
        }
        self.push(&TAIL, out, max)?;
        // After the marker: the next message counts its own bytes from 0 (an empty payload
        // right after a message must get its `00` too).
        self.pushed = 0;
        let ended = std::mem::take(&mut self.ended);
        let after_len = std::mem::take(&mut self.after_len);
        if self.reset || ended {
            if let Some(d) = self.d.as_mut() {
                d.reset(false);
            }
        }
        if ended && !AFTER_END.contains(&&self.after[..after_len]) {
            return Err(after_end_error());
        }
        Ok(())
    }
}

/// Data after the end of a message's deflate stream that RFC 7692 does not allow there.
fn after_end_error() -> InflateError {
    InflateError::Corrupt(
        "data after the end of the deflate stream (a block with BFINAL set ended it; only an \
         empty stored block may follow, RFC 7692 §7.2.1)"
            .into(),
    )
}

/// Compresses the client's messages.
pub(crate) struct Deflater {
    c: Option<Compress>,
    /// zlib compresses with 9 to 15 bits (8 is sent as 9, see `Params`).
    bits: u8,
    /// `client_no_context_takeover`: every message starts from an empty window.
    reset: bool,
}

impl Deflater {
    /// The compressor for what the server agreed to.
    pub fn new(p: &Params) -> Deflater {
        Deflater {
            c: None,
            bits: p.client_max_window_bits.clamp(9, 15),
            reset: p.client_no_context_takeover,
        }
    }

    /// One message's payload, compressed and without the trailing flush marker.
    pub fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        let bits = self.bits;
        let c = self
            .c
            .get_or_insert_with(|| Compress::new_with_window_bits(Level::default(), false, bits));
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut pos = 0;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(64));
            }
            let before = c.total_in();
            c.compress_vec(&data[pos..], &mut out, FlushCompress::Sync)
                .map_err(|e| format!("compression failed: {e}"))?;
            pos += (c.total_in() - before) as usize;
            if pos == data.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.is_empty() {
            // An empty message is one byte: the start of the empty block the receiver
            // completes by appending the marker (RFC 7692 §7.2.3.6).
            out.push(0x00);
        }
        if self.reset {
            c.reset();
        }
        Ok(out)
    }

    /// One message as a compressed frame (RSV1 set) for tungstenite to mask and write.
    pub fn frame(&mut self, data: &[u8], text: bool) -> Result<Frame, String> {
        let op = if text { OpData::Text } else { OpData::Binary };
        let mut frame = Frame::message(self.compress(data)?, OpCode::Data(op), true);
        frame.header_mut().rsv1 = true;
        Ok(frame)
    }

    /// Forgets the window: a compressed message was not sent after all (the send buffer was
    /// full), so the server's window lacks it. A fresh window refers only to what follows.
    pub fn forget(&mut self) {
        if let Some(c) = self.c.as_mut() {
            c.reset();
        }
    }
}
