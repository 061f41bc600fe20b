//! The frame reader fed as a byte stream in reads of arbitrary sizes, alone and against
//! tungstenite's reader on the same bytes.

use std::io::{self, Read, Write};

use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
use tungstenite::{Error as WsError, Message};

use super::Choices;
use crate::deflate::Params;
use crate::frames::{Incoming, ReadError, Reader};

/// What the reader is allowed: the sizes of `Reader::new` and whether permessage-deflate
/// was negotiated (`Some(server_no_context_takeover)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The read buffer's resting size (`read_buffer_size`).
    pub chunk: usize,
    /// `max_frame_size`.
    pub max_frame: usize,
    /// `max_message_size`.
    pub max_message: usize,
    /// permessage-deflate: `Some(server_no_context_takeover)`.
    pub deflate: Option<bool>,
}

impl Limits {
    /// Small limits chosen by the input's first bytes (so that a fuzzer reaches them).
    fn choose(c: &mut Choices<'_>, deflate: bool) -> Limits {
        let flags = c.byte();
        Limits {
            chunk: 256 << (c.byte() % 7),
            max_frame: usize::from(c.u16() >> 2),
            max_message: usize::from(c.u16() >> 2),
            deflate: (deflate && flags & 1 != 0).then_some(flags & 2 != 0),
        }
    }
}

/// One message as the reader handed it out, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping's payload.
    Ping(Vec<u8>),
    /// A pong's payload.
    Pong(Vec<u8>),
    /// A close frame's code and reason.
    Close(Option<(u16, String)>),
}

/// How reading ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// A close frame was read (reading stops there).
    Closed,
    /// The stream ended (no close frame).
    Eof,
    /// Refused: a protocol violation (1002).
    Protocol,
    /// Refused: text that is not UTF-8 (1007).
    Utf8,
    /// Refused: over a limit (1009).
    TooLarge,
}

impl End {
    /// Closed, ended, or refused (whatever the reason).
    fn class(self) -> End {
        match self {
            End::Utf8 | End::TooLarge => End::Protocol,
            e => e,
        }
    }
}

/// A stream that hands out `data` in reads of the sizes in `pieces` (in turn; 0 is a read
/// that would block), then ends. It takes and drops whatever is written to it (tungstenite
/// answers pings).
struct Pieces<'a> {
    data: &'a [u8],
    pieces: Vec<usize>,
    next: usize,
}

