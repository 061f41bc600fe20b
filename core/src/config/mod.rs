//! `Config`: everything a connection needs, one schema for Rust, Python and C.
//!
//! Rust code uses the builder methods; Python passes keyword arguments and C passes a JSON
//! string, both of which go through [`Config::from_value`]. Unset fields take the preset's
//! defaults. Validation reports every problem at once, each with its field name.
//!
//! Every field is declared once, in `fields.rs`; the builder, the JSON reader, [`FIELDS`]
//! and the field table of the README come from that declaration.
//!
//! ```
//! use std::time::Duration;
//! use tradewire::{Config, Preset};
//! let config = Config::new("ws://localhost:8765")
//!     .preset(Preset::Daemon)
//!     .account_id(123)
//!     .heartbeat_timeout(Duration::from_secs(20));
//! assert!(config.validate().is_ok());
//!
//! let from_json = Config::from_json(r#"{"url": "ws://localhost:8765", "preset": "daemon", "account_id": 123}"#).unwrap();
//! assert!(from_json.validate().is_ok());
//!
//! let err = Config::from_json(r#"{"heartbeat_intervall": 5, "jitter": "lots"}"#).unwrap_err();
//! assert!(err.to_string().contains("heartbeat_intervall"));
//! assert!(err.to_string().contains("jitter"));
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::preset::Preset;
use crate::url::{is_sensitive_name, redact_url};

#[macro_use]
mod declare;
#[cfg(test)]
mod docs;
mod environment;
mod field_readers;
mod fields;
mod reader;
mod resolve;
mod settings;
mod target;
mod tradovate;
mod view;

pub use fields::{Config, FIELDS};
pub use view::ConfigView;
pub(crate) use settings::Settings;

/// A secret string (token, password). Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret value. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Tradovate credentials for the access-token request (reference 000). As in the document's
/// configuration, `appVersion` is `"1.0"` and `cid` is `0` when not given.
#[derive(Clone, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// User name.
    pub name: String,
    /// Password.
    pub password: Secret,
    /// Application id.
    #[serde(default, rename = "appId", alias = "app_id")]
    pub app_id: String,
    /// Application version (default `"1.0"`).
    #[serde(
        default = "default_app_version",
        rename = "appVersion",
        alias = "app_version"
    )]
    pub app_version: String,
    /// API secret.
    #[serde(default)]
    pub sec: Secret,
    /// Client id (default `0`).
    #[serde(default = "default_cid")]
    pub cid: serde_json::Value,
    /// Device id (optional).
    #[serde(default, rename = "deviceId", alias = "device_id")]
    pub device_id: Option<String>,
}

/// Document 000's `appVersion` when none is given.
fn default_app_version() -> String {
    "1.0".into()
}

/// Document 000's `cid` when none is given.
fn default_cid() -> serde_json::Value {
    0.into()
}

impl Default for Credentials {
    /// No name or password; `appVersion` `"1.0"` and `cid` `0`, as the document's defaults.
    fn default() -> Credentials {
        Credentials {
            name: String::new(),
            password: Secret::default(),
            app_id: String::new(),
            app_version: default_app_version(),
            sec: Secret::default(),
            cid: default_cid(),
            device_id: None,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("name", &self.name)
            .field("password", &self.password)
            .field("app_id", &self.app_id)
            .field("app_version", &self.app_version)
            .field("sec", &self.sec)
            .field("cid", &self.cid)
            .finish()
    }
}

impl Config {
    /// A configuration for `url` with the default (`json`) preset.
    pub fn new(url: impl Into<String>) -> Config {
        Config::default().url(url)
    }

    /// A configuration that takes its URL from the preset's default.
    pub fn for_preset(preset: Preset) -> Config {
        Config::default().preset(preset)
    }

    /// The preset: the one given, else `metis` when the document 004 options (`protocol`,
    /// `host`, `port`) are given, else `json`.
    pub fn get_preset(&self) -> Preset {
        match self.preset {
            Some(p) => p,
            // Document 004's options are that document's client: its messages too.
            None if self.metis.any => Preset::Metis,
            None => Preset::default(),
        }
    }

    /// Parses a JSON configuration (the C ABI's form). See [`Config::from_value`].
    pub fn from_json(json: &str) -> Result<Config> {
        let value: Value = serde_json::from_str(json).map_err(|e| {
            Error::config(
                "(config)",
                format!("the configuration is not valid JSON: {e}"),
            )
            .with_source(e)
        })?;
        Config::from_value(value)
    }

    /// Reads a configuration from a JSON object. Unknown fields and values of the wrong type
    /// are all reported at once, each with its field name. Durations are in seconds
    /// (`connectTimeout` of document 004 is in milliseconds, clamped to 1000..=60000).
    pub fn from_value(value: Value) -> Result<Config> {
        let map = match value {
            Value::Object(m) => m,
            other => {
                return Err(Error::config(
                    "(config)",
                    format!(
                        "the configuration must be a JSON object, got {}",
                        reader::kind_of(&other)
                    ),
                ))
            }
        };
        let (c, mut errors) = fields::read(map);
        if errors.is_empty() {
            return Ok(c);
        }
        // Unknown fields and unreadable values must not hide the other problems: check the
        // values that were read too, and report the problems of fields not yet reported.
        if let Err(e) = c.resolve() {
            for p in e.problems().iter().cloned() {
                if !errors.iter().any(|e| e.field == p.field) {
                    errors.push(p);
                }
            }
        }
        Err(Error::invalid_config(errors))
    }

