//! The history ring: the last N messages, readable from any thread.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::event::Message;

/// Keeps the most recent `capacity` messages. A capacity of 0 keeps nothing and costs nothing.
#[derive(Debug)]
pub(crate) struct History {
    capacity: usize,
    ring: Mutex<VecDeque<Message>>,
}

impl History {
    pub fn new(capacity: usize) -> History {
        History {
            capacity,
            ring: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
        }
    }

    pub fn record(&self, m: &Message) {
        if self.capacity == 0 {
            return;
        }
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.len() == self.capacity {
            ring.pop_front();
        }
        ring.push_back(m.clone());
    }

    /// Oldest first.
    pub fn snapshot(&self) -> Vec<Message> {
        self.ring
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn keeps_the_last_n() {
        let h = History::new(3);
        for i in 0..5 {
            h.record(&Message::text(
                &i.to_string(),
                None,
                None,
                None,
                SystemTime::now(),
                1,
            ));
        }
        let got: Vec<String> = h
            .snapshot()
            .iter()
            .map(|m| m.raw().unwrap().to_string())
            .collect();
        assert_eq!(got, ["2", "3", "4"]);
        let none = History::new(0);
        none.record(&Message::text("x", None, None, None, SystemTime::now(), 1));
        assert!(none.snapshot().is_empty());
    }
}
