//! Document 004 (METIS `WebSocketApi` on Node `ws`) as a drop-in: the `{protocol, host, port}`
//! form selects the `metis` preset, whose `data` is the whole parsed message (the text itself
//! when it is not JSON; binary JSON parsed, other binary delivered as bytes); listeners for
//! `connection_change` with `is_connected`; `clear_listeners`; the resolved configuration;
//! sending a string or an object. Against the testkit and against a Node `ws` server
//! (`tests/peers/metis_server.js`).

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tradewire::{Client, Config, Event, Kind, KindSet, Preset};
use tradewire_testkit::{ServerOptions, WsServer};

use crate::support::peer::PeerServer;
use crate::support::{eventually, expect_kind, quick, SOON};

/// A client in document 004's form (no preset given) for `127.0.0.1:port`.
fn metis_client(port: u16) -> Client {
    let config =
        Config::from_value(json!({"protocol": "ws", "host": "127.0.0.1", "port": port})).unwrap();
    Client::new(quick(config)).unwrap()
}

fn next_message(client: &Client) -> tradewire::Message {
    match expect_kind(client, "message", SOON) {
        Event::Message(m) => m,
        other => panic!("not a message: {other:?}"),
    }
}

/// What every 004 server sends, checked the same way against each server.
fn check_the_004_shapes(client: &Client, mut send: impl FnMut(Frame)) {
    // `{type, payload}`: `data` is the whole message (`const { type, payload } = event.data`).
    send(Frame::Text(
        r#"{"type":"status-update","payload":{"status":"ok"}}"#,
    ));
    let m = next_message(client);
    assert_eq!(m.msg_type(), Some("status-update"));
    let data: Value = m.data().unwrap();
    assert_eq!(
        data,
        json!({"type": "status-update", "payload": {"status": "ok"}})
    );
    assert_eq!(m.raw(), m.data_json());

    // Not JSON: the string itself is `data`, and `raw`.
    send(Frame::Text("plain text, not JSON"));
    let m = next_message(client);
    assert_eq!(m.data::<Value>(), Some(json!("plain text, not JSON")));
    assert_eq!(m.raw(), Some("plain text, not JSON"));
    assert_eq!(m.msg_type(), None);
    let j: Value = serde_json::from_str(&Event::Message(m).to_json()).unwrap();
    assert_eq!(
        (&j["data"], &j["raw"]),
        (
            &json!("plain text, not JSON"),
            &json!("plain text, not JSON")
        )
    );

    // A binary frame holding UTF-8 JSON is read as that JSON.
    send(Frame::Binary(
        br#"{"type":"alert","payload":{"message":"hot"}}"#,
    ));
    let m = next_message(client);
    assert_eq!(m.msg_type(), Some("alert"));
    assert_eq!(
        m.data::<Value>(),
        Some(json!({"type": "alert", "payload": {"message": "hot"}}))
    );

    // Any other binary frame is delivered as its bytes.
    send(Frame::Binary(&[0xff, 0x00, 0x7b, 0x01]));
    let m = next_message(client);
    assert!(m.is_binary());
    assert_eq!(m.raw_bytes(), &[0xff, 0x00, 0x7b, 0x01]);
    assert_eq!(m.data_json(), None);
}

enum Frame<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

#[test]
fn the_004_form_gives_whole_messages_text_and_binary_from_the_testkit() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = metis_client(server.port());
    assert_eq!(client.config().preset, Preset::Metis);
    client.start().unwrap();
    expect_kind(&client, "connected", SOON);
    check_the_004_shapes(&client, |f| match f {
        Frame::Text(t) => server.broadcast(t),
        Frame::Binary(b) => server.broadcast_binary(b),
    });
    client.close();
}

#[test]
fn the_004_form_gives_whole_messages_text_and_binary_from_node_ws() {
    let Some(peer) = PeerServer::node("metis_server.js", &["--port", "0"]) else {
        return;
    };
    let client = metis_client(peer.port());
    client.start().unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(peer.wait_count(1, SOON));
    check_the_004_shapes(&client, |f| {
        let cmd = match f {
            Frame::Text(t) => json!({"cmd": "broadcast", "text": t}),
            Frame::Binary(b) => json!({"cmd": "binary", "hex": hex(b)}),
        };
        assert_eq!(peer.command(&cmd.to_string()), "OK 1");
    });
    // The peer's own `{type, payload}` (JSON.stringify on the Node side).
    let cmd = json!({"cmd": "message", "type": "metric", "payload": {"name": "cpu", "value": 0.5}});
    assert_eq!(peer.command(&cmd.to_string()), "OK 1");
    let m = next_message(&client);
    assert_eq!(
        m.data::<Value>(),
        Some(json!({"type": "metric", "payload": {"name": "cpu", "value": 0.5}}))
    );
    client.close();
}

