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

    fn is_empty(&self) -> bool {
        self.0.is_empty()
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
}

impl Default for Pointers {
    fn default() -> Self {
        Pointers {
            msg_type: Pointer(vec!["type".into()]),
            account: Pointer(vec!["account_id".into()]),
            data: Pointer(vec!["data".into()]),
            time: Pointer::default(),
        }
    }
}

impl Pointers {
    /// The pointers in the order of the found values: type, account, payload, time.
    fn all(&self) -> [&Pointer; FIELDS] {
        [&self.msg_type, &self.account, &self.data, &self.time]
    }
}

/// How many pointers an envelope is read with.
const FIELDS: usize = 4;

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
    let fields = match fields_of(text, p) {
        Ok(fields) => fields,
        // `NaN`, `Infinity` and `-Infinity` are not JSON (RFC 8259), but Python's
        // `json.loads` accepts them and Python's `json.dumps` writes them (a Python server's
        // NaN price): read the message with those tokens masked by numbers of the same
        // length, and keep the text as it came (spans are the same in both).
        Err(EnvelopeError::InvalidJson(why)) => {
            let masked = mask_non_finite(text).ok_or(EnvelopeError::InvalidJson(why.clone()))?;
            let fields = fields_of(&masked, p).map_err(|e| match e {
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
    };
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
    Ok(Envelope {
        msg_type,
        has_type_field,
        account,
        data,
        time: fields[3],
    })
}

/// The raw texts of the type, account, payload and time members of a JSON object.
fn fields_of<'t>(
    text: &'t str,
    p: &Pointers,
) -> Result<[Option<&'t str>; FIELDS], EnvelopeError> {
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
fn mask_non_finite(text: &str) -> Option<String> {
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
            if let Some((from, to)) = token {
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
        None => find_keys(object, &[Some(key)]).ok()?[0].map(RawValue::get),
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
    fn member_of_an_object() {
        let t = r#" {"a":1,"b":{"ts":2},"a":"last","e\u0073c":true} "#;
        assert_eq!(member(t, "a"), Some(r#""last""#));
        assert_eq!(member(t, "b"), Some(r#"{"ts":2}"#));
        assert_eq!(member(t, "ts"), None);
        // An escaped key sends the object to serde_json, which unescapes it.
        assert_eq!(member(t, "esc"), Some("true"));
        assert_eq!(member(r#"{"k\"q":5}"#, "k\"q"), Some("5"));
        assert_eq!(member("{}", "a"), None);
        assert_eq!(member("5", "a"), None);
        assert_eq!(member("\"text\"", "a"), None);
    }

    #[test]
    fn nested_pointers() {
        let ptrs = Pointers {
            msg_type: Pointer::parse("/e").unwrap(),
            account: Pointer::parse("/d/entity/accountId").unwrap(),
            data: Pointer::parse("/d").unwrap(),
            time: Pointer::parse("/d/entity/timestamp").unwrap(),
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

    /// The three values as byte ranges of the text.
    type Ranges = Vec<Option<Range<usize>>>;

    /// The scanner's answer as byte ranges (or `None`), and serde_json's.
    fn both(text: &str, p: &Pointers) -> (Option<Ranges>, Result<Ranges, String>) {
        let fast =
            scan::lookup(text, p).map(|f| f.iter().map(|v| v.map(|v| span_of(text, v))).collect());
        let slow = lookup(text, p)
            .map(|f| {
                f.iter()
                    .map(|v| v.map(|v| span_of(text, v.get())))
                    .collect()
            })
            .map_err(|e| e.to_string());
        (fast, slow)
    }

    fn pointer_sets() -> Vec<Pointers> {
        vec![
            p(),
            Pointers {
                msg_type: Pointer::parse("/e").unwrap(),
                account: Pointer::parse("/d/entity/accountId").unwrap(),
                data: Pointer::parse("/d").unwrap(),
                time: Pointer::parse("/d/ts").unwrap(),
            },
            Pointers {
                msg_type: Pointer::parse("/d/type").unwrap(),
                account: Pointer::parse("/d/account_id").unwrap(),
                data: Pointer::parse("").unwrap(),
                time: Pointer::parse("/e").unwrap(),
            },
        ]
    }

    /// Whenever the scanner answers, serde_json accepts the text and finds the same values.
    fn agrees(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        for p in pointer_sets() {
            if let (Some(fast), slow) = both(text, &p) {
                proptest::prop_assert_eq!(Ok(fast), slow, "{}", text);
            }
        }
        Ok(())
    }

    #[test]
    fn the_scanner_reads_ordinary_messages_itself() {
        let texts = [
            r#"{"type":"MarketQuote","account_id":123,"data":{"bid":21000.25,"ask":-1.5e-3,"x":[1,true,null,{}],"s":"a\"b\u00e9"}}"#,
            r#" { "type" : "x" , "account_id" : "A-1" , "data" : [ ] , "type" : "y" } "#,
            r#"{"data":{"type":"nested"},"account_id":null}"#,
            r#"{"e":"props","d":{"entityType":"position","entity":{"id":1,"accountId":42}}}"#,
        ];
        for t in texts {
            for p in pointer_sets() {
                let (fast, slow) = both(t, &p);
                assert_eq!(Ok(fast.expect(t)), slow, "{t}");
            }
        }
        // Left to serde_json: escaped keys, invalid JSON, trailing text, deep nesting.
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(70), "]".repeat(70));
        for t in [
            r#"{"typ\u0065":"x"}"#,
            r#"{"a":01}"#,
            r#"{"a":1} x"#,
            r#"{"a":"\x"}"#,
            "{\"a\":\"\u{1}\"}",
            &deep,
        ] {
            assert!(scan::lookup(t, &p()).is_none(), "{t}");
        }
        assert!(parse(&deep, &p()).is_ok());
    }

    fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::json!(f)),
            "(.|[\"\\\\\u{0}-\u{1f}]){0,8}".prop_map(serde_json::Value::String),
        ];
        let value = leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::vec(
                    (
                        "(type|account_id|data|d|e|entity|accountId|[a-z]{1,3})",
                        inner
                    ),
                    0..5
                )
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        });
        prop::collection::vec(("(type|account_id|data|d|e|[a-z\"\\\\]{1,3})", value), 0..6)
            .prop_map(|kv| {
                let body: Vec<String> = kv
                    .iter()
                    .map(|(k, v)| format!("{}:{}", serde_json::Value::from(k.as_str()), v))
                    .collect();
                format!("{{{}}}", body.join(","))
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn the_scanner_agrees_with_serde_json_on_valid_json(text in json_text()) {
            agrees(&text)?;
            // Valid JSON is the scanner's own unless a key is escaped (only top-level keys
            // are generated with quotes and backslashes).
            for p in pointer_sets() {
                proptest::prop_assert!(scan::lookup(&text, &p).is_some() || text.contains('\\'), "{}", text);
            }
        }

        #[test]
        fn the_scanner_agrees_with_serde_json_on_damaged_json(
            text in json_text(),
            edits in proptest::collection::vec((0usize..400, 0usize..3, "[{}\\[\\]\":,\\\\ \t\n\u{0}\u{1f}0-9eE.+\\-tfnulrx/é]"), 1..4),
        ) {
            let mut chars: Vec<char> = text.chars().collect();
            for (at, op, c) in edits {
                let at = at % (chars.len() + 1);
                let c = c.chars().next().unwrap_or(' ');
                match op {
                    0 => chars.insert(at, c),
                    1 if at < chars.len() => { chars.remove(at); }
                    _ if at < chars.len() => chars[at] = c,
                    _ => chars.push(c),
                }
            }
            let damaged: String = chars.into_iter().collect();
            agrees(&damaged)?;
        }

        #[test]
        fn the_scanner_agrees_with_serde_json_on_scalars(v in "[-+.eE0-9]{1,6}|[tfnrulase]{1,6}|\"[a-z\\\\u0-9A-F\"]{0,8}\"?") {
            agrees(&format!(r#"{{"type":{v},"data":[{v}],"account_id":{v}}}"#))?;
        }

        #[test]
        fn the_scanner_agrees_with_serde_json_on_any_text(text in "[{}\\[\\]\":,\\\\ 0-9a-z.+\\-é\u{0}\u{7f}]{0,40}") {
            agrees(&text)?;
            agrees(&format!("{{{text}"))?;
        }
    }

    #[test]
    fn any_depth_is_read_without_recursion() {
        // Far beyond serde_json's recursion limit (128) and deep enough to overflow a
        // thread's stack if anything recursed per level: the scanner leaves such messages
        // to serde_json, whose raw-value skipping is iterative.
        let objects = |n: usize| format!("{}0{}", r#"{"a":"#.repeat(n), "}".repeat(n));
        for n in [61, 129, 1_000, 200_000] {
            let arrays = format!("{}{}", "[".repeat(n), "]".repeat(n));
            for inner in [arrays.clone(), objects(n)] {
                let text = format!(r#"{{"type":"deep","account_id":7,"data":{inner}}}"#);
                let e = parse(&text, &p()).unwrap_or_else(|e| panic!("{n}: {e}"));
                assert_eq!(&text[e.data], inner, "{n}");
                assert_eq!(e.account, AccountField::Id("7".into()));
                assert_eq!(member(&text, "data"), Some(inner.as_str()));
                // With an escaped key too (serde_json reads the whole message).
                let text = format!(r#"{{"typ\u0065":"deep","data":{inner}}}"#);
                let e = parse(&text, &p()).unwrap_or_else(|e| panic!("{n}: {e}"));
                assert_eq!(&text[e.data], inner, "{n}");
            }
            // Not an object at the top: valid JSON all the same (the 004 form's `data`).
            assert_eq!(parse(&arrays, &p()), Err(EnvelopeError::NotAnObject), "{n}");
            // Broken at the bottom: invalid JSON.
            let broken = format!("{}{}", "[".repeat(n), "]".repeat(n - 1));
            assert!(
                matches!(parse(&broken, &p()), Err(EnvelopeError::InvalidJson(_))),
                "{n}"
            );
        }
    }

    #[test]
    fn nan_and_infinity_are_read_as_json_loads_reads_them_and_kept_as_sent() {
        let t = r#"{"type":"t","account_id":7,"data":{"px":[NaN, -Infinity, Infinity],"s":"NaN"}}"#;
        let e = parse(t, &p()).unwrap();
        assert_eq!(e.msg_type.as_deref(), Some("t"));
        assert_eq!(e.account, AccountField::Id("7".into()));
        assert_eq!(&t[e.data], r#"{"px":[NaN, -Infinity, Infinity],"s":"NaN"}"#);
        let t = "{\n \"type\": \"t\",\n \"data\": Infinity\n}";
        assert_eq!(&t[parse(t, &p()).unwrap().data], "Infinity");
        // Not an object, masked or not.
        assert_eq!(parse("[NaN]", &p()), Err(EnvelopeError::NotAnObject));
        // What json.loads refuses stays refused, with serde_json's reason.
        for bad in [
            r#"{"type":"t","data":-NaN}"#,
            r#"{"type":"t","data":+Infinity}"#,
            r#"{"type":"t","data":nan}"#,
            r#"{"type":"t","data":NaNa}"#,
        ] {
            match parse(bad, &p()) {
                Err(EnvelopeError::InvalidJson(why)) => assert!(why.contains("line 1"), "{why}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert_eq!(mask_non_finite(r#"[1,"NaN"]"#), None);
        assert_eq!(
            mask_non_finite(r#"[NaN,"\"NaN",-Infinity]"#).as_deref(),
            Some(r#"[0.0,"\"NaN",-0.000000]"#)
        );
    }

    #[test]
    fn the_time_is_read_in_the_same_pass_only_when_pointed_at() {
        let t = r#"{"type":"SIGNAL","ts":1737125115123,"data":{"ts":"inner"}}"#;
        assert_eq!(parse(t, &p()).unwrap().time, None, "no time pointer");
        let with_ts = Pointers {
            time: Pointer::parse("/ts").unwrap(),
            ..p()
        };
        let e = parse(t, &with_ts).unwrap();
        assert_eq!(e.time, Some("1737125115123"));
        assert_eq!(&t[e.data], r#"{"ts":"inner"}"#);
        let nested = Pointers {
            time: Pointer::parse("/data/ts").unwrap(),
            ..p()
        };
        assert_eq!(parse(t, &nested).unwrap().time, Some(r#""inner""#));
        // Through serde_json (an escaped key) the same.
        let t = r#"{"typ\u0065":"x","ts":"2025-01-17T14:45:15Z"}"#;
        assert_eq!(parse(t, &with_ts).unwrap().time, Some(r#""2025-01-17T14:45:15Z""#));
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let e = parse(r#"{"type":"a","type":"b"}"#, &p()).unwrap();
        assert_eq!(e.msg_type.as_deref(), Some("b"));
    }
}
