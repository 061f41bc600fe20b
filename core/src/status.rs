//! The client's state and counters, readable from any thread at any time.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::Error;

/// Where the client is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Created, `start()` not called yet.
    Idle,
    /// Resolving, connecting, TLS or WebSocket handshake.
    Connecting,
    /// Connected, waiting for the login to be accepted.
    Authenticating,
    /// Connected (and logged in): messages flow.
    Live,
    /// Waiting before the next connection attempt.
    Backoff,
    /// Closed by `close()`.
    Closed,
    /// Stopped trying; `reconnect()` starts again.
    GaveUp,
    /// A close handshake is under way (the client or the server sent a close frame).
    Closing,
    /// Stopped by `disconnect()`: no connection and no reconnecting until `start()` (Python:
    /// `connect()`) or `reconnect()`; the client stays usable.
    Disconnected,
}

impl State {
    /// The state's lowercase name (`live`, `backoff`, ...).
    pub fn name(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Connecting => "connecting",
            State::Authenticating => "authenticating",
            State::Live => "live",
            State::Backoff => "backoff",
            State::Closed => "closed",
            State::GaveUp => "gave_up",
            State::Closing => "closing",
            State::Disconnected => "disconnected",
        }
    }

    /// The state as the WebSocket API's `readyState`: 0 CONNECTING (connecting, or waiting
    /// to reconnect: the client is on its way to a connection), 1 OPEN (the socket is open,
    /// logging in or live), 2 CLOSING (a close handshake is under way), 3 CLOSED (never
    /// started, disconnected, gave up, closed).
    ///
    /// ```
    /// assert_eq!(tradewire::State::Live.ready_state(), 1);
    /// assert_eq!(tradewire::State::Backoff.ready_state(), 0);
    /// ```
    pub fn ready_state(self) -> u8 {
        match self {
            State::Connecting | State::Backoff => 0,
            State::Authenticating | State::Live => 1,
            State::Closing => 2,
            State::Idle | State::Disconnected | State::GaveUp | State::Closed => 3,
        }
    }

    fn from_u8(v: u8) -> State {
        match v {
            1 => State::Connecting,
            2 => State::Authenticating,
            3 => State::Live,
            4 => State::Backoff,
            5 => State::Closed,
            6 => State::GaveUp,
            7 => State::Closing,
            8 => State::Disconnected,
            _ => State::Idle,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            State::Idle => 0,
            State::Connecting => 1,
            State::Authenticating => 2,
            State::Live => 3,
            State::Backoff => 4,
            State::Closed => 5,
            State::GaveUp => 6,
            State::Closing => 7,
            State::Disconnected => 8,
        }
    }
}

/// A snapshot of the client's state and counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// Current state.
    pub state: State,
    /// A connection is open.
    pub connected: bool,
    /// The login was accepted (or the preset has no login step and the connection is open).
    pub authenticated: bool,
    /// The client is between connections and will try again.
    pub reconnecting: bool,
    /// Failed attempts since the last stable connection.
    pub reconnect_attempts: u32,
    /// Number of the current (or last) connection.
    pub epoch: u64,
    /// Messages read from the server (before filtering).
    pub messages_received: u64,
    /// Bytes read from the server.
    pub bytes_received: u64,
    /// Events handed to the application.
    pub events_delivered: u64,
    /// Messages held back by the account or type filter.
    pub filtered: u64,
    /// Events discarded by the overflow policy.
    pub dropped: u64,
    /// Bad messages (invalid JSON, bad UTF-8, ...).
    pub errors: u64,
    /// Connections established after the first one.
    pub reconnects: u64,
    /// Time since the server last sent anything.
    pub last_message_age: Option<Duration>,
    /// Latest heartbeat latency: the round trip of the ping its pong answers (however long
    /// it took), or the age of a server heartbeat (breakout).
    pub last_heartbeat_latency: Option<Duration>,
    /// The worst of the recent heartbeat latencies (the last 16).
    pub heartbeat_latency_max: Option<Duration>,
    /// The median of the recent heartbeat latencies (the last 16).
    pub heartbeat_latency_median: Option<Duration>,
    /// When the access token in use expires (presets that obtain tokens: tradovate).
    pub token_expires_at: Option<SystemTime>,
    /// The one-way latency of the latest message that carried a server time
    /// (`time_pointer`; breakout: `/ts`): its `received_at − server_time`, in seconds.
    /// Negative when the server's clock runs ahead of ours; `None` before such a message.
    pub feed_latency: Option<f64>,
    /// Subscriptions in the live set (`subscribe`/`unsubscribe`).
    pub subscriptions: u64,
    /// Subscription frames sent again by the replays after (re)connects.
    pub subscriptions_replayed: u64,
    /// How stale the feed is: now − the server time of the latest message read, in seconds
    /// (with a `time_pointer`; breakout: `/ts`). It grows while nothing arrives. `None`
    /// before such a message.
    pub feed_lag: Option<f64>,
    /// How far behind the application is: how long the latest message taken (`recv`, a
    /// batch, a listener) waited between its read from the socket and its delivery, in
    /// seconds. `None` before the first. Events read straight from `events()` are not timed.
    pub consumer_lag: Option<f64>,
    /// Sequence checking (config `sequence`): gaps, missing messages and duplicates, in
    /// total and per stream, and the messages that passed unchecked.
    pub sequence: crate::sequence::SequenceStatus,
}

