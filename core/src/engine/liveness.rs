//! Liveness of a live connection: any frame from the server proves it alive; silence for
//! `heartbeat_timeout` means it is dead (closed with 4000 for presets with a login, as the
//! Tradovate reference does, 1001 otherwise); heartbeats go out every `heartbeat_interval`
//! (a WebSocket ping carrying its send time, so that each pong is timed against the ping it
//! answers, however late; or the dialect's own heartbeat text); and the turn's next deadline
//! is the earliest of every timer.

use super::session::Conn;
use super::*;

/// The close code and reason for a connection found dead by silence. Pure.
pub(super) fn silence_close(needs_auth: bool) -> (u16, &'static str) {
    if needs_auth {
        (4000, "Server timeout - no heartbeat response")
    } else {
        (1001, "heartbeat timeout")
    }
}

/// The payload of a ping sent `sent` after the client's origin: its send time, in
/// microseconds of the monotonic clock, 8 bytes big-endian. Pure.
pub(super) fn ping_payload(sent: Duration) -> [u8; 8] {
    u64::try_from(sent.as_micros())
        .unwrap_or(u64::MAX)
        .to_be_bytes()
}

/// The round trip of the ping a pong with `payload` answers, `now` after the client's
/// origin; `None` for a pong that answers no ping of ours (another payload, or a time still
/// to come). Pure.
pub(super) fn round_trip(payload: &[u8], now: Duration) -> Option<Duration> {
    let sent = Duration::from_micros(u64::from_be_bytes(payload.try_into().ok()?));
    now.checked_sub(sent)
}

/// When the turn must run again at the latest: the silence deadline, the next heartbeat when
/// one is due, any other timer, and soon when events wait for room. Pure.
pub(super) fn next_deadline(
    silence_deadline: Instant,
    next_ping: Option<Instant>,
    others: impl IntoIterator<Item = Instant>,
    retry_delivery: Option<Instant>,
) -> Instant {
    others
        .into_iter()
        .chain(next_ping)
        .chain(retry_delivery)
        .fold(silence_deadline, Instant::min)
}

impl Engine {
    /// The turn's timers: notices silence (the connection is dead), sends the heartbeat when
    /// due, flushes what waits to be written, expires requests nobody waits for, lets the
    /// login renew its credential. Returns whether more may be read at once, and when the
    /// next timer is due.
    #[inline(always)]
    pub(super) fn keep_time(&mut self, c: &mut Conn) -> std::result::Result<(bool, Instant), End> {
        let Conn {
            ws,
            want_write,
            live,
            needs_auth,
            seen,
            last_rx,
            next_ping,
            readable,
            ..
        } = c;
        let s = &*self.s;
        let now = Instant::now();
        let total = ws.get_ref().read_total;
        if total != *seen {
            *seen = total;
            *last_rx = now;
            self.counters.mark_rx(now);
        } else if self.delivery.blocked() && ws.get_ref().has_unread_bytes() {
            // Not reading because the application is behind; bytes waiting prove the server lives.
            *last_rx = now;
        }
        if self.delivery.blocked() {
            self.counters.mark_blocked(now);
        }
        let silence = now.saturating_duration_since(*last_rx);
        if silence >= s.heartbeat_timeout {
            let (code, reason) = silence_close(*needs_auth);
            let _ = ws.close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            }));
            let _ = ws.flush();
            return Err(End::Dead { silence });
        }
        let heartbeat_due = s.ws_ping || (*live && self.dialect.heartbeat().is_some());
        if heartbeat_due && now >= *next_ping {
            let msg = match self.dialect.heartbeat() {
                Some(text) if !s.ws_ping => WsMessage::Text(text.into()),
                _ => WsMessage::Ping(Bytes::from(
                    ping_payload(now.saturating_duration_since(self.counters.origin)).to_vec(),
                )),
            };
            match ws.write(msg) {
                Ok(()) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(End::Broken(format!("could not send a heartbeat: {e}"))),
            }
            *want_write = true;
            *next_ping = now + s.heartbeat_interval;
        }
        if *want_write {
            match ws.flush() {
                Ok(()) => *want_write = false,
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(End::Broken(format!("write failed: {e}"))),
            }
        }
        // Requests whose caller stopped waiting: a late answer becomes an event.
        let next_expiry = expire(&mut self.pending, now)
            .into_iter()
            .chain(expire(&mut self.awaiting, now))
            .min();
        let renew_at = self.login.as_mut().and_then(|l| l.tend());

        let more = *readable && !self.delivery.blocked();
        let deadline = next_deadline(
            *last_rx + s.heartbeat_timeout,
            heartbeat_due.then_some(*next_ping),
            [next_expiry, renew_at].into_iter().flatten(),
            self.delivery.has_pending().then(|| now + DELIVERY_RETRY),
        );
        Ok((more, deadline))
    }
}

/// Forgets the requests whose caller stopped waiting; when the next one of the rest expires.
fn expire<K>(
    requests: &mut std::collections::HashMap<K, Pending>,
    now: Instant,
) -> Option<Instant> {
    if requests.is_empty() {
        return None;
    }
    requests.retain(|_, p| p.deadline > now);
    requests.values().map(|p| p.deadline).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_connection_is_closed_with_the_presets_code() {
        assert_eq!(silence_close(true).0, 4000);
        assert_eq!(silence_close(false), (1001, "heartbeat timeout"));
    }

    #[test]
    fn a_pong_is_timed_against_the_ping_it_answers() {
        let sent = Duration::from_millis(1_000);
        let p = ping_payload(sent);
        // A later ping went out meanwhile: this pong still answers the first one.
        assert_eq!(
            round_trip(&p, Duration::from_millis(3_500)),
            Some(Duration::from_millis(2_500))
        );
        assert_eq!(round_trip(b"", Duration::from_secs(9)), None);
        assert_eq!(round_trip(b"hello", Duration::from_secs(9)), None);
        assert_eq!(
            round_trip(
                &ping_payload(Duration::from_secs(10)),
                Duration::from_secs(9)
            ),
            None
        );
    }

    #[test]
    fn the_next_deadline_is_the_earliest_timer() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        assert_eq!(next_deadline(at(100), None, [], None), at(100));
        assert_eq!(next_deadline(at(100), Some(at(40)), [], None), at(40));
        assert_eq!(
            next_deadline(at(100), Some(at(40)), [at(70), at(30)], None),
            at(30)
        );
        assert_eq!(next_deadline(at(100), None, [at(70)], Some(at(2))), at(2));
    }
}
