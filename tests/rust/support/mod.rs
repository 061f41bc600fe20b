//! Helpers shared by the scenarios: waiting for events with generous bounds.

#![allow(dead_code)]

pub mod canary;
pub mod peer;
pub mod proxy_servers;

use std::time::{Duration, Instant};

use tradewire::{Client, Config, Event};

/// Generous bound for anything that should happen "soon" on a busy 2-core machine.
pub const SOON: Duration = Duration::from_secs(10);

/// A config tuned for tests: quick backoff, no jitter, short timeouts. With
/// `TRADEWIRE_TEST_INLINE_READS=0` (a second pass of the test command), `inline_reads` off:
/// only the I/O thread reads.
pub fn quick(config: Config) -> Config {
    let config = config
        .backoff_initial(Duration::from_millis(100))
        .backoff_max(Duration::from_millis(400))
        .jitter(0.0)
        .connect_timeout(Duration::from_secs(5));
    if std::env::var_os("TRADEWIRE_TEST_INLINE_READS").is_some_and(|v| v == "0") {
        config.inline_reads(false)
    } else {
        config
    }
}

/// Receives events until one matches, returning it with everything seen before it.
pub fn wait_for(
    client: &Client,
    timeout: Duration,
    mut pred: impl FnMut(&Event) -> bool,
) -> (Option<Event>, Vec<Event>) {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match client.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Some(ev)) => {
                if pred(&ev) {
                    return (Some(ev), seen);
                }
                seen.push(ev);
            }
            Ok(None) => break,
            Err(_) => break,
        }
    }
    (None, seen)
}

/// Waits for an event of the given kind, panicking with what was seen if none comes.
pub fn expect_kind(client: &Client, kind: &str, timeout: Duration) -> Event {
    let (ev, seen) = wait_for(client, timeout, |e| e.kind() == kind);
    match ev {
        Some(e) => e,
        None => panic!("no `{kind}` event within {timeout:?}; saw: {seen:#?}"),
    }
}

/// Polls a condition until it holds or the timeout passes.
pub fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// Message events only, as (type, data JSON).
pub fn messages(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| e.as_message())
        .map(|m| {
            (
                m.msg_type().unwrap_or("").to_string(),
                m.data_json().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub use tradewire_testkit::probe::{fd_count, rss_kib, threads_named};

/// Whether this test has the process to itself (cargo-nextest, which the test command uses),
/// so that per-process figures (threads, descriptors, RSS) belong to it alone.
pub fn isolated() -> bool {
    std::env::var_os("NEXTEST").is_some()
}

/// Sequence number of a `testkit::events::sequenced` (or `daemon_event`) message.
pub fn seq_of(e: &Event) -> Option<u64> {
    e.as_message()?
        .data::<serde_json::Value>()?
        .get("seq")?
        .as_u64()
}

/// Feeds 10,000 sequenced messages (`{"seq": i}`) to the first client of `server`, in bursts
/// with pauses, and drops the connection after the first 5,000 once the consumer has them
/// (`seen`: how many numbered messages it has; dropping with frames still queued in the
/// server would lose them on the server's side, which is not what the tests are about).
pub fn feed_across_a_drop(
    server: std::sync::Arc<tradewire_testkit::WsServer>,
    seen: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> std::thread::JoinHandle<()> {
    use std::sync::atomic::Ordering;
    use tradewire_testkit::events::sequenced;
    std::thread::spawn(move || {
        assert!(server.wait_for_connections(1, SOON));
        for i in 0..5_000 {
            server.broadcast(&sequenced(i, None));
            if i % 500 == 499 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let deadline = std::time::Instant::now() + SOON;
        while seen.load(Ordering::SeqCst) < 5_000 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.drop_all();
        assert!(server.wait_for_connections(1, SOON));
        for i in 5_000..10_000 {
            server.broadcast(&sequenced(i, None));
            if i % 100 == 99 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    })
}
