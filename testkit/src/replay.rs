//! [`ReplayServer`]: serves a tradewire recording (`record = path`) back to a client.
//!
//! Each recorded connection becomes one served connection, handed to the next client that
//! connects: the frames the server sent are sent again at their recorded pace (divided by
//! the speed), then the connection ends as it did: the server's close frame (code and
//! reason), a dropped socket, a silent server (half-open: nothing read, nothing answered,
//! until the client gives up), a protocol violation of the same kind (a text frame that is
//! not UTF-8 for 1007, a reserved opcode for 1002; a message too big, 1009, cannot be
//! remade: the socket drops), or, when the client ended it, the server waits for the
//! client. Connections past the recording are refused (the socket is closed at once). What
//! the client sends is kept ([`ReplayServer::received`]) and otherwise ignored.
//!
//! ```no_run
//! use tradewire_testkit::ReplayServer;
//! let server = ReplayServer::from_file("feed.jsonl".as_ref(), Some(10.0)).unwrap();
//! println!("connect a client to {}", server.url());
//! ```

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tradewire::record::format::{How, Payload};
use tradewire::record::reader::{Connection, Recording};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

use crate::sync::lock;

/// How often waiting threads look at the shutdown flag and the client.
const TICK: Duration = Duration::from_millis(20);

struct Shared {
    queue: Mutex<VecDeque<Connection>>,
    shutdown: AtomicBool,
    served: AtomicUsize,
    ended: AtomicUsize,
    received: Mutex<Vec<String>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// `None`: as fast as possible.
    speed: Option<f64>,
}

/// A WebSocket server on 127.0.0.1 that plays a recording; dropping it stops it and joins
/// its threads.
pub struct ReplayServer {
    shared: Arc<Shared>,
    port: u16,
    total: usize,
    accept: Option<JoinHandle<()>>,
}

impl ReplayServer {
    /// Serves `recording` on an ephemeral port. `speed`: `Some(1.0)` the recorded pace,
    /// `Some(10.0)` ten times faster, `None` as fast as possible.
    pub fn start(recording: Recording, speed: Option<f64>) -> io::Result<ReplayServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        ReplayServer::serve(listener, recording, speed)
    }

    /// Serves `recording` on `listener` (the CLI binds the port it was asked for).
    pub fn serve(
        listener: TcpListener,
        recording: Recording,
        speed: Option<f64>,
    ) -> io::Result<ReplayServer> {
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let total = recording.connections.len();
        let shared = Arc::new(Shared {
            queue: Mutex::new(recording.connections.into()),
            shutdown: AtomicBool::new(false),
            served: AtomicUsize::new(0),
            ended: AtomicUsize::new(0),
            received: Mutex::default(),
            threads: Mutex::default(),
            speed: speed.filter(|s| s.is_finite() && *s > 0.0),
        });
        let s = shared.clone();
        let accept = std::thread::Builder::new()
            .name("replay-accept".into())
            .spawn(move || accept_loop(listener, s))?;
        Ok(ReplayServer {
            shared,
            port,
            total,
            accept: Some(accept),
        })
    }

    /// Reads the recording at `path` (with its rotated files) and serves it.
    pub fn from_file(path: &Path, speed: Option<f64>) -> Result<ReplayServer, String> {
        let rec = tradewire::record::reader::read(path)?;
        ReplayServer::start(rec, speed)
            .map_err(|e| format!("could not start the replay server: {e}"))
    }

    /// `ws://127.0.0.1:PORT/` (any path is accepted).
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.port)
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Recorded connections in the recording.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Recorded connections served so far (started).
    pub fn served(&self) -> usize {
        self.shared.served.load(Ordering::SeqCst)
    }

    /// Recorded connections played to their end.
    pub fn ended(&self) -> usize {
        self.shared.ended.load(Ordering::SeqCst)
    }

    /// Waits until every recorded connection was played to its end; false on timeout.
    pub fn wait_finished(&self, timeout: Duration) -> bool {
        crate::wait::until(timeout, || (self.ended() >= self.total).then_some(())).is_some()
    }

    /// Every text frame the clients sent, in arrival order.
    pub fn received(&self) -> Vec<String> {
        lock(&self.shared.received).clone()
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
        let threads = std::mem::take(&mut *lock(&self.shared.threads));
        for t in threads {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.shutdown.load(Ordering::SeqCst) {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Err(e) => {
                log::debug!("replay: accept failed: {e}");
                std::thread::sleep(TICK);
                continue;
            }
        };
        let Some(conn) = lock(&shared.queue).pop_front() else {
            log::debug!("replay: the recording is over; connection refused");
            let _ = stream.shutdown(Shutdown::Both);
            continue;
        };
        shared.served.fetch_add(1, Ordering::SeqCst);
        let s = shared.clone();
        let t = std::thread::Builder::new()
            .name("replay-conn".into())
            .spawn(move || {
                if let Err(e) = play(stream, &conn, &s) {
                    log::debug!("replay: connection {} ended early: {e}", conn.epoch);
                }
                s.ended.fetch_add(1, Ordering::SeqCst);
            });
        match t {
            Ok(t) => lock(&shared.threads).push(t),
            Err(e) => log::warn!("replay: could not start a connection thread: {e}"),
        }
    }
}

