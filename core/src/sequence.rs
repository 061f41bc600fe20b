//! A feed's own message numbers: the messages the server never sent (or that were lost
//! before they reached us) and the ones it sent twice. Pure: the I/O thread hands each
//! message's number and key to a [`Sequencer`] and acts on its [`Verdict`]
//! (`dialect/gaps.rs`).
//!
//! Configured with `sequence` (a JSON pointer to the number), `sequence_key` (a pointer to
//! what separates independent counters, such as a channel or a symbol), `sequence_scope`,
//! `on_gap` and `drop_duplicates`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// Whether the counters restart with each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SequenceScope {
    /// Each connection starts its counters over: the first number of a connection is
    /// taken as it comes (feeds that number each connection from 1).
    #[default]
    Connection,
    /// The feed's numbers continue across reconnects, so a gap across a reconnect is
    /// reported too.
    Session,
}

/// What the client does about a gap, after delivering the `gap` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnGap {
    /// Only mark it: the `gap` event, the counters and a warning log line.
    #[default]
    Mark,
    /// Also reconnect, for feeds that send a fresh snapshot on a new connection. Bounded:
    /// after 3 such reconnects in a row, gaps are only marked until
    /// 1,000 messages in a row arrive in order.
    Reconnect,
}

/// Reconnects for gaps in a row before `on_gap = "reconnect"` only marks them.
pub const MAX_RESYNCS: u32 = 3;

/// Messages in order, in a row, that make `on_gap = "reconnect"` reconnect again.
pub const RESYNC_RESET: u64 = 1_000;

/// Streams (values of `sequence_key`) tracked at most; messages of further streams pass
/// unchecked and are counted as such, so a feed cannot make the tracker grow without bound.
pub const MAX_STREAMS: usize = 100_000;

/// What one message's number says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The first number of its stream (in this scope), or the next one.
    InOrder,
    /// Numbers were skipped: `expected` was due and `received` came.
    Gap {
        /// The number that was due.
        expected: u64,
        /// The number that came.
        received: u64,
    },
    /// At or below a number already seen.
    Duplicate,
    /// A stream beyond [`MAX_STREAMS`].
    Untracked,
}

/// The counts of one stream, or of all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceCounts {
    /// Gaps found.
    pub gaps: u64,
    /// Messages missing in them (the sum of each gap's `received - expected`).
    pub missing: u64,
    /// Messages at or below a number already seen.
    pub duplicates: u64,
}

impl SequenceCounts {
    /// Counts one verdict.
    pub(crate) fn count(&mut self, v: Verdict) {
        match v {
            Verdict::Gap { expected, received } => {
                self.gaps += 1;
                self.missing += received - expected;
            }
            Verdict::Duplicate => self.duplicates += 1,
            Verdict::InOrder | Verdict::Untracked => {}
        }
    }

    fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "gaps": self.gaps, "missing": self.missing, "duplicates": self.duplicates,
        })
    }
}

/// What `status()` reports of sequence checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SequenceStatus {
    /// All streams together.
    pub total: SequenceCounts,
    /// Messages that passed unchecked: no number at the pointer (or not an integer), or a
    /// stream beyond the tracked ones.
    pub unchecked: u64,
    /// The streams that had a gap or a duplicate, by key (`""` when there is no
    /// `sequence_key`). At most 100,000.
    pub streams: BTreeMap<String, SequenceCounts>,
}

impl SequenceStatus {
    /// Counts a gap or a duplicate of stream `key`.
    pub(crate) fn count(&mut self, key: &str, v: Verdict) {
        self.total.count(v);
        let room = self.streams.len() < MAX_STREAMS;
        match self.streams.get_mut(key) {
            Some(c) => c.count(v),
            None if room => {
                self.streams.entry(key.to_string()).or_default().count(v);
            }
            None => {}
        }
    }

    /// The JSON form: `{"gaps", "missing", "duplicates", "unchecked", "streams": {key: {...}}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let streams: serde_json::Map<String, serde_json::Value> = self
            .streams
            .iter()
            .map(|(k, c)| (k.clone(), c.to_json()))
            .collect();
        let mut j = self.total.to_json();
        j["unchecked"] = self.unchecked.into();
        j["streams"] = streams.into();
        j
    }
}

