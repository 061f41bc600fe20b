//! `recv_batch`: one call takes up to `max` queued events, in order, with inline reads and
//! without; with a callback set, the `recv` family is refused and the callback gets everything.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tradewire::{Client, Config, ErrorCategory};
use tradewire_testkit::events::sequenced;
use tradewire_testkit::{ServerOptions, WsServer};

use crate::support::{eventually, expect_kind, quick, seq_of, SOON};

/// Sends `n` sequenced messages and waits until all of them are queued (the core counts
/// each one as it enters the queue), then takes them with `recv_batch(max)`: the batch sizes.
fn batches_of_queued(inline_reads: bool, n: u64, max: usize) -> Vec<usize> {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client =
        Client::connect(quick(Config::new(server.url())).inline_reads(inline_reads)).unwrap();
    expect_kind(&client, "connected", SOON);
    let before = client.status().events_delivered;
    for i in 0..n {
        server.broadcast(&sequenced(i, None));
    }
    assert!(eventually(SOON, || client.status().events_delivered >= before + n));
    let mut sizes = Vec::new();
    let mut seqs = Vec::new();
    while (seqs.len() as u64) < n {
        let batch = client.recv_batch(max, Some(SOON)).unwrap();
        assert!(!batch.is_empty(), "timed out after {} messages", seqs.len());
        sizes.push(batch.len());
        seqs.extend(batch.iter().filter_map(seq_of));
    }
    assert_eq!(seqs, (0..n).collect::<Vec<_>>());
    assert!(client
        .recv_batch(max, Some(Duration::ZERO))
        .unwrap()
        .is_empty());
    client.close();
    sizes
}

#[test]
fn queued_events_come_in_full_batches_in_order() {
    for inline_reads in [false, true] {
        let sizes = batches_of_queued(inline_reads, 100, 16);
        assert_eq!(
            sizes,
            [16, 16, 16, 16, 16, 16, 4],
            "inline_reads {inline_reads}"
        );
    }
}

#[test]
fn with_a_callback_reading_is_refused_and_the_callback_gets_every_event() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::new(quick(Config::new(server.url()))).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    client
        .set_callback(move |e| sink.lock().unwrap().push(e))
        .unwrap();
    client.start().unwrap();
    assert!(server.wait_for_connections(1, SOON));
    for i in 0..10 {
        server.broadcast(&sequenced(i, None));
    }
    for refused in [
        client.try_recv().map(|_| ()),
        client.recv_timeout(Duration::from_millis(10)).map(|_| ()),
        client
            .recv_batch(8, Some(Duration::from_millis(10)))
            .map(|_| ()),
    ] {
        assert!(
            matches!(&refused, Err(e) if e.kind() == ErrorCategory::Usage),
            "{refused:?}"
        );
    }
    assert!(eventually(SOON, || {
        seen.lock().unwrap().iter().filter_map(seq_of).count() == 10
    }));
    client.close();
    let seqs: Vec<u64> = seen.lock().unwrap().iter().filter_map(seq_of).collect();
    assert_eq!(seqs, (0..10).collect::<Vec<_>>());
}
