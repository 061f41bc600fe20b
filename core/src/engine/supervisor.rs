//! The I/O thread's loop: log in, connect, run the live connection, back off, again; and
//! waiting without a connection (commands honoured, the event channel drained).

use super::commands::offline_commands;
use super::reconnect::{describe, fatal_close};
use super::*;
use crate::error::ConnectReason;

/// How recently delivery must have been blocked for a connection's end to be blamed on the
/// application being behind.
const BEHIND_WINDOW: Duration = Duration::from_secs(2);

impl Engine {
    /// Runs until `close()`.
    pub fn run(mut self) {
        loop {
            let next = match self.begin() {
                Ok(ws) => {
                    // The engine moves into the live session (it may be lent to a thread
                    // waiting in `recv`) and comes back when the connection ends.
                    let since = Instant::now();
                    let (engine, end) = super::session::live(self, ws);
                    self = engine;
                    self.finish(end.sanitized(), since)
                }
                Err(next) => next,
            };
            match next {
                Next::Stop => break,
                Next::Again => continue,
                Next::Retry(last_error) => {
                    // The connection is gone or never came: schedule the next attempt.
                    let s = self.s.clone();
                    match self.schedule_retry(&s, &last_error) {
                        Some(Interrupt::Close) => break,
                        Some(Interrupt::Disconnect { done }) => {
                            if let Next::Stop = self.stay_disconnected(done) {
                                break;
                            }
                        }
                        Some(Interrupt::Reconnect) | None => {}
                    }
                }
            }
        }
        if let Some(login) = &mut self.login {
            login.cancel();
        }
        self.fail_pending("the client was closed");
        self.counters.set_state(State::Closed);
        self.delivery.flush();
        if self.delivery.has_pending() {
            tw_warn!("tradewire: the client closed while the application was not reading; undelivered events were discarded");
        }
    }

    /// The start of one attempt: a token if the preset needs one, then a connection, announced.
    /// `Err`: what to do instead (the attempt failed or was interrupted).
    pub(super) fn begin(&mut self) -> std::result::Result<WebSocket<Metered>, Next> {
        self.counters.set_state(State::Connecting);
        match self.ensure_login() {
            LoginOutcome::Ready => {}
            LoginOutcome::Interrupted(i) => return Err(self.interrupted(i)),
            LoginOutcome::Fatal(message) => {
                self.record_failure(&message, Some(ConnectReason::Auth));
                return Err(self.fatal(ErrorKind::Auth, message));
            }
            LoginOutcome::Retry(message, reason) => {
                self.record_failure(&message, reason);
                return Err(Next::Retry(message));
            }
        }
        let mut ws = self.connect_once()?;
        self.announce_connection();
        if let Some(r) = &self.recorder {
            ws.get_mut().tap = Some(r.open(self.epoch, &self.s.redacted_url));
        }
        Ok(ws)
    }

    /// The end of one attempt: the connection that went live at `since` ended with `end`.
    fn finish(&mut self, end: End, since: Instant) -> Next {
        let was_live = self.counters.authenticated.swap(false, Ordering::Relaxed);
        if !was_live && ended_by_the_connection(&end) {
            // Connected but never logged in: for `wait_live`, this attempt failed.
            let (_, reason, _) = describe(&end, &self.s);
            self.record_failure(
                &format!("the connection ended before the login completed: {reason}"),
                None,
            );
        }
        if since.elapsed() >= self.s.min_uptime {
            self.reset_attempts();
        }
        self.after_connection(end)
    }

