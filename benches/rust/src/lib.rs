//! Shared pieces of the benchmark programs: the clock and CPU readings, the stream's frames,
//! and the bookkeeping every client does the same way.
//!
//! The protocol between the bench server and every client (Rust, C, Python alike):
//!
//! - every frame is a document-002 event `{"type":..,"account_id":..,"data":{"ts":..,...}}`
//!   whose `data.ts` is the server's CLOCK_MONOTONIC in nanoseconds when it wrote the frame
//!   (right-aligned in a fixed-width field, padded with spaces, so that frames are pre-built
//!   and only the digits are patched);
//! - the warm-up events come first; then `bench_begin` (account `null`); then the measured
//!   events; then `bench_end` (account `null`) whose `data.sent` is the number of measured
//!   events the server sent. Both markers pass every account filter (document 002 delivers
//!   events with a null account to every client);
//! - the client counts what passes its filter between the markers, takes `data.ts` of each
//!   event (and in paced mode its one-way latency), and prints one JSON line at the end.

use std::time::Duration;

pub mod noise;
pub mod wstool;

use serde_json::json;

/// What the hand-written Rust loops read of an event, borrowed from the frame by serde: the
/// type, the account, and the payload as raw JSON (`bench-minimal`, `bench-tungstenite-loop`,
/// `bench-wstool`).
#[derive(serde::Deserialize)]
pub struct Envelope<'a> {
    /// The event's type.
    #[serde(rename = "type", borrow)]
    pub kind: &'a str,
    /// The account, if the event has one.
    pub account_id: Option<i64>,
    /// The payload, unparsed.
    #[serde(borrow)]
    pub data: &'a serde_json::value::RawValue,
}

/// Connects a tungstenite client to `url` (`ws://HOST:PORT/`) over a blocking std
/// TcpStream with TCP_NODELAY; with `read_timeout`, a server that stops sending fails the
/// run instead of hanging it (`bench-minimal`, `bench-tungstenite-loop`).
pub fn tungstenite_connect(
    url: &str,
    read_timeout: Option<Duration>,
) -> tungstenite::WebSocket<std::net::TcpStream> {
    let hostport = url
        .strip_prefix("ws://")
        .unwrap_or_else(|| die("ws:// URL expected"))
        .trim_end_matches('/');
    let tcp =
        std::net::TcpStream::connect(hostport).unwrap_or_else(|e| die(&format!("connect: {e}")));
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_read_timeout(read_timeout);
    let (ws, _) = tungstenite::client(url, tcp).unwrap_or_else(|e| die(&format!("handshake: {e}")));
    ws
}

/// The account every client filters for.
pub const ACCOUNT: i64 = 123;
/// The other two accounts of the stream.
pub const OTHER_ACCOUNTS: [i64; 2] = [456, 789];
/// Width of the `ts` field's value (spaces, then the digits).
pub const TS_WIDTH: usize = 20;
/// Type of the marker that starts the measured part of the stream.
pub const BEGIN: &str = "bench_begin";
/// Type of the marker that ends it.
pub const END: &str = "bench_end";

/// CLOCK_MONOTONIC in nanoseconds (the clock Python's `time.monotonic_ns()` and C's
/// `clock_gettime(CLOCK_MONOTONIC)` read).
pub fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// CPU time and peak RSS of this process (getrusage, RUSAGE_SELF).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub user_s: f64,
    pub sys_s: f64,
    pub maxrss_kb: i64,
}

/// Reads getrusage(RUSAGE_SELF).
pub fn usage() -> Usage {
    // SAFETY: an all-zero rusage is valid; getrusage fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid rusage to write into.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Usage {
        user_s: secs(ru.ru_utime),
        sys_s: secs(ru.ru_stime),
        maxrss_kb: ru.ru_maxrss,
    }
}

