//! Replaying subscriptions after a reconnect: how long until the server has every one.
//!
//! A plain tungstenite server on 127.0.0.1 (this process) accepts the client, reads until it
//! has received all N subscriptions, then drops the TCP connection; the client reconnects
//! and replays them. For the second connection the server reports the time from the end of
//! the WebSocket handshake to the N-th subscription, and from the TCP accept to it. The
//! client is tradewire (json preset) with N subscriptions made before `start()`. Each run is
//! a new client; the median and range of the runs are printed, next to the shortest
//! heartbeat interval of any preset (tradovate's 2.5 s).
//!
//! ```text
//! bench-resubscribe [--subscriptions 1000] [--runs 5]
//! ```

use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tradewire::{Client, Config, Event};
use tradewire_bench::die;

/// One connection's timings: (accept → N-th message, handshake done → N-th message).
type Timing = (Duration, Duration);

/// Serves connections one at a time; reports the timings of each, and drops it once N
/// messages came.
fn serve(listener: TcpListener, n: usize, out: mpsc::Sender<Timing>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { return };
        let accepted = Instant::now();
        let _ = stream.set_nodelay(true);
        let Ok(mut ws) = tungstenite::accept(stream) else {
            continue;
        };
        let open = Instant::now();
        let mut got = 0;
        while got < n {
            match ws.read() {
                Ok(tungstenite::Message::Text(_)) => got += 1,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let done = Instant::now();
        if got == n && out.send((done - accepted, done - open)).is_err() {
            return;
        }
        // Dropped without a close frame: the client sees a lost connection and reconnects.
        drop(ws);
    }
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| die(&format!("{name} needs a number"))),
        None => default,
    }
}

fn one_run(n: usize) -> Timing {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| die(&format!("bind: {e}")));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| die(&format!("local_addr: {e}")))
        .port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || serve(listener, n, tx));
    let config = Config::new(format!("ws://127.0.0.1:{port}"))
        .backoff_initial(Duration::from_millis(10))
        .backoff_max(Duration::from_millis(10))
        .jitter(0.0);
    let client = Client::new(config).unwrap_or_else(|e| die(&format!("client: {e}")));
    for i in 0..n {
        let message = format!(r#"{{"type":"subscribe","symbol":"SYM{i:05}"}}"#);
        if let Err(e) = client.subscribe(message) {
            die(&format!("subscribe: {e}"));
        }
    }
    client
        .start()
        .unwrap_or_else(|e| die(&format!("start: {e}")));
    let wait = Duration::from_secs(30);
    let first = rx
        .recv_timeout(wait)
        .unwrap_or_else(|_| die("no first connection"));
    let second = rx
        .recv_timeout(wait)
        .unwrap_or_else(|_| die("no second connection"));
    let _ = first;
    // Drain what the client reported, so that it saw the reconnect.
    while let Ok(Some(ev)) = client.recv_timeout(Duration::from_millis(1)) {
        if matches!(ev, Event::GaveUp { .. }) {
            die("the client gave up");
        }
    }
    let replayed = client.status().subscriptions_replayed;
    if replayed < 2 * n as u64 {
        die(&format!(
            "status says {replayed} replayed, expected at least {}",
            2 * n
        ));
    }
    client.close();
    second
}

fn median_range(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "{:.2} ms ({:.2}–{:.2})",
        ms(v[v.len() / 2]),
        ms(v[0]),
        ms(v[v.len() - 1])
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = arg(&args, "--subscriptions", 1000);
    let runs = arg(&args, "--runs", 5).max(1);
    let timings: Vec<Timing> = (0..runs).map(|_| one_run(n)).collect();
    let heartbeat = Duration::from_millis(2500);
    let replay: Vec<Duration> = timings.iter().map(|t| t.1).collect();
    let accept: Vec<Duration> = timings.iter().map(|t| t.0).collect();
    let worst = replay.iter().max().copied().unwrap_or_default();
    println!("subscriptions replayed after a reconnect: {n}, runs: {runs}");
    println!(
        "handshake done -> last subscription received: {}",
        median_range(replay)
    );
    println!(
        "TCP accept -> last subscription received:    {}",
        median_range(accept)
    );
    println!(
        "worst replay / shortest heartbeat interval (2.5 s, tradovate): {:.4}",
        worst.as_secs_f64() / heartbeat.as_secs_f64()
    );
}
