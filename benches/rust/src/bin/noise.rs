//! How much of this CPU the host leaves us, right now (see `tradewire_bench::noise`).
//!
//! Parses document-002 events with serde_json back to back for a while, timing each, and
//! prints one JSON line: the median and 99th-percentile parse, and the share of the time
//! lost to stalls. `benches/run.py` runs one on each benchmark CPU at once (pinned with
//! taskset) before each part of a run and keeps the lines with the results.
//!
//! ```text
//! bench-noise [SECONDS]        # default 0.5
//! ```

use tradewire_bench::{die, mono_ns, noise, ACCOUNT};

fn main() {
    let seconds: f64 = match std::env::args().nth(1) {
        None => 0.5,
        Some(s) => s
            .parse()
            .ok()
            .filter(|s: &f64| *s > 0.0 && *s <= 60.0)
            .unwrap_or_else(|| {
                die(&format!(
                    "bench-noise: SECONDS must be in (0, 60], not {s:?}"
                ))
            }),
    };
    let events: Vec<String> = (1..=16)
        .map(|i| tradewire_testkit::events::daemon_event(i, ACCOUNT))
        .collect();
    let mut durations: Vec<u32> = Vec::with_capacity((seconds * 2e6) as usize);
    let start = mono_ns();
    let end = start + (seconds * 1e9) as u64;
    let mut prev = start;
    let mut i = 0;
    while prev < end {
        let parsed = serde_json::from_str::<serde_json::Value>(&events[i % events.len()]);
        std::hint::black_box(parsed.is_ok());
        let now = mono_ns();
        durations.push(u32::try_from(now - prev).unwrap_or(u32::MAX));
        prev = now;
        i += 1;
    }
    let summary = noise::summarize(&mut durations, prev - start);
    println!("{}", summary.to_json());
}
