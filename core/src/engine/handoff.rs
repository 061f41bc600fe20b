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
//!
//! An event loop takes part the same way without ever blocking ([`Handoff::pump`], behind
//! `Client::read_batch_with`): it asks for the connection, the I/O thread writes the client's
//! readiness fd when it lends it, and from then on the loop runs one pass (read what has
//! arrived, deliver, commands, due timers) each time the connection's poller fd is readable,
//! without waiting. A pass that found nothing leaves the loop waiting on that fd: the loop
//! is then like a receiver waiting in its run, so no lease applies; the I/O thread takes the
//! connection back when a timer is due, runs it, and lends it again at once. When no task
//! awaits events any more (the application is busy), the loop says so
//! ([`Handoff::release`]) and the lease applies again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::session::{Conn, Running};
use super::{End, Engine};
use crate::transport::Poller;

mod looks;

use looks::{Look, Looks};

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
    /// An event loop asked for the connection ([`Handoff::pump`]): announce the next lending
    /// on the readiness fd, which the loop watches.
    announce: bool,
    /// An event loop's last pass found nothing: the loop waits on the poller's fd (see the
    /// module documentation).
    parked: bool,
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

/// What a thread does with the lent session: runs it (with the function that publishes its
/// next deadline for the I/O thread) until it stops, or it ends.
type RunBody<'a> = dyn FnMut(&mut Engine, &mut Conn, &dyn Fn(Instant)) -> Result<(), End> + 'a;

