//! `Config`: everything a connection needs, one schema for Rust, Python and C.
//!
//! Rust code uses the builder methods; Python passes keyword arguments and C passes a JSON
//! string, both of which go through [`Config::from_value`]. Unset fields take the preset's
//! defaults. Validation reports every problem at once, each with its field name.
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
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::backoff::{Backoff, BackoffKind};
use crate::delivery::Overflow;
use crate::envelope::{Pointer, Pointers};
use crate::error::{Error, FieldError, Result};
use crate::filter::AccountId;
use crate::preset::Preset;
use crate::url::{
    clamp_connect_timeout_ms, is_sensitive_name, metis_url, parse_ws_url, redact_url, with_query,
    Endpoint,
};

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

/// Tradovate credentials for the access-token request (reference 000).
#[derive(Clone, Default, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// User name.
    pub name: String,
    /// Password.
    pub password: Secret,
    /// Application id.
    #[serde(default, rename = "appId", alias = "app_id")]
    pub app_id: String,
    /// Application version.
    #[serde(default, rename = "appVersion", alias = "app_version")]
    pub app_version: String,
    /// API secret.
    #[serde(default)]
    pub sec: Secret,
    /// Client id.
    #[serde(default)]
    pub cid: serde_json::Value,
    /// Device id (optional).
    #[serde(default, rename = "deviceId", alias = "device_id")]
    pub device_id: Option<String>,
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

/// Every configuration field name, in schema order.
pub const FIELDS: &[&str] = &[
    "url",
    "preset",
    "account_id",
    "types",
    "token",
    "token_query_param",
    "auth_message",
    "query",
    "headers",
    "credentials",
    "auth_url",
    "token_file",
    "heartbeat_interval",
    "heartbeat_timeout",
    "connect_timeout",
    "reconnect",
    "backoff",
    "backoff_initial",
    "backoff_max",
    "backoff_factor",
    "jitter",
    "max_reconnect_attempts",
    "min_uptime",
    "queue_capacity",
    "overflow",
    "history",
    "verify_tls",
    "on_connect",
    "max_message_size",
    "max_frame_size",
    "max_write_buffer",
    "read_buffer_size",
    "inline_reads",
    "fatal_close_codes",
    "reconnect_when_superseded",
    "ping_type",
    "type_pointer",
    "account_pointer",
    "data_pointer",
    "market_data",
    "token_expiry_margin",
    // The connection options of reference document 004.
    "protocol",
    "host",
    "port",
    "rejectUnauthorized",
    "connectTimeout",
];

/// The configuration of one client. See the module documentation.
#[derive(Clone, Default)]
pub struct Config {
    url: Option<String>,
    preset: Option<Preset>,
    account_id: Option<AccountId>,
    types: Option<Vec<String>>,
    token: Option<Secret>,
    token_query_param: Option<String>,
    auth_message: Option<String>,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    credentials: Option<Credentials>,
    auth_url: Option<String>,
    token_file: Option<String>,
    heartbeat_interval: Option<Duration>,
    heartbeat_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    reconnect: Option<bool>,
    backoff: Option<BackoffKind>,
    backoff_initial: Option<Duration>,
    backoff_max: Option<Duration>,
    backoff_factor: Option<f64>,
    jitter: Option<f64>,
    max_reconnect_attempts: Option<Option<u32>>,
    min_uptime: Option<Duration>,
    queue_capacity: Option<usize>,
    overflow: Option<Overflow>,
    history: Option<usize>,
    verify_tls: Option<bool>,
    on_connect: Vec<String>,
    max_message_size: Option<usize>,
    max_frame_size: Option<usize>,
    max_write_buffer: Option<usize>,
    read_buffer_size: Option<usize>,
    inline_reads: Option<bool>,
    fatal_close_codes: Option<Vec<u16>>,
    reconnect_when_superseded: Option<bool>,
    ping_type: Option<Option<String>>,
    type_pointer: Option<String>,
    account_pointer: Option<String>,
    data_pointer: Option<String>,
    market_data: Option<bool>,
    token_expiry_margin: Option<Duration>,
    metis: Metis,
}

/// The `{protocol, host, port, rejectUnauthorized, connectTimeout}` options of document 004.
#[derive(Clone, Default, Debug)]
struct Metis {
    protocol: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    connect_timeout_ms: Option<f64>,
    any: bool,
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value);
            self
        }
    };
}

macro_rules! setter_str {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub fn $name(mut self, value: impl Into<String>) -> Self {
            self.$name = Some(value.into());
            self
        }
    };
}

impl Config {
    /// A configuration for `url` with the default (`json`) preset.
    pub fn new(url: impl Into<String>) -> Config {
        Config {
            url: Some(url.into()),
            ..Config::default()
        }
    }

    /// A configuration that takes its URL from the preset's default.
    pub fn for_preset(preset: Preset) -> Config {
        Config {
            preset: Some(preset),
            ..Config::default()
        }
    }

