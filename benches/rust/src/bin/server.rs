//! The bench server: one process, separate from the client under test, that streams
//! pre-built document-002 frames carrying a CLOCK_MONOTONIC timestamp.
//!
//! ```text
//! bench-server --mode firehose --warmup 1 --duration 3 --match 25
//! bench-server --mode paced --rate 20000 --warmup 1 --duration 4 --match 25
//! bench-server --mode idle --duration 12          # begin, silence (pongs only), end
//! bench-server --mode hold                        # any number of idle connections, until stdin closes
//! bench-server --mode firehose --deflate ...      # permessage-deflate, when the client offers it
//! bench-server --mode firehose --seq ...          # each event with a top-level "seq", numbered as sent
//! ```
//!
//! `--deflate` (firehose only): the server accepts a permessage-deflate offer (context
//! takeover both ways) and sends the ring pre-compressed as one sequence (cycling through it
//! again is valid: a frame refers back only to frames before it in the ring), unstamped. The
//! statistics add `wire_bytes`, the bytes of frames sent in the measured part, and
//! `deflate`, whether the client accepted.
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
use tungstenite::handshake::server::{Request, Response};
use tungstenite::http::HeaderValue;
use tungstenite::{Message, WebSocket};

/// Distinct frames in the ring the stream cycles through.
const RING: usize = 1024;
/// Frames per write in firehose mode.
const BATCH: usize = 256;
/// In paced mode, how far behind schedule the writes may fall (a client slower than the
/// rate) before the server stops sending.
const MAX_LAG_NS: u64 = 2_000_000_000;
/// In paced mode, the most frames one write carries when catching up (about 230 KB).
const CATCH_UP_MAX: u64 = 1024;

struct Opts {
    mode: String,
    rate: f64,
    warmup: f64,
    duration: f64,
    match_pct: u32,
    deflate: bool,
    /// Firehose frames carry a top-level `seq`, numbered as they are sent.
    seq: bool,
}

fn opts() -> Opts {
    let mut o = Opts {
        mode: String::new(),
        rate: 20_000.0,
        warmup: 1.0,
        duration: 3.0,
        match_pct: 25,
        deflate: false,
        seq: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--deflate" {
            o.deflate = true;
            continue;
        }
        if a == "--seq" {
            o.seq = true;
            continue;
        }
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
    let mut deflated = false;
    // The callback's signature is tungstenite's (its error is an HTTP response).
    #[allow(clippy::result_large_err)]
    let answer = |req: &Request, mut resp: Response| {
        let offered = req
            .headers()
            .get_all("Sec-WebSocket-Extensions")
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.contains("permessage-deflate")));
        if o.deflate && offered {
            let value = HeaderValue::from_static("permessage-deflate");
            resp.headers_mut().insert("Sec-WebSocket-Extensions", value);
            deflated = true;
        }
        Ok(resp)
    };
    let mut ws =
        tungstenite::accept_hdr(tcp, answer).unwrap_or_else(|e| die(&format!("handshake: {e}")));
    let stats = match o.mode.as_str() {
        "firehose" => firehose(&mut ws, &o, deflated),
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

/// Writes batches of frames until `seconds` have passed; returns how many frames and bytes.
/// `stamp`: write the time into each frame (not into compressed ones).
fn firehose_phase(
    ws: &mut WebSocket<TcpStream>,
    ring: &mut [Frame],
    at: &mut usize,
    seconds: f64,
    stamp: bool,
) -> (u64, u64) {
    let end = mono_ns() + (seconds * 1e9) as u64;
    let mut buf = Vec::with_capacity(BATCH * 300);
    let (mut sent, mut bytes) = (0u64, 0u64);
    loop {
        let now = mono_ns();
        if now >= end {
            return (sent, bytes);
        }
        buf.clear();
        for _ in 0..BATCH {
            let f = &mut ring[*at % ring.len()];
            *at += 1;
            if stamp {
                f.stamp(now);
                f.stamp_seq(*at as u64);
            }
            buf.extend_from_slice(&f.bytes);
        }
        raw(ws, &buf);
        sent += BATCH as u64;
        bytes += buf.len() as u64;
    }
}

/// The ring compressed as one permessage-deflate sequence (context takeover): RSV1 set,
/// the trailing `00 00 ff ff` of each sync flush left out (RFC 7692 §7.2.1).
fn deflate_ring(ring: &[Frame]) -> Vec<Frame> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut c = Compress::new(Compression::default(), false);
    ring.iter()
        .map(|f| {
            let header = if f.bytes[1] == 126 { 4 } else { 2 };
            let payload = &f.bytes[header..];
            let mut out = Vec::with_capacity(payload.len() + 64);
            let before = c.total_in();
            c.compress_vec(payload, &mut out, FlushCompress::Sync)
                .unwrap_or_else(|e| die(&format!("deflate: {e}")));
            assert_eq!(c.total_in() - before, payload.len() as u64, "output room");
            assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
            out.truncate(out.len() - 4);
            let mut bytes = tradewire_bench::ws_text_frame(&out);
            bytes[0] |= 0x40;
            Frame {
                bytes,
                ts_at: 0,
                seq_at: None,
                matching: f.matching,
            }
        })
        .collect()
}

