//! The reference path of [`super::parse`]: serde_json finds the pointers' raw values in one
//! pass over each object a pointer enters. Used when the scanner (`scan`) is not sure, and
//! by the property test that checks the scanner against it.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::Pointer;

/// Finds the pointers in one pass over the top-level object (and a pass over each nested
/// object a longer pointer enters).
pub(super) fn lookup<'a, const N: usize>(
    text: &'a str,
    ptrs: [&Pointer; N],
) -> Result<[Option<&'a RawValue>; N], serde_json::Error> {
    let mut found: [Option<&'a RawValue>; N] = [None; N];
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
///
/// Keys are compared as serde_json unescapes them without decoding them into a `str`, so
/// that a key with a lone surrogate escape (`"\ud800"`, which `json.loads` reads) is read
/// like any other member, as it is when the scanner skips it. That reading does not refuse
/// raw control characters in a key: serde_json's validating skip checks the text first.
pub(super) fn find_keys<'a>(
    text: &'a str,
    keys: &[Option<&str>],
) -> Result<Vec<Option<&'a RawValue>>, serde_json::Error> {
    serde_json::from_str::<IgnoredAny>(text)?;
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
        d.deserialize_bytes(self)
    }
}

impl Visitor<'_> for KeyMatch<'_> {
    type Value = u32;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u32, E> {
        self.visit_bytes(v.as_bytes())
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<u32, E> {
        let mut bits = 0u32;
        for (i, k) in self.keys.iter().enumerate() {
            if k.map(str::as_bytes) == Some(v) {
                bits |= 1 << i;
            }
        }
        Ok(bits)
    }
}
