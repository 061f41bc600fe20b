//! The account filter's shortcut: a message whose own account member names another
//! account is dropped after reading only the members before it. Pure.
//!
//! Three quarters of a shared feed can be for other accounts; reading each of those messages
//! whole (every value validated, every key compared) was most of the filtered path's time
//! (docs/BENCHMARKS.md, issue 30). The envelope's scanner reads the members in order; at the
//! account member it asks [`AccountPrefilter::stops`] whether it may stop there
//! ([`super::parse_unless`]). The answer is yes only when it is sure of what the full parse
//! and the account filter would conclude for a valid message:
//!
//! - the object's members before the account member have been read and validated, and none
//!   of their keys is escaped (an escaped key might be the account key);
//! - after the account member's value, the text has no backslash (so no escaped key) and no
//!   other occurrence of the account key in quotes (so no later duplicate overrides it);
//! - the value is a non-empty string without escapes or an integer, different from ours.
//!
//! Anything else, including our own account, is read whole, in the same pass. The one
//! difference is deliberate: the rest of a message for another account is not read, so such a
//! message is dropped (and counted) even when its rest is not valid JSON, where the full
//! parse would have reported it as invalid.

use memchr::memmem::Finder;

use super::Pointers;
use crate::filter::AccountId;

/// The shortcut for one account filter (see the module documentation).
#[derive(Clone, Debug)]
pub(crate) struct AccountPrefilter {
    /// The account member's name in quotes, to find it again after its value.
    quoted: Finder<'static>,
    /// Our account, as the filter compares it (a string's content or an integer's digits).
    ours: String,
}

impl AccountPrefilter {
    /// The shortcut for `ours` when the account pointer is one plain top-level key; `None`
    /// otherwise (a nested pointer, a key that JSON would escape).
    pub(crate) fn new(pointers: &Pointers, ours: &AccountId) -> Option<Self> {
        let [key] = pointers.account.0.as_slice() else {
            return None;
        };
        if key.is_empty() || key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            return None;
        }
        Some(AccountPrefilter {
            quoted: Finder::new(format!("\"{key}\"").as_bytes()).into_owned(),
            ours: ours.as_str().to_owned(),
        })
    }

    /// Whether the scanner, having read the members up to an account member whose raw value
    /// is `value`, may stop before `rest`: the message is surely for another account.
    #[inline]
    pub(super) fn stops(&self, value: &[u8], rest: &[u8]) -> bool {
        // Ours (or not sure) ends here, before the rest is searched: a message for our
        // account is read whole anyway.
        differs(value, self.ours.as_bytes())
            && memchr::memchr(b'\\', rest).is_none()
            && self.quoted.find(rest).is_none()
    }

    /// True when the envelope's parse with this shortcut drops `text` unread as another
    /// account's (`pointers` are those the shortcut was made for). For tests and fuzzing.
    ///
    /// ```ignore
    /// let p = AccountPrefilter::new(&Pointers::default(), &AccountId::from(123)).unwrap();
    /// let all = Pointers::default();
    /// assert!(p.other_account(&all, r#"{"type":"fill","account_id":456,"data":{"px":1}}"#));
    /// assert!(!p.other_account(&all, r#"{"type":"fill","account_id":123,"data":{"px":1}}"#));
    /// ```
    pub(crate) fn other_account(&self, pointers: &Pointers, text: &str) -> bool {
        matches!(super::parse_unless(text, pointers, Some(self)), Ok(None))
    }
}

