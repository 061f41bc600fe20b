//! `ConfigView`: the configuration a client runs on, read-only (`Client::config()`, Python's
//! `client.config`, C's `tw_client_config`): every default applied, every secret left out.

use std::time::Duration;

use serde_json::{json, Value};

use super::Settings;
use crate::backoff::BackoffKind;
use crate::delivery::Overflow;
use crate::preset::Preset;
use crate::url::Scheme;

/// The resolved configuration of a client, as it runs: each value the one given or the
/// preset's default. Read-only: a copy, so changing it changes nothing in the client.
///
/// Secrets are never in it: the URL is the redacted one (a token or password in it is
/// `<redacted>`), and the token, the credentials and the handshake headers are left out.
///
/// ```
/// use tradewire::{Client, Config};
/// let client = Client::new(Config::new("ws://127.0.0.1:9/feed?token=s3cret"))?;
/// let config = client.config();
/// assert_eq!(config.url, "ws://127.0.0.1:9/feed?token=<redacted>");
/// assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 9));
/// assert!(config.verify_tls);
/// assert!(!config.to_json().to_string().contains("s3cret"));
/// # Ok::<(), tradewire::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConfigView {
    /// The preset.
    pub preset: Preset,
    /// The URL with every secret redacted.
    pub url: String,
    /// `ws` or `wss` (document 004's `protocol`).
    pub protocol: &'static str,
    /// The host connected to (document 004's `host`), without IPv6 brackets.
    pub host: String,
    /// The port connected to (document 004's `port`), the scheme's default when the URL has none.
    pub port: u16,
    /// Bound on DNS + TCP + TLS + WebSocket handshake (004's `connectTimeout`).
    pub connect_timeout: Duration,
    /// Whether the server's certificate is verified (004's `rejectUnauthorized`).
    pub verify_tls: bool,
    /// How often the client sends its heartbeat.
    pub heartbeat_interval: Duration,
    /// Silence after which the connection is dead.
    pub heartbeat_timeout: Duration,
    /// Whether the client reconnects after a connection ends.
    pub reconnect: bool,
    /// Exponential or fixed backoff.
    pub backoff: BackoffKind,
    /// First reconnect delay.
    pub backoff_initial: Duration,
    /// Largest reconnect delay.
    pub backoff_max: Duration,
    /// Growth factor of the delay.
    pub backoff_factor: f64,
    /// Random extra delay, as a fraction of the delay.
    pub jitter: f64,
    /// Attempts before giving up (`None`: never).
    pub max_reconnect_attempts: Option<u32>,
    /// The account filter, in canonical text form (`None`: every account).
    pub account_id: Option<String>,
    /// The message types kept (empty: every type).
    pub types: Vec<String>,
    /// Capacity of the event channel.
    pub queue_capacity: usize,
    /// What happens when the event channel is full.
    pub overflow: Overflow,
    /// How many messages the history ring keeps.
    pub history: usize,
    /// Largest accepted message, in bytes.
    pub max_message_size: usize,
    /// Close codes from the server that stop reconnecting.
    pub fatal_close_codes: Vec<u16>,
    /// The member of a JSON request that carries its id.
    pub request_id_field: String,
    /// Messages of this type are answered with a JSON pong.
    pub ping_type: Option<String>,
    /// Whether the thread waiting in `recv` reads the socket itself.
    pub inline_reads: bool,
    /// How long a thread waiting with inline reads polls without sleeping.
    pub busy_poll: Duration,
    /// The proxy the WebSocket goes through, from the `proxy` field or the environment
    /// (`HTTPS_PROXY`, `ALL_PROXY`, ... after `NO_PROXY`), as `scheme://[<redacted>@]host:port`;
    /// `None`: a direct connection. The credentials are never in it.
    pub proxy: Option<String>,
    /// The extension the client offers: `Some("deflate")` (permessage-deflate, used when the
    /// server accepts it) or `None` (no compression).
    pub compression: Option<&'static str>,
}

impl ConfigView {
    pub(crate) fn of(s: &Settings) -> ConfigView {
        ConfigView {
            preset: s.preset,
            url: s.redacted_url.clone(),
            protocol: match s.endpoint.scheme {
                Scheme::Ws => "ws",
                Scheme::Wss => "wss",
            },
            host: s.endpoint.host.clone(),
            port: s.endpoint.port,
            connect_timeout: s.connect_timeout,
            verify_tls: s.verify_tls,
            heartbeat_interval: s.heartbeat_interval,
            heartbeat_timeout: s.heartbeat_timeout,
            reconnect: s.reconnect,
            backoff: s.backoff.kind,
            backoff_initial: s.backoff.initial,
            backoff_max: s.backoff.max,
            backoff_factor: s.backoff.factor,
            jitter: s.backoff.jitter,
            max_reconnect_attempts: s.max_reconnect_attempts,
            account_id: s.account.as_ref().map(|a| a.as_str().to_string()),
            types: s.types.clone(),
            queue_capacity: s.queue_capacity,
            overflow: s.overflow,
            history: s.history,
            max_message_size: s.max_message_size,
            fatal_close_codes: s.fatal_close_codes.clone(),
            request_id_field: s.request_id_field.clone(),
            ping_type: s.ping_type.clone(),
            inline_reads: s.inline_reads,
            busy_poll: s.busy_poll,
            proxy: s.proxy.as_ref().map(|p| p.redacted()),
            compression: s.compression.map(|c| c.name()),
        }
    }