/// The value of `"ts":` in an event's data (the first field), skipping the padding.
///
/// ```
/// assert_eq!(tradewire_bench::ts_of(r#"{"ts":     42,"seq":1}"#), Some(42));
/// ```
pub fn ts_of(data: &str) -> Option<u64> {
    let at = data.find("\"ts\":")? + 5;
    let digits = data[at..].trim_start_matches(' ');
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// The value of the first `"ts":` in a whole frame's bytes, skipping the padding: what a raw
/// client (one that parses nothing) reads to time an event in paced mode. In the stream's
/// events and markers the first `"ts":` is `data.ts`.
///
/// ```
/// let frame = br#"{"type":"fill","account_id":123,"data":{"ts":     42,"seq":1}}"#;
/// assert_eq!(tradewire_bench::ts_in_frame(frame), Some(42));
/// assert_eq!(tradewire_bench::ts_in_frame(b"{}"), None);
/// ```
pub fn ts_in_frame(frame: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"ts\":";
    let at = frame.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let mut digits = frame[at..].iter().skip_while(|&&b| b == b' ').peekable();
    digits.peek().filter(|b| b.is_ascii_digit())?;
    Some(
        digits
            .take_while(|b| b.is_ascii_digit())
            .fold(0u64, |v, &b| {
                v.wrapping_mul(10).wrapping_add(u64::from(b - b'0'))
            }),
    )
}

/// The first bytes of both markers' frames ([`marker_frame`]); no event of the stream starts
/// so. A raw client recognises the markers by them and looks at nothing else in a frame.
pub const MARKER_PREFIX: &[u8] = b"{\"type\":\"bench_";

/// What the measured part of a run gave.
pub struct Tally {
    paced: bool,
    started: bool,
    t0: u64,
    u0: Usage,
    /// Events that passed the filter between the markers.
    pub matched: u64,
    /// One-way latencies in nanoseconds (paced mode).
    pub latencies: Vec<u64>,
    last_ts: u64,
}

impl Tally {
    /// `mode` is `firehose`, `paced` or `idle`.
    pub fn new(mode: &str) -> Tally {
        Tally {
            paced: mode == "paced",
            started: false,
            t0: 0,
            u0: Usage::default(),
            matched: 0,
            latencies: Vec::new(),
            last_ts: 0,
        }
    }

    /// Takes one delivered event; returns the report once the end marker arrived.
    #[inline]
    pub fn event(&mut self, client: &str, msg_type: Option<&str>, data: &str) -> Option<String> {
        if let Some(t) = msg_type {
            if t.starts_with("bench_") {
                return self.marker(client, t, data);
            }
        }
        if !self.started {
            return None;
        }
        self.matched += 1;
        let ts = ts_of(data).unwrap_or(0);
        if self.paced {
            self.latencies.push(mono_ns().saturating_sub(ts));
        } else {
            self.last_ts = ts;
        }
        None
    }

    /// Takes one frame read without parsing (the raw clients: `bench-wstool-raw` and
    /// `bench-tradewire --preset raw`): every frame between the markers counts as delivered,
    /// whatever its account, and only a marker is looked into. In paced mode the frame's
    /// `ts` times it ([`ts_in_frame`]); in firehose mode nothing else is read.
    ///
    /// The report says that every frame was counted unparsed (`"unparsed": true`), and the
    /// client exits with an error when the count differs from the server's `sent`: for a
    /// loop that counts everything, a difference is a lost frame, not a filter.
    #[inline]
    pub fn raw_frame(&mut self, client: &str, frame: &[u8]) -> Option<String> {
        if frame.starts_with(MARKER_PREFIX) {
            return self.raw_marker(client, frame);
        }
        if self.started {
            self.matched += 1;
            if self.paced {
                let ts = ts_in_frame(frame).unwrap_or(0);
                self.latencies.push(mono_ns().saturating_sub(ts));
            }
        }
        None
    }

    #[cold]
    fn raw_marker(&mut self, client: &str, frame: &[u8]) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(frame)
            .unwrap_or_else(|e| die(&format!("{client}: a marker frame is not JSON: {e}")));
        let report = self.marker(client, v["type"].as_str()?, &v["data"].to_string())?;
        let mut report: serde_json::Value = serde_json::from_str(&report).ok()?;
        report["unparsed"] = json!(true);
        let (sent, counted) = (report["sent"].as_u64(), report["matched"].as_u64());
        if sent != counted {
            die(&format!(
                "{client}: counted {counted:?} frames between the markers, the server sent {sent:?} \
                 (every frame counts in a raw loop: frames were lost)"
            ));
        }
        Some(report.to_string())
    }

    fn marker(&mut self, client: &str, t: &str, data: &str) -> Option<String> {
        if t == BEGIN {
            self.started = true;
            self.matched = 0;
            self.latencies.clear();
            self.t0 = mono_ns();
            self.u0 = usage();
            return None;
        }
        if t != END {
            return None;
        }
        let t1 = mono_ns();
        let u1 = usage();
        let sent = serde_json::from_str::<serde_json::Value>(data)
            .ok()
            .and_then(|v| v["sent"].as_u64())
            .unwrap_or(0);
        Some(report(
            client,
            sent,
            self.matched,
            t1.saturating_sub(self.t0),
            self.u0,
            u1,
            &mut self.latencies,
        ))
    }
}

