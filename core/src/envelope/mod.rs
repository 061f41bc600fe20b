//! The JSON envelope of a message: its type, its account and its payload, read from
//! configurable JSON pointers without building a `serde_json::Value`.
//!
//! The parse borrows from the frame's text: the type and account are slices of it (copied
//! only when they contain escapes) and the payload is located as a byte range, so the
//! account filter runs before anything is allocated.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::filter::MessageAccount;

mod lookup;
pub(crate) mod prefilter;
mod scan;

use lookup::{find_keys, lookup};

/// A JSON pointer split into its object keys (`/d/entity/accountId` → `d`, `entity`,
/// `accountId`). Only object keys are followed; an empty pointer means "absent".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pointer(Vec<String>);

impl Pointer {
    /// Parses an RFC 6901 pointer (`~1` is `/`, `~0` is `~`).
    pub fn parse(s: &str) -> Result<Pointer, String> {
        if s.is_empty() {
            return Ok(Pointer(Vec::new()));
        }
        let rest = s
            .strip_prefix('/')
            .ok_or_else(|| format!("`{s}` is not a JSON pointer: it must start with `/`"))?;
        Ok(Pointer(
            rest.split('/')
                .map(|seg| seg.replace("~1", "/").replace("~0", "~"))
                .collect(),
        ))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The object keys it follows, in order (for the differential fuzz target).
    #[cfg(feature = "internals")]
    pub(crate) fn keys(&self) -> &[String] {
        &self.0
    }
}

/// Where the type, account, payload and server time live in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointers {
    /// The message type (default `/type`).
    pub msg_type: Pointer,
    /// The account id (default `/account_id`).
    pub account: Pointer,
    /// The payload (default `/data`); when absent in a message, the whole message is the payload.
    pub data: Pointer,
    /// The server's timestamp of the message (default: none, nothing is looked for).
    pub time: Pointer,
    /// The message's sequence number (default: none; config `sequence`).
    pub sequence: Pointer,
    /// What separates independent sequence counters (default: none, one counter; config
    /// `sequence_key`).
    pub sequence_key: Pointer,
}

impl Default for Pointers {
    fn default() -> Self {
        Pointers {
            msg_type: Pointer(vec!["type".into()]),
            account: Pointer(vec!["account_id".into()]),
            data: Pointer(vec!["data".into()]),
            time: Pointer::default(),
            sequence: Pointer::default(),
            sequence_key: Pointer::default(),
        }
    }
}

impl Pointers {
    /// The pointers in the order of the found values: type, account, payload, time.
    fn all(&self) -> [&Pointer; 4] {
        [&self.msg_type, &self.account, &self.data, &self.time]
    }

    /// The same, then the sequence number (no `sequence_key`).
    fn all_with_sequence_number(&self) -> [&Pointer; 5] {
        let [t, a, d, time] = self.all();
        [t, a, d, time, &self.sequence]
    }

    /// The same, then the sequence number and its key: the scan looks for six keys only
    /// when sequence checking is on, so that it costs nothing when it is off.
    fn all_with_sequence(&self) -> [&Pointer; 6] {
        let [t, a, d, time] = self.all();
        [t, a, d, time, &self.sequence, &self.sequence_key]
    }
}

/// What was found in one JSON object message.
#[derive(Debug, PartialEq)]
pub struct Envelope<'a> {
    /// The message type, if the type field is a string.
    pub msg_type: Option<Cow<'a, str>>,
    /// Whether a type field was present at all (string or not).
    pub has_type_field: bool,
    /// The account field.
    pub account: AccountField<'a>,
    /// Byte range of the payload within the text (the whole text when there is no data field).
    pub data: Range<usize>,
    /// The raw JSON value at the time pointer, when one is configured and the message has it
    /// (read with the other fields, in the same pass; decoded by [`crate::time::server_time`]).
    pub time: Option<&'a str>,
    /// The raw JSON value at the sequence pointer, when one is configured and the message
    /// has it (same pass).
    pub sequence: Option<&'a str>,
    /// The raw JSON value at the sequence key pointer, likewise.
    pub sequence_key: Option<&'a str>,
}

/// The account field of a message, owned or borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountField<'a> {
    /// Missing or `null`.
    Missing,
    /// A string's content or an integer's digits.
    Id(Cow<'a, str>),
    /// Some other JSON kind.
    Other,
}

impl AccountField<'_> {
    /// The borrowed view used by the account filter.
    pub fn as_filter(&self) -> MessageAccount<'_> {
        match self {
            AccountField::Missing => MessageAccount::Missing,
            AccountField::Id(s) => MessageAccount::Id(s),
            AccountField::Other => MessageAccount::Other,
        }
    }
}

/// Why a text frame is not an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Not valid JSON; the parser's message says where.
    InvalidJson(String),
    /// Valid JSON, but not an object (an array, a number, ...).
    NotAnObject,
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::InvalidJson(e) => write!(f, "invalid JSON: {e}"),
            EnvelopeError::NotAnObject => write!(f, "the message is JSON but not an object"),
        }
    }
}