#[test]
fn a_string_and_an_object_are_sent_and_requests_correlate_by_request_id_with_node_ws() {
    let Some(peer) = PeerServer::node("metis_server.js", &["--port", "0"]) else {
        return;
    };
    let client = metis_client(peer.port());
    client.start().unwrap();
    expect_kind(&client, "connected", SOON);
    client.send_text("Hello, WebSocket!").unwrap();
    client
        .send_json(&json!({"type": "command", "action": "execute"}))
        .unwrap();
    assert!(eventually(SOON, || peer.received().len() >= 2));
    let got = peer.received();
    assert_eq!(got[0], "Hello, WebSocket!");
    let obj: Value = serde_json::from_str(&got[1]).unwrap();
    assert_eq!(obj, json!({"type": "command", "action": "execute"}));
    // 004's request-response pattern: the answer carries the request's `requestId`.
    let answer = client
        .request_json(r#"{"type":"request","data":{"action":"getData"}}"#, SOON)
        .unwrap();
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["type"], "response");
    assert_eq!(answer["data"]["echo"], json!({"action": "getData"}));
    assert!(answer["requestId"].is_string() || answer["requestId"].is_number());
    client.close();
}

#[test]
fn the_json_preset_is_unchanged_by_the_004_rules() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::new(quick(Config::new(server.url()))).unwrap();
    assert_eq!(client.config().preset, Preset::Json);
    client.start().unwrap();
    expect_kind(&client, "connected", SOON);
    server.broadcast(r#"{"type":"t","data":{"a":1}}"#);
    assert_eq!(next_message(&client).data_json(), Some(r#"{"a":1}"#));
    server.broadcast("not json");
    let m = next_message(&client);
    assert_eq!((m.data_json(), m.raw()), (None, Some("not json")));
    server.broadcast_binary(br#"{"type":"t"}"#);
    match expect_kind(&client, "error", SOON) {
        Event::Error(e) => assert_eq!(e.kind, tradewire::ErrorKind::UnexpectedBinary),
        other => panic!("{other:?}"),
    }
    client.close();
}

#[test]
fn connection_change_listeners_see_is_connected_and_clear_listeners_removes_them() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = metis_client(server.port());
    let (tx, changes) = mpsc::channel();
    let tx = Mutex::new(tx);
    client
        .on(
            KindSet::parse(["connection-change"]).unwrap(),
            move |e: &Event| {
                let _ = tx.lock().unwrap().send((e.kind(), e.is_connected()));
            },
        )
        .unwrap();
    let activity = Arc::new(Mutex::new(Vec::new()));
    let a = activity.clone();
    client
        .on(KindSet::parse(["activity"]).unwrap(), move |e: &Event| {
            a.lock().unwrap().push(e.kind())
        })
        .unwrap();
    client.start().unwrap();
    assert_eq!(
        changes.recv_timeout(SOON).unwrap(),
        ("connected", Some(true))
    );
    server.close_all(1001, "going away");
    assert_eq!(
        changes.recv_timeout(SOON).unwrap(),
        ("disconnected", Some(false))
    );
    assert_eq!(
        changes.recv_timeout(SOON).unwrap(),
        ("connected", Some(true))
    );
    // `activity` is every event, in order.
    assert!(eventually(SOON, || {
        let seen = activity.lock().unwrap();
        seen.iter().filter(|k| **k == "connected").count() >= 2
    }));
    {
        let seen = activity.lock().unwrap();
        assert_eq!(seen[0], "connected");
        assert!(seen.contains(&"disconnected") && seen.contains(&"reconnecting"));
    }
    // clearEventListeners(['connection-change']): that listener goes, `activity` loses
    // connected and disconnected (and keeps the other kinds).
    let removed = client.clear_listeners(KindSet::CONNECTION_CHANGE);
    assert_eq!(removed, 1);
    let before = activity.lock().unwrap().len();
    server.close_all(1001, "again");
    assert!(eventually(SOON, || activity
        .lock()
        .unwrap()
        .iter()
        .skip(before)
        .any(|k| *k == "reconnecting")));
    assert!(server.wait_for_connections(1, SOON));
    assert!(changes.try_recv().is_err(), "a cleared listener was called");
    assert!(!activity.lock().unwrap()[before..]
        .iter()
        .any(|k| *k == "connected" || *k == "disconnected"));
    // clearEventListeners(): every listener goes.
    assert_eq!(client.clear_listeners(KindSet::ALL), 1);
    client.close();
}

#[test]
fn the_resolved_configuration_is_readable_and_has_no_secret() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let config = Config::from_value(json!({
        "protocol": "ws", "host": "127.0.0.1", "port": server.port(),
        "rejectUnauthorized": false, "connectTimeout": 2500,
        "query": {"token": "q-s3cret"}, "headers": {"X-Key": "h-s3cret"}
    }))
    .unwrap();
    let client = Client::new(config).unwrap();
    let view = client.config();
    assert_eq!(view.preset, Preset::Metis);
    assert_eq!(
        view.url,
        format!("ws://127.0.0.1:{}/?token=<redacted>", server.port())
    );
    assert_eq!(
        (view.host.as_str(), view.port),
        ("127.0.0.1", server.port())
    );
    assert_eq!(view.connect_timeout, Duration::from_millis(2500));
    assert!(!view.verify_tls);
    let j = view.to_json();
    assert_eq!(j["connectTimeout"], 2500);
    assert_eq!(j["rejectUnauthorized"], false);
    let text = j.to_string();
    assert!(!text.contains("s3cret"), "{text}");
    // Kinds by value: the listener kinds of 004 are sets of the existing bits.
    assert_eq!(
        KindSet::CONNECTION_CHANGE,
        KindSet::from([Kind::Connected, Kind::Disconnected])
    );
    client.close();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