    /// The view as a JSON object: the configuration fields' names and units (durations in
    /// seconds), plus document 004's names for the same values (`protocol`, `host`, `port`,
    /// `rejectUnauthorized`, `connectTimeout` in milliseconds).
    pub fn to_json(&self) -> Value {
        let secs = |d: Duration| d.as_secs_f64();
        json!({
            "preset": self.preset.name(),
            "url": self.url,
            "protocol": self.protocol,
            "host": self.host,
            "port": self.port,
            "connect_timeout": secs(self.connect_timeout),
            "verify_tls": self.verify_tls,
            "rejectUnauthorized": self.verify_tls,
            "connectTimeout": u64::try_from(self.connect_timeout.as_millis()).unwrap_or(u64::MAX),
            "heartbeat_interval": secs(self.heartbeat_interval),
            "heartbeat_timeout": secs(self.heartbeat_timeout),
            "reconnect": self.reconnect,
            "backoff": self.backoff,
            "backoff_initial": secs(self.backoff_initial),
            "backoff_max": secs(self.backoff_max),
            "backoff_factor": self.backoff_factor,
            "jitter": self.jitter,
            "max_reconnect_attempts": self.max_reconnect_attempts,
            "account_id": self.account_id,
            "types": self.types,
            "queue_capacity": self.queue_capacity,
            "overflow": self.overflow,
            "history": self.history,
            "max_message_size": self.max_message_size,
            "fatal_close_codes": self.fatal_close_codes,
            "request_id_field": self.request_id_field,
            "ping_type": self.ping_type,
            "inline_reads": self.inline_reads,
            "busy_poll": secs(self.busy_poll),
            "proxy": self.proxy,
            "compression": self.compression,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn view(c: Config) -> ConfigView {
        ConfigView::of(&c.resolve().unwrap())
    }

    #[test]
    fn the_view_is_the_resolved_values_with_no_secret() {
        let v = view(
            Config::new("wss://me:pa55w0rd@h.example:8443/ws?token=t0k3n-abc")
                .token("other-s3cret")
                .header("X-Api-Key", "hdr-s3cret")
                .account_id(42)
                .connect_timeout(Duration::from_secs(3)),
        );
        assert_eq!(v.preset, Preset::Json);
        assert_eq!(v.url, "wss://h.example:8443/ws?token=<redacted>");
        assert_eq!((v.protocol, v.host.as_str(), v.port), ("wss", "h.example", 8443));
        assert_eq!(v.account_id.as_deref(), Some("42"));
        let j = v.to_json();
        assert_eq!(j["connect_timeout"], 3.0);
        assert_eq!(j["connectTimeout"], 3000);
        assert_eq!(j["rejectUnauthorized"], true);
        assert_eq!(j["heartbeat_interval"], 10.0);
        assert_eq!(j["backoff"], "exponential");
        assert_eq!(j["overflow"], "block");
        assert_eq!(j["max_reconnect_attempts"], Value::Null);
        assert_eq!(j["proxy"], Value::Null);
        assert_eq!(j["compression"], "deflate");
        let text = j.to_string();
        for secret in ["pa55w0rd", "t0k3n-abc", "other-s3cret", "hdr-s3cret", "me:"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    #[test]
    fn the_proxy_is_shown_without_its_password() {
        let v = view(
            Config::new("wss://h.example/ws")
                .proxy("http://desk:pr0xy-s3cret@10.0.0.5:3128")
                .compression(None),
        );
        assert_eq!(v.proxy.as_deref(), Some("http://<redacted>@10.0.0.5:3128"));
        assert_eq!(v.compression, None);
        let text = v.to_json().to_string();
        assert!(text.contains(r#""proxy":"http://<redacted>@10.0.0.5:3128""#), "{text}");
        assert!(!text.contains("pr0xy-s3cret") && !text.contains("desk"), "{text}");
        let direct = view(Config::new("ws://h.example/ws").proxy("direct"));
        assert_eq!(direct.proxy, None);
    }

    #[test]
    fn the_004_form_shows_its_values_under_both_names() {
        let c = Config::from_value(json!({
            "protocol": "wss", "host": "api.example.com",
            "rejectUnauthorized": false, "connectTimeout": 500
        }))
        .unwrap();
        let j = view(c).to_json();
        assert_eq!(j["preset"], "metis");
        assert_eq!(j["url"], "wss://api.example.com:443");
        assert_eq!((&j["protocol"], &j["port"]), (&json!("wss"), &json!(443)));
        assert_eq!((&j["verify_tls"], &j["rejectUnauthorized"]), (&json!(false), &json!(false)));
        // 004 clamps connectTimeout to 1000..=60000 ms.
        assert_eq!((&j["connectTimeout"], &j["connect_timeout"]), (&json!(1000), &json!(1.0)));
        assert_eq!(j["request_id_field"], "requestId");
    }
}
