//! The application's side of lag awareness: times the messages it takes (`consumer_lag`)
//! and puts a `lagging` / `caught_up` event before the message that crossed `lag_warning`.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::event::Event;
use crate::lag::Lag;
use crate::status::Counters;

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
                Event::lag_change(Lag::Consumer, lagging, lag, threshold)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
