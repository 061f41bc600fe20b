//! Inline reads: the thread waiting in `recv` runs the live connection itself.
//!
//! With `inline_reads`, a receiver that finds no event asks the I/O thread for the
//! connection. The I/O thread lends it at the end of its current turn and parks in
//! [`Handoff::lend`]; the receiver then runs the turns (read, parse, filter, deliver, timers,
//! commands) on its own thread until an event is queued, so the event reaches the
//! application without a thread switch. The connection stays lent between calls: the next
//! `recv` goes straight back to the socket.
//!
//! Ownership moves by value: the I/O thread puts the session (`Running`: the engine and
//! the connection) in the slot; a receiver takes it out to run it and puts it back. No
//! pointer is shared, and nothing is `unsafe`.
//!
//! The I/O thread takes the connection back when it ends (and reconnects as always), when
//! a timer is due while no receiver runs it, and when no receiver has run it for [`LEASE`]
//! (the application is busy: the I/O thread reads for it again, so server pings are
//! answered and the channel's overflow policy applies as without inline reads). While
//! receivers keep running the connection it looks less and less often, up to every
//! [`MAX_LOOK`]; while one receiver waits in the same run (a quiet stream) it sleeps until the
//! next timer, and the receiver wakes it when it leaves. A command (`send`, `close`, ...) made while nobody runs the
//! connection is run by the thread that made it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::session::{Conn, Running};
use super::{End, Engine};
use crate::transport::Poller;

/// How long the connection stays lent while no receiver runs it.
pub(crate) const LEASE: Duration = Duration::from_millis(10);
/// The longest the I/O thread goes without looking while receivers keep running the
/// connection: it looks after [`LEASE`], then twice as long each time it finds them active,
/// up to this (a stream of events wakes it about ten times a second, not a hundred).
const MAX_LOOK: Duration = Duration::from_millis(100);
/// How long the I/O thread sleeps when a receiver runs the connection but has not yet
/// published a deadline in the future (it is handling the one that just passed).
const RECHECK: Duration = Duration::from_millis(10);

/// What the I/O thread and the receivers share about the live connection.
pub(crate) struct Handoff {
    shared: Mutex<Shared>,
    /// Signalled when the connection is lent, ends, or must be looked at by the I/O thread.
    changed: Condvar,
    /// A receiver asks for the connection (read by the I/O thread after every turn).
    wanted: AtomicBool,
    poller: Arc<Poller>,
}

/// Ownership of the live session moves by value: the I/O thread puts it in `slot` when it
/// lends it; a receiver takes it out of `slot` to run it and puts it back when it stops. So
/// while the I/O thread is `lending`, an empty `slot` means a receiver is running it, and
/// the session is never reachable from two threads at once (the compiler checks that it is
/// `Send`, through the mutex).
struct Shared {
    /// The I/O thread is parked in [`Handoff::lend`].
    lending: bool,
    /// The lent session, while no receiver runs it.
    slot: Option<Box<Running>>,
    /// A connection is live (the I/O thread is in `run_connection`).
    live: bool,
    /// How the lent connection ended, for the I/O thread.
    end: Option<End>,
    /// The parked I/O thread sleeps until the next timer, not for [`LEASE`]: the receiver
    /// that stops running must wake it.
    io_sleeps_long: bool,
    timing: Timing,
}

impl Shared {
    /// A receiver runs the lent session.
    fn running(&self) -> bool {
        self.lending && self.slot.is_none()
    }
}

/// What the parked I/O thread looks at to decide when to take the session back.
struct Timing {
    /// When the lent connection's next timer is due.
    deadline: Instant,
    /// Runs started (to tell one long run from many short ones).
    runs: u64,
    /// When the last run ended (or the connection was lent).
    away_since: Instant,
}

/// What [`Handoff::run`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ran {
    /// Ran the connection on this thread until events were queued, it ended, or time ran out.
    Here,
    /// Another receiver runs it, or no connection is live: wait on the event channel.
    Elsewhere,
}

