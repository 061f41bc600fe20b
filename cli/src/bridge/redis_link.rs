//! The connection to Redis of one writer thread: connect with a timeout, reconnect with
//! backoff, send a packed pipeline, read its replies, and sort each failure into lost
//! (retry), refused credentials, or a refused write. I/O; the decisions are pure functions
//! tested below.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::state::Shared;
use super::target::RedisTarget;

/// Connecting, and each reply, may take this long before Redis counts as unreachable (the
/// batch is then sent again on a new connection).
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(5);
/// Backoff between attempts to reach Redis: from this, doubling...
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
/// ... up to this: under `block` every second without Redis holds the feed back, and an
/// attempt to connect to a local Redis costs nothing worth saving.
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Why a round trip to Redis failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Unreachable, dropped, timed out, loading: reconnect and send again.
    Lost(String),
    /// Redis refused the credentials (exit 3).
    Auth(String),
    /// Redis refused the write itself (wrong type, out of memory, no permission: exit 1).
    Refused(String),
}

/// The delay before attempt `n` (0-based) to reach Redis: 0.1 s doubling to 2 s, plus up
/// to 10 % from `random` (in `[0, 1)`). Pure.
pub fn backoff(n: u32, random: f64) -> Duration {
    let base = BACKOFF_FIRST
        .saturating_mul(1u32 << n.min(16))
        .min(BACKOFF_MAX);
    base.mul_f64(1.0 + 0.1 * random.clamp(0.0, 1.0))
}

/// Sorts a redis error. Pure.
pub fn classify(e: &redis::RedisError) -> Problem {
    let text = tradewire::redact::scrub(&e.to_string()).into_owned();
    if e.kind() == redis::ErrorKind::AuthenticationFailed
        || matches!(e.code(), Some("NOAUTH" | "WRONGPASS"))
    {
        return Problem::Auth(text);
    }
    if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
        return Problem::Lost(text);
    }
    match e.code() {
        Some(code) => classify_code(code, text),
        None => Problem::Lost(text),
    }
}

/// A server error reply by its code. Pure.
pub fn classify_code(code: &str, text: String) -> Problem {
    match code {
        "NOAUTH" | "WRONGPASS" => Problem::Auth(text),
        // Transient: a restarting server loading its data, a busy script, a failover.
        "LOADING" | "BUSY" | "TRYAGAIN" | "MASTERDOWN" | "CLUSTERDOWN" => Problem::Lost(text),
        _ => Problem::Refused(text),
    }
}

/// One writer's Redis connection.
pub struct RedisLink {
    target: RedisTarget,
    conn: Option<redis::Connection>,
    /// Failed attempts in a row.
    attempt: u32,
    random: u64,
    /// `[n] ` when the bridge runs several connections, for stderr lines.
    label: String,
}

impl RedisLink {
    /// A link, not connected yet.
    pub fn new(target: RedisTarget, label: String) -> RedisLink {
        RedisLink {
            target,
            conn: None,
            attempt: 0,
            random: std::hash::BuildHasher::hash_one(
                &std::collections::hash_map::RandomState::new(),
                label.as_str(),
            ),
            label,
        }
    }

    /// Connects (and logs in) unless connected, waiting out the backoff between failed
    /// attempts. `Ok(false)`: `give_up` was set, or `deadline` passed, before a connection
    /// was made.
    pub fn ensure(
        &mut self,
        shared: &Shared,
        give_up: &AtomicBool,
        deadline: Option<std::time::Instant>,
    ) -> Result<bool, Problem> {
        while self.conn.is_none() {
            if give_up.load(Ordering::SeqCst)
                || deadline.is_some_and(|d| std::time::Instant::now() >= d)
            {
                return Ok(false);
            }
            match self.connect() {
                Ok(c) => {
                    let again = shared.redis_connects.fetch_add(1, Ordering::Relaxed) > 0;
                    shared.redis_up.store(true, Ordering::SeqCst);
                    eprintln!(
                        "tradewire: {}redis: {} {}",
                        self.label,
                        if again {
                            "reconnected to"
                        } else {
                            "connected to"
                        },
                        self.target.shown()
                    );
                    self.conn = Some(c);
                    self.attempt = 0;
                }
                Err(Problem::Lost(why)) => {
                    let delay = backoff(self.attempt, self.next_random());
                    if self.attempt == 0 || self.attempt % 10 == 0 {
                        eprintln!(
                            "tradewire: {}redis: cannot reach {} ({why}); retrying in {}",
                            self.label,
                            self.target.shown(),
                            crate::output::seconds(delay)
                        );
                    }
                    self.attempt = self.attempt.saturating_add(1);
                    let now = std::time::Instant::now();
                    let delay =
                        deadline.map_or(delay, |d| delay.min(d.saturating_duration_since(now)));
                    sleep_unless(delay, give_up);
                }
                Err(other) => return Err(other),
            }
        }
        Ok(true)
    }

