//! The bench server: one process, separate from the client under test, that streams
//! pre-built document-002 frames carrying a CLOCK_MONOTONIC timestamp.
//!
//! ```text
//! bench-server --mode firehose --warmup 1 --duration 3 --match 25
//! bench-server --mode paced --rate 20000 --warmup 1 --duration 4 --match 25
//! bench-server --mode idle --duration 12          # begin, silence (pongs only), end
//! bench-server --mode hold                        # any number of idle connections, until stdin closes
//! ```
//!
//! It prints `{"port": N}` once it listens on 127.0.0.1, then (stream modes) accepts one
//! connection, sends the warm-up, `bench_begin`, the measured events, `bench_end`, waits for
//! the client to close, prints one JSON line of statistics and exits.
//!
//! firehose: frames are written in batches of 256 as fast as TCP takes them (the client's
//! speed sets the pace), each batch stamped with the time it was written.
//! paced: frame k is due at start + k / rate and carries that scheduled time (not the time
//! it was actually written), so a client that falls behind and makes the server's writes
//! block sees the queueing in its latency instead of hiding it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use serde_json::json;
use tradewire_bench::{die, marker_frame, mono_ns, stream_frames, Frame, BEGIN, END};
use tungstenite::{Message, WebSocket};

/// Distinct frames in the ring the stream cycles through.
const RING: usize = 1024;
/// Frames per write in firehose mode.
const BATCH: usize = 256;
/// In paced mode, how far behind schedule the writes may fall (a client slower than the
/// rate) before the server stops sending.
const MAX_LAG_NS: u64 = 2_000_000_000;

struct Opts {
    mode: String,
    rate: f64,
    warmup: f64,
    duration: f64,
    match_pct: u32,
}

fn opts() -> Opts {
    let mut o = Opts {
        mode: String::new(),
        rate: 20_000.0,
        warmup: 1.0,
        duration: 3.0,
        match_pct: 25,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut v = || {
            it.next()
                .cloned()
                .unwrap_or_else(|| die(&format!("{a} needs a value")))
        };
        let num = |s: String| -> f64 {
            s.parse()
                .unwrap_or_else(|_| die(&format!("{a}: not a number: {s}")))
        };
        match a.as_str() {
            "--mode" => o.mode = v(),
            "--rate" => o.rate = num(v()),
            "--warmup" => o.warmup = num(v()),
            "--duration" => o.duration = num(v()),
            "--match" => o.match_pct = num(v()) as u32,
            other => die(&format!("unknown argument {other}")),
        }
    }
    if !["firehose", "paced", "idle", "hold"].contains(&o.mode.as_str()) {
        die("--mode must be firehose, paced, idle or hold");
    }
    if o.match_pct != 25 && o.match_pct != 100 {
        die("--match must be 25 or 100");
    }
    o
}

fn main() {
    let o = opts();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| die(&format!("bind: {e}")));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    println!("{}", json!({ "port": port }));
    let _ = std::io::stdout().flush();

    if o.mode == "hold" {
        hold(listener);
        return;
    }
    let (tcp, _) = listener
        .accept()
        .unwrap_or_else(|e| die(&format!("accept: {e}")));
    let _ = tcp.set_nodelay(true);
    let mut ws = tungstenite::accept(tcp).unwrap_or_else(|e| die(&format!("handshake: {e}")));
    let stats = match o.mode.as_str() {
        "firehose" => firehose(&mut ws, &o),
        "paced" => paced(&mut ws, &o),
        _ => idle(&mut ws, &o),
    };
    wait_for_close(&mut ws);
    println!("{stats}");
}

fn raw(ws: &mut WebSocket<TcpStream>, bytes: &[u8]) {
    if let Err(e) = ws.get_mut().write_all(bytes) {
        die(&format!("write: {e} (did the client die?)"));
    }
}

/// Writes batches of frames until `seconds` have passed; returns how many frames.
fn firehose_phase(
    ws: &mut WebSocket<TcpStream>,
    ring: &mut [Frame],
    at: &mut usize,
    seconds: f64,
) -> u64 {
    let end = mono_ns() + (seconds * 1e9) as u64;
    let mut buf = Vec::with_capacity(BATCH * 300);
    let mut sent = 0u64;
    loop {
        let now = mono_ns();
        if now >= end {
            return sent;
        }
        buf.clear();
        for _ in 0..BATCH {
            let f = &mut ring[*at % ring.len()];
            *at += 1;
            f.stamp(now);
            buf.extend_from_slice(&f.bytes);
        }
        raw(ws, &buf);
        sent += BATCH as u64;
    }
}

fn firehose(ws: &mut WebSocket<TcpStream>, o: &Opts) -> serde_json::Value {
    let mut ring = stream_frames(RING, o.match_pct);
    let mut at = 0;
    let warm = firehose_phase(ws, &mut ring, &mut at, o.warmup);
    raw(ws, &marker_frame(BEGIN, mono_ns(), 0));
    let t0 = mono_ns();
    let sent = firehose_phase(ws, &mut ring, &mut at, o.duration);
    let t1 = mono_ns();
    raw(ws, &marker_frame(END, mono_ns(), sent));
    json!({"mode": "firehose", "warmup_sent": warm, "sent": sent,
           "send_s": (t1 - t0) as f64 / 1e9, "match": o.match_pct, "event_bytes": sizes(&ring)})
}

