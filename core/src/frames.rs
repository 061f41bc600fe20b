//! Reading WebSocket frames (RFC 6455, client side; permessage-deflate when negotiated,
//! RFC 7692) straight out of the connection's read buffer.
//!
//! tungstenite still does the handshake and writes our frames; reading is done here because
//! it is the hot path: a frame is parsed where it lies in one reusable buffer and handed to
//! the dialect as a borrowed `&str`, so a message the filters reject costs no allocation and
//! no copy, and a delivered one costs exactly one (its own bytes). tungstenite's reader gave
//! every frame a shared handle into a buffer it re-allocated and zero-filled as it went
//! (docs/BENCHMARKS.md). The protocol checks are those RFC 6455 asks of a client, and the
//! Autobahn TestSuite (scripts/autobahn.sh) runs against them.

use std::fmt;
use std::io::{self, Read};
use std::ops::Range;

use crate::deflate::{InflateError, Inflater, Params};

/// The largest header a server frame can have: 2 bytes, 8 length bytes (servers do not mask).
const MAX_HEADER: usize = 10;

/// The read buffer's size until a read fills it (see `Reader::new`).
const START_SIZE: usize = 4096;

/// One frame (or reassembled message) as the application layer sees it, borrowed from the
/// reader's buffer until the next call.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Incoming<'a> {
    /// A complete text message, valid UTF-8.
    Text(&'a str),
    /// A complete binary message.
    Binary(&'a [u8]),
    /// A ping: answer it with a pong carrying the same bytes.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The server's close frame: its code and reason, if it gave one.
    Close(Option<(u16, &'a str)>),
}

/// Why reading stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The server broke the protocol: close with 1002.
    Protocol(String),
    /// Text that is not UTF-8: close with 1007.
    Utf8(String),
    /// A frame or message over the configured limit: close with 1009.
    TooLarge { size: u64, max: usize },
    /// The TCP connection ended without a close frame.
    Eof,
    /// The socket failed.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Protocol(p) => f.write_str(p),
            ReadError::Utf8(w) => write!(f, "{w} is not valid UTF-8"),
            ReadError::TooLarge { size, max } => {
                write!(
                    f,
                    "a message of {size} bytes, over the limit of {max} bytes"
                )
            }
            ReadError::Eof => {
                f.write_str("the server closed the TCP connection without a close frame")
            }
            ReadError::Io(e) => write!(f, "the connection was lost: {e}"),
        }
    }
}

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub fin: bool,
    /// The three reserved bits (RSV1..3), as the top bits of the first byte.
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    /// The payload length as sent (64 bits on the wire).
    pub len: u64,
    /// Bytes of header, mask key included.
    pub header_len: usize,
}

/// Parses a frame header from the start of `b`: `None` when more bytes are needed.
pub(crate) fn parse_header(b: &[u8]) -> Option<Header> {
    let (b0, b1) = (*b.first()?, *b.get(1)?);
    let masked = b1 & 0x80 != 0;
    let (len, mut header_len) = match b1 & 0x7f {
        126 => (u64::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?])), 4),
        127 => {
            let bytes: [u8; 8] = b.get(2..10)?.try_into().ok()?;
            (u64::from_be_bytes(bytes), 10)
        }
        n => (u64::from(n), 2),
    };
    if masked {
        header_len += 4;
        if b.len() < header_len {
            return None;
        }
    }
    Some(Header {
        fin: b0 & 0x80 != 0,
        rsv: b0 & 0x70,
        opcode: b0 & 0x0f,
        masked,
        len,
        header_len,
    })
}

/// Whether a close code may appear in a close frame (RFC 6455 §7.4 and the IANA registry).
pub(crate) fn close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// RSV1: the message is compressed (permessage-deflate, on a message's first frame only).
const RSV1: u8 = 0x40;

/// Checks the frame rules that do not depend on earlier frames. `deflate`: permessage-deflate
/// was negotiated, so RSV1 may be set on the first frame of a data message.
fn check(h: &Header, deflate: bool) -> Result<(), ReadError> {
    let protocol = |m: String| Err(ReadError::Protocol(m));
    // RSV1 is allowed on the first frame of a data message when the extension is on.
    if h.rsv != 0 && (h.rsv != RSV1 || !deflate || !matches!(h.opcode, 1 | 2)) {
        return protocol(format!(
            "the server set reserved bits ({:#04x}) that no negotiated extension defines",
            h.rsv
        ));
    }
    if h.masked {
        return protocol("the server sent a masked frame (servers must not mask)".into());
    }
    match h.opcode {
        0..=2 => Ok(()),
        8..=10 if !h.fin => protocol("the server fragmented a control frame".into()),
        8..=10 if h.len > 125 => protocol(format!(
            "the server sent a control frame with {} bytes of payload (at most 125)",
            h.len
        )),
        8..=10 => Ok(()),
        op => protocol(format!("the server used the reserved opcode {op}")),
    }
}

