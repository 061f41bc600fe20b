//! State shared by a server's accept thread, connection threads and handle.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;
use tungstenite::{Bytes, Utf8Bytes};

use super::options::{HandshakeInfo, ServerOptions};
use crate::sync::lock;
use crate::wait;

/// Identifies one accepted connection for the lifetime of a server.
pub(crate) type ConnId = u64;

/// Work queued for a connection thread.
#[derive(Clone, Debug)]
pub(crate) enum Cmd {
    /// Send a text frame.
    Text(Utf8Bytes),
    /// Send a binary frame.
    Binary(Bytes),
    /// Write these bytes straight to the stream.
    Raw(Bytes),
    /// Send a close frame, wait briefly for the answer, then drop.
    Close(u16, String),
    /// Nothing to do; re-check flags (the socket may be readable).
    Wake,
}

/// What a [`Behavior`] decides about a freshly upgraded connection.
pub(crate) enum Admission {
    /// Keep it, and send these text messages first.
    Accept(Vec<String>),
    /// Close it at once with this code and reason.
    Close(u16, String),
}

/// Protocol logic layered on the generic server (agent, breakout, ...).
pub(crate) trait Behavior: Send + Sync {
    /// Called after the handshake, before the connection is counted as open.
    fn on_open(&self, core: &Core, id: ConnId, info: &HandshakeInfo) -> Admission;
    /// Called for every text message the client sends.
    fn on_text(&self, core: &Core, id: ConnId, text: &str);
    /// Called once when an admitted connection ends.
    fn on_close(&self, id: ConnId);
}

/// TLS material of a `wss://` server.
pub(crate) struct TlsSetup {
    pub(crate) acceptor: native_tls::TlsAcceptor,
    pub(crate) cert_pem: Vec<u8>,
}

struct Entry {
    tx: Sender<Cmd>,
    kill: Arc<AtomicBool>,
    open: bool,
}

