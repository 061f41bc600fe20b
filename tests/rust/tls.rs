//! wss: certificates are verified by default with an error that says how to opt out; the
//! opt-out works; a server that never answers the TLS handshake gives a timeout, not a hang.

use std::time::Duration;

use tradewire::{Client, Config, Event};
use tradewire_testkit::{ServerOptions, SilentListener, WsServer};

use crate::support::{expect_kind, quick, SOON};

fn tls_server() -> WsServer {
    WsServer::start(ServerOptions {
        tls: true,
        ..ServerOptions::default()
    })
    .unwrap()
}

#[test]
fn self_signed_certificate_is_refused_with_advice() {
    let server = tls_server();
    assert!(server.url().starts_with("wss://"));
    let client = Client::connect(quick(Config::new(server.url()))).unwrap();
    let Event::GaveUp { reason } = expect_kind(&client, "gave_up", SOON) else {
        unreachable!()
    };
    assert!(reason.contains("certificate"), "{reason}");
    assert!(reason.contains("verify_tls = false"), "{reason}");
}

#[test]
fn verify_tls_false_connects() {
    let server = tls_server();
    let client = Client::connect(quick(Config::new(server.url())).verify_tls(false)).unwrap();
    expect_kind(&client, "connected", SOON);
    server.broadcast(r#"{"type":"hello"}"#);
    assert_eq!(
        expect_kind(&client, "message", SOON)
            .as_message()
            .unwrap()
            .msg_type(),
        Some("hello")
    );
}

#[test]
fn stalled_tls_handshake_times_out() {
    let silent = SilentListener::start().unwrap();
    let client = Client::connect(
        quick(Config::new(format!("wss://127.0.0.1:{}", silent.port())))
            .connect_timeout(Duration::from_millis(500)),
    )
    .unwrap();
    let Event::Reconnecting { reason, .. } = expect_kind(&client, "reconnecting", SOON) else {
        unreachable!()
    };
    assert!(
        reason.contains("TLS handshake") && reason.contains("connect_timeout"),
        "{reason}"
    );
    client.close();
}

#[test]
fn unresolvable_name_fails_within_connect_timeout() {
    let client = Client::connect(
        quick(Config::new("ws://tradewire-test.invalid:9/"))
            .connect_timeout(Duration::from_secs(2)),
    )
    .unwrap();
    let Event::Reconnecting { reason, .. } = expect_kind(&client, "reconnecting", SOON) else {
        unreachable!()
    };
    assert!(reason.contains("tradewire-test.invalid"), "{reason}");
}
