//! The application's end of the event streams: the receiver it reads now, and the next
//! stream's once `reconnect()` starts one after `GaveUp`.
//!
//! A stream is one channel. It ends when the I/O thread drops its sender: after `close()`,
//! and after `GaveUp` (see `delivery`). A receiver then gives the events still queued and
//! then reports the end, which `recv` turns into `Err(Closed)`, the C binding into
//! `TW_CLOSED` and Python into the end of iteration. `reconnect()` after `GaveUp` makes the
//! next stream current; a reader still holding queued events of the old one takes them
//! first, so nothing is lost and the order is kept across the switch.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::ready::Ready;

/// The current stream and its successors; shared by the client and the I/O thread.
pub(crate) struct Streams {
    /// The first stream, read without the lock until another one starts (the common case:
    /// `try_recv` per event costs no lock).
    first: Receiver<Event>,
    /// A stream started after the first (set once, never cleared).
    moved_on: AtomicBool,
    state: Mutex<State>,
    /// Signalled when a stream becomes current, and on `close()`.
    changed: Condvar,
    /// The opt-in readiness fd (`Client::ready_fd`): written when an event is queued for a
    /// consumer that found the queue empty, and when the stream ends.
    pub ready: Ready,
}

struct State {
    /// The stream being read first, then those started after it (never empty).
    queue: VecDeque<Receiver<Event>>,
    /// The next stream's receiver, made when a stream ends, current after `reconnect()`.
    parked: Option<Receiver<Event>>,
    /// `close()` was called: no stream will start any more.
    closed: bool,
}

impl Streams {
    /// Streams starting with the one `rx` receives.
    pub fn new(rx: Receiver<Event>) -> Streams {
        Streams {
            first: rx.clone(),
            moved_on: AtomicBool::new(false),
            state: Mutex::new(State {
                queue: VecDeque::from([rx]),
                parked: None,
                closed: false,
            }),
            changed: Condvar::new(),
            ready: Ready::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A receiver of the stream being read (the oldest one with events left).
    pub fn current(&self) -> Receiver<Event> {
        let mut s = self.lock();
        s.skip_finished();
        s.queue[0].clone()
    }

    /// The next event if one is queued; `Err(Closed)` once the last stream has ended and
    /// every event has been taken.
    pub fn try_recv(&self) -> Result<Option<Event>> {
        if !self.moved_on.load(Ordering::Acquire) {
            match self.first.try_recv() {
                Ok(e) => return Ok(Some(e)),
                Err(TryRecvError::Empty) => return Ok(None),
                // Ended: a next stream may have started meanwhile.
                Err(TryRecvError::Disconnected) => {}
            }
        }
        let mut s = self.lock();
        loop {
            match s.queue[0].try_recv() {
                Ok(e) => return Ok(Some(e)),
                Err(TryRecvError::Empty) => return Ok(None),
                Err(TryRecvError::Disconnected) if s.queue.len() > 1 => {
                    s.queue.pop_front();
                }
                Err(TryRecvError::Disconnected) => return Err(Error::closed()),
            }
        }
    }

    /// Waits until `until` (`None`: no limit) for the next event: `Ok(None)` on timeout,
    /// `Err(Closed)` once the last stream has ended and every event has been taken.
    pub fn recv_until(&self, until: Option<Instant>) -> Result<Option<Event>> {
        loop {
            let rx = self.current();
            let r = match until {
                Some(u) => rx.recv_timeout(u.saturating_duration_since(Instant::now())),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match r {
                Ok(e) => return Ok(Some(e)),
                Err(RecvTimeoutError::Timeout) => return Ok(None),
                Err(RecvTimeoutError::Disconnected) => {
                    if !self.has_successor() {
                        return Err(Error::closed());
                    }
                }
            }
        }
    }

    /// True when a stream started after the current one (which then may be left once empty).
    fn has_successor(&self) -> bool {
        self.lock().queue.len() > 1
    }

    /// Waits until a new stream starts after the current one ended (true), or `close()`
    /// (false). For the callback thread, between streams.
    pub fn wait_next(&self) -> bool {
        let mut s = self.lock();
        loop {
            if s.closed {
                return false;
            }
            if s.queue.len() > 1 {
                return true;
            }
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The I/O thread ended a stream and made the next one's channel.
    pub fn park(&self, rx: Receiver<Event>) {
        self.lock().parked = Some(rx);
    }

    /// `reconnect()` after the end of a stream: the parked one becomes the next to read.
    pub fn activate(&self) {
        let mut s = self.lock();
        if let Some(rx) = s.parked.take() {
            s.queue.push_back(rx);
            self.moved_on.store(true, Ordering::Release);
        }
        drop(s);
        self.changed.notify_all();
    }

    /// `close()`: wakes whoever waits for a next stream; none will come.
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }
}

impl State {
    /// Leaves drained streams that have a successor. A stream gets a successor only after
    /// it ended (its sender is gone), so an empty one with a successor stays empty.
    fn skip_finished(&mut self) {
        while self.queue.len() > 1 && self.queue[0].is_empty() {
            self.queue.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ev(epoch: u64) -> Event {
        Event::Authenticated { epoch }
    }

    fn epoch(e: Event) -> u64 {
        match e {
            Event::Authenticated { epoch } => epoch,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_blocked_reader_sees_the_end_then_follows_the_next_stream() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let streams = Arc::new(Streams::new(rx));
        let reader = {
            let streams = streams.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(Some(e)) = streams.recv_until(None) {
                    got.push(epoch(e));
                }
                got
            })
        };
        tx.send(ev(1)).unwrap();
        drop(tx); // the stream ends: the blocked reader wakes up with Err(Closed)
        assert_eq!(reader.join().unwrap(), [1]);
        assert!(matches!(streams.try_recv(), Err(e) if e.kind() == crate::ErrorCategory::Closed));

        // The next stream, made at the end and made current by reconnect().
        let (tx2, rx2) = crossbeam_channel::unbounded();
        streams.park(rx2);
        assert!(
            matches!(streams.try_recv(), Err(e) if e.kind() == crate::ErrorCategory::Closed),
            "parked only"
        );
        let waiter = {
            let streams = streams.clone();
            std::thread::spawn(move || streams.wait_next())
        };
        streams.activate();
        assert!(waiter.join().unwrap());
        tx2.send(ev(2)).unwrap();
        assert_eq!(streams.try_recv().unwrap().map(epoch), Some(2));
        assert_eq!(
            streams.recv_until(Some(Instant::now())).unwrap().map(epoch),
            None
        );
        assert_eq!(streams.current().len(), 0);

        // close(): whoever waits for a next stream stops waiting.
        drop(tx2);
        let waiter = {
            let streams = streams.clone();
            std::thread::spawn(move || streams.wait_next())
        };
        streams.close();
        assert!(!waiter.join().unwrap());
    }
}
