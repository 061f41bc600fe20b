//! Sending: a send while live goes out at once; while not live it fails (nothing is queued
//! or replayed). on_connect messages go out again after every reconnect. A static token is
//! sent as a Bearer header or a query parameter and never shown.

use std::time::Duration;

use tradewire::{Client, Config, ErrorCategory, Preset};
use tradewire_testkit::{DaemonServer, ServerOptions, TokenCheck, WsServer};

use crate::support::{eventually, expect_kind, quick, SOON};

#[test]
fn send_reaches_the_server_and_fails_when_not_live() {
    let server = DaemonServer::start().unwrap();
    let client = Client::new(quick(Config::new(server.url()))).unwrap();
    assert!(matches!(client.send_text("early"), Err(e) if e.kind() == ErrorCategory::NotConnected));
    client.start().unwrap();
    expect_kind(&client, "connected", SOON);
    client
        .send_text(r#"{"type":"subscribe","agentId":"a1"}"#)
        .unwrap();
    assert!(server
        .wait_for_received(|m| m.contains("subscribe"), SOON)
        .is_some());
    server.stop();
    expect_kind(&client, "disconnected", SOON);
    let err = client.send_text("order").unwrap_err();
    assert_eq!(err.kind(), ErrorCategory::NotConnected, "{err}");
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    server.restart().unwrap();
    expect_kind(&client, "connected", SOON);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !server.received().iter().any(|m| m == "order"),
        "a failed send is never replayed"
    );
}

#[test]
fn on_connect_messages_are_resent_after_every_reconnect() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(
        quick(Config::new(server.url())).on_connect(r#"{"type":"subscribe","channel":"quotes"}"#),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(eventually(SOON, || server.received().len() == 1));
    server.drop_all();
    expect_kind(&client, "connected", SOON);
    assert!(eventually(SOON, || server.received().len() == 2));
    assert!(server.received().iter().all(|m| m.contains("subscribe")));
}

#[test]
fn bearer_token_header() {
    let server = WsServer::start(ServerOptions {
        token: TokenCheck::Required("s3cret-token".into()),
        ..ServerOptions::default()
    })
    .unwrap();
    let client = Client::connect(quick(Config::new(server.url())).token("s3cret-token")).unwrap();
    expect_kind(&client, "connected", SOON);
    let hs = server.handshakes();
    assert_eq!(hs[0].header("authorization"), Some("Bearer s3cret-token"));
    assert!(!format!("{client:?}").contains("s3cret"));
}

#[test]
fn token_query_parameter_is_redacted() {
    let server = WsServer::start(ServerOptions {
        token: TokenCheck::Required("s3cret-token".into()),
        ..ServerOptions::default()
    })
    .unwrap();
    let client = Client::connect(
        quick(Config::new(server.url()).preset(Preset::Json))
            .token("s3cret-token")
            .token_query_param("token"),
    )
    .unwrap();
    let ev = expect_kind(&client, "connected", SOON);
    assert!(!format!("{ev:?}").contains("s3cret"), "{ev:?}");
    assert!(
        client.url().contains("token=<redacted>"),
        "{}",
        client.url()
    );
    assert_eq!(
        server.handshakes()[0].query_param("token"),
        Some("s3cret-token")
    );
}

#[test]
fn wrong_token_is_not_retried_at_full_speed() {
    let server = WsServer::start(ServerOptions {
        token: TokenCheck::Required("right".into()),
        reject_token_with_http_401: true,
        ..ServerOptions::default()
    })
    .unwrap();
    let client = Client::connect(quick(Config::new(server.url())).token("wrong")).unwrap();
    let tradewire::Event::Error(e) = expect_kind(&client, "error", SOON) else {
        unreachable!()
    };
    assert_eq!(e.kind, tradewire::ErrorKind::Auth);
    assert!(e.message.contains("401"), "{}", e.message);
    expect_kind(&client, "gave_up", SOON);
}
