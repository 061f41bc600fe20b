//! A slow consumer: memory stays bounded, heartbeats keep the connection alive, and under
//! the drop policies the `Lagged` markers account for every dropped event.

use std::time::Duration;

use tradewire::{Client, Config, Event, Overflow, Preset};
use tradewire_testkit::{events, DaemonServer};

use crate::support::{expect_kind, SOON};

fn seq_of(e: &Event) -> Option<u64> {
    e.as_message()?
        .data::<serde_json::Value>()?
        .get("seq")?
        .as_u64()
}

#[test]
fn block_policy_reads_no_more_than_it_can_queue_and_stays_alive() {
    let server = DaemonServer::start().unwrap();
    let capacity = 100;
    let client = Client::connect(
        Config::new(server.url())
            .preset(Preset::Daemon)
            .queue_capacity(capacity)
            .heartbeat_interval(Duration::from_millis(300))
            .heartbeat_timeout(Duration::from_secs(1)),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    let total = 20_000;
    let stream = server.stream(10_000.0, Some(total), |seq| events::sequenced(seq, Some(1)));
    // Stall for more than twice the heartbeat timeout.
    std::thread::sleep(Duration::from_millis(2500));
    let st = client.status();
    assert!(
        st.connected,
        "a stalled consumer must not look like a dead server"
    );
    assert!(client.events().len() <= capacity);
    assert!(
        st.messages_received < total,
        "the client stopped reading while the queue was full"
    );
    // Now consume everything: nothing was lost, in order, one connection.
    let mut next = 1;
    while next <= total {
        let ev = client
            .recv_timeout(SOON)
            .unwrap()
            .expect("the stream continues");
        match &ev {
            Event::Message(_) => {
                assert_eq!(seq_of(&ev), Some(next));
                next += 1;
            }
            other => panic!("unexpected {other:?} at seq {next}"),
        }
    }
    assert_eq!(client.status().dropped, 0);
    stream.stop();
}

fn lagged_accounting(policy: Overflow) {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(
        Config::new(server.url())
            .preset(Preset::Daemon)
            .queue_capacity(64)
            .overflow(policy),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    let total = 3_000;
    let stream = server.stream(0.0, Some(total), |seq| events::sequenced(seq, Some(1)));
    assert!(stream.wait_finished(SOON));
    std::thread::sleep(Duration::from_millis(200));
    let mut messages = 0u64;
    let mut lagged = 0u64;
    let mut last_seq = 0;
    while messages + lagged < total {
        match client
            .recv_timeout(SOON)
            .unwrap()
            .expect("events keep coming")
        {
            ev @ Event::Message(_) => {
                let s = seq_of(&ev).unwrap();
                assert!(s > last_seq, "order kept ({s} after {last_seq})");
                last_seq = s;
                messages += 1;
            }
            Event::Lagged { dropped } => lagged += dropped,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(messages + lagged, total);
    assert!(lagged > 0, "the queue must have overflowed");
    assert_eq!(client.status().dropped, lagged);
}

#[test]
fn drop_newest_lagged_counts_add_up() {
    lagged_accounting(Overflow::DropNewest);
}

#[test]
fn drop_oldest_lagged_counts_add_up() {
    lagged_accounting(Overflow::DropOldest);
}
