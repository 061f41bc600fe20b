//! Knowing how late you are (issue 29): each pong is timed against the ping it answers, so a
//! slow round trip reads as what it is; `lag_warning` turns a feed that falls behind into one
//! `lagging` event and one `caught_up` event, in order; a server that drops a client that
//! stopped reading (queue full under `block`) is explained in the `disconnected` reason.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tradewire::{Client, Config, Event, Lag, Overflow};
use tradewire_testkit::{frames, ServerOptions, WsServer};

use crate::support::peer::PeerServer;
use crate::support::{expect_kind, quick, wait_for, SOON};

/// A WebSocket server (tungstenite's handshake, then raw frames) that answers each ping
/// `delay` after it arrived, with the ping's own payload, and nothing else.
struct LatePonger {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl LatePonger {
    fn start(delay: Duration) -> LatePonger {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            let raw = tcp.try_clone().unwrap();
            // The handshake only; the frames are read and written raw below.
            let _ws = tungstenite::accept(tcp).unwrap();
            serve_late_pongs(raw, delay, &stopping);
        });
        LatePonger { port, stop }
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.port)
    }
}

impl Drop for LatePonger {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Reads the client's (masked) frames; a writer thread sends each ping's pong when due.
fn serve_late_pongs(mut raw: TcpStream, delay: Duration, stop: &AtomicBool) {
    let (tx, rx) = crossbeam_channel::unbounded::<(Instant, Vec<u8>)>();
    let mut out = raw.try_clone().unwrap();
    thread::spawn(move || {
        for (due, payload) in rx {
            thread::sleep(due.saturating_duration_since(Instant::now()));
            if out
                .write_all(&frames::frame(frames::OP_PONG, true, &payload))
                .is_err()
            {
                return;
            }
        }
    });
    raw.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        match raw.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => return,
        }
        while let Some((opcode, payload, used)) = client_frame(&buf) {
            buf.drain(..used);
            if opcode == frames::OP_PING && tx.send((Instant::now() + delay, payload)).is_err() {
                return;
            }
        }
    }
}

/// One complete masked client frame at the start of `buf`: its opcode, unmasked payload and
/// length in bytes.
fn client_frame(buf: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    let b0 = *buf.first()?;
    let b1 = *buf.get(1)?;
    let (len, mut at) = match b1 & 0x7f {
        126 => (
            u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    let mask: [u8; 4] = buf.get(at..at + 4)?.try_into().ok()?;
    at += 4;
    let payload = buf.get(at..at + len)?;
    let unmasked = payload
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i % 4])
        .collect();
    Some((b0 & 0x0f, unmasked, at + len))
}

