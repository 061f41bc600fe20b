//! The I/O thread of one client: connect, stay live, notice death, back off, reconnect.
//!
//! One thread owns the socket and waits on it and on the waker at once (see `transport`).
//! Commands from other threads (`send`, `reconnect`, `close`) arrive on a channel and wake it.

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
    Reconnect,
    Close,
}

/// A request waiting for its response.
pub(crate) struct Pending {
    endpoint: String,
    deadline: Instant,
    reply: Sender<Result<String>>,
}

/// A token request or renewal running on a helper thread.
pub(crate) struct AuthJob {
    rx: Receiver<std::result::Result<TokenInfo, AuthError>>,
    cancel: Arc<AtomicBool>,
}

impl Drop for AuthJob {
    fn drop(&mut self) {
        // A job nobody waits for any more stops before its next network action.
        self.cancel.store(true, Ordering::SeqCst);
    }
}

/// Token helper threads still running (an HTTP request in flight cannot be cancelled; it
/// ends within its timeout).
pub(crate) static AUTH_THREADS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

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
            log::warn!("tradewire: the client closed while the application was not reading; undelivered events were discarded");
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
        log::debug!("tradewire: connecting to {}", s.redacted_url);
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
                log::warn!("tradewire: {message}");
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
        log::info!(
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
        let end = self.live(ws);
        self.counters.authenticated.store(false, Ordering::Relaxed);
        if since.elapsed() >= s.min_uptime {
            self.reset_attempts();
        }
        let (code, reason, error) = describe(&end, &s);
        log::info!("tradewire: connection {} ended: {reason}", self.epoch);
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
        log::info!(
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

    /// Loads the token file once at start (tradovate).
    fn load_token_file(&mut self) {
        if !self.dialect.needs_auth() || self.s.static_token.is_some() {
            return;
        }
        if let Some(path) = &self.s.token_file {
            let user = self.s.credentials.as_ref().map(|c| c.name.as_str());
            if let Some(t) = token_file::load(path, user, SystemTime::now(), self.s.token_margin) {
                self.set_token(t, false);
            }
        }
    }

    fn set_token(&mut self, t: TokenInfo, save: bool) {
        self.counters.token_expiry_ms.store(
            crate::time::unix_millis(t.expires_at).max(1),
            Ordering::Relaxed,
        );
        if save {
            if let Some(path) = &self.s.token_file {
                match token_file::save(path, &t) {
                    Ok(()) => {
                        log::debug!("tradewire: saved the access token to {}", path.display())
                    }
                    Err(e) => log::warn!(
                        "tradewire: could not save the access token to {}: {e}",
                        path.display()
                    ),
                }
            }
        }
        self.token = Some(t);
    }

    /// The token to log in with.
    fn login_token(&self) -> Option<String> {
        if let Some(t) = &self.s.static_token {
            return Some(t.expose().to_string());
        }
        let t = self.token.as_ref()?;
        if self.s.market_data {
            t.md_access_token
                .clone()
                .or_else(|| Some(t.access_token.clone()))
        } else {
            Some(t.access_token.clone())
        }
    }

    /// Starts a token request (or a renewal of the current token) on a helper thread.
    fn spawn_auth(&self, renew: Option<String>) -> Option<AuthJob> {
        let s = self.s.clone();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let poller = self.reactor.poller.clone();
        AUTH_THREADS.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name("tradewire-auth".into())
            .spawn(move || {
                let timeout = s.connect_timeout.max(Duration::from_secs(5));
                let fresh = |flag: &AtomicBool| match (&s.auth_url, &s.credentials) {
                    (Some(url), Some(c)) => request_token(url, c, timeout, flag),
                    _ => Err(AuthError::Rejected(
                        "no credentials are configured to request a new access token".into(),
                    )),
                };
                let result = match (renew, &s.renew_url) {
                    (Some(token), Some(url)) => match renew_token(url, &token, timeout) {
                        Err(AuthError::Rejected(why)) if s.credentials.is_some() => {
                            log::info!("tradewire: {why}; requesting a new access token instead");
                            fresh(&flag)
                        }
                        other => other,
                    },
                    _ => fresh(&flag),
                };
                let _ = tx.send(result);
                let _ = poller.notify();
                AUTH_THREADS.fetch_sub(1, Ordering::SeqCst);
            });
        match spawned {
            Ok(_) => Some(AuthJob { rx, cancel }),
            Err(e) => {
                AUTH_THREADS.fetch_sub(1, Ordering::SeqCst);
                log::error!("tradewire: could not start the token thread: {e}");
                None
            }
        }
    }

    /// Makes sure a usable token is at hand before connecting (tradovate).
    fn ensure_token(&mut self) -> TokenOutcome {
        if self.s.static_token.is_some() {
            return TokenOutcome::Ready;
        }
        if self
            .token
            .as_ref()
            .is_some_and(|t| t.is_valid(SystemTime::now(), self.s.token_margin))
        {
            return TokenOutcome::Ready;
        }
        if self.s.credentials.is_none() {
            return TokenOutcome::Fatal(
                "no valid access token: the token file has none (or it expired) and no credentials are configured".into(),
            );
        }
        self.counters.set_state(State::Authenticating);
        let job = match self.auth_job.take() {
            Some(j) => j,
            None => match self.spawn_auth(None) {
                Some(j) => j,
                None => return TokenOutcome::Retry("could not start the token request".into()),
            },
        };
        loop {
            match job.rx.try_recv() {
                Ok(Ok(t)) => {
                    log::info!(
                        "tradewire: obtained an access token (expires {})",
                        crate::time::iso8601(t.expires_at)
                    );
                    self.set_token(t, true);
                    return TokenOutcome::Ready;
                }
                Ok(Err(AuthError::Rejected(m))) | Ok(Err(AuthError::Captcha(m))) => {
                    return TokenOutcome::Fatal(m)
                }
                Ok(Err(AuthError::Network(m))) => return TokenOutcome::Retry(m),
                Ok(Err(AuthError::Cancelled)) => {
                    return TokenOutcome::Interrupted(Interrupt::Close)
                }
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    return TokenOutcome::Retry("the token request ended without an answer".into())
                }
                Err(crossbeam_channel::TryRecvError::Empty) => {}
            }
            if let Some(i) = offline_commands(&self.cmds, &mut self.delivery, "logging in") {
                return TokenOutcome::Interrupted(i);
            }
            self.offline_wait(None);
        }
    }

    /// Renews the token ahead of expiry while connected, and takes the result of a renewal.
    fn tend_token(&mut self) -> Option<Instant> {
        if let Some(job) = &self.auth_job {
            match job.rx.try_recv() {
                Ok(Ok(t)) => {
                    log::info!(
                        "tradewire: renewed the access token (expires {})",
                        crate::time::iso8601(t.expires_at)
                    );
                    self.auth_job = None;
                    self.set_token(t, true);
                }
                Ok(Err(e)) => {
                    log::warn!("tradewire: token renewal failed ({e:?}); retrying in 30 s");
                    self.auth_job = None;
                    self.renew_not_before = Some(Instant::now() + Duration::from_secs(30));
                }
                Err(crossbeam_channel::TryRecvError::Disconnected) => self.auth_job = None,
                Err(crossbeam_channel::TryRecvError::Empty) => return None,
            }
        }
        let t = self.token.as_ref()?;
        let now = SystemTime::now();
        let due = t.renew_at(self.s.token_margin);
        let wait = due.duration_since(now).unwrap_or_default();
        let mut at = Instant::now() + wait;
        if let Some(nb) = self.renew_not_before {
            at = at.max(nb);
        }
        if Instant::now() >= at {
            self.renew_not_before = None;
            let current = t.access_token.clone();
            self.auth_job = self.spawn_auth(Some(current));
            return None;
        }
        Some(at)
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

    fn emit(&mut self, ev: Event) {
        self.delivery.push(ev);
    }

    /// Emits `GaveUp` and waits for `reconnect()` or `close()`.
    fn give_up(&mut self, reason: String) -> Interrupt {
        log::warn!("tradewire: gave up: {reason}");
        self.emit(Event::GaveUp { reason });
        self.counters.set_state(State::GaveUp);
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
            log::error!("tradewire: poll failed: {e}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs one connection until it ends; fails its waiting requests when it does.
    fn live(&mut self, ws: WebSocket<Metered>) -> End {
        let end = self.run_connection(ws);
        let why = match &end {
            End::Close => "the client was closed",
            _ => "the connection dropped",
        };
        self.fail_pending(why);
        end
    }

    fn run_connection(&mut self, mut ws: WebSocket<Metered>) -> End {
        let s = self.s.clone();
        let mut want_write = false;
        for text in self.dialect.on_open(&s) {
            if let Err((e, _)) = write(&mut ws, Outgoing::Text(text), &mut want_write) {
                return End::Broken(format!("could not send the on-connect messages: {e}"));
            }
        }
        let needs_auth = self.dialect.needs_auth();
        let mut live = !needs_auth;
        self.counters.authenticated.store(live, Ordering::Relaxed);
        self.counters.set_state(if live {
            State::Live
        } else {
            State::Authenticating
        });
        let token = if needs_auth { self.login_token() } else { None };

        let mut replies: Vec<String> = Vec::new();
        let mut signals: Vec<Signal> = Vec::new();
        let mut seen = ws.get_ref().read_total;
        let mut last_rx = Instant::now();
        self.counters.mark_rx(last_rx);
        let mut next_ping = last_rx + s.heartbeat_interval;
        let mut ping_sent: Option<Instant> = None;
        let mut readable = true;
        loop {
            // Commands first: a send goes out at once.
            loop {
                match self.cmds.try_recv() {
                    Ok(Command::Send { frame, reply }) => {
                        if !live {
                            let _ = reply.send(Err(Error::NotConnected(
                                "the client is logging in; nothing was sent (wait for the authenticated event)".into(),
                            )));
                            continue;
                        }
                        let r = write(&mut ws, frame, &mut want_write);
                        let broken = match &r {
                            Err((e, true)) => Some(e.to_string()),
                            _ => None,
                        };
                        let _ = reply.send(r.map_err(|(e, _)| e));
                        if let Some(e) = broken {
                            return End::Broken(e);
                        }
                    }
                    Ok(Command::Request {
                        endpoint,
                        body,
                        timeout,
                        reply,
                    }) => {
                        if !live {
                            let _ = reply.send(Err(Error::NotConnected(
                                "the client is not logged in yet; the request was not sent".into(),
                            )));
                            continue;
                        }
                        let id = self.next_id;
                        let Some(frame) =
                            self.dialect.request_frame(&endpoint, id, body.as_deref())
                        else {
                            let _ = reply.send(Err(Error::Usage(format!(
                                "request() needs a preset with request/response correlation (tradovate); this client uses the {} preset: use send_text() instead",
                                s.preset.name()
                            ))));
                            continue;
                        };
                        self.next_id += 1;
                        match write(&mut ws, Outgoing::Text(frame), &mut want_write) {
                            Ok(()) => {
                                let deadline = Instant::now() + timeout;
                                self.pending.insert(
                                    id,
                                    Pending {
                                        endpoint,
                                        deadline,
                                        reply,
                                    },
                                );
                            }
                            Err((e, broken)) => {
                                let msg = e.to_string();
                                let _ = reply.send(Err(e));
                                if broken {
                                    return End::Broken(msg);
                                }
                            }
                        }
                    }
                    Ok(Command::Close) | Err(TryRecvError::Disconnected) => {
                        close_gracefully(&mut ws, &mut self.reactor, 1000, "closed by the client");
                        return End::Close;
                    }
                    Ok(Command::Reconnect) => {
                        close_gracefully(&mut ws, &mut self.reactor, 1000, "reconnecting");
                        return End::Reconnect;
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }

            if readable && !self.delivery.blocked() {
                match self.read_batch(
                    &mut ws,
                    &mut replies,
                    &mut signals,
                    &mut ping_sent,
                    token.as_deref(),
                ) {
                    Ok(more) => readable = more,
                    Err(end) => return end,
                }
                for text in replies.drain(..) {
                    if let Err((e, true)) = write(&mut ws, Outgoing::Text(text), &mut want_write) {
                        return End::Broken(e.to_string());
                    }
                }
                for signal in std::mem::take(&mut signals) {
                    match signal {
                        Signal::Authenticated => {
                            live = true;
                            log::info!("tradewire: logged in (connection {})", self.epoch);
                            let user_id = self.token.as_ref().and_then(|t| t.user_id);
                            for frame in self.dialect.after_auth(&s, user_id, &mut self.next_id) {
                                if let Err((e, true)) =
                                    write(&mut ws, Outgoing::Text(frame), &mut want_write)
                                {
                                    return End::Broken(e.to_string());
                                }
                            }
                            self.counters.authenticated.store(true, Ordering::Relaxed);
                            self.counters.set_state(State::Live);
                            self.delivery
                                .push(Event::Authenticated { epoch: self.epoch });
                            next_ping = Instant::now() + s.heartbeat_interval;
                        }
                        Signal::AuthRejected(why) => {
                            let _ = ws.close(Some(CloseFrame {
                                code: CloseCode::Normal,
                                reason: "login refused".into(),
                            }));
                            let _ = ws.flush();
                            return End::AuthRejected(why);
                        }
                        Signal::Shutdown(why) => {
                            close_gracefully(&mut ws, &mut self.reactor, 1000, "server shutdown");
                            return End::Shutdown(why);
                        }
                        Signal::ServerClose { code, reason } => {
                            close_gracefully(
                                &mut ws,
                                &mut self.reactor,
                                1000,
                                "closed by the server",
                            );
                            return End::ServerClose { code, reason };
                        }
                        Signal::Response { id, status, data } => match self.pending.remove(&id) {
                            Some(p) => {
                                let r = if (200..300).contains(&status) {
                                    Ok(data.unwrap_or_else(|| "null".into()))
                                } else {
                                    Err(Error::Request(format!(
                                        "{} (request {id}) was answered with status {status}: {}",
                                        p.endpoint,
                                        data.as_deref().unwrap_or("no details")
                                    )))
                                };
                                let _ = p.reply.send(r);
                            }
                            None => self.delivery.push(Event::Response { id, status, data }),
                        },
                    }
                }
            }
            if self.delivery.has_pending() {
                let was_blocked = self.delivery.blocked();
                self.delivery.flush();
                if was_blocked && !self.delivery.blocked() {
                    readable = true;
                }
            }

            // Timers keep their time whatever the consumer does.
            let now = Instant::now();
            let total = ws.get_ref().read_total;
            if total != seen {
                seen = total;
                last_rx = now;
                self.counters.mark_rx(now);
            } else if self.delivery.blocked() && ws.get_ref().has_unread_bytes() {
                // Not reading because the application is behind; bytes waiting prove the server lives.
                last_rx = now;
            }
            let silence = now.saturating_duration_since(last_rx);
            if silence >= s.heartbeat_timeout {
                let (code, reason) = if needs_auth {
                    (4000, "Server timeout - no heartbeat response")
                } else {
                    (1001, "heartbeat timeout")
                };
                let _ = ws.close(Some(CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                }));
                let _ = ws.flush();
                return End::Dead { silence };
            }
            let heartbeat_due = s.ws_ping || (live && self.dialect.heartbeat().is_some());
            if heartbeat_due && now >= next_ping {
                let msg = match self.dialect.heartbeat() {
                    Some(text) if !s.ws_ping => WsMessage::Text(text.into()),
                    _ => WsMessage::Ping(Bytes::from(
                        crate::time::unix_millis(SystemTime::now())
                            .to_be_bytes()
                            .to_vec(),
                    )),
                };
                match ws.write(msg) {
                    Ok(()) => {}
                    Err(tungstenite::Error::Io(e))
                        if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return End::Broken(format!("could not send a heartbeat: {e}")),
                }
                want_write = true;
                ping_sent = Some(now);
                next_ping = now + s.heartbeat_interval;
            }
            if want_write {
                match ws.flush() {
                    Ok(()) => want_write = false,
                    Err(tungstenite::Error::Io(e))
                        if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return End::Broken(format!("write failed: {e}")),
                }
            }
            // Requests whose caller stopped waiting: a late response becomes a Response event.
            let mut next_expiry: Option<Instant> = None;
            if !self.pending.is_empty() {
                self.pending.retain(|_, p| p.deadline > now);
                next_expiry = self.pending.values().map(|p| p.deadline).min();
            }
            let renew_at = if needs_auth && self.s.static_token.is_none() {
                self.tend_token()
            } else {
                None
            };

            if readable && !self.delivery.blocked() {
                continue;
            }
            let mut deadline = last_rx + s.heartbeat_timeout;
            if heartbeat_due {
                deadline = deadline.min(next_ping);
            }
            for t in [next_expiry, renew_at].into_iter().flatten() {
                deadline = deadline.min(t);
            }
            if self.delivery.has_pending() {
                deadline = deadline.min(now + DELIVERY_RETRY);
            }
            if let Err(e) = ws
                .get_ref()
                .socket()
                .want(!self.delivery.blocked(), want_write)
            {
                return End::Broken(format!("poll setup failed: {e}"));
            }
            match self.reactor.wait(Some(deadline)) {
                Ok(ready) => readable |= ready,
                Err(e) => return End::Broken(format!("poll failed: {e}")),
            }
        }
    }

    /// Reads frames until none is waiting, the budget is spent, or delivery blocks.
    /// `Ok(true)` means there may be more to read right away.
    fn read_batch(
        &mut self,
        ws: &mut WebSocket<Metered>,
        replies: &mut Vec<String>,
        signals: &mut Vec<Signal>,
        ping_sent: &mut Option<Instant>,
        token: Option<&str>,
    ) -> std::result::Result<bool, End> {
        let s = self.s.clone();
        for _ in 0..READ_BUDGET {
            if self.delivery.blocked() {
                return Ok(true);
            }
            let msg = match ws.read() {
                Ok(m) => m,
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    return Ok(false)
                }
                Err(e) => return Err(self.read_error(ws, e)),
            };
            let now = SystemTime::now();
            let mut ctx = Ctx {
                s: &s,
                counters: &self.counters,
                history: &self.history,
                delivery: &mut self.delivery,
                replies,
                latency: None,
                now,
                epoch: self.epoch,
                signals,
                token,
            };
            match msg {
                WsMessage::Text(t) => {
                    ctx.counters.messages.fetch_add(1, Ordering::Relaxed);
                    self.dialect.on_text(t, &mut ctx);
                }
                WsMessage::Binary(b) => {
                    ctx.counters.messages.fetch_add(1, Ordering::Relaxed);
                    self.dialect.on_binary(b, &mut ctx);
                }
                WsMessage::Pong(_) => {
                    if let Some(sent) = ping_sent.take() {
                        ctx.latency = Some(sent.elapsed());
                    }
                }
                WsMessage::Ping(_) => {
                    // tungstenite queued the pong; it goes out with the next flush.
                    let _ = ws.flush();
                }
                WsMessage::Close(frame) => {
                    let _ = ws.flush();
                    let (code, reason) = match frame {
                        Some(f) => (u16::from(f.code), f.reason.to_string()),
                        None => (1005, String::new()),
                    };
                    return Err(End::ServerClose { code, reason });
                }
                WsMessage::Frame(_) => {}
            }
            if let Some(l) = ctx.latency {
                self.counters.set_latency(l);
            }
            if !signals.is_empty() {
                return Ok(true);
            }
        }
        Ok(true)
    }

    fn read_error(&mut self, ws: &mut WebSocket<Metered>, e: tungstenite::Error) -> End {
        use tungstenite::error::CapacityError;
        let (kind, code, message) = match e {
            tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
                return End::Broken("the connection was closed".into())
            }
            tungstenite::Error::Io(e) => return End::Broken(format!("the connection was lost: {e}")),
            tungstenite::Error::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => {
                return End::Broken("the server closed the TCP connection without a close frame".into())
            }
            tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
                ErrorKind::MessageTooLarge,
                1009,
                format!(
                    "the server sent a message of {size} bytes, over max_message_size ({max_size} bytes); the connection was closed with 1009 (raise max_message_size if such messages are expected)"
                ),
            ),
            tungstenite::Error::Capacity(c) => (ErrorKind::MessageTooLarge, 1009, format!("the server exceeded a size limit: {c}")),
            tungstenite::Error::Utf8(detail) => (
                ErrorKind::InvalidUtf8,
                1007,
                format!("the server sent a text frame that is not valid UTF-8 ({detail}); the connection was closed with 1007"),
            ),
            tungstenite::Error::Protocol(p) => (
                ErrorKind::Protocol,
                1002,
                format!("the server violated the WebSocket protocol ({p}); the connection was closed with 1002"),
            ),
            other => return End::Broken(format!("read failed: {other}")),
        };
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        log::warn!("tradewire: {message}");
        self.delivery.push(Event::Error(ErrorEvent::new(
            kind,
            message.clone(),
            None,
            self.epoch,
        )));
        let reason = match code {
            1009 => "message too big",
            1007 => "invalid UTF-8",
            _ => "protocol error",
        };
        let _ = ws.close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        }));
        let _ = ws.flush();
        End::Violation { code, message }
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
            Ok(Command::Reconnect) => return Some(Interrupt::Reconnect),
            Err(TryRecvError::Empty) => return None,
        }
    }
}