impl Handoff {
    pub fn new(poller: Arc<Poller>) -> Handoff {
        Handoff {
            shared: Mutex::new(Shared {
                lending: false,
                slot: None,
                live: false,
                end: None,
                io_sleeps_long: false,
                timing: Timing {
                    deadline: Instant::now(),
                    runs: 0,
                    away_since: Instant::now(),
                },
            }),
            changed: Condvar::new(),
            wanted: AtomicBool::new(false),
            poller,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ---- the I/O thread's side ----

    /// Whether a receiver asks for the connection.
    pub(super) fn wanted(&self) -> bool {
        self.wanted.load(Ordering::Acquire)
    }

    /// A connection became live, or ended (receivers waiting for it wait on the channel).
    pub(super) fn set_live(&self, live: bool) {
        let mut st = self.lock();
        st.live = live;
        if !live {
            self.wanted.store(false, Ordering::Release);
            self.changed.notify_all();
        }
    }

    /// Lends the session to receivers and parks until the connection ends (its end comes
    /// back), or a timer is due or the lease runs out while no receiver runs it (`None`: the
    /// I/O thread runs it again). The session always comes back.
    pub(super) fn lend(
        &self,
        session: Box<Running>,
        deadline: Instant,
    ) -> (Box<Running>, Option<End>) {
        let mut st = self.lock();
        self.wanted.store(false, Ordering::Release);
        st.slot = Some(session);
        st.lending = true;
        st.timing.deadline = deadline;
        st.timing.away_since = Instant::now();
        self.changed.notify_all();
        let mut looks = Looks::new();
        loop {
            let now = Instant::now();
            let look = looks.next(&st.timing, st.running(), now);
            // Only a session in the slot can be taken back: one that a receiver runs is
            // waited for (it ends its run within the lease or at its next timer).
            let take_back = st.end.is_some() || look == Look::TakeBack;
            if let Some(back) = st.slot.take_if(|_| take_back) {
                st.lending = false;
                return (back, st.end.take());
            }
            let wake = match look {
                Look::Sleep { until, long } => {
                    st.io_sleeps_long = long;
                    until
                }
                // Not reached (the slot is full whenever `next` says take back); look again.
                Look::TakeBack => now + RECHECK,
            };
            st = self
                .changed
                .wait_timeout(st, wake - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            st.io_sleeps_long = false;
        }
    }

    // ---- the receivers' side ----

    /// Runs the connection on this thread until `ready()` (an event is queued) or `until`.
    /// With `ask`, asks the I/O thread for it first if needed (a receiver); without, runs it
    /// only if it is lent and nobody runs it (a thread waiting for a reply).
    pub(crate) fn run(&self, until: Option<Instant>, ask: bool, ready: &dyn Fn() -> bool) -> Ran {
        let mut st = self.lock();
        loop {
            if st.lending {
                // Lent: run it unless another receiver does or it has ended.
                if st.end.is_some() {
                    return Ran::Elsewhere;
                }
                return match st.slot.take() {
                    Some(session) => {
                        self.run_lent(st, session, until, ready);
                        Ran::Here
                    }
                    None => Ran::Elsewhere,
                };
            }
            if !st.live || !ask {
                return Ran::Elsewhere;
            }
            // The I/O thread has it: ask, and wait for it to be lent (it lends at the end of
            // its current turn) or for the connection to end.
            if !self.wanted.swap(true, Ordering::AcqRel) {
                let _ = self.poller.notify();
            }
            st = match until {
                None => self.changed.wait(st).unwrap_or_else(|p| p.into_inner()),
                Some(u) => {
                    let left = u.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ran::Here;
                    }
                    self.changed
                        .wait_timeout(st, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
            if ready() {
                return Ran::Here;
            }
        }
    }

    /// Runs one turn on this thread if the connection is lent and nobody runs it: for a
    /// command made while the receiver is away.
    pub(crate) fn run_once(&self) {
        let mut st = self.lock();
        if !st.lending || st.end.is_some() {
            return;
        }
        if let Some(session) = st.slot.take() {
            self.run_lent(st, session, Some(Instant::now()), &|| false);
        }
    }

    /// Runs the session taken from the slot on this thread, then puts it back.
    fn run_lent(
        &self,
        mut st: MutexGuard<'_, Shared>,
        mut session: Box<Running>,
        until: Option<Instant>,
        ready: &dyn Fn() -> bool,
    ) {
        st.timing.runs += 1;
        drop(st);
        // The I/O thread reads it when it next looks (within the lease once the run ends).
        let publish = |deadline: Instant| self.lock().timing.deadline = deadline;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let Running { engine, conn } = &mut *session;
            // Bytes may have arrived since the last run: read before asking the poller (at
            // high rates they usually have, and this saves a system call per event).
            conn.recheck();
            drive(engine, conn, until, ready, &publish)
        }));
        let mut st = self.lock();
        st.slot = Some(session);
        st.timing.away_since = Instant::now();
        let wake_io = std::mem::take(&mut st.io_sleeps_long);
        let end = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(end)) => Some(end),
            Err(panic) => {
                let what = crate::error::panic_message(&*panic);
                tw_error!("tradewire: internal error while reading on the receiving thread: {what}; the connection is dropped (please report this)");
                Some(End::Broken(format!("internal error: {what}")))
            }
        };
        let ended = end.is_some();
        st.end = end;
        if ended || wake_io {
            self.changed.notify_all();
        }
    }
}