/// What [`Handoff::pump`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pumped {
    /// Ran a pass on this thread; the connection stays lent: watch the poller's fd.
    Ran,
    /// Asked the I/O thread for the connection: the readiness fd says when it is lent.
    Asked,
    /// Another thread runs it, or no connection is live.
    Elsewhere,
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
                announce: false,
                parked: false,
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
            st.announce = false;
            st.parked = false;
            self.wanted.store(false, Ordering::Release);
            self.changed.notify_all();
        }
    }

    /// Lends the session to receivers and parks until the connection ends (its end comes
    /// back), or a timer is due or the lease runs out while no receiver runs it (`None`: the
    /// I/O thread runs it again). The session always comes back. `announce` is called once
    /// the session is in the slot if an event loop asked for it ([`Handoff::pump`]).
    pub(super) fn lend(
        &self,
        session: Box<Running>,
        deadline: Instant,
        announce: &dyn Fn(),
    ) -> (Box<Running>, Option<End>) {
        let mut st = self.lock();
        self.wanted.store(false, Ordering::Release);
        st.slot = Some(session);
        st.lending = true;
        st.timing.deadline = deadline;
        st.timing.away_since = Instant::now();
        self.changed.notify_all();
        if std::mem::take(&mut st.announce) {
            announce();
        }
        let mut looks = Looks::new();
        loop {
            let now = Instant::now();
            let look = looks.next(&st.timing, st.running(), st.parked, now);
            // Only a session in the slot can be taken back: one that a receiver runs is
            // waited for (it ends its run within the lease or at its next timer).
            let take_back = st.end.is_some() || look == Look::TakeBack;
            if let Some(back) = st.slot.take_if(|_| take_back) {
                st.lending = false;
                if st.parked && st.end.is_none() {
                    // A timer is due while the loop waits: lend it again after this turn
                    // (the loop goes on watching the poller's fd).
                    self.wanted.store(true, Ordering::Release);
                }
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
                        self.run_lent(st, session, &mut |engine, conn, publish| {
                            // Bytes may have arrived since the last run: read before asking
                            // the poller (at high rates they usually have, and this saves a
                            // system call per event).
                            conn.recheck();
                            drive(engine, conn, until, ready, publish)
                        });
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
            let now = Instant::now();
            self.run_lent(st, session, &mut |engine, conn, publish| {
                conn.recheck();
                drive(engine, conn, Some(now), &|| false, publish)
            });
        }
    }

    /// For an event loop on this thread (`Client::read_batch_with`): if the connection is
    /// lent and nobody runs it, runs one pass without waiting (see [`pass`]) and returns
    /// [`Pumped::Ran`]: the loop then watches the poller's fd. If the I/O thread runs it,
    /// asks for it ([`Pumped::Asked`]): the I/O thread lends it at the end of its current turn
    /// and calls `announce` (the readiness fd). [`Pumped::Elsewhere`] when another thread
    /// runs it or none is live.
    pub(crate) fn pump(&self, ready: &dyn Fn() -> bool) -> Pumped {
        let mut st = self.lock();
        // Parked again below only if this pass runs it and finds nothing: whoever else runs
        // it, or none live, the lease applies again.
        st.parked = false;
        if st.lending {
            if st.end.is_some() {
                return Pumped::Elsewhere;
            }
            return match st.slot.take() {
                Some(session) => {
                    self.run_lent(st, session, &mut |engine, conn, publish| {
                        pass(engine, conn, ready, publish)
                    });
                    let found = ready();
                    let mut st = self.lock();
                    st.parked = !found && st.lending && st.end.is_none();
                    Pumped::Ran
                }
                // Another thread runs it (a request waiting for its answer): the loop stops
                // watching, so the lease applies again once that run ends.
                None => Pumped::Elsewhere,
            };
        }
        if !st.live {
            return Pumped::Elsewhere;
        }
        st.announce = true;
        if !self.wanted.swap(true, Ordering::AcqRel) {
            let _ = self.poller.notify();
        }
        Pumped::Asked
    }

    /// The event loop no longer waits on the poller's fd (no task awaits events): the lease
    /// applies again, so the I/O thread takes the connection back and reads for the queue.
    pub(crate) fn release(&self) {
        let mut st = self.lock();
        if std::mem::take(&mut st.parked) {
            self.changed.notify_all();
        }
    }

    /// Runs the session taken from the slot on this thread with `body`, then puts it back.
    fn run_lent(
        &self,
        mut st: MutexGuard<'_, Shared>,
        mut session: Box<Running>,
        body: &mut RunBody<'_>,
    ) {
        st.timing.runs += 1;
        drop(st);
        // The I/O thread reads it when it next looks (within the lease once the run ends).
        let publish = |deadline: Instant| self.lock().timing.deadline = deadline;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let Running { engine, conn } = &mut *session;
            body(engine, conn, &publish)
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

/// Busy polling runs at most this long on one call of [`drive`] before it returns (without
/// an event), so that a receiver that looks for signals between waits (Python's Ctrl-C)
/// does so while it spins.
const SPIN_SLICE: Duration = Duration::from_millis(20);

/// Runs turns until an event is queued, the connection ends, or `until` passes (a past
/// `until`: one turn). With `busy_poll`, it does not sleep while bytes arrived within the
/// last `busy_poll`: it asks the poller without waiting, and returns after [`SPIN_SLICE`]
/// of that.
fn drive(
    engine: &mut Engine,
    conn: &mut Conn,
    until: Option<Instant>,
    ready: &dyn Fn() -> bool,
    publish: &dyn Fn(Instant),
) -> Result<(), End> {
    let spin = engine.s.busy_poll;
    // Read the clock for it only when busy polling is on: this is every wait's path.
    let slice_end = (!spin.is_zero()).then(|| Instant::now() + SPIN_SLICE);
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
        if spinning(spin, conn.last_rx, now) {
            if slice_end.is_some_and(|e| now >= e) {
                return Ok(());
            }
            // The poller is asked without waiting; the next turn reads what it reported and
            // runs commands and timers as usual.
            engine.wait(conn, now)?;
            std::hint::spin_loop();
        } else {
            engine.wait(conn, until.map_or(deadline, |u| u.min(deadline)))?;
        }
        if crate::transport::interrupted() {
            // A signal: let the receiver's binding run its handler (Python's Ctrl-C).
            return Ok(());
        }
    }
}

/// Whether a receiver polls without sleeping: `busy_poll` is set and bytes arrived within it.
fn spinning(busy_poll: Duration, last_rx: Instant, now: Instant) -> bool {
    !busy_poll.is_zero() && now.saturating_duration_since(last_rx) < busy_poll
}

/// One pass for an event loop ([`Handoff::pump`]): runs turns while there is more to read
/// at once and no event is queued, so that the loop waits on the poller's fd only once
/// everything that arrived was read (a TLS record buffered in the library included). A pass
/// that read nothing then looks at the poller without waiting: that clears its waker (a
/// command's wake-up), which would otherwise keep the poller's fd readable. (One that read
/// something leaves it: the loop is woken once more, and that pass clears it.)
fn pass(
    engine: &mut Engine,
    conn: &mut Conn,
    ready: &dyn Fn() -> bool,
    publish: &dyn Fn(Instant),
) -> Result<(), End> {
    conn.recheck();
    let read_before = conn.ws.get_ref().read_total;
    loop {
        let (more, deadline) = engine.turn(conn)?;
        publish(deadline);
        if ready() || !more {
            break;
        }
    }
    if conn.ws.get_ref().read_total == read_before {
        engine.wait(conn, Instant::now())
    } else {
        engine.watch(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receiver_spins_only_while_bytes_came_within_busy_poll() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        assert!(!spinning(Duration::ZERO, now, now));
        assert!(spinning(ms(50), now, now + ms(10)));
        assert!(!spinning(ms(50), now, now + ms(50)));
        assert!(!spinning(ms(50), now, now + ms(900)));
        // A clock that reads a time before the last bytes counts as no silence.
        assert!(spinning(ms(50), now + ms(5), now));
    }
}
