//! WsServer: handshake, messages both ways, tokens, paths and closing.

mod common;

use std::time::Duration;

use common::*;
use tradewire_testkit::{frames, ServerOptions, TokenCheck, WsServer};
use tungstenite::{Error, Message};

#[test]
fn handshake_broadcast_and_receive() {
    let server = WsServer::start(ServerOptions {
        greeting: vec!["hello".into(), "world".into()],
        ..ServerOptions::default()
    })
    .unwrap();
    assert!(server.url().starts_with("ws://127.0.0.1:"));
    assert_eq!(server.addr().port(), server.port());

    let mut a = connect(&format!("{}/some/path?x=1&y=a%20b", server.url())).unwrap();
    let mut b = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(2, SOON));
    assert_eq!(server.connection_count(), 2);
    for ws in [&mut a, &mut b] {
        assert_eq!(read_text(ws).as_deref(), Some("hello"));
        assert_eq!(read_text(ws).as_deref(), Some("world"));
    }

    server.broadcast("one");
    server.broadcast_binary(&[1, 2, 3]);
    assert_eq!(read_text(&mut a).as_deref(), Some("one"));
    assert_eq!(a.read().unwrap(), Message::Binary(vec![1, 2, 3].into()));
    assert_eq!(read_text(&mut b).as_deref(), Some("one"));

    a.send(Message::text("from a")).unwrap();
    b.send(Message::text("from b")).unwrap();
    assert!(server.wait_for_received(|m| m == "from a", SOON).is_some());
    assert!(server.wait_for_received(|m| m == "from b", SOON).is_some());
    assert_eq!(server.received().len(), 2);

    let handshakes = server.handshakes();
    assert_eq!(server.accepted_total(), 2);
    let first = handshakes
        .iter()
        .find(|h| h.path == "/some/path")
        .expect("handshake recorded");
    assert_eq!(first.query_param("y"), Some("a b"));
    assert!(first.header("sec-websocket-key").is_some());

    a.close(None).unwrap();
    drop(a);
    assert!(server.wait_for_at_most(1, SOON));
}

#[test]
fn token_from_query_or_bearer_header() {
    let server = WsServer::start(ServerOptions {
        token: TokenCheck::Required("s3cret".into()),
        ..ServerOptions::default()
    })
    .unwrap();

    let mut ok = connect(&format!("{}/?token=s3cret", server.url())).unwrap();
    assert!(server.wait_for_connections(1, SOON));
    server.broadcast("hi");
    assert_eq!(read_text(&mut ok).as_deref(), Some("hi"));

    let tcp = std::net::TcpStream::connect(server.addr()).unwrap();
    let request = tungstenite::http::Request::builder()
        .uri(server.url())
        .header("Host", authority(&server.url()))
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header(
            "Sec-WebSocket-Key",
            tungstenite::handshake::client::generate_key(),
        )
        .header("Authorization", "Bearer s3cret")
        .body(())
        .unwrap();
    let (_bearer, _) = tungstenite::client(request, tcp).unwrap();
    assert!(server.wait_for_connections(2, SOON));

    // Wrong token: the handshake completes, then 1008.
    let mut bad = connect(&format!("{}/?token=nope", server.url())).unwrap();
    assert_eq!(read_close(&mut bad), Some((1008, "Invalid token".into())));
    let mut missing = connect(&server.url()).unwrap();
    assert_eq!(
        read_close(&mut missing),
        Some((1008, "Invalid token".into()))
    );
    assert_eq!(server.accepted_total(), 4);
    assert_eq!(server.connection_count(), 2);
}

#[test]
fn token_rejected_with_http_401_when_asked() {
    let server = WsServer::start(ServerOptions {
        token: TokenCheck::Required("s3cret".into()),
        reject_token_with_http_401: true,
        ..ServerOptions::default()
    })
    .unwrap();
    assert_eq!(
        connect(&format!("{}/?token=bad", server.url()))
            .err()
            .as_deref(),
        Some("http 401")
    );
    assert!(connect(&format!("{}/?token=s3cret", server.url())).is_ok());
    assert_eq!(server.accepted_total(), 1);
}

#[test]
fn wrong_path_gets_404() {
    let server = WsServer::start(ServerOptions {
        path: Some("/ws".into()),
        ..ServerOptions::default()
    })
    .unwrap();
    assert!(server.url().ends_with("/ws"));
    let base = server.url().trim_end_matches("/ws").to_string();
    assert_eq!(
        connect(&format!("{base}/other")).err().as_deref(),
        Some("http 404")
    );
    assert!(connect(&server.url()).is_ok());
    assert_eq!(server.handshakes().len(), 1);
}

#[test]
fn close_all_sends_code_after_queued_messages() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let mut ws = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(1, SOON));
    server.broadcast("last words");
    server.close_all(4001, "going away");
    assert_eq!(read_text(&mut ws).as_deref(), Some("last words"));
    assert_eq!(read_close(&mut ws), Some((4001, "going away".into())));
    assert!(server.wait_for_at_most(0, SOON));
}

#[test]
fn drop_all_closes_without_close_frame() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let mut ws = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(1, SOON));
    server.drop_all();
    assert_eq!(server.connection_count(), 0);
    match read_error(&mut ws) {
        Some(Error::Protocol(_)) | Some(Error::Io(_)) => {}
        other => panic!("expected an abrupt end, got {other:?}"),
    }
    // The server keeps accepting.
    assert!(connect(&server.url()).is_ok());
}

#[test]
fn accept_then_close_closes_new_connections() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let mut kept = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(1, SOON));

    server.accept_then_close(Some((1013, "try again later".into())));
    let mut ws = connect(&server.url()).unwrap();
    assert_eq!(read_close(&mut ws), Some((1013, "try again later".into())));
    assert_eq!(server.accepted_total(), 2);
    assert_eq!(server.connection_count(), 1);

    server.accept_then_close(None);
    let _ws = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(2, SOON));
    server.broadcast("still here");
    assert_eq!(read_text(&mut kept).as_deref(), Some("still here"));
}

#[test]
fn raw_bytes_reach_the_client_unframed() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let mut ws = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(1, SOON));
    server.broadcast("before");
    server.send_raw(&frames::text_frame(b"raw ok"));
    server.send_raw(&frames::text_frame(&[0xff, 0xfe]));
    assert_eq!(read_text(&mut ws).as_deref(), Some("before"));
    assert_eq!(read_text(&mut ws).as_deref(), Some("raw ok"));
    assert!(matches!(ws.read(), Err(Error::Utf8(_))));
}

#[test]
fn drop_stops_promptly_with_live_clients() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let mut clients: Vec<_> = (0..5).map(|_| connect(&server.url()).unwrap()).collect();
    assert!(server.wait_for_connections(5, SOON));
    let started = std::time::Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(2));
    for ws in &mut clients {
        assert!(read_error(ws).is_some());
    }
}