fn firehose(ws: &mut WebSocket<TcpStream>, o: &Opts, deflated: bool) -> serde_json::Value {
    let plain = tradewire_bench::stream_frames_with(RING, o.match_pct, o.seq && !o.deflate);
    let event_bytes = sizes(&plain);
    let mut ring = if deflated {
        deflate_ring(&plain)
    } else {
        plain
    };
    let mut at = 0;
    let (warm, _) = firehose_phase(ws, &mut ring, &mut at, o.warmup, !deflated);
    raw(ws, &marker_frame(BEGIN, mono_ns(), 0));
    let t0 = mono_ns();
    let (sent, wire_bytes) = firehose_phase(ws, &mut ring, &mut at, o.duration, !deflated);
    let t1 = mono_ns();
    raw(ws, &marker_frame(END, mono_ns(), sent));
    json!({"mode": "firehose", "warmup_sent": warm, "sent": sent,
           "send_s": (t1 - t0) as f64 / 1e9, "match": o.match_pct, "event_bytes": event_bytes,
           "deflate": deflated, "wire_bytes": wire_bytes})
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

/// When frame `k` of a paced phase is due (ns), the phase having started at `start`.
fn due_at(start: u64, rate: f64, k: u64) -> u64 {
    start + (k as f64 * 1e9 / rate) as u64
}

/// How many frames from `k` on are due at `now`: at least one, at most [`CATCH_UP_MAX`],
/// none past `count`. They go out together in one write.
fn due_now(start: u64, rate: f64, k: u64, count: u64, now: u64) -> u64 {
    let mut n = 1;
    while n < CATCH_UP_MAX && k + n < count && due_at(start, rate, k + n) <= now {
        n += 1;
    }
    n
}

/// Sends frames at `rate` for `seconds`, each stamped with its scheduled time. Returns how
/// many and how late the writes were (ns, per frame).
///
/// On time, each frame is a write of its own. Behind schedule (the client or the server was
/// held up), every frame already due goes out in one write, as a server with a queue
/// does: with a system call per frame the server could not catch up at 100,000/s on a
/// small VM, and its own lateness showed as the client's latency.
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
    let mut buf = Vec::new();
    let mut k = 0;
    while k < count {
        let due = due_at(start, rate, k);
        if mono_ns().saturating_sub(due) > MAX_LAG_NS {
            // The client cannot take the rate: TCP pushed back for seconds. Stop here; the
            // report says how many were sent and that the rate was not sustained.
            return k;
        }
        wait_until(due);
        let n = due_now(start, rate, k, count, mono_ns());
        buf.clear();
        for i in k..k + n {
            let f = &mut ring[*at % ring.len()];
            *at += 1;
            f.stamp(due_at(start, rate, i));
            buf.extend_from_slice(&f.bytes);
        }
        let before = mono_ns();
        raw(ws, &buf);
        late.extend((k..k + n).map(|i| before - due_at(start, rate, i)));
        k += n;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_time_a_write_carries_one_frame() {
        // 100,000/s: a frame every 10 us. At the due time of frame 5, only frame 5 is due.
        let start = 1_000_000;
        assert_eq!(due_at(start, 100_000.0, 5), start + 50_000);
        assert_eq!(due_now(start, 100_000.0, 5, 300, start + 50_000), 1);
        assert_eq!(due_now(start, 100_000.0, 5, 300, start + 59_999), 1);
    }

    #[test]
    fn behind_schedule_every_due_frame_goes_at_once() {
        let start = 0;
        // 35 us late for frame 5: frames 5, 6, 7, 8 are due (8 at 80 us, 9 at 90 us).
        assert_eq!(due_now(start, 100_000.0, 5, 300, 85_000), 4);
        // Never past the end of the phase.
        assert_eq!(due_now(start, 100_000.0, 5, 7, 1_000_000), 2);
        assert_eq!(due_now(start, 100_000.0, 6, 7, 1_000_000), 1);
        // Seconds behind: a bounded write at a time.
        assert_eq!(
            due_now(start, 100_000.0, 0, 500_000, 3_000_000_000),
            CATCH_UP_MAX
        );
    }
}
