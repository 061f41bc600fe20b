//! Hands events to the application through a bounded channel, applying the overflow policy
//! and reporting every drop in order with a `Lagged` marker.
//!
//! Runs on the I/O thread. It never blocks: what does not fit in the channel waits here
//! (`pending`), and under the `block` policy the I/O loop stops reading the socket until it
//! is delivered.
//!
//! Rules every policy keeps (the proptest in `delivery/tests.rs` checks them on random
//! sequences):
//! - only `Message` events are ever discarded; lifecycle events (`Connected`,
//!   `Authenticated`, `Disconnected`, `Reconnecting`, `GaveUp`, `Error`, `Response`) and
//!   `Lagged` markers never are, and everything keeps its order;
//! - every discarded run of messages is reported by one `Lagged{dropped}` marker at the
//!   place of the gap, so delivered + dropped = sent, exactly;
//! - an event in the channel is never taken back (the application may be taking it at that
//!   moment): `drop_oldest` discards the oldest messages that wait here, not in the channel;
//! - lifecycle events waiting here are bounded apart: while more than `queue_capacity` wait,
//!   the I/O loop stops reading the socket, as under `block` (a flood of bad frames while the
//!   application does not read cannot grow memory without bound).
//!
//! A stream ends after `GaveUp` ([`Delivery::end_stream`]): once everything before it is in
//! the channel, the channel's sender is dropped, so the application's receivers see the end
//! after taking the queued events. [`Delivery::restart`] (on `reconnect()`) starts the next
//! stream on a new channel, published through [`Streams`].

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::event::Event;
use crate::status::Counters;
use crate::streams::Streams;

/// What happens when the application does not keep up and the event channel is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// Stop reading the socket (TCP pushes back on the server); timers keep running. Nothing is dropped.
    #[default]
    Block,
    /// Keep the newest messages: the queue holds half of `queue_capacity` events ready to be
    /// taken and up to half waiting behind them; when those are full, the oldest waiting
    /// messages are discarded and a `Lagged` marker stands where they were. Lifecycle events
    /// are never discarded.
    DropOldest,
    /// Discard new messages until there is room; a `Lagged` marker says how many.
    /// Lifecycle events are never discarded.
    DropNewest,
}

impl Overflow {
    /// The policy's name in configurations.
    pub fn name(self) -> &'static str {
        match self {
            Overflow::Block => "block",
            Overflow::DropOldest => "drop_oldest",
            Overflow::DropNewest => "drop_newest",
        }
    }
}

pub(crate) struct Delivery {
    tx: Sender<Event>,
    policy: Overflow,
    /// The most events the channel holds.
    capacity: usize,
    /// Places known to be free in the channel (see `offer`).
    room: usize,
    /// Events that did not fit yet, in order (block: everything; drop_newest: lifecycle
    /// events and markers; drop_oldest: everything, with markers where messages were discarded).
    pending: VecDeque<Event>,
    /// drop_oldest: the messages in `pending`, and the most it may hold.
    waiting: usize,
    keep: usize,
    /// Lifecycle events in `pending` (markers and messages aside), and the most that may wait
    /// before the socket is no longer read.
    lifecycle_waiting: usize,
    lifecycle_limit: usize,
    /// drop_newest: drops not reported yet; they happened after the last pending event.
    lagged: u64,
    /// `GaveUp` was pushed: the stream ends once everything is in the channel.
    ending: bool,
    /// The stream ended; the next one's sender is `tx`, its receiver is parked in `streams`.
    ended: bool,
    streams: Arc<Streams>,
    counters: Arc<Counters>,
}