    setter!(/// The preset: dialect and defaults.
        preset: Preset);
    /// Keep only messages for this account (or with no account). `123` and `"123"` match alike.
    pub fn account_id(mut self, account: impl Into<AccountId>) -> Self {
        self.account_id = Some(account.into());
        self
    }

    /// Keep only these message types.
    pub fn types<I, T>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.types = Some(types.into_iter().map(Into::into).collect());
        self
    }

    /// The WebSocket URL (`ws://` or `wss://`).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }
    setter_str!(/// Query parameter that carries the token instead of the `Authorization` header.
        token_query_param);
    setter_str!(/// A first message sent after connecting; `{token}` in it is replaced by the token.
        auth_message);
    setter!(/// Tradovate credentials.
        credentials: Credentials);
    setter_str!(/// Tradovate access-token URL.
        auth_url);
    setter_str!(/// File that keeps the Tradovate access token between runs.
        token_file);
    setter!(/// How often the client sends its heartbeat (WebSocket ping by default).
        heartbeat_interval: Duration);
    setter!(/// Silence from the server after which the connection is dead.
        heartbeat_timeout: Duration);
    setter!(/// Bound on DNS + TCP + TLS + WebSocket handshake together.
        connect_timeout: Duration);
    setter!(/// Whether to reconnect after a connection ends.
        reconnect: bool);
    setter!(/// Exponential or fixed backoff.
        backoff: BackoffKind);
    setter!(/// First reconnect delay.
        backoff_initial: Duration);
    setter!(/// Largest reconnect delay.
        backoff_max: Duration);
    setter!(/// Growth factor of the delay.
        backoff_factor: f64);
    setter!(/// Random extra delay, as a fraction of the delay (0.1 = 0–10 %).
        jitter: f64);
    setter!(/// A connection must stay up this long before the attempt counter resets.
        min_uptime: Duration);
    setter!(/// Capacity of the event channel.
        queue_capacity: usize);
    setter!(/// What to do when the event channel is full.
        overflow: Overflow);
    setter!(/// How many messages the history ring keeps.
        history: usize);
    setter!(/// Verify the server's TLS certificate and host name (default true).
        verify_tls: bool);
    setter!(/// Largest accepted message, in bytes.
        max_message_size: usize);
    setter!(/// Largest accepted frame, in bytes.
        max_frame_size: usize);
    setter!(/// Largest amount of unsent data buffered before `send` fails, in bytes.
        max_write_buffer: usize);
    setter!(/// Size of the socket read buffer, in bytes (default 16 KiB).
        read_buffer_size: usize);
    setter!(/// The thread waiting in `recv`/`recv_timeout` reads the socket itself (default
        /// true): no switch between threads from the socket to the application, the lowest
        /// latency for a thread that consumes in a loop (docs/BENCHMARKS.md). The I/O thread
        /// still connects, logs in and reconnects, and takes the socket back when no thread
        /// has run it for 10 ms (so a busy application still answers server pings, and the
        /// overflow policy applies). `try_recv`, callbacks and `events()` never read: an
        /// application that only uses those is read for by the I/O thread.
        ///
        /// `false`: the I/O thread alone reads, and a `received_at` is the time the frame was
        /// read even while the application is busy (with inline reads, a frame that arrives
        /// while the application is away is read when it next waits, or after 10 ms).
        ///
        /// ```
        /// let config = tradewire::Config::new("ws://127.0.0.1:8765").inline_reads(false);
        /// ```
        inline_reads: bool);
    setter!(/// Close codes from the server that stop reconnecting.
        fatal_close_codes: Vec<u16>);
    setter!(/// Tradovate: connect to the market-data endpoint (authorizes with `mdAccessToken`).
        market_data: bool);
    setter!(/// Tradovate: a token is used only while now < expiry − this margin (default 5 min).
        token_expiry_margin: Duration);
    setter!(/// Reconnect even when another connection superseded ours.
        reconnect_when_superseded: bool);
    setter_str!(/// JSON pointer of the message type.
        type_pointer);
    setter_str!(/// JSON pointer of the account id.
        account_pointer);
    setter_str!(/// JSON pointer of the payload.
        data_pointer);

    /// A static token, sent as `Authorization: Bearer` (or as `token_query_param`).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret::new(token));
        self
    }

    /// Gives up after this many failed attempts in a row (`None`: never gives up).
    pub fn max_reconnect_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_reconnect_attempts = Some(attempts);
        self
    }

    /// Messages of this type are answered with a JSON pong (`None` turns it off).
    pub fn ping_type(mut self, t: Option<String>) -> Self {
        self.ping_type = Some(t);
        self
    }

    /// Adds a query parameter to the URL.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.insert(key.into(), value.into());
        self
    }

    /// Adds a header to the WebSocket handshake.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Adds a message sent after every (re)connect, before messages are delivered as live.
    pub fn on_connect(mut self, message: impl Into<String>) -> Self {
        self.on_connect.push(message.into());
        self
    }

    /// The preset (default `json`).
    pub fn get_preset(&self) -> Preset {
        self.preset.unwrap_or_default()
    }

    /// Parses a JSON configuration (the C ABI's form). See [`Config::from_value`].
    pub fn from_json(json: &str) -> Result<Config> {
        let value: Value = serde_json::from_str(json).map_err(|e| {
            Error::config(
                "(config)",
                format!("the configuration is not valid JSON: {e}"),
            )
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
                        kind_of(&other)
                    ),
                ))
            }
        };
        let mut r = Reader::default();
        let mut c = Config::default();
        for (key, v) in map {
            r.field(&mut c, &key, v);
        }
        if r.errors.is_empty() {
            return Ok(c);
        }
        // Unknown fields and unreadable values must not hide the other problems: check the
        // values that were read too, and report the problems of fields not yet reported.
        let mut errors = r.errors;
        if let Err(Error::Config(more)) = c.resolve() {
            for p in more {
                if !errors.iter().any(|e| e.field == p.field) {
                    errors.push(p);
                }
            }
        }
        Err(Error::Config(errors))
    }

    /// Checks the configuration without creating a client.
    pub fn validate(&self) -> Result<()> {
        self.resolve().map(|_| ())
    }

    /// Applies the preset's defaults and checks every value; reports every problem at once.
    pub(crate) fn resolve(&self) -> Result<Settings> {
        let mut errors: Vec<FieldError> = Vec::new();
        let mut err = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.into(),
                message,
            })
        };
        let preset = self.get_preset();
        let d = preset.defaults();

        // URL: explicit, else document 004's options, else the preset's default; a preset
        // without one (json, raw) needs a URL: never a silent ws://localhost:80.
        let base_url = if let Some(u) = &self.url {
            if self.metis.any {
                err(
                    "url",
                    "give either `url` or the protocol/host/port options, not both".into(),
                );
            }
            u.clone()
        } else if let (Some(default), false) = (d.url, self.metis.any) {
            default.to_string()
        } else if !self.metis.any {
            err(
                "url",
                format!(
                    "missing: the `{}` preset has no default URL; give one (ws:// or wss://), or the protocol/host/port options",
                    preset.name()
                ),
            );
            String::new()
        } else {
            match metis_url(
                self.metis.protocol.as_deref(),
                self.metis.host.as_deref(),
                self.metis.port,
            ) {
                Ok(u) => u,
                Err(e) => {
                    err("host", e);
                    String::new()
                }
            }
        };
        let token_query_param = self
            .token_query_param
            .clone()
            .or(d.token_query_param.map(String::from));
        let mut query: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(token) = &self.token {
            if token.expose().is_empty() {
                err("token", "is empty; remove it or give the token".into());
            }
            if self.auth_message.is_none() && preset != Preset::Tradovate {
                match &token_query_param {
                    Some(p) => query.push((p.clone(), token.expose().to_string())),
                    None => {
                        headers.push(("Authorization".into(), format!("Bearer {}", token.expose())))
                    }
                }
            }
        }
        if let Some(m) = &self.auth_message {
            if m.contains("{token}") && self.token.is_none() {
                err(
                    "auth_message",
                    "contains {token} but no `token` is configured".into(),
                );
            }
        }
        for (name, value) in &headers {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                err("headers", format!("`{name}` is not a valid header name"));
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n') {
                err(
                    "headers",
                    format!("the value of `{name}` contains a line break"),
                );
            }
        }
        // `user:password@` in the URL: sent as HTTP Basic authentication (as browsers and
        // Python's websockets do) unless an Authorization header is configured, and never
        // kept in the URL that is logged or shown.
        let (base_url, userinfo) = crate::url::split_userinfo(&base_url);
        if let Some((user, password)) = &userinfo {
            crate::redact::register(password);
            crate::redact::register(&format!("{user}:{password}"));
            let basic = crate::url::basic_auth(user, password);
            crate::redact::register(without_auth_scheme(&basic));
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            {
                headers.push(("Authorization".into(), basic));
            }
        }
        let url = with_query(&base_url, &query);
        let mut sensitive: Vec<String> = token_query_param.iter().cloned().collect();
        sensitive.extend(self.query.keys().filter(|k| is_sensitive_name(k)).cloned());
        let sensitive_refs: Vec<&str> = sensitive.iter().map(String::as_str).collect();
        let redacted_url = redact_url(&url, &sensitive_refs);
        // Known before any problem is reported, so that no message can show them.
        for secret in crate::url::secrets_in_url(&url, &sensitive_refs)
            .iter()
            .map(String::as_str)
            .chain(self.token.iter().map(|t| t.expose()))
            .chain(
                headers
                    .iter()
                    .filter(|(k, _)| is_sensitive_name(k))
                    .map(|(_, v)| without_auth_scheme(v)),
            )
        {
            crate::redact::register(secret);
        }
        let endpoint = if base_url.is_empty() {
            None
        } else {
            match parse_ws_url(&url) {
                Ok(e) => Some(e),
                Err(e) => {
                    err("url", e);
                    None
                }
            }
        };

        let heartbeat_interval = self.heartbeat_interval.unwrap_or(d.heartbeat_interval);
        let heartbeat_timeout = self.heartbeat_timeout.unwrap_or(d.heartbeat_timeout);
        if heartbeat_interval.is_zero() {
            err("heartbeat_interval", "must be greater than 0".into());
        }
        if heartbeat_timeout <= heartbeat_interval {
            err(
                "heartbeat_timeout",
                format!(
                    "must be longer than heartbeat_interval ({:?} <= {:?}); a timeout of 2-3 intervals is usual",
                    heartbeat_timeout, heartbeat_interval
                ),
            );
        }
        let connect_timeout = match (self.connect_timeout, self.metis.connect_timeout_ms) {
            (Some(t), _) => t,
            (None, Some(ms)) => clamp_connect_timeout_ms(ms),
            (None, None) => Duration::from_secs(10),
        };
        if connect_timeout.is_zero() {
            err("connect_timeout", "must be greater than 0".into());
        }
        let backoff = Backoff {
            kind: self.backoff.unwrap_or(d.backoff.kind),
            initial: self.backoff_initial.unwrap_or(d.backoff.initial),
            max: self.backoff_max.unwrap_or(d.backoff.max),
            factor: self.backoff_factor.unwrap_or(d.backoff.factor),
            jitter: self.jitter.unwrap_or(d.backoff.jitter),
        };
        if backoff.max < backoff.initial {
            err(
                "backoff_max",
                format!(
                    "must be at least backoff_initial ({:?} < {:?})",
                    backoff.max, backoff.initial
                ),
            );
        }
        if !(backoff.factor.is_finite() && backoff.factor >= 1.0) {
            err(
                "backoff_factor",
                format!("must be a number >= 1, got {}", backoff.factor),
            );
        }
        if !(0.0..=1.0).contains(&backoff.jitter) {
            err(
                "jitter",
                format!(
                    "must be between 0 and 1 (a fraction of the delay), got {}",
                    backoff.jitter
                ),
            );
        }
        let queue_capacity = self.queue_capacity.unwrap_or(65_536);
        if queue_capacity == 0 {
            err("queue_capacity", "must be at least 1".into());
        }
        let max_message_size = self.max_message_size.unwrap_or(16 << 20);
        let max_frame_size = self.max_frame_size.unwrap_or(max_message_size);
        let max_write_buffer = self.max_write_buffer.unwrap_or(8 << 20);
        // 16 KiB: as fast as 64 KiB on a firehose and an idle connection costs about half the
        // memory (tungstenite fills the whole buffer with zeros on its first read), see
        // docs/BENCHMARKS.md.
        let read_buffer_size = self.read_buffer_size.unwrap_or(16 << 10);
        if max_message_size < 128 {
            err("max_message_size", "must be at least 128 bytes".into());
        }
        if max_frame_size < 128 || max_frame_size > max_message_size {
            err(
                "max_frame_size",
                format!("must be between 128 and max_message_size ({max_message_size})"),
            );
        }
        if max_write_buffer < 4096 {
            err("max_write_buffer", "must be at least 4096 bytes".into());
        }
        if !(1024..=(16 << 20)).contains(&read_buffer_size) {
            err(
                "read_buffer_size",
                "must be between 1 KiB and 16 MiB".into(),
            );
        }
        let mut pointer = |field: &str, given: &Option<String>, default: &str| -> Pointer {
            match Pointer::parse(given.as_deref().unwrap_or(default)) {
                Ok(p) => p,
                Err(e) => {
                    err(field, e);
                    Pointer::default()
                }
            }
        };
        let (type_default, account_default, data_default) = if preset == Preset::Tradovate {
            ("/e", "/d/entity/accountId", "/d")
        } else {
            ("/type", "/account_id", "/data")
        };
        let pointers = Pointers {
            msg_type: pointer("type_pointer", &self.type_pointer, type_default),
            account: pointer("account_pointer", &self.account_pointer, account_default),
            data: pointer("data_pointer", &self.data_pointer, data_default),
        };
        let credentials = if preset == Preset::Tradovate {
            self.credentials.clone().or_else(credentials_from_env)
        } else {
            None
        };
        if let Some(c) = &credentials {
            crate::redact::register(c.password.expose());
            crate::redact::register(c.sec.expose());
        }
        if preset == Preset::Tradovate
            && credentials.is_none()
            && self.token.is_none()
            && self.token_file.is_none()
        {
            err(
                "credentials",
                "the tradovate preset needs credentials {name, password, appId, appVersion, sec, cid} (or the TRADOVATE_NAME, TRADOVATE_PASSWORD, ... environment variables), an access `token`, or a `token_file`".into(),
            );
        }
        let auth_url = match (&self.auth_url, preset) {
            (Some(u), _) => Some(u.clone()),
            (None, Preset::Tradovate) => endpoint.as_ref().map(default_auth_url),
            _ => None,
        };
        if let Some(u) = &auth_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                err(
                    "auth_url",
                    format!("`{u}` is not an http:// or https:// URL"),
                );
            }
        }
        if self.credentials.is_some() && preset != Preset::Tradovate {
            err(
                "credentials",
                "are used only by the tradovate preset".into(),
            );
        }
        if let Some(codes) = &self.fatal_close_codes {
            for c in codes {
                if !(1000..=4999).contains(c) {
                    err(
                        "fatal_close_codes",
                        format!("{c} is not a WebSocket close code (1000-4999)"),
                    );
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::Config(errors));
        }
        let endpoint = endpoint.ok_or_else(|| Error::config("url", "is required"))?;
        Ok(Settings {
            preset,
            url,
            redacted_url,
            endpoint,
            headers,
            account: self.account_id.clone(),
            types: self.types.clone().unwrap_or_default(),
            auth_message: self.auth_message.as_ref().map(|m| {
                m.replace(
                    "{token}",
                    self.token.as_ref().map(Secret::expose).unwrap_or(""),
                )
            }),
            on_connect: self.on_connect.clone(),
            strict_json: d.strict_json,
            raw: preset == Preset::Raw,
            pointers,
            ping_type: self
                .ping_type
                .clone()
                .unwrap_or(d.ping_type.map(String::from)),
            server_heartbeat_type: d.server_heartbeat_type.map(String::from),
            ws_ping: d.ws_ping,
            heartbeat_interval,
            heartbeat_timeout,
            connect_timeout,
            reconnect: self.reconnect.unwrap_or(true),
            backoff,
            max_reconnect_attempts: self
                .max_reconnect_attempts
                .unwrap_or(d.max_reconnect_attempts),
            min_uptime: self.min_uptime.unwrap_or(Duration::from_secs(10)),
            queue_capacity,
            overflow: self.overflow.unwrap_or(d.overflow),
            history: self.history.unwrap_or(d.history),
            verify_tls: self.verify_tls.unwrap_or(true),
            max_message_size,
            max_frame_size,
            max_write_buffer,
            read_buffer_size,
            inline_reads: self.inline_reads.unwrap_or(true),
            fatal_close_codes: self.fatal_close_codes.clone().unwrap_or_else(|| vec![1008]),
            renew_url: auth_url.as_ref().map(|u| renew_url_for(u)),
            auth_url,
            credentials,
            static_token: if preset == Preset::Tradovate {
                self.token.clone()
            } else {
                None
            },
            token_file: self.token_file.as_ref().map(std::path::PathBuf::from),
            market_data: self.market_data.unwrap_or(false),
            token_margin: self.token_expiry_margin.unwrap_or(Duration::from_secs(300)),
            superseded_reason: d.superseded_reason.map(String::from),
            reconnect_when_superseded: self.reconnect_when_superseded.unwrap_or(false),
        })
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact_map = |m: &BTreeMap<String, String>| -> BTreeMap<String, String> {
            m.iter()
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

/// Tradovate credentials from the environment variables the reference uses
/// (`TRADOVATE_NAME`, `TRADOVATE_PASSWORD`, `TRADOVATE_APP_ID`, `TRADOVATE_APP_VERSION`,
/// `TRADOVATE_SEC`, `TRADOVATE_CID`), when at least the name and password are set.
fn credentials_from_env() -> Option<Credentials> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let name = var("TRADOVATE_NAME")?;
    let password = var("TRADOVATE_PASSWORD")?;
    let cid = var("TRADOVATE_CID").unwrap_or_else(|| "0".into());
    Some(Credentials {
        name,
        password: Secret::new(password),
        app_id: var("TRADOVATE_APP_ID").unwrap_or_default(),
        app_version: var("TRADOVATE_APP_VERSION").unwrap_or_else(|| "1.0".into()),
        sec: Secret::new(var("TRADOVATE_SEC").unwrap_or_default()),
        cid: cid
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::String(cid)),
        device_id: None,
    })
}

