//! Lag awareness: which lag a warning is about, and the hysteresis that turns a lag measured
//! at every message into one `lagging` event when it crosses `lag_warning` and one
//! `caught_up` event when it falls below half of it again (never one per message).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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
