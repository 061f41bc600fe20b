//! [`SilentListener`]: accepts TCP connections and never reads or writes.

use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::sync::lock;

/// A listener that accepts TCP connections and then does nothing: no TLS
/// handshake, no HTTP answer, no data. Connections stay open until the
/// listener is dropped. Models a stalled server or a TLS blackhole, so
/// clients can test their connect/handshake timeouts.
///
/// ```
/// use std::net::TcpStream;
/// use std::time::Duration;
/// use tradewire_testkit::SilentListener;
///
/// let silent = SilentListener::start().unwrap();
/// let _client = TcpStream::connect(silent.addr()).unwrap();
/// let deadline = std::time::Instant::now() + Duration::from_secs(2);
/// while silent.accepted() == 0 && std::time::Instant::now() < deadline {
///     std::thread::sleep(Duration::from_millis(5));
/// }
/// assert_eq!(silent.accepted(), 1);
/// ```
pub struct SilentListener {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    stop: AtomicBool,
    accepted: AtomicUsize,
    held: Mutex<Vec<TcpStream>>,
}

impl SilentListener {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub fn start() -> io::Result<SilentListener> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
            held: Mutex::new(Vec::new()),
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("tw-silent-{}", addr.port()))
            .spawn(move || hold(listener, &thread_shared))?;
        Ok(SilentListener {
            addr,
            shared,
            thread: Some(thread),
        })
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

fn hold(listener: TcpListener, shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => {
                log::debug!("silent listener: holding {peer}");
                lock(&shared.held).push(stream);
                shared.accepted.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => {
                log::debug!("silent listener: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

impl Drop for SilentListener {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        lock(&self.shared.held).clear();
    }
}
