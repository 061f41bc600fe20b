//! Under every overflow policy, across reconnects and a final give-up, with a consumer that
//! does not read while the queue overflows (drop policies): only messages are dropped; every
//! lifecycle event (`connected`, `disconnected`, `reconnecting`, `gave_up`) arrives, in
//! order; each `Lagged{dropped}` stands exactly where its messages were (the sequence numbers
//! on both sides of it differ by `dropped` + 1); delivered + dropped = sent, exactly. Then
//! the stream ends after `gave_up` (recv gives `Err(Closed)`, iteration ends) and
//! `reconnect()` starts a new one.

use std::time::Duration;

use tradewire::{Client, Config, ErrorCategory, Event, Overflow, Preset};
use tradewire_testkit::{events, DaemonServer};

use crate::support::{eventually, expect_kind, quick, seq_of, SOON};

const QUEUE: usize = 64;
/// Messages per connection, much more than the queue holds.
const BURST: u64 = 2_000;
/// Connections dropped by the server while the consumer does not read.
const DROPS: u64 = 3;

fn lifecycle_and_accounting_across_reconnects(policy: Overflow) {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(
        quick(Config::new(server.url()).preset(Preset::Daemon))
            .overflow(policy)
            .queue_capacity(QUEUE)
            .min_uptime(Duration::ZERO)
            .max_reconnect_attempts(Some(2)),
    )
    .unwrap();
    assert!(server.wait_for_connections(1, SOON), "no connection");
    let mut seen: Vec<Event> = Vec::new();
    let mut sent = 0;
    for _ in 0..DROPS {
        let stream = server.stream(0.0, Some(BURST), |seq| events::sequenced(seq, Some(123)));
        if policy == Overflow::Block {
            // Nothing is dropped, so the client stops reading when the queue is full: read
            // everything before the connection goes.
            while seen.iter().filter(|e| e.as_message().is_some()).count() < (sent + BURST) as usize
            {
                match client.recv_timeout(SOON) {
                    Ok(Some(e)) => seen.push(e),
                    other => panic!("events stopped: {other:?}"),
                }
            }
        }
        assert!(stream.wait_finished(SOON), "the stream did not finish");
        sent += stream.sent();
        // The client read everything (the drop policies keep reading while nobody takes
        // events) before the server drops the connection without a close frame.
        assert!(
            eventually(SOON, || client.status().messages_received == sent),
            "received {} of {sent}",
            client.status().messages_received
        );
        server.drop_all();
        assert!(server.wait_for_connections(1, SOON), "no reconnect");
    }
    // The server goes away for good: two more attempts, then the client gives up.
    server.stop();
    loop {
        match client.recv_timeout(SOON) {
            Ok(Some(e)) => seen.push(e),
            Ok(None) => panic!("no end of stream after: {:?}", seen.last()),
            Err(e) if e.kind() == ErrorCategory::Closed => break,
            Err(e) => panic!("{e}"),
        }
    }

    // Lifecycle events: all of them, in order.
    let lifecycle: Vec<String> = seen
        .iter()
        .filter(|e| !matches!(e, Event::Message(_) | Event::Lagged { .. }))
        .map(|e| match e {
            Event::Connected { epoch, .. } => format!("connected {epoch}"),
            Event::Disconnected { epoch, .. } => format!("disconnected {epoch}"),
            Event::Reconnecting { attempt, .. } => format!("reconnecting {attempt}"),
            other => other.kind().to_string(),
        })
        .collect();
    let mut expected = vec!["connected 1".to_string()];
    for epoch in 1..=DROPS {
        expected.push(format!("disconnected {epoch}"));
        expected.push("reconnecting 1".into());
        expected.push(format!("connected {}", epoch + 1));
    }
    expected.extend([
        format!("disconnected {}", DROPS + 1),
        "reconnecting 1".into(),
        "reconnecting 2".into(),
        "gave_up".into(),
    ]);
    assert_eq!(lifecycle, expected, "[{}]", policy.name());

    // Messages and markers: within each connection, every sequence number is either
    // delivered or covered by the Lagged marker at its place.
    let (mut delivered, mut lagged, mut next, mut epoch) = (0u64, 0u64, 1u64, 0u64);
    for e in &seen {
        match e {
            Event::Connected { epoch: n, .. } => {
                epoch = *n;
                next = 1;
            }
            Event::Disconnected { .. } => {
                let in_epoch = if epoch <= DROPS { BURST } else { 0 };
                assert_eq!(
                    next,
                    in_epoch + 1,
                    "connection {epoch}: every message accounted for"
                );
            }
            Event::Lagged { dropped } => {
                lagged += dropped;
                next += dropped;
            }
            Event::Message(_) => {
                assert_eq!(
                    seq_of(e),
                    Some(next),
                    "connection {epoch}: message in place"
                );
                delivered += 1;
                next += 1;
            }
            _ => {}
        }
    }
    let st = client.status();
    eprintln!(
        "delivery [{}]: sent {sent}, delivered {delivered}, Lagged {lagged}, dropped {}",
        policy.name(),
        st.dropped
    );
    assert_eq!(delivered + lagged, sent);
    assert_eq!(st.dropped, lagged, "status().dropped is the Lagged total");
    if policy == Overflow::Block {
        assert_eq!(lagged, 0);
    } else {
        assert!(lagged > 0, "the queue must have overflowed");
    }

    // The stream has ended: recv says so at once (and that it gave up), iteration ends.
    assert!(matches!(client.try_recv(), Err(e) if e.kind() == ErrorCategory::Closed));
    let ended = client.recv().unwrap_err();
    assert_eq!(ended.kind(), ErrorCategory::Closed);
    assert!(ended.to_string().contains("gave up"), "{ended}");
    assert!(ended.to_string().contains("reconnect()"), "{ended}");
    assert_eq!(client.events().iter().count(), 0);
    // reconnect() starts a new stream.
    server.restart().unwrap();
    client.reconnect().unwrap();
    let Event::Connected { epoch, .. } = expect_kind(&client, "connected", SOON) else {
        unreachable!()
    };
    assert_eq!(epoch, DROPS + 2);
}

#[test]
fn block_keeps_every_event_across_reconnects_then_ends_after_gave_up() {
    lifecycle_and_accounting_across_reconnects(Overflow::Block);
}

#[test]
fn drop_oldest_drops_only_messages_across_reconnects_then_ends_after_gave_up() {
    lifecycle_and_accounting_across_reconnects(Overflow::DropOldest);
}

#[test]
fn drop_newest_drops_only_messages_across_reconnects_then_ends_after_gave_up() {
    lifecycle_and_accounting_across_reconnects(Overflow::DropNewest);
}

/// A callback gets `gave_up`, then, after `reconnect()`, the events of the new stream.
#[test]
fn the_callback_follows_the_new_stream_after_gave_up() {
    let server = DaemonServer::start().unwrap();
    let url = server.url();
    server.stop();
    let client = Client::new(quick(Config::new(url)).max_reconnect_attempts(Some(1))).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    client
        .set_callback(move |e| {
            let _ = tx.send(e.kind());
        })
        .unwrap();
    client.start().unwrap();
    let mut kinds = Vec::new();
    while kinds.last() != Some(&"gave_up") {
        kinds.push(rx.recv_timeout(SOON).expect("events stopped"));
    }
    assert_eq!(kinds, ["reconnecting", "gave_up"]);
    server.restart().unwrap();
    client.reconnect().unwrap();
    assert_eq!(rx.recv_timeout(SOON), Ok("connected"));
    client.close();
}
