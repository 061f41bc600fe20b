//! FaultProxy: pass, pause, blackhole, trickle and reset.

mod common;

use std::time::{Duration, Instant};

use common::*;
use tradewire_testkit::{FaultProxy, ProxyMode, ServerOptions, WsServer};
use tungstenite::{Error, Message};

fn setup() -> (
    WsServer,
    FaultProxy,
    tungstenite::WebSocket<std::net::TcpStream>,
) {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    assert_eq!(proxy.upstream(), server.addr());
    let ws = connect(&format!("ws://{}/", proxy.addr())).unwrap();
    assert!(server.wait_for_connections(1, SOON));
    assert!(eventually(|| proxy.connection_count() == 1));
    (server, proxy, ws)
}

#[test]
fn pass_forwards_both_ways() {
    let (server, proxy, mut ws) = setup();
    assert_eq!(proxy.mode(), ProxyMode::Pass);
    server.broadcast("down");
    assert_eq!(read_text(&mut ws).as_deref(), Some("down"));
    ws.send(Message::text("up")).unwrap();
    assert!(server.wait_for_received(|m| m == "up", SOON).is_some());

    ws.close(None).unwrap();
    assert!(read_error(&mut ws).is_some());
    drop(ws);
    assert!(eventually(|| proxy.connection_count() == 0));
    assert!(server.wait_for_at_most(0, SOON));
}

#[test]
fn pause_holds_bytes_until_pass() {
    let (server, proxy, mut ws) = setup();
    proxy.set_mode(ProxyMode::Pause);
    std::thread::sleep(Duration::from_millis(20));
    server.broadcast("held");
    ws.send(Message::text("held up")).unwrap();
    set_timeout(&ws, Duration::from_millis(200));
    assert!(is_quiet(&mut ws));
    assert!(server.received().is_empty());

    proxy.set_mode(ProxyMode::Pass);
    set_timeout(&ws, SOON);
    assert_eq!(read_text(&mut ws).as_deref(), Some("held"));
    assert!(server.wait_for_received(|m| m == "held up", SOON).is_some());
}

#[test]
fn blackhole_discards_but_keeps_sockets_open() {
    let (server, proxy, mut ws) = setup();
    proxy.set_mode(ProxyMode::Blackhole);
    std::thread::sleep(Duration::from_millis(20));
    server.broadcast("lost");
    ws.send(Message::Ping(b"p".to_vec().into())).unwrap();
    set_timeout(&ws, Duration::from_millis(200));
    assert!(is_quiet(&mut ws), "nothing gets through a blackhole");
    assert_eq!(proxy.connection_count(), 1);
    assert_eq!(server.connection_count(), 1);

    // Even a client that gives up is not noticed upstream.
    drop(ws);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.connection_count(), 1);

    let tcp = std::net::TcpStream::connect(proxy.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let url = format!("ws://{}/", proxy.addr());
    assert!(
        handshake(&url, tcp).is_err(),
        "handshakes cannot pass a blackhole"
    );
}

#[test]
fn trickle_slows_delivery() {
    let (server, proxy, mut ws) = setup();
    proxy.set_mode(ProxyMode::Trickle {
        bytes: 10,
        every: Duration::from_millis(20),
    });
    std::thread::sleep(Duration::from_millis(20));
    let text = "x".repeat(100);
    let started = Instant::now();
    server.broadcast(&text);
    assert_eq!(read_text(&mut ws).as_deref(), Some(text.as_str()));
    // 102 bytes at 10 bytes per 20 ms need about 200 ms.
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[test]
fn reset_all_resets_both_sides() {
    let (server, proxy, mut ws) = setup();
    proxy.reset_all();
    assert_eq!(proxy.connection_count(), 0);
    match read_error(&mut ws) {
        Some(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        other => panic!("expected a reset, got {other:?}"),
    }
    assert!(server.wait_for_at_most(0, SOON));

    // The proxy keeps working for new clients.
    let mut again = connect(&format!("ws://{}/", proxy.addr())).unwrap();
    assert!(server.wait_for_connections(1, SOON));
    server.broadcast("again");
    assert_eq!(read_text(&mut again).as_deref(), Some("again"));
}

#[test]
fn upstream_down_closes_client() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    server.stop();
    assert!(connect(&format!("ws://{}/", proxy.addr())).is_err());
    assert_eq!(proxy.connection_count(), 0);
}
