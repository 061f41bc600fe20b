//! The listener registry: functions called on the callback thread (`tradewire-cb`) for the events of
//! the kinds each asked for ([`Client::on`], [`Client::off`], [`Client::set_callback`]).
//!
//! The registry is a list in registration order, copied on write: the callback thread keeps
//! the copy it last took and takes a new one only when the list changed (one atomic load per
//! event), so registering and removing never wait for a listener and never hold a lock
//! while one runs. Each listener's function sits behind its own lock, held by the callback
//! thread while it calls it: removal from another thread takes that lock, so once
//! [`Listeners::remove`] returns the function is not running and is never called again.
//! Removal on the callback thread itself (from inside a listener) cannot wait for the call
//! it is part of: the listener is marked removed, the call in progress finishes, and the
//! function is dropped right after it.
//!
//! [`Client::on`]: crate::Client::on
//! [`Client::off`]: crate::Client::off
//! [`Client::set_callback`]: crate::Client::set_callback

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError};
use std::thread::ThreadId;

use super::kinds::{Kind, KindSet};
use crate::event::Event;

/// A registered listener, as [`Client::on`](crate::Client::on) returns it; pass it to
/// [`Client::off`](crate::Client::off) to remove the listener. Ids are unique per client
/// and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(u64);

impl ListenerId {
    /// The id as a number (what the Python and C bindings hand out).
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// The id a number stands for (from [`ListenerId::as_u64`]).
    pub const fn from_u64(n: u64) -> ListenerId {
        ListenerId(n)
    }
}

/// How a listener takes the event.
pub(crate) enum Handler {
    /// Lent (`Client::on`): every listener of an event sees the same one.
    Borrowed(Box<dyn FnMut(&Event) + Send>),
    /// Given (`Client::set_callback`): the event itself when this is the last listener
    /// called for it, a clone otherwise.
    Owned(Box<dyn FnMut(Event) + Send>),
}

struct Listener {
    id: u64,
    /// The kinds it is called for (a `KindSet`'s bits): narrowed by `clear_kinds`.
    kinds: AtomicU32,
    /// Set by removal: the function is not called again.
    removed: AtomicBool,
    /// The function; `None` once removed and dropped.
    handler: Mutex<Option<Handler>>,
}

impl Listener {
    fn wants(&self, kind: Kind) -> bool {
        self.kinds().contains(kind) && !self.removed.load(Ordering::Acquire)
    }

    fn kinds(&self) -> KindSet {
        KindSet::from_bits(self.kinds.load(Ordering::Acquire)).unwrap_or(KindSet::EMPTY)
    }
}

/// The listeners of one client.
#[derive(Default)]
pub(crate) struct Listeners {
    list: Mutex<Arc<[Arc<Listener>]>>,
    /// Bumped on every change of `list`: the callback thread's copy is stale when it differs.
    generation: AtomicU64,
    next_id: AtomicU64,
    /// The callback thread, once started: removal on it does not wait for itself.
    thread: OnceLock<ThreadId>,
}

/// The callback thread's copy of the list.
pub(crate) struct Snapshot {
    generation: u64,
    list: Arc<[Arc<Listener>]>,
}

impl Listeners {
    /// Adds a listener at the end of the list (it is called after those added before it),
    /// from the next event the callback thread takes.
    pub fn add(&self, kinds: KindSet, handler: Handler) -> ListenerId {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let listener = Arc::new(Listener {
            id,
            kinds: AtomicU32::new(kinds.bits()),
            removed: AtomicBool::new(false),
            handler: Mutex::new(Some(handler)),
        });
        let mut list = lock(&self.list);
        *list = list.iter().cloned().chain([listener]).collect();
        self.generation.fetch_add(1, Ordering::Release);
        ListenerId(id)
    }

