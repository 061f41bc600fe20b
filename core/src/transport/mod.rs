//! The byte stream under a WebSocket: a non-blocking TCP socket registered with the
//! connection's poller, optionally wrapped in TLS, with a byte counter on top.

pub(crate) mod connect;
mod dial;
mod poll;
mod tunnel;

pub(crate) use poll::{interrupted, take_interrupted, Poller};

use std::cell::Cell;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::status::Counters;

/// Waits on the connection's socket and on the waker (`Poller::notify`) at once.
pub(crate) struct Reactor {
    pub poller: Arc<Poller>,
}

impl Reactor {
    pub fn new(poller: Arc<Poller>) -> Reactor {
        Reactor { poller }
    }

    /// Waits until the registered socket is ready for its interest, the waker fires, or the
    /// deadline passes. Returns whether the socket reported readiness.
    pub fn wait(&mut self, deadline: Option<Instant>) -> io::Result<bool> {
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        self.poller.wait(timeout)
    }
}

/// A non-blocking TCP socket registered with a poller; deregistered when dropped.
pub(crate) struct Socket {
    tcp: TcpStream,
    poller: Arc<Poller>,
    interest: Cell<(bool, bool)>,
}

impl Socket {
    /// Registers `tcp` (already non-blocking) with no interest.
    pub fn register(tcp: TcpStream, poller: Arc<Poller>) -> io::Result<Socket> {
        // Deleted from the poller in `Drop`, before `tcp` is closed.
        poller.add(&tcp, (false, false))?;
        Ok(Socket {
            tcp,
            poller,
            interest: Cell::new((false, false)),
        })
    }

    /// Sets what the poller waits for on this socket (a no-op when unchanged).
    pub fn want(&self, readable: bool, writable: bool) -> io::Result<()> {
        if self.interest.get() == (readable, writable) {
            return Ok(());
        }
        self.poller.modify(&self.tcp, (readable, writable))?;
        self.interest.set((readable, writable));
        Ok(())
    }

    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = self.poller.delete(&self.tcp);
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("peer", &self.tcp.peer_addr().ok())
            .finish()
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.tcp).read(buf)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&self.tcp).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        (&self.tcp).flush()
    }
}

/// Plain or TLS.
pub(crate) enum Transport {
    Plain(Socket),
    Tls(Box<native_tls::TlsStream<Socket>>),
}

/// The stream tungstenite reads and writes: counts the bytes it reads.
pub(crate) struct Metered {
    inner: Transport,
    counters: Arc<Counters>,
    /// Total bytes read on this connection.
    pub read_total: u64,
    /// When the last read from the socket returned data: the time the frames it completed
    /// were received (one clock reading per socket read, not one per frame).
    pub read_at: SystemTime,
    /// While the handshake runs: how much of the `\r\n\r\n` that ends the HTTP response
    /// has been read. Reads stop at that point; `None` once the response is complete.
    header_end: Option<usize>,
    /// Bytes read past the end of the handshake response: the first frames, for the
    /// frame reader (tungstenite would otherwise keep them in its own buffer).
    pending: Vec<u8>,
    /// The first bytes of the handshake response (`HTTP/1.1 101`): only a 101 is cut at the
    /// end of its header; any other answer goes to tungstenite whole, body included, for the
    /// error message.
    status_line: Vec<u8>,
    /// The last read of a plain socket returned less than asked: the socket is drained, so
    /// the next read can report "would block" without a system call (the poller, level-
    /// triggered, is asked next and reports any byte that arrived since).
    drained: bool,
    /// What the handshake negotiated: permessage-deflate's parameters (set by `connect`,
    /// taken by the session for its frame reader and writer).
    pub deflate: Option<crate::deflate::Params>,
    /// The compressor of this connection's messages (`deflate` negotiated; set up by the
    /// session), used by every write.
    pub deflater: Option<crate::deflate::Deflater>,
    /// `record`: where this connection's frames are recorded (set by the engine once the
    /// connection is announced; `None` without `record`).
    pub tap: Option<crate::record::Tap>,
}

