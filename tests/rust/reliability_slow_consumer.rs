//! A consumer that stops reading for 5 s during a 5,000 events/s stream: memory stays
//! bounded, the connection stays up (heartbeats keep going: no `Disconnected` although the
//! stall is 2.5 heartbeat timeouts long), and the `Lagged` markers add up to exactly the
//! events that were dropped. The 30 s version with figures for every policy is
//! `cargo run --release -p tradewire-soak -- slow` (docs/RELIABILITY.md); the `block` policy
//! is covered by slow_consumer.rs.

use std::time::{Duration, Instant};

use tradewire::{Client, Config, Event, Overflow, Preset};
use tradewire_testkit::{events, DaemonServer};

use crate::support::{expect_kind, isolated, rss_kib, seq_of, SOON};

const RATE: f64 = 5000.0;
const STALL: Duration = Duration::from_secs(5);
/// Smaller than the stall's 25,000 events, so that the queue overflows.
const QUEUE: usize = 10_000;

fn stall_then_drain(policy: Overflow) {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(
        Config::new(server.url())
            .preset(Preset::Daemon)
            .overflow(policy)
            .queue_capacity(QUEUE)
            .heartbeat_interval(Duration::from_millis(500))
            .heartbeat_timeout(Duration::from_secs(2)),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    let rss0 = rss_kib();
    let total = (RATE * STALL.as_secs_f64()) as u64;
    let stream = server.stream(RATE, Some(total), |seq| events::daemon_event(seq, 123));
    // The stall: nobody reads.
    let t0 = Instant::now();
    let mut rss_peak = rss0;
    let mut always_connected = true;
    while t0.elapsed() < STALL || !stream.is_finished() {
        std::thread::sleep(Duration::from_millis(100));
        rss_peak = rss_peak.max(rss_kib());
        always_connected &= client.status().connected;
        assert!(t0.elapsed() < STALL + SOON * 3, "the stream did not finish");
    }
    let sent = stream.sent();
    assert!(
        always_connected,
        "the client lost its connection while the consumer stalled"
    );
    assert!(client.events().len() <= QUEUE);

    // Drain: every event is either delivered or counted in a Lagged marker.
    let (mut messages, mut lagged, mut last) = (0u64, 0u64, 0u64);
    while messages + lagged < sent {
        match client.recv_timeout(SOON).unwrap() {
            Some(ev @ Event::Message(_)) => {
                let seq = seq_of(&ev).unwrap();
                assert!(seq > last, "order kept: {seq} after {last}");
                last = seq;
                messages += 1;
            }
            Some(Event::Lagged { dropped }) => lagged += dropped,
            Some(other) => {
                panic!("unexpected {other:?} (after {messages} messages, {lagged} dropped)")
            }
            None => panic!("events stopped: {messages} messages + {lagged} dropped < {sent} sent"),
        }
    }
    let st = client.status();
    eprintln!(
        "slow consumer [{}]: sent {sent}, delivered {messages}, Lagged {lagged}, dropped {}, RSS {rss0} -> peak {rss_peak} KiB",
        policy.name(),
        st.dropped
    );
    assert_eq!(messages + lagged, sent);
    assert!(lagged > 0, "the queue must have overflowed");
    assert_eq!(
        st.dropped, lagged,
        "status().dropped equals the Lagged total"
    );
    assert!(
        st.connected && st.epoch == 1,
        "one connection throughout: {st:?}"
    );
    assert!(
        client.try_recv().unwrap().is_none(),
        "nothing after the stream: no Disconnected"
    );
    if isolated() {
        assert!(
            rss_peak < rss0 + 50 * 1024,
            "memory grew {} KiB",
            rss_peak - rss0
        );
    }
}

#[test]
fn drop_oldest_stall_keeps_memory_connection_and_accounting() {
    stall_then_drain(Overflow::DropOldest);
}

#[test]
fn drop_newest_stall_keeps_memory_connection_and_accounting() {
    stall_then_drain(Overflow::DropNewest);
}