/// The JSON line a client prints at the end of a run (the same fields in every language).
pub fn report(
    client: &str,
    sent: u64,
    matched: u64,
    elapsed_ns: u64,
    u0: Usage,
    u1: Usage,
    latencies: &mut [u64],
) -> String {
    latencies.sort_unstable();
    let pct = |p: f64| -> serde_json::Value {
        if latencies.is_empty() {
            return serde_json::Value::Null;
        }
        let i = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        json!(latencies[i.clamp(1, latencies.len()) - 1] as f64 / 1e3)
    };
    json!({
        "client": client,
        "sent": sent,
        "matched": matched,
        "elapsed_s": elapsed_ns as f64 / 1e9,
        "cpu_user_s": u1.user_s - u0.user_s,
        "cpu_sys_s": u1.sys_s - u0.sys_s,
        "maxrss_kb": u1.maxrss_kb,
        "latency_us": {
            "n": latencies.len(),
            "p50": pct(50.0), "p90": pct(90.0), "p99": pct(99.0), "p99.9": pct(99.9),
            "max": latencies.last().map(|&v| v as f64 / 1e3),
        },
    })
    .to_string()
}

/// Command-line arguments shared by the Rust clients: `URL MODE [--name NAME] [--opt VALUE]`.
pub struct ClientArgs {
    pub url: String,
    pub mode: String,
    pub options: Vec<(String, String)>,
}

impl ClientArgs {
    /// Parses `std::env::args`, exiting with a usage message when they do not fit.
    pub fn parse(usage_line: &str) -> ClientArgs {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut positional = Vec::new();
        let mut options = Vec::new();
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                let Some(v) = it.next() else {
                    die(&format!("--{name} needs a value\nusage: {usage_line}"));
                };
                options.push((name.to_string(), v));
            } else {
                positional.push(a);
            }
        }
        if positional.len() != 2 {
            die(&format!("usage: {usage_line}"));
        }
        let mode = positional.pop().unwrap_or_default();
        if !["firehose", "paced", "idle"].contains(&mode.as_str()) {
            die(&format!(
                "MODE must be firehose, paced or idle, not {mode}\nusage: {usage_line}"
            ));
        }
        ClientArgs {
            url: positional.pop().unwrap_or_default(),
            mode,
            options,
        }
    }

    /// The value of `--name`, parsed.
    pub fn get<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.options
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| {
                v.parse()
                    .unwrap_or_else(|_| die(&format!("--{name}: cannot read {v:?}")))
            })
    }
}

