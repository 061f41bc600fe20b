//! What the two ws-tool clients share (`bench-wstool`, `bench-wstool-raw`): the connection
//! (a blocking std TcpStream with TCP_NODELAY, ws-tool's handshake, its blocking
//! `FrameCodec`), the answer to a ping, and the close at the end.

use std::net::TcpStream;

use ws_tool::codec::{FrameCodec, FrameConfig};
use ws_tool::frame::OpCode;
use ws_tool::protocol::standard_handshake_resp_check;
use ws_tool::ClientBuilder;

use crate::{die, STALL};

/// Connects to `url` (`ws://HOST:PORT/`) and returns ws-tool's blocking frame codec on it.
///
/// `read_size`: how many bytes the codec asks the socket for per read (`FrameConfig::
/// resize_size`); `None` keeps ws-tool's default (4 KiB). Every other setting is ws-tool's
/// default for a client: masked sends, fragments merged, UTF-8 of text frames checked
/// (simdutf8).
pub fn connect(url: &str, read_size: Option<usize>) -> FrameCodec<TcpStream> {
    let hostport = url
        .strip_prefix("ws://")
        .unwrap_or_else(|| die("ws:// URL expected"))
        .trim_end_matches('/');
    let tcp = TcpStream::connect(hostport).unwrap_or_else(|e| die(&format!("connect: {e}")));
    let _ = tcp.set_nodelay(true);
    // A server that stops sending fails the run instead of hanging it.
    let _ = tcp.set_read_timeout(Some(STALL));
    let mut config = FrameConfig::default();
    if let Some(n) = read_size {
        config.resize_size = n;
    }
    // ws-tool takes an http 1 `Uri`; tungstenite re-exports the same crate.
    let uri: tungstenite::http::Uri = url.parse().unwrap_or_else(|e| die(&format!("{url}: {e}")));
    ClientBuilder::new()
        .with_stream(uri, tcp, move |key, resp, stream| {
            standard_handshake_resp_check(key.as_bytes(), &resp)?;
            Ok(FrameCodec::new_with(stream, config.clone()))
        })
        .unwrap_or_else(|e| die(&format!("handshake: {e}")))
}

/// The read loop of both ws-tool clients: hands each text frame's payload (in place, in the
/// codec's buffer) to `on_text` until it returns true, answers pings, fails the run on a
/// close before that, then closes. `name` labels the errors.
#[inline(always)]
pub fn read_texts(
    mut codec: FrameCodec<TcpStream>,
    name: &str,
    mut on_text: impl FnMut(&[u8]) -> bool,
) {
    loop {
        let (header, payload) = codec
            .receive()
            .unwrap_or_else(|e| die(&format!("{name}: read: {e}")));
        match header.code {
            OpCode::Text if on_text(payload) => break,
            OpCode::Text => {}
            OpCode::Ping => {
                let ping = payload.to_vec();
                pong(&mut codec, &ping);
            }
            OpCode::Close => die(&format!("{name}: the server closed before the end")),
            _ => {}
        }
    }
    close(codec);
}

/// Answers a ping (its payload copied out of the codec's buffer by the caller).
#[cold]
pub fn pong(codec: &mut FrameCodec<TcpStream>, payload: &[u8]) {
    if let Err(e) = codec
        .send(OpCode::Pong, payload)
        .and_then(|_| codec.flush())
    {
        die(&format!("pong: {e}"));
    }
}

/// Sends a normal close (1000) and reads until the server's close comes back (or the
/// connection ends).
pub fn close(mut codec: FrameCodec<TcpStream>) {
    if codec
        .send(OpCode::Close, &1000u16.to_be_bytes())
        .and_then(|_| codec.flush())
        .is_err()
    {
        return;
    }
    while let Ok((header, _)) = codec.receive() {
        if header.code == OpCode::Close {
            return;
        }
    }
}
