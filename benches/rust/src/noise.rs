//! How much of a CPU the host leaves us: the record `bench-noise` makes before each part of
//! a benchmark run.
//!
//! On a virtual machine the host can take a CPU away for microseconds to milliseconds at a
//! time, and a neighbour can slow memory and caches down, without either showing in the
//! load average or (here) in the steal time of `/proc/stat`. Both spread the benchmark's
//! figures from run to run. `bench-noise` times a fixed unit of work (parsing one
//! document-002 event with serde_json, as every client does) back to back for a while, and
//! [`summarize`] turns the durations into what a reader of the results needs: how fast a
//! unit was (the machine's speed at that moment) and how much of the time went to stalls
//! (units that took far longer than any parse does).

use serde_json::json;

/// A unit longer than this was interrupted: a parse of a 200-byte event takes about a
/// microsecond here, never tens.
pub const STALL_NS: u32 = 20_000;

/// What one probe measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Noise {
    /// Units timed.
    pub units: usize,
    /// The median unit, in nanoseconds.
    pub p50_ns: u32,
    /// The 99th-percentile unit, in nanoseconds.
    pub p99_ns: u32,
    /// Share of the elapsed time spent in stalled units (longer than [`STALL_NS`]), in per cent.
    pub stalled_pct: f64,
    /// Stalled units.
    pub stalls: usize,
    /// The longest unit, in microseconds.
    pub max_us: f64,
}

/// Summarizes the durations (ns) of units timed back to back over `elapsed_ns` (sorts them).
///
/// ```
/// let mut d = vec![1_000, 1_000, 1_000, 97_000];
/// let n = tradewire_bench::noise::summarize(&mut d, 100_000);
/// assert_eq!((n.p50_ns, n.stalls, n.stalled_pct), (1_000, 1, 97.0));
/// ```
pub fn summarize(durations: &mut [u32], elapsed_ns: u64) -> Noise {
    durations.sort_unstable();
    let pct = |p: f64| match durations.len() {
        0 => 0,
        n => durations[((p / 100.0 * n as f64).ceil() as usize).clamp(1, n) - 1],
    };
    let stalled: Vec<u64> = durations
        .iter()
        .filter(|&&d| d > STALL_NS)
        .map(|&d| u64::from(d))
        .collect();
    Noise {
        units: durations.len(),
        p50_ns: pct(50.0),
        p99_ns: pct(99.0),
        stalled_pct: if elapsed_ns == 0 {
            0.0
        } else {
            100.0 * stalled.iter().sum::<u64>() as f64 / elapsed_ns as f64
        },
        stalls: stalled.len(),
        max_us: f64::from(durations.last().copied().unwrap_or(0)) / 1e3,
    }
}

impl Noise {
    /// The JSON line `bench-noise` prints.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "units": self.units,
            "unit_p50_ns": self.p50_ns,
            "unit_p99_ns": self.p99_ns,
            "stalled_pct": (self.stalled_pct * 1000.0).round() / 1000.0,
            "stalls": self.stalls,
            "max_us": self.max_us,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_units_no_figures() {
        let n = summarize(&mut [], 0);
        assert_eq!((n.units, n.p50_ns, n.stalls, n.max_us), (0, 0, 0, 0.0));
        assert_eq!(n.stalled_pct, 0.0);
    }

    #[test]
    fn only_units_past_the_threshold_are_stalls() {
        let mut d = vec![900; 98];
        d.push(STALL_NS); // at the threshold: slow, not a stall
        d.push(2_000_000);
        let n = summarize(&mut d, 4_000_000);
        assert_eq!(
            (n.units, n.p50_ns, n.p99_ns, n.stalls),
            (100, 900, STALL_NS, 1)
        );
        assert_eq!(n.stalled_pct, 50.0);
        assert_eq!(n.max_us, 2_000.0);
    }
}
