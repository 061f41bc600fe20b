//! TLS servers with a native-tls client, and the silent listener.

mod common;

use std::net::TcpStream;
use std::time::Duration;

use common::*;
use native_tls::{Certificate, TlsConnector};
use tradewire_testkit::{tls, ServerOptions, SilentListener, WsServer};

fn tls_server() -> WsServer {
    WsServer::start(ServerOptions {
        tls: true,
        path: Some("/secure".into()),
        greeting: vec!["welcome".into()],
        ..ServerOptions::default()
    })
    .unwrap()
}

#[test]
fn wss_with_danger_accept_invalid_certs() {
    let server = tls_server();
    assert!(server.url().starts_with("wss://127.0.0.1:"));
    let connector = TlsConnector::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(SOON)).unwrap();
    let stream = connector.connect("127.0.0.1", tcp).unwrap();
    let mut ws = handshake(&server.url(), stream).unwrap();
    assert_eq!(read_text(&mut ws).as_deref(), Some("welcome"));
    assert!(server.wait_for_connections(1, SOON));

    server.broadcast("over tls");
    assert_eq!(read_text(&mut ws).as_deref(), Some("over tls"));
    ws.send(tungstenite::Message::text("back")).unwrap();
    assert!(server.wait_for_received(|m| m == "back", SOON).is_some());
    server.close_all(1001, "bye");
    assert_eq!(read_close(&mut ws), Some((1001, "bye".into())));
}

#[test]
fn wss_trusting_the_generated_certificate() {
    let server = tls_server();
    let cert = Certificate::from_pem(&server.cert_pem().unwrap()).unwrap();
    let connector = TlsConnector::builder()
        .add_root_certificate(cert)
        .build()
        .unwrap();
    let tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(SOON)).unwrap();
    let stream = connector.connect("localhost", tcp).unwrap();
    let mut ws = handshake(&server.url(), stream).unwrap();
    assert_eq!(read_text(&mut ws).as_deref(), Some("welcome"));

    // Without trusting it, verification fails.
    let strict = TlsConnector::new().unwrap();
    let tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(SOON)).unwrap();
    assert!(strict.connect("localhost", tcp).is_err());
}

#[test]
fn tls_server_survives_plain_clients_and_drop_all() {
    let server = tls_server();
    // A plain WebSocket client talking to a TLS port fails, the server carries on.
    assert!(connect(&server.url().replace("wss://", "ws://")).is_err());
    let connector = TlsConnector::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(SOON)).unwrap();
    let mut ws = handshake(&server.url(), connector.connect("localhost", tcp).unwrap()).unwrap();
    assert!(server.wait_for_connections(1, SOON));
    server.drop_all();
    assert!(read_error(&mut ws).is_some());
}

#[test]
fn self_signed_identity_is_usable() {
    let (_identity, pem) = tls::self_signed_identity();
    assert!(String::from_utf8(pem)
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn silent_listener_stalls_tls_handshakes() {
    let silent = SilentListener::start().unwrap();
    assert_eq!(silent.addr().port(), silent.port());
    let tcp = TcpStream::connect(silent.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let connector = TlsConnector::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    assert!(connector.connect("localhost", tcp).is_err());
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert!(eventually(|| silent.accepted() == 1));

    // A second connection is accepted too, and nothing is ever sent.
    let mut plain = TcpStream::connect(silent.addr()).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    assert!(eventually(|| silent.accepted() == 2));
    let mut buf = [0u8; 1];
    let read = std::io::Read::read(&mut plain, &mut buf);
    assert!(read.is_err(), "expected a timeout, got {read:?}");
    drop(silent);
    assert!(matches!(
        std::io::Read::read(&mut plain, &mut buf),
        Ok(0) | Err(_)
    ));
}
