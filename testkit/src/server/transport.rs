//! The byte stream under a server-side WebSocket: plain TCP or TLS over TCP.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use native_tls::{HandshakeError, TlsAcceptor, TlsStream};

/// A server-side connection stream, plain or TLS.
pub(crate) enum Transport {
    /// `ws://`
    Plain(TcpStream),
    /// `wss://`
    Tls(Box<TlsStream<TcpStream>>),
}

impl Transport {
    /// Performs the server side of a TLS handshake on `tcp`, whose read timeout
    /// must be short; gives up when `keep_going` turns false or at `deadline`.
    pub(crate) fn accept_tls(
        acceptor: &TlsAcceptor,
        tcp: TcpStream,
        keep_going: &dyn Fn() -> bool,
        deadline: Instant,
    ) -> Result<Transport, String> {
        let mut attempt = acceptor.accept(tcp);
        loop {
            match attempt {
                Ok(stream) => return Ok(Transport::Tls(Box::new(stream))),
                Err(HandshakeError::WouldBlock(mid)) => {
                    if !keep_going() {
                        return Err("server stopping during TLS handshake".into());
                    }
                    if Instant::now() >= deadline {
                        return Err("TLS handshake timed out".into());
                    }
                    attempt = mid.handshake();
                }
                Err(HandshakeError::Failure(e)) => {
                    return Err(format!("TLS handshake failed: {e}"))
                }
            }
        }
    }
}

impl Transport {
    /// The TCP socket underneath.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(tcp) => tcp,
            Transport::Tls(tls) => tls.get_ref(),
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            Transport::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(s) => s.flush(),
            Transport::Tls(s) => s.flush(),
        }
    }
}
