//! Sequence gaps (config `sequence`) against a server nobody here wrote (Python `websockets`,
//! tests/peers/numbered_server.py) that numbers its messages per channel and drops or repeats
//! some on purpose.

use std::time::Duration;

use tradewire::{Client, Config, Event, OnGap, SequenceScope};

use crate::support::peer::PeerServer;
use crate::support::{quick, wait_for, SOON};

fn feed() -> Option<PeerServer> {
    PeerServer::python("numbered_server.py", &["--port", "0"])
}

fn client(peer: &PeerServer, tune: impl FnOnce(Config) -> Config) -> Client {
    let config = quick(
        Config::new(peer.url(""))
            .sequence("/seq")
            .sequence_key("/channel"),
    );
    let client = Client::new(tune(config)).expect("valid config");
    client.start().unwrap();
    client
}

/// Waits for connection `epoch`, then for the server to count `open` connections.
fn connected(client: &Client, peer: &PeerServer, epoch: u64, open: usize) {
    let (ev, seen) = wait_for(
        client,
        SOON,
        |e| matches!(e, Event::Connected { epoch: got, .. } if *got == epoch),
    );
    assert!(ev.is_some(), "no connection {epoch}; saw {seen:#?}");
    assert!(
        peer.wait_count(open, SOON),
        "the server never saw the connection"
    );
}

fn publish(peer: &PeerServer, channel: &str, count: u32, drop: &[u32]) {
    let cmd =
        serde_json::json!({"cmd": "publish", "channel": channel, "count": count, "drop": drop});
    let reply = peer.command(&cmd.to_string());
    assert!(reply.starts_with("OK "), "{reply}");
}

/// The next `n` events that are messages or gaps, as short descriptions.
fn next(client: &Client, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        let ev = client
            .recv_timeout(SOON)
            .expect("recv")
            .expect("an event in time");
        match ev {
            Event::Message(m) => {
                let v: serde_json::Value = serde_json::from_str(m.raw().unwrap()).unwrap();
                out.push(format!("{}{}", v["channel"].as_str().unwrap(), v["seq"]));
            }
            Event::Gap {
                key,
                expected,
                received,
                missing,
                ..
            } => out.push(format!(
                "gap {} {expected}->{received} ({missing})",
                key.unwrap_or_default()
            )),
            _ => {}
        }
    }
    out
}

#[test]
fn a_gap_comes_just_before_the_message_that_skipped_and_duplicates_are_counted() {
    let Some(peer) = feed() else { return };
    let client = client(&peer, |c| c);
    connected(&client, &peer, 1, 1);
    publish(&peer, "BTC", 6, &[2, 3]);
    publish(&peer, "ETH", 2, &[]);
    peer.command(r#"{"cmd":"repeat","channel":"BTC"}"#);
    let got = next(&client, 8);
    assert_eq!(
        got,
        [
            "BTC1",
            "BTC2",
            "gap BTC 3->5 (2)",
            "BTC5",
            "BTC6",
            "ETH1",
            "ETH2",
            "BTC6"
        ],
        "the repeated BTC6 is delivered (drop_duplicates is off)"
    );
    let seq = client.status().sequence;
    assert_eq!(
        (seq.total.gaps, seq.total.missing, seq.total.duplicates),
        (1, 2, 1)
    );
    assert_eq!(seq.streams["BTC"].duplicates, 1);
    assert!(!seq.streams.contains_key("ETH"), "ETH had neither");
    let j = client.status().to_json();
    assert_eq!(j["sequence"]["streams"]["BTC"]["missing"], 2);
}

#[test]
fn drop_duplicates_holds_back_a_repeated_number() {
    let Some(peer) = feed() else { return };
    let client = client(&peer, |c| c.drop_duplicates(true));
    connected(&client, &peer, 1, 1);
    publish(&peer, "A", 2, &[]);
    peer.command(r#"{"cmd":"repeat","channel":"A"}"#);
    publish(&peer, "A", 1, &[]);
    assert_eq!(next(&client, 3), ["A1", "A2", "A3"]);
    assert_eq!(client.status().sequence.total.duplicates, 1);
}

#[test]
fn the_session_scope_sees_a_gap_across_a_reconnect_and_the_connection_scope_does_not() {
    for (scope, want) in [
        (SequenceScope::Session, vec!["gap C 3->4 (1)", "C4"]),
        (SequenceScope::Connection, vec!["C4"]),
    ] {
        let Some(peer) = feed() else { return };
        let client = client(&peer, |c| c.sequence_scope(scope));
        connected(&client, &peer, 1, 1);
        publish(&peer, "C", 2, &[]);
        assert_eq!(next(&client, 2), ["C1", "C2"]);
        peer.command(r#"{"cmd":"drop_connections"}"#);
        connected(&client, &peer, 2, 1);
        // C3 is numbered while no one listens to it: lost in the reconnect.
        publish(&peer, "C", 2, &[0]);
        assert_eq!(next(&client, want.len()), want, "{scope:?}");
    }
}

#[test]
fn on_gap_reconnect_resynchronises_by_reconnecting_and_is_bounded() {
    let Some(peer) = feed() else { return };
    let client = client(&peer, |c| {
        c.on_gap(OnGap::Reconnect)
            .sequence_scope(SequenceScope::Session)
            .backoff_initial(Duration::from_millis(50))
    });
    connected(&client, &peer, 1, 1);
    publish(&peer, "R", 1, &[]);
    for epoch in 2..=4 {
        publish(&peer, "R", 2, &[0]);
        connected(&client, &peer, epoch, 1);
    }
    // A fourth gap in a row is only marked: the connection stays.
    publish(&peer, "R", 2, &[0]);
    let (gap, _) = wait_for(&client, SOON, |e| matches!(e, Event::Gap { .. }));
    assert!(gap.is_some());
    publish(&peer, "R", 1, &[]);
    let (msg, seen) = wait_for(&client, SOON, |e| {
        e.as_message()
            .and_then(|m| m.raw())
            .is_some_and(|r| r.contains("\"seq\": 10"))
    });
    assert!(msg.is_some(), "{seen:#?}");
    assert!(
        !seen.iter().any(|e| matches!(e, Event::Disconnected { .. })),
        "no fourth reconnect: {seen:#?}"
    );
    assert_eq!(client.status().epoch, 4);
    assert_eq!(client.status().sequence.total.gaps, 4);
}
