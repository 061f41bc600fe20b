//! Splitting the arguments after the command into flags (with their values) and
//! positionals, checked against the flags the command accepts.

use super::{suggest, usage, Topic, UsageError};

/// One argument after the command: a flag with its value (if it takes one) or a positional.
#[derive(Debug, PartialEq)]
pub(super) enum Arg<'a> {
    Flag(&'static str, Option<&'a str>),
    Positional(&'a str),
}

/// A flag a command accepts: its long name, an optional short alias, and whether it takes a
/// value.
pub(super) struct FlagSpec {
    pub(super) long: &'static str,
    pub(super) short: Option<&'static str>,
    pub(super) takes_value: bool,
}

pub(super) const fn flag(long: &'static str, takes_value: bool) -> FlagSpec {
    FlagSpec {
        long,
        short: None,
        takes_value,
    }
}

const HELP_FLAG: FlagSpec = FlagSpec {
    long: "--help",
    short: Some("-h"),
    takes_value: false,
};

/// Splits arguments into flags (`--name value`, `--name=value`) and positionals; `--` ends
/// the flags.
pub(super) fn tokenize<'a>(
    args: &[&'a str],
    specs: &[FlagSpec],
    topic: Topic,
) -> Result<Vec<Arg<'a>>, UsageError> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut only_positionals = false;
    while i < args.len() {
        let a = args[i];
        i += 1;
        if only_positionals || a == "-" || !a.starts_with('-') {
            out.push(Arg::Positional(a));
            continue;
        }
        if a == "--" {
            only_positionals = true;
            continue;
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (a, None),
        };
        let Some(spec) = specs
            .iter()
            .chain(std::iter::once(&HELP_FLAG))
            .find(|s| s.long == name || s.short == Some(name))
        else {
            let longs: Vec<&str> = specs.iter().map(|s| s.long).collect();
            let hint = suggest(name, &longs)
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            return Err(usage(
                topic,
                format!("unknown option '{name}' for '{}'{hint}", topic.invocation()),
            ));
        };
        if spec.takes_value {
            let value = match inline {
                Some(v) => v,
                None => match args.get(i) {
                    Some(v) => {
                        i += 1;
                        v
                    }
                    None => {
                        return Err(usage(
                            topic,
                            format!("option '{}' needs a value", spec.long),
                        ))
                    }
                },
            };
            out.push(Arg::Flag(spec.long, Some(value)));
        } else {
            if inline.is_some() {
                return Err(usage(
                    topic,
                    format!("option '{}' does not take a value", spec.long),
                ));
            }
            out.push(Arg::Flag(spec.long, None));
        }
    }
    Ok(out)
}
