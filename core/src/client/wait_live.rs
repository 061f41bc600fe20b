//! `wait_live`: blocking until the connection is live, or until an attempt says why not.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Client, NOT_STARTED};
use crate::error::{ConnectReason, Error, ErrorCategory, Result};
use crate::status::{Failures, State};

impl Client {
    /// Waits until the connection is live — connected, and for presets that log in
    /// (Tradovate) logged in — and returns `Ok(())`; returns at once when it already is.
    ///
    /// When a connection attempt fails before that, returns that attempt's error, with a
    /// [reason](Error::reason) to branch on: `connection_refused`, `timed_out` (the attempt
    /// ran out of `connect_timeout`), `dns`, `tls`, `handshake` (an HTTP status other than
    /// 101, or a malformed answer) or `auth` (category `Auth`: HTTP 401/403, a rejected
    /// token request or login); the category is `Connect` otherwise. The client goes on
    /// reconnecting in the background as always (unless the failure is fatal: then it gives
    /// up, as the `GaveUp` event says), so calling `wait_live` again waits for the next
    /// attempt. Which failure is returned: the first one that happens while this call waits,
    /// or an earlier one that no `wait_live` has returned yet (so `start()` then
    /// `wait_live()` reports the first attempt's failure even if it came before the call),
    /// but never one older than the latest live connection or the latest
    /// `reconnect()`/`resume()`.
    ///
    /// Other outcomes:
    /// - `timeout` passes first: category `Timeout` with reason `timed_out`;
    /// - never started: a `Usage` error (nothing would ever connect; call `start()` first);
    /// - closed, before or during the wait: `Closed`;
    /// - gave up (the `GaveUp` event) with no unreported failure: `Closed`, with the reason
    ///   of the last failure (call `reconnect()` to try again);
    /// - stopped by [`Client::disconnect`]: `NotConnected`.
    ///
    /// Waits on a condition variable notified by every state change: no polling.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use tradewire::{Client, Config, ConnectReason};
    ///
    /// let client = Client::connect(Config::new("ws://localhost:8765"))?;
    /// match client.wait_live(Duration::from_secs(10)) {
    ///     Ok(()) => log::info!("live"),
    ///     Err(e) if e.reason() == Some(ConnectReason::ConnectionRefused) => {
    ///         log::warn!("the server is not up yet; still trying: {e}")
    ///     }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok::<(), tradewire::Error>(())
    /// ```
    pub fn wait_live(&self, timeout: Duration) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::closed());
        }
        if !self.started.load(Ordering::Acquire) {
            return Err(Error::usage(NOT_STARTED.into()));
        }
        let deadline = Instant::now().checked_add(timeout);
        let mut failures = self.counters.failures();
        let since = failures.seq;
        loop {
            match verdict(self.counters.state(), &failures, since) {
                Verdict::Live => return Ok(()),
                Verdict::Failed(e) => {
                    failures.reported = true;
                    return Err(e);
                }
                Verdict::Wait => {}
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(not_live_in(self.counters.state()));
            }
            // A timeout too far to represent waits a day at a time.
            let until = deadline.unwrap_or(now + Duration::from_secs(86_400));
            failures = self.counters.wait_change(failures, until);
        }
    }
}

/// What `wait_live` does now.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Return `Ok`.
    Live,
    /// Return this error.
    Failed(Error),
    /// Wait for the next change.
    Wait,
}