/// What happened while waiting on the client.
#[derive(PartialEq)]
enum Client {
    Here,
    Gone,
}

/// Reads what the client sends until `until` (answering pings, keeping texts).
fn listen(ws: &mut WebSocket<TcpStream>, until: Instant, shared: &Shared) -> Client {
    loop {
        if shared.shutdown.load(Ordering::SeqCst) {
            return Client::Gone;
        }
        let now = Instant::now();
        if now >= until {
            return Client::Here;
        }
        let wait = (until - now).clamp(Duration::from_millis(1), TICK);
        let _ = ws.get_ref().set_read_timeout(Some(wait));
        match ws.read() {
            Ok(Message::Text(t)) => lock(&shared.received).push(t.as_str().to_string()),
            Ok(Message::Close(_)) => {
                let _ = ws.flush();
                return Client::Gone;
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                let _ = ws.flush();
            }
            Err(_) => return Client::Gone,
        }
    }
}

/// Plays one recorded connection to one client.
fn play(stream: TcpStream, conn: &Connection, shared: &Shared) -> Result<(), String> {
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut ws = tungstenite::accept(stream).map_err(|e| format!("handshake: {e}"))?;
    let start = Instant::now();
    let due = |at_us: u64| -> Instant {
        match shared.speed {
            None => start,
            Some(speed) => {
                let us = at_us.saturating_sub(conn.opened_us) as f64 / speed;
                start + Duration::from_micros(us as u64)
            }
        }
    };
    for f in conn.received() {
        if listen(&mut ws, due(f.at_us), shared) == Client::Gone {
            return Ok(());
        }
        let msg = match &f.payload {
            Payload::Text(t) => Message::text(t.clone()),
            Payload::Binary(b) => Message::binary(b.clone()),
        };
        ws.send(msg).map_err(|e| format!("send: {e}"))?;
    }
    let Some(end) = &conn.end else {
        // The recording stops here: stay open until the client leaves.
        listen(
            &mut ws,
            Instant::now() + Duration::from_secs(86_400),
            shared,
        );
        return Ok(());
    };
    if end.how != How::Client && listen(&mut ws, due(end.at_us), shared) == Client::Gone {
        return Ok(());
    }
    match end.how {
        How::Close => {
            let _ = ws.close(Some(CloseFrame {
                code: CloseCode::from(end.code),
                reason: end.reason.clone().into(),
            }));
            listen(&mut ws, Instant::now() + Duration::from_secs(2), shared);
        }
        How::Dropped => {
            let _ = ws.get_ref().shutdown(Shutdown::Both);
        }
        How::Silent => silent(ws.get_mut(), shared),
        How::Violation => {
            // The same kind of violation where one can be made; else the socket drops.
            let bad: &[u8] = match end.code {
                1007 => &[0x81, 0x02, 0xff, 0xfe], // a text frame that is not UTF-8
                1002 => &[0x83, 0x00],             // a reserved opcode
                _ => &[],
            };
            let _ = ws.flush();
            if bad.is_empty() || ws.get_mut().write_all(bad).is_err() {
                let _ = ws.get_ref().shutdown(Shutdown::Both);
            } else {
                listen(&mut ws, Instant::now() + Duration::from_secs(2), shared);
            }
        }
        How::Client => {
            listen(
                &mut ws,
                Instant::now() + Duration::from_secs(86_400),
                shared,
            );
        }
    }
    Ok(())
}

/// Half-open: reads and discards whatever arrives (no pong, no answer) until the client
/// closes the socket.
fn silent(stream: &mut TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(TICK));
    let mut buf = [0u8; 4096];
    while !shared.shutdown.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}