/// Parses the envelope of one message.
///
/// ```
/// use tradewire::envelope::{parse, Pointers, AccountField};
/// let text = r#"{"type":"MarketQuote","account_id":123,"data":{"bid":1.5}}"#;
/// let env = parse(text, &Pointers::default()).unwrap();
/// assert_eq!(env.msg_type.as_deref(), Some("MarketQuote"));
/// assert_eq!(env.account, AccountField::Id("123".into()));
/// assert_eq!(&text[env.data], r#"{"bid":1.5}"#);
/// ```
pub fn parse<'a>(text: &'a str, p: &Pointers) -> Result<Envelope<'a>, EnvelopeError> {
    let (fields, sequence, sequence_key) = if p.sequence.is_empty() {
        (raw_fields(text, p.all())?, None, None)
    } else if p.sequence_key.is_empty() && p.time.is_empty() {
        // The sequence number in the time pointer's slot: four pointers instead of five
        // (a fifth costs the scan about 160 instructions per message, docs/BENCHMARKS.md).
        let [t, a, d, seq] = raw_fields(text, [&p.msg_type, &p.account, &p.data, &p.sequence])?;
        ([t, a, d, None], seq, None)
    } else if p.sequence_key.is_empty() {
        let [t, a, d, time, seq] = raw_fields(text, p.all_with_sequence_number())?;
        ([t, a, d, time], seq, None)
    } else {
        let [t, a, d, time, seq, key] = raw_fields(text, p.all_with_sequence())?;
        ([t, a, d, time], seq, key)
    };
    Ok(envelope_of(text, fields, sequence, sequence_key))
}

/// [`parse`], with the account filter's shortcut (see [`prefilter`]): `Ok(None)` when the
/// message is surely for another account and was dropped without reading its rest.
/// Without sequence pointers only (the shortcut is off with `sequence`).
pub(crate) fn parse_unless<'a>(
    text: &'a str,
    p: &Pointers,
    shortcut: Option<&prefilter::AccountPrefilter>,
) -> Result<Option<Envelope<'a>>, EnvelopeError> {
    let Some(shortcut) = shortcut.filter(|_| p.sequence.is_empty()) else {
        return parse(text, p).map(Some);
    };
    // The account is the second of `p.all()`.
    let stop = scan::Stop {
        slot: 1,
        test: shortcut,
    };
    let fields = match scan::lookup_until(text, p.all(), Some(&stop)) {
        scan::Scanned::Stopped => return Ok(None),
        scan::Scanned::Found(fields) => fields,
        // Not sure: read as without the shortcut (serde_json, non-finite numbers).
        scan::Scanned::Unsure => raw_fields(text, p.all())?,
    };
    Ok(Some(envelope_of(text, fields, None, None)))
}

/// The envelope made of the raw type, account, payload and time members.
#[inline]
fn envelope_of<'a>(
    text: &'a str,
    fields: [Option<&'a str>; 4],
    sequence: Option<&'a str>,
    sequence_key: Option<&'a str>,
) -> Envelope<'a> {
    let (msg_type, has_type_field) = match fields[0] {
        None => (None, false),
        Some(raw) => (string_of(raw), true),
    };
    let account = match fields[1] {
        None => AccountField::Missing,
        Some(raw) => account_of(raw),
    };
    let data = match fields[2] {
        Some(raw) => span_of(text, raw),
        None => 0..text.len(),
    };
    Envelope {
        msg_type,
        has_type_field,
        account,
        data,
        time: fields[3],
        sequence,
        sequence_key,
    }
}

/// The raw values of `ptrs` in `text`, through the scanner or serde_json.
#[inline]
fn raw_fields<'a, const N: usize>(
    text: &'a str,
    ptrs: [&Pointer; N],
) -> Result<[Option<&'a str>; N], EnvelopeError> {
    Ok(match fields_of(text, ptrs) {
        Ok(fields) => fields,
        // `NaN`, `Infinity` and `-Infinity` are not JSON (RFC 8259), but Python's
        // `json.loads` accepts them and Python's `json.dumps` writes them (a Python server's
        // NaN price): read the message with those tokens masked by numbers of the same
        // length, and keep the text as it came (spans are the same in both).
        Err(EnvelopeError::InvalidJson(why)) => {
            let masked = mask_non_finite(text).ok_or(EnvelopeError::InvalidJson(why.clone()))?;
            let fields = fields_of(&masked, ptrs).map_err(|e| match e {
                EnvelopeError::NotAnObject => EnvelopeError::NotAnObject,
                EnvelopeError::InvalidJson(_) => EnvelopeError::InvalidJson(why.clone()),
            })?;
            fields.map(|raw| {
                raw.map(|r| {
                    let at = r.as_ptr() as usize - masked.as_ptr() as usize;
                    &text[at..at + r.len()]
                })
            })
        }
        Err(e) => return Err(e),
    })
}