/// What the parked I/O thread does at a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    /// Take the connection back and run it (nobody runs it, and a timer is due or the
    /// lease ran out).
    TakeBack,
    /// Sleep until `until`; `long`: past the lease, so the receiver must wake it on leaving.
    Sleep { until: Instant, long: bool },
}

/// The parked I/O thread's looks at a lent connection (see the module documentation).
struct Looks {
    /// The run seen running at the last look.
    seen_run: Option<u64>,
    /// How long until the next look while receivers keep running the connection.
    every: Duration,
}

impl Looks {
    fn new() -> Looks {
        Looks {
            seen_run: None,
            every: LEASE,
        }
    }

    /// What to do now, given the lent session's timing and whether a receiver runs it.
    fn next(&mut self, st: &Timing, running: bool, now: Instant) -> Look {
        if !running {
            let lease_end = st.away_since + LEASE;
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

/// Runs turns until an event is queued, the connection ends, or `until` passes (a past
/// `until`: one turn).
fn drive(
    engine: &mut Engine,
    conn: &mut Conn,
    until: Option<Instant>,
    ready: &dyn Fn() -> bool,
    publish: &dyn Fn(Instant),
) -> Result<(), End> {
    loop {
        let (more, deadline) = engine.turn(conn)?;
        publish(deadline);
        if ready() {
            return Ok(());
        }
        let now = Instant::now();
        if until.is_some_and(|u| u <= now) {
            return Ok(());
        }
        if more {
            continue;
        }
        engine.wait(conn, until.map_or(deadline, |u| u.min(deadline)))?;
        if crate::transport::interrupted() {
            // A signal: let the receiver's binding run its handler (Python's Ctrl-C).
            return Ok(());
        }
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
            looks.next(&st, false, t0),
            Look::Sleep {
                until: t0 + LEASE,
                long: false
            }
        );
        assert_eq!(looks.next(&st, false, t0 + LEASE), Look::TakeBack);
        // A timer due before the lease ends.
        st.deadline = t0 + Duration::from_millis(3);
        assert_eq!(
            looks.next(&st, false, t0),
            Look::Sleep {
                until: st.deadline,
                long: false
            }
        );
        assert_eq!(
            looks.next(&st, false, t0 + Duration::from_millis(3)),
            Look::TakeBack
        );
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
            match looks.next(&st, true, now) {
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
            looks.next(&st, running, t0),
            Look::Sleep { long: false, .. }
        ));
        let later = t0 + LEASE;
        assert_eq!(
            looks.next(&st, running, later),
            Look::Sleep {
                until: st.deadline,
                long: true
            }
        );
        // The receiver is handling a deadline that just passed: look again shortly.
        st.deadline = later;
        assert_eq!(
            looks.next(&st, running, later),
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
            looks.next(&st, running, later),
            Look::Sleep {
                until: later + LEASE,
                long: false
            }
        );
    }
}