/// Prints the message and exits with status 2.
pub fn die(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

/// How long a client waits for anything before it gives up on the server.
pub const STALL: Duration = Duration::from_secs(60);

/// One pre-built frame of the stream: the WebSocket frame's bytes and where the digits of
/// `data.ts` go.
#[derive(Clone)]
pub struct Frame {
    pub bytes: Vec<u8>,
    pub ts_at: usize,
    /// Where the digits of the top-level `seq` go (`bench-server --seq`), if it has one.
    pub seq_at: Option<usize>,
    /// Whether the event is for [`ACCOUNT`].
    pub matching: bool,
}

impl Frame {
    /// Writes `ts` (right-aligned, space-padded) into the frame.
    #[inline]
    pub fn stamp(&mut self, ts: u64) {
        stamp(&mut self.bytes[self.ts_at..self.ts_at + TS_WIDTH], ts);
    }

    /// Writes the sequence number `n` into the frame's `seq` field, if it has one.
    #[inline]
    pub fn stamp_seq(&mut self, n: u64) {
        if let Some(at) = self.seq_at {
            stamp(&mut self.bytes[at..at + TS_WIDTH], n);
        }
    }
}

/// Writes `v` right-aligned into `field`, padding with spaces.
#[inline]
pub fn stamp(field: &mut [u8], mut v: u64) {
    let mut i = field.len();
    loop {
        i -= 1;
        field[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    field[..i].fill(b' ');
}

/// A server-to-client (unmasked) text frame around `payload`.
pub fn ws_text_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(0x81);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= 0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// Puts a `ts` field first in the data object of an event; returns the text and the offset
/// of the field's value.
pub fn with_ts(event: &str) -> (String, usize) {
    const DATA: &str = "\"data\":{";
    let at = event
        .find(DATA)
        .map(|i| i + DATA.len())
        .expect("a document-002 event has a data object");
    let mut out = String::with_capacity(event.len() + TS_WIDTH + 6);
    out.push_str(&event[..at]);
    out.push_str("\"ts\":");
    let value_at = out.len();
    out.push_str(&" ".repeat(TS_WIDTH - 1));
    out.push('0');
    out.push(',');
    out.push_str(&event[at..]);
    (out, value_at)
}

/// The measured stream: `count` realistic document-002 events over three accounts, of which
/// `match_pct` % (25 or 100) are for [`ACCOUNT`].
pub fn stream_frames(count: usize, match_pct: u32) -> Vec<Frame> {
    stream_frames_with(count, match_pct, false)
}

/// [`stream_frames`], each event with a top-level `"seq"` first when `seq` is true (the
/// firehose of `bench-server --seq`: the server numbers the frames as it sends them, for
/// clients that check sequence numbers).
pub fn stream_frames_with(count: usize, match_pct: u32, seq: bool) -> Vec<Frame> {
    (0..count)
        .map(|i| {
            // Accounts in a cycle of four (123, 456, 789, 456), shifted every 16 events so
            // that every event type goes to every account.
            let slot = (i + i / 16) % 4;
            let account = if match_pct >= 100 || slot == 0 {
                ACCOUNT
            } else {
                OTHER_ACCOUNTS[(slot + 1) % 2]
            };
            let mut text = tradewire_testkit::events::daemon_event(i as u64 + 1, account);
            let seq_at = seq.then(|| {
                let field = format!("{{\"seq\":{}0,", " ".repeat(TS_WIDTH - 1));
                text = format!("{field}{}", &text[1..]);
                "{\"seq\":".len()
            });
            let (text, ts_at) = with_ts(&text);
            let frame = ws_text_frame(text.as_bytes());
            let header = frame.len() - text.len();
            Frame {
                bytes: frame,
                ts_at: header + ts_at,
                seq_at: seq_at.map(|at| header + at),
                matching: account == ACCOUNT,
            }
        })
        .collect()
}

/// A marker frame (`bench_begin` / `bench_end`) with a null account.
pub fn marker_frame(kind: &str, ts: u64, sent: u64) -> Vec<u8> {
    let text =
        format!(r#"{{"type":"{kind}","account_id":null,"data":{{"ts":{ts},"sent":{sent}}}}}"#);
    ws_text_frame(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_frames_carry_a_patchable_number_first() {
        let mut f = stream_frames_with(4, 25, true).remove(1);
        f.stamp(77);
        f.stamp_seq(12_345);
        let header = if f.bytes[1] == 126 { 4 } else { 2 };
        let v: serde_json::Value = serde_json::from_slice(&f.bytes[header..]).unwrap();
        assert_eq!(
            (v["seq"].as_u64(), v["data"]["ts"].as_u64()),
            (Some(12_345), Some(77))
        );
        assert!(stream_frames(1, 25)[0].seq_at.is_none());
    }

    #[test]
    fn frames_are_valid_events_with_a_patchable_ts() {
        let mut frames = stream_frames(256, 25);
        let matching = frames.iter().filter(|f| f.matching).count();
        assert_eq!(matching, 64);
        for f in &mut frames {
            f.stamp(1_234_567_890_123);
            let text = std::str::from_utf8(&f.bytes[4..]).unwrap();
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(v["data"]["ts"], 1_234_567_890_123_u64);
            assert_eq!(ts_of(&v["data"].to_string()), Some(1_234_567_890_123));
            assert!(
                (150..=280).contains(&text.len()),
                "{} bytes: {text}",
                text.len()
            );
        }
        assert!(stream_frames(64, 100).iter().all(|f| f.matching));
    }

    #[test]
    fn a_raw_tally_counts_every_frame_between_the_markers() {
        let mut frames = stream_frames(8, 25);
        let mut tally = Tally::new("firehose");
        let payload = |f: &[u8]| f[if f[1] == 126 { 4 } else { 2 }..].to_vec();
        assert!(!payload(&frames[0].bytes).starts_with(MARKER_PREFIX));
        assert!(tally.raw_frame("raw", &payload(&frames[0].bytes)).is_none());
        assert!(tally
            .raw_frame("raw", &payload(&marker_frame(BEGIN, 1, 0)))
            .is_none());
        for f in &mut frames {
            f.stamp(5);
            assert!(tally.raw_frame("raw", &payload(&f.bytes)).is_none());
        }
        let report = tally
            .raw_frame("raw", &payload(&marker_frame(END, 2, 8)))
            .expect("the end marker gives the report");
        let v: serde_json::Value = serde_json::from_str(&report).unwrap();
        assert_eq!(
            (v["matched"].as_u64(), v["unparsed"].as_bool()),
            (Some(8), Some(true))
        );
    }

    #[test]
    fn ts_in_frame_reads_data_ts_of_a_stream_frame() {
        let mut f = stream_frames(1, 25).remove(0);
        f.stamp(9_876_543_210);
        assert_eq!(ts_in_frame(&f.bytes), Some(9_876_543_210));
        assert_eq!(ts_in_frame(br#"{"ts": x}"#), None);
    }

    #[test]
    fn stamp_pads_with_spaces() {
        let mut field = [0u8; 6];
        stamp(&mut field, 42);
        assert_eq!(&field, b"    42");
        stamp(&mut field, 0);
        assert_eq!(&field, b"     0");
    }
}