    fn connect(&self) -> Result<redis::Connection, Problem> {
        let client =
            redis::Client::open(self.target.connection_info()).map_err(|e| classify(&e))?;
        let mut conn = client
            .get_connection_with_timeout(REDIS_TIMEOUT)
            .map_err(|e| classify(&e))?;
        // A server that wants a password and got none answers NOAUTH here (and would refuse
        // a large pipeline with a protocol error instead).
        redis::cmd("PING")
            .query::<()>(&mut conn)
            .map_err(|e| classify(&e))?;
        conn.set_read_timeout(Some(REDIS_TIMEOUT))
            .and_then(|_| conn.set_write_timeout(Some(REDIS_TIMEOUT)))
            .map_err(|e| classify(&e))?;
        Ok(conn)
    }

    /// Drops the connection after a failure (`why`), reporting it once.
    pub fn lost(&mut self, shared: &Shared, why: &str, unacked: u64) {
        if self.conn.take().is_some() {
            shared.redis_up.store(false, Ordering::SeqCst);
            eprintln!(
                "tradewire: {}redis: connection lost ({why}); {} kept to send again (duplicates possible, same key)",
                self.label,
                crate::output::plural(unacked, "event")
            );
        }
    }

    /// Writes a packed pipeline (its replies are read by [`RedisLink::replies`]).
    pub fn send(&mut self, packed: &[u8]) -> Result<(), Problem> {
        let conn = self
            .conn
            .as_mut()
            .ok_or(Problem::Lost("not connected".into()))?;
        conn.send_packed_command(packed).map_err(|e| classify(&e))
    }

    /// Reads `n` replies; the first error reply (after reading them all, so that the
    /// connection stays in step) decides the outcome.
    pub fn replies(&mut self, n: usize) -> Result<(), Problem> {
        let conn = self
            .conn
            .as_mut()
            .ok_or(Problem::Lost("not connected".into()))?;
        let mut first: Option<Problem> = None;
        for _ in 0..n {
            match conn.recv_response() {
                Ok(redis::Value::ServerError(e)) => {
                    if first.is_none() {
                        let text = tradewire::redact::scrub(&format!(
                            "{}{}",
                            e.code(),
                            e.details().map(|d| format!(" {d}")).unwrap_or_default()
                        ))
                        .into_owned();
                        first = Some(classify_code(e.code(), text));
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(classify(&e)),
            }
        }
        match first {
            None => Ok(()),
            Some(p) => Err(p),
        }
    }

    fn next_random(&mut self) -> f64 {
        // SplitMix64 step: jitter only, not cryptography.
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Sleeps `d`, waking early when `flag` is set.
pub fn sleep_unless(d: Duration, flag: &AtomicBool) {
    let end = std::time::Instant::now() + d;
    while !flag.load(Ordering::SeqCst) {
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_two_seconds_with_ten_percent_jitter() {
        let ms: Vec<u128> = (0..7).map(|n| backoff(n, 0.0).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(backoff(1000, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(0, 0.999_999).as_millis(), 109);
    }

    #[test]
    fn server_errors_are_sorted() {
        let t = String::new;
        assert_eq!(classify_code("NOAUTH", t()), Problem::Auth(t()));
        assert_eq!(classify_code("WRONGPASS", t()), Problem::Auth(t()));
        assert_eq!(classify_code("LOADING", t()), Problem::Lost(t()));
        assert_eq!(classify_code("WRONGTYPE", t()), Problem::Refused(t()));
        assert_eq!(classify_code("OOM", t()), Problem::Refused(t()));
        assert_eq!(classify_code("NOPERM", t()), Problem::Refused(t()));
    }
}