/// The raw texts of the type, account, payload and time members of a JSON object.
fn fields_of<'t, const N: usize>(
    text: &'t str,
    p: [&Pointer; N],
) -> Result<[Option<&'t str>; N], EnvelopeError> {
    let first = text.trim_start().as_bytes().first().copied();
    if first != Some(b'{') {
        return Err(match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => EnvelopeError::NotAnObject,
            Err(e) => EnvelopeError::InvalidJson(e.to_string()),
        });
    }
    // The scanner reads the common case; whatever it is not sure of (an escaped key, an
    // error, deep nesting) goes to serde_json, whose answer is the reference.
    match scan::lookup(text, p) {
        Some(fields) => Ok(fields),
        None => Ok(lookup(text, p)
            .map_err(|e| EnvelopeError::InvalidJson(e.to_string()))?
            .map(|raw| raw.map(RawValue::get))),
    }
}

/// The text with every `NaN`, `Infinity` and `-Infinity` outside strings replaced by a JSON
/// number of the same length (`0.0`, `0.000000`, `-0.000000`); `None` when it has none.
/// Pure.
pub(crate) fn mask_non_finite(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let (mut i, mut in_string) = (0, false);
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else if c == b'"' {
            in_string = true;
        } else {
            // `-NaN` is not accepted by json.loads either: only a bare NaN is masked.
            let after_minus = i > 0 && b[i - 1] == b'-';
            let token: Option<(&[u8], &[u8])> = if b[i..].starts_with(b"NaN") && !after_minus {
                Some((b"NaN", b"0.0"))
            } else if b[i..].starts_with(b"Infinity") {
                Some((b"Infinity", b"0.000000"))
            } else {
                None
            };
            // A token glued to a number (`5NaN`, `NaN1`, `1Infinity`) is not one json.loads
            // reads, and masked it would become a number (`50.0`): only a token standing
            // alone is masked.
            let alone = |(from, _): &(&[u8], &[u8])| {
                let start = if after_minus { i - 1 } else { i };
                let before = start.checked_sub(1).map(|j| b[j]);
                let after = b.get(i + from.len()).copied();
                before.is_none_or(|c| c.is_ascii_whitespace() || b"[,:".contains(&c))
                    && after.is_none_or(|c| c.is_ascii_whitespace() || b",]}".contains(&c))
            };
            if let Some((from, to)) = token.filter(alone) {
                let o = out.get_or_insert_with(|| b.to_vec());
                o[i..i + from.len()].copy_from_slice(to);
                i += from.len();
                continue;
            }
        }
        i += 1;
    }
    // Only ASCII bytes were replaced by ASCII bytes: still UTF-8.
    out.and_then(|o| String::from_utf8(o).ok())
}

/// The raw JSON text of the member `key` of the JSON object `object`, found without
/// building anything for the other members; `None` when `object` is not an object or has
/// no such member. A repeated key gives its last value, as serde_json and `json.loads` do.
///
/// `object` is expected to be valid JSON (a message's payload is validated when it arrives);
/// an object the fast scanner is not sure of (escaped keys, deep nesting) is read by serde_json.
///
/// ```
/// use tradewire::envelope::member;
/// let data = r#"{"ts":1700000000123,"symbol":"ES","px":[1,2]}"#;
/// assert_eq!(member(data, "ts"), Some("1700000000123"));
/// assert_eq!(member(data, "px"), Some("[1,2]"));
/// assert_eq!(member(data, "qty"), None);
/// assert_eq!(member("[1,2]", "ts"), None);
/// ```
pub fn member<'a>(object: &'a str, key: &str) -> Option<&'a str> {
    if !object.trim_start().starts_with('{') {
        return None;
    }
    match scan::member(object, key) {
        Some(found) => found,
        None => match find_keys(object, &[Some(key)]) {
            Ok(found) => found[0].map(RawValue::get),
            // A payload with `NaN` or `Infinity` is read as `parse` reads it: masked, and the
            // value returned as sent (the spans are the same in both texts).
            Err(_) => {
                let masked = mask_non_finite(object)?;
                let raw = find_keys(&masked, &[Some(key)]).ok()?[0]?.get();
                let at = raw.as_ptr() as usize - masked.as_ptr() as usize;
                Some(&object[at..at + raw.len()])
            }
        },
    }
}

/// A JSON string's content (borrowed when it has no escapes); `None` for other kinds.
fn string_of(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.starts_with('"') {
        return None;
    }
    let inner = &raw[1..raw.len() - 1];
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

fn account_of(raw: &str) -> AccountField<'_> {
    if raw == "null" {
        return AccountField::Missing;
    }
    if let Some(s) = string_of(raw) {
        return if s.is_empty() {
            AccountField::Missing
        } else {
            AccountField::Id(s)
        };
    }
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return AccountField::Id(Cow::Borrowed(raw));
    }
    AccountField::Other
}

/// The byte range of `inner` (a slice of `outer`) within `outer`.
fn span_of(outer: &str, inner: &str) -> Range<usize> {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    start..start + inner.len()
}

#[cfg(test)]
mod tests;
