//! The breakout preset (reference 001): server HEARTBEAT latency and a 100-message history.

use std::time::Duration;

use serde_json::json;
use tradewire::{Client, Config, Preset};
use tradewire_testkit::{BreakoutOptions, BreakoutServer};

use crate::support::{eventually, expect_kind, quick, SOON};

#[test]
fn heartbeat_latency_and_history() {
    let server = BreakoutServer::start(BreakoutOptions {
        heartbeat_interval: Duration::from_millis(200),
        ..BreakoutOptions::default()
    })
    .unwrap();
    let client =
        Client::connect(quick(Config::new(server.url()).preset(Preset::Breakout))).unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(eventually(SOON, || client
        .status()
        .last_heartbeat_latency
        .is_some()));
    for i in 0..150 {
        server.publish("SIGNAL", json!({"n": i}));
    }
    assert!(eventually(SOON, || client
        .history()
        .iter()
        .any(|m| m.data_json() == Some(r#"{"n":149}"#))));
    let history = client.history();
    assert_eq!(history.len(), 100);
    let signals: Vec<_> = history
        .iter()
        .filter(|m| m.msg_type() == Some("SIGNAL"))
        .collect();
    assert_eq!(signals.last().unwrap().data_json(), Some(r#"{"n":149}"#));
}

/// Document 001's store keeps every parsed message: one without `type` is delivered and kept
/// in the history (routing by type just does not match it), not an error.
#[test]
fn a_message_without_a_type_is_delivered_and_kept() {
    let server = BreakoutServer::start(BreakoutOptions::default()).unwrap();
    let client =
        Client::connect(quick(Config::new(server.url()).preset(Preset::Breakout))).unwrap();
    expect_kind(&client, "connected", SOON);
    server.broadcast(r#"{"ts":1700000000000,"data":{"note":"untyped"}}"#);
    let (ev, seen) = crate::support::wait_for(
        &client,
        SOON,
        |e| matches!(e, tradewire::Event::Message(m) if m.msg_type().is_none()),
    );
    match ev {
        Some(tradewire::Event::Message(m)) => {
            assert_eq!(m.data_json(), Some(r#"{"note":"untyped"}"#))
        }
        other => panic!("{other:?} after {seen:?}"),
    }
    assert!(client
        .history()
        .iter()
        .any(|m| m.data_json() == Some(r#"{"note":"untyped"}"#)));
    assert_eq!(client.status().errors, 0);
}