/// How many recent heartbeat latencies `status()` summarises.
pub const RECENT_LATENCIES: usize = 16;

impl Status {
    /// The status as a JSON object (durations in seconds).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "state": self.state.name(),
            "connected": self.connected,
            "authenticated": self.authenticated,
            "reconnecting": self.reconnecting,
            "reconnect_attempts": self.reconnect_attempts,
            "epoch": self.epoch,
            "messages_received": self.messages_received,
            "bytes_received": self.bytes_received,
            "events_delivered": self.events_delivered,
            "filtered": self.filtered,
            "dropped": self.dropped,
            "errors": self.errors,
            "reconnects": self.reconnects,
            "last_message_age": self.last_message_age.map(|d| d.as_secs_f64()),
            "last_heartbeat_latency": self.last_heartbeat_latency.map(|d| d.as_secs_f64()),
            "heartbeat_latency_max": self.heartbeat_latency_max.map(|d| d.as_secs_f64()),
            "heartbeat_latency_median": self.heartbeat_latency_median.map(|d| d.as_secs_f64()),
            "token_expires_at": self.token_expires_at.map(crate::time::iso8601),
            "feed_latency": self.feed_latency,
            "subscriptions": self.subscriptions,
            "subscriptions_replayed": self.subscriptions_replayed,
            "feed_lag": self.feed_lag,
            "consumer_lag": self.consumer_lag,
            "sequence": self.sequence.to_json(),
        })
    }
}

/// Shared counters, written by the I/O thread, read by `status()`.
#[derive(Debug)]
pub(crate) struct Counters {
    pub state: AtomicU8,
    pub authenticated: AtomicBool,
    pub attempts: AtomicU32,
    pub epoch: AtomicU64,
    pub messages: AtomicU64,
    pub bytes: AtomicU64,
    pub delivered: AtomicU64,
    pub filtered: AtomicU64,
    pub dropped: AtomicU64,
    pub errors: AtomicU64,
    pub reconnects: AtomicU64,
    /// Nanoseconds since `origin` of the last byte from the server (0: never).
    pub last_rx: AtomicU64,
    /// Microseconds + 1 (0: never measured).
    pub latency_us: AtomicU64,
    /// Unix milliseconds of the token's expiry (0: none).
    pub token_expiry_ms: AtomicU64,
    /// Microseconds of `received_at − server_time` of the latest message with a server
    /// time ([`NO_FEED_LATENCY`]: none yet).
    pub feed_latency_us: AtomicI64,
    /// Entries in the subscription registry.
    pub subscriptions: AtomicU64,
    /// Subscription frames sent by replays.
    pub subscriptions_replayed: AtomicU64,
    /// Unix microseconds of the server time of the latest message with one
    /// ([`NO_FEED_LATENCY`]: none yet).
    pub feed_sent_us: AtomicI64,
    /// Microseconds + 1 the latest message taken waited between read and delivery (0: none).
    pub consumer_lag_us: AtomicU64,
    /// The recent heartbeat latencies (written at each pong: rare, so a lock is fine).
    pub recent_latencies: Mutex<Recent>,
    /// Sequence checking's counts (written at a gap or a duplicate: rare, so a lock is fine).
    pub sequence: Mutex<crate::sequence::SequenceStatus>,
    /// Messages that passed sequence checking unchecked.
    pub sequence_unchecked: AtomicU64,
    /// Whether the feed lags behind `lag_warning`.
    pub feed_alarm: crate::lag::Alarm,
    /// Whether the application lags behind `lag_warning`.
    pub consumer_alarm: crate::lag::Alarm,
    /// Nanoseconds since `origin` when delivery was last seen blocked (0: never).
    pub blocked_at: AtomicU64,
    pub origin: Instant,
    /// The latest failed connection attempt, for `wait_live`; guards the state changes
    /// `changed` announces.
    failures: Mutex<Failures>,
    /// Notified on every state change and every failed attempt.
    changed: Condvar,
    /// Tradovate: what the token in use says, its secrets left out (`Client::token_info`).
    pub token_details: Mutex<Option<crate::token_details::TokenDetails>>,
}

