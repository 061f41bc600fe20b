//! What each connection of the bridge reports: counters the writer thread keeps and the
//! main thread reads for the `--status-interval` line (its text is a pure function).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Counters of one connection, written by its writer thread, read by the status line.
#[derive(Debug, Default)]
pub struct Shared {
    /// Events Redis acknowledged (each counted once, however many streams it went to).
    pub written: AtomicU64,
    /// Events taken from the client and not acknowledged by Redis yet.
    pub unacked: AtomicU64,
    /// A Redis connection is open.
    pub redis_up: AtomicBool,
    /// Connections to Redis made (the first one included).
    pub redis_connects: AtomicU64,
}

/// One connection's figures for a status line.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot<'a> {
    /// `[n] ` with several connections, else empty.
    pub label: &'a str,
    /// The WebSocket client's state name (`live`, `backoff`, ...).
    pub feed: &'a str,
    /// Redis connection open.
    pub redis_up: bool,
    /// Events acknowledged by Redis so far.
    pub written: u64,
    /// Events acknowledged since the previous line.
    pub written_since: u64,
    /// Seconds since the previous line.
    pub seconds: f64,
    /// Events taken, not acknowledged yet.
    pub unacked: u64,
    /// Reconnections to Redis (connections made after the first).
    pub redis_reconnects: u64,
    /// Events the client queued that the writer has not taken yet (under `block`, a full
    /// queue means the WebSocket is not being read).
    pub queued: u64,
    /// Messages dropped by the overflow policy (0 under `block`).
    pub dropped: u64,
}

impl Shared {
    /// Reconnections to Redis so far.
    pub fn redis_reconnects(&self) -> u64 {
        self.redis_connects
            .load(Ordering::Relaxed)
            .saturating_sub(1)
    }
}

/// The status line (without the `tradewire: ` prefix). Pure.
pub fn status_line(s: &Snapshot<'_>) -> String {
    let rate = if s.seconds > 0.0 {
        (s.written_since as f64 / s.seconds).round() as u64
    } else {
        0
    };
    format!(
        "{}status: feed {}, redis {}, {} written ({rate}/s), {} unacknowledged, {} queued in the client, {} dropped, {} Redis reconnects",
        s.label,
        s.feed,
        if s.redis_up { "up" } else { "down" },
        s.written,
        s.unacked,
        s.queued,
        s.dropped,
        s.redis_reconnects
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_line() {
        let s = Snapshot {
            label: "[2] ",
            feed: "live",
            redis_up: false,
            written: 1500,
            written_since: 500,
            seconds: 2.0,
            unacked: 12,
            queued: 65536,
            redis_reconnects: 1,
            dropped: 0,
        };
        assert_eq!(
            status_line(&s),
            "[2] status: feed live, redis down, 1500 written (250/s), 12 unacknowledged, 65536 queued in the client, 0 dropped, 1 Redis reconnects"
        );
    }
}