impl Metered {
    pub fn new(inner: Transport, counters: Arc<Counters>) -> Metered {
        Metered {
            inner,
            counters,
            read_total: 0,
            read_at: SystemTime::now(),
            header_end: Some(0),
            pending: Vec::new(),
            deflate: None,
            deflater: None,
            tap: None,
            status_line: Vec::new(),
            drained: false,
        }
    }

    pub fn socket(&self) -> &Socket {
        match &self.inner {
            Transport::Plain(s) => s,
            Transport::Tls(t) => t.get_ref(),
        }
    }

    /// The bytes read past the handshake response (call once, after the handshake): from
    /// here on reads go straight to the socket.
    pub fn take_pending(&mut self) -> Vec<u8> {
        self.header_end = None;
        std::mem::take(&mut self.pending)
    }

    /// Forgets that the socket was drained: the next read asks the socket (bytes may have
    /// arrived while nobody watched it).
    pub fn recheck(&mut self) {
        self.drained = false;
    }

    /// Whether unread bytes wait on the socket (used as a sign of life while not reading).
    pub fn has_unread_bytes(&self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.socket().tcp().peek(&mut b), Ok(n) if n > 0)
    }
}

impl Read for Metered {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if std::mem::take(&mut self.drained) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if self.header_end == Some(HEADER_END.len()) {
            // The handshake response is complete: nothing more until take_pending().
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = match &mut self.inner {
            Transport::Plain(s) => {
                let n = s.read(buf)?;
                // Only for plain TCP: a TLS read can return less while the TLS layer
                // still holds bytes the poller cannot see.
                self.drained = n > 0 && n < buf.len();
                n
            }
            Transport::Tls(t) => t.read(buf)?,
        };
        if n > 0 {
            self.read_at = SystemTime::now();
        }
        self.read_total += n as u64;
        self.counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
        if let Some(matched) = self.header_end {
            if self.status_line.len() < 12 {
                let more = (12 - self.status_line.len()).min(n);
                self.status_line.extend_from_slice(&buf[..more]);
            }
            let (keep, done) = header_cut(&buf[..n], matched);
            if done.is_some() && self.status_line.get(9..12) != Some(b"101") {
                self.header_end = None;
                return Ok(n);
            }
            if let Some(done) = done {
                self.pending.extend_from_slice(&buf[keep..n]);
                self.header_end = Some(done);
                self.drained = false;
                return Ok(keep);
            }
            self.header_end = Some(keep);
        }
        Ok(n)
    }
}

/// What ends an HTTP response header.
const HEADER_END: &[u8] = b"\r\n\r\n";

/// Looks for the end of the HTTP header in `read`, `matched` bytes of `\r\n\r\n` having
/// been seen just before it. Returns `(cut, Some(4))` when it ends at `read[..cut]`, or
/// `(matched, None)` with the new partial match.
fn header_cut(read: &[u8], mut matched: usize) -> (usize, Option<usize>) {
    for (i, &b) in read.iter().enumerate() {
        matched = if b == HEADER_END[matched] {
            matched + 1
        } else if b == b'\r' {
            1
        } else {
            0
        };
        if matched == HEADER_END.len() {
            return (i + 1, Some(matched));
        }
    }
    (matched, None)
}

impl Write for Metered {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Transport::Plain(s) => s.write(buf),
            Transport::Tls(t) => t.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Transport::Plain(s) => s.flush(),
            Transport::Tls(t) => t.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::header_cut;

    #[test]
    fn finds_the_end_of_the_header_across_reads() {
        assert_eq!(
            header_cut(b"HTTP/1.1 101\r\nA: b\r\n\r\n\x81\x02hi", 0),
            (22, Some(4))
        );
        assert_eq!(header_cut(b"HTTP/1.1 101\r\n", 0), (2, None));
        assert_eq!(header_cut(b"\r\n\x81", 2), (2, Some(4)));
        assert_eq!(header_cut(b"\r\r\n\r\n", 0), (5, Some(4)));
        assert_eq!(header_cut(b"\n", 3), (1, Some(4)));
        assert_eq!(header_cut(b"x", 3), (0, None));
    }
}
