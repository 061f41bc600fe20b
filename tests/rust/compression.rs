//! permessage-deflate against servers nobody on this team wrote: Python `websockets` (on by
//! default there) and Node `ws` (started with `--deflate`). Filters, sends and the size limit
//! on compressed streams; `compression(None)` does not offer it. The scenarios run with and
//! without inline reads (the test command's two passes).

use std::time::Duration;

use tradewire::{Client, Config, Event, Preset};

use crate::support::peer::PeerServer;
use crate::support::{eventually, expect_kind, quick, wait_for, SOON};

fn daemon_client(peer: &PeerServer, config: impl FnOnce(Config) -> Config) -> Client {
    let config = config(quick(
        Config::new(peer.url(""))
            .preset(Preset::Daemon)
            .account_id(123),
    ));
    Client::connect(config).expect("valid config")
}

#[test]
fn python_websockets_compressed_stream_is_filtered_and_answered() {
    let Some(peer) = PeerServer::python("daemon_server.py", &["--port", "0"]) else {
        return;
    };
    let client = daemon_client(&peer, |c| c);
    expect_kind(&client, "connected", SOON);
    assert!(peer.wait_count(1, SOON));
    assert_eq!(
        peer.extensions(),
        serde_json::json!([["permessage-deflate"]])
    );
    let fills = "0123456789".repeat(500);
    for i in 0..50 {
        let account = if i % 2 == 0 { 123 } else { 456 };
        peer.event(
            "trade",
            Some(account),
            &format!(r#"{{"n":{i},"fill":"{fills}"}}"#),
        );
    }
    let mut got = Vec::new();
    while got.len() < 25 {
        let (ev, seen) = wait_for(&client, SOON, |e| matches!(e, Event::Message(_)));
        let ev = ev.unwrap_or_else(|| panic!("after {got:?}, saw {seen:?}"));
        let data: serde_json::Value = ev.as_message().unwrap().data().unwrap();
        assert_eq!(data["fill"], fills.as_str());
        got.push(data["n"].as_u64().unwrap());
    }
    assert_eq!(got, (0..50).step_by(2).collect::<Vec<u64>>());
    assert!(eventually(SOON, || client.status().filtered == 25));
    // What the client sends is compressed too, and the library inflates it.
    client.send_text(format!("hello {fills}")).unwrap();
    client.send_text("hello again").unwrap();
    assert!(eventually(SOON, || peer.received().len() == 2));
    assert_eq!(
        peer.received(),
        [format!("hello {fills}"), "hello again".into()]
    );
}

#[test]
fn compression_none_is_not_offered() {
    let Some(peer) = PeerServer::python("daemon_server.py", &["--port", "0"]) else {
        return;
    };
    let client = daemon_client(&peer, |c| c.compression(None));
    expect_kind(&client, "connected", SOON);
    assert!(peer.wait_count(1, SOON));
    assert_eq!(peer.extensions(), serde_json::json!([[]]));
    peer.event("trade", Some(123), r#"{"n":1}"#);
    let (ev, seen) = wait_for(&client, SOON, |e| matches!(e, Event::Message(_)));
    assert!(ev.is_some(), "{seen:?}");
}

#[test]
fn a_compressed_message_over_the_limit_is_refused_while_inflating() {
    let Some(peer) = PeerServer::python("daemon_server.py", &["--port", "0"]) else {
        return;
    };
    let client = daemon_client(&peer, |c| c.max_message_size(64 << 10).reconnect(false));
    expect_kind(&client, "connected", SOON);
    assert!(peer.wait_count(1, SOON));
    // 4 MiB of one letter: a few KiB on the wire.
    let big = "a".repeat(4 << 20);
    assert_eq!(
        peer.broadcast(&format!(r#"{{"type":"x","data":"{big}"}}"#)),
        1
    );
    let Event::Error(e) = expect_kind(&client, "error", SOON) else {
        unreachable!()
    };
    assert!(
        e.message.contains("over the limit of 65536 bytes"),
        "{}",
        e.message
    );
    let Event::Disconnected { code, .. } = expect_kind(&client, "disconnected", SOON) else {
        unreachable!()
    };
    assert_eq!(code, Some(1009));
    assert!(eventually(SOON, || peer
        .closes()
        .iter()
        .any(|(c, _)| *c == 1009)));
}

#[test]
fn node_ws_with_per_message_deflate() {
    let Some(peer) = PeerServer::node(
        "agent_server.js",
        &[
            "--port",
            "0",
            "--ping-ms",
            "200",
            "--agents",
            "a1",
            "--deflate",
        ],
    ) else {
        return;
    };
    let client = Client::connect(quick(
        Config::new(peer.url("/ws"))
            .preset(Preset::Agent)
            .token("test-token")
            .query("agentId", "a1"),
    ))
    .unwrap();
    expect_kind(&client, "connected", SOON);
    let (ev, seen) = wait_for(&client, SOON, |e| {
        e.as_message().and_then(|m| m.msg_type()) == Some("initial_data")
    });
    assert!(ev.is_some(), "{seen:?}");
    let ext = peer.extensions().to_string();
    assert!(ext.contains("permessage-deflate"), "{ext}");
    // The client's JSON pongs are compressed; the server inflates and counts them.
    assert!(
        eventually(SOON, || peer.pongs() >= 3),
        "pongs: {}",
        peer.pongs()
    );
    let text = r#"{"type":"position","data":{"symbol":"ESZ6","qty":3}}"#;
    for _ in 0..20 {
        peer.broadcast(text);
    }
    let mut n = 0;
    while n < 20 {
        let (ev, seen) = wait_for(&client, SOON, |e| {
            e.as_message().and_then(|m| m.msg_type()) == Some("position")
        });
        assert!(ev.is_some(), "after {n}: {seen:?}");
        n += 1;
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(client.status().connected);
}
