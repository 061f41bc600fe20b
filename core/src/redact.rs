//! Keeps secrets out of every text that leaves the library, and makes text that a server
//! sent safe to put in a log line or an error.
//!
//! Every secret the library learns (a token, a password, `sec`, an access or market-data
//! token obtained at run time, a token query parameter, the password of a URL) is
//! registered here once, process-wide, in every form it can take in a text: raw,
//! percent-encoded (upper and lower case hex, RFC 3986, `encodeURIComponent` and form
//! encoding with `+` for a space), JSON-escaped (plain, with `\/`, and HTML-safe `\u0026`
//! style). [`scrub`] then replaces every run of at least [`WINDOW`] characters of any of those
//! forms by `<redacted>`, so a secret cut at a truncation boundary is caught as well as a
//! whole one. Text is always scrubbed first and truncated after ([`untrusted`]).
//!
//! Log lines go through the crate's `tw_*!` macros, which scrub the formatted text; errors
//! scrub when they are displayed, and lifecycle events when they are emitted.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::RwLock;

/// The shortest run of a secret's form that is recognised (a shorter form is matched whole).
pub const WINDOW: usize = 8;
/// Secrets shorter than this are not registered (they would match ordinary words).
const MIN_SECRET: usize = 3;
/// Forms kept at most; the oldest are forgotten past it (renewed tokens accumulate).
const MAX_FORMS: usize = 4096;

/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";

#[derive(Default)]
struct Registry {
    /// Every registered form, oldest first.
    forms: Vec<String>,
    /// Every `WINDOW`-byte run of every form at least `WINDOW` long.
    windows: HashSet<[u8; WINDOW]>,
    /// Forms shorter than `WINDOW`, matched whole.
    short: Vec<String>,
}

impl Registry {
    fn add_form(&mut self, form: String) {
        if form.len() < MIN_SECRET || self.forms.contains(&form) {
            return;
        }
        self.forms.push(form);
        if self.forms.len() > MAX_FORMS {
            let keep = self.forms.split_off(self.forms.len() - MAX_FORMS / 2);
            self.forms = keep;
            self.rebuild();
        } else if let Some(f) = self.forms.last().cloned() {
            self.index(&f);
        }
    }

    fn index(&mut self, form: &str) {
        let b = form.as_bytes();
        if b.len() >= WINDOW {
            for w in b.windows(WINDOW) {
                let mut key = [0u8; WINDOW];
                key.copy_from_slice(w);
                self.windows.insert(key);
            }
        } else {
            self.short.push(form.to_string());
        }
    }

    fn rebuild(&mut self) {
        self.windows.clear();
        self.short.clear();
        for f in std::mem::take(&mut self.forms) {
            self.index(&f);
            self.forms.push(f);
        }
    }
}

static REGISTRY: RwLock<Option<Registry>> = RwLock::new(None);

/// Registers a secret (in every form) so that [`scrub`] removes it from any text from now
/// on, in this process. Secrets shorter than 3 bytes are ignored. The library registers
/// the secrets of its configuration itself; an application registers its own (the CLI's
/// Redis password) before any text that might hold them is printed.
///
/// ```
/// tradewire::redact::register("app-secret-42");
/// assert_eq!(tradewire::redact::scrub("auth app-secret-42 failed"), "auth <redacted> failed");
/// ```
pub fn register(secret: &str) {
    if secret.len() < MIN_SECRET {
        return;
    }
    let forms = forms(secret);
    let mut guard = match REGISTRY.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let reg = guard.get_or_insert_with(Registry::default);
    for f in forms {
        reg.add_form(f);
    }
}