    /// Removes a listener; false if there is none with this id (never added, or already
    /// removed). Once this returns the listener is not called again and, unless this runs
    /// inside that very listener, is not running.
    pub fn remove(&self, id: ListenerId) -> bool {
        let found = {
            let mut list = lock(&self.list);
            let found = list.iter().find(|l| l.id == id.0).cloned();
            if found.is_some() {
                *list = list.iter().filter(|l| l.id != id.0).cloned().collect();
                self.generation.fetch_add(1, Ordering::Release);
            }
            found
        };
        match found {
            Some(listener) => {
                self.retire(&listener);
                true
            }
            None => false,
        }
    }

    /// Stops calling listeners for `kinds` (document 004's `clearEventListeners(type)`): each
    /// listener loses those kinds, and one left with none is removed as by `remove`. Returns
    /// how many listeners were removed.
    pub fn clear_kinds(&self, kinds: KindSet) -> usize {
        let gone: Vec<Arc<Listener>> = {
            let mut list = lock(&self.list);
            for l in list.iter() {
                l.kinds.fetch_and(!kinds.bits(), Ordering::AcqRel);
            }
            let (gone, kept): (Vec<_>, Vec<_>) =
                list.iter().cloned().partition(|l| l.kinds().is_empty());
            if !gone.is_empty() {
                *list = kept.into_iter().collect();
                self.generation.fetch_add(1, Ordering::Release);
            }
            gone
        };
        for listener in &gone {
            self.retire(listener);
        }
        gone.len()
    }

    /// Removes every listener (at `close()`), dropping their functions.
    pub fn clear(&self) {
        let all = {
            let mut list = lock(&self.list);
            let all = std::mem::replace(&mut *list, Arc::from([]));
            self.generation.fetch_add(1, Ordering::Release);
            all
        };
        for listener in all.iter() {
            self.retire(listener);
        }
    }

    /// Marks a listener removed and drops its function once no call of it is in progress
    /// (a call in progress on this very thread drops it when it returns, see `dispatch`).
    fn retire(&self, listener: &Listener) {
        listener.removed.store(true, Ordering::Release);
        let on_callback_thread = self.thread.get() == Some(&std::thread::current().id());
        let taken = if on_callback_thread {
            // The callback thread holds only the lock of the listener it is running, and
            // another thread holds a listener's lock only inside `retire`, of a listener it
            // alone found in the list: a busy lock here is the call this runs inside.
            match listener.handler.try_lock() {
                Ok(mut h) => h.take(),
                Err(TryLockError::Poisoned(p)) => p.into_inner().take(),
                Err(TryLockError::WouldBlock) => None,
            }
        } else {
            lock(&listener.handler).take()
        };
        drop(taken);
    }

    /// Records the callback thread (called on it, first thing).
    pub fn set_thread(&self) {
        let _ = self.thread.set(std::thread::current().id());
    }

