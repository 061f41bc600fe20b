//! Hands events to the application through a bounded channel, applying the overflow policy
//! and reporting every drop in order with a `Lagged` marker.
//!
//! Runs on the I/O thread. It never blocks: under the `block` policy it keeps the events that
//! did not fit and tells the I/O loop to stop reading the socket until they are delivered.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};

use crate::event::Event;
use crate::status::Counters;

/// What happens when the application does not keep up and the event channel is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// Stop reading the socket (TCP pushes back on the server); timers keep running. Nothing is dropped.
    #[default]
    Block,
    /// Discard the oldest queued events to make room; a `Lagged` marker says how many.
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
    rx: Receiver<Event>,
    policy: Overflow,
    capacity: usize,
    /// Places known to be free in the channel (see `offer`).
    room: usize,
    /// Events that did not fit yet, in order (block: everything; drop_newest: lifecycle events and markers).
    pending: VecDeque<Event>,
    /// Drops not reported yet; they happened after the last pending event.
    lagged: u64,
    counters: Arc<Counters>,
}

impl Delivery {
    pub fn new(
        capacity: usize,
        policy: Overflow,
        counters: Arc<Counters>,
    ) -> (Delivery, Receiver<Event>) {
        // An unbounded (linked-list) channel holding at most `capacity` events, enforced by
        // `offer`: a bounded channel allocates and writes every slot up front, which for
        // the default 65 536 events is 8 MiB of resident memory per client before the first
        // event (benches/, docs/BENCHMARKS.md); this one grows and shrinks with what is queued.
        let (tx, rx) = crossbeam_channel::unbounded();
        let d = Delivery {
            tx,
            rx: rx.clone(),
            policy,
            capacity,
            room: 0,
            pending: VecDeque::new(),
            lagged: 0,
            counters,
        };
        (d, rx)
    }

    /// Under `block`, true while events wait: the I/O loop must not read more from the socket.
    pub fn blocked(&self) -> bool {
        !self.pending.is_empty() && self.policy == Overflow::Block
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
                self.pending.push_back(ev);
            }
        }
    }

    /// Delivers what waits, in order, as far as there is room.
    pub fn flush(&mut self) {
        while let Some(ev) = self.pending.pop_front() {
            match self.offer(ev) {
                Ok(()) => self.delivered(1),
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
    }

    fn push_drop_oldest(&mut self, mut ev: Event) {
        loop {
            if self.lagged > 0 {
                match self.offer(Event::Lagged {
                    dropped: self.lagged,
                }) {
                    Ok(()) => {
                        self.lagged = 0;
                        self.delivered(1);
                    }
                    Err(_) => {
                        self.make_room();
                        continue;
                    }
                }
            }
            match self.offer(ev) {
                Ok(()) => {
                    self.delivered(1);
                    return;
                }
                Err(e) => {
                    ev = e;
                    self.make_room();
                }
            }
        }
    }

    /// Discards the oldest events (a chunk at a time, at least two) so that a marker and an
    /// event fit. A discarded marker's count is carried into the next marker.
    fn make_room(&mut self) {
        let chunk = (self.capacity / 16).max(2);
        for _ in 0..chunk {
            match self.rx.try_recv() {
                Ok(Event::Lagged { dropped }) => {
                    self.lagged += dropped;
                    self.counters.delivered.fetch_sub(1, Ordering::Relaxed);
                }
                Ok(_) => {
                    self.lagged += 1;
                    self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    self.counters.delivered.fetch_sub(1, Ordering::Relaxed);
                }
                Err(_) => break,
            }
        }
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
        // The channel is unbounded and `self.rx` keeps it open: this cannot fail, but if it
        // did the event is handed back like a full channel's.
        self.tx.send(ev).map_err(|e| e.into_inner())
    }

    fn delivered(&self, n: u64) {
        self.counters.delivered.fetch_add(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Message;
    use std::time::SystemTime;

    fn msg(i: u64) -> Event {
        Event::Message(Message::text(
            &i.to_string(),
            None,
            None,
            None,
            SystemTime::now(),
            1,
        ))
    }

    fn id(ev: &Event) -> String {
        match ev {
            Event::Message(m) => m.raw().unwrap().to_string(),
            Event::Lagged { dropped } => format!("L{dropped}"),
            other => other.kind().to_string(),
        }
    }

    fn drain(rx: &Receiver<Event>) -> Vec<String> {
        rx.try_iter().map(|e| id(&e)).collect()
    }

    #[test]
    fn block_keeps_everything_in_order() {
        let c = Arc::new(Counters::default());
        let (mut d, rx) = Delivery::new(2, Overflow::Block, c.clone());
        for i in 0..5 {
            d.push(msg(i));
        }
        assert!(d.blocked());
        assert_eq!(drain(&rx), ["0", "1"]);
        d.flush();
        assert_eq!(drain(&rx), ["2", "3"]);
        d.flush();
        assert_eq!(drain(&rx), ["4"]);
        assert!(!d.blocked());
        assert_eq!(c.dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn drop_newest_reports_drops_in_place_and_keeps_lifecycle() {
        let c = Arc::new(Counters::default());
        let (mut d, rx) = Delivery::new(2, Overflow::DropNewest, c.clone());
        d.push(msg(0));
        d.push(msg(1));
        d.push(msg(2)); // dropped
        d.push(Event::GaveUp { reason: "x".into() }); // kept, after marker
        d.push(msg(3)); // dropped
        assert_eq!(drain(&rx), ["0", "1"]);
        d.flush();
        d.flush();
        assert_eq!(drain(&rx), ["L1", "gave_up"]);
        d.flush();
        assert_eq!(drain(&rx), ["L1"]);
        assert_eq!(c.dropped.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn drop_oldest_counts_add_up() {
        let c = Arc::new(Counters::default());
        let (mut d, rx) = Delivery::new(4, Overflow::DropOldest, c.clone());
        for i in 0..100 {
            d.push(msg(i));
        }
        let got = drain(&rx);
        let lagged: u64 = got
            .iter()
            .filter_map(|s| s.strip_prefix('L'))
            .map(|n| n.parse::<u64>().unwrap())
            .sum();
        let messages = got.iter().filter(|s| !s.starts_with('L')).count() as u64;
        assert_eq!(lagged + messages, 100, "{got:?}");
        assert_eq!(lagged, c.dropped.load(Ordering::Relaxed));
        assert_eq!(got.last().unwrap(), "99");
    }
}
