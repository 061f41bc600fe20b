//! `inline_reads`: the thread waiting in `recv` reads the socket itself. Events, order,
//! timers while the receiver is away, commands from the receiving thread and from others,
//! `close()` while a receiver runs the connection, reconnection, several receivers, and a
//! Tradovate request made from the only thread.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tradewire::{Client, Config, ErrorCategory, Event, Overflow, State};
use tradewire_testkit::events::sequenced;
use tradewire_testkit::probe::{current_thread_cpu_ticks, thread_cpu_ticks};
use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer};
use tradewire_testkit::{ServerOptions, WsServer};

use crate::support::{eventually, expect_kind, quick, seq_of, wait_for, SOON};

fn inline(url: String) -> Config {
    quick(Config::new(url)).inline_reads(true)
}

/// A server, and an inline client that has received one message from it (so that the
/// connection is lent to the receiving thread).
fn lent_client(config: impl FnOnce(Config) -> Config) -> (WsServer, Client) {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::connect(config(inline(server.url()))).unwrap();
    expect_kind(&client, "connected", SOON);
    server.broadcast(&sequenced(0, None));
    assert_eq!(take_messages(&client, 1), [0]);
    (server, client)
}

/// Receives `n` messages, returning their sequence numbers in arrival order.
fn take_messages(client: &Client, n: usize) -> Vec<u64> {
    let mut got = Vec::new();
    let deadline = Instant::now() + SOON;
    while got.len() < n && Instant::now() < deadline {
        if let Ok(Some(ev)) = client.recv_timeout(Duration::from_millis(200)) {
            if let Some(s) = seq_of(&ev) {
                got.push(s);
            }
        }
    }
    got
}

#[test]
fn the_receiving_thread_does_the_reading() {
    if !crate::support::isolated() {
        return; // per-thread CPU figures need the process to itself
    }
    // Per-thread CPU time depends on the scheduler: on a busy machine the receiving thread
    // may be descheduled long enough that the I/O thread reads for a while (as it should). So
    // the best of three streams decides; without inline reads every stream fails, since the
    // I/O thread then does all the reading (mutation-checked).
    let mut figures = Vec::new();
    for _ in 0..3 {
        let (me, io) = ticks_for_one_stream();
        // Reading and parsing 100,000 frames is this thread's work; the I/O thread only
        // looks in.
        if me >= 5 && io * 4 <= me {
            return;
        }
        figures.push(format!("receiving thread {me}, I/O thread {io}"));
    }
    panic!("CPU ticks in three streams: {}", figures.join("; "));
}

/// The CPU ticks of this (receiving) thread and of the I/O thread while it receives 100,000
/// messages from a fresh server through an inline client, in order.
fn ticks_for_one_stream() -> (u64, u64) {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::connect(inline(server.url())).unwrap();
    expect_kind(&client, "connected", SOON);
    const N: usize = 100_000;
    let io_before = thread_cpu_ticks("tradewire-io");
    let me_before = current_thread_cpu_ticks();
    let stream = server.stream(0.0, Some(N as u64), |i| sequenced(i, None));
    let got = take_messages(&client, N);
    drop(stream);
    assert_eq!(got.len(), N);
    assert!(got.windows(2).all(|w| w[0] < w[1]));
    let io = thread_cpu_ticks("tradewire-io") - io_before;
    let me = current_thread_cpu_ticks() - me_before;
    client.close();
    (me, io)
}

#[test]
fn the_io_thread_reads_again_while_the_application_is_busy() {
    let (server, client) = lent_client(|c| {
        c.heartbeat_interval(Duration::from_secs(30))
            .heartbeat_timeout(Duration::from_secs(60))
    });

    // Busy: nobody waits in recv. After the lease the I/O thread reads into the channel, as
    // without inline reads (so server pings get answers and the overflow policy applies).
    for i in 1..=200 {
        server.broadcast(&sequenced(i, None));
    }
    assert!(
        eventually(SOON, || client.status().messages_received == 201),
        "read {} of 201",
        client.status().messages_received
    );
    // Back: everything, in order.
    let got = take_messages(&client, 200);
    assert_eq!(got, (1..=200).collect::<Vec<_>>());
    assert_eq!(client.status().dropped, 0);
}

#[test]
fn a_small_channel_under_block_loses_nothing() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::connect(
        inline(server.url())
            .queue_capacity(4)
            .overflow(Overflow::Block),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    let stream = server.stream(0.0, Some(5_000), |i| sequenced(i, None));
    let got = take_messages(&client, 5_000);
    drop(stream);
    assert_eq!(got, (1..=5_000).collect::<Vec<_>>());
    assert_eq!(client.status().dropped, 0);
}

#[test]
fn heartbeats_go_out_while_the_receiver_is_away() {
    let timeout = Duration::from_millis(900);
    let (_server, client) = lent_client(|c| {
        c.heartbeat_interval(Duration::from_millis(200))
            .heartbeat_timeout(timeout)
    });
    // Away for more than three timeouts: the server answers the I/O thread's pings.
    std::thread::sleep(timeout * 4);
    let st = client.status();
    assert_eq!(
        (st.state, st.reconnects),
        (State::Live, 0),
        "the connection was dropped while the receiver was away"
    );
    assert!(st.last_heartbeat_latency.is_some(), "no pong was read");
}