    /// An empty copy: the first `refresh` takes the list.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            generation: u64::MAX,
            list: Arc::from([]),
        }
    }

    /// Brings the callback thread's copy up to date if the list changed.
    fn refresh(&self, snapshot: &mut Snapshot) {
        let generation = self.generation.load(Ordering::Acquire);
        if generation != snapshot.generation {
            snapshot.list = lock(&self.list).clone();
            snapshot.generation = generation;
        }
    }

    /// Calls every listener that wants `event`, in registration order, one after the other
    /// (on the callback thread). A listener that panics is logged and the others still run.
    /// `stop` is asked before each call: once it says so, no further listener is called.
    pub fn dispatch(&self, snapshot: &mut Snapshot, event: Event, stop: &dyn Fn() -> bool) {
        self.refresh(snapshot);
        let kind = Kind::of(&event);
        let list = &snapshot.list;
        let Some(last) = list.iter().rposition(|l| l.wants(kind)) else {
            return;
        };
        let mut event = Some(event);
        for (i, listener) in list[..=last].iter().enumerate() {
            if !listener.wants(kind) {
                continue;
            }
            if stop() {
                return;
            }
            let mut slot = lock(&listener.handler);
            // Removed since the copy was taken (its function may be gone already).
            if listener.removed.load(Ordering::Acquire) {
                continue;
            }
            let Some(handler) = slot.as_mut() else {
                continue;
            };
            let call = catch_unwind(AssertUnwindSafe(|| match handler {
                Handler::Borrowed(f) => {
                    if let Some(e) = &event {
                        f(e);
                    }
                }
                Handler::Owned(f) => {
                    let e = if i == last {
                        event.take()
                    } else {
                        event.clone()
                    };
                    if let Some(e) = e {
                        f(e);
                    }
                }
            }));
            if call.is_err() {
                tw_error!(
                    "tradewire: listener {} panicked on a `{kind}` event; the other listeners still run and the stream goes on",
                    listener.id
                );
            }
            // Removed by itself during the call: its function goes now.
            let retired = if listener.removed.load(Ordering::Acquire) {
                slot.take()
            } else {
                None
            };
            drop(slot);
            drop(retired);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn connected() -> Event {
        Event::Connected {
            epoch: 1,
            url: "ws://h".into(),
        }
    }

    fn lagged() -> Event {
        Event::Lagged { dropped: 1 }
    }

    /// A listener that records `tag` and the event's kind.
    fn recorder(log: &Arc<Mutex<Vec<String>>>, tag: &'static str) -> Handler {
        let log = log.clone();
        Handler::Borrowed(Box::new(move |e: &Event| {
            lock(&log).push(format!("{tag}:{}", e.kind()))
        }))
    }

    fn never() -> bool {
        false
    }

    #[test]
    fn listeners_run_in_registration_order_for_their_kinds_only() {
        let l = Listeners::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        l.add(Kind::Connected.into(), recorder(&log, "a"));
        l.add(KindSet::ALL, recorder(&log, "b"));
        l.add(Kind::Lagged.into(), recorder(&log, "c"));
        let mut snap = l.snapshot();
        l.dispatch(&mut snap, connected(), &never);
        l.dispatch(&mut snap, lagged(), &never);
        assert_eq!(
            *lock(&log),
            ["a:connected", "b:connected", "b:lagged", "c:lagged"]
        );
    }

    #[test]
    fn clearing_kinds_narrows_listeners_and_removes_those_left_with_none() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let listeners = Listeners::default();
        listeners.add(
            KindSet::from(Kind::Connected),
            recorder(&log, "only-connected"),
        );
        listeners.add(
            KindSet::from([Kind::Connected, Kind::Lagged]),
            recorder(&log, "both"),
        );
        assert_eq!(listeners.clear_kinds(KindSet::from(Kind::Connected)), 1);
        let mut snapshot = listeners.snapshot();
        listeners.dispatch(&mut snapshot, connected(), &never);
        listeners.dispatch(&mut snapshot, lagged(), &never);
        assert_eq!(*log.lock().unwrap(), ["both:lagged"]);
        assert_eq!(listeners.clear_kinds(KindSet::ALL), 1);
    }

    #[test]
    fn a_removed_listener_is_not_called_and_its_function_is_dropped() {
        let l = Listeners::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        let a = l.add(KindSet::ALL, recorder(&log, "a"));
        let mut snap = l.snapshot();
        l.dispatch(&mut snap, connected(), &never);
        assert!(l.remove(a));
        assert!(!l.remove(a), "a second removal finds nothing");
        assert!(!l.remove(ListenerId::from_u64(99)));
        l.dispatch(&mut snap, lagged(), &never);
        assert_eq!(*lock(&log), ["a:connected"]);
        // Only the test holds the log now: the function (and its clone of the Arc) is gone.
        assert_eq!(Arc::strong_count(&log), 1);
    }

    #[test]
    fn a_panicking_listener_does_not_stop_the_next_ones() {
        let l = Listeners::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        l.add(
            KindSet::ALL,
            Handler::Borrowed(Box::new(|_: &Event| panic!("listener bug"))),
        );
        l.add(KindSet::ALL, recorder(&log, "b"));
        let mut snap = l.snapshot();
        l.dispatch(&mut snap, connected(), &never);
        l.dispatch(&mut snap, lagged(), &never);
        assert_eq!(*lock(&log), ["b:connected", "b:lagged"]);
    }

    #[test]
    fn an_owned_handler_gets_the_event_itself_when_last_and_a_clone_otherwise() {
        let l = Listeners::default();
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        l.add(
            KindSet::ALL,
            Handler::Owned(Box::new(move |e| tx.send(("first", e)).unwrap())),
        );
        l.add(
            KindSet::ALL,
            Handler::Owned(Box::new(move |e| tx2.send(("second", e)).unwrap())),
        );
        let mut snap = l.snapshot();
        l.dispatch(&mut snap, connected(), &never);
        let got: Vec<_> = rx.try_iter().map(|(t, e)| (t, e.kind())).collect();
        assert_eq!(got, [("first", "connected"), ("second", "connected")]);
    }

    #[test]
    fn stop_is_asked_before_each_call() {
        let l = Listeners::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        l.add(KindSet::ALL, recorder(&log, "a"));
        let mut snap = l.snapshot();
        l.dispatch(&mut snap, connected(), &|| true);
        assert!(lock(&log).is_empty());
    }

    #[test]
    fn removal_and_registration_from_inside_a_listener_do_not_deadlock() {
        let l = Arc::new(Listeners::default());
        l.set_thread();
        let log = Arc::new(Mutex::new(Vec::new()));
        let me = Arc::new(Mutex::new(None::<ListenerId>));
        let (l2, log2, me2) = (l.clone(), log.clone(), me.clone());
        let id = l.add(
            KindSet::ALL,
            Handler::Borrowed(Box::new(move |e: &Event| {
                lock(&log2).push(format!("self:{}", e.kind()));
                // Removes itself and adds another, from inside the call.
                if let Some(id) = lock(&me2).take() {
                    assert!(l2.remove(id));
                    l2.add(KindSet::ALL, recorder(&log2, "new"));
                }
            })),
        );
        *lock(&me) = Some(id);
        let mut snap = l.snapshot();
        l.dispatch(&mut snap, connected(), &never);
        l.dispatch(&mut snap, lagged(), &never);
        assert_eq!(*lock(&log), ["self:connected", "new:lagged"]);
        l.clear();
        l.dispatch(&mut snap, lagged(), &never);
        assert_eq!(lock(&log).len(), 2);
        drop(l);
        assert_eq!(Arc::strong_count(&log), 1, "every function was dropped");
    }

    #[test]
    fn removal_from_another_thread_waits_for_the_call_in_progress() {
        let l = Arc::new(Listeners::default());
        let (entered_tx, entered) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let finished = Arc::new(AtomicBool::new(false));
        let f2 = finished.clone();
        let id = l.add(
            KindSet::ALL,
            Handler::Borrowed(Box::new(move |_: &Event| {
                entered_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                f2.store(true, Ordering::SeqCst);
            })),
        );
        let l2 = l.clone();
        let dispatcher = std::thread::spawn(move || {
            l2.set_thread();
            let mut snap = l2.snapshot();
            l2.dispatch(&mut snap, connected(), &never);
        });
        entered.recv().unwrap();
        let (l3, f3) = (l.clone(), finished.clone());
        let remover = std::thread::spawn(move || (l3.remove(id), f3.load(Ordering::SeqCst)));
        // Give the remover time to block on the call (it passes either way: a remover that
        // starts late also finds the call over).
        std::thread::sleep(std::time::Duration::from_millis(50));
        release.send(()).unwrap();
        let (removed, call_over) = remover.join().unwrap();
        assert!(removed);
        assert!(
            call_over,
            "remove returned while the call was still running"
        );
        dispatcher.join().unwrap();
    }
}
