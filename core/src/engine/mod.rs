//! The I/O thread of one client: connect, stay live, notice death, back off, reconnect.
//!
//! One thread owns the socket and waits on it and on the waker at once (see `transport`).
//! Commands from other threads (`send`, `reconnect`, `close`) arrive on a channel and wake it.
//! Under inline reads it lends a live connection to the thread waiting in `recv` (`handoff`).

mod handoff;
mod live;
mod token;

pub(crate) use handoff::{Handoff, Ran};
pub(crate) use token::{AuthJob, AUTH_THREADS};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Bytes, Message as WsMessage, WebSocket};

use crate::auth::http::{renew_token, request_token, AuthError};
use crate::auth::token::TokenInfo;
use crate::auth::token_file;
use crate::backoff::Jitter;
use crate::config::Settings;
use crate::delivery::Delivery;
use crate::dialect::{Ctx, Dialect, Signal};
use crate::error::{Error, Result};
use crate::event::{ErrorEvent, ErrorKind, Event};
use crate::history::History;
use crate::status::{Counters, State};
use crate::transport::connect::{connect, Failure, Interrupt};
use crate::transport::{Metered, Reactor};

/// Frames read in one go before timers and commands get a turn.
const READ_BUDGET: usize = 512;
/// How often delivery is retried while the application's channel is full.
const DELIVERY_RETRY: Duration = Duration::from_millis(2);
/// How long `close()` waits for the server to answer the close frame.
const CLOSE_GRACE: Duration = Duration::from_millis(250);

/// A frame the application sends.
pub(crate) enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
}

/// What other threads ask of the I/O thread.
pub(crate) enum Command {
    Send {
        frame: Outgoing,
        reply: Sender<Result<()>>,
    },
    Request {
        endpoint: String,
        body: Option<String>,
        timeout: Duration,
        reply: Sender<Result<String>>,
    },
    /// `reconnect()`; `done` is answered once the I/O thread has taken it.
    Reconnect {
        done: Sender<()>,
    },
    Close,
}

/// A request waiting for its response.
pub(crate) struct Pending {
    endpoint: String,
    deadline: Instant,
    reply: Sender<Result<String>>,
}

/// How a live connection ended.
enum End {
    Close,
    Reconnect,
    ServerClose { code: u16, reason: String },
    Dead { silence: Duration },
    Broken(String),
    Violation { code: u16, message: String },
    AuthRejected(String),
    Shutdown(String),
}

/// Longest piece of server-supplied text kept in an event, error or log line.
const SERVER_TEXT_LIMIT: usize = 512;

impl End {
    /// The same end with every text that came from the server (close reasons, refusals,
    /// shutdown notes) scrubbed of secrets, its control characters escaped, and cut.
    fn sanitized(self) -> End {
        let clean = |t: String| crate::redact::untrusted(&t, SERVER_TEXT_LIMIT);
        match self {
            End::ServerClose { code, reason } => End::ServerClose {
                code,
                reason: clean(reason),
            },
            End::Broken(m) => End::Broken(clean(m)),
            End::AuthRejected(m) => End::AuthRejected(clean(m)),
            End::Shutdown(m) => End::Shutdown(clean(m)),
            other => other,
        }
    }
}

pub(crate) struct Engine {
    pub s: Arc<Settings>,
    pub reactor: Reactor,
    pub cmds: Receiver<Command>,
    pub delivery: Delivery,
    pub counters: Arc<Counters>,
    pub history: Arc<History>,
    pub tls: Option<native_tls::TlsConnector>,
    pub jitter: Jitter,
    pub dialect: Box<dyn Dialect>,
    pub epoch: u64,
    pub attempt: u32,
    /// Request ids, from 1, never reused by this client (0 is the login).
    pub next_id: u64,
    /// The access token in use (tradovate).
    pub token: Option<TokenInfo>,
    pub auth_job: Option<AuthJob>,
    /// No renewal attempt before this time (after a failed one).
    pub renew_not_before: Option<Instant>,
    pub pending: HashMap<u64, Pending>,
    /// Inline reads: lends live connections to threads waiting in `recv`.
    pub handoff: Option<Arc<Handoff>>,
}

