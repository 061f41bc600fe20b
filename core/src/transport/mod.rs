//! The byte stream under a WebSocket: a non-blocking TCP socket registered with the
//! connection's poller, optionally wrapped in TLS, with a byte counter on top.

pub(crate) mod connect;

use std::cell::Cell;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use polling::{Event, Events, PollMode, Poller};

use crate::status::Counters;

/// The poller key of the connection's socket.
const SOCKET_KEY: usize = 1;

/// Waits on the connection's socket and on the waker (`Poller::notify`) at once.
pub(crate) struct Reactor {
    pub poller: Arc<Poller>,
    events: Events,
}

impl Reactor {
    pub fn new(poller: Arc<Poller>) -> Reactor {
        Reactor {
            poller,
            events: Events::new(),
        }
    }

    /// Waits until the registered socket is ready for its interest, the waker fires, or the
    /// deadline passes. Returns whether the socket reported readiness.
    pub fn wait(&mut self, deadline: Option<Instant>) -> io::Result<bool> {
        self.events.clear();
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match self.poller.wait(&mut self.events, timeout) {
            Ok(_) => Ok(self.events.iter().any(|e| e.key == SOCKET_KEY)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
            Err(e) => Err(e),
        }
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
        // SAFETY: the socket is deleted from the poller in `Drop`, before `tcp` is closed.
        unsafe { poller.add_with_mode(&tcp, Event::none(SOCKET_KEY), PollMode::Level)? };
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
        let ev = match (readable, writable) {
            (true, true) => Event::all(SOCKET_KEY),
            (true, false) => Event::readable(SOCKET_KEY),
            (false, true) => Event::writable(SOCKET_KEY),
            (false, false) => Event::none(SOCKET_KEY),
        };
        self.poller
            .modify_with_mode(&self.tcp, ev, PollMode::Level)?;
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
}

impl Metered {
    pub fn new(inner: Transport, counters: Arc<Counters>) -> Metered {
        Metered {
            inner,
            counters,
            read_total: 0,
            read_at: SystemTime::now(),
        }
    }

    pub fn socket(&self) -> &Socket {
        match &self.inner {
            Transport::Plain(s) => s,
            Transport::Tls(t) => t.get_ref(),
        }
    }

    /// Whether unread bytes wait on the socket (used as a sign of life while not reading).
    pub fn has_unread_bytes(&self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.socket().tcp().peek(&mut b), Ok(n) if n > 0)
    }
}

impl Read for Metered {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.inner {
            Transport::Plain(s) => s.read(buf)?,
            Transport::Tls(t) => t.read(buf)?,
        };
        if n > 0 {
            self.read_at = SystemTime::now();
        }
        self.read_total += n as u64;
        self.counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
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
