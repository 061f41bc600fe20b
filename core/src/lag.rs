//! Lag awareness: which lag a warning is about, and the hysteresis that turns a lag measured
//! at every message into one `lagging` event when it crosses `lag_warning` and one
//! `caught_up` event when it falls below half of it again (never one per message).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::event::Event;
use crate::status::Counters;

/// Which lag crossed the `lag_warning` threshold (see [`crate::Event::Lagging`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lag {
    /// The feed is late: now − the server's time of the latest message read
    /// (`status().feed_lag`; only with a `time_pointer`, breakout's `/ts`).
    Feed,
    /// The application is late: how long the latest event taken waited between its read
    /// and its delivery (`status().consumer_lag`).
    Consumer,
}

impl Lag {
    /// `feed` or `consumer`.
    pub fn name(self) -> &'static str {
        match self {
            Lag::Feed => "feed",
            Lag::Consumer => "consumer",
        }
    }

    /// The lag's `status()` field: `feed_lag` or `consumer_lag`.
    pub fn status_field(self) -> &'static str {
        match self {
            Lag::Feed => "feed_lag",
            Lag::Consumer => "consumer_lag",
        }
    }
}

/// Whether a lag of `seconds` changes the state `lagging` given the `threshold`:
/// `Some(true)` when it crosses the threshold, `Some(false)` when it falls below half of it
/// while lagging, `None` otherwise. Pure.
pub(crate) fn transition(lagging: bool, seconds: f64, threshold: Duration) -> Option<bool> {
    let limit = threshold.as_secs_f64();
    if !lagging && seconds >= limit {
        Some(true)
    } else if lagging && seconds < limit / 2.0 {
        Some(false)
    } else {
        None
    }
}

/// One lag's state, shared by whoever measures it.
#[derive(Debug, Default)]
pub(crate) struct Alarm {
    lagging: AtomicBool,
}

impl Alarm {
    /// Records a lag of `seconds`; `Some(now_lagging)` when the state changed (once: the
    /// caller that wins the change reports it).
    pub fn observe(&self, seconds: f64, threshold: Duration) -> Option<bool> {
        let was = self.lagging.load(Ordering::Relaxed);
        let now = transition(was, seconds, threshold)?;
        self.lagging
            .compare_exchange(was, now, Ordering::AcqRel, Ordering::Relaxed)
            .ok()
            .map(|_| now)
    }
}

/// The event for a change found by [`Alarm::observe`], after logging it.
pub(crate) fn event(lag: Lag, lagging: bool, seconds: f64, threshold: Duration) -> crate::Event {
    if lagging {
        tw_warn!(
            "tradewire: {} is {seconds:.3} s, over lag_warning ({:.3} s)",
            lag.status_field(),
            threshold.as_secs_f64()
        );
        crate::Event::Lagging { lag, seconds }
    } else {
        tw_warn!(
            "tradewire: {} is back to {seconds:.3} s, under half of lag_warning ({:.3} s)",
            lag.status_field(),
            threshold.as_secs_f64()
        );
        crate::Event::CaughtUp { lag, seconds }
    }
}

/// Messages taken without reading the clock, at most, when they came in one socket read.
const UNTIMED_MAX: u32 = 64;

/// The application's side: times the messages it takes (`consumer_lag`) and puts a
/// `lagging` / `caught_up` event before the message that crossed the threshold. Shared by
/// every way of taking events (`recv` family, listeners).
///
/// The clock is read at the first message of each socket read (messages read together share
/// their `received_at`), and at least every [`UNTIMED_MAX`] messages: a clock read per event
/// is a visible cost on a fast feed.
pub(crate) struct Consumer {
    counters: Arc<Counters>,
    threshold: Option<Duration>,
    /// `received_at` (unix microseconds) of the last message timed.
    last_read: AtomicU64,
    untimed: AtomicU32,
    /// The message a `lagging` / `caught_up` event was put before, to be taken next.
    held: Mutex<Option<Event>>,
    has_held: AtomicBool,
}