/// What the run loop does after one attempt.
enum Next {
    /// `close()`: stop.
    Stop,
    /// Try again now (after `reconnect()`).
    Again,
    /// The attempt failed or the connection ended: back off, then try again.
    Retry(String),
}

/// How getting a token ended.
enum TokenOutcome {
    Ready,
    Interrupted(Interrupt),
    Fatal(String),
    Retry(String),
}

impl Engine {
    /// Runs until `close()`.
    pub fn run(mut self) {
        self.load_token_file();
        loop {
            match self.cycle() {
                Next::Stop => break,
                Next::Again => continue,
                Next::Retry(last_error) => {
                    // The connection is gone or never came: schedule the next attempt.
                    let s = self.s.clone();
                    if let Some(Interrupt::Close) = self.schedule_retry(&s, &last_error) {
                        break;
                    }
                }
            }
        }
        self.auth_job = None;
        self.fail_pending("the client was closed");
        self.counters.set_state(State::Closed);
        self.delivery.flush();
        if self.delivery.has_pending() {
            tw_warn!("tradewire: the client closed while the application was not reading; undelivered events were discarded");
        }
    }

    /// One attempt: a token if the preset needs one, a connection, and its live time.
    fn cycle(&mut self) -> Next {
        self.counters.set_state(State::Connecting);
        let s = self.s.clone();
        if self.dialect.needs_auth() {
            match self.ensure_token() {
                TokenOutcome::Ready => {}
                TokenOutcome::Interrupted(i) => return self.interrupted(i),
                TokenOutcome::Fatal(message) => return self.fatal(ErrorKind::Auth, message),
                TokenOutcome::Retry(message) => return Next::Retry(message),
            }
        }
        tw_debug!("tradewire: connecting to {}", s.redacted_url);
        let attempt = {
            let Engine {
                reactor,
                cmds,
                delivery,
                counters,
                tls,
                ..
            } = &mut *self;
            let mut check = || offline_commands(cmds, delivery, "connecting");
            connect(&s, tls.as_ref(), reactor, counters, &mut check)
        };
        let ws = match attempt {
            Ok(ws) => ws,
            Err(Failure::Interrupted(i)) => return self.interrupted(i),
            Err(Failure::Failed {
                message,
                fatal,
                auth,
            }) => {
                tw_warn!("tradewire: {message}");
                if fatal {
                    let kind = if auth {
                        ErrorKind::Auth
                    } else {
                        ErrorKind::Connect
                    };
                    return self.fatal(kind, message);
                }
                return Next::Retry(message);
            }
        };

        self.epoch += 1;
        self.counters.epoch.store(self.epoch, Ordering::Relaxed);
        if self.epoch > 1 {
            self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        tw_info!(
            "tradewire: connected to {} (connection {})",
            s.redacted_url,
            self.epoch
        );
        // The state says connected before the event does, so that an application reacting
        // to `Connected` sees it in status().
        let live = !self.dialect.needs_auth();
        self.counters.authenticated.store(live, Ordering::Relaxed);
        self.counters.set_state(if live {
            State::Live
        } else {
            State::Authenticating
        });
        self.emit(Event::Connected {
            epoch: self.epoch,
            url: s.redacted_url.clone(),
        });
        let since = Instant::now();
        let end = self.live(ws).sanitized();
        self.counters.authenticated.store(false, Ordering::Relaxed);
        if since.elapsed() >= s.min_uptime {
            self.reset_attempts();
        }
        let (code, reason, error) = describe(&end, &s);
        tw_info!("tradewire: connection {} ended: {reason}", self.epoch);
        self.emit(Event::Disconnected {
            epoch: self.epoch,
            code,
            reason: reason.clone(),
            error,
        });
        match end {
            End::Close => Next::Stop,
            End::Reconnect => self.interrupted(Interrupt::Reconnect),
            End::AuthRejected(message) => {
                self.emit_error(ErrorKind::Auth, &message);
                if self.s.credentials.is_none() || self.token.take().is_none() {
                    return self.give_up_then(message);
                }
                // The token was refused: the next attempt asks for a new one.
                self.counters.token_expiry_ms.store(0, Ordering::Relaxed);
                Next::Retry(message)
            }
            End::ServerClose { code, reason } => match fatal_close(&s, code, &reason) {
                Some(why) => self.give_up_then(why),
                None => Next::Retry(format!(
                    "the server closed the connection ({code} {reason})"
                )),
            },
            _ => Next::Retry(reason),
        }
    }

    /// What follows a `close()` or `reconnect()` that interrupted an attempt.
    fn interrupted(&mut self, i: Interrupt) -> Next {
        match i {
            Interrupt::Close => Next::Stop,
            Interrupt::Reconnect => {
                self.reset_attempts();
                Next::Again
            }
        }
    }

    /// Reports a failure that retrying cannot fix, then gives up.
    fn fatal(&mut self, kind: ErrorKind, message: String) -> Next {
        self.emit_error(kind, &message);
        self.give_up_then(message)
    }

    fn emit_error(&mut self, kind: ErrorKind, message: &str) {
        self.emit(Event::Error(ErrorEvent::new(
            kind, message, None, self.epoch,
        )));
    }

    /// Gives up and waits; then stops or starts again as the application says.
    fn give_up_then(&mut self, reason: String) -> Next {
        match self.give_up(reason) {
            Interrupt::Close => Next::Stop,
            Interrupt::Reconnect => Next::Again,
        }
    }

    /// After a failure: gives up (reconnect disabled, attempts exhausted) or waits the backoff
    /// delay. `Some(Close)` means stop; `Some(Reconnect)`/`None` mean try again.
    fn schedule_retry(&mut self, s: &Settings, last_error: &str) -> Option<Interrupt> {
        if !s.reconnect {
            return Some(self.give_up(format!("reconnect is disabled; {last_error}")));
        }
        self.attempt += 1;
        self.counters
            .attempts
            .store(self.attempt, Ordering::Relaxed);
        if let Some(max) = s.max_reconnect_attempts {
            if self.attempt > max {
                return Some(self.give_up(format!(
                    "gave up after {max} reconnect attempts; last error: {last_error}"
                )));
            }
        }
        let delay = s.backoff.delay(self.attempt - 1, self.jitter.next_f64());
        tw_info!(
            "tradewire: reconnecting in {:.1} s (attempt {}): {last_error}",
            delay.as_secs_f64(),
            self.attempt
        );
        self.emit(Event::Reconnecting {
            attempt: self.attempt,
            delay,
            reason: last_error.to_string(),
        });
        self.counters.set_state(State::Backoff);
        match self.idle(Some(Instant::now() + delay), "waiting to reconnect") {
            Some(Interrupt::Close) => Some(Interrupt::Close),
            Some(Interrupt::Reconnect) => {
                self.reset_attempts();
                Some(Interrupt::Reconnect)
            }
            None => None,
        }
    }

    /// Fails every waiting request: its outcome is unknown.
    fn fail_pending(&mut self, why: &str) {
        for (id, p) in self.pending.drain() {
            let _ = p.reply.send(Err(Error::Request(format!(
                "{why} before the response to {} (request {id}) arrived: the outcome is unknown; check the state on the server before retrying",
                p.endpoint
            ))));
        }
    }

    fn reset_attempts(&mut self) {
        self.attempt = 0;
        self.counters.attempts.store(0, Ordering::Relaxed);
    }

    /// Delivers a lifecycle event, its texts scrubbed of every known secret.
    fn emit(&mut self, ev: Event) {
        self.delivery.push(crate::redact::scrub_event(ev));
    }

    /// Emits `GaveUp` and waits for `reconnect()` or `close()`.
    fn give_up(&mut self, reason: String) -> Interrupt {
        tw_warn!("tradewire: gave up: {reason}");
        self.emit(Event::GaveUp { reason });
        self.counters.set_state(State::GaveUp);
        // The stream ends here: receivers see its end once they have taken the queued events.
        self.delivery.end_stream();
        match self.idle(None, "stopped (gave up); call reconnect() to try again") {
            Some(Interrupt::Reconnect) => {
                self.reset_attempts();
                Interrupt::Reconnect
            }
            _ => Interrupt::Close,
        }
    }

    /// Waits without a connection until `deadline` (or forever), handling commands.
    fn idle(&mut self, deadline: Option<Instant>, state: &str) -> Option<Interrupt> {
        loop {
            if let Some(i) = offline_commands(&self.cmds, &mut self.delivery, state) {
                return Some(i);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return None;
            }
            self.offline_wait(deadline);
        }
    }

    /// Sleeps without a connection until `deadline`, a command or a notification; wakes
    /// sooner while events wait for room in the channel.
    fn offline_wait(&mut self, deadline: Option<Instant>) {
        let mut wake = deadline;
        if self.delivery.has_pending() {
            let retry = Instant::now() + DELIVERY_RETRY;
            wake = Some(wake.map_or(retry, |d| d.min(retry)));
        }
        if let Err(e) = self.reactor.wait(wake) {
            tw_error!("tradewire: poll failed: {e}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Runs whenever the thread wakes without a live connection: delivers what waits for room in
/// the event channel and handles commands. `send` fails at once: nothing is queued for
/// later, so nothing can be sent twice after a reconnect.
fn offline_commands(
    cmds: &Receiver<Command>,
    delivery: &mut Delivery,
    state: &str,
) -> Option<Interrupt> {
    delivery.flush();
    loop {
        match cmds.try_recv() {
            Ok(Command::Send { reply, .. }) => {
                let _ = reply.send(Err(Error::NotConnected(format!(
                    "the client is {state}; nothing was sent (messages are never queued while disconnected, so none is sent twice after a reconnect)"
                ))));
            }
            Ok(Command::Request {
                endpoint, reply, ..
            }) => {
                let _ = reply.send(Err(Error::NotConnected(format!(
                    "the client is {state}; the request to {endpoint} was not sent"
                ))));
            }
            Ok(Command::Close) | Err(TryRecvError::Disconnected) => return Some(Interrupt::Close),
            Ok(Command::Reconnect { done }) => {
                // After `GaveUp` the next stream starts now, before `reconnect()` returns.
                delivery.restart();
                let _ = done.send(());
                return Some(Interrupt::Reconnect);
            }
            Err(TryRecvError::Empty) => return None,
        }
    }
}

/// The close code, reason and error of a `Disconnected` event.
fn describe(end: &End, s: &Settings) -> (Option<u16>, String, Option<String>) {
    match end {
        End::Close => (Some(1000), "closed by the client".into(), None),
        End::Reconnect => (Some(1000), "reconnect requested".into(), None),
        End::ServerClose { code, reason } => (Some(*code), reason.clone(), None),
        End::Dead { silence } => {
            let m = format!(
                "no data from the server for {:.1} s (heartbeat_timeout {:.1} s): the connection is dead",
                silence.as_secs_f64(),
                s.heartbeat_timeout.as_secs_f64()
            );
            (None, m.clone(), Some(m))
        }
        End::Broken(e) => (None, "connection lost".into(), Some(s.scrub(e))),
        End::Violation { code, message } => (Some(*code), message.clone(), Some(message.clone())),
        End::AuthRejected(m) => (None, "login refused".into(), Some(m.clone())),
        End::Shutdown(m) => (Some(1000), m.clone(), None),
    }
}

/// Whether a close from the server stops reconnecting, and why.
fn fatal_close(s: &Settings, code: u16, reason: &str) -> Option<String> {
    if s.fatal_close_codes.contains(&code) {
        let shown = if reason.is_empty() {
            String::new()
        } else {
            format!(" \"{reason}\"")
        };
        return Some(format!(
            "the server closed the connection with {code}{shown}, which is fatal (fatal_close_codes): not reconnecting; fix the cause (credentials, ids) and call reconnect()"
        ));
    }
    if code == 1000
        && !s.reconnect_when_superseded
        && s.superseded_reason.as_deref() == Some(reason)
    {
        return Some(format!(
            "superseded: another connection took this one's place (1000 \"{reason}\"); not fighting it (set reconnect_when_superseded = true to reconnect anyway)"
        ));
    }
    None
}
