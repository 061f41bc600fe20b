//! JSON string text, for the scanner that reads it and the writers that write it: where a
//! string's plain run ends (eight bytes at a time), and a string written escaped exactly as
//! serde_json escapes it. Pure.

use std::fmt::Write;

/// Bytes that end the plain run of a string: `"`, `\` and control characters.
static STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The index of the first byte at or after `j` that ends a string's plain run (see
/// [`STOP`]), or `b.len()`. Eight bytes at a time: a byte is flagged when it equals `"`
/// or `\`, or is below 0x20; the lowest flagged byte of a word is always a real one.
#[inline]
pub(crate) fn plain_run(b: &[u8], mut j: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(j..j + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let hits = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | w.wrapping_sub(ONES * 0x20) & !w)
            & HIGH;
        if hits != 0 {
            return j + (hits.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < b.len() && !STOP[b[j] as usize] {
        j += 1;
    }
    j
}

/// `s` as a JSON string, escaped as serde_json escapes it (`\"`, `\\`, `\n`, `\r`, `\t`,
/// `\b`, `\f`, other control characters as `\u00xx`), appended to `out`. Plain runs are
/// found eight bytes at a time and copied whole.
pub(crate) fn push_str(out: &mut String, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push('"');
    // `plain..` is copied as it is up to the next byte that needs escaping. A `"` or `\`
    // only needs a backslash before it and then starts the next run: one copy per escape.
    let mut plain = 0;
    let mut from = 0;
    loop {
        let stop = plain_run(b, from);
        // `stop` is at an ASCII byte or the end: both slices end on character boundaries.
        out.push_str(s.get(plain..stop).unwrap_or_default());
        let Some(&c) = b.get(stop) else { break };
        plain = stop + 1;
        from = stop + 1;
        match c {
            b'"' | b'\\' => {
                out.push('\\');
                plain = stop;
            }
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                let _ = write!(out, "\\u{c:04x}");
            }
        }
    }
    out.push('"');
}

/// `n` in decimal, appended to `out` (without the formatting machinery of `write!`, which
/// cost a recorded frame about 700 instructions for its two numbers).
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let all: String = (0u8..0x80).map(char::from).collect();
        for s in [
            "",
            "plain",
            "a \"q\" \\ b",
            "caf\u{e9} \u{2603} \u{1f600}",
            &all,
        ] {
            let mut out = String::new();
            push_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn numbers_in_decimal() {
        for n in [0, 7, 10, 999, 1_234_567_890, u64::MAX] {
            let mut out = String::from("x");
            push_u64(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }

    #[test]
    fn long_runs_and_escapes_at_every_offset_of_a_word() {
        for at in 0..20 {
            for special in ["\"", "\\", "\n", "\u{1}", "\u{7f}", "\u{e9}"] {
                let s = format!("{}{special}{}", "a".repeat(at), "b".repeat(at % 9));
                let mut out = String::new();
                push_str(&mut out, &s);
                assert_eq!(out, serde_json::to_string(&s).unwrap(), "{s:?}");
                let stops = ["\"", "\\", "\n", "\u{1}"].contains(&special);
                let end = if stops { at } else { s.len() };
                assert_eq!(plain_run(s.as_bytes(), 0), end, "{s:?}");
            }
        }
    }
}
