//! The reconnect delay policy: exponential or fixed, with a cap and jitter.
//!
//! Pure functions; the caller supplies the random number so the policy is testable.

use std::time::Duration;

/// How the delay grows between reconnect attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackoffKind {
    /// `initial × factor^n`, capped at `max`.
    Exponential,
    /// Always `initial`.
    Fixed,
}

/// A reconnect delay policy.
///
/// ```
/// use std::time::Duration;
/// use tradewire::backoff::{Backoff, BackoffKind};
/// let b = Backoff {
///     kind: BackoffKind::Exponential,
///     initial: Duration::from_secs(1),
///     max: Duration::from_secs(10),
///     factor: 2.0,
///     jitter: 0.0,
/// };
/// let delays: Vec<u64> = (0..6).map(|n| b.delay(n, 0.0).as_secs()).collect();
/// assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Exponential or fixed.
    pub kind: BackoffKind,
    /// The first delay.
    pub initial: Duration,
    /// The largest delay before jitter: the longest wait is `max × (1 + jitter)`.
    pub max: Duration,
    /// Growth factor per attempt (exponential only).
    pub factor: f64,
    /// Extra random delay as a fraction of the base delay: 0.1 adds 0–10 %.
    pub jitter: f64,
}

impl Backoff {
    /// The delay before reconnect attempt `n` (0-based: 0 is the first retry).
    /// `random` is a number in `[0, 1)` that scales the jitter.
    pub fn delay(&self, n: u32, random: f64) -> Duration {
        self.delay_from(self.initial, n, random)
    }

    /// A fixed delay `every` with this backoff's jitter (document 002 retries a daemon
    /// that was never reached every 5 s).
    pub fn fixed(&self, every: Duration, random: f64) -> Duration {
        Backoff {
            kind: BackoffKind::Fixed,
            ..*self
        }
        .delay_from(every, 0, random)
    }

    fn delay_from(&self, initial: Duration, n: u32, random: f64) -> Duration {
        let initial = initial.as_secs_f64();
        let max = self.max.as_secs_f64().max(initial);
        let base = match self.kind {
            BackoffKind::Fixed => initial,
            BackoffKind::Exponential => {
                // powi saturates to infinity for large n; min() then caps it.
                let grown = initial * self.factor.powi(n.min(1024) as i32);
                if grown.is_finite() {
                    grown.min(max)
                } else {
                    max
                }
            }
        };
        let jitter = base * self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
        Duration::from_secs_f64(base + jitter)
    }
}

/// A small, fast pseudo-random generator (SplitMix64) for jitter. Not for cryptography.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeds from the clock and a per-client value so that clients started together differ.
    pub fn seeded(salt: u64) -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Jitter(nanos ^ salt.rotate_left(32) ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_delay_takes_the_same_jitter() {
        let b = Backoff {
            kind: BackoffKind::Exponential,
            initial: Duration::from_secs(1),
            max: Duration::from_secs(10),
            factor: 2.0,
            jitter: 0.1,
        };
        assert_eq!(b.fixed(Duration::from_secs(5), 0.0), Duration::from_secs(5));
        assert_eq!(b.fixed(Duration::from_secs(5), 1.0), Duration::from_millis(5500));
        assert_eq!(b.delay(3, 0.0), Duration::from_secs(8));
    }

    fn b(kind: BackoffKind, jitter: f64) -> Backoff {
        Backoff {
            kind,
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            factor: 2.0,
            jitter,
        }
    }

    #[test]
    fn exponential_doubles_to_the_cap() {
        let p = b(BackoffKind::Exponential, 0.0);
        let secs: Vec<u64> = (0..9).map(|n| p.delay(n, 0.5).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(p.delay(u32::MAX, 0.5), Duration::from_secs(60));
    }

    #[test]
    fn fixed_is_constant() {
        let p = Backoff {
            initial: Duration::from_secs(5),
            ..b(BackoffKind::Fixed, 0.0)
        };
        assert!((0..20).all(|n| p.delay(n, 0.9) == Duration::from_secs(5)));
    }

    #[test]
    fn jitter_adds_at_most_its_fraction() {
        let p = b(BackoffKind::Exponential, 0.1);
        assert_eq!(p.delay(3, 0.0), Duration::from_secs(8));
        let top = p.delay(3, 0.999_999).as_secs_f64();
        assert!(top > 8.79 && top <= 8.8, "{top}");
    }

    #[test]
    fn jitter_source_is_uniform_enough() {
        let mut j = Jitter::seeded(7);
        let xs: Vec<f64> = (0..10_000).map(|_| j.next_f64()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }
}
