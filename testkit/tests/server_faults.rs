//! WsServer fault injection: silence, refusal, stop/restart, paced streams.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use tradewire_testkit::{events, ServerOptions, WsServer};
use tungstenite::Message;

#[test]
fn silent_server_neither_answers_pings_nor_sends() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let mut ws = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(1, SOON));

    set_timeout(&ws, Duration::from_millis(300));
    ws.send(Message::Ping(b"p1".to_vec().into())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Pong(b"p1".to_vec().into()));

    server.set_silent(true);
    assert!(server.is_silent());
    ws.send(Message::Ping(b"p2".to_vec().into())).unwrap();
    ws.send(Message::text("unread")).unwrap();
    server.broadcast("discarded");
    assert!(is_quiet(&mut ws), "a silent server must not answer");
    assert!(server.received().is_empty());
    assert_eq!(server.connection_count(), 1, "the socket stays open");

    // New connections are not even upgraded while silent.
    let tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let pending_url = server.url();
    let pending = std::thread::spawn(move || handshake(&pending_url, tcp).is_ok());
    assert!(
        !pending.join().unwrap(),
        "handshake must stall while silent"
    );

    server.set_silent(false);
    set_timeout(&ws, SOON);
    assert_eq!(ws.read().unwrap(), Message::Pong(b"p2".to_vec().into()));
    assert!(server.wait_for_received(|m| m == "unread", SOON).is_some());
    server.broadcast("audible");
    assert_eq!(read_text(&mut ws).as_deref(), Some("audible"));
}

#[test]
fn refuse_for_rebinds_the_same_port() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let port = server.port();
    let mut kept = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(1, SOON));

    server.refuse_for(Duration::from_millis(300));
    let err = TcpStream::connect(server.addr()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    server.broadcast("existing connections stay");
    assert_eq!(
        read_text(&mut kept).as_deref(),
        Some("existing connections stay")
    );

    assert!(eventually(|| TcpStream::connect(server.addr()).is_ok()));
    assert_eq!(server.port(), port);
    assert!(connect(&server.url()).is_ok());
}

#[test]
fn stop_then_restart() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let port = server.port();
    let mut ws = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(1, SOON));

    server.stop();
    assert_eq!(server.connection_count(), 0);
    assert!(read_error(&mut ws).is_some());
    assert!(TcpStream::connect(server.addr()).is_err());
    std::thread::sleep(Duration::from_millis(50));
    assert!(TcpStream::connect(server.addr()).is_err(), "stays stopped");

    server.restart().unwrap();
    server.restart().unwrap(); // idempotent
    assert_eq!(server.port(), port);
    let mut again = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(1, SOON));
    server.broadcast("back");
    assert_eq!(read_text(&mut again).as_deref(), Some("back"));
}

#[test]
fn stop_cancels_a_pending_refuse_rebind() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    server.refuse_for(Duration::from_millis(50));
    server.stop();
    std::thread::sleep(Duration::from_millis(200));
    assert!(TcpStream::connect(server.addr()).is_err());
    server.restart().unwrap();
    assert!(TcpStream::connect(server.addr()).is_ok());
}

#[test]
fn paced_stream_delivers_in_order() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let mut ws = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(1, SOON));

    let started = Instant::now();
    let handle = server.stream(200.0, Some(40), |seq| events::sequenced(seq, Some(7)));
    for expected in 1..=40u64 {
        let event = read_json(&mut ws).expect("event");
        assert_eq!(event["data"]["seq"], expected);
    }
    // 40 messages at 200/s span 195 ms; allow a wide margin either way.
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(handle.wait_finished(SOON));
    assert_eq!(handle.stop(), 40);
}

#[test]
fn fast_stream_keeps_up_and_stops_on_demand() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let mut ws = connect(&server.url()).unwrap();
    assert!(server.wait_for_connections(1, SOON));

    let handle = server.stream(20_000.0, Some(4_000), |seq| events::daemon_event(seq, 42));
    for expected in 1..=4_000u64 {
        let event = read_json(&mut ws).expect("event");
        assert_eq!(event["data"]["seq"], expected);
    }
    assert!(handle.wait_finished(SOON));

    let endless = server.stream(1_000.0, None, |seq| seq.to_string());
    assert!(eventually(|| endless.sent() >= 10));
    let sent = endless.stop();
    assert!(sent >= 10);
    let mut last = 0;
    while last < sent {
        last = read_text(&mut ws).unwrap().parse().unwrap();
    }
    assert_eq!(last, sent);
}