/// The last number seen of each stream, and the state of `on_gap = "reconnect"`.
#[derive(Debug, Default)]
pub(crate) struct Sequencer {
    /// The stream without a key (no `sequence_key`, or a message without the key).
    single: Option<u64>,
    by_key: HashMap<String, u64>,
    /// Gap reconnects in a row.
    resyncs: u32,
    /// Messages in order since the last gap.
    in_order: u64,
}

impl Sequencer {
    /// Checks number `n` of stream `key` and remembers it.
    #[inline]
    pub fn observe(&mut self, key: Option<&str>, n: u64) -> Verdict {
        match key {
            // The common case (no `sequence_key`): inlined into the I/O thread's check.
            None => match &mut self.single {
                Some(last) => judge(last, n, &mut self.in_order),
                single @ None => {
                    *single = Some(n);
                    self.in_order += 1;
                    Verdict::InOrder
                }
            },
            Some(k) => self.observe_keyed(k, n),
        }
    }

    /// [`Sequencer::observe`] for a stream with a key.
    fn observe_keyed(&mut self, key: &str, n: u64) -> Verdict {
        if let Some(last) = self.by_key.get_mut(key) {
            return judge(last, n, &mut self.in_order);
        }
        if self.by_key.len() >= MAX_STREAMS {
            return Verdict::Untracked;
        }
        self.by_key.insert(key.to_string(), n);
        self.in_order += 1;
        Verdict::InOrder
    }

    /// A new connection: the counters start over unless the scope is the session.
    pub fn new_connection(&mut self, scope: SequenceScope) {
        if scope == SequenceScope::Connection {
            self.single = None;
            self.by_key.clear();
        }
    }

    /// Whether a gap just found should reconnect (`on_gap = "reconnect"`): yes, unless
    /// [`MAX_RESYNCS`] reconnects in a row did not resynchronise the feed.
    pub fn resync(&mut self) -> bool {
        if self.in_order >= RESYNC_RESET {
            self.resyncs = 0;
        }
        self.in_order = 0;
        if self.resyncs >= MAX_RESYNCS {
            return false;
        }
        self.resyncs += 1;
        true
    }
}

/// The verdict on `n` after `last`, which it replaces when it is ahead.
#[inline]
fn judge(last: &mut u64, n: u64, in_order: &mut u64) -> Verdict {
    let expected = last.saturating_add(1);
    if n <= *last {
        return Verdict::Duplicate;
    }
    *last = n;
    if n == expected {
        *in_order += 1;
        Verdict::InOrder
    } else {
        Verdict::Gap {
            expected,
            received: n,
        }
    }
}