#[test]
fn a_dead_connection_is_noticed_whether_the_receiver_waits_or_not() {
    let timeout = Duration::from_millis(600);
    let (server, client) = lent_client(|c| {
        c.heartbeat_interval(Duration::from_millis(200))
            .heartbeat_timeout(timeout)
    });

    // Receiver away: the I/O thread notices (bound: three timeouts, plus slack for a busy machine).
    server.set_silent(true);
    assert!(eventually(timeout * 3 + Duration::from_secs(2), || client
        .status()
        .reconnects
        >= 1
        || client.status().state != State::Live));
    server.set_silent(false);
    expect_kind(&client, "connected", SOON);

    // Receiver waiting: it notices itself.
    server.broadcast(&sequenced(1, None));
    assert_eq!(take_messages(&client, 1), [1]);
    server.set_silent(true);
    let t0 = Instant::now();
    let (ev, seen) = wait_for(&client, SOON, |e| e.kind() == "disconnected");
    assert!(ev.is_some(), "no disconnect; saw {seen:?}");
    assert!(
        t0.elapsed() < timeout * 3 + Duration::from_secs(2),
        "noticed after {:?}",
        t0.elapsed()
    );
}

#[test]
fn sends_go_out_from_the_receiving_thread_and_from_others() {
    let (server, client) = lent_client(|c| c);
    let client = Arc::new(client);

    // Lent, nobody running it: this thread runs the send's turn.
    client.send_text("from-the-receiver").unwrap();
    assert!(server
        .wait_for_received(|m| m == "from-the-receiver", SOON)
        .is_some());

    // Another thread sends while this one waits in recv.
    let c2 = client.clone();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        c2.send_text("from-another-thread")
    });
    let waited = client.recv_timeout(Duration::from_secs(1)).unwrap();
    assert!(waited.is_none(), "{waited:?}");
    sender.join().unwrap().unwrap();
    assert!(server
        .wait_for_received(|m| m == "from-another-thread", SOON)
        .is_some());
}

#[test]
fn close_from_another_thread_stops_a_receiver_running_the_connection() {
    let (server, client) = lent_client(|c| c);
    let client = Arc::new(client);

    let c2 = client.clone();
    let receiver = std::thread::spawn(move || {
        let mut seen = Vec::new();
        loop {
            match c2.recv() {
                Ok(ev) => seen.push(ev),
                Err(e) => return (seen, e),
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    client.close();
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "close took {:?}",
        t0.elapsed()
    );
    let (seen, err) = receiver.join().unwrap();
    assert_eq!(err.kind(), ErrorCategory::Closed, "{err:?}");
    assert!(
        matches!(
            seen.last(),
            Some(Event::Disconnected {
                code: Some(1000),
                ..
            })
        ),
        "{seen:?}"
    );
    assert!(server.wait_for_at_most(0, SOON));
}

#[test]
fn reconnects_after_the_server_drops_the_connection() {
    let (server, client) = lent_client(|c| c);
    for round in 1..=3u64 {
        server.drop_all();
        expect_kind(&client, "disconnected", SOON);
        expect_kind(&client, "connected", SOON);
        server.broadcast(&sequenced(round, None));
        assert_eq!(take_messages(&client, 1), [round]);
    }
    assert_eq!(client.status().reconnects, 3);
}

#[test]
fn several_receivers_share_the_stream_each_event_once() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Arc::new(Client::connect(inline(server.url())).unwrap());
    expect_kind(&client, "connected", SOON);
    const N: u64 = 3_000;
    let receivers: Vec<_> = (0..3)
        .map(|_| {
            let c = client.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(Some(ev)) = c.recv_timeout(Duration::from_millis(1_500)) {
                    got.extend(seq_of(&ev));
                }
                got
            })
        })
        .collect();
    let stream = server.stream(20_000.0, Some(N), |i| sequenced(i, None));
    let mut all = Vec::new();
    for r in receivers {
        let got = r.join().unwrap();
        // Each receiver sees its share in order.
        assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order: {got:?}");
        all.extend(got);
    }
    drop(stream);
    let distinct: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(all.len() as u64, N, "duplicates or losses");
    assert_eq!(distinct, (1..=N).collect());
}

#[test]
fn a_tradovate_request_from_the_only_thread_gets_its_response() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let client =
        Client::connect(crate::tradovate_session::config(&server).inline_reads(true)).unwrap();
    expect_kind(&client, "authenticated", SOON);
    // Nobody else reads the socket: the requesting thread runs the connection while it waits.
    let accounts = client.request("account/list", None, SOON).unwrap();
    assert!(accounts.contains("ACC-"), "{accounts}");
    // And heartbeats keep the session alive while nobody reads.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(client.status().reconnects, 0);
    assert!(client.request("account/list", None, SOON).is_ok());
}
