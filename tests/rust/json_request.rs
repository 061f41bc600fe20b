//! `request_json`: request/response on plain JSON feeds (document 004's `requestId`, JSON-RPC
//! `id`). The answer carrying the request's id is returned, not delivered; a timeout fails the
//! call and the late answer arrives as a message; a dropped connection fails it at once.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use tradewire::{Client, Config, ErrorCategory, Event, Preset};
use tradewire_testkit::{ServerOptions, WsServer};

use crate::support::peer::PeerServer;
use crate::support::{expect_kind, quick, wait_for, SOON};

/// Sends `message` with `request_json` from another thread.
fn ask(client: &Arc<Client>, message: &'static str) -> JoinHandle<tradewire::Result<String>> {
    let client = client.clone();
    std::thread::spawn(move || client.request_json(message, SOON))
}

/// The first message the server received that contains `marker`, parsed.
fn received(server: &WsServer, marker: &str) -> Value {
    let text = server
        .wait_for_received(|m| m.contains(marker), SOON)
        .expect("the request reached the server");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_fresh_id_is_filled_in_and_the_answer_is_returned_not_delivered() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Arc::new(Client::connect(quick(Config::new(server.url()))).unwrap());
    expect_kind(&client, "connected", SOON);
    let waiting = ask(&client, r#"{"method":"positions"}"#);
    let sent = received(&server, "positions");
    let id = &sent["id"];
    server.broadcast(&format!(
        r#"{{"type":"result","id":{id},"positions":[1,2]}}"#
    ));
    let answer = waiting.join().unwrap().unwrap();
    assert!(sent["id"].is_u64(), "{sent}");
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(v["positions"], serde_json::json!([1, 2]));
    assert_eq!(v["id"], sent["id"]);
    // Not delivered as an event; other messages still are.
    server.broadcast(r#"{"type":"tick"}"#);
    let (ev, seen) = wait_for(&client, SOON, |e| matches!(e, Event::Message(_)));
    match ev {
        Some(Event::Message(m)) => assert_eq!(m.msg_type(), Some("tick"), "{seen:?}"),
        other => panic!("{other:?}"),
    }
    client.close();
}

#[test]
fn the_callers_request_id_in_document_004s_form() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Arc::new(
        Client::connect(quick(Config::new(server.url())).request_id_field("requestId")).unwrap(),
    );
    expect_kind(&client, "connected", SOON);
    let waiting = ask(&client, r#"{"type":"getUser","requestId":"req-7"}"#);
    assert_eq!(received(&server, "getUser")["requestId"], "req-7");
    server.broadcast(r#"{"type":"response","requestId":"req-7","payload":{"name":"ada"}}"#);
    let answer = waiting.join().unwrap().unwrap();
    assert!(answer.contains(r#""name":"ada""#), "{answer}");
    client.close();
}

#[test]
fn a_timeout_fails_the_call_and_the_late_answer_is_a_message() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::connect(quick(Config::new(server.url()))).unwrap();
    expect_kind(&client, "connected", SOON);
    let e = client
        .request_json(
            r#"{"id":"slow-1","method":"x"}"#,
            Duration::from_millis(200),
        )
        .unwrap_err();
    assert!(e.kind() == ErrorCategory::Timeout, "{e:?}");
    server.broadcast(r#"{"type":"result","id":"slow-1"}"#);
    let (ev, _) = wait_for(&client, SOON, |e| matches!(e, Event::Message(_)));
    match ev {
        Some(Event::Message(m)) => assert!(m.raw().unwrap().contains("slow-1")),
        other => panic!("{other:?}"),
    }
    client.close();
}

#[test]
fn a_dropped_connection_fails_a_waiting_request_at_once_and_bad_requests_are_refused() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Arc::new(Client::connect(quick(Config::new(server.url()))).unwrap());
    expect_kind(&client, "connected", SOON);
    for bad in ["[1,2]", "{", r#"{"id":null}"#] {
        assert!(
            matches!(client.request_json(bad, SOON), Err(e) if e.kind() == ErrorCategory::Usage),
            "{bad}"
        );
    }
    let waiting = ask(&client, r#"{"method":"never"}"#);
    assert!(server
        .wait_for_received(|m| m.contains("never"), SOON)
        .is_some());
    server.drop_all();
    let e = waiting.join().unwrap().unwrap_err();
    assert!(e.kind() == ErrorCategory::Request, "{e:?}");
    assert!(e.to_string().contains("outcome is unknown"), "{e}");
    client.close();
}

#[test]
fn tradovate_correlates_its_own_way() {
    let client = Client::new(Config::for_preset(Preset::Tradovate).token("t")).unwrap();
    assert!(client.correlates_by_endpoint());
    assert!(matches!(client.request_json("{}", SOON), Err(e) if e.kind() == ErrorCategory::Usage));
}

/// Against a server on Python's `websockets` library (the peer broadcasts the answer).
#[test]
fn against_a_websockets_server() {
    let Some(peer) = PeerServer::python("daemon_server.py", &["--port", "0"]) else {
        return;
    };
    let client = Arc::new(Client::connect(quick(Config::new(peer.url("")))).unwrap());
    expect_kind(&client, "connected", SOON);
    assert!(peer.wait_count(1, SOON));
    let waiting = ask(&client, r#"{"method":"ping"}"#);
    let mut sent = None;
    assert!(crate::support::eventually(SOON, || {
        sent = peer.received().into_iter().find(|m| m.contains("ping"));
        sent.is_some()
    }));
    let sent = sent.unwrap_or_default();
    let id = serde_json::from_str::<Value>(&sent).unwrap()["id"].clone();
    peer.broadcast(&format!(r#"{{"id":{id},"pong":true}}"#));
    let answer = waiting.join().unwrap().unwrap();
    assert!(answer.contains(r#""pong":true"#), "{answer}");
    client.close();
}
