//! When the I/O thread, parked while it lends the connection, looks at it again and takes
//! it back (see `handoff`'s documentation): pure decisions over the lent session's timing.

use std::time::{Duration, Instant};

use super::{Timing, LEASE, MAX_LOOK, RECHECK};

/// What the parked I/O thread does at a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Look {
    /// Take the connection back and run it (nobody runs it, and a timer is due or the
    /// lease ran out).
    TakeBack,
    /// Sleep until `until`; `long`: past the lease, so the receiver must wake it on leaving.
    Sleep { until: Instant, long: bool },
}

/// The parked I/O thread's looks at a lent connection (see the module documentation).
pub(super) struct Looks {
    /// The run seen running at the last look.
    seen_run: Option<u64>,
    /// How long until the next look while receivers keep running the connection.
    every: Duration,
}

impl Looks {
    pub(super) fn new() -> Looks {
        Looks {
            seen_run: None,
            every: LEASE,
        }
    }

    /// What to do now, given the lent session's timing, whether a receiver runs it, and
    /// whether an event loop waits on it (`parked`: no lease, only the timers).
    pub(super) fn next(&mut self, st: &Timing, running: bool, parked: bool, now: Instant) -> Look {
        if !running {
            let lease_end = if parked {
                st.deadline
            } else {
                st.away_since + LEASE
            };
            if now >= st.deadline || now >= lease_end {
                return Look::TakeBack;
            }
            self.seen_run = None;
            return Look::Sleep {
                until: st.deadline.min(lease_end),
                long: false,
            };
        }
        if self.seen_run == Some(st.runs) {
            // One receiver has waited in the same run since the last look: it keeps the
            // timers; sleep until its next one, and be woken when it leaves.
            let until = if st.deadline > now {
                st.deadline
            } else {
                now + RECHECK
            };
            return Look::Sleep { until, long: true };
        }
        self.seen_run = Some(st.runs);
        let until = now + self.every;
        self.every = (self.every * 2).min(MAX_LOOK);
        Look::Sleep { until, long: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(now: Instant) -> Timing {
        Timing {
            deadline: now + Duration::from_secs(10),
            runs: 0,
            away_since: now,
        }
    }

    #[test]
    fn nobody_running_takes_back_when_the_lease_or_a_timer_runs_out() {
        let t0 = Instant::now();
        let mut st = shared(t0);
        let mut looks = Looks::new();
        assert_eq!(
            looks.next(&st, false, false, t0),
            Look::Sleep {
                until: t0 + LEASE,
                long: false
            }
        );
        assert_eq!(looks.next(&st, false, false, t0 + LEASE), Look::TakeBack);
        // A timer due before the lease ends.
        st.deadline = t0 + Duration::from_millis(3);
        assert_eq!(
            looks.next(&st, false, false, t0),
            Look::Sleep {
                until: st.deadline,
                long: false
            }
        );
        assert_eq!(
            looks.next(&st, false, false, t0 + Duration::from_millis(3)),
            Look::TakeBack
        );
    }

    #[test]
    fn an_event_loop_waiting_on_the_connection_keeps_it_until_a_timer() {
        let t0 = Instant::now();
        let st = shared(t0);
        let mut looks = Looks::new();
        assert_eq!(
            looks.next(&st, false, true, t0),
            Look::Sleep {
                until: st.deadline,
                long: false
            },
            "no lease while the loop waits"
        );
        assert_eq!(
            looks.next(&st, false, true, t0 + LEASE * 10),
            Look::Sleep {
                until: st.deadline,
                long: false
            }
        );
        assert_eq!(looks.next(&st, false, true, st.deadline), Look::TakeBack);
        // Released: the lease counts from the loop's last pass.
        assert_eq!(looks.next(&st, false, false, t0 + LEASE), Look::TakeBack);
    }

    #[test]
    fn active_receivers_are_looked_at_less_and_less_often() {
        let t0 = Instant::now();
        let mut st = shared(t0);
        let mut looks = Looks::new();
        let mut gaps = Vec::new();
        let mut now = t0;
        for run in 1..=7 {
            st.runs = run; // a new run at every look: a busy stream
            match looks.next(&st, true, false, now) {
                Look::Sleep { until, long: false } => {
                    gaps.push((until - now).as_millis());
                    now = until;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(gaps, [10, 20, 40, 80, 100, 100, 100]);
    }

    #[test]
    fn one_long_run_lets_the_io_thread_sleep_until_the_next_timer() {
        let t0 = Instant::now();
        let mut st = shared(t0);
        let mut running = true;
        st.runs = 1;
        let mut looks = Looks::new();
        assert!(matches!(
            looks.next(&st, running, false, t0),
            Look::Sleep { long: false, .. }
        ));
        let later = t0 + LEASE;
        assert_eq!(
            looks.next(&st, running, false, later),
            Look::Sleep {
                until: st.deadline,
                long: true
            }
        );
        // The receiver is handling a deadline that just passed: look again shortly.
        st.deadline = later;
        assert_eq!(
            looks.next(&st, running, false, later),
            Look::Sleep {
                until: later + RECHECK,
                long: true
            }
        );
        // It left: the lease applies from when it left.
        running = false;
        st.away_since = later;
        st.deadline = later + Duration::from_secs(5);
        assert_eq!(
            looks.next(&st, running, false, later),
            Look::Sleep {
                until: later + LEASE,
                long: false
            }
        );
    }
}
