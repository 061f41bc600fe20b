//! The hot path of [`super::parse`]: a validating single-pass scanner over the message's bytes that
//! finds the pointers' values without building anything.
//!
//! It answers only when it is sure to give what serde_json gives (the same raw value
//! slices, for a text serde_json accepts): JSON that follows RFC 8259 with unescaped object
//! keys, nested at most [`MAX_DEPTH`] levels. Anything else (invalid JSON, an escaped
//! key, deeper nesting) returns `None` and the message goes through serde_json, which then
//! gives the result or the error. A property test checks that both agree.
//!
//! Why: serde_json's generic visitor path (a key seed per key, raw values, a `Vec` per
//! object) costs about 4,000 instructions for a 230-byte event; the scanner about a fifth of
//! that, which is most of the I/O thread's time per message (benches/, docs/BENCHMARKS.md).

use super::prefilter::AccountPrefilter;
use super::Pointer;
use crate::json_string::plain_run;

/// Nesting depth beyond which the scanner leaves the message to serde_json (whose own
/// limit is 128). At most 64: the open containers are kept in the bits of a `u64`.
pub(super) const MAX_DEPTH: u32 = 60;

/// The raw values found for the `N` wanted keys of one object (up to one per pointer).
type Found<const N: usize> = [Option<(usize, usize)>; N];

/// The `N` wanted keys of one object (`None`: a pointer that is not looked for).
type Keys<'k, const N: usize> = [Option<&'k [u8]>; N];

/// The raw values of the pointers, as [`super::lookup`] finds them, or `None` when the
/// scanner leaves the message to serde_json.
pub(super) fn lookup<'a, const N: usize>(
    text: &'a str,
    ptrs: [&Pointer; N],
) -> Option<[Option<&'a str>; N]> {
    match lookup_until(text, ptrs, None) {
        Scanned::Found(fields) => Some(fields),
        Scanned::Stopped | Scanned::Unsure => None,
    }
}

/// What [`lookup_until`] concluded.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Scanned<'a, const N: usize> {
    /// The pointers' raw values.
    Found([Option<&'a str>; N]),
    /// The [`Stop`] said so: the rest of the object was not read.
    Stopped,
    /// Left to serde_json.
    Unsure,
}

/// Where the top-level object may be left unread: after a member whose key is
/// `ptrs[slot]`'s first (a one-key pointer), when `test.stops(value, rest)` is true for its
/// raw value and the bytes after it. The members before it have been read and validated, and
/// none of their keys is escaped. For the account filter's shortcut (`super::prefilter`).
pub(super) struct Stop<'s> {
    pub(super) slot: usize,
    pub(super) test: &'s AccountPrefilter,
}

/// [`lookup`], stopping where `stop` says.
#[inline(always)]
pub(super) fn lookup_until<'a, const N: usize>(
    text: &'a str,
    ptrs: [&Pointer; N],
    stop: Option<&Stop<'_>>,
) -> Scanned<'a, N> {
    let b = text.as_bytes();
    let firsts = ptrs.map(|ptr| ptr.0.first().map(|s| s.as_bytes()));
    let start = ws(b, 0);
    if b.get(start) != Some(&b'{') {
        return Scanned::Unsure;
    }
    let mut top: Found<N> = [None; N];
    match object(b, start, &firsts, &mut top, stop) {
        Some(STOPPED) => return Scanned::Stopped,
        Some(end) if ws(b, end) == b.len() => {}
        _ => return Scanned::Unsure,
    }
    let mut out: [Option<&'a str>; N] = [None; N];
    for (i, ptr) in ptrs.iter().enumerate() {
        if ptr.0.is_empty() {
            continue;
        }
        let mut cur = top[i];
        for seg in &ptr.0[1..] {
            cur = match cur {
                Some((s, _)) if b[s] == b'{' => {
                    let mut inner: Found<1> = [None];
                    let Some(_) = object(b, s, &[Some(seg.as_bytes())], &mut inner, None) else {
                        return Scanned::Unsure;
                    };
                    inner[0]
                }
                _ => None,
            };
        }
        // The slices start and end on ASCII bytes, hence on character boundaries.
        out[i] = cur.map(|(s, e)| &text[s..e]);
    }
    Scanned::Found(out)
}

/// What [`object`] returns when its [`Stop`] said to stop (no object ends there).
const STOPPED: usize = usize::MAX;

/// The raw value of the member `key` of the object at the start of `text` (after
/// whitespace): `Some(None)` when it has no such member, `None` when the scanner leaves
/// the object to serde_json.
pub(super) fn member<'a>(text: &'a str, key: &str) -> Option<Option<&'a str>> {
    let b = text.as_bytes();
    let start = ws(b, 0);
    let mut found: Found<1> = [None];
    object(b, start, &[Some(key.as_bytes())], &mut found, None)?;
    // The slices start and end on ASCII bytes, hence on character boundaries.
    Some(found[0].map(|(s, e)| &text[s..e]))
}