/// Everything a server's threads share.
pub(crate) struct Core {
    pub(crate) opts: ServerOptions,
    pub(crate) tls: Option<TlsSetup>,
    pub(crate) behavior: Option<Arc<dyn Behavior>>,
    /// The port, fixed at the first bind and reused by every rebind.
    pub(crate) port: u16,
    pub(crate) listener: Mutex<Option<TcpListener>>,
    /// Bumped by stop/restart/refuse so stale background rebinds do nothing.
    pub(crate) epoch: AtomicU64,
    shutdown: AtomicBool,
    silent: AtomicBool,
    /// Held (shared) around every read so that `set_silent` returns only
    /// once no connection is still reading under the old setting.
    read_gate: RwLock<()>,
    pub(crate) accept_close: Mutex<Option<(u16, String)>>,
    conns: Mutex<HashMap<ConnId, Entry>>,
    next_id: AtomicU64,
    accepted_total: AtomicUsize,
    received: Mutex<Vec<String>>,
    /// The close frames clients sent: code (None: no code) and reason.
    closes: Mutex<Vec<(Option<u16>, String)>>,
    handshakes: Mutex<Vec<HandshakeInfo>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Core {
    pub(crate) fn new(
        opts: ServerOptions,
        tls: Option<TlsSetup>,
        behavior: Option<Arc<dyn Behavior>>,
        listener: TcpListener,
        port: u16,
    ) -> Core {
        Core {
            opts,
            tls,
            behavior,
            port,
            listener: Mutex::new(Some(listener)),
            epoch: AtomicU64::new(0),
            shutdown: AtomicBool::new(false),
            silent: AtomicBool::new(false),
            read_gate: RwLock::new(()),
            accept_close: Mutex::new(None),
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            accepted_total: AtomicUsize::new(0),
            received: Mutex::new(Vec::new()),
            closes: Mutex::new(Vec::new()),
            handshakes: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    pub(crate) fn set_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_silent(&self) -> bool {
        self.silent.load(Ordering::SeqCst)
    }

    pub(crate) fn set_silent(&self, silent: bool) {
        {
            let _exclusive = self.read_gate.write().unwrap_or_else(|p| p.into_inner());
            self.silent.store(silent, Ordering::SeqCst);
        }
        // Wake every connection thread so it notices at once.
        for entry in lock(&self.conns).values() {
            let _ = entry.tx.send(Cmd::Wake);
        }
    }

    /// Permission to read from a client; None while the server is silent.
    pub(crate) fn read_permit(&self) -> Option<RwLockReadGuard<'_, ()>> {
        let permit = self.read_gate.read().unwrap_or_else(|p| p.into_inner());
        (!self.is_silent()).then_some(permit)
    }

    /// Registers a just-accepted TCP connection (not yet open).
    pub(crate) fn register(&self, tx: Sender<Cmd>, kill: Arc<AtomicBool>) -> ConnId {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        lock(&self.conns).insert(
            id,
            Entry {
                tx,
                kill,
                open: false,
            },
        );
        id
    }

    /// Marks a connection open (counted, receives broadcasts); false if it
    /// was killed or removed meanwhile.
    pub(crate) fn mark_open(&self, id: ConnId) -> bool {
        let mut conns = lock(&self.conns);
        match conns.get_mut(&id) {
            Some(entry) if !entry.kill.load(Ordering::SeqCst) && !self.is_shutdown() => {
                entry.open = true;
                true
            }
            _ => false,
        }
    }

    /// Takes a connection out of the open set (it is being refused).
    pub(crate) fn mark_refused(&self, id: ConnId) {
        if let Some(entry) = lock(&self.conns).get_mut(&id) {
            entry.open = false;
        }
    }

    /// Removes a connection; returns whether it had been open.
    pub(crate) fn unregister(&self, id: ConnId) -> bool {
        lock(&self.conns)
            .remove(&id)
            .map(|entry| entry.open)
            .unwrap_or(false)
    }

    /// Queues a command for one connection (open, or admitted and about to
    /// open: the command then runs after its greeting); false if it is gone.
    pub(crate) fn send_to(&self, id: ConnId, cmd: Cmd) -> bool {
        match lock(&self.conns).get(&id) {
            Some(entry) if !entry.kill.load(Ordering::SeqCst) => entry.tx.send(cmd).is_ok(),
            _ => false,
        }
    }

    /// Queues a command for every open connection.
    pub(crate) fn broadcast(&self, cmd: Cmd) {
        for entry in lock(&self.conns).values().filter(|e| e.open) {
            let _ = entry.tx.send(cmd.clone());
        }
    }

    pub(crate) fn open_count(&self) -> usize {
        lock(&self.conns).values().filter(|e| e.open).count()
    }

    /// Abruptly drops every connection (including ones still handshaking)
    /// and waits briefly until their threads have let go of the sockets.
    pub(crate) fn kill_all(&self) {
        let killed: Vec<ConnId> = {
            let conns = lock(&self.conns);
            for entry in conns.values() {
                entry.kill.store(true, Ordering::SeqCst);
                let _ = entry.tx.send(Cmd::Wake);
            }
            conns.keys().copied().collect()
        };
        let gone = wait::until(Duration::from_secs(2), || {
            let conns = lock(&self.conns);
            killed
                .iter()
                .all(|id| !conns.contains_key(id))
                .then_some(())
        });
        if gone.is_none() {
            log::warn!("some connections did not stop within 2 s");
        }
    }

    pub(crate) fn count_handshake(&self, info: HandshakeInfo) {
        self.accepted_total.fetch_add(1, Ordering::SeqCst);
        lock(&self.handshakes).push(info);
    }

    pub(crate) fn accepted_total(&self) -> usize {
        self.accepted_total.load(Ordering::SeqCst)
    }

    pub(crate) fn handshakes(&self) -> Vec<HandshakeInfo> {
        lock(&self.handshakes).clone()
    }

    pub(crate) fn record_received(&self, text: &str) {
        lock(&self.received).push(text.to_string());
    }

    pub(crate) fn record_close(&self, code: Option<u16>, reason: &str) {
        lock(&self.closes).push((code, reason.to_string()));
    }

    pub(crate) fn closes(&self) -> Vec<(Option<u16>, String)> {
        lock(&self.closes).clone()
    }

    pub(crate) fn received(&self) -> Vec<String> {
        lock(&self.received).clone()
    }

    /// The first received message matching `pred`, if any.
    pub(crate) fn find_received(&self, pred: &dyn Fn(&str) -> bool) -> Option<String> {
        lock(&self.received).iter().find(|m| pred(m)).cloned()
    }

    /// Keeps a thread's handle so that shutdown can join it; reaps finished ones.
    pub(crate) fn keep_thread(&self, handle: JoinHandle<()>) {
        let mut threads = lock(&self.threads);
        threads.retain(|t| !t.is_finished());
        threads.push(handle);
    }

    /// Joins every kept thread, including ones started while joining.
    pub(crate) fn join_threads(&self) {
        loop {
            let batch: Vec<JoinHandle<()>> = lock(&self.threads).drain(..).collect();
            if batch.is_empty() {
                return;
            }
            for handle in batch {
                let _ = handle.join();
            }
        }
    }
}