    /// Checks the configuration without creating a client.
    pub fn validate(&self) -> Result<()> {
        self.resolve().map(|_| ())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact_map = |m: &Option<BTreeMap<String, String>>| -> BTreeMap<String, String> {
            m.iter()
                .flatten()
                .map(|(k, v)| {
                    let hide = is_sensitive_name(k) || Some(k) == self.token_query_param.as_ref();
                    (
                        k.clone(),
                        if hide {
                            "<redacted>".to_string()
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect()
        };
        f.debug_struct("Config")
            .field("url", &self.url.as_deref().map(|u| redact_url(u, &[])))
            .field("proxy", &self.proxy.as_deref().map(|u| redact_url(u, &[])))
            .field("preset", &self.preset)
            .field("account_id", &self.account_id)
            .field("types", &self.types)
            .field("token", &self.token)
            .field("token_query_param", &self.token_query_param)
            .field(
                "auth_message",
                &self.auth_message.as_ref().map(|_| "<redacted>"),
            )
            .field("query", &redact_map(&self.query))
            .field("headers", &redact_map(&self.headers))
            .field("credentials", &self.credentials)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("heartbeat_timeout", &self.heartbeat_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("reconnect", &self.reconnect)
            .field("overflow", &self.overflow)
            .field("queue_capacity", &self.queue_capacity)
            .finish_non_exhaustive()
    }
}

impl<'de> serde::Deserialize<'de> for Config {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Config::from_value(v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let err = Config::from_value(json!({
            "url": 5, "jitter": "lots", "heartbeat_intervall": 1, "overflow": "sometimes", "preset": "nope"
        }))
        .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorCategory::Config);
        let problems = err.problems();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for f in ["url", "jitter", "heartbeat_intervall", "overflow", "preset"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        let typo = problems
            .iter()
            .find(|p| p.field == "heartbeat_intervall")
            .unwrap();
        assert!(
            typo.message.contains("heartbeat_interval"),
            "{}",
            typo.message
        );
    }

    #[test]
    fn unknown_fields_do_not_hide_bad_values() {
        let err = Config::from_json(r#"{"url":"http://x","queue_capacity":0,"jitter":7,"nope":1}"#)
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorCategory::Config);
        let problems = err.problems();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["nope", "url", "jitter", "queue_capacity"]);
        assert_eq!(problems[0].message, "unknown field", "no far-fetched hint");
    }

    #[test]
    fn null_and_lists() {
        let c = Config::from_value(json!({
            "url": "ws://h", "max_reconnect_attempts": null, "on_connect": [{"type": "subscribe"}, "hello"],
            "account_id": "123", "types": ["a"], "headers": {"X-Api-Key": "k", "X-Id": 1}
        }))
        .unwrap();
        let s = c.resolve().unwrap();
        assert_eq!(s.max_reconnect_attempts, None);
        assert_eq!(
            s.on_connect,
            [r#"{"type":"subscribe"}"#.to_string(), "hello".to_string()]
        );
        assert!(!format!("{c:?}").contains("\"k\""));
        assert!(Config::from_value(json!([])).is_err());
        assert!(Config::from_json("{")
            .unwrap_err()
            .to_string()
            .contains("not valid JSON"));
    }

    #[test]
    fn the_builder_and_the_json_reader_give_the_same_configuration() {
        let built = Config::new("ws://h/ws")
            .preset(Preset::Agent)
            .account_id(7)
            .types(["a", "b"])
            .token("t0k3n-builder")
            .query("q", "1")
            .header("X-A", "b")
            .on_connect("hello")
            .heartbeat_interval(std::time::Duration::from_secs(5))
            .max_reconnect_attempts(None)
            .ping_type(None)
            .max_frame_size(4096)
            .resolve()
            .unwrap();
        let read = Config::from_value(json!({
            "url": "ws://h/ws", "preset": "agent", "account_id": 7, "types": ["a", "b"],
            "token": "t0k3n-builder", "query": {"q": "1"}, "headers": {"X-A": "b"},
            "on_connect": "hello", "heartbeat_interval": 5, "max_reconnect_attempts": null,
            "ping_type": null, "max_frame_size": 4096
        }))
        .unwrap()
        .resolve()
        .unwrap();
        assert_eq!(format!("{built:?}"), format!("{read:?}"));
        assert_eq!(
            (built.url, built.headers, built.types, built.on_connect),
            (read.url, read.headers, read.types, read.on_connect)
        );
        assert_eq!(
            (
                built.heartbeat_interval,
                built.max_reconnect_attempts,
                built.ping_type
            ),
            (
                read.heartbeat_interval,
                read.max_reconnect_attempts,
                read.ping_type
            )
        );
        assert_eq!(built.max_frame_size, read.max_frame_size);
    }
}