#[inline]
fn ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// Whether two short byte strings are equal, without a call to `memcmp`. The first byte is
/// compared first: most keys of a message differ from a wanted key there (`type`, `data`).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.first() == b.first()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The object at `b[i] == '{'` whose keys are compared with `keys`: returns the index
/// after its `}`, and records in `found` the value of each wanted key (the last one when
/// a key repeats, as serde_json does). serde_json unescapes these keys to compare them:
/// an escaped key is left to it. Returns [`STOPPED`] where `stop` says so.
fn object<const N: usize>(
    b: &[u8],
    i: usize,
    keys: &Keys<'_, N>,
    found: &mut Found<N>,
    stop: Option<&Stop<'_>>,
) -> Option<usize> {
    let mut i = ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Some(i + 1);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let (key_end, escaped) = string(b, i)?;
        if escaped {
            return None;
        }
        let key = &b[i + 1..key_end - 1];
        i = ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = ws(b, i + 1);
        let end = skip(b, start)?;
        for (n, (slot, k)) in found.iter_mut().zip(keys).enumerate() {
            if k.is_some_and(|k| same(k, key)) {
                *slot = Some((start, end));
                if stop.is_some_and(|st| st.slot == n && st.test.stops(&b[start..end], &b[end..])) {
                    return Some(STOPPED);
                }
            }
        }
        i = ws(b, end);
        match b.get(i) {
            Some(b',') => i = ws(b, i + 1),
            Some(b'}') => return Some(i + 1),
            _ => return None,
        }
    }
}

/// The value starting at `b[i]` (no leading whitespace), validated: the index after it.
/// One loop over the tokens with the open containers as a bit stack (1 = object).
fn skip(b: &[u8], mut i: usize) -> Option<usize> {
    let mut stack: u64 = 0;
    let mut depth: u32 = 0;
    loop {
        // A value at b[i].
        match *b.get(i)? {
            b'"' => i = string(b, i)?.0,
            b'-' | b'0'..=b'9' => i = number(b, i)?,
            b't' => i = literal(b, i, b"true")?,
            b'f' => i = literal(b, i, b"false")?,
            b'n' => i = literal(b, i, b"null")?,
            open @ (b'{' | b'[') => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return None;
                }
                let is_object = open == b'{';
                stack = stack << 1 | u64::from(is_object);
                i = ws(b, i + 1);
                let close = if is_object { b'}' } else { b']' };
                if b.get(i) == Some(&close) {
                    i += 1;
                    depth -= 1;
                    stack >>= 1;
                } else {
                    if is_object {
                        i = key(b, i)?;
                    }
                    continue;
                }
            }
            _ => return None,
        }
        // After a value: a separator, or the ends of containers.
        loop {
            if depth == 0 {
                return Some(i);
            }
            i = ws(b, i);
            let in_object = stack & 1 == 1;
            match (b.get(i), in_object) {
                (Some(b','), true) => {
                    i = key(b, ws(b, i + 1))?;
                    break;
                }
                (Some(b','), false) => {
                    i = ws(b, i + 1);
                    break;
                }
                (Some(b'}'), true) | (Some(b']'), false) => {
                    i += 1;
                    depth -= 1;
                    stack >>= 1;
                }
                _ => return None,
            }
        }
    }
}

/// A key and its colon inside a skipped object, at `b[i]`: the index of the value.
/// serde_json only skips these keys, so escapes in them are fine.
#[inline]
fn key(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let i = ws(b, string(b, i)?.0);
    if b.get(i) != Some(&b':') {
        return None;
    }
    Some(ws(b, i + 1))
}

#[inline]
fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    (b.get(i..i + word.len())? == word).then_some(i + word.len())
}

/// The string at `b[i] == '"'`: the index after its closing quote, and whether it has
/// escapes. Control characters and unknown escapes are left to serde_json.
#[inline]
fn string(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        j = plain_run(b, j);
        match *b.get(j)? {
            b'"' => return Some((j + 1, escaped)),
            b'\\' => {
                escaped = true;
                match *b.get(j + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => j += 2,
                    b'u' if b.get(j + 2..j + 6)?.iter().all(u8::is_ascii_hexdigit) => j += 6,
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
}

/// An RFC 8259 number at `b[i]`: the index after it.
#[inline]
fn number(b: &[u8], i: usize) -> Option<usize> {
    let digits = |mut j: usize| {
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        j
    };
    let mut j = i + usize::from(b[i] == b'-');
    match *b.get(j)? {
        b'0' => j += 1,
        b'1'..=b'9' => j = digits(j + 1),
        _ => return None,
    }
    if b.get(j) == Some(&b'.') {
        let k = digits(j + 1);
        if k == j + 1 {
            return None;
        }
        j = k;
    }
    if let Some(b'e' | b'E') = b.get(j) {
        j += 1;
        if let Some(b'+' | b'-') = b.get(j) {
            j += 1;
        }
        let k = digits(j);
        if k == j {
            return None;
        }
        j = k;
    }
    Some(j)
}