/// The access-token URL on the same host as the WebSocket URL (Tradovate serves both).
fn default_auth_url(e: &Endpoint) -> String {
    let scheme = match e.scheme {
        crate::url::Scheme::Ws => "http",
        crate::url::Scheme::Wss => "https",
    };
    let host = if e.host.contains(':') {
        format!("[{}]", e.host)
    } else {
        e.host.clone()
    };
    format!("{scheme}://{host}:{}/v1/auth/accesstokenrequest", e.port)
}

/// The renewal URL next to an access-token URL.
fn renew_url_for(auth_url: &str) -> String {
    match auth_url.strip_suffix("accesstokenrequest") {
        Some(base) => format!("{base}renewaccesstoken"),
        None => format!("{}/renewaccesstoken", auth_url.trim_end_matches('/')),
    }
}

/// Collects field errors while reading a JSON configuration.
#[derive(Default)]
struct Reader {
    errors: Vec<FieldError>,
}

impl Reader {
    fn push(&mut self, field: &str, message: String) {
        self.errors.push(FieldError {
            field: field.to_string(),
            message,
        });
    }

    fn get<T: DeserializeOwned>(&mut self, field: &str, v: Value, expected: &str) -> Option<T> {
        match serde_json::from_value::<T>(v.clone()) {
            Ok(t) => Some(t),
            Err(_) => {
                self.push(field, format!("expected {expected}, got {}", describe(&v)));
                None
            }
        }
    }

