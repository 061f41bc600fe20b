//! `busy_poll`: a receiver with inline reads polls the socket without sleeping while bytes
//! came within `busy_poll`, then sleeps. Every event arrives once and in order, commands and
//! heartbeats go on while it spins, it stops spinning after that much silence, and `close()`
//! from another thread ends its wait promptly.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tradewire::{Client, Config, ErrorCategory};
use tradewire_testkit::events::sequenced;
use tradewire_testkit::probe::current_thread_cpu_ticks;
use tradewire_testkit::{ServerOptions, WsServer};

use crate::support::{expect_kind, quick, seq_of, SOON};

fn spinning(url: String, busy_poll: Duration) -> Config {
    quick(Config::new(url))
        .inline_reads(true)
        .busy_poll(busy_poll)
}

#[test]
fn a_busy_polling_receiver_gets_every_event_in_order_while_sends_and_heartbeats_go_on() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let config = spinning(server.url(), Duration::from_secs(5))
        .heartbeat_interval(Duration::from_millis(200));
    let client = Arc::new(Client::connect(config).unwrap());
    expect_kind(&client, "connected", SOON);
    const N: u64 = 20_000;
    // Paced, so that the receiver waits (and spins) between events.
    let stream = server.stream(20_000.0, Some(N), |i| sequenced(i, None));
    let c2 = client.clone();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        c2.send_text("sent-while-it-spins")
    });
    let mut got = Vec::new();
    let deadline = Instant::now() + SOON * 2;
    while (got.len() as u64) < N && Instant::now() < deadline {
        if let Ok(Some(ev)) = client.recv_timeout(Duration::from_millis(200)) {
            got.extend(seq_of(&ev));
        }
    }
    drop(stream);
    // The stream numbers its events from 1.
    let want: Vec<u64> = (1..=N).collect();
    assert!(
        got == want,
        "{} events, first {:?}, last {:?}",
        got.len(),
        got.first(),
        got.last()
    );
    sender.join().unwrap().unwrap();
    assert!(server
        .wait_for_received(|m| m == "sent-while-it-spins", SOON)
        .is_some());
    assert!(
        client.status().last_heartbeat_latency.is_some(),
        "no pong was read while the receiver spun"
    );
}

#[test]
fn it_stops_spinning_after_busy_poll_of_silence() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    // Pings every 10 s: no pong comes during the wait below.
    let config = spinning(server.url(), Duration::from_millis(200))
        .heartbeat_interval(Duration::from_secs(10))
        .heartbeat_timeout(Duration::from_secs(30));
    let client = Client::connect(config).unwrap();
    expect_kind(&client, "connected", SOON);
    server.broadcast(&sequenced(0, None));
    let first = client.recv_timeout(SOON).unwrap().unwrap();
    assert_eq!(seq_of(&first), Some(0));
    // Two seconds without a frame: about 0.2 s spinning, then asleep. A receiver that spun throughout would take about 2 s of CPU
    // (less on a busy machine, which can only make this pass, never fail).
    let before = current_thread_cpu_ticks();
    let waited = client.recv_timeout(Duration::from_secs(2)).unwrap();
    let spent = current_thread_cpu_ticks() - before;
    assert!(waited.is_none(), "{waited:?}");
    assert!(
        spent < 150,
        "the receiver took {spent} ticks of CPU in 2 s of silence"
    );
}

#[test]
fn close_from_another_thread_ends_a_busy_polling_wait() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client =
        Arc::new(Client::connect(spinning(server.url(), Duration::from_secs(60))).unwrap());
    expect_kind(&client, "connected", SOON);
    server.broadcast(&sequenced(0, None));
    assert!(client.recv_timeout(SOON).unwrap().is_some());
    let c2 = client.clone();
    let receiver = std::thread::spawn(move || loop {
        if let Err(e) = c2.recv() {
            return e;
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    client.close();
    let err = receiver.join().unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "close took {:?}",
        t0.elapsed()
    );
    assert_eq!(err.kind(), ErrorCategory::Closed, "{err:?}");
}
