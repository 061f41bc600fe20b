//! A message's own timestamp (`time_pointer`; breakout 001: `/ts`, Unix milliseconds) is
//! given as `Message::server_time`, in its JSON form, and as `status().feed_latency`; epoch
//! numbers in any unit and ISO-8601 strings are read, anything else gives `None` and the
//! stream goes on.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use tradewire::{Client, Config, Event, Message, Preset};
use tradewire_testkit::{BreakoutOptions, BreakoutServer, ServerOptions, WsServer};

use crate::support::{expect_kind, quick, wait_for, SOON};

/// The next message event.
fn next_message(client: &Client) -> Message {
    match expect_kind(client, "message", SOON) {
        Event::Message(m) => m,
        _ => unreachable!(),
    }
}

#[test]
fn breakout_messages_carry_their_ts_as_server_time() {
    let server = BreakoutServer::start(BreakoutOptions::default()).unwrap();
    let client = Client::connect(
        quick(Config::new(server.url()).preset(Preset::Breakout)).types(["SIGNAL"]),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(server.wait_for_connections(1, SOON));
    assert_eq!(client.status().feed_latency, None, "no message yet");
    server.publish("SIGNAL", json!({"symbol": "BTCUSDT"}));
    let m = next_message(&client);
    let raw: serde_json::Value = serde_json::from_str(m.raw().unwrap()).unwrap();
    let ts = raw["ts"].as_u64().expect("the server's ts");
    assert_eq!(
        m.server_time(),
        Some(UNIX_EPOCH + Duration::from_millis(ts))
    );
    // Same machine, same clock: sent (to the millisecond, rounded down) before it was read.
    let sent = m.server_time().unwrap();
    assert!(sent <= m.received_at(), "{sent:?} > {:?}", m.received_at());
    let latency = client.status().feed_latency.expect("a feed latency");
    let expected = m.received_at().duration_since(sent).unwrap().as_secs_f64();
    assert!(
        (latency - expected).abs() < 1e-5,
        "status {latency}, message {expected}"
    );
    // The JSON form (the CLI's line) has it too.
    let line: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
    let shown = tradewire::time::parse_iso8601(line["server_time"].as_str().unwrap());
    assert_eq!(shown, Some(sent));
}

#[test]
fn any_unit_and_iso_8601_are_read_and_anything_else_is_none() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client =
        Client::connect(quick(Config::new(server.url())).time_pointer(Some("/meta/sent".into())))
            .unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(server.wait_for_connections(1, SOON));
    let at = |nanos: u64| Some(UNIX_EPOCH + Duration::from_nanos(nanos));
    let cases: [(&str, Option<SystemTime>); 7] = [
        ("1737125115", at(1_737_125_115_000_000_000)),
        ("1737125115123", at(1_737_125_115_123_000_000)),
        ("1737125115123456", at(1_737_125_115_123_456_000)),
        ("1737125115123456789", at(1_737_125_115_123_456_789)),
        (
            r#""2025-01-17T14:45:15.123Z""#,
            at(1_737_125_115_123_000_000),
        ),
        (r#""not a time""#, None),
        (r#"{"nested":1}"#, None),
    ];
    for (i, (sent, _)) in cases.iter().enumerate() {
        server.broadcast(&format!(
            r#"{{"type":"t","meta":{{"sent":{sent}}},"data":{{"i":{i}}}}}"#
        ));
    }
    // Without the field at all.
    server.broadcast(r#"{"type":"t","data":{"i":"none"}}"#);
    let (last, seen) = wait_for(&client, SOON, |e| {
        e.as_message()
            .is_some_and(|m| m.data_json() == Some(r#"{"i":"none"}"#))
    });
    assert_eq!(
        last.expect("the last message")
            .as_message()
            .unwrap()
            .server_time(),
        None
    );
    // Unreadable times are no errors: the stream holds the messages and nothing else.
    let messages: Vec<&Message> = seen.iter().filter_map(Event::as_message).collect();
    assert!(seen.iter().all(|e| e.kind() == "message"), "{seen:?}");
    assert_eq!(messages.len(), cases.len());
    for (i, (m, (sent, want))) in messages.iter().zip(&cases).enumerate() {
        assert_eq!(m.data_json(), Some(format!(r#"{{"i":{i}}}"#).as_str()));
        assert_eq!(m.server_time(), *want, "{sent}");
    }
}

#[test]
fn without_a_time_pointer_there_is_no_server_time() {
    // The json preset has no time pointer; breakout's can be turned off with null (None).
    for preset in [Preset::Json, Preset::Breakout] {
        let server = BreakoutServer::start(BreakoutOptions::default()).unwrap();
        let client = Client::connect(
            quick(Config::new(server.url()).preset(preset))
                .time_pointer(None)
                .types(["SIGNAL"]),
        )
        .unwrap();
        expect_kind(&client, "connected", SOON);
        assert!(server.wait_for_connections(1, SOON));
        server.publish("SIGNAL", json!({}));
        assert_eq!(next_message(&client).server_time(), None);
        assert_eq!(client.status().feed_latency, None);
    }
    // The json preset's default: none.
    let server = BreakoutServer::start(BreakoutOptions::default()).unwrap();
    let client = Client::connect(quick(Config::new(server.url())).types(["SIGNAL"])).unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(server.wait_for_connections(1, SOON));
    server.publish("SIGNAL", json!({}));
    assert_eq!(next_message(&client).server_time(), None);
}