/// Writes one frame and flushes what the socket takes. The error's flag says whether the
/// connection is broken.
fn write(
    ws: &mut WebSocket<Metered>,
    frame: Outgoing,
    want_write: &mut bool,
) -> std::result::Result<(), (Error, bool)> {
    let msg = match frame {
        Outgoing::Text(t) => WsMessage::Text(t.into()),
        Outgoing::Binary(b) => WsMessage::Binary(b.into()),
    };
    let would_block = |e: &tungstenite::Error| matches!(e, tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock);
    match ws.write(msg) {
        Ok(()) => {}
        Err(e) if would_block(&e) => {
            *want_write = true;
            return Ok(());
        }
        Err(tungstenite::Error::WriteBufferFull(_)) => {
            return Err((
                Error::Io(
                    "the send buffer is full (max_write_buffer): the server is not reading; the message was not sent".into(),
                ),
                false,
            ))
        }
        Err(tungstenite::Error::Capacity(c)) => {
            return Err((Error::Usage(format!("the message is too large to send: {c}")), false))
        }
        Err(e) => {
            return Err((Error::NotConnected(format!("the connection broke while sending ({e}); the message was not sent")), true))
        }
    }
    match ws.flush() {
        Ok(()) => {
            *want_write = false;
            Ok(())
        }
        Err(e) if would_block(&e) => {
            *want_write = true;
            Ok(())
        }
        Err(e) => Err((
            Error::NotConnected(format!(
                "the connection broke while sending ({e}); the message may or may not have reached the server"
            )),
            true,
        )),
    }
}

/// Sends a close frame and waits briefly for the server's answer.
fn close_gracefully(ws: &mut WebSocket<Metered>, reactor: &mut Reactor, code: u16, reason: &str) {
    if ws
        .close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_string().into(),
        }))
        .is_err()
    {
        return;
    }
    let deadline = Instant::now() + CLOSE_GRACE;
    loop {
        match ws.flush() {
            Ok(()) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
        loop {
            match ws.read() {
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    break
                }
                Err(_) => return,
            }
        }
        if Instant::now() >= deadline {
            return;
        }
        let _ = ws.get_ref().socket().want(true, false);
        if reactor.wait(Some(deadline)).is_err() {
            return;
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