#[test]
fn a_pong_two_and_a_half_seconds_late_reads_as_that_round_trip() {
    let server = LatePonger::start(Duration::from_millis(2500));
    let client = Client::connect(
        quick(Config::new(server.url()))
            .heartbeat_interval(Duration::from_secs(1))
            .heartbeat_timeout(Duration::from_secs(10)),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    // Pings go out every second; the first pong comes 2.5 s after the first ping, then one
    // a second: after 6 s several have come.
    let connected = Instant::now();
    let deadline = connected + SOON + SOON;
    let mut status = client.status();
    while status.heartbeat_latency_max.is_none() || connected.elapsed() < Duration::from_secs(6) {
        assert!(Instant::now() < deadline, "no round trips: {status:?}");
        thread::sleep(Duration::from_millis(100));
        status = client.status();
    }
    let last = status.last_heartbeat_latency.unwrap().as_secs_f64();
    let median = status.heartbeat_latency_median.unwrap().as_secs_f64();
    let max = status.heartbeat_latency_max.unwrap().as_secs_f64();
    // Never less than the delay (timed against its own ping, not the latest one, which
    // would read under the 1 s interval); a loaded machine may add to it.
    for rtt in [last, median, max] {
        assert!(rtt >= 2.5, "round trip {rtt} s: {status:?}");
        assert!(rtt < 5.0, "round trip {rtt} s: {status:?}");
    }
    let json = status.to_json();
    assert!(json["heartbeat_latency_max"].as_f64().unwrap() >= 2.5);
    client.close();
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

#[test]
fn a_feed_three_seconds_in_the_past_and_back_gives_one_lagging_then_one_caught_up() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::connect(
        quick(Config::new(server.url()))
            .time_pointer(Some("/ts".into()))
            .lag_warning(Duration::from_secs(1)),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(server.wait_for_connections(1, SOON));
    let send = |i: u32, behind: Duration| {
        let ts = unix_ms(SystemTime::now() - behind);
        server.broadcast(&format!(r#"{{"type":"q","ts":{ts},"data":{{"i":{i}}}}}"#));
    };
    let late = Duration::from_secs(3);
    let kinds: Vec<(u32, Duration)> = vec![
        (0, Duration::ZERO),
        (1, Duration::ZERO),
        (2, late),
        (3, late),
        (4, late),
        (5, Duration::ZERO),
        (6, Duration::ZERO),
    ];
    for (i, behind) in &kinds {
        send(*i, *behind);
    }
    let mut seen = Vec::new();
    let deadline = Instant::now() + SOON;
    while seen.iter().filter(|s: &&String| s.starts_with('m')).count() < kinds.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(ev) = client.recv_timeout(left).unwrap() else {
            panic!("not every message came: {seen:?}")
        };
        seen.push(match ev {
            Event::Message(m) => {
                let data: serde_json::Value = serde_json::from_str(m.data_json().unwrap()).unwrap();
                format!("m{}", data["i"])
            }
            Event::Lagging { lag, seconds } => {
                assert_eq!(lag, Lag::Feed);
                assert!((3.0..10.0).contains(&seconds), "{seconds}");
                "lagging".into()
            }
            Event::CaughtUp { lag, seconds } => {
                assert_eq!(lag, Lag::Feed);
                assert!(seconds < 0.5, "{seconds}");
                "caught_up".into()
            }
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(
        seen,
        [
            "m0",
            "m1",
            "lagging",
            "m2",
            "m3",
            "m4",
            "caught_up",
            "m5",
            "m6"
        ]
    );
    // The status says how stale the feed is now (the last message is fresh).
    let status = client.status();
    let feed_lag = status.feed_lag.expect("a feed lag");
    assert!((-1.0..3.0).contains(&feed_lag), "{feed_lag}");
    assert!(status.consumer_lag.is_some());
    assert!(client.status().to_json()["feed_lag"].is_number());
    client.close();
}

#[test]
fn a_slow_consumer_dropped_by_a_server_keepalive_is_told_it_was_behind() {
    let Some(peer) = PeerServer::python("daemon_server.py", &["--port", "0", "--keepalive", "1"])
    else {
        return;
    };
    let client = Client::connect(
        quick(Config::new(peer.url("")))
            .queue_capacity(8)
            .overflow(Overflow::Block)
            .lag_warning(Duration::from_secs(1))
            .reconnect(false),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(peer.wait_count(1, SOON));
    let text = format!(r#"{{"type":"t","data":"{}"}}"#, "x".repeat(200));
    peer.command(&format!(
        r#"{{"cmd":"burst","text":{},"count":3000}}"#,
        serde_json::to_string(&text).unwrap()
    ));
    // The application does not take events: the queue fills, the client stops reading, the
    // server's pings wait unread and its keepalive gives up after about 2 s.
    thread::sleep(Duration::from_secs(4));
    let mut lagging = None;
    let (ev, _) = wait_for(&client, Duration::from_secs(30), |e| {
        if let Event::Lagging { lag, seconds } = e {
            lagging.get_or_insert((*lag, *seconds));
        }
        e.kind() == "disconnected"
    });
    let Some(Event::Disconnected { reason, .. }) = ev else {
        panic!("no disconnected event")
    };
    assert!(reason.contains("s behind"), "{reason}");
    assert!(reason.contains("keepalive"), "{reason}");
    for remedy in ["faster consumer", "drop_oldest", "queue_capacity"] {
        assert!(reason.contains(remedy), "{reason}");
    }
    let (lag, seconds) = lagging.expect("a lagging event before the end");
    assert_eq!(lag, Lag::Consumer);
    assert!(seconds >= 1.0, "{seconds}");
    client.close();
}
