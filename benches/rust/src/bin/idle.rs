//! Idle connections: the memory each one costs and how often its thread wakes.
//!
//! Starts N tradewire clients (daemon preset, account filter, default heartbeats) in this
//! process against a `bench-server --mode hold`, waits until every one is connected, lets
//! them settle, then reads:
//! - RSS per connection: (VmRSS now - VmRSS before the first client) / N;
//! - wakeups: voluntary + involuntary context switches of the `tradewire-io` threads over a
//!   window (each switch is one sleep → wake cycle), per connection per second, next to the
//!   number of heartbeats a connection sends in that window.
//!
//! ```text
//! bench-idle ws://127.0.0.1:PORT --connections 1000 --settle 2 --window 30 [--read-buffer-size BYTES]
//! ```

use std::time::{Duration, Instant};

use serde_json::json;
use tradewire::{Client, Config, Event, Preset};
use tradewire_bench::{die, ACCOUNT};

fn status_field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn self_status(name: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status_field(&text, name)
}

/// Context switches of this process's threads named `comm` (all threads when None), and how
/// many threads matched.
fn switches(comm: Option<&str>) -> (u64, u64) {
    let mut total = 0;
    let mut threads = 0;
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return (0, 0);
    };
    for task in dir.flatten() {
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.is_some_and(|c| name.trim() != c) {
            continue;
        }
        let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        total += status_field(&status, "voluntary_ctxt_switches:")
            + status_field(&status, "nonvoluntary_ctxt_switches:");
        threads += 1;
    }
    (total, threads)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut url = None;
    let (mut n, mut settle, mut window, mut rbuf) = (1000usize, 2.0f64, 30.0f64, None::<usize>);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut v = || {
            it.next()
                .cloned()
                .unwrap_or_else(|| die(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--connections" => {
                n = v()
                    .parse()
                    .unwrap_or_else(|_| die("--connections: a number"))
            }
            "--settle" => settle = v().parse().unwrap_or_else(|_| die("--settle: seconds")),
            "--window" => window = v().parse().unwrap_or_else(|_| die("--window: seconds")),
            "--read-buffer-size" => {
                rbuf = Some(
                    v().parse()
                        .unwrap_or_else(|_| die("--read-buffer-size: bytes")),
                )
            }
            u if !u.starts_with("--") => url = Some(u.to_string()),
            other => die(&format!("unknown argument {other}")),
        }
    }
    let url =
        url.unwrap_or_else(|| die("usage: bench-idle URL --connections N --settle S --window S"));

    let rss0 = self_status("VmRSS:");
    let anon0 = self_status("RssAnon:");
    let t = Instant::now();
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let mut config = Config::new(url.as_str())
            .preset(Preset::Daemon)
            .account_id(ACCOUNT);
        if let Some(b) = rbuf {
            config = config.read_buffer_size(b);
        }
        let heartbeat = Duration::from_secs(10);
        config = config.heartbeat_interval(heartbeat);
        clients.push(Client::connect(config).unwrap_or_else(|e| die(&format!("client: {e}"))));
    }
    for c in &clients {
        loop {
            match c.recv_timeout(Duration::from_secs(30)) {
                Ok(Some(Event::Connected { .. })) => break,
                Ok(Some(_)) => continue,
                _ => die("a client did not connect within 30 s (ulimit -n?)"),
            }
        }
    }
    let connect_s = t.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs_f64(settle));
    let rss1 = self_status("VmRSS:");
    let anon1 = self_status("RssAnon:");
    let (sw0, io_threads) = switches(Some("tradewire-io"));
    let (all0, threads) = switches(None);
    std::thread::sleep(Duration::from_secs_f64(window));
    let (sw1, _) = switches(Some("tradewire-io"));
    let (all1, _) = switches(None);
    let rss2 = self_status("VmRSS:");
    let per_conn_s = (sw1 - sw0) as f64 / n as f64 / window;
    println!(
        "{}",
        json!({
            "connections": n,
            "connect_s": connect_s,
            "read_buffer_size": rbuf,
            "heartbeat_interval_s": 10.0,
            "rss_before_kb": rss0,
            "rss_connected_kb": rss1,
            "rss_after_window_kb": rss2,
            "rss_per_connection_kb": (rss1.saturating_sub(rss0)) as f64 / n as f64,
            "rss_per_connection_after_window_kb": (rss2.saturating_sub(rss0)) as f64 / n as f64,
            "rss_anon_per_connection_kb": (anon1.saturating_sub(anon0)) as f64 / n as f64,
            "vm_size_kb": self_status("VmSize:"),
            "threads": threads,
            "io_threads": io_threads,
            "window_s": window,
            "io_wakeups": sw1 - sw0,
            "process_wakeups": all1 - all0,
            "wakeups_per_connection_per_s": per_conn_s,
            "heartbeats_per_connection_per_s": 0.1,
        })
    );
    // No orderly close of a thousand connections: the server sees them go at exit.
    std::process::exit(0);
}
