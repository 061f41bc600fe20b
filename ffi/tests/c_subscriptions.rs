//! The C program tests/c/subscriptions.c against a server nobody here wrote
//! (tests/peers/recording_server.py, Python `websockets`), which records what each
//! connection received: the live set of subscriptions is replayed after a drop, in order,
//! after on_connect, with a subscribe made in backoff applied once; tradovate subscription
//! requests are replayed with fresh ids.

mod support;

#[path = "../../tests/rust/support/peer.rs"]
mod peer;

use std::time::Duration;

use peer::PeerServer;
use support::{program, start, Flavor, PROGRAM_TIMEOUT};

const SOON: Duration = Duration::from_secs(20);

fn connections(peer: &PeerServer) -> Vec<Vec<String>> {
    let reply = peer.command(r#"{"cmd":"connections"}"#);
    let json = reply
        .strip_prefix("CONNECTIONS ")
        .unwrap_or_else(|| panic!("unexpected reply {reply:?}"));
    serde_json::from_str(json).expect("a JSON array of arrays")
}

/// Waits until connection `i` has received `n` messages; returns them.
fn received_on(peer: &PeerServer, i: usize, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + SOON;
    loop {
        let got = connections(peer).get(i).cloned().unwrap_or_default();
        if got.len() >= n || std::time::Instant::now() >= deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn id_of(frame: &str) -> u64 {
    frame.split('\n').nth(1).unwrap().parse().unwrap()
}

#[test]
fn c_subscriptions_are_replayed_in_order_after_a_drop_and_in_backoff() {
    let Some(peer) = PeerServer::python("recording_server.py", &["--port", "0"]) else {
        return;
    };
    let exe = program("subscriptions", Flavor::Sanitized);
    let url = peer.url("");
    let mut running = start(&exe, &[&url, "plain"], &[]);
    running.wait_for_line(SOON, |l| l == "phase=1");
    assert_eq!(received_on(&peer, 0, 5), ["OC", "A", "B", "C", "unsub B"]);
    assert_eq!(peer.command(r#"{"cmd":"drop"}"#), "OK 1");
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("subscriptions");
    assert_eq!(received_on(&peer, 1, 5), ["OC", "A", "C", "D", "app"]);
    let all = connections(&peer);
    assert_eq!(
        all.iter().flatten().filter(|m| *m == "unsub B").count(),
        1,
        "{all:?}"
    );
    let subs: serde_json::Value =
        serde_json::from_str(done.value("subscriptions").expect("a subscriptions line")).unwrap();
    let keys: Vec<_> = subs
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys, ["A", "C", "D"]);
}

#[test]
fn c_tradovate_subscriptions_are_replayed_with_fresh_ids() {
    let Some(peer) = PeerServer::python("recording_server.py", &["--port", "0", "--tradovate"])
    else {
        return;
    };
    let exe = program("subscriptions", Flavor::Sanitized);
    let url = peer.url("/v1/websocket");
    let mut running = start(&exe, &[&url, "tradovate"], &[]);
    running.wait_for_line(SOON, |l| l == "phase=1");
    let first = received_on(&peer, 0, 2);
    assert!(first[1].starts_with("md/subscribeQuote\n"), "{first:?}");
    peer.command(r#"{"cmd":"drop"}"#);
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("subscriptions");
    let second = received_on(&peer, 1, 3);
    assert_eq!(
        second.len(),
        3,
        "{:?}\n{:?}",
        connections(&peer),
        done.stdout
    );
    assert!(second[0].starts_with("authorize\n0\n"), "{second:?}");
    assert!(second[1].starts_with("md/subscribeQuote\n"), "{second:?}");
    assert!(
        second[1].ends_with("\n\n{\"symbol\":\"ESZ5\"}"),
        "{second:?}"
    );
    assert!(id_of(&second[1]) > id_of(&first[1]), "{first:?} {second:?}");
    assert!(second[2].starts_with("md/unsubscribeQuote\n"), "{second:?}");
    let subs: serde_json::Value =
        serde_json::from_str(done.value("subscriptions").expect("a subscriptions line")).unwrap();
    assert_eq!(
        subs,
        serde_json::json!([{"key": "ESZ5", "endpoint": "md/subscribeQuote",
            "body": "{\"symbol\":\"ESZ5\"}", "unsubscribe_endpoint": "md/unsubscribeQuote"}])
    );
}