/// Whether a raw account value (validated JSON) is an account other than
/// `ours`, as `envelope::account_of` and the account filter read it: a non-empty string's
/// content or an integer's digits. Anything else (null, an empty string, a fraction, an
/// object) is left to the full parse.
fn differs(raw: &[u8], ours: &[u8]) -> bool {
    // Ours first: where every message is ours, that is the one comparison made.
    match raw {
        // An escaped string is compared unescaped by the full parse: left to it.
        [b'"', inner @ .., b'"'] => {
            inner != ours && !inner.is_empty() && !inner.contains(&b'\\')
        }
        [b'-' | b'0'..=b'9', ..] => {
            let digits = raw.strip_prefix(b"-").unwrap_or(raw);
            raw != ours && !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> AccountPrefilter {
        AccountPrefilter::new(&Pointers::default(), &AccountId::from(123)).unwrap()
    }

    #[test]
    fn another_account_is_recognised_from_the_members_before_it() {
        let p = ours();
        assert!(p.other_account(&Pointers::default(), r#"{"type":"fill","account_id":456,"data":{"px":1}}"#));
        assert!(p.other_account(&Pointers::default(), r#" { "account_id" : "456" , "data" : [1, 2] } "#));
        assert!(p.other_account(&Pointers::default(), r#"{"type":"x","account_id":-5}"#));
        assert!(p.other_account(&Pointers::default(), r#"{"n":{"a":[1,{"b":null}]},"account_id":1234}"#));
        // Mentions of the key inside values before it, and escapes there, do not matter.
        assert!(p.other_account(&Pointers::default(), r#"{"data":{"account_id":123},"account_id":789}"#));
        assert!(p.other_account(&Pointers::default(), r#"{"note":"say \"hi\"","account_id":789}"#));
        // The rest is not read: a message for another account is dropped whatever follows.
        assert!(p.other_account(&Pointers::default(), r#"{"account_id":456,"data":{"#));
    }

    #[test]
    fn whatever_is_not_sure_goes_to_the_full_parse() {
        let p = ours();
        for text in [
            // Ours, as an integer or a string.
            r#"{"type":"fill","account_id":123,"data":{}}"#,
            r#"{"account_id":"123"}"#,
            // No account, or one the filter lets through or reads otherwise.
            r#"{"type":"fill","data":{}}"#,
            r#"{"account_id":null}"#,
            r#"{"account_id":""}"#,
            r#"{"account_id":4.5}"#,
            r#"{"account_id":4e2}"#,
            r#"{"account_id":{"id":456}}"#,
            r#"{"account_id":[456]}"#,
            r#"{"account_id":true}"#,
            // Only inside a value: the message has no account of its own.
            r#"{"data":{"account_id":456}}"#,
            r#"{"data":["account_id",456]}"#,
            // Mentioned again after it (a duplicate, or a value): the full parse knows.
            r#"{"account_id":456,"account_id":123}"#,
            r#"{"account_id":456,"note":"account_id"}"#,
            r#"{"account_id":456,"data":{"account_id":1}}"#,
            // An escaped key before it, or a backslash after it: a key may be escaped.
            r#"{"account\u005fid":123,"account_id":456}"#,
            r#"{"account_id":456,"s":"a\"b"}"#,
            // An escaped value: `"1\u00323"` is our 123 (found by fuzzing).
            r#"{"account_id":"1\u00323"}"#,
            r#"{"account_id":"4\u00356"}"#,
            // Invalid before the member, or not an object.
            r#"{"type":"fill" "account_id":456}"#,
            r#"{"type":tru,"account_id":456}"#,
            r#"{"type":NaN,"account_id":456}"#,
            r#"["account_id",456]"#,
            r#""account_id":456"#,
            // The key's quotes belong to other strings.
            r#"{"x":"a","account_id"}"#,
        ] {
            assert!(!p.other_account(&Pointers::default(), text), "{text}");
        }
    }

    #[test]
    fn it_applies_to_one_plain_top_level_key_only() {
        let ours = AccountId::from(1);
        let with = |account: &str| Pointers {
            account: super::super::Pointer::parse(account).unwrap(),
            ..Pointers::default()
        };
        assert!(AccountPrefilter::new(&with("/acct"), &ours).is_some());
        assert!(AccountPrefilter::new(&with("/d/acct"), &ours).is_none());
        assert!(AccountPrefilter::new(&with(""), &ours).is_none());
        assert!(AccountPrefilter::new(&with("/a\"b"), &ours).is_none());
        let acct = with("/acct");
        let p = AccountPrefilter::new(&acct, &ours).unwrap();
        assert!(p.other_account(&acct, r#"{"acct":2,"account_id":1}"#));
        assert!(!p.other_account(&acct, r#"{"acct":1,"account_id":2}"#));
    }
}
