//! The reconnect policy: which ends of a connection are fatal, how long to wait before the
//! next attempt, when to give up; and giving up (wait for `reconnect()` or `close()`).

use super::*;

impl Engine {
    /// After a failure: gives up (reconnect disabled, attempts exhausted) or waits the backoff
    /// delay. `Some(Close)` means stop; `Some(Reconnect)`/`None` mean try again.
    pub(super) fn schedule_retry(&mut self, s: &Settings, last_error: &str) -> Option<Interrupt> {
        let attempt = self.attempt + 1;
        if let Some(why) =
            give_up_before(s.reconnect, attempt, s.max_reconnect_attempts, last_error)
        {
            if s.reconnect {
                self.attempt = attempt;
                self.counters.attempts.store(attempt, Ordering::Relaxed);
            }
            return Some(self.give_up(why));
        }
        self.attempt = attempt;
        self.counters
            .attempts
            .store(self.attempt, Ordering::Relaxed);
        let random = self.jitter.next_f64();
        let delay = match s.first_connect_retry.filter(|_| self.epoch == 0) {
            // Never connected yet: the preset's retry (document 002: every 5 s).
            Some(every) => s.backoff.fixed(every, random),
            None => s.backoff.delay(self.attempt - 1, random),
        };
        tw_info!(
            "tradewire: reconnecting in {:.1} s (attempt {}): {last_error}",
            delay.as_secs_f64(),
            self.attempt
        );
        self.counters.set_state(State::Backoff);
        self.emit(Event::Reconnecting {
            attempt: self.attempt,
            delay,
            reason: last_error.to_string(),
        });
        match self.idle(Some(Instant::now() + delay), "waiting to reconnect") {
            Some(Interrupt::Close) => Some(Interrupt::Close),
            Some(Interrupt::Reconnect) => {
                self.reset_attempts();
                Some(Interrupt::Reconnect)
            }
            Some(Interrupt::Disconnect { done }) => Some(Interrupt::Disconnect { done }),
            None => None,
        }
    }

    /// Emits `GaveUp` and waits for `reconnect()` or `close()`.
    pub(super) fn give_up(&mut self, reason: String) -> Interrupt {
        tw_warn!("tradewire: gave up: {reason}");
        // The state first: an application reacting to `GaveUp` sees it in status().
        self.counters.set_state(State::GaveUp);
        self.emit(Event::GaveUp { reason });
        // The stream ends here: receivers see its end once they have taken the queued events.
        self.delivery.end_stream();
        match self.idle(None, "stopped (gave up); call reconnect() to try again") {
            Some(Interrupt::Reconnect) => {
                self.reset_attempts();
                Interrupt::Reconnect
            }
            Some(Interrupt::Disconnect { done }) => Interrupt::Disconnect { done },
            Some(Interrupt::Close) | None => Interrupt::Close,
        }
    }

    pub(super) fn reset_attempts(&mut self) {
        self.attempt = 0;
        self.counters.attempts.store(0, Ordering::Relaxed);
    }
}

/// Why the client gives up before attempt number `attempt` (from 1), if it does: reconnect
/// is disabled, or `max_attempts` are spent. Pure.
pub(super) fn give_up_before(
    reconnect: bool,
    attempt: u32,
    max_attempts: Option<u32>,
    last_error: &str,
) -> Option<String> {
    if !reconnect {
        return Some(format!("reconnect is disabled; {last_error}"));
    }
    match max_attempts {
        Some(max) if attempt > max => Some(format!(
            "gave up after {max} reconnect attempt{}; last error: {last_error}",
            if max == 1 { "" } else { "s" }
        )),
        _ => None,
    }
}

/// The code reported for a connection that ended without a close frame (RFC 6455 §7.1.5).
const ABNORMAL: u16 = 1006;

/// The close code, reason and error of a `Disconnected` event.
pub(super) fn describe(end: &End, s: &Settings) -> (Option<u16>, String, Option<String>) {
    match end {
        End::Close => (Some(1000), "closed by the client".into(), None),
        End::Reconnect => (Some(1000), "reconnect requested".into(), None),
        End::Disconnect { code, reason, .. } => {
            let shown = if reason.is_empty() {
                "disconnected by the client".to_string()
            } else {
                reason.clone()
            };
            (Some(*code), shown, None)
        }
        End::ServerClose { code, reason } => (Some(*code), reason.clone(), None),
        End::Dead { silence } => {
            let m = format!(
                "no data from the server for {:.1} s (heartbeat_timeout {:.1} s): the connection is dead",
                silence.as_secs_f64(),
                s.heartbeat_timeout.as_secs_f64()
            );
            (Some(ABNORMAL), m.clone(), Some(m))
        }
        End::Broken(e) => (Some(ABNORMAL), "connection lost".into(), Some(s.scrub(e))),
        End::Violation { code, message } => (Some(*code), message.clone(), Some(message.clone())),
        // Closed by us with 1000 "login refused" (see `act`).
        End::AuthRejected(m) => (Some(1000), "login refused".into(), Some(m.clone())),
        End::Shutdown(m) => (Some(1000), m.clone(), None),
    }
}

/// What a `Disconnected` reason adds when the server ended a connection while the client
/// applied back-pressure (the queue was full under `block`, so the socket was not read):
/// how far behind the application was, the likely cause and the remedies. Pure.
pub(super) fn behind_note(behind: f64) -> String {
    format!(
        "; the application was {behind:.1} s behind (events were not taken fast enough, so the client stopped reading the socket under overflow = \"block\"): a server keepalive most likely timed out while its pings waited behind unread data; remedies: a faster consumer (recv_batch, less work per event), overflow = \"drop_oldest\", or a larger queue_capacity"
    )
}

/// Whether a close from the server stops reconnecting, and why.
pub(super) fn fatal_close(s: &Settings, code: u16, reason: &str) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_for_a_consumer_behind_names_the_lag_and_the_remedies() {
        let n = behind_note(8.25);
        assert!(
            n.contains("8.2 s behind") || n.contains("8.3 s behind"),
            "{n}"
        );
        for remedy in [
            "faster consumer",
            "drop_oldest",
            "queue_capacity",
            "keepalive",
        ] {
            assert!(n.contains(remedy), "{n}");
        }
    }

    #[test]
    fn give_up_when_disabled_or_after_the_last_attempt() {
        assert!(give_up_before(false, 1, None, "x")
            .unwrap()
            .contains("disabled"));
        assert_eq!(give_up_before(true, 10, Some(10), "x"), None);
        let why = give_up_before(true, 11, Some(10), "refused").unwrap();
        assert!(why.contains("after 10 reconnect attempts") && why.contains("refused"));
        assert!(give_up_before(true, 2, Some(1), "x")
            .unwrap()
            .contains("after 1 reconnect attempt;"));
        assert_eq!(give_up_before(true, 1_000_000, None, "x"), None);
    }

    #[test]
    fn fatal_close_codes_and_supersession() {
        let mut s = crate::Config::new("ws://h").resolve().unwrap();
        s.fatal_close_codes = vec![1008];
        assert!(fatal_close(&s, 1008, "Agent not found")
            .unwrap()
            .contains("Agent not found"));
        assert_eq!(fatal_close(&s, 1011, "busy"), None);
        s.superseded_reason = Some("New connection established".into());
        assert!(fatal_close(&s, 1000, "New connection established")
            .unwrap()
            .starts_with("superseded"));
        s.reconnect_when_superseded = true;
        assert_eq!(fatal_close(&s, 1000, "New connection established"), None);
    }
}