    /// One connection attempt (DNS, TCP, TLS, WebSocket handshake), commands honoured;
    /// what to do next when it failed.
    fn connect_once(&mut self) -> std::result::Result<WebSocket<Metered>, Next> {
        let s = self.s.clone();
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
        match attempt {
            Ok(ws) => Ok(ws),
            Err(Failure::Interrupted(i)) => Err(self.interrupted(i)),
            Err(Failure::Failed {
                message,
                fatal,
                reason,
            }) => {
                tw_warn!("tradewire: {message}");
                self.record_failure(&message, reason);
                if !fatal {
                    return Err(Next::Retry(message));
                }
                let kind = if reason == Some(ConnectReason::Auth) {
                    ErrorKind::Auth
                } else {
                    ErrorKind::Connect
                };
                Err(self.fatal(kind, message))
            }
        }
    }

    /// A new connection: the next epoch, the state (connected before the event says so,
    /// so that an application reacting to `Connected` sees it in status()), the event.
    fn announce_connection(&mut self) {
        self.epoch += 1;
        if let Some(check) = self.s.sequence {
            self.sequencer.new_connection(check.scope);
        }
        self.counters.epoch.store(self.epoch, Ordering::Relaxed);
        if self.epoch > 1 {
            self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        tw_info!(
            "tradewire: connected to {} (connection {})",
            self.s.redacted_url,
            self.epoch
        );
        let live = !self.dialect.needs_auth();
        self.counters.authenticated.store(live, Ordering::Relaxed);
        self.counters.set_state(if live {
            State::Live
        } else {
            State::Authenticating
        });
        let url = self.s.redacted_url.clone();
        self.emit(Event::Connected {
            epoch: self.epoch,
            url,
        });
    }

    /// How far behind the application is, in seconds, if the client applied back-pressure
    /// lately (delivery blocked now or within [`BEHIND_WINDOW`]): the longer of the latest
    /// `consumer_lag` and the wait of the oldest message not yet in the queue.
    fn behind(&self) -> Option<f64> {
        let now = Instant::now();
        if !self.delivery.blocked() && !self.counters.blocked_within(now, BEHIND_WINDOW) {
            return None;
        }
        let waiting = self.delivery.oldest_waiting().map(|read| {
            SystemTime::now()
                .duration_since(read)
                .unwrap_or_default()
                .as_secs_f64()
        });
        let taken = self.counters.snapshot().consumer_lag;
        Some(waiting.into_iter().chain(taken).fold(0.0, f64::max))
    }

    /// Reports how a connection ended and decides what follows (the reconnect policy).
    fn after_connection(&mut self, end: End) -> Next {
        let s = self.s.clone();
        let (code, mut reason, error) = describe(&end, &s);
        if matches!(end, End::ServerClose { .. } | End::Broken(_)) {
            if let Some(behind) = self.behind() {
                reason.push_str(&super::reconnect::behind_note(behind));
                tw_warn!("tradewire: the server ended connection {} while the application was {behind:.1} s behind", self.epoch);
            }
        }
        tw_info!("tradewire: connection {} ended: {reason}", self.epoch);
        if let Some(r) = &self.recorder {
            let (how, code, why) = recorded_end(&end, code, &reason);
            r.end(self.epoch, how, code, why);
        }
        self.emit(Event::Disconnected {
            epoch: self.epoch,
            code,
            reason: reason.clone(),
            error,
            by_client: matches!(end, End::Close | End::Reconnect | End::Disconnect { .. }),
        });
        match end {
            End::Close => Next::Stop,
            End::Reconnect => self.interrupted(Interrupt::Reconnect),
            End::Disconnect { done, .. } => self.stay_disconnected(done),
            End::AuthRejected(message) => {
                self.record_failure(&message, Some(ConnectReason::Auth));
                self.emit_error(ErrorKind::Auth, &message);
                // The credential was refused: the next attempt asks for a new one, if one
                // can be had.
                if !self.login.as_mut().is_some_and(|l| l.refused()) {
                    return self.give_up_then(message);
                }
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
    pub(super) fn interrupted(&mut self, i: Interrupt) -> Next {
        match i {
            Interrupt::Close => Next::Stop,
            Interrupt::Reconnect => {
                self.reset_attempts();
                Next::Again
            }
            Interrupt::Disconnect { done } => self.stay_disconnected(done),
        }
    }

    /// After `disconnect()`: no connection and no reconnecting, commands honoured, until
    /// `start()`/`reconnect()` (connect again, attempts from zero) or `close()`. `done` is
    /// answered once the state says so. The event stream goes on: the next connection's
    /// events follow on it.
    pub(super) fn stay_disconnected(&mut self, done: Sender<()>) -> Next {
        self.reset_attempts();
        self.counters.set_state(State::Disconnected);
        tw_info!("tradewire: disconnected on request; not reconnecting until asked");
        let _ = done.send(());
        loop {
            match self.idle(
                None,
                "disconnected (disconnect()); call connect() to connect again",
            ) {
                Some(Interrupt::Disconnect { done }) => {
                    let _ = done.send(());
                }
                Some(Interrupt::Reconnect) => return Next::Again,
                Some(Interrupt::Close) | None => return Next::Stop,
            }
        }
    }

    /// Records a failed attempt (connect or login) for `wait_live`, before anything that
    /// follows it (backoff, giving up) changes the state.
    fn record_failure(&self, message: &str, reason: Option<ConnectReason>) {
        self.counters
            .record_failure(Error::attempt_failed(message.to_string(), reason));
    }

    /// Reports a failure that retrying cannot fix, then gives up.
    pub(super) fn fatal(&mut self, kind: ErrorKind, message: String) -> Next {
        self.emit_error(kind, &message);
        self.give_up_then(message)
    }

    /// Gives up and waits; then stops or starts again as the application says.
    pub(super) fn give_up_then(&mut self, reason: String) -> Next {
        match self.give_up(reason) {
            Interrupt::Close => Next::Stop,
            Interrupt::Reconnect => Next::Again,
            Interrupt::Disconnect { done } => self.stay_disconnected(done),
        }
    }

    /// Makes sure the login credential is at hand before connecting, waiting (commands
    /// honoured) while it is being obtained.
    pub(super) fn ensure_login(&mut self) -> LoginOutcome {
        loop {
            let Some(login) = self.login.as_mut() else {
                return LoginOutcome::Ready;
            };
            match login.poll_ready() {
                Readiness::Ready => return LoginOutcome::Ready,
                Readiness::Fatal(m) => return LoginOutcome::Fatal(m),
                Readiness::Retry(m, reason) => return LoginOutcome::Retry(m, reason),
                Readiness::Waiting => self.counters.set_state(State::Authenticating),
            }
            if let Some(i) = offline_commands(&self.cmds, &mut self.delivery, "logging in") {
                return LoginOutcome::Interrupted(i);
            }
            self.offline_wait(None);
        }
    }

    /// Waits without a connection until `deadline` (or forever), handling commands.
    pub(super) fn idle(&mut self, deadline: Option<Instant>, state: &str) -> Option<Interrupt> {
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
    pub(super) fn offline_wait(&mut self, deadline: Option<Instant>) {
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

/// How a connection's end is recorded: the server's own close code and reason, a dropped
/// socket, a silent server, or the client's doing (`code` and `reason` as reported). Pure.
fn recorded_end<'a>(
    end: &'a End,
    code: Option<u16>,
    reason: &'a str,
) -> (crate::record::format::How, u16, &'a str) {
    use crate::record::format::How;
    match end {
        End::ServerClose { code, reason } => (How::Close, *code, reason),
        End::Broken(_) => (How::Dropped, 1006, ""),
        End::Dead { .. } => (How::Silent, code.unwrap_or(1006), reason),
        End::Violation { code, .. } => (How::Violation, *code, reason),
        _ => (How::Client, code.unwrap_or(1005), reason),
    }
}

/// The connection itself ended (not the client, and not a refused login, which is
/// recorded as such). Pure.
fn ended_by_the_connection(end: &End) -> bool {
    !matches!(
        end,
        End::Close | End::Reconnect | End::Disconnect { .. } | End::AuthRejected(_)
    )
}