/// A fragmented message being put together.
struct Partial {
    text: bool,
    data: Vec<u8>,
    /// How much of `data` is known to be valid UTF-8 (text messages).
    checked: usize,
    /// The message is compressed: `data` holds what its fragments inflated to so far.
    compressed: bool,
}

/// What one step of parsing found, as positions (the view is built after the borrow ends).
enum Step {
    /// A frame to hand out: its opcode and payload range in `buf`.
    Frame(u8, Range<usize>),
    /// A message reassembled from fragments, in `assembled`.
    Assembled(bool),
    /// A non-final fragment was taken in: look for the next frame.
    Again,
    /// The buffer holds no complete frame.
    NeedMore,
}

/// Reads frames from a byte stream into one reusable buffer.
pub(crate) struct Reader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The buffer's resting size (`read_buffer_size`): it grows for larger frames and
    /// shrinks back once they are handled.
    chunk: usize,
    max_frame: usize,
    max_message: usize,
    partial: Option<Partial>,
    /// The last reassembled (or inflated) message (handed out borrowed).
    assembled: Vec<u8>,
    /// The decompressor, when permessage-deflate was negotiated.
    inflater: Option<Inflater>,
}

impl Reader {
    /// A reader whose buffer starts with `pending` (bytes read past the handshake).
    pub fn new(chunk: usize, max_frame: usize, max_message: usize, pending: Vec<u8>) -> Reader {
        let chunk = chunk.max(256);
        let mut buf = pending;
        let end = buf.len();
        // Start small: an idle connection only ever sees a few short frames, and every byte
        // of the buffer is resident memory. The first read that fills it grows it to `chunk`.
        let start_size = chunk.min(START_SIZE);
        if buf.len() < start_size {
            buf.resize(start_size, 0);
        }
        Reader {
            buf,
            start: 0,
            end,
            chunk,
            max_frame,
            max_message,
            partial: None,
            assembled: Vec::new(),
            inflater: None,
        }
    }

    /// Accepts compressed messages as `params` (the handshake's answer) says; `None`: RSV1
    /// stays a protocol error.
    pub fn with_deflate(mut self, params: Option<Params>) -> Reader {
        self.inflater = params.as_ref().map(Inflater::new);
        self
    }

