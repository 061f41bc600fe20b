//! The account filter's shortcut against serde_json's `Value` on the same text: whenever the
//! shortcut drops a message as another account's, serde_json either refuses the text (the
//! deliberate difference: the rest of such a message is not read) or reads an object whose
//! own account member is a non-empty string or an integer other than ours.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::envelope::prefilter::AccountPrefilter;
use crate::envelope::{mask_non_finite, Pointer, Pointers};
use crate::filter::AccountId;

/// The input's first line is our account (123 when it is empty or longer than 20 bytes),
/// the rest the message; both account keys `/account_id` and `/a` are tried.
pub fn account_prefilter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (first, message) = text.split_once('\n').unwrap_or(("", text));
    let ours = if first.is_empty() || first.len() > 20 {
        AccountId::from(123)
    } else {
        AccountId::from(first)
    };
    for key in ["account_id", "a"] {
        let pointers = Pointers {
            account: Pointer::parse(&format!("/{key}")).expect("a plain pointer"),
            ..Pointers::default()
        };
        let Some(prefilter) = AccountPrefilter::new(&pointers, &ours) else {
            panic!("no shortcut for the plain key {key:?}");
        };
        if !prefilter.other_account(&pointers, message) {
            continue;
        }
        // The members' raw texts (the last of a repeated key, as serde_json keeps), as the
        // envelope reads an account: a string's content or an integer's digits, compared as
        // text.
        let masked = mask_non_finite(message);
        let text = masked.as_deref().unwrap_or(message);
        let Ok(members) = serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(text) else {
            continue;
        };
        let raw = members.get(key).map(|r| r.get());
        let theirs = match raw {
            // An integer's text, whatever serde_json makes of it (`-0` is a float to it,
            // 400 digits out of range).
            Some(r) if is_integer(r) => r.to_owned(),
            Some(r) => match serde_json::from_str::<Value>(r) {
                Ok(Value::String(s)) if !s.is_empty() => s,
                other => panic!(
                    "the shortcut dropped {message:?} as not for {:?} ({key}), but its account is {other:?}",
                    ours.as_str()
                ),
            },
            None => panic!(
                "the shortcut dropped {message:?} as not for {:?} ({key}), but it has no account",
                ours.as_str()
            ),
        };
        assert_ne!(
            theirs,
            ours.as_str(),
            "the shortcut dropped {message:?}, which is for our account ({key})"
        );
    }
}

fn is_integer(raw: &str) -> bool {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}
