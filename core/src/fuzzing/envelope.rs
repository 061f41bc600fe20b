//! The JSON envelope against serde_json's `Value` on the same text: whatever the envelope
//! reports at a pointer is what `Value` holds there, and it refuses what serde_json refuses,
//! except for the deliberate differences of docs/RELIABILITY.md ("Differential fuzzing").

use serde::de::IgnoredAny;
use serde_json::Value;

use super::text::pointer_sets;
use crate::envelope::{mask_non_finite, member, parse, AccountField, EnvelopeError};
use crate::envelope::{Pointer, Pointers};

/// The reasons serde_json gives for refusing to build a `Value` from a text its own
/// validating skip (`IgnoredAny`) accepts, which the envelope does not share: it keeps
/// values as raw text and does not decode what it skips (deliberate, as `json.loads` reads
/// these: a number past f64's range is a Python `int` or `inf`, a lone surrogate escape a
/// `str`).
const VALUE_ONLY_REFUSALS: [&str; 4] = [
    "number out of range",
    "lone leading surrogate in hex escape",
    "unexpected end of hex escape",
    "invalid unicode code point",
];

/// What serde_json makes of a message (its reasons are shown in a failure's message).
#[derive(Debug)]
#[allow(dead_code)]
enum Reference {
    /// An object (with `NaN`, `Infinity` and `-Infinity` standing alone read as the envelope
    /// reads them: masked by numbers, a deliberate difference).
    Object(Value),
    /// JSON, but not an object.
    NotAnObject { masked: bool },
    /// Not JSON: the envelope must refuse it too.
    Refused(String),
    /// JSON to serde_json's validating skip, but no `Value` for one of the
    /// [`VALUE_ONLY_REFUSALS`]: the envelope reads it when it is an object.
    ValueOnlyRefusal(String),
}

fn reference(message: &str) -> Reference {
    let masked = mask_non_finite(message);
    let text = masked.as_deref().unwrap_or(message);
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Reference::Object(v),
        Ok(_) => Reference::NotAnObject {
            masked: masked.is_some(),
        },
        Err(e) => {
            let why = e.to_string();
            let skipped = serde_json::from_str::<IgnoredAny>(text).is_ok();
            if skipped && VALUE_ONLY_REFUSALS.iter().any(|r| why.starts_with(r)) {
                Reference::ValueOnlyRefusal(why)
            } else {
                Reference::Refused(why)
            }
        }
    }
}

/// The value at `ptr` following object members only, as the envelope's pointers do
/// (`Value::pointer` also follows array indices: deliberate difference); `None` for the
/// empty pointer (not configured).
fn at<'v>(v: &'v Value, ptr: &Pointer) -> Option<&'v Value> {
    if ptr.is_empty() {
        return None;
    }
    ptr.keys()
        .iter()
        .try_fold(v, |cur, key| cur.as_object()?.get(key))
}

/// A raw JSON text as serde_json reads it (masked the same way as the whole message).
fn value_of(raw: &str) -> Value {
    let masked = mask_non_finite(raw);
    serde_json::from_str(masked.as_deref().unwrap_or(raw))
        .unwrap_or_else(|e| panic!("the envelope found {raw:?}, which is not JSON: {e}"))
}