/// Every form a secret can take in a text: raw, percent-encoded, form-encoded, JSON-escaped.
/// Pure.
///
/// ```
/// let forms = tradewire::redact::forms("a b+c");
/// assert!(forms.contains(&"a%20b%2Bc".to_string()));
/// assert!(forms.contains(&"a+b%2bc".to_string()));
/// ```
pub fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    // RFC 3986 (everything but unreserved), encodeURIComponent (also keeps !'()*), Python's
    // quote (also keeps /), each with a space as %20 or + (form encoding).
    let keep_sets: [&[u8]; 3] = [b"-._~", b"-._~!'()*", b"-._~/"];
    for keep in keep_sets {
        for plus in [false, true] {
            for upper in [true, false] {
                out.push(percent(secret, keep, plus, upper));
            }
        }
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or("")
        .to_string();
    out.push(json.replace('/', "\\/"));
    out.push(
        json.replace('&', "\\u0026")
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('\'', "\\u0027")
            .replace('=', "\\u003d")
            .replace('+', "\\u002b"),
    );
    out.push(json);
    // Rust's and Python's repr of a string escape the same characters as JSON here, or
    // none that a secret holds; a Debug form would add nothing.
    out.sort();
    out.dedup();
    out
}

fn percent(s: &str, keep: &[u8], plus: bool, upper: bool) -> String {
    const HEX_UP: &[u8; 16] = b"0123456789ABCDEF";
    const HEX_LOW: &[u8; 16] = b"0123456789abcdef";
    let hex = if upper { HEX_UP } else { HEX_LOW };
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else if b == b' ' && plus {
            out.push('+');
        } else {
            out.push('%');
            out.push(hex[(b >> 4) as usize] as char);
            out.push(hex[(b & 15) as usize] as char);
        }
    }
    out
}

/// Replaces every run of a registered secret (any form, any run of at least [`WINDOW`]
/// characters, or a whole shorter form) by `<redacted>`.
///
/// ```
/// // Nothing registered in this doc test: the text comes back as it was.
/// assert_eq!(tradewire::redact::scrub("plain text"), "plain text");
/// ```
pub fn scrub(text: &str) -> Cow<'_, str> {
    let guard = match REGISTRY.read() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    match guard.as_ref() {
        Some(reg) if !reg.forms.is_empty() => scrub_with(reg, text),
        _ => Cow::Borrowed(text),
    }
}