impl Delivery {
    /// A delivery for a new client, and the streams the client reads.
    pub fn new(
        capacity: usize,
        policy: Overflow,
        counters: Arc<Counters>,
    ) -> (Delivery, Arc<Streams>) {
        // An unbounded (linked-list) channel holding at most `capacity` events, enforced by
        // `offer`: a bounded channel allocates and writes every slot up front, which for
        // the default 65 536 events is 8 MiB of resident memory per client before the first
        // event (benches/, docs/BENCHMARKS.md); this one grows and shrinks with what is queued.
        let (tx, rx) = crossbeam_channel::unbounded();
        let capacity = capacity.max(1);
        let lifecycle_limit = capacity;
        // drop_oldest splits the capacity: events in the channel are the application's and
        // are never taken back, so the newest are kept by discarding among those waiting here.
        let (capacity, keep) = match policy {
            Overflow::DropOldest => {
                let keep = (capacity / 2).max(1);
                ((capacity - keep).max(1), keep)
            }
            _ => (capacity, 0),
        };
        let streams = Arc::new(Streams::new(rx));
        let d = Delivery {
            tx,
            policy,
            capacity,
            room: 0,
            pending: VecDeque::new(),
            waiting: 0,
            keep,
            lifecycle_waiting: 0,
            lifecycle_limit,
            lagged: 0,
            ending: false,
            ended: false,
            streams: streams.clone(),
            counters,
        };
        (d, streams)
    }

    /// True while the I/O loop must not read more from the socket: under `block` while events
    /// wait, under every policy while too many lifecycle events wait.
    pub fn blocked(&self) -> bool {
        (!self.pending.is_empty() && self.policy == Overflow::Block)
            || self.lifecycle_waiting > self.lifecycle_limit
    }

    /// When the oldest message waiting for room was read (the application is at least this
    /// far behind).
    pub fn oldest_waiting(&self) -> Option<std::time::SystemTime> {
        self.pending
            .iter()
            .find_map(|e| e.as_message().map(|m| m.received_at()))
    }