/// The failed connection attempts, as `wait_live` needs them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Failures {
    /// Failed attempts so far (the number of the latest).
    pub seq: u64,
    /// The latest failed attempt's error.
    pub last: Option<Error>,
    /// The latest failure was returned by a `wait_live`, or a connection went live after it,
    /// or the client was asked to connect again: a later `wait_live` does not return it.
    pub reported: bool,
}

/// The last [`RECENT_LATENCIES`] heartbeat latencies, in microseconds.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    latencies: [u64; RECENT_LATENCIES],
    len: usize,
    next: usize,
}

impl Recent {
    fn push(&mut self, us: u64) {
        self.latencies[self.next] = us;
        self.next = (self.next + 1) % RECENT_LATENCIES;
        self.len = (self.len + 1).min(RECENT_LATENCIES);
    }

    /// The worst and the median (the lower middle one of an even count). Pure.
    fn summary(&self) -> Option<(Duration, Duration)> {
        let mut v = self.latencies[..self.len].to_vec();
        v.sort_unstable();
        let max = *v.last()?;
        let median = v[(v.len() - 1) / 2];
        Some((Duration::from_micros(max), Duration::from_micros(median)))
    }
}

/// `feed_latency_us` before any message carried a server time.
const NO_FEED_LATENCY: i64 = i64::MIN;

impl Default for Counters {
    fn default() -> Self {
        Counters {
            state: AtomicU8::new(0),
            authenticated: AtomicBool::new(false),
            attempts: AtomicU32::new(0),
            epoch: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            filtered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            last_rx: AtomicU64::new(0),
            latency_us: AtomicU64::new(0),
            token_expiry_ms: AtomicU64::new(0),
            feed_latency_us: AtomicI64::new(NO_FEED_LATENCY),
            subscriptions: AtomicU64::new(0),
            subscriptions_replayed: AtomicU64::new(0),
            feed_sent_us: AtomicI64::new(NO_FEED_LATENCY),
            consumer_lag_us: AtomicU64::new(0),
            recent_latencies: Mutex::new(Recent::default()),
            sequence: Mutex::default(),
            sequence_unchecked: AtomicU64::new(0),
            feed_alarm: Default::default(),
            consumer_alarm: Default::default(),
            blocked_at: AtomicU64::new(0),
            origin: Instant::now(),
            failures: Mutex::new(Failures::default()),
            changed: Condvar::new(),
            token_details: Mutex::new(None),
        }
    }
}

impl Counters {
    /// Sets the state and wakes the threads waiting for a change (`wait_live`). A
    /// connection that goes live makes the failures before it old news.
    pub fn set_state(&self, s: State) {
        if self.state.swap(s.to_u8(), Ordering::SeqCst) == s.to_u8() {
            return;
        }
        // The store happens before the lock: a waiter that saw the old state holds the lock
        // until it waits, so this notification cannot fall between its check and its wait.
        let mut f = self.failures();
        if s == State::Live {
            f.reported = true;
        }
        drop(f);
        self.changed.notify_all();
    }

    /// Records a failed connection attempt (its error says why) and wakes the waiters.
    pub fn record_failure(&self, error: Error) {
        let mut f = self.failures();
        f.seq += 1;
        f.last = Some(error);
        f.reported = false;
        drop(f);
        self.changed.notify_all();
    }

    /// Makes the latest failure old news (the client was asked to connect again).
    pub fn forget_failure(&self) {
        self.failures().reported = true;
    }

