//! `close()` returns promptly in every state and joins its thread.

use std::time::{Duration, Instant};

use tradewire::{Client, Config, ErrorCategory, Event, Overflow, Preset, State};
use tradewire_testkit::{DaemonServer, ServerOptions, SilentListener, WsServer};

use crate::support::{expect_kind, quick, SOON};

/// Generous: issue 8 wants one second; tests must not flake on a busy machine.
const PROMPT: Duration = Duration::from_secs(3);

fn timed_close(client: &Client) -> Duration {
    let t0 = Instant::now();
    client.close();
    let took = t0.elapsed();
    assert_eq!(client.status().state, State::Closed);
    took
}

#[test]
fn while_the_websocket_handshake_hangs() {
    let silent = SilentListener::start().unwrap();
    let client = Client::connect(
        Config::new(format!("ws://127.0.0.1:{}", silent.port()))
            .connect_timeout(Duration::from_secs(60)),
    )
    .unwrap();
    assert!(crate::support::eventually(SOON, || silent.accepted() >= 1));
    assert!(timed_close(&client) < PROMPT);
}

#[test]
fn while_the_tls_handshake_hangs() {
    let silent = SilentListener::start().unwrap();
    let client = Client::connect(
        Config::new(format!("wss://127.0.0.1:{}", silent.port()))
            .connect_timeout(Duration::from_secs(60)),
    )
    .unwrap();
    assert!(crate::support::eventually(SOON, || silent.accepted() >= 1));
    std::thread::sleep(Duration::from_millis(100));
    assert!(timed_close(&client) < PROMPT);
}

#[test]
fn mid_backoff() {
    let server = DaemonServer::start().unwrap();
    let port = server.port();
    drop(server);
    let client = Client::connect(
        Config::new(format!("ws://127.0.0.1:{port}"))
            .backoff_initial(Duration::from_secs(60))
            .backoff_max(Duration::from_secs(60)),
    )
    .unwrap();
    expect_kind(&client, "reconnecting", SOON);
    assert_eq!(client.status().state, State::Backoff);
    assert!(timed_close(&client) < PROMPT);
}

#[test]
fn while_live_and_the_stream_ends_after() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::connect(Config::new(server.url())).unwrap();
    expect_kind(&client, "connected", SOON);
    server.broadcast(r#"{"type":"x"}"#);
    expect_kind(&client, "message", SOON);
    assert!(timed_close(&client) < PROMPT);
    // The close is reported, then the stream ends.
    let rest: Vec<Event> = client.events().iter().collect();
    assert!(
        matches!(
            rest.last(),
            Some(Event::Disconnected {
                code: Some(1000),
                ..
            })
        ),
        "{rest:?}"
    );
    assert!(
        server.wait_for_at_most(0, SOON),
        "the server saw the connection end"
    );
    client.close(); // idempotent
}

#[test]
fn while_the_consumer_is_not_reading() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(
        quick(Config::new(server.url()).preset(Preset::Daemon))
            .queue_capacity(16)
            .overflow(Overflow::Block),
    )
    .unwrap();
    assert!(server.wait_for_connections(1, SOON));
    let stream = server.stream(20_000.0, Some(5_000), |seq| {
        tradewire_testkit::events::daemon_event(seq, 123)
    });
    std::thread::sleep(Duration::from_millis(500));
    // The queue holds exactly its capacity: the I/O thread stopped reading.
    assert_eq!(client.events().len(), 16);
    assert!(timed_close(&client) < PROMPT);
    stream.stop();
}

#[test]
fn before_start_and_twice() {
    let client = Client::new(Config::new("ws://127.0.0.1:1")).unwrap();
    assert!(timed_close(&client) < PROMPT);
    assert!(client.start().is_err());
    assert!(
        matches!(client.recv_timeout(Duration::from_millis(10)), Err(e) if e.kind() == ErrorCategory::Closed)
    );
}
