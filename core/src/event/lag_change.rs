//! The events of a lag's change of state (`lagging`, `caught_up`), built and logged.

use std::time::Duration;

use super::Event;

impl Event {
    /// The event for a lag's change of state found by `lag::Alarm::observe` (`lagging`:
    /// it crossed `threshold`; otherwise it fell below half of it), after logging it.
    pub(crate) fn lag_change(
        lag: crate::lag::Lag,
        lagging: bool,
        seconds: f64,
        threshold: Duration,
    ) -> Event {
        if lagging {
            tw_warn!(
                "tradewire: {} is {seconds:.3} s, over lag_warning ({:.3} s)",
                lag.status_field(),
                threshold.as_secs_f64()
            );
            Event::Lagging { lag, seconds }
        } else {
            tw_warn!(
                "tradewire: {} is back to {seconds:.3} s, under half of lag_warning ({:.3} s)",
                lag.status_field(),
                threshold.as_secs_f64()
            );
            Event::CaughtUp { lag, seconds }
        }
    }
}
