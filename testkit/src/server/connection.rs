//! The thread that owns one client connection from TCP accept to close.

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

use super::core::{Admission, Cmd, ConnId, Core};
use super::handshake::{upgrade, Upgraded};
use super::readiness::Readiness;
use super::session::{classify, is_retry, Session, Step, CLOSE_GRACE};
use super::transport::Transport;
use crate::sync::lock;

/// Longest time a client may take for the TLS and WebSocket handshakes.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Read timeout while handshaking or closing (keeps those loops responsive).
const SHORT_READ: Duration = Duration::from_millis(20);
/// A blocked write gives up after this long and is retried later.
const WRITE_TIMEOUT: Duration = Duration::from_millis(20);

/// Registers a freshly accepted TCP connection and starts its thread.
pub(crate) fn spawn(core: &Arc<Core>, tcp: TcpStream) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let kill = Arc::new(AtomicBool::new(false));
    let id = core.register(tx.clone(), kill.clone());
    let thread_core = core.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("tw-conn-{id}"))
        .spawn(move || run(thread_core, id, tcp, tx, rx, kill));
    match spawned {
        Ok(handle) => core.keep_thread(handle),
        Err(e) => {
            log::warn!("could not start a connection thread: {e}");
            core.unregister(id);
        }
    }
}

fn run(
    core: Arc<Core>,
    id: ConnId,
    tcp: TcpStream,
    tx: Sender<Cmd>,
    rx: Receiver<Cmd>,
    kill: Arc<AtomicBool>,
) {
    let raw = match prepare(&tcp) {
        Ok(raw) => raw,
        Err(e) => {
            log::debug!("connection {id}: socket setup failed: {e}");
            core.unregister(id);
            return;
        }
    };
    let admitted = match serve(&core, id, tcp, &raw, tx, rx, &kill) {
        Ok(admitted) => admitted,
        Err(e) => {
            log::debug!("connection {id}: {e}");
            false
        }
    };
    let _ = raw.shutdown(Shutdown::Both);
    core.unregister(id);
    if admitted {
        if let Some(behavior) = &core.behavior {
            behavior.on_close(id);
        }
    }
    log::debug!("connection {id} finished");
}

/// Socket options for the handshake phase; returns a clone for control.
fn prepare(tcp: &TcpStream) -> std::io::Result<TcpStream> {
    tcp.set_nonblocking(false)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(SHORT_READ))?;
    tcp.set_write_timeout(Some(WRITE_TIMEOUT))?;
    tcp.try_clone()
}

/// Handshakes, admits and then serves the connection. Returns whether the
/// server's behavior admitted it (so that `on_close` must be called).
fn serve(
    core: &Arc<Core>,
    id: ConnId,
    tcp: TcpStream,
    raw: &TcpStream,
    tx: Sender<Cmd>,
    rx: Receiver<Cmd>,
    kill: &AtomicBool,
) -> Result<bool, String> {
    let alive = || !kill.load(Ordering::SeqCst) && !core.is_shutdown();
    // A silent server does not even read the upgrade request.
    while core.is_silent() {
        if !alive() {
            return Ok(false);
        }
        let _ = rx.recv_timeout(Duration::from_millis(20));
    }
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    let transport = match &core.tls {
        Some(tls) => Transport::accept_tls(&tls.acceptor, tcp, &alive, deadline)?,
        None => Transport::Plain(tcp),
    };
    // The accept-then-close setting is read when the handshake completes, so that a test
    // changing it after seeing a connection does not affect that connection.
    let forced_at_handshake = std::cell::RefCell::new(None);
    let Upgraded {
        mut ws,
        info,
        token_ok,
    } = upgrade(
        transport,
        &core.opts,
        // Counted and open for broadcasts just before the 101 goes out, so that a client
        // that sees its handshake complete can rely on the next broadcast reaching it
        // (broadcasts queue behind the greeting until the session runs).
        &|info| {
            let forced = lock(&core.accept_close).clone();
            let refused = forced.is_some();
            *forced_at_handshake.borrow_mut() = forced;
            core.count_handshake(info.clone());
            if !refused {
                core.mark_open(id);
            }
        },
        &alive,
        deadline,
    )?;
    if !alive() {
        return Ok(false);
    }

    let forced = forced_at_handshake.into_inner();
    let mut admitted = false;
    let admission = if let Some((code, reason)) = forced {
        Admission::Close(code, reason)
    } else if !token_ok {
        Admission::Close(1008, "Invalid token".into())
    } else if let Some(behavior) = &core.behavior {
        let admission = behavior.on_open(core, id, &info);
        admitted = matches!(admission, Admission::Accept(_));
        admission
    } else {
        Admission::Accept(Vec::new())
    };
    let first = match admission {
        Admission::Close(code, reason) => {
            log::debug!("connection {id}: closing at once with {code} {reason:?}");
            core.mark_refused(id);
            close_now(&mut ws, code, &reason, &alive);
            return Ok(admitted);
        }
        Admission::Accept(first) => first,
    };

    let mut conn = Session {
        ws,
        core: core.clone(),
        id,
        kill,
        pending_flush: false,
        closing: None,
    };
    if !core.is_silent() {
        for text in core.opts.greeting.iter().chain(first.iter()) {
            if conn.send(Message::text(text.as_str())) == Step::Stop {
                return Ok(admitted);
            }
        }
        if conn.flush() == Step::Stop {
            return Ok(admitted);
        }
    }
    if !core.mark_open(id) {
        return Ok(admitted);
    }
    log::debug!("connection {id} open");
    let readiness = Readiness::spawn(raw, tx, id).map_err(|e| format!("readiness: {e}"))?;
    conn.run(&rx, &readiness);
    // Unblock the readiness thread's peek before joining it.
    let _ = raw.shutdown(Shutdown::Both);
    drop(readiness);
    Ok(admitted)
}

/// Sends a close frame and waits briefly for the client's answer.
fn close_now(ws: &mut WebSocket<Transport>, code: u16, reason: &str, alive: &dyn Fn() -> bool) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    if classify(ws.close(Some(frame))) == Step::Stop {
        return;
    }
    let deadline = Instant::now() + CLOSE_GRACE;
    while alive() && Instant::now() < deadline {
        match ws.read() {
            Ok(_) => {}
            Err(e) if is_retry(&e) => {
                if classify(ws.flush()) == Step::Stop {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}