/// What `wait_live` does in `state`, given the failures, `since` being the number of the
/// latest failure when it began waiting. Pure.
fn verdict(state: State, failures: &Failures, since: u64) -> Verdict {
    match state {
        State::Live => return Verdict::Live,
        State::Closed => return Verdict::Failed(Error::closed()),
        State::Disconnected => {
            return Verdict::Failed(Error::not_connected(
                "the client was stopped by disconnect() and is not reconnecting; call connect() (Rust: resume(); C: tw_client_start) first".into(),
            ))
        }
        _ => {}
    }
    if let Some(last) = &failures.last {
        if failures.seq > since || !failures.reported {
            return Verdict::Failed(last.clone());
        }
    }
    match state {
        State::GaveUp => {
            let last = failures.last.as_ref();
            let why = last.map(|e| format!(": {e}")).unwrap_or_default();
            Verdict::Failed(
                Error::new(
                    ErrorCategory::Closed,
                    format!("the client gave up (see the 'gave_up' event){why}; call reconnect() to try again"),
                )
                .with_reason(last.and_then(Error::reason)),
            )
        }
        _ => Verdict::Wait,
    }
}

/// The error of a `wait_live` that ran out of time in `state`. It does not quote the
/// timeout: a binding that waits in slices (to see Ctrl-C) raises the last slice's error.
fn not_live_in(state: State) -> Error {
    Error::timeout(format!(
        "the connection was not live before the timeout (state: {}); the client keeps trying in the background",
        state.name()
    ))
    .with_reason(Some(ConnectReason::TimedOut))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(seq: u64, reported: bool, reason: ConnectReason) -> Failures {
        Failures {
            seq,
            last: Some(Error::attempt_failed("m".into(), Some(reason))),
            reported,
        }
    }

    #[test]
    fn live_wins_and_closed_or_disconnected_end_the_wait() {
        let f = failed(1, false, ConnectReason::Dns);
        assert_eq!(verdict(State::Live, &f, 0), Verdict::Live);
        let Verdict::Failed(e) = verdict(State::Closed, &f, 0) else {
            panic!()
        };
        assert_eq!(e.kind(), ErrorCategory::Closed);
        let Verdict::Failed(e) = verdict(State::Disconnected, &Failures::default(), 0) else {
            panic!()
        };
        assert_eq!(e.kind(), ErrorCategory::NotConnected);
    }

    #[test]
    fn a_failure_is_returned_once_unless_it_happens_during_the_wait() {
        let none = Failures::default();
        for s in [
            State::Idle,
            State::Connecting,
            State::Authenticating,
            State::Backoff,
            State::Closing,
        ] {
            assert_eq!(verdict(s, &none, 0), Verdict::Wait, "{s:?}");
        }
        // Not reported yet (it came before the call): returned.
        let f = failed(1, false, ConnectReason::ConnectionRefused);
        let Verdict::Failed(e) = verdict(State::Backoff, &f, 1) else {
            panic!()
        };
        assert_eq!(e.reason(), Some(ConnectReason::ConnectionRefused));
        // Reported already and not newer than the call: wait for the next attempt.
        let f = failed(1, true, ConnectReason::ConnectionRefused);
        assert_eq!(verdict(State::Backoff, &f, 1), Verdict::Wait);
        // Reported by another waiter, but newer than this call: returned here too.
        let f = failed(2, true, ConnectReason::Tls);
        assert!(matches!(
            verdict(State::Connecting, &f, 1),
            Verdict::Failed(_)
        ));
    }

    #[test]
    fn giving_up_keeps_the_reason_of_the_last_failure() {
        let f = failed(3, true, ConnectReason::Auth);
        let Verdict::Failed(e) = verdict(State::GaveUp, &f, 3) else {
            panic!()
        };
        assert_eq!(e.kind(), ErrorCategory::Closed);
        assert_eq!(e.reason(), Some(ConnectReason::Auth));
        assert!(e.to_string().contains("gave up"), "{e}");
        let Verdict::Failed(e) = verdict(State::GaveUp, &Failures::default(), 0) else {
            panic!()
        };
        assert_eq!(e.reason(), None);
    }

    #[test]
    fn running_out_of_time_is_a_timeout_with_reason_timed_out() {
        let e = not_live_in(State::Backoff);
        assert_eq!(e.kind(), ErrorCategory::Timeout);
        assert_eq!(e.reason(), Some(ConnectReason::TimedOut));
        assert!(e.to_string().contains("backoff"), "{e}");
    }
}