    /// True while anything (events or a marker) waits for room.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || self.lagged > 0
    }

    /// Offers one event to the application.
    pub fn push(&mut self, ev: Event) {
        if self.policy == Overflow::DropOldest {
            self.push_drop_oldest(ev);
            return;
        }
        self.flush();
        let ev = if self.pending.is_empty() && self.lagged == 0 {
            match self.offer(ev) {
                Ok(()) => {
                    self.delivered(1);
                    return;
                }
                Err(ev) => ev,
            }
        } else {
            ev
        };
        match self.policy {
            Overflow::DropNewest if matches!(ev, Event::Message(_)) => {
                self.lagged += 1;
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                if self.lagged > 0 {
                    self.pending.push_back(Event::Lagged {
                        dropped: self.lagged,
                    });
                    self.lagged = 0;
                }
                self.wait(ev);
            }
        }
    }

    /// Delivers what waits, in order, as far as there is room.
    pub fn flush(&mut self) {
        while let Some(ev) = self.pending.pop_front() {
            let message = matches!(ev, Event::Message(_));
            let lifecycle = is_lifecycle(&ev);
            match self.offer(ev) {
                Ok(()) => {
                    self.delivered(1);
                    if message && self.keep > 0 {
                        self.waiting -= 1;
                    }
                    if lifecycle {
                        self.lifecycle_waiting -= 1;
                    }
                }
                Err(ev) => {
                    self.pending.push_front(ev);
                    return;
                }
            }
        }
        if self.lagged > 0
            && self
                .offer(Event::Lagged {
                    dropped: self.lagged,
                })
                .is_ok()
        {
            self.lagged = 0;
            self.delivered(1);
        }
        if self.ending && self.lagged == 0 {
            self.finish_stream();
        }
    }

    /// drop_oldest: straight to the channel while nothing waits; otherwise in line, and the
    /// oldest waiting messages beyond `keep` are discarded.
    fn push_drop_oldest(&mut self, ev: Event) {
        self.flush();
        let ev = if self.pending.is_empty() {
            match self.offer(ev) {
                Ok(()) => {
                    self.delivered(1);
                    return;
                }
                Err(ev) => ev,
            }
        } else {
            ev
        };
        if matches!(ev, Event::Message(_)) {
            self.waiting += 1;
        }
        self.wait(ev);
        while self.waiting > self.keep {
            self.discard_oldest_waiting();
        }
    }

    /// Puts an event in line behind those waiting.
    fn wait(&mut self, ev: Event) {
        if is_lifecycle(&ev) {
            self.lifecycle_waiting += 1;
        }
        self.pending.push_back(ev);
    }

    /// drop_oldest: discards the first message waiting and counts it in a `Lagged` marker
    /// at its place (merged with a marker next to it). Lifecycle events before it stay.
    fn discard_oldest_waiting(&mut self) {
        let Some(i) = self
            .pending
            .iter()
            .position(|e| matches!(e, Event::Message(_)))
        else {
            self.waiting = 0;
            return;
        };
        self.pending.remove(i);
        self.waiting -= 1;
        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        let before = i.checked_sub(1);
        for at in before.into_iter().chain([i]) {
            if let Some(Event::Lagged { dropped }) = self.pending.get_mut(at) {
                *dropped += 1;
                return;
            }
        }
        self.pending.insert(i, Event::Lagged { dropped: 1 });
    }

    /// `GaveUp` was pushed: the stream ends once everything before it is in the channel
    /// (receivers then see the end after taking the queued events).
    pub fn end_stream(&mut self) {
        self.ending = true;
        self.flush();
    }

    /// `reconnect()`: if the stream ended, the next one starts (its receiver becomes the
    /// application's once the old one is drained); if it has not ended yet (events still
    /// wait for room), it simply goes on.
    pub fn restart(&mut self) {
        self.ending = false;
        if self.ended {
            self.ended = false;
            self.streams.activate();
        }
    }

    /// Ends the stream if nothing waits: drops its sender and parks a new channel for the next.
    fn finish_stream(&mut self) {
        if !self.pending.is_empty() {
            return;
        }
        let (tx, rx) = crossbeam_channel::unbounded();
        drop(std::mem::replace(&mut self.tx, tx));
        self.room = 0;
        self.ending = false;
        self.ended = true;
        self.streams.park(rx);
        // A consumer waiting on the readiness fd looks, and sees the end.
        self.streams.ready.notify();
    }

    /// Puts an event in the channel if it holds fewer than `capacity`; gives it back if not.
    /// This thread is the only sender, so the channel never holds more than `capacity`.
    ///
    /// `room` is a lower bound of the free places (only this thread adds events; the
    /// application only takes them), so the channel's length is read only when it runs out,
    /// not for every event.
    #[inline]
    fn offer(&mut self, ev: Event) -> Result<(), Event> {
        if self.room == 0 {
            self.room = self.capacity.saturating_sub(self.tx.len());
            if self.room == 0 {
                return Err(ev);
            }
        }
        self.room -= 1;
        // The channel is unbounded and `Streams` keeps its receiver: this cannot fail, but if
        // it did the event is handed back like a full channel's.
        self.tx.send(ev).map_err(|e| e.into_inner())?;
        self.streams.ready.notify();
        Ok(())
    }

    /// The event streams this delivers to (their readiness fd, for the I/O thread).
    pub fn streams(&self) -> Arc<Streams> {
        self.streams.clone()
    }

    fn delivered(&self, n: u64) {
        self.counters.delivered.fetch_add(n, Ordering::Relaxed);
    }
}
impl Drop for Delivery {
    /// The I/O thread ended (`close()`): the stream ends with it, and a consumer waiting on
    /// the readiness fd must look to see the end.
    fn drop(&mut self) {
        let (tx, _) = crossbeam_channel::unbounded();
        drop(std::mem::replace(&mut self.tx, tx));
        self.streams.ready.wake();
    }
}

/// Events that are neither messages nor `Lagged` markers: never discarded, bounded apart.
fn is_lifecycle(ev: &Event) -> bool {
    !matches!(ev, Event::Message(_) | Event::Lagged { .. })
}

#[cfg(test)]
mod tests;