    fn secs(&mut self, field: &str, v: Value) -> Option<Duration> {
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

    fn size(&mut self, field: &str, v: Value) -> Option<usize> {
        self.get::<u64>(field, v, "a whole number of bytes")
            .map(|n| n.min(usize::MAX as u64) as usize)
    }

    fn string_map(&mut self, field: &str, v: Value) -> BTreeMap<String, String> {
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
        out
    }

    fn field(&mut self, c: &mut Config, key: &str, v: Value) {
        // `null` means "use the default" for every field except where null has a meaning.
        if v.is_null() && !matches!(key, "max_reconnect_attempts" | "ping_type") {
            return;
        }
        match key {
            "url" => c.url = self.get(key, v, "a ws:// or wss:// URL string"),
            "preset" => {
                let name: Option<String> = self.get(key, v, "a preset name");
                if let Some(n) = name {
                    match Preset::from_name(&n) {
                        Some(p) => c.preset = Some(p),
                        None => self.push(
                            key,
                            format!("unknown preset {n:?}; expected one of json, daemon, agent, breakout, tradovate, raw"),
                        ),
                    }
                }
            }
            "account_id" => c.account_id = self.get(key, v, "an integer or a non-empty string"),
            "types" => c.types = self.get(key, v, "a list of message type strings"),
            "token" => c.token = self.get::<String>(key, v, "a string").map(Secret),
            "token_query_param" => c.token_query_param = self.get(key, v, "a query parameter name"),
            "auth_message" => c.auth_message = self.get(key, v, "a string"),
            "query" => c.query = self.string_map(key, v),
            "headers" => c.headers = self.string_map(key, v),
            "credentials" => match serde_json::from_value::<Credentials>(v) {
                Ok(cr) => c.credentials = Some(cr),
                Err(e) => self.push(
                    key,
                    format!("expected {{name, password, appId, appVersion, sec, cid}}: {e}"),
                ),
            },
            "auth_url" => c.auth_url = self.get(key, v, "a URL string"),
            "token_file" => c.token_file = self.get(key, v, "a file path"),
            "heartbeat_interval" => c.heartbeat_interval = self.secs(key, v),
            "heartbeat_timeout" => c.heartbeat_timeout = self.secs(key, v),
            "connect_timeout" => c.connect_timeout = self.secs(key, v),
            "min_uptime" => c.min_uptime = self.secs(key, v),
            "backoff_initial" => c.backoff_initial = self.secs(key, v),
            "backoff_max" => c.backoff_max = self.secs(key, v),
            "reconnect" => c.reconnect = self.get(key, v, "true or false"),
            "backoff" => c.backoff = self.get(key, v, "\"exponential\" or \"fixed\""),
            "backoff_factor" => c.backoff_factor = self.get(key, v, "a number >= 1"),
            "jitter" => c.jitter = self.get(key, v, "a fraction between 0 and 1"),
            "max_reconnect_attempts" => {
                c.max_reconnect_attempts = if v.is_null() {
                    Some(None)
                } else {
                    self.get::<u32>(key, v, "a whole number, or null for no limit")
                        .map(Some)
                }
            }
            "queue_capacity" => c.queue_capacity = self.size(key, v),
            "overflow" => {
                c.overflow = self.get(key, v, "\"block\", \"drop_oldest\" or \"drop_newest\"")
            }
            "history" => c.history = self.size(key, v),
            "verify_tls" => c.verify_tls = self.get(key, v, "true or false"),
            "on_connect" => {
                let items = match v {
                    Value::Array(a) => a,
                    other => vec![other],
                };
                for item in items {
                    match item {
                        Value::String(s) => c.on_connect.push(s),
                        Value::Object(_) | Value::Array(_) => c.on_connect.push(item.to_string()),
                        other => self.push(
                            key,
                            format!(
                                "each message must be a string or a JSON object, got {}",
                                describe(&other)
                            ),
                        ),
                    }
                }
            }
            "max_message_size" => c.max_message_size = self.size(key, v),
            "max_frame_size" => c.max_frame_size = self.size(key, v),
            "max_write_buffer" => c.max_write_buffer = self.size(key, v),
            "read_buffer_size" => c.read_buffer_size = self.size(key, v),
            "inline_reads" => c.inline_reads = self.get(key, v, "true or false"),
            "fatal_close_codes" => c.fatal_close_codes = self.get(key, v, "a list of close codes"),
            "reconnect_when_superseded" => {
                c.reconnect_when_superseded = self.get(key, v, "true or false")
            }
            "ping_type" => {
                c.ping_type = if v.is_null() {
                    Some(None)
                } else {
                    self.get::<String>(key, v, "a message type").map(Some)
                }
            }
            "type_pointer" => c.type_pointer = self.get(key, v, "a JSON pointer such as \"/type\""),
            "account_pointer" => {
                c.account_pointer = self.get(key, v, "a JSON pointer such as \"/account_id\"")
            }
            "data_pointer" => c.data_pointer = self.get(key, v, "a JSON pointer such as \"/data\""),
            "market_data" => c.market_data = self.get(key, v, "true or false"),
            "token_expiry_margin" => c.token_expiry_margin = self.secs(key, v),
            "protocol" => {
                c.metis.any = true;
                c.metis.protocol = self.get(key, v, "\"ws\" or \"wss\"");
            }
            "host" => {
                c.metis.any = true;
                c.metis.host = self.get(key, v, "a host name, optionally with :port");
            }
            "port" => {
                c.metis.any = true;
                c.metis.port = self
                    .get::<u16>(key, v, "a port number (1-65535)")
                    .filter(|p| *p != 0);
            }
            "rejectUnauthorized" => c.verify_tls = self.get(key, v, "true or false"),
            "connectTimeout" => {
                c.metis.connect_timeout_ms = self.get(key, v, "milliseconds (1000-60000)")
            }
            other => {
                let hint = closest(other)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                self.push(other, format!("unknown field{hint}"));
            }
        }
    }
}

/// The known field closest to a misspelled one, if it is close enough.
fn closest(name: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .map(|f| {
            (
                edit_distance(&name.to_ascii_lowercase(), &f.to_ascii_lowercase()),
                *f,
            )
        })
        // Up to 3 edits, and fewer than a third of the name: `nope` is not a typo of `types`.
        .filter(|(d, _)| *d <= 3 && *d * 3 <= name.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The credentials of an `Authorization`-style value (`Bearer abc` → `abc`): the scheme is
/// no secret, and scrubbing it would eat the words around a token.
fn without_auth_scheme(value: &str) -> &str {
    match value.split_once(' ') {
        Some((scheme, rest)) if scheme.bytes().all(|b| b.is_ascii_alphabetic()) => rest.trim(),
        _ => value,
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

/// A configuration with every default applied and every value checked.
#[derive(Clone)]
pub(crate) struct Settings {
    pub preset: Preset,
    pub url: String,
    pub redacted_url: String,
    pub endpoint: Endpoint,
    pub headers: Vec<(String, String)>,
    pub account: Option<AccountId>,
    pub types: Vec<String>,
    pub auth_message: Option<String>,
    pub on_connect: Vec<String>,
    pub strict_json: bool,
    pub raw: bool,
    pub pointers: Pointers,
    pub ping_type: Option<String>,
    pub server_heartbeat_type: Option<String>,
    pub ws_ping: bool,
    pub heartbeat_interval: Duration,
    pub heartbeat_timeout: Duration,
    pub connect_timeout: Duration,
    pub reconnect: bool,
    pub backoff: Backoff,
    pub max_reconnect_attempts: Option<u32>,
    pub min_uptime: Duration,
    pub queue_capacity: usize,
    pub overflow: Overflow,
    pub history: usize,
    pub verify_tls: bool,
    pub max_message_size: usize,
    pub max_frame_size: usize,
    pub max_write_buffer: usize,
    pub read_buffer_size: usize,
    pub inline_reads: bool,
    pub fatal_close_codes: Vec<u16>,
    pub superseded_reason: Option<String>,
    pub reconnect_when_superseded: bool,
    /// Tradovate: the access-token request URL.
    pub auth_url: Option<String>,
    /// Tradovate: the token renewal URL.
    pub renew_url: Option<String>,
    /// Tradovate: credentials (config or environment).
    pub credentials: Option<Credentials>,
    /// Tradovate: an access token given directly.
    pub static_token: Option<Secret>,
    /// Tradovate: where the token is kept between runs.
    pub token_file: Option<std::path::PathBuf>,
    /// Tradovate: market-data endpoint (authorize with mdAccessToken).
    pub market_data: bool,
    /// Tradovate: tokens are used only while now < expiry − margin.
    pub token_margin: Duration,
}

impl Settings {
    /// Replaces every known secret in `text` by `<redacted>` (see [`crate::redact`]).
    pub fn scrub(&self, text: &str) -> String {
        crate::redact::scrub(text).into_owned()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("preset", &self.preset)
            .field("url", &self.redacted_url)
            .finish_non_exhaustive()
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
        let Error::Config(problems) = err else {
            panic!()
        };
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
    fn validation_reports_every_problem_at_once() {
        let err = Config::new("http://x")
            .heartbeat_interval(Duration::from_secs(10))
            .heartbeat_timeout(Duration::from_secs(5))
            .jitter(2.0)
            .queue_capacity(0)
            .validate()
            .unwrap_err();
        let Error::Config(problems) = err else {
            panic!()
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["url", "heartbeat_timeout", "jitter", "queue_capacity"]
        );
    }

    #[test]
    fn unknown_fields_do_not_hide_bad_values() {
        let err = Config::from_json(r#"{"url":"http://x","queue_capacity":0,"jitter":7,"nope":1}"#)
            .unwrap_err();
        let Error::Config(problems) = err else {
            panic!()
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["nope", "url", "jitter", "queue_capacity"]);
        assert_eq!(problems[0].message, "unknown field", "no far-fetched hint");
    }

    #[test]
    fn a_preset_without_a_default_url_needs_one() {
        for preset in [Preset::Json, Preset::Raw] {
            let err = Config::for_preset(preset).validate().unwrap_err();
            let Error::Config(problems) = err else {
                panic!()
            };
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].field, "url");
            assert!(
                problems[0]
                    .message
                    .contains(&format!("`{}` preset has no default URL", preset.name())),
                "{}",
                problems[0].message
            );
        }
        assert!(Config::from_json("{}").unwrap().validate().is_err());
        let err = Config::from_json(r#"{"preset": "raw", "jitter": 2}"#)
            .unwrap()
            .validate()
            .unwrap_err();
        let Error::Config(problems) = err else {
            panic!()
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["url", "jitter"]);
        for preset in [Preset::Daemon, Preset::Agent, Preset::Breakout] {
            assert!(Config::for_preset(preset).resolve().is_ok(), "{preset:?}");
        }
    }

    #[test]
    fn preset_defaults_apply() {
        let s = Config::for_preset(Preset::Daemon).resolve().unwrap();
        assert_eq!(s.url, "ws://localhost:8765");
        assert!(s.strict_json);
        assert_eq!(s.backoff.max, Duration::from_secs(10));
        let s = Config::for_preset(Preset::Breakout).resolve().unwrap();
        assert_eq!(
            (s.url.as_str(), s.history),
            ("ws://localhost:8000/ws/", 100)
        );
        let s = Config::for_preset(Preset::Agent)
            .token("jwt.abc.def")
            .query("agentId", "a1")
            .resolve()
            .unwrap();
        assert_eq!(s.url, "ws://localhost:4000/ws?agentId=a1&token=jwt.abc.def");
        assert_eq!(
            s.redacted_url,
            "ws://localhost:4000/ws?agentId=a1&token=<redacted>"
        );
        assert_eq!(s.ping_type.as_deref(), Some("ping"));
    }

    #[test]
    fn url_credentials_become_basic_auth_and_leave_the_url() {
        let s = Config::new("wss://me:p%40ss@h/ws").resolve().unwrap();
        assert_eq!(s.url, "wss://h/ws");
        assert_eq!(
            s.headers,
            [(
                "Authorization".to_string(),
                "Basic bWU6cEBzcw==".to_string()
            )]
        );
        assert_eq!(
            s.scrub("why: bWU6cEBzcw== p@ss"),
            "why: <redacted> <redacted>"
        );
        // An explicit token wins.
        let s = Config::new("wss://me:pw@h/ws")
            .token("t0k3n-x")
            .resolve()
            .unwrap();
        assert_eq!(s.headers[0].1, "Bearer t0k3n-x");
    }

    #[test]
    fn token_goes_to_header_by_default() {
        let s = Config::new("wss://h/ws")
            .token("s3cret-token")
            .resolve()
            .unwrap();
        assert_eq!(
            s.headers,
            [(
                "Authorization".to_string(),
                "Bearer s3cret-token".to_string()
            )]
        );
        assert_eq!(
            s.scrub("failed with s3cret-token"),
            "failed with <redacted>"
        );
        assert!(!format!("{:?}", Config::new("ws://h").token("s3cret-token")).contains("s3cret"));
    }

    #[test]
    fn document_004_form() {
        let c = Config::from_value(json!({"protocol": "wss", "host": "api.example.com", "rejectUnauthorized": false, "connectTimeout": 500}))
            .unwrap();
        let s = c.resolve().unwrap();
        assert_eq!(s.url, "wss://api.example.com:443");
        assert!(!s.verify_tls);
        assert_eq!(s.connect_timeout, Duration::from_millis(1000));
        let s = Config::from_value(json!({"protocol": "ws"}))
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(s.url, "ws://localhost:80");
        let err = Config::from_value(json!({"url": "ws://a", "host": "b"}))
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("either"));
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
}