fn scrub_with<'t>(reg: &Registry, text: &'t str) -> Cow<'t, str> {
    let b = text.as_bytes();
    let mut hit = vec![false; b.len()];
    let mut any = false;
    if b.len() >= WINDOW && !reg.windows.is_empty() {
        let mut key = [0u8; WINDOW];
        for i in 0..=b.len() - WINDOW {
            key.copy_from_slice(&b[i..i + WINDOW]);
            if reg.windows.contains(&key) {
                hit[i..i + WINDOW].iter_mut().for_each(|h| *h = true);
                any = true;
            }
        }
    }
    for f in &reg.short {
        for (i, _) in text.match_indices(f.as_str()) {
            hit[i..i + f.len()].iter_mut().for_each(|h| *h = true);
            any = true;
        }
    }
    if !any {
        return Cow::Borrowed(text);
    }
    // Whole characters only: a character any byte of which is hit is hit.
    let mut out = String::with_capacity(text.len());
    let mut in_hit = false;
    for (start, c) in text.char_indices() {
        if hit[start..start + c.len_utf8()].contains(&true) {
            if !in_hit {
                out.push_str(REDACTED);
                in_hit = true;
            }
        } else {
            in_hit = false;
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Escapes control characters (C0, DEL, C1, line and paragraph separators, bidirectional
/// overrides) so that a text can never start a new log line or rewrite a terminal: `\n`,
/// `\r`, `\t`, and `\u{..}` for the others. Pure.
///
/// ```
/// assert_eq!(tradewire::redact::escape_controls("a\r\nINFO forged\x1b[2J"), "a\\r\\nINFO forged\\u{1b}[2J");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Cuts a text to at most `limit` bytes at a character boundary, saying how much was left
/// out. Pure.
pub fn truncate(text: &str, limit: usize) -> Cow<'_, str> {
    if text.len() <= limit {
        return Cow::Borrowed(text);
    }
    let mut end = limit;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!(
        "{}… ({} more bytes)",
        &text[..end],
        text.len() - end
    ))
}

/// Makes text that a server sent fit for a log line or an error: known secrets scrubbed
/// first, control characters escaped, then cut to `limit` bytes.
pub fn untrusted(text: &str, limit: usize) -> String {
    let scrubbed = scrub(text);
    let escaped = escape_controls(&scrubbed);
    truncate(&escaped, limit).into_owned()
}

/// Logs through `log` with the formatted text scrubbed of every registered secret. The crate
/// logs only through these (a test checks it), so a new log line cannot leak.
macro_rules! tw_log {
    ($level:expr, $($arg:tt)+) => {
        if log::log_enabled!($level) {
            let text = format!($($arg)+);
            log::log!($level, "{}", $crate::redact::scrub(&text));
        }
    };
}

macro_rules! tw_error { ($($arg:tt)+) => { tw_log!(log::Level::Error, $($arg)+) }; }
macro_rules! tw_warn { ($($arg:tt)+) => { tw_log!(log::Level::Warn, $($arg)+) }; }
macro_rules! tw_info { ($($arg:tt)+) => { tw_log!(log::Level::Info, $($arg)+) }; }
macro_rules! tw_debug { ($($arg:tt)+) => { tw_log!(log::Level::Debug, $($arg)+) }; }

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(secrets: &[&str]) -> Registry {
        let mut r = Registry::default();
        for s in secrets {
            for f in forms(s) {
                r.add_form(f);
            }
        }
        r
    }

    #[test]
    fn every_form_is_scrubbed() {
        let secret = "pA5s+w/o=rd%&!' x";
        let r = reg(&[secret]);
        for f in forms(secret) {
            let text = format!("before {f} after");
            let out = scrub_with(&r, &text);
            assert_eq!(out, "before <redacted> after", "form {f}");
        }
    }

    #[test]
    fn a_cut_secret_is_scrubbed_too() {
        let secret = "tok+EN/abc=def123456";
        let r = reg(&[secret]);
        let cut = &secret[..10];
        assert_eq!(scrub_with(&r, &format!("body: {cut}")), "body: <redacted>");
        let tail = &secret[7..];
        assert_eq!(scrub_with(&r, &format!("{tail} end")), "<redacted> end");
        // Seven characters are not enough to be recognised.
        assert_eq!(scrub_with(&r, "tok+EN/"), "tok+EN/");
    }

    #[test]
    fn short_secrets_are_matched_whole_and_text_is_kept() {
        let r = reg(&["abc1"]);
        assert_eq!(scrub_with(&r, "x abc1 y abc"), "x <redacted> y abc");
        assert!(matches!(scrub_with(&r, "nothing"), Cow::Borrowed(_)));
    }

    #[test]
    fn multibyte_text_stays_valid() {
        let r = reg(&["é-secret-é-long"]);
        let out = scrub_with(&r, "ü é-secret-é-long ü");
        assert_eq!(out, "ü <redacted> ü");
        let out = scrub_with(&r, "€€secret-é-long€€");
        assert_eq!(out, "€€<redacted>€€");
    }

    /// Every log line of the crate goes through the scrubbing macros: a direct `log::warn!`
    /// (or any level) outside doc comments fails this test.
    #[test]
    fn the_crate_logs_only_through_the_scrubbing_macros() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("redact.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (n, line) in text.lines().enumerate() {
                        let code = line.trim_start();
                        if code.starts_with("//") {
                            continue;
                        }
                        for level in ["error", "warn", "info", "debug", "trace", "log"] {
                            if code.contains(&format!("log::{level}!")) {
                                found.push(format!("{}:{}: {code}", path.display(), n + 1));
                            }
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(
            found.is_empty(),
            "log through tw_error!/tw_warn!/tw_info!/tw_debug! (they scrub secrets):\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn controls_are_escaped_and_truncation_comes_last() {
        assert_eq!(
            escape_controls("a\u{2028}b\u{202e}"),
            "a\\u{2028}b\\u{202e}"
        );
        assert_eq!(escape_controls("tab\tok"), "tab\\tok");
        assert!(matches!(escape_controls("plain"), Cow::Borrowed(_)));
        assert_eq!(truncate("ééé", 3), "é… (4 more bytes)");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
