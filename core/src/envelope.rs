//! The JSON envelope of a message: its type, its account and its payload, read from
//! configurable JSON pointers without building a `serde_json::Value`.
//!
//! The parse borrows from the frame's text: the type and account are slices of it (copied
//! only when they contain escapes) and the payload is located as a byte range, so the
//! account filter runs before anything is allocated.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::filter::MessageAccount;

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

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Where the type, account and payload live in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointers {
    /// The message type (default `/type`).
    pub msg_type: Pointer,
    /// The account id (default `/account_id`).
    pub account: Pointer,
    /// The payload (default `/data`); when absent in a message, the whole message is the payload.
    pub data: Pointer,
}

impl Default for Pointers {
    fn default() -> Self {
        Pointers {
            msg_type: Pointer(vec!["type".into()]),
            account: Pointer(vec!["account_id".into()]),
            data: Pointer(vec!["data".into()]),
        }
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
    let first = text.trim_start().as_bytes().first().copied();
    if first != Some(b'{') {
        return Err(match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => EnvelopeError::NotAnObject,
            Err(e) => EnvelopeError::InvalidJson(e.to_string()),
        });
    }
    let fields = lookup(text, p).map_err(|e| EnvelopeError::InvalidJson(e.to_string()))?;
    let (msg_type, has_type_field) = match fields[0] {
        None => (None, false),
        Some(raw) => (string_of(raw.get()), true),
    };
    let account = match fields[1] {
        None => AccountField::Missing,
        Some(raw) => account_of(raw.get()),
    };
    let data = match fields[2] {
        Some(raw) => span_of(text, raw.get()),
        None => 0..text.len(),
    };
    Ok(Envelope {
        msg_type,
        has_type_field,
        account,
        data,
    })
}

/// Finds the three pointers in one pass over the top-level object (and a pass over each
/// nested object a longer pointer enters).
fn lookup<'a>(text: &'a str, p: &Pointers) -> Result<[Option<&'a RawValue>; 3], serde_json::Error> {
    let ptrs = [&p.msg_type, &p.account, &p.data];
    let mut found: [Option<&'a RawValue>; 3] = [None, None, None];
    let firsts: Vec<Option<&str>> = ptrs
        .iter()
        .map(|ptr| ptr.0.first().map(String::as_str))
        .collect();
    let top = find_keys(text, &firsts)?;
    for (i, ptr) in ptrs.iter().enumerate() {
        if ptr.is_empty() {
            continue;
        }
        let mut cur = top[i];
        for seg in &ptr.0[1..] {
            cur = match cur {
                Some(raw) if raw.get().starts_with('{') => {
                    find_keys(raw.get(), &[Some(seg.as_str())])?[0]
                }
                _ => None,
            };
        }
        found[i] = cur;
    }
    Ok(found)
}

/// Parses a JSON object and returns, for each wanted key, its raw value.
fn find_keys<'a>(
    text: &'a str,
    keys: &[Option<&str>],
) -> Result<Vec<Option<&'a RawValue>>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let out = de::Deserializer::deserialize_map(&mut de, ObjectVisitor { keys })?;
    de.end()?;
    Ok(out)
}

struct ObjectVisitor<'k> {
    keys: &'k [Option<&'k str>],
}

impl<'de> Visitor<'de> for ObjectVisitor<'_> {
    type Value = Vec<Option<&'de RawValue>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = vec![None; self.keys.len()];
        while let Some(matched) = map.next_key_seed(KeyMatch { keys: self.keys })? {
            if matched == 0 {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let raw: &'de RawValue = map.next_value()?;
            for (i, k) in self.keys.iter().enumerate() {
                // A later duplicate key wins, as in JSON.parse.
                if matched & (1 << i) != 0 && k.is_some() {
                    out[i] = Some(raw);
                }
            }
        }
        Ok(out)
    }
}

/// Deserializes an object key into a bit set of the wanted keys it equals, without allocating
/// for unescaped keys.
struct KeyMatch<'k> {
    keys: &'k [Option<&'k str>],
}

impl<'de> DeserializeSeed<'de> for KeyMatch<'_> {
    type Value = u32;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<u32, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyMatch<'_> {
    type Value = u32;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u32, E> {
        let mut bits = 0u32;
        for (i, k) in self.keys.iter().enumerate() {
            if *k == Some(v) {
                bits |= 1 << i;
            }
        }
        Ok(bits)
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
mod tests {
    use super::*;

    fn p() -> Pointers {
        Pointers::default()
    }

    #[test]
    fn reads_the_002_envelope() {
        let t = r#"{"type":"daemon_status","account_id":null,"data":{"status":"RUNNING"}}"#;
        let e = parse(t, &p()).unwrap();
        assert_eq!(e.msg_type.as_deref(), Some("daemon_status"));
        assert_eq!(e.account, AccountField::Missing);
        assert_eq!(&t[e.data], r#"{"status":"RUNNING"}"#);
    }

    #[test]
    fn string_and_escaped_accounts() {
        let e = parse(r#"{"account_id":"A\u0042C","type":"x"}"#, &p()).unwrap();
        assert_eq!(e.account, AccountField::Id("ABC".into()));
        let e = parse(r#"{"account_id":1.5}"#, &p()).unwrap();
        assert_eq!(e.account, AccountField::Other);
        let e = parse(r#"{"account_id":-7}"#, &p()).unwrap();
        assert_eq!(e.account, AccountField::Id("-7".into()));
    }

    #[test]
    fn missing_data_means_whole_object_and_missing_type_is_reported() {
        let t = r#"{"type":"ping","timestamp":"2025-01-01T00:00:00Z"}"#;
        let e = parse(t, &p()).unwrap();
        assert_eq!(&t[e.data], t);
        let e = parse(r#"{"data":1}"#, &p()).unwrap();
        assert!(!e.has_type_field && e.msg_type.is_none());
        let e = parse(r#"{"type":5}"#, &p()).unwrap();
        assert!(e.has_type_field && e.msg_type.is_none());
    }

    #[test]
    fn nested_pointers() {
        let ptrs = Pointers {
            msg_type: Pointer::parse("/e").unwrap(),
            account: Pointer::parse("/d/entity/accountId").unwrap(),
            data: Pointer::parse("/d").unwrap(),
        };
        let t = r#"{"e":"props","d":{"entityType":"position","entity":{"id":1,"accountId":42}}}"#;
        let e = parse(t, &ptrs).unwrap();
        assert_eq!(e.msg_type.as_deref(), Some("props"));
        assert_eq!(e.account, AccountField::Id("42".into()));
        assert!(t[e.data].starts_with("{\"entityType\""));
        assert_eq!(
            Pointer::parse("/a~1b/c~0d").unwrap(),
            Pointer(vec!["a/b".into(), "c~d".into()])
        );
        assert!(Pointer::parse("nope").is_err());
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse("not json", &p()),
            Err(EnvelopeError::InvalidJson(_))
        ));
        assert!(matches!(
            parse("{\"type\":", &p()),
            Err(EnvelopeError::InvalidJson(_))
        ));
        assert!(matches!(
            parse("{} trailing", &p()),
            Err(EnvelopeError::InvalidJson(_))
        ));
        assert_eq!(parse("[1,2]", &p()), Err(EnvelopeError::NotAnObject));
        assert_eq!(parse("  42", &p()), Err(EnvelopeError::NotAnObject));
        assert!(matches!(
            parse("", &p()),
            Err(EnvelopeError::InvalidJson(_))
        ));
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let e = parse(r#"{"type":"a","type":"b"}"#, &p()).unwrap();
        assert_eq!(e.msg_type.as_deref(), Some("b"));
    }
}