impl<'a> Pieces<'a> {
    fn new(data: &'a [u8], pieces: &[usize]) -> Pieces<'a> {
        let mut pieces = pieces.to_vec();
        if !pieces.iter().any(|&p| p > 0) {
            pieces.push(usize::MAX);
        }
        Pieces {
            data,
            pieces,
            next: 0,
        }
    }
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let piece = self.pieces[self.next % self.pieces.len()];
        self.next += 1;
        if piece == 0 && !self.data.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = piece.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

impl Write for Pieces<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn owned(i: Incoming<'_>) -> Msg {
    match i {
        Incoming::Text(t) => Msg::Text(t.to_string()),
        Incoming::Binary(b) => Msg::Binary(b.to_vec()),
        Incoming::Ping(p) => Msg::Ping(p.to_vec()),
        Incoming::Pong(p) => Msg::Pong(p.to_vec()),
        Incoming::Close(c) => Msg::Close(c.map(|(code, r)| (code, r.to_string()))),
    }
}

/// The memory the reader may hold with `l`: its read buffer (at least the resting size, at
/// most a frame and its header) and two messages, each twice over (a growing `Vec` doubles),
/// plus a little. Nothing may depend on the lengths a header claims.
fn memory_bound(l: &Limits) -> usize {
    2 * l.chunk.max(l.max_frame + 14) + 4 * (l.max_message + 1) + 64
}

/// Reads `stream` through the frame reader in reads of the sizes in `pieces`, up to the
/// first close frame, the end of the stream or the first refusal. Panics if the reader ever
/// holds more memory than its limits allow.
pub fn read_messages(stream: &[u8], pieces: &[usize], l: Limits) -> (Vec<Msg>, End) {
    let params = l.deflate.map(|reset| Params {
        server_no_context_takeover: reset,
        ..Params::default()
    });
    let mut r = Reader::new(l.chunk, l.max_frame, l.max_message, Vec::new()).with_deflate(params);
    let mut src = Pieces::new(stream, pieces);
    let mut out = Vec::new();
    loop {
        let next = r.next(&mut src).map(|m| m.map(owned));
        let held = r.footprint();
        assert!(
            held <= memory_bound(&l),
            "the reader holds {held} bytes with {l:?}"
        );
        match next {
            Ok(Some(m)) => {
                let closed = matches!(m, Msg::Close(_));
                out.push(m);
                if closed {
                    return (out, End::Closed);
                }
            }
            Ok(None) => {}
            Err(e) => {
                let end = match e {
                    ReadError::Protocol(_) => End::Protocol,
                    ReadError::Utf8(_) => End::Utf8,
                    ReadError::TooLarge { .. } => End::TooLarge,
                    ReadError::Eof => End::Eof,
                    ReadError::Io(e) => panic!("the in-memory stream failed: {e}"),
                };
                return (out, end);
            }
        }
    }
}

/// The read sizes: a count, then that many sizes (0: a read that would block).
fn choose_pieces(c: &mut Choices<'_>) -> Vec<usize> {
    let n = c.byte() % 8;
    (0..n).map(|_| usize::from(c.byte())).collect()
}

/// The frame reader on any bytes, in reads of any sizes: never a panic; messages within the
/// limits; the same messages and the same end however the stream is split into reads; its
/// memory bounded by the limits (checked after every call).
pub fn frame_stream(data: &[u8]) {
    let mut c = Choices::new(data);
    let l = Limits::choose(&mut c, true);
    let pieces = choose_pieces(&mut c);
    let stream = c.rest();
    let (msgs, end) = read_messages(stream, &pieces, l);
    for m in &msgs {
        match m {
            Msg::Text(t) => assert!(t.len() <= l.max_message),
            Msg::Binary(b) => assert!(b.len() <= l.max_message),
            Msg::Ping(p) | Msg::Pong(p) => assert!(p.len() <= 125),
            Msg::Close(c) => assert!(c.as_ref().map_or(0, |(_, r)| r.len() + 2) <= 125),
        }
    }
    let whole = read_messages(stream, &[usize::MAX], l);
    assert_eq!(
        (&msgs, end),
        (&whole.0, whole.1),
        "split into reads of {pieces:?}, the stream reads differently than in one read"
    );
}

/// tungstenite's reader (as a client) on the same stream, with the same limits.
fn tungstenite_messages(stream: &[u8], pieces: &[usize], l: Limits) -> (Vec<Msg>, End) {
    let config = WebSocketConfig::default()
        .read_buffer_size(l.chunk)
        .max_frame_size(Some(l.max_frame))
        .max_message_size(Some(l.max_message));
    let mut ws =
        WebSocket::from_raw_socket(Pieces::new(stream, pieces), Role::Client, Some(config));
    let mut out = Vec::new();
    loop {
        let m = match ws.read() {
            Ok(Message::Text(t)) => Msg::Text(t.as_str().to_string()),
            Ok(Message::Binary(b)) => Msg::Binary(b.to_vec()),
            Ok(Message::Ping(p)) => Msg::Ping(p.to_vec()),
            Ok(Message::Pong(p)) => Msg::Pong(p.to_vec()),
            Ok(Message::Close(c)) => {
                out.push(Msg::Close(
                    c.map(|c| (u16::from(c.code), c.reason.as_str().to_string())),
                ));
                return (out, End::Closed);
            }
            Ok(Message::Frame(_)) => continue,
            Err(WsError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => {
                let end = match e {
                    WsError::Protocol(
                        tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                    ) => End::Eof,
                    WsError::Io(_) | WsError::ConnectionClosed | WsError::AlreadyClosed => End::Eof,
                    WsError::Capacity(_) => End::TooLarge,
                    WsError::Utf8(_) => End::Utf8,
                    _ => End::Protocol,
                };
                return (out, end);
            }
        };
        out.push(m);
    }
}

/// The frame reader against tungstenite's on the same bytes (no extension, the same
/// limits): the same messages in the same order, ended the same way (closed, ended, or
/// refused for whatever reason), except for the deliberate differences of
/// docs/RELIABILITY.md ("Differential fuzzing"), each checked for exactly what it allows.
pub fn frames_vs_tungstenite(data: &[u8]) {
    let mut c = Choices::new(data);
    let l = Limits::choose(&mut c, false);
    let pieces = choose_pieces(&mut c);
    let stream = c.rest();
    let (ours, our_end) = read_messages(stream, &pieces, l);
    let (theirs, their_end) = tungstenite_messages(stream, &pieces, l);
    if ours == theirs && our_end.class() == their_end.class() {
        return;
    }
    // RFC 6455 §7.4.1-§7.4.2: a close code that may not be sent. tradewire fails the
    // connection (1002); tungstenite hands out a close frame with 1002 in its place.
    let bad_close_code = our_end == End::Protocol
        && their_end == End::Closed
        && theirs.len() == ours.len() + 1
        && theirs[..ours.len()] == ours[..]
        && theirs[ours.len()] == Msg::Close(Some((1002, "Protocol violation".into())));
    // RFC 6455 §7.4.2 and §11.7: 1014 (Bad Gateway) is in the IANA registry of close
    // codes; tungstenite does not know it and hands out 1002 in its place.
    let bad_gateway = our_end == End::Closed
        && their_end == End::Closed
        && ours.len() == theirs.len()
        && ours[..ours.len() - 1] == theirs[..theirs.len() - 1]
        && matches!(ours.last(), Some(Msg::Close(Some((1014, _)))))
        && theirs.last() == Some(&Msg::Close(Some((1002, "Protocol violation".into()))));
    // RFC 6455 §5.2, §5.5: tradewire checks a frame's header rules as soon as the header
    // has arrived, tungstenite once the whole payload has: when the stream ends inside such a
    // frame, tradewire has refused it and tungstenite reports the end of the stream.
    let refused_at_header =
        our_end.class() == End::Protocol && their_end == End::Eof && ours == theirs;
    assert!(
        bad_close_code || bad_gateway || refused_at_header,
        "tradewire and tungstenite differ with {l:?}, reads {pieces:?}:\n tradewire: {ours:?} then {our_end:?}\n tungstenite: {theirs:?} then {their_end:?}"
    );
}
