//! An application that only waits: connects to the URL it is given and loops on
//! `Client::recv()` (no timeout), for `benches/wakeups.py` (idle wake-ups, issue 29). The
//! heartbeat interval is `TW_HEARTBEAT` seconds (default 30).
//!
//! ```text
//! bench-wait ws://127.0.0.1:PORT
//! ```

use std::time::Duration;

use tradewire::{Client, Config};
use tradewire_bench::die;

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| die("usage: bench-wait URL"));
    let heartbeat: f64 = std::env::var("TW_HEARTBEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30.0);
    let config = Config::new(url)
        .heartbeat_interval(Duration::from_secs_f64(heartbeat))
        .heartbeat_timeout(Duration::from_secs_f64(heartbeat * 3.0));
    let client = Client::connect(config).unwrap_or_else(|e| die(&format!("{e}")));
    println!("READY");
    while client.recv().is_ok() {}
}