    /// The next frame: `Ok(None)` when the stream has nothing more for now (it would block).
    pub fn next(&mut self, src: &mut impl Read) -> Result<Option<Incoming<'_>>, ReadError> {
        if let Some((opcode, payload)) = self.plain_frame() {
            return self.view(opcode, payload).map(Some);
        }
        loop {
            match self.step()? {
                Step::Frame(op, r) => return self.view(op, r).map(Some),
                Step::Assembled(text) => {
                    return Ok(Some(if text {
                        Incoming::Text(utf8(&self.assembled, "a text message")?)
                    } else {
                        Incoming::Binary(&self.assembled)
                    }))
                }
                Step::Again => {}
                Step::NeedMore => {
                    if !self.fill(src)? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Whether bytes that were read are waiting to be parsed.
    #[cfg(test)]
    pub fn has_buffered(&self) -> bool {
        self.end > self.start
    }

    /// The bytes of memory the reader holds for frames and messages (its buffers'
    /// capacities): the fuzz targets check it against the limits after every call.
    #[cfg(feature = "internals")]
    pub fn footprint(&self) -> usize {
        let partial = self.partial.as_ref().map_or(0, |p| p.data.capacity());
        self.buf.capacity() + self.assembled.capacity() + partial
    }

    fn view(&self, opcode: u8, r: Range<usize>) -> Result<Incoming<'_>, ReadError> {
        let payload = &self.buf[r];
        Ok(match opcode {
            1 => Incoming::Text(utf8(payload, "a text message")?),
            2 => Incoming::Binary(payload),
            9 => Incoming::Ping(payload),
            10 => Incoming::Pong(payload),
            _ => Incoming::Close(close_payload(payload)?),
        })
    }

    /// The usual frame, taken without the general parse: a whole text or binary message in
    /// one frame (FIN set, no reserved bit, not masked, a 7- or 16-bit length), all in the
    /// buffer, within both limits, with no fragmented message pending. Anything else is
    /// `None` and goes through [`Reader::step`], which finds the same frames and every
    /// error; this only skips the checks that such a frame passes anyway.
    #[inline(always)]
    fn plain_frame(&mut self) -> Option<(u8, Range<usize>)> {
        let avail = self.buf.get(self.start..self.end)?;
        let (b0, b1) = (*avail.first()?, *avail.get(1)?);
        // 0x81 / 0x82: FIN + text / binary. b1 > 126: masked, or a 64-bit length.
        if !matches!(b0, 0x81 | 0x82) || b1 > 126 || self.partial.is_some() {
            return None;
        }
        let (len, header_len) = match b1 {
            126 => (
                usize::from(u16::from_be_bytes([*avail.get(2)?, *avail.get(3)?])),
                4,
            ),
            n => (usize::from(n), 2),
        };
        let total = header_len + len;
        if avail.len() < total || len > self.max_message || len > self.max_frame {
            return None;
        }
        let payload = self.start + header_len..self.start + total;
        self.start += total;
        Some((b0 & 0x0f, payload))
    }

    /// Parses the next frame in the buffer, if it is all there.
    fn step(&mut self) -> Result<Step, ReadError> {
        let avail = &self.buf[self.start..self.end];
        let Some(h) = parse_header(avail) else {
            self.make_room(MAX_HEADER);
            return Ok(Step::NeedMore);
        };
        check(&h, self.inflater.is_some())?;
        if h.len > self.max_frame as u64 {
            return Err(ReadError::TooLarge {
                size: h.len,
                max: self.max_frame,
            });
        }
        let len = h.len as usize;
        let total = h.header_len + len;
        if avail.len() < total {
            self.make_room(total);
            return Ok(Step::NeedMore);
        }
        let payload = self.start + h.header_len..self.start + total;
        self.start += total;
        let data = h.opcode <= 2;
        if !data {
            return Ok(Step::Frame(h.opcode, payload));
        }
        match (h.opcode, self.partial.is_some()) {
            (0, false) => {
                return Err(ReadError::Protocol(
                    "the server sent a continuation frame with no message to continue".into(),
                ))
            }
            (1 | 2, true) => {
                return Err(ReadError::Protocol(
                    "the server started a new message before finishing a fragmented one".into(),
                ))
            }
            (1 | 2, false) if h.fin && h.rsv == 0 => {
                if len > self.max_message {
                    return Err(ReadError::TooLarge {
                        size: h.len,
                        max: self.max_message,
                    });
                }
                return Ok(Step::Frame(h.opcode, payload));
            }
            (1 | 2, false) if h.fin => return self.inflate_whole(payload, h.opcode == 1),
            _ => {}
        }
        self.fragment(&h, payload)
    }

    /// A fragment: the first (opcode 1/2, not final) or a continuation, added to the message
    /// being put together. Out of line, like [`Reader::inflate_whole`]: most messages come
    /// in one frame, and the per-frame path of `step` stays small.
    #[inline(never)]
    fn fragment(&mut self, h: &Header, payload: Range<usize>) -> Result<Step, ReadError> {
        let len = payload.len();
        let p = self.partial.get_or_insert_with(|| Partial {
            text: h.opcode == 1,
            data: Vec::new(),
            checked: 0,
            compressed: h.rsv & RSV1 != 0,
        });
        let max = self.max_message;
        match self.inflater.as_mut().filter(|_| p.compressed) {
            Some(inf) => inflate_fragment(inf, &self.buf[payload], &mut p.data, max, h.fin)?,
            None => {
                if p.data.len() + len > max {
                    return Err(ReadError::TooLarge {
                        size: (p.data.len() + len) as u64,
                        max,
                    });
                }
                p.data.extend_from_slice(&self.buf[payload]);
            }
        }
        if p.text {
            // Fail fast: invalid UTF-8 is reported at the fragment that has it, not at the end.
            match std::str::from_utf8(&p.data[p.checked..]) {
                Ok(_) => p.checked = p.data.len(),
                Err(e) if e.error_len().is_none() && !h.fin => p.checked += e.valid_up_to(),
                Err(_) => return Err(ReadError::Utf8("a fragmented text message".into())),
            }
        }
        if !h.fin {
            return Ok(Step::Again);
        }
        let p = self.partial.take().map(|p| (p.text, p.data));
        let (text, data) = p.unwrap_or_default();
        self.assembled = data;
        Ok(Step::Assembled(text))
    }

    /// A compressed message in one frame, inflated into `assembled`. Out of line: the plain
    /// path of `step` stays as small as it was without the extension.
    #[cold]
    #[inline(never)]
    fn inflate_whole(&mut self, payload: Range<usize>, text: bool) -> Result<Step, ReadError> {
        self.assembled.clear();
        let max = self.max_message;
        let out = &mut self.assembled;
        if let Some(inf) = self.inflater.as_mut() {
            inf.push(&self.buf[payload], out, max)
                .and_then(|()| inf.finish(out, max))
                .map_err(|e| inflate_error(e, max))?;
        }
        Ok(Step::Assembled(text))
    }

    /// Makes sure `need` bytes from `start` fit in the buffer, moving what is unparsed to the
    /// front or growing the buffer (frames over the resting size).
    fn make_room(&mut self, need: usize) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > self.chunk && need <= self.chunk {
                // A large frame was handled: give its memory back.
                self.buf.truncate(self.chunk);
                self.buf.shrink_to_fit();
            }
        }
        let room_after = self.buf.len() - self.start;
        // Move the unparsed bytes to the front when the rest of the buffer is too small for
        // what is needed, or for a useful read (a quarter of the resting size).
        if self.start > 0 && (room_after < need || self.buf.len() - self.end < self.chunk / 4) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
    }

