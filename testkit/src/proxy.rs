//! [`FaultProxy`]: a TCP proxy that injects network faults in front of any server.

mod pump;

use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use self::pump::{pump, Link};
use crate::sockopt::set_linger_zero;
use crate::sync::lock;

/// How long the proxy waits to connect to the upstream server.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the non-blocking listener is polled when idle.
const ACCEPT_POLL: Duration = Duration::from_millis(2);

/// What the proxy does with the bytes of every connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forward both directions at once.
    Pass,
    /// Hold bytes (both directions) and deliver them when the mode returns to
    /// `Pass` (or `Trickle`).
    Pause,
    /// Discard bytes in both directions while keeping the sockets open, like
    /// a network path that silently died. EOFs are not forwarded either.
    Blackhole,
    /// Forward at most `bytes` per `every` in each direction (granularity
    /// about 5 ms).
    Trickle {
        /// Bytes forwarded per period.
        bytes: usize,
        /// Length of a period.
        every: Duration,
    },
}

/// A TCP proxy on 127.0.0.1 in front of `upstream`; every accepted client
/// gets its own upstream connection. The mode applies to existing and new
/// connections. Dropping the proxy closes everything and joins its threads.
///
/// ```
/// use std::time::Duration;
/// use tradewire_testkit::{FaultProxy, ProxyMode, ServerOptions, WsServer};
///
/// let server = WsServer::start(ServerOptions::default()).unwrap();
/// let proxy = FaultProxy::start(server.addr()).unwrap();
/// let (mut client, _) = tungstenite::connect(format!("ws://{}", proxy.addr())).unwrap();
/// assert!(server.wait_for_connections(1, Duration::from_secs(2)));
/// proxy.set_mode(ProxyMode::Pause);
/// server.broadcast("held");
/// proxy.set_mode(ProxyMode::Pass);
/// assert_eq!(client.read().unwrap().into_text().unwrap().as_str(), "held");
/// proxy.reset_all();
/// ```
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    upstream: SocketAddr,
    mode: Arc<Mutex<ProxyMode>>,
    shutdown: AtomicBool,
    next_id: AtomicU64,
    pairs: Mutex<HashMap<u64, Pair>>,
}

/// One proxied connection: the client side, the upstream side and two pumps.
struct Pair {
    client: TcpStream,
    upstream: TcpStream,
    dead: Arc<AtomicBool>,
    ended: Arc<AtomicUsize>,
    pumps: Vec<JoinHandle<()>>,
}

impl Pair {
    fn is_live(&self) -> bool {
        !self.dead.load(Ordering::SeqCst) && self.ended.load(Ordering::SeqCst) < 2
    }

    /// Stops both pumps and joins them; the sockets close when `self` drops.
    fn finish(&mut self) {
        self.dead.store(true, Ordering::SeqCst);
        for pump in self.pumps.drain(..) {
            let _ = pump.join();
        }
    }
}

impl FaultProxy {
    /// Listens on an ephemeral port of 127.0.0.1 and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            mode: Arc::new(Mutex::new(ProxyMode::Pass)),
            shutdown: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            pairs: Mutex::new(HashMap::new()),
        });
        let thread_shared = shared.clone();
        let accept = std::thread::Builder::new()
            .name(format!("tw-proxy-{}", addr.port()))
            .spawn(move || accept_loop(listener, &thread_shared))?;
        Ok(FaultProxy {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// `127.0.0.1:port` of the proxy.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The server the proxy forwards to.
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// Changes the mode for existing and new connections (within ~5 ms).
    pub fn set_mode(&self, mode: ProxyMode) {
        log::debug!("proxy {}: mode {mode:?}", self.addr.port());
        *lock(&self.shared.mode) = mode;
    }

    /// The current mode.
    pub fn mode(&self) -> ProxyMode {
        lock(&self.shared.mode).clone()
    }

    /// Resets every connection: both the client and the upstream side get a
    /// TCP RST (SO_LINGER 0, then close). Returns when they are closed.
    pub fn reset_all(&self) {
        let pairs: Vec<Pair> = lock(&self.shared.pairs).drain().map(|(_, p)| p).collect();
        for pair in &pairs {
            set_linger_zero(&pair.client);
            set_linger_zero(&pair.upstream);
            pair.dead.store(true, Ordering::SeqCst);
        }
        for mut pair in pairs {
            pair.finish();
        }
    }

    /// Connections the proxy is still carrying.
    pub fn connection_count(&self) -> usize {
        lock(&self.shared.pairs)
            .values()
            .filter(|p| p.is_live())
            .count()
    }
}

fn accept_loop(listener: TcpListener, shared: &Arc<Shared>) {
    while !shared.shutdown.load(Ordering::SeqCst) {
        reap(shared);
        match listener.accept() {
            Ok((client, peer)) => {
                log::debug!("proxy: accepted {peer}");
                if let Err(e) = connect_pair(shared, client) {
                    log::debug!("proxy: could not reach upstream: {e}");
                }
                continue;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => log::debug!("proxy: accept failed: {e}"),
        }
        std::thread::sleep(ACCEPT_POLL);
    }
}

/// Drops connections whose pumps have both finished.
fn reap(shared: &Shared) {
    let finished: Vec<Pair> = {
        let mut pairs = lock(&shared.pairs);
        let ids: Vec<u64> = pairs
            .iter()
            .filter(|(_, p)| p.ended.load(Ordering::SeqCst) >= 2)
            .map(|(id, _)| *id)
            .collect();
        ids.iter().filter_map(|id| pairs.remove(id)).collect()
    };
    for mut pair in finished {
        pair.finish();
    }
}

fn connect_pair(shared: &Shared, client: TcpStream) -> io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_nodelay(true)?;
    let upstream = TcpStream::connect_timeout(&shared.upstream, UPSTREAM_CONNECT_TIMEOUT)?;
    upstream.set_nodelay(true)?;
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    let dead = Arc::new(AtomicBool::new(false));
    let ended = Arc::new(AtomicUsize::new(0));
    let link = || Link {
        mode: shared.mode.clone(),
        dead: dead.clone(),
        ended: ended.clone(),
    };
    let mut pair = Pair {
        client: client.try_clone()?,
        upstream: upstream.try_clone()?,
        dead: dead.clone(),
        ended: ended.clone(),
        pumps: Vec::new(),
    };
    let up = (client.try_clone()?, upstream.try_clone()?);
    let spawned = std::thread::Builder::new()
        .name(format!("tw-proxy-up-{id}"))
        .spawn({
            let link = link();
            move || pump(up.0, up.1, link, format!("proxy {id} client->upstream"))
        })
        .and_then(|handle| {
            pair.pumps.push(handle);
            std::thread::Builder::new()
                .name(format!("tw-proxy-down-{id}"))
                .spawn({
                    let link = link();
                    move || {
                        pump(
                            upstream,
                            client,
                            link,
                            format!("proxy {id} upstream->client"),
                        )
                    }
                })
        });
    match spawned {
        Ok(handle) => {
            pair.pumps.push(handle);
            lock(&shared.pairs).insert(id, pair);
            Ok(())
        }
        Err(e) => {
            let _ = pair.client.shutdown(Shutdown::Both);
            let _ = pair.upstream.shutdown(Shutdown::Both);
            pair.finish();
            Err(e)
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        let pairs: Vec<Pair> = lock(&self.shared.pairs).drain().map(|(_, p)| p).collect();
        for mut pair in pairs {
            let _ = pair.client.shutdown(Shutdown::Both);
            let _ = pair.upstream.shutdown(Shutdown::Both);
            pair.finish();
        }
    }
}