/// The envelope and serde_json's `Value` on the same message, with the default pointers,
/// Tradovate's, the input's own (its first line, as `json_envelope`) and the defaults with a
/// sequence pointer with and without a time pointer (each way `parse` reads): the same type,
/// account, payload, time, sequence and sequence key; payload members through `member`; both
/// refuse, except where `Value` refuses for one of [`VALUE_ONLY_REFUSALS`].
pub fn json_envelope_vs_serde(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (message, [d, nested, chosen]) = pointer_sets(text);
    let ptr = |s: &str| Pointer::parse(s).unwrap_or_default();
    let with_sequence = Pointers {
        sequence: ptr("/seq"),
        ..d.clone()
    };
    let with_sequence_and_time = Pointers {
        sequence: ptr("/seq"),
        time: ptr("/time"),
        ..d.clone()
    };
    let reference = reference(message);
    for p in [d, with_sequence, with_sequence_and_time, nested, chosen] {
        let env = parse(message, &p);
        let root = match (&reference, &env) {
            (Reference::Object(v), Ok(_)) => v,
            (Reference::NotAnObject { .. }, Err(EnvelopeError::NotAnObject)) => continue,
            // `NaN` alone is masked by a number: not JSON to the envelope, which does not
            // mask a message that is not an object.
            (Reference::NotAnObject { masked: true }, Err(EnvelopeError::InvalidJson(_))) => {
                continue
            }
            (Reference::Refused(_), Err(_)) => continue,
            (Reference::ValueOnlyRefusal(_), _) if !message.trim_start().starts_with('{') => {
                continue
            }
            (Reference::ValueOnlyRefusal(_), Ok(_)) => continue,
            (r, e) => panic!(
                "the envelope and serde_json differ on {message:?} with {p:?}: {e:?} against {r:?}"
            ),
        };
        let env = env.expect("matched above");
        // The type: present when the member is, a string when it is one.
        let ty = at(root, &p.msg_type);
        assert_eq!(
            env.has_type_field,
            ty.is_some(),
            "type of {message:?} ({p:?})"
        );
        assert_eq!(
            env.msg_type.as_deref(),
            ty.and_then(Value::as_str),
            "type of {message:?} ({p:?})"
        );

        // The account: its raw text (read through the time slot) is the value serde_json
        // holds, and the account is what that raw text and value say.
        let raw_account = parse(
            message,
            &Pointers {
                time: p.account.clone(),
                ..Pointers::default()
            },
        )
        .expect("read once, read again")
        .time;
        let account = at(root, &p.account);
        assert_eq!(raw_account.map(value_of).as_ref(), account, "{message:?}");
        let want = match account {
            None | Some(Value::Null) => AccountField::Missing,
            Some(Value::String(s)) if s.is_empty() => AccountField::Missing,
            Some(Value::String(s)) => AccountField::Id(s.as_str().into()),
            Some(Value::Number(_)) => {
                let raw = raw_account.expect("a number has a raw text");
                let digits = raw.strip_prefix('-').unwrap_or(raw);
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    AccountField::Id(raw.into())
                } else {
                    AccountField::Other
                }
            }
            Some(_) => AccountField::Other,
        };
        assert_eq!(env.account, want, "account of {message:?} ({p:?})");

        // The payload: the member's value, or the whole message when there is none.
        let payload = &message[env.data.clone()];
        match at(root, &p.data) {
            Some(v) => assert_eq!(&value_of(payload), v, "payload of {message:?} ({p:?})"),
            None => assert_eq!(payload, message, "payload of {message:?} ({p:?})"),
        }
        if let Value::Object(members) = value_of(payload) {
            // `member`, as the time of a payload is read: a key of the payload, and one that
            // may or may not be there.
            let keys = members.keys().take(2).cloned().chain(["ts".to_string()]);
            for key in keys {
                assert_eq!(
                    member(payload, &key).map(value_of).as_ref(),
                    members.get(&key),
                    "member {key:?} of {payload:?}"
                );
            }
        }

        // The raw values: what serde_json holds, where `parse` looks for them (the sequence
        // key only along with a sequence number).
        let sequence_on = !p.sequence.is_empty();
        for (name, raw, ptr, looked_for) in [
            ("time", env.time, &p.time, true),
            ("sequence", env.sequence, &p.sequence, true),
            (
                "sequence key",
                env.sequence_key,
                &p.sequence_key,
                sequence_on,
            ),
        ] {
            let want = if looked_for { at(root, ptr) } else { None };
            assert_eq!(
                raw.map(value_of).as_ref(),
                want,
                "{name} of {message:?} ({p:?})"
            );
        }
    }
}
