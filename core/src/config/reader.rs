//! The JSON reader: turns a JSON object into a `Config`, collecting a problem per field
//! instead of stopping at the first. Which field is read how is declared in `fields.rs`;
//! here are the readers those declarations name.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Credentials, FIELDS};
use crate::error::FieldError;

/// The `{protocol, host, port, rejectUnauthorized, connectTimeout}` options of document 004.
#[derive(Clone, Default, Debug)]
pub(crate) struct Metis {
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub connect_timeout_ms: Option<f64>,
    /// One of `protocol`, `host` or `port` was given (even with a bad value).
    pub any: bool,
}

/// Collects field errors while reading a JSON configuration.
#[derive(Default)]
pub(crate) struct Reader {
    pub errors: Vec<FieldError>,
}

impl Reader {
    pub(crate) fn push(&mut self, field: &str, message: String) {
        self.errors.push(FieldError {
            field: field.to_string(),
            message,
        });
    }

    pub(crate) fn get<T: DeserializeOwned>(
        &mut self,
        field: &str,
        v: Value,
        expected: &str,
    ) -> Option<T> {
        match serde_json::from_value::<T>(v.clone()) {
            Ok(t) => Some(t),
            Err(_) => {
                self.push(field, format!("expected {expected}, got {}", describe(&v)));
                None
            }
        }
    }

    pub(crate) fn secs(&mut self, field: &str, v: Value) -> Option<Duration> {
        match v.as_f64() {
            Some(s) if (0.0..1e9).contains(&s) => Some(Duration::from_secs_f64(s)),
            _ => {
                self.push(
                    field,
                    format!(
                        "expected a duration in seconds (a number >= 0), got {}",
                        describe(&v)
                    ),
                );
                None
            }
        }
    }

    pub(crate) fn size(&mut self, field: &str, v: Value) -> Option<usize> {
        self.get::<u64>(field, v, "a whole number of bytes")
            .map(|n| n.min(usize::MAX as u64) as usize)
    }

    pub(crate) fn string_map(&mut self, field: &str, v: Value) -> Option<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match v {
                        Value::String(s) => {
                            out.insert(k, s);
                        }
                        Value::Number(n) => {
                            out.insert(k, n.to_string());
                        }
                        Value::Bool(b) => {
                            out.insert(k, b.to_string());
                        }
                        other => self.push(
                            field,
                            format!(
                                "the value of `{k}` must be a string, got {}",
                                describe(&other)
                            ),
                        ),
                    }
                }
            }
            Value::Null => {}
            other => self.push(
                field,
                format!("expected an object of strings, got {}", describe(&other)),
            ),
        }
        Some(out)
    }

    pub(crate) fn credentials(&mut self, field: &str, v: Value) -> Option<Credentials> {
        match serde_json::from_value::<Credentials>(v) {
            Ok(cr) => Some(cr),
            Err(e) => {
                self.push(
                    field,
                    format!("expected {{name, password, appId, appVersion, sec, cid}}: {e}"),
                );
                None
            }
        }
    }

    /// `on_connect`: one message or a list; a JSON object is sent as its JSON text.
    pub(crate) fn messages(&mut self, field: &str, v: Value) -> Option<Vec<String>> {
        let items = match v {
            Value::Array(a) => a,
            other => vec![other],
        };
        let mut out = Vec::new();
        for item in items {
            match item {
                Value::String(s) => out.push(s),
                Value::Object(_) | Value::Array(_) => out.push(item.to_string()),
                other => self.push(
                    field,
                    format!(
                        "each message must be a string or a JSON object, got {}",
                        describe(&other)
                    ),
                ),
            }
        }
        Some(out)
    }
}

/// The known field closest to a misspelled one, if it is close enough.
pub(super) fn closest(name: &str) -> Option<&'static str> {
    crate::suggest::suggest(name, FIELDS.iter().copied())
}

/// What kind of JSON value `v` is, for error messages.
pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A short description of a value for error messages (never long).
fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.len() <= 40 => format!("the string {s:?}"),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("{b}"),
        other => kind_of(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_means_the_default_even_for_an_unknown_field() {
        let map = serde_json::json!({"url": null, "nope": null, "ping_type": null});
        let Value::Object(map) = map else { panic!() };
        let (c, errors) = super::super::fields::read(map);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((c.url, c.ping_type), (None, Some(None)));
    }

    #[test]
    fn a_misspelled_field_gets_the_closest_name() {
        assert_eq!(closest("heartbeat_intervall"), Some("heartbeat_interval"));
        assert_eq!(closest("rejectunauthorized"), Some("rejectUnauthorized"));
        assert_eq!(closest("something_else_entirely"), None);
    }
}
