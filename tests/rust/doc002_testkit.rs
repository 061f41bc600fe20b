//! The four tests of reference document 002 against the testkit's daemon broadcaster.

use std::time::Duration;

use serde_json::json;
use tradewire::{Client, Config, Event, Preset};
use tradewire_testkit::DaemonServer;

use crate::support::{expect_kind, quick, wait_for, SOON};

fn client_for(server: &DaemonServer) -> Client {
    Client::connect(quick(
        Config::new(server.url())
            .preset(Preset::Daemon)
            .account_id(123),
    ))
    .expect("client")
}

#[test]
fn connection() {
    let server = DaemonServer::start().unwrap();
    let client = client_for(&server);
    assert!(matches!(
        expect_kind(&client, "connected", SOON),
        Event::Connected { epoch: 1, .. }
    ));
    assert!(client.status().connected);
    assert!(server.wait_for_connections(1, SOON));
}

#[test]
fn event_reception() {
    let server = DaemonServer::start().unwrap();
    let client = client_for(&server);
    expect_kind(&client, "connected", SOON);
    server.trigger_event(
        "GatewayUserTrade",
        Some(123),
        json!({"accountId": 123, "profitAndLoss": -45.50}),
    );
    let ev = expect_kind(&client, "message", SOON);
    let m = ev.as_message().unwrap();
    assert_eq!(m.msg_type(), Some("GatewayUserTrade"));
    assert_eq!(m.account_id(), Some("123"));
    assert_eq!(
        m.data::<serde_json::Value>().unwrap()["profitAndLoss"],
        -45.5
    );
}

#[test]
fn account_filtering() {
    let server = DaemonServer::start().unwrap();
    let client = client_for(&server);
    expect_kind(&client, "connected", SOON);
    server.trigger_event(
        "GatewayUserTrade",
        Some(456),
        json!({"accountId": 456, "profitAndLoss": -100}),
    );
    server.broadcast(r#"{"type":"GatewayUserTrade","account_id":"456","data":{}}"#);
    server.broadcast(r#"{"type":"MarketQuote","account_id":"123","data":{"bid":1}}"#);
    server.trigger_event("daemon_status", None, json!({"status": "RUNNING"}));
    let (_, seen) = wait_for(&client, SOON, |e| {
        e.as_message().and_then(|m| m.msg_type()) == Some("daemon_status")
    });
    let types: Vec<_> = seen
        .iter()
        .filter_map(|e| e.as_message())
        .map(|m| m.msg_type().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        ["MarketQuote"],
        "only the string-id event for 123 and the daemon-wide one pass"
    );
    assert_eq!(client.status().filtered, 2);
}

#[test]
fn reconnection() {
    let server = DaemonServer::start().unwrap();
    let client = client_for(&server);
    expect_kind(&client, "connected", SOON);
    server.stop();
    assert!(matches!(
        expect_kind(&client, "disconnected", SOON),
        Event::Disconnected { epoch: 1, .. }
    ));
    assert!(!client.status().connected);
    expect_kind(&client, "reconnecting", SOON);
    std::thread::sleep(Duration::from_millis(300));
    server.restart().unwrap();
    assert!(matches!(
        expect_kind(&client, "connected", SOON),
        Event::Connected { epoch: 2, .. }
    ));
    assert!(client.status().connected);
    server.trigger_event(
        "lockout_set",
        Some(123),
        json!({"reason": "Daily loss limit hit"}),
    );
    let m = expect_kind(&client, "message", SOON);
    assert_eq!(m.as_message().unwrap().epoch(), 2);
}