    /// The failures, locked: the state cannot change unnoticed while the guard is held
    /// (see [`Counters::wait_change`]).
    pub fn failures(&self) -> MutexGuard<'_, Failures> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits, with the guard from [`Counters::failures`], until the state changes, an
    /// attempt fails, or `deadline` passes (spurious wake-ups happen: look again).
    pub fn wait_change<'a>(
        &self,
        guard: MutexGuard<'a, Failures>,
        deadline: Instant,
    ) -> MutexGuard<'a, Failures> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.changed.wait_timeout(guard, left) {
            Ok((g, _)) => g,
            Err(p) => p.into_inner().0,
        }
    }

    pub fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::SeqCst))
    }

    pub fn mark_rx(&self, now: Instant) {
        let ns = now.saturating_duration_since(self.origin).as_nanos() as u64;
        self.last_rx.store(ns.max(1), Ordering::Relaxed);
    }

    pub fn set_latency(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX - 1);
        self.latency_us.store(us + 1, Ordering::Relaxed);
        self.recent_latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(us);
    }

    /// Records the one-way latency of a message read at `received` that the server sent at
    /// `sent` (by its clock); returns it in seconds (the feed's lag at that read).
    pub fn set_feed_latency(&self, received: SystemTime, sent: SystemTime) -> f64 {
        let us = signed_micros(received, sent);
        self.feed_latency_us.store(us, Ordering::Relaxed);
        self.feed_sent_us
            .store(signed_micros(sent, UNIX_EPOCH), Ordering::Relaxed);
        us as f64 / 1e6
    }

    /// Records how long a message read at `received` waited until it was taken at `now`;
    /// returns it in seconds.
    pub fn set_consumer_lag(&self, now: SystemTime, received: SystemTime) -> f64 {
        let us = signed_micros(now, received).max(0) as u64;
        self.consumer_lag_us.store(us + 1, Ordering::Relaxed);
        us as f64 / 1e6
    }

    /// Notes that delivery is blocked at `now` (the queue is full under `block`: the socket
    /// is not read).
    pub fn mark_blocked(&self, now: Instant) {
        let ns = now.saturating_duration_since(self.origin).as_nanos() as u64;
        self.blocked_at.store(ns.max(1), Ordering::Relaxed);
    }

    /// Whether delivery was blocked at some time in the `within` before `now`.
    pub fn blocked_within(&self, now: Instant, within: Duration) -> bool {
        match self.blocked_at.load(Ordering::Relaxed) {
            0 => false,
            ns => {
                now.saturating_duration_since(self.origin)
                    .saturating_sub(Duration::from_nanos(ns))
                    <= within
            }
        }
    }

    pub fn snapshot(&self) -> Status {
        let state = self.state();
        let rx = self.last_rx.load(Ordering::Relaxed);
        let lat = self.latency_us.load(Ordering::Relaxed);
        let live = matches!(state, State::Live | State::Authenticating);
        let recent = self
            .recent_latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .summary();
        Status {
            state,
            connected: live,
            authenticated: live && self.authenticated.load(Ordering::Relaxed),
            reconnecting: matches!(state, State::Backoff | State::Connecting)
                && self.epoch.load(Ordering::Relaxed) > 0,
            reconnect_attempts: self.attempts.load(Ordering::Relaxed),
            epoch: self.epoch.load(Ordering::Relaxed),
            messages_received: self.messages.load(Ordering::Relaxed),
            bytes_received: self.bytes.load(Ordering::Relaxed),
            events_delivered: self.delivered.load(Ordering::Relaxed),
            filtered: self.filtered.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            last_message_age: (rx > 0).then(|| {
                self.origin
                    .elapsed()
                    .saturating_sub(Duration::from_nanos(rx))
            }),
            last_heartbeat_latency: (lat > 0).then(|| Duration::from_micros(lat - 1)),
            heartbeat_latency_max: recent.map(|r| r.0),
            heartbeat_latency_median: recent.map(|r| r.1),
            token_expires_at: match self.token_expiry_ms.load(Ordering::Relaxed) {
                0 => None,
                ms => Some(UNIX_EPOCH + Duration::from_millis(ms)),
            },
            feed_latency: match self.feed_latency_us.load(Ordering::Relaxed) {
                NO_FEED_LATENCY => None,
                us => Some(us as f64 / 1e6),
            },
            subscriptions: self.subscriptions.load(Ordering::Relaxed),
            subscriptions_replayed: self.subscriptions_replayed.load(Ordering::Relaxed),
            feed_lag: match self.feed_sent_us.load(Ordering::Relaxed) {
                NO_FEED_LATENCY => None,
                sent => Some(
                    (signed_micros(SystemTime::now(), UNIX_EPOCH).saturating_sub(sent)) as f64
                        / 1e6,
                ),
            },
            consumer_lag: match self.consumer_lag_us.load(Ordering::Relaxed) {
                0 => None,
                us => Some((us - 1) as f64 / 1e6),
            },
            sequence: crate::sequence::SequenceStatus {
                unchecked: self.sequence_unchecked.load(Ordering::Relaxed),
                ..self
                    .sequence
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
            },
        }
    }
}

