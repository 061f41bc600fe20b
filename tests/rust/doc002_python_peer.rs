//! The four tests of reference document 002 (connection, event reception, account
//! filtering, reconnection) against a daemon written with Python's `websockets` library.

use std::time::Duration;

use tradewire::{Client, Config, Event, Preset};

use crate::support::peer::PeerServer;
use crate::support::{expect_kind, quick, wait_for, SOON};

fn daemon() -> Option<PeerServer> {
    PeerServer::python("daemon_server.py", &["--port", "0"])
}

fn client_for(peer: &PeerServer) -> Client {
    let config = quick(
        Config::new(peer.url(""))
            .preset(Preset::Daemon)
            .account_id(123),
    );
    let c = Client::new(config).expect("valid config");
    c.start().expect("start");
    c
}

#[test]
fn connection() {
    let Some(peer) = daemon() else { return };
    let client = client_for(&peer);
    expect_kind(&client, "connected", SOON);
    assert!(client.status().connected);
    assert!(peer.wait_count(1, SOON));
}

#[test]
fn event_reception() {
    let Some(peer) = daemon() else { return };
    let client = client_for(&peer);
    expect_kind(&client, "connected", SOON);
    assert!(peer.wait_count(1, SOON));
    peer.event(
        "GatewayUserTrade",
        Some(123),
        r#"{"accountId":123,"profitAndLoss":-45.5}"#,
    );
    let (ev, _) = wait_for(&client, SOON, |e| matches!(e, Event::Message(_)));
    let m = ev.expect("the trade arrives");
    let m = m.as_message().unwrap();
    assert_eq!(m.msg_type(), Some("GatewayUserTrade"));
    let data: serde_json::Value = m.data().unwrap();
    assert_eq!(data["profitAndLoss"], -45.5);
}

#[test]
fn account_filtering() {
    let Some(peer) = daemon() else { return };
    let client = client_for(&peer);
    expect_kind(&client, "connected", SOON);
    assert!(peer.wait_count(1, SOON));
    peer.event(
        "GatewayUserTrade",
        Some(456),
        r#"{"accountId":456,"profitAndLoss":-100}"#,
    );
    peer.event("daemon_status", None, r#"{"status":"RUNNING"}"#);
    let (ev, seen) = wait_for(&client, SOON, |e| matches!(e, Event::Message(_)));
    let m = ev.expect("the daemon-wide event arrives");
    assert_eq!(
        m.as_message().unwrap().msg_type(),
        Some("daemon_status"),
        "seen before: {seen:?}"
    );
    assert_eq!(client.status().filtered, 1);
}

#[test]
fn reconnection() {
    let Some(peer) = daemon() else { return };
    let client = client_for(&peer);
    expect_kind(&client, "connected", SOON);
    peer.stop();
    let ev = expect_kind(&client, "disconnected", SOON);
    assert!(matches!(ev, Event::Disconnected { epoch: 1, .. }));
    assert!(!client.status().connected);
    std::thread::sleep(Duration::from_millis(300));
    peer.start();
    let ev = expect_kind(&client, "connected", SOON);
    assert!(matches!(ev, Event::Connected { epoch: 2, .. }));
    assert!(client.status().connected);
    assert_eq!(client.status().reconnects, 1);
}
