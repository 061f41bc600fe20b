//! Process measurements read from /proc (Linux), and small statistics.

use std::time::Duration;

pub use tradewire_testkit::probe::{fd_count, rss_kib};

/// Threads of this process whose name starts with `prefix`, not counting this program's own
/// (`tradewire-soak`: the main thread, and unnamed threads that inherit its name).
pub fn threads_named(prefix: &str) -> usize {
    tradewire_testkit::probe::threads_where(|name| {
        name.starts_with(prefix) && !name.starts_with("tradewire-soak")
    })
}

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// MiB from KiB, signed, with one decimal.
pub fn mib(kib: i64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Summary of durations: count, min, median, p99, max.
pub struct Stats {
    sorted: Vec<Duration>,
}

impl Stats {
    pub fn new(mut samples: Vec<Duration>) -> Stats {
        samples.sort();
        Stats { sorted: samples }
    }

    pub fn max(&self) -> Duration {
        self.sorted.last().copied().unwrap_or_default()
    }

    pub fn quantile(&self, q: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.sorted.len() - 1) as f64 * q).round() as usize;
        self.sorted[i]
    }

    pub fn line(&self) -> String {
        format!(
            "n={} min {} median {} p99 {} max {}",
            self.sorted.len(),
            ms(self.quantile(0.0)),
            ms(self.quantile(0.5)),
            ms(self.quantile(0.99)),
            ms(self.max())
        )
    }
}

/// A small deterministic pseudo-random generator (SplitMix64) for outage lengths.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The largest number of instants that fall into any window of length `window`.
pub fn densest_window(times: &[Duration], window: Duration) -> usize {
    let mut t: Vec<Duration> = times.to_vec();
    t.sort();
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..t.len() {
        while t[hi] - t[lo] >= window {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}