    /// Reads what the stream has into the free end of the buffer. `Ok(false)`: it would block.
    fn fill(&mut self, src: &mut impl Read) -> Result<bool, ReadError> {
        if self.end == self.buf.len() {
            // make_room always leaves space for the frame being waited for.
            self.make_room(self.buf.len() - self.start + MAX_HEADER);
        }
        loop {
            return match src.read(&mut self.buf[self.end..]) {
                Ok(0) => Err(ReadError::Eof),
                Ok(n) => {
                    self.end += n;
                    if self.end == self.buf.len() && self.buf.len() < self.chunk {
                        // More is coming than the starting buffer holds.
                        self.buf.resize(self.chunk, 0);
                    }
                    Ok(true)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(ReadError::Io(e)),
            };
        }
    }
}

/// One fragment of a compressed message inflated onto `data` (and the message's end, `fin`).
#[cold]
#[inline(never)]
fn inflate_fragment(
    inf: &mut Inflater,
    payload: &[u8],
    data: &mut Vec<u8>,
    max: usize,
    fin: bool,
) -> Result<(), ReadError> {
    inf.push(payload, data, max)
        .and_then(|()| if fin { inf.finish(data, max) } else { Ok(()) })
        .map_err(|e| inflate_error(e, max))
}

/// A message that could not be inflated: over the limit (1009) or not deflate data (1002).
fn inflate_error(e: InflateError, max: usize) -> ReadError {
    match e {
        InflateError::TooLarge { size } => ReadError::TooLarge { size, max },
        InflateError::Corrupt(why) => ReadError::Protocol(format!(
            "the server sent a compressed message that does not inflate ({why})"
        )),
    }
}

fn utf8<'a>(b: &'a [u8], what: &str) -> Result<&'a str, ReadError> {
    std::str::from_utf8(b).map_err(|_| ReadError::Utf8(what.to_string()))
}

/// The code and reason of a close frame's payload, checked as RFC 6455 §5.5.1 and §7.4 ask.
pub(crate) fn close_payload(p: &[u8]) -> Result<Option<(u16, &str)>, ReadError> {
    match p.len() {
        0 => Ok(None),
        1 => Err(ReadError::Protocol(
            "the server sent a close frame with a one-byte payload".into(),
        )),
        _ => {
            let code = u16::from_be_bytes([p[0], p[1]]);
            if !close_code_allowed(code) {
                return Err(ReadError::Protocol(format!(
                    "the server sent the close code {code}, which may not be sent"
                )));
            }
            Ok(Some((code, utf8(&p[2..], "the close reason")?)))
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod deflate_tests;
