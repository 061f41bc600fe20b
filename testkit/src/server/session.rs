//! Serving an open connection: queued commands out, client messages in.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use tungstenite::error::ProtocolError;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Bytes, Error, Message, WebSocket};

use super::core::{Cmd, ConnId, Core};
use super::readiness::Readiness;
use super::transport::Transport;

/// How long a closed connection waits for the client's close frame.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Commands (or incoming messages) handled before flushing / yielding.
const BATCH: usize = 256;

/// What to do after an I/O step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Carry on.
    Go,
    /// Bytes are buffered and must be flushed later.
    Pending,
    /// The connection is finished.
    Stop,
}

pub(crate) fn is_retry(e: &Error) -> bool {
    matches!(e, Error::Io(io) if matches!(
        io.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
    ))
}

pub(crate) fn classify(result: tungstenite::Result<()>) -> Step {
    match result {
        Ok(()) => Step::Go,
        Err(e) if is_retry(&e) => Step::Pending,
        // Writing after our own close frame: the message is simply dropped.
        Err(Error::Protocol(ProtocolError::SendAfterClosing)) => Step::Go,
        Err(Error::ConnectionClosed) | Err(Error::AlreadyClosed) => Step::Stop,
        Err(e) => {
            log::debug!("connection write failed: {e}");
            Step::Stop
        }
    }
}

/// An open connection being served.
pub(crate) struct Session<'a> {
    pub(crate) ws: WebSocket<Transport>,
    pub(crate) core: Arc<Core>,
    pub(crate) id: ConnId,
    pub(crate) kill: &'a AtomicBool,
    pub(crate) pending_flush: bool,
    pub(crate) closing: Option<Instant>,
}

impl Session<'_> {
    fn alive(&self) -> bool {
        !self.kill.load(Ordering::SeqCst) && !self.core.is_shutdown()
    }

    /// Serves commands and incoming data until the connection ends.
    pub(crate) fn run(&mut self, rx: &Receiver<Cmd>, readiness: &Readiness) {
        loop {
            if !self.alive() {
                log::debug!("connection {} dropped", self.id);
                return;
            }
            if self
                .closing
                .is_some_and(|deadline| Instant::now() >= deadline)
            {
                return;
            }
            let silent = self.core.is_silent();
            if !silent && readiness.is_readable() && self.drain(readiness) == Step::Stop {
                return;
            }
            if self.pending_flush && self.flush() == Step::Stop {
                return;
            }
            let wait = if !silent && readiness.is_readable() {
                Duration::ZERO
            } else if self.pending_flush || self.closing.is_some() {
                Duration::from_millis(5)
            } else {
                Duration::from_millis(50)
            };
            let first = match rx.recv_timeout(wait) {
                Ok(cmd) => cmd,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut wrote = false;
            let mut next = Some(first);
            let mut handled = 0;
            while let Some(cmd) = next.take() {
                if self.apply(cmd, &mut wrote) == Step::Stop {
                    return;
                }
                handled += 1;
                if handled < BATCH && self.alive() {
                    next = rx.try_recv().ok();
                }
            }
            if wrote && self.flush() == Step::Stop {
                return;
            }
        }
    }

    /// Carries out one queued command.
    fn apply(&mut self, cmd: Cmd, wrote: &mut bool) -> Step {
        let muted = self.core.is_silent() || self.closing.is_some();
        match cmd {
            Cmd::Wake => Step::Go,
            Cmd::Text(_) | Cmd::Binary(_) | Cmd::Raw(_) if muted => Step::Go,
            Cmd::Text(text) => {
                *wrote = true;
                self.write(Message::Text(text))
            }
            Cmd::Binary(bytes) => {
                *wrote = true;
                self.write(Message::Binary(bytes))
            }
            Cmd::Raw(bytes) => self.write_raw(&bytes),
            Cmd::Close(_, _) if self.closing.is_some() => Step::Go,
            Cmd::Close(code, reason) => {
                log::debug!("connection {}: closing with {code} {reason:?}", self.id);
                self.closing = Some(Instant::now() + CLOSE_GRACE);
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                };
                let step = classify(self.ws.close(Some(frame)));
                self.note(step)
            }
        }
    }

    fn note(&mut self, step: Step) -> Step {
        if step == Step::Pending {
            self.pending_flush = true;
        }
        step
    }

    /// Queues a message in the WebSocket's buffer (may write part of it).
    fn write(&mut self, message: Message) -> Step {
        let step = classify(self.ws.write(message));
        self.note(step)
    }

    /// Writes and flushes one message.
    pub(crate) fn send(&mut self, message: Message) -> Step {
        match self.write(message) {
            Step::Stop => Step::Stop,
            _ => self.flush(),
        }
    }

    pub(crate) fn flush(&mut self) -> Step {
        let step = classify(self.ws.flush());
        self.pending_flush = step == Step::Pending;
        step
    }

    /// Writes raw bytes after everything queued before them, waiting for a
    /// slow reader as long as the connection is alive.
    fn write_raw(&mut self, bytes: &Bytes) -> Step {
        loop {
            match self.flush() {
                Step::Go => break,
                Step::Stop => return Step::Stop,
                Step::Pending if !self.alive() => return Step::Stop,
                Step::Pending => {}
            }
        }
        let stream = self.ws.get_mut();
        let mut offset = 0;
        while offset < bytes.len() {
            match stream.write(&bytes[offset..]) {
                Ok(0) => return Step::Stop,
                Ok(n) => offset += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) =>
                {
                    if self.kill.load(Ordering::SeqCst) || self.core.is_shutdown() {
                        return Step::Stop;
                    }
                }
                Err(e) => {
                    log::debug!("connection {}: raw write failed: {e}", self.id);
                    return Step::Stop;
                }
            }
        }
        match stream.flush() {
            Ok(()) => Step::Go,
            Err(e) => {
                log::debug!("connection {}: raw flush failed: {e}", self.id);
                Step::Stop
            }
        }
    }

    /// Reads everything the client has sent so far (non-blocking).
    fn drain(&mut self, readiness: &Readiness) -> Step {
        if let Err(e) = self.ws.get_ref().tcp().set_nonblocking(true) {
            log::debug!("connection {}: {e}", self.id);
            return Step::Stop;
        }
        let mut step = Step::Go;
        let mut exhausted = false;
        for _ in 0..BATCH {
            let Some(_permit) = self.core.read_permit() else {
                break;
            };
            match self.ws.read() {
                Ok(Message::Text(text)) => {
                    self.core.record_received(text.as_str());
                    if let Some(behavior) = &self.core.behavior {
                        behavior.on_text(&self.core, self.id, text.as_str());
                    }
                }
                Ok(Message::Close(frame)) => {
                    let (code, reason) = match &frame {
                        Some(f) => (Some(u16::from(f.code)), f.reason.to_string()),
                        None => (None, String::new()),
                    };
                    self.core.record_close(code, &reason);
                }
                Ok(_) => {}
                Err(e) if is_retry(&e) => {
                    exhausted = true;
                    break;
                }
                Err(e) => {
                    log::debug!("connection {}: read ended: {e}", self.id);
                    step = Step::Stop;
                    break;
                }
            }
        }
        if let Err(e) = self.ws.get_ref().tcp().set_nonblocking(false) {
            log::debug!("connection {}: {e}", self.id);
            return Step::Stop;
        }
        if exhausted {
            readiness.consumed();
        }
        step
    }
}