impl Consumer {
    pub fn new(counters: Arc<Counters>, threshold: Option<Duration>) -> Consumer {
        Consumer {
            counters,
            threshold,
            last_read: AtomicU64::new(0),
            untimed: AtomicU32::new(0),
            held: Mutex::new(None),
            has_held: AtomicBool::new(false),
        }
    }

    /// The message held back behind a lag event, if any: it is taken before the queue.
    #[inline]
    pub fn held(&self) -> Option<Event> {
        if !self.has_held.load(Ordering::Acquire) {
            return None;
        }
        let mut h = self.held.lock().unwrap_or_else(|p| p.into_inner());
        self.has_held.store(false, Ordering::Release);
        h.take()
    }

    /// Times a message just taken from the queue; returns what to deliver now: the event
    /// itself, or a lag event (the message is then held for the next take).
    #[inline]
    pub fn taken(&self, e: Event) -> Event {
        let Event::Message(m) = &e else { return e };
        let received = m.received_at();
        let read = received
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        if self.last_read.swap(read, Ordering::Relaxed) == read
            && self.untimed.fetch_add(1, Ordering::Relaxed) < UNTIMED_MAX
        {
            return e;
        }
        self.untimed.store(0, Ordering::Relaxed);
        let lag = self.counters.set_consumer_lag(SystemTime::now(), received);
        let Some(threshold) = self.threshold else {
            return e;
        };
        match self.counters.consumer_alarm.observe(lag, threshold) {
            None => e,
            Some(lagging) => {
                *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                self.has_held.store(true, Ordering::Release);
                event(Lag::Consumer, lagging, lag, threshold)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_change_each_way_with_hysteresis() {
        let t = Duration::from_secs(2);
        let lags = [0.1, 1.9, 2.0, 5.0, 3.0, 1.5, 1.0, 0.99, 0.5, 2.5];
        let mut lagging = false;
        let mut changes = Vec::new();
        for s in lags {
            if let Some(now) = transition(lagging, s, t) {
                lagging = now;
                changes.push((s, now));
            }
        }
        assert_eq!(changes, [(2.0, true), (0.99, false), (2.5, true)]);
    }

    fn message_read(ago: Duration) -> Event {
        Event::Message(crate::event::Message::text(
            "{}",
            Some("t"),
            None,
            None,
            SystemTime::now() - ago,
            1,
        ))
    }

    #[test]
    fn a_late_message_comes_after_one_lagging_event_and_an_early_one_after_caught_up() {
        let c = Consumer::new(Arc::default(), Some(Duration::from_secs(2)));
        assert_eq!(c.taken(message_read(Duration::ZERO)).kind(), "message");
        assert!(c.held().is_none());
        let first = c.taken(message_read(Duration::from_secs(5)));
        let Event::Lagging { lag, seconds } = first else {
            panic!("{first:?}")
        };
        assert_eq!(lag, Lag::Consumer);
        assert!(seconds >= 5.0, "{seconds}");
        assert_eq!(c.held().map(|e| e.kind()), Some("message"));
        assert!(c.held().is_none());
        // Still late: no second warning.
        assert_eq!(
            c.taken(message_read(Duration::from_secs(4))).kind(),
            "message"
        );
        assert_eq!(
            c.taken(message_read(Duration::from_millis(1500))).kind(),
            "message"
        );
        let back = c.taken(message_read(Duration::from_millis(100)));
        assert_eq!(back.kind(), "caught_up");
        assert_eq!(c.held().map(|e| e.kind()), Some("message"));
        assert!(c.counters.snapshot().consumer_lag.unwrap() < 1.0);
    }

    #[test]
    fn an_alarm_reports_each_change_once() {
        let a = Alarm::default();
        let t = Duration::from_secs(1);
        assert_eq!(a.observe(3.0, t), Some(true));
        assert_eq!(a.observe(3.0, t), None);
        assert_eq!(a.observe(0.6, t), None);
        assert_eq!(a.observe(0.4, t), Some(false));
        assert_eq!(a.observe(0.0, t), None);
        assert_eq!(a.observe(-2.0, t), None);
    }
}
