//! A plain tungstenite client for the testkit's own tests.
#![allow(dead_code)]

pub mod tradovate;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::protocol::CloseFrame;
use tungstenite::{Error, Message, WebSocket};

/// Generous bound for things that should happen "soon".
pub const SOON: Duration = Duration::from_secs(3);

/// `host:port` of a `ws://` / `wss://` URL.
pub fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    &rest[..end]
}

/// Connects a client over plain TCP (with a read timeout of `SOON`).
pub fn connect(url: &str) -> Result<WebSocket<TcpStream>, String> {
    let tcp = TcpStream::connect(authority(url)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(SOON))
        .map_err(|e| e.to_string())?;
    handshake(url, tcp)
}

/// Runs the client handshake over any stream.
pub fn handshake<S: Read + Write>(url: &str, stream: S) -> Result<WebSocket<S>, String> {
    tungstenite::client(url, stream)
        .map(|(ws, _)| ws)
        .map_err(|e| match e {
            tungstenite::HandshakeError::Failure(Error::Http(response)) => {
                format!("http {}", response.status().as_u16())
            }
            other => other.to_string(),
        })
}

pub fn set_timeout(ws: &WebSocket<TcpStream>, timeout: Duration) {
    ws.get_ref().set_read_timeout(Some(timeout)).unwrap();
}

/// Next text message, skipping pings/pongs; None on timeout, close or error.
pub fn read_text<S: Read + Write>(ws: &mut WebSocket<S>) -> Option<String> {
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => return Some(text.as_str().to_string()),
            Ok(Message::Ping(_)) | Ok(Message::Pong(_)) => continue,
            Ok(_) => return None,
            Err(_) => return None,
        }
    }
}

/// Next JSON text message.
pub fn read_json<S: Read + Write>(ws: &mut WebSocket<S>) -> Option<serde_json::Value> {
    read_text(ws).and_then(|t| serde_json::from_str(&t).ok())
}

/// Reads until a close frame arrives (skipping data); None if the stream ends otherwise.
pub fn read_close<S: Read + Write>(ws: &mut WebSocket<S>) -> Option<(u16, String)> {
    loop {
        match ws.read() {
            Ok(Message::Close(Some(CloseFrame { code, reason }))) => {
                // Answer the close so the server can finish at once.
                let _ = ws.flush();
                return Some((u16::from(code), reason.as_str().to_string()));
            }
            Ok(Message::Close(None)) => return None,
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

/// True if nothing but pings/pongs arrives within the socket's read timeout.
pub fn is_quiet<S: Read + Write>(ws: &mut WebSocket<S>) -> bool {
    loop {
        match ws.read() {
            Ok(Message::Ping(_)) | Ok(Message::Pong(_)) => continue,
            Ok(_) => return false,
            Err(Error::Io(e)) => {
                return matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
            }
            Err(_) => return false,
        }
    }
}

/// Reads until an error other than a timeout; returns it (None on timeout).
pub fn read_error<S: Read + Write>(ws: &mut WebSocket<S>) -> Option<Error> {
    let deadline = Instant::now() + SOON;
    while Instant::now() < deadline {
        match ws.read() {
            Ok(_) => continue,
            Err(Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                return None
            }
            Err(e) => return Some(e),
        }
    }
    None
}

/// Polls `cond` until true or `SOON` passes.
pub fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + SOON;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cond()
}
