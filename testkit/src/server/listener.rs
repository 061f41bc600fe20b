//! The listening socket: accept loop, closing it (refused connections) and rebinding.

use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::connection;
use super::core::Core;
use crate::sync::lock;

/// How often the non-blocking listener is polled when idle.
const ACCEPT_POLL: Duration = Duration::from_millis(2);
/// How long a rebind retries while the port is still in use.
const REBIND_PATIENCE: Duration = Duration::from_secs(2);

/// Binds a non-blocking listener on 127.0.0.1:`port`, retrying for a while
/// if the port is still in use.
pub(crate) fn bind(port: u16, patience: Duration) -> io::Result<TcpListener> {
    let deadline = Instant::now() + patience;
    loop {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(listener) => {
                listener.set_nonblocking(true)?;
                return Ok(listener);
            }
            Err(e) if e.kind() == ErrorKind::AddrInUse && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Starts the accept thread.
pub(crate) fn spawn_accept_loop(core: Arc<Core>) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("tw-accept-{}", core.port))
        .spawn(move || accept_loop(&core))
}

fn accept_loop(core: &Arc<Core>) {
    while !core.is_shutdown() {
        let accepted = lock(&core.listener).as_ref().map(|l| l.accept());
        match accepted {
            Some(Ok((tcp, peer))) => {
                log::debug!("port {}: accepted TCP from {peer}", core.port);
                connection::spawn(core, tcp);
                continue;
            }
            Some(Err(e)) if e.kind() == ErrorKind::WouldBlock => {}
            Some(Err(e)) => log::debug!("port {}: accept failed: {e}", core.port),
            None => {}
        }
        std::thread::sleep(ACCEPT_POLL);
    }
}

/// Closes the listener: new connections are refused until reopened.
/// Cancels any pending background rebind.
pub(crate) fn close(core: &Core) {
    core.epoch.fetch_add(1, Ordering::SeqCst);
    drop(lock(&core.listener).take());
}

/// Rebinds the same port now (no-op if listening). Cancels pending rebinds.
pub(crate) fn reopen(core: &Core) -> io::Result<()> {
    let epoch = core.epoch.fetch_add(1, Ordering::SeqCst) + 1;
    install(core, epoch)
}

fn install(core: &Core, epoch: u64) -> io::Result<()> {
    if lock(&core.listener).is_some() {
        return Ok(());
    }
    let listener = bind(core.port, REBIND_PATIENCE)?;
    let mut slot = lock(&core.listener);
    if slot.is_none() && core.epoch.load(Ordering::SeqCst) == epoch && !core.is_shutdown() {
        *slot = Some(listener);
        log::debug!("port {}: listening again", core.port);
    }
    Ok(())
}

/// Closes the listener now and rebinds the same port after `delay` on a
/// background thread, unless stop/restart/refuse intervene meanwhile.
pub(crate) fn reopen_after(core: &Arc<Core>, delay: Duration) {
    let epoch = core.epoch.fetch_add(1, Ordering::SeqCst) + 1;
    drop(lock(&core.listener).take());
    let thread_core = core.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("tw-rebind-{}", core.port))
        .spawn(move || {
            let core = thread_core;
            let due = Instant::now() + delay;
            let current = || core.epoch.load(Ordering::SeqCst) == epoch && !core.is_shutdown();
            while current() && Instant::now() < due {
                let left = due.saturating_duration_since(Instant::now());
                std::thread::sleep(left.min(Duration::from_millis(10)));
            }
            if current() {
                if let Err(e) = install(&core, epoch) {
                    log::warn!("port {}: rebind failed: {e}", core.port);
                }
            }
        });
    match spawned {
        Ok(handle) => core.keep_thread(handle),
        Err(e) => log::warn!("could not start the rebind thread: {e}"),
    }
}
