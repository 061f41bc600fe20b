//! Bad input never kills the stream: each bad message gives a clear `Error` event (or a
//! close with the code the protocol requires) and is counted, and the stream goes on.

use std::time::Duration;

use tradewire::{Client, Config, ErrorKind, Event, Preset};
use tradewire_testkit::{frames, DaemonServer};

use crate::support::{expect_kind, quick, wait_for, SOON};

const GOOD: &str = r#"{"type":"MarketQuote","account_id":1,"data":{"bid":1}}"#;

fn next_error(client: &Client) -> (ErrorKind, String) {
    match expect_kind(client, "error", SOON) {
        Event::Error(e) => (e.kind, e.message),
        _ => unreachable!(),
    }
}

/// Sends a good message (again every 200 ms, since a fresh connection may not be in the
/// server's broadcast list yet) until the client delivers it.
fn good_arrives(client: &Client, server: &DaemonServer) {
    let mut seen = Vec::new();
    for _ in 0..50 {
        server.broadcast(GOOD);
        let (ev, more) = wait_for(client, Duration::from_millis(200), |e| {
            e.as_message().is_some()
        });
        seen.extend(more);
        if ev.is_some() {
            return;
        }
    }
    panic!("the stream did not go on; saw {seen:?}");
}

#[test]
fn bad_json_variants_are_reported_and_skipped() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(quick(Config::new(server.url()).preset(Preset::Daemon))).unwrap();
    expect_kind(&client, "connected", SOON);
    let cases: [(&str, ErrorKind); 4] = [
        ("{not json", ErrorKind::InvalidJson),
        ("[1,2,3]", ErrorKind::NotAnObject),
        (r#"{"account_id":1,"data":{}}"#, ErrorKind::MissingType),
        (r#"{"type":42}"#, ErrorKind::MissingType),
    ];
    for (text, kind) in cases {
        server.broadcast(text);
        let (got, message) = next_error(&client);
        assert_eq!(got, kind, "{text}: {message}");
        good_arrives(&client, &server);
    }
    server.broadcast_binary(b"\x00\x01binary");
    let (got, message) = next_error(&client);
    assert_eq!(got, ErrorKind::UnexpectedBinary);
    assert!(message.contains("raw preset"), "{message}");
    good_arrives(&client, &server);
    let st = client.status();
    assert_eq!(st.errors, 5);
    assert_eq!(st.epoch, 1, "no reconnect was needed");
}

#[test]
fn invalid_utf8_closes_with_1007_and_reconnects() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(quick(Config::new(server.url()).preset(Preset::Daemon))).unwrap();
    expect_kind(&client, "connected", SOON);
    server.send_raw(&frames::text_frame(b"{\"type\":\"x\",\"v\":\"\xff\xfe\"}"));
    assert_eq!(next_error(&client).0, ErrorKind::InvalidUtf8);
    let Event::Disconnected { code, .. } = expect_kind(&client, "disconnected", SOON) else {
        unreachable!()
    };
    assert_eq!(code, Some(1007));
    expect_kind(&client, "connected", SOON);
    good_arrives(&client, &server);
}

#[test]
fn oversized_message_is_refused_with_1009() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(
        quick(Config::new(server.url()).preset(Preset::Daemon)).max_message_size(1024),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    let big = format!(r#"{{"type":"big","data":"{}"}}"#, "x".repeat(100_000));
    server.broadcast(&big);
    let (kind, message) = next_error(&client);
    assert_eq!(kind, ErrorKind::MessageTooLarge);
    assert!(message.contains("max_message_size"), "{message}");
    let Event::Disconnected { code, .. } = expect_kind(&client, "disconnected", SOON) else {
        unreachable!()
    };
    assert_eq!(code, Some(1009));
    expect_kind(&client, "connected", SOON);
    good_arrives(&client, &server);
}

#[test]
fn json_preset_falls_back_to_raw() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(quick(Config::new(server.url()))).unwrap();
    expect_kind(&client, "connected", SOON);
    server.broadcast("hello, not json");
    let ev = expect_kind(&client, "message", SOON);
    let m = ev.as_message().unwrap();
    assert_eq!(m.raw(), Some("hello, not json"));
    assert_eq!(m.data_json(), None);
    assert_eq!(m.msg_type(), None);
    server.broadcast("[1,2]");
    let ev = expect_kind(&client, "message", SOON);
    assert_eq!(ev.as_message().unwrap().data_json(), Some("[1,2]"));
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(client.status().errors, 0);
}

#[test]
fn raw_preset_passes_frames_untouched() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(quick(Config::new(server.url()).preset(Preset::Raw))).unwrap();
    expect_kind(&client, "connected", SOON);
    server.broadcast_binary(&[0, 1, 2, 255]);
    let ev = expect_kind(&client, "message", SOON);
    let m = ev.as_message().unwrap();
    assert!(m.is_binary());
    assert_eq!(m.raw_bytes(), &[0, 1, 2, 255]);
}