/// The number in a raw JSON value: a non-negative integer, or a string holding one (some
/// feeds send their update ids as strings); `None` for anything else.
/// One pass over the digits, no UTF-8 or sign handling: this runs for every message.
#[inline]
pub(crate) fn number_of(raw: &str) -> Option<u64> {
    let b = raw.as_bytes();
    let digits = match b {
        [b'"', inner @ .., b'"'] => inner,
        _ => b,
    };
    // Up to 19 digits cannot overflow a u64: one multiply-add per digit, no checks.
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let (head, tail) = digits.split_at(digits.len().min(19));
    let mut n: u64 = 0;
    for &d in head {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    for &d in tail {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// A stream's key from the raw JSON at `sequence_key`: a string's content (unescaped), the
/// raw text of any other value.
pub(crate) fn key_of(raw: &str) -> Cow<'_, str> {
    if raw.starts_with('"') {
        if let Ok(s) = serde_json::from_str::<Cow<'_, str>>(raw) {
            return s;
        }
    }
    Cow::Borrowed(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(expected: u64, received: u64) -> Verdict {
        Verdict::Gap { expected, received }
    }

    #[test]
    fn a_stream_in_order_then_a_gap_then_duplicates() {
        let mut s = Sequencer::default();
        let got: Vec<Verdict> = [5, 6, 7, 10, 11, 11, 9, 12]
            .iter()
            .map(|&n| s.observe(None, n))
            .collect();
        use Verdict::*;
        assert_eq!(
            got,
            [
                InOrder,
                InOrder,
                InOrder,
                gap(8, 10),
                InOrder,
                Duplicate,
                Duplicate,
                InOrder
            ]
        );
    }

    #[test]
    fn keys_are_independent_counters() {
        let mut s = Sequencer::default();
        assert_eq!(s.observe(Some("BTC"), 1), Verdict::InOrder);
        assert_eq!(s.observe(Some("ETH"), 100), Verdict::InOrder);
        assert_eq!(s.observe(Some("BTC"), 2), Verdict::InOrder);
        assert_eq!(s.observe(Some("ETH"), 103), gap(101, 103));
        assert_eq!(
            s.observe(None, 7),
            Verdict::InOrder,
            "no key: its own stream"
        );
    }

    #[test]
    fn the_scope_decides_what_a_new_connection_forgets() {
        let mut s = Sequencer::default();
        s.observe(Some("a"), 10);
        s.observe(None, 10);
        s.new_connection(SequenceScope::Connection);
        assert_eq!(s.observe(Some("a"), 1), Verdict::InOrder);
        assert_eq!(s.observe(None, 1), Verdict::InOrder);
        s.new_connection(SequenceScope::Session);
        assert_eq!(s.observe(Some("a"), 5), gap(2, 5));
        assert_eq!(s.observe(None, 1), Verdict::Duplicate);
    }

    #[test]
    fn gap_reconnects_are_bounded_and_come_back_after_a_run_in_order() {
        let mut s = Sequencer::default();
        assert!(s.resync() && s.resync() && s.resync());
        assert!(!s.resync(), "the fourth in a row only marks");
        s.observe(None, 1);
        for n in 2..=RESYNC_RESET + 1 {
            assert_eq!(s.observe(None, n), Verdict::InOrder);
        }
        assert!(s.resync(), "a long run in order resets the count");
    }

    #[test]
    fn the_number_of_streams_is_bounded() {
        let mut s = Sequencer::default();
        for i in 0..MAX_STREAMS {
            s.observe(Some(&i.to_string()), 1);
        }
        assert_eq!(s.observe(Some("one more"), 1), Verdict::Untracked);
        assert_eq!(s.observe(Some("0"), 2), Verdict::InOrder);
    }

    #[test]
    fn numbers_and_keys_from_raw_json() {
        assert_eq!(number_of("42"), Some(42));
        assert_eq!(number_of("\"42\""), Some(42));
        assert_eq!(number_of("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "-1",
            "1.5",
            "1e3",
            "\"\"",
            "null",
            "\"x1\"",
            "18446744073709551616",
            "99999999999999999999",
            "100000000000000000000",
            "1234567890123456789x",
        ] {
            assert_eq!(number_of(bad), None, "{bad}");
        }
        // The unchecked head (19 digits) and the checked tail agree with `str::parse`.
        for n in [
            0,
            9,
            10,
            9_999_999_999_999_999_999,
            10_000_000_000_000_000_000,
            u64::MAX,
        ] {
            assert_eq!(number_of(&n.to_string()), Some(n));
        }
        assert_eq!(key_of("\"BTC-USD\""), "BTC-USD");
        assert_eq!(key_of("\"a\\u00e9\""), "a\u{e9}");
        assert_eq!(key_of("7"), "7");
    }

    #[test]
    fn status_counts_per_stream_and_in_total() {
        let mut st = SequenceStatus::default();
        st.count("BTC", gap(3, 7));
        st.count("BTC", Verdict::Duplicate);
        st.count("ETH", gap(1, 2));
        assert_eq!(
            st.total,
            SequenceCounts {
                gaps: 2,
                missing: 5,
                duplicates: 1
            }
        );
        let j = st.to_json();
        assert_eq!(j["streams"]["BTC"]["missing"], 4);
        assert_eq!(j["gaps"], 2);
        assert_eq!(j["unchecked"], 0);
    }
}
