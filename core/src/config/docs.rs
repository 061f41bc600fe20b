//! The README's table of configuration fields, generated from the declaration in
//! `fields.rs`: a test fails when README.md or python/README.md holds another table.
//! `TRADEWIRE_WRITE_DOCS=1 cargo test -p tradewire --lib readme` writes the tables. Only
//! the tests use it.

use std::time::Duration;

use crate::backoff::BackoffKind;
use crate::delivery::Overflow;
use crate::preset::Preset;

use super::declare::Bytes;

/// The README's description of one field, from its declaration.
pub(crate) struct FieldDoc {
    /// The field's name in JSON, Python and the CLI's `--config` file.
    pub name: &'static str,
    /// The JSON value it takes.
    pub value: &'static str,
    /// Its default.
    pub default: DefaultDoc,
    /// The lines of its documentation comment.
    pub doc: &'static [&'static str],
}

/// A field's default as the README shows it.
pub(crate) enum DefaultDoc {
    /// Written out in the declaration.
    Text(&'static str),
    /// The preset's default, shown for each preset.
    PerPreset(fn(Preset) -> String),
}

/// A default value as the README shows it.
pub(crate) trait Shown {
    /// The README's text for this value.
    fn shown(&self) -> String;
}

impl Shown for Duration {
    fn shown(&self) -> String {
        let s = self.as_secs_f64();
        if s >= 120.0 && s % 60.0 == 0.0 {
            format!("{} min", s / 60.0)
        } else {
            format!("{s} s")
        }
    }
}

impl Shown for Bytes {
    fn shown(&self) -> String {
        match self.0 {
            n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
            n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
            n => format!("{n} bytes"),
        }
    }
}

impl Shown for usize {
    fn shown(&self) -> String {
        self.to_string()
    }
}

impl Shown for f64 {
    fn shown(&self) -> String {
        self.to_string()
    }
}

impl Shown for bool {
    fn shown(&self) -> String {
        self.to_string()
    }
}

impl Shown for &str {
    fn shown(&self) -> String {
        if self.is_empty() {
            // An empty code span does not render.
            return "`\"\"`".into();
        }
        format!("`{self}`")
    }
}

impl<T: Shown> Shown for Option<T> {
    fn shown(&self) -> String {
        self.as_ref()
            .map_or_else(|| "none".to_string(), Shown::shown)
    }
}

impl Shown for u32 {
    fn shown(&self) -> String {
        self.to_string()
    }
}

impl Shown for Vec<u16> {
    fn shown(&self) -> String {
        let codes: Vec<String> = self.iter().map(u16::to_string).collect();
        format!("[{}]", codes.join(", "))
    }
}

impl Shown for BackoffKind {
    fn shown(&self) -> String {
        match self {
            BackoffKind::Exponential => "`exponential`".into(),
            BackoffKind::Fixed => "`fixed`".into(),
        }
    }
}

impl Shown for crate::deflate::Compression {
    fn shown(&self) -> String {
        format!("`{}`", self.name())
    }
}

impl Shown for crate::sequence::SequenceScope {
    fn shown(&self) -> String {
        match self {
            crate::sequence::SequenceScope::Connection => "`connection`".into(),
            crate::sequence::SequenceScope::Session => "`session`".into(),
        }
    }
}

impl Shown for crate::sequence::OnGap {
    fn shown(&self) -> String {
        match self {
            crate::sequence::OnGap::Mark => "`mark`".into(),
            crate::sequence::OnGap::Reconnect => "`reconnect`".into(),
        }
    }
}

impl Shown for Overflow {
    fn shown(&self) -> String {
        match self {
            Overflow::Block => "`block`".into(),
            Overflow::DropOldest => "`drop_oldest`".into(),
            Overflow::DropNewest => "`drop_newest`".into(),
        }
    }
}

/// The default of `json`, then the presets whose default differs: `10 s (agent 30 s)`.
fn per_preset(default: fn(Preset) -> String) -> String {
    let base = default(Preset::Json);
    let others: Vec<String> = Preset::ALL[1..]
        .iter()
        .map(|p| (p.name(), default(*p)))
        .filter(|(_, v)| *v != base)
        .map(|(name, v)| format!("{name} {v}"))
        .collect();
    if others.is_empty() {
        base
    } else {
        format!("{base} ({})", others.join(", "))
    }
}

/// The first paragraph of a documentation comment, on one line.
fn first_paragraph(doc: &[&str]) -> String {
    let lines: Vec<&str> = doc
        .iter()
        .map(|l| l.trim())
        .take_while(|l| !l.is_empty())
        .collect();
    lines.join(" ")
}

/// The README's table of every configuration field, in schema order.
pub(crate) fn field_table(fields: &[FieldDoc]) -> String {
    let mut out = String::from("| field | value | default | meaning |\n|---|---|---|---|\n");
    for f in fields {
        let default = match &f.default {
            DefaultDoc::Text(t) => t.to_string(),
            DefaultDoc::PerPreset(d) => per_preset(*d),
        };
        let row = [
            format!("`{}`", f.name),
            f.value.to_string(),
            default,
            first_paragraph(f.doc),
        ]
        .map(|cell| cell.replace('|', "\\|"));
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

/// The line before the generated table.
pub(crate) const BEGIN: &str =
    "<!-- config-fields: generated from core/src/config/fields.rs by `TRADEWIRE_WRITE_DOCS=1 cargo test -p tradewire --lib readme`; do not edit -->";
/// The line after it.
pub(crate) const END: &str = "<!-- config-fields: end -->";

/// `text` with the part between the markers replaced by `table`; `None` without markers.
pub(crate) fn with_table(text: &str, table: &str) -> Option<String> {
    let start = text.find(BEGIN)? + BEGIN.len();
    let end = start + text[start..].find(END)?;
    Some(format!("{}\n{table}{}", &text[..start], &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_field_tables_match_the_declaration() {
        let table = field_table(super::super::fields::FIELD_DOCS);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for readme in ["README.md", "python/README.md"] {
            let path = root.join(readme);
            let text = std::fs::read_to_string(&path).unwrap();
            let wanted = with_table(&text, &table)
                .unwrap_or_else(|| panic!("{readme} has no `{BEGIN}` ... `{END}` block"));
            if std::env::var_os("TRADEWIRE_WRITE_DOCS").is_some() {
                std::fs::write(&path, &wanted).unwrap();
            } else {
                assert!(
                    text == wanted,
                    "the field table of {readme} differs from core/src/config/fields.rs; \
                     run `TRADEWIRE_WRITE_DOCS=1 cargo test -p tradewire --lib readme`"
                );
            }
        }
    }

    #[test]
    fn every_field_is_in_the_table_once() {
        let table = field_table(super::super::fields::FIELD_DOCS);
        for name in super::super::FIELDS {
            let row = format!("| `{name}` |");
            let rows = table.lines().filter(|l| l.starts_with(&row)).count();
            assert_eq!(rows, 1, "{name}");
        }
        assert_eq!(table.lines().count(), super::super::FIELDS.len() + 2);
    }

    #[test]
    fn the_table_goes_between_the_markers() {
        let text = format!("a\n{BEGIN}\nold\n{END}\nb\n");
        assert_eq!(
            with_table(&text, "new\n").unwrap(),
            format!("a\n{BEGIN}\nnew\n{END}\nb\n")
        );
        assert_eq!(with_table("no markers", "new\n"), None);
    }

    #[test]
    fn defaults_are_shown_per_preset() {
        let shown = per_preset(|p| p.defaults().heartbeat_interval.shown());
        assert_eq!(shown, "10 s (agent 30 s, breakout 30 s, tradovate 2.5 s)");
        assert_eq!(Bytes(16 << 20).shown(), "16 MiB");
        assert_eq!(Duration::from_secs(300).shown(), "5 min");
        assert_eq!(first_paragraph(&[" a", " b", "", " c"]), "a b");
    }
}