/// `a − b` in microseconds, negative when `b` is later, saturating (never
/// [`NO_FEED_LATENCY`]). Pure.
fn signed_micros(a: SystemTime, b: SystemTime) -> i64 {
    let (d, sign) = match a.duration_since(b) {
        Ok(d) => (d, 1),
        Err(e) => (e.duration(), -1),
    };
    let us = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
    sign * us
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_latencies_give_the_worst_and_the_median() {
        let c = Counters::default();
        assert_eq!(c.snapshot().heartbeat_latency_max, None);
        for ms in [30, 2500, 10, 20] {
            c.set_latency(Duration::from_millis(ms));
        }
        let s = c.snapshot();
        assert_eq!(s.last_heartbeat_latency, Some(Duration::from_millis(20)));
        assert_eq!(s.heartbeat_latency_max, Some(Duration::from_millis(2500)));
        assert_eq!(s.heartbeat_latency_median, Some(Duration::from_millis(20)));
        // Only the last RECENT_LATENCIES count.
        for _ in 0..RECENT_LATENCIES {
            c.set_latency(Duration::from_millis(5));
        }
        assert_eq!(
            c.snapshot().heartbeat_latency_max,
            Some(Duration::from_millis(5))
        );
        assert_eq!(c.snapshot().to_json()["heartbeat_latency_median"], 0.005);
    }

    #[test]
    fn feed_lag_is_measured_from_now_and_consumer_lag_from_the_last_delivery() {
        let c = Counters::default();
        assert_eq!(c.snapshot().feed_lag, None);
        assert_eq!(c.snapshot().consumer_lag, None);
        let now = SystemTime::now();
        let sent = now - Duration::from_secs(3);
        assert!((c.set_feed_latency(now, sent) - 3.0).abs() < 1e-9);
        let lag = c.snapshot().feed_lag.unwrap();
        assert!((3.0..3.0 + 60.0).contains(&lag), "{lag}");
        assert!((c.set_consumer_lag(now, now - Duration::from_millis(250)) - 0.25).abs() < 1e-9);
        assert_eq!(c.snapshot().consumer_lag, Some(0.25));
        // A clock that went back never makes a negative wait.
        c.set_consumer_lag(now, now + Duration::from_secs(1));
        assert_eq!(c.snapshot().to_json()["consumer_lag"], 0.0);
    }

    #[test]
    fn blocked_lately_is_remembered_for_a_while() {
        let c = Counters::default();
        let t0 = Instant::now();
        assert!(!c.blocked_within(t0, Duration::from_secs(1)));
        c.mark_blocked(t0);
        assert!(c.blocked_within(t0 + Duration::from_millis(900), Duration::from_secs(1)));
        assert!(!c.blocked_within(t0 + Duration::from_secs(2), Duration::from_secs(1)));
    }

    #[test]
    fn feed_latency_is_signed_and_absent_until_measured() {
        let c = Counters::default();
        assert_eq!(c.snapshot().feed_latency, None);
        assert_eq!(
            c.snapshot().to_json()["feed_latency"],
            serde_json::Value::Null
        );
        let sent = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        c.set_feed_latency(sent + Duration::from_millis(12), sent);
        assert_eq!(c.snapshot().feed_latency, Some(0.012));
        assert_eq!(c.snapshot().to_json()["feed_latency"], 0.012);
        // The server's clock ahead of ours.
        c.set_feed_latency(sent, sent + Duration::from_micros(1500));
        assert_eq!(c.snapshot().feed_latency, Some(-0.0015));
        // Absurd distances saturate instead of wrapping.
        assert_eq!(
            signed_micros(UNIX_EPOCH, UNIX_EPOCH + Duration::from_secs(1 << 62)),
            -i64::MAX
        );
    }
}
