//! The values of options: accounts, lists, numbers, headers, query parameters, and the
//! nearest valid word for a misspelled one.

use std::fmt;

use super::{usage, Account, Topic, UsageError};

pub(super) fn non_empty<'a>(t: Topic, name: &str, v: &'a str) -> Result<&'a str, UsageError> {
    if v.trim().is_empty() {
        Err(usage(t, format!("option '{name}' needs a non-empty value")))
    } else {
        Ok(v)
    }
}

/// A value that must be JSON text (kept as typed, checked here so that a typo is a usage
/// error, not a message the server refuses).
pub(super) fn parse_json(t: Topic, name: &str, v: &str) -> Result<String, UsageError> {
    match serde_json::from_str::<serde_json::Value>(v) {
        Ok(_) => Ok(v.to_string()),
        Err(e) => Err(usage(
            t,
            format!("option '{name}' needs JSON, e.g. {name} '{{\"type\":\"subscribe\"}}' ({e})"),
        )),
    }
}

/// `123` is a number, anything else non-empty is a text id.
pub fn parse_account(t: Topic, v: &str) -> Result<Account, UsageError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(usage(
            t,
            "option '--account' needs an account id, e.g. --account 123",
        ));
    }
    Ok(match v.parse::<i64>() {
        Ok(n) => Account::Number(n),
        Err(_) => Account::Text(v.to_string()),
    })
}

/// A comma-separated list; blanks are dropped, an empty list is an error.
pub(super) fn parse_list(t: Topic, name: &str, v: &str) -> Result<Vec<String>, UsageError> {
    let items: Vec<String> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if items.is_empty() {
        return Err(usage(
            t,
            format!("option '{name}' needs a comma-separated list, e.g. {name} a,b"),
        ));
    }
    Ok(items)
}

pub(super) fn parse_number<N: std::str::FromStr + PartialOrd + fmt::Display + Copy + From<u8>>(
    t: Topic,
    name: &str,
    v: &str,
    min: u8,
) -> Result<N, UsageError> {
    match v.trim().parse::<N>() {
        Ok(n) if n >= N::from(min) => Ok(n),
        _ => Err(usage(
            t,
            format!("bad {name} '{v}': expected a whole number of at least {min}"),
        )),
    }
}

/// `NAME:VALUE` (spaces around the value are trimmed). The value is never echoed in errors:
/// headers often carry secrets.
pub fn parse_header(v: &str) -> Result<(String, String), UsageError> {
    let bad = |why: &str| {
        usage(
            Topic::Listen,
            format!("bad --header: {why}; expected NAME:VALUE, e.g. --header 'X-Api-Key: abc'"),
        )
    };
    let (name, value) = v.split_once(':').ok_or_else(|| bad("there is no ':'"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("the header name is empty"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err(bad(&format!(
            "'{name}' is not a valid header name (letters, digits and - only)"
        )));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// `KEY=VALUE`; the value may be empty. The value is never echoed in errors.
pub fn parse_query(v: &str) -> Result<(String, String), UsageError> {
    let bad = |why: &str| {
        usage(
            Topic::Listen,
            format!("bad --query: {why}; expected KEY=VALUE, e.g. --query agentId=a1"),
        )
    };
    let (key, value) = v.split_once('=').ok_or_else(|| bad("there is no '='"))?;
    if key.trim().is_empty() {
        return Err(bad("the key is empty"));
    }
    Ok((key.trim().to_string(), value.to_string()))
}

/// The candidate closest to `input`, if it is close enough to be a typo, compared without
/// their leading dashes (the rule is the core's: [`tradewire::suggest`]).
pub fn suggest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let bare = |s: &'a str| s.trim_start_matches('-');
    let found = tradewire::suggest(
        input.trim_start_matches('-'),
        candidates.iter().map(|c| bare(c)),
    )?;
    candidates.iter().copied().find(|c| bare(c) == found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::COMMANDS;

    #[test]
    fn accounts() {
        let t = Topic::Listen;
        assert_eq!(parse_account(t, "123").unwrap(), Account::Number(123));
        assert_eq!(parse_account(t, " -7 ").unwrap(), Account::Number(-7));
        assert_eq!(
            parse_account(t, "ACC-1").unwrap(),
            Account::Text("ACC-1".into())
        );
        assert!(parse_account(t, " ").is_err());
        assert_eq!(Account::Number(5).to_json(), serde_json::json!(5));
        assert_eq!(Account::Text("x".into()).to_json(), serde_json::json!("x"));
    }

    #[test]
    fn headers_and_queries() {
        assert_eq!(
            parse_header("Authorization: Bearer xyz").unwrap(),
            ("Authorization".into(), "Bearer xyz".into())
        );
        let e = parse_header("Authorization=Bearer secret-value").unwrap_err();
        assert!(e.message.contains("no ':'"), "{e}");
        assert!(!e.to_string().contains("secret-value"));
        assert!(parse_header(": v")
            .unwrap_err()
            .message
            .contains("name is empty"));
        assert!(parse_header("Bad Name: v")
            .unwrap_err()
            .message
            .contains("not a valid header name"));
        assert_eq!(parse_query("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_query("novalue")
            .unwrap_err()
            .message
            .contains("no '='"));
        assert!(parse_query("=v")
            .unwrap_err()
            .message
            .contains("key is empty"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("--acount", &["--account", "--types"]),
            Some("--account")
        );
        assert_eq!(suggest("mock", &COMMANDS), None);
        assert_eq!(suggest("mockserver", &COMMANDS), Some("mock-server"));
        assert_eq!(suggest("--zzzzzz", &["--account"]), None);
    }
}