/// Sizes of the events (WebSocket payloads) of the ring: min, mean, max.
fn sizes(ring: &[Frame]) -> serde_json::Value {
    let len = |f: &Frame| f.bytes.len() - if f.bytes[1] == 126 { 4 } else { 2 };
    let min = ring.iter().map(len).min().unwrap_or(0);
    let max = ring.iter().map(len).max().unwrap_or(0);
    let mean = ring.iter().map(len).sum::<usize>() as f64 / ring.len().max(1) as f64;
    json!({"min": min, "mean": mean, "max": max})
}

/// Sleeps until shortly before `due`, then spins.
fn wait_until(due: u64) {
    loop {
        let now = mono_ns();
        if now >= due {
            return;
        }
        let left = due - now;
        if left > 200_000 {
            std::thread::sleep(Duration::from_nanos(left - 100_000));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Sends frames at `rate` for `seconds`, each stamped with its scheduled time. Returns how
/// many and how late the writes were (ns, per frame).
fn paced_phase(
    ws: &mut WebSocket<TcpStream>,
    ring: &mut [Frame],
    at: &mut usize,
    rate: f64,
    seconds: f64,
    late: &mut Vec<u64>,
) -> u64 {
    let start = mono_ns();
    let count = (rate * seconds).round() as u64;
    for k in 0..count {
        let due = start + (k as f64 * 1e9 / rate) as u64;
        if mono_ns().saturating_sub(due) > MAX_LAG_NS {
            // The client cannot take the rate: TCP pushed back for seconds. Stop here; the
            // report says how many were sent and that the rate was not sustained.
            return k;
        }
        wait_until(due);
        let f = &mut ring[*at % ring.len()];
        *at += 1;
        f.stamp(due);
        let before = mono_ns();
        raw(ws, &f.bytes);
        late.push(before - due);
    }
    count
}

fn paced(ws: &mut WebSocket<TcpStream>, o: &Opts) -> serde_json::Value {
    let mut ring = stream_frames(RING, o.match_pct);
    let mut at = 0;
    let mut late = Vec::new();
    let warm = paced_phase(ws, &mut ring, &mut at, o.rate, o.warmup, &mut late);
    late.clear();
    raw(ws, &marker_frame(BEGIN, mono_ns(), 0));
    // The first measured frame is due one interval after the marker.
    std::thread::sleep(Duration::from_secs_f64(1.0 / o.rate));
    let sent = paced_phase(ws, &mut ring, &mut at, o.rate, o.duration, &mut late);
    raw(ws, &marker_frame(END, mono_ns(), sent));
    let sustained = sent == (o.rate * o.duration).round() as u64;
    if late.is_empty() {
        late.push(0);
    }
    late.sort_unstable();
    let p = |q: f64| late[((late.len() as f64 * q) as usize).min(late.len() - 1)] as f64 / 1e3;
    json!({"mode": "paced", "rate": o.rate, "warmup_sent": warm, "sent": sent, "match": o.match_pct,
           "sustained": sustained,
           "event_bytes": sizes(&ring),
           "write_late_us": {"p50": p(0.5), "p99": p(0.99), "max": p(1.0)}})
}

/// Begin, then only pongs for `duration` seconds, then end.
fn idle(ws: &mut WebSocket<TcpStream>, o: &Opts) -> serde_json::Value {
    raw(ws, &marker_frame(BEGIN, mono_ns(), 0));
    // The harness starts counting the client's wakeups from here.
    println!("{}", json!({"begin": true}));
    let _ = std::io::stdout().flush();
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(100)));
    let end = mono_ns() + (o.duration * 1e9) as u64;
    let mut pings = 0u64;
    while mono_ns() < end {
        match ws.read() {
            Ok(Message::Ping(_)) => {
                pings += 1;
                let _ = ws.flush();
            }
            Ok(Message::Close(_)) => break,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    raw(ws, &marker_frame(END, mono_ns(), 0));
    json!({"mode": "idle", "duration_s": o.duration, "pings_received": pings})
}

/// Reads until the client closes (answering its close frame), at most 10 s.
fn wait_for_close(ws: &mut WebSocket<TcpStream>) {
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)));
    let end = mono_ns() + 10_000_000_000;
    while mono_ns() < end {
        match ws.read() {
            Ok(_) => {
                let _ = ws.flush();
            }
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Any number of idle connections (a thread each), answering pings, until stdin closes.
fn hold(listener: TcpListener) {
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let _ = std::thread::Builder::new()
                .stack_size(128 << 10)
                .spawn(move || {
                    let _ = tcp.set_nodelay(true);
                    let Ok(mut ws) = tungstenite::accept(tcp) else {
                        return;
                    };
                    loop {
                        match ws.read() {
                            Ok(Message::Close(_)) => {
                                let _ = ws.flush();
                                return;
                            }
                            Ok(_) => {
                                let _ = ws.flush();
                            }
                            Err(_) => return,
                        }
                    }
                });
        }
    });
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}
