//! From a `Config` to the `Settings` the engine runs on: each field's value (given, else
//! the preset's default, as declared in `fields.rs`), and every check that involves more
//! than one field. Every problem is collected, in this order, and reported at once.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::fields::{Config, Effective};
use super::settings::Settings;
use super::{Credentials, Secret};
use crate::backoff::Backoff;
use crate::envelope::{Pointer, Pointers};
use crate::error::{Error, FieldError, Result};
use crate::preset::Preset;
use crate::proxy::{self, Proxy};
use crate::url::{clamp_connect_timeout_ms, Endpoint, Scheme};

/// The problems found so far, in the order they are reported.
#[derive(Default)]
pub(super) struct Problems(Vec<FieldError>);

impl Problems {
    pub(super) fn add(&mut self, field: &str, message: String) {
        self.0.push(FieldError {
            field: field.into(),
            message,
        })
    }
}

/// The liveness and reconnect timing.
struct Timing {
    heartbeat_interval: Duration,
    heartbeat_timeout: Duration,
    connect_timeout: Duration,
    backoff: Backoff,
}

/// The size limits.
struct Limits {
    queue_capacity: usize,
    max_message_size: usize,
    max_frame_size: usize,
    max_write_buffer: usize,
    read_buffer_size: usize,
}

impl Config {
    /// Applies the preset's defaults and checks every value; reports every problem at once.
    pub(crate) fn resolve(&self) -> Result<Settings> {
        let mut err = Problems::default();
        let preset = self.get_preset();
        let d = preset.defaults();
        let eff = Effective {
            config: self,
            preset,
        };
        let target = self.target(&eff, &mut err);
        let timing = self.timing(&eff, &mut err);
        let limits = limits(&eff, &mut err);
        let pointers = pointers(&eff, &mut err);
        let pointers_sequence_empty = pointers.sequence.is_empty();
        if !pointers_sequence_empty && preset == Preset::Raw {
            err.add(
                "sequence",
                "the raw preset does not read messages: use a JSON preset (json, daemon, ...) to check sequence numbers".into(),
            );
        }
        let (credentials, auth_url) = self.tradovate(target.endpoint.as_ref(), &mut err);
        let token_file = self.tradovate_token_file(credentials.as_ref(), auth_url.as_deref());
        check_close_codes(self.fatal_close_codes.as_deref(), &mut err);
        let (proxy, auth_proxy) =
            self.proxies(target.endpoint.as_ref(), auth_url.as_deref(), &mut err);
        if !err.0.is_empty() {
            return Err(Error::invalid_config(err.0));
        }
        let endpoint = target
            .endpoint
            .ok_or_else(|| Error::config("url", "is required"))?;
        Ok(Settings {
            preset,
            url: target.url,
            redacted_url: target.redacted_url,
            endpoint,
            headers: target.headers,
            account: self.account_id.clone(),
            types: self.types.clone().unwrap_or_default(),
            auth_message: self.auth_message.as_ref().map(|m| {
                m.replace(
                    "{token}",
                    self.token.as_ref().map(Secret::expose).unwrap_or(""),
                )
            }),
            on_connect: self.on_connect.clone().unwrap_or_default(),
            strict_json: d.strict_json,
            type_required: d.type_required,
            raw: preset == Preset::Raw,
            whole_message: d.whole_message,
            pointers,
            ping_type: eff.ping_type(),
            request_id_field: eff.request_id_field(),
            server_heartbeat_type: d.server_heartbeat_type.map(String::from),
            ws_ping: d.ws_ping,
            heartbeat_interval: timing.heartbeat_interval,
            heartbeat_timeout: timing.heartbeat_timeout,
            connect_timeout: timing.connect_timeout,
            reconnect: eff.reconnect(),
            backoff: timing.backoff,
            // A schedule the application set applies from the first attempt.
            first_connect_retry: d.first_connect_retry.filter(|_| {
                self.backoff.is_none()
                    && self.backoff_initial.is_none()
                    && self.backoff_max.is_none()
            }),
            max_reconnect_attempts: eff.max_reconnect_attempts(),
            min_uptime: eff.min_uptime(),
            queue_capacity: limits.queue_capacity,
            overflow: eff.overflow(),
            history: eff.history(),
            record: self
                .record
                .clone()
                .filter(|p| !p.is_empty())
                .map(|p| (std::path::PathBuf::from(p), eff.record_max_bytes() as u64)),
            verify_tls: eff.verify_tls(),
            compression: eff.compression(),
            proxy,
            auth_proxy,
            max_message_size: limits.max_message_size,
            max_frame_size: limits.max_frame_size,
            max_write_buffer: limits.max_write_buffer,
            read_buffer_size: limits.read_buffer_size,
            inline_reads: eff.inline_reads(),
            busy_poll: self.busy_poll.unwrap_or_default(),
            fatal_close_codes: eff.fatal_close_codes(),
            renew_url: auth_url.as_ref().map(|u| renew_url_for(u)),
            auth_url,
            credentials,
            static_token: if preset == Preset::Tradovate {
                self.token.clone()
            } else {
                None
            },
            token_file,
            market_data: eff.market_data(),
            token_margin: eff.token_expiry_margin(),
            superseded_reason: d.superseded_reason.map(String::from),
            reconnect_when_superseded: eff.reconnect_when_superseded(),
            lag_warning: self.lag_warning.filter(|d| !d.is_zero()),
            sequence: (!pointers_sequence_empty).then(|| super::settings::SequenceCheck {
                scope: eff.sequence_scope(),
                on_gap: eff.on_gap(),
                drop_duplicates: eff.drop_duplicates(),
            }),
        })
    }

    /// The proxies of the WebSocket and of the token requests: the `proxy` field, else the
    /// process environment (read once, here). Their passwords are registered as secrets.
    fn proxies(
        &self,
        endpoint: Option<&crate::url::Endpoint>,
        auth_url: Option<&str>,
        err: &mut Problems,
    ) -> (Option<Proxy>, Option<Proxy>) {
        // `vars_os`: `vars` panics on a variable that is not UTF-8; such a one is skipped.
        let env: HashMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let mut pick = |secure: bool, host: &str| match proxy::choose(
            self.proxy.as_deref(),
            &env,
            secure,
            host,
        ) {
            Ok(p) => {
                if let Some(p) = &p {
                    p.register_secrets();
                }
                p
            }
            Err(e) => {
                if !err.0.iter().any(|f| f.field == "proxy") {
                    err.add("proxy", e);
                }
                None
            }
        };
        let ws = endpoint.and_then(|e| pick(e.scheme == Scheme::Wss, &e.host));
        let auth = auth_url.and_then(|u| {
            let (secure, host) = proxy::http_url_host(u);
            pick(secure, &host)
        });
        (ws, auth)
    }

    /// Heartbeat, connect timeout and backoff, each checked against the others.
    fn timing(&self, eff: &Effective<'_>, err: &mut Problems) -> Timing {
        let heartbeat_interval = eff.heartbeat_interval();
        let heartbeat_timeout = eff.heartbeat_timeout();
        if heartbeat_interval.is_zero() {
            err.add("heartbeat_interval", "must be greater than 0".into());
        }
        if heartbeat_timeout <= heartbeat_interval {
            err.add(
                "heartbeat_timeout",
                format!(
                    "must be longer than heartbeat_interval ({:?} <= {:?}); a timeout of 2-3 intervals is usual",
                    heartbeat_timeout, heartbeat_interval
                ),
            );
        }
        let connect_timeout = match (self.connect_timeout, self.metis.connect_timeout_ms) {
            (None, Some(ms)) => clamp_connect_timeout_ms(ms),
            _ => eff.connect_timeout(),
        };
        if connect_timeout.is_zero() {
            err.add("connect_timeout", "must be greater than 0".into());
        }
        let backoff = Backoff {
            kind: eff.backoff(),
            initial: eff.backoff_initial(),
            max: eff.backoff_max(),
            factor: eff.backoff_factor(),
            jitter: eff.jitter(),
        };
        if backoff.max < backoff.initial {
            err.add(
                "backoff_max",
                format!(
                    "must be at least backoff_initial ({:?} < {:?})",
                    backoff.max, backoff.initial
                ),
            );
        }
        if !(backoff.factor.is_finite() && backoff.factor >= 1.0) {
            err.add(
                "backoff_factor",
                format!("must be a number >= 1, got {}", backoff.factor),
            );
        }
        if !(0.0..=1.0).contains(&backoff.jitter) {
            err.add(
                "jitter",
                format!(
                    "must be between 0 and 1 (a fraction of the delay), got {}",
                    backoff.jitter
                ),
            );
        }
        Timing {
            heartbeat_interval,
            heartbeat_timeout,
            connect_timeout,
            backoff,
        }
    }

    /// Tradovate's credentials (configured, else from the environment variables) and token
    /// URL (given, else the named environment's, else on the WebSocket's host).
    fn tradovate(
        &self,
        endpoint: Option<&Endpoint>,
        err: &mut Problems,
    ) -> (Option<Credentials>, Option<String>) {
        let preset = self.get_preset();
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
            && !self.names_a_token_file()
        {
            err.add(
                "credentials",
                "the tradovate preset needs credentials {name, password, appId, appVersion, sec, cid} (or the TRADOVATE_NAME, TRADOVATE_PASSWORD, ... environment variables), an access `token`, or a `token_file`".into(),
            );
        }
        let from_environment = self.tradovate_auth_url(preset == Preset::Tradovate, err);
        let auth_url = match (&self.auth_url, preset) {
            (Some(u), _) => Some(u.clone()),
            (None, Preset::Tradovate) => from_environment.or_else(|| endpoint.map(default_auth_url)),
            _ => None,
        };
        if let Some(u) = &auth_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                err.add(
                    "auth_url",
                    format!("`{u}` is not an http:// or https:// URL"),
                );
            }
        }
        if self.credentials.is_some() && preset != Preset::Tradovate {
            err.add(
                "credentials",
                "are used only by the tradovate preset".into(),
            );
        }
        (credentials, auth_url)
    }
}

/// `fatal_close_codes` must be WebSocket close codes.
fn check_close_codes(codes: Option<&[u16]>, err: &mut Problems) {
    for c in codes.into_iter().flatten() {
        if !(1000..=4999).contains(c) {
            err.add(
                "fatal_close_codes",
                format!("{c} is not a WebSocket close code (1000-4999)"),
            );
        }
    }
}

/// The queue and the size limits, each checked.
fn limits(eff: &Effective<'_>, err: &mut Problems) -> Limits {
    let queue_capacity = eff.queue_capacity();
    if queue_capacity == 0 {
        err.add("queue_capacity", "must be at least 1".into());
    }
    let max_message_size = eff.max_message_size();
    let max_frame_size = eff.config.max_frame_size.unwrap_or(max_message_size);
    let max_write_buffer = eff.max_write_buffer();
    let read_buffer_size = eff.read_buffer_size();
    if max_message_size < 128 {
        err.add("max_message_size", "must be at least 128 bytes".into());
    }
    if max_frame_size < 128 || max_frame_size > max_message_size {
        err.add(
            "max_frame_size",
            format!("must be between 128 and max_message_size ({max_message_size})"),
        );
    }
    if max_write_buffer < 4096 {
        err.add("max_write_buffer", "must be at least 4096 bytes".into());
    }
    if !(1024..=(16 << 20)).contains(&read_buffer_size) {
        err.add(
            "read_buffer_size",
            "must be between 1 KiB and 16 MiB".into(),
        );
    }
    Limits {
        queue_capacity,
        max_message_size,
        max_frame_size,
        max_write_buffer,
        read_buffer_size,
    }
}

/// The JSON pointers of the type, the account, the payload and the server time, each parsed.
fn pointers(eff: &Effective<'_>, err: &mut Problems) -> Pointers {
    let mut pointer = |field: &str, given: String| -> Pointer {
        match Pointer::parse(&given) {
            Ok(p) => p,
            Err(e) => {
                err.add(field, e);
                Pointer::default()
            }
        }
    };
    Pointers {
        msg_type: pointer("type_pointer", eff.type_pointer()),
        account: pointer("account_pointer", eff.account_pointer()),
        data: pointer("data_pointer", eff.data_pointer()),
        // None (or "") reads no time: the scanner compares no key for it.
        time: pointer("time_pointer", eff.time_pointer().unwrap_or_default()),
        sequence: pointer("sequence", eff.config.sequence.clone().unwrap_or_default()),
        sequence_key: pointer("sequence_key", eff.config.sequence_key.clone().unwrap_or_default()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_reports_every_problem_at_once() {
        let err = Config::new("http://x")
            .heartbeat_interval(Duration::from_secs(10))
            .heartbeat_timeout(Duration::from_secs(5))
            .jitter(2.0)
            .queue_capacity(0)
            .validate()
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorCategory::Config);
        let problems = err.problems();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["url", "heartbeat_timeout", "jitter", "queue_capacity"]
        );
    }

    #[test]
    fn bad_sequence_settings_are_config_errors_that_say_what_to_write() {
        let err = Config::from_json(r#"{"preset": "raw", "url": "ws://x", "sequence": "/seq"}"#)
            .unwrap()
            .validate()
            .unwrap_err();
        let problems = err.problems();
        assert_eq!(problems[0].field, "sequence");
        assert!(problems[0].message.contains("use a JSON preset"), "{problems:?}");
        let err = Config::from_json(r#"{"url": "ws://x", "sequence": "seq"}"#)
            .unwrap()
            .validate()
            .unwrap_err();
        assert_eq!(err.problems()[0].field, "sequence");
        assert!(err.to_string().contains("must start with `/`"), "{err}");
        // An unknown `on_gap` is refused while the JSON is read, naming the accepted values.
        let text = Config::from_json(r#"{"url": "ws://x", "sequence": "/s", "on_gap": "panic"}"#)
            .unwrap_err()
            .to_string();
        assert!(text.contains("on_gap") && text.contains("reconnect"), "{text}");
    }

    #[test]
    fn a_preset_without_a_default_url_needs_one() {
        for preset in [Preset::Json, Preset::Raw] {
            let err = Config::for_preset(preset).validate().unwrap_err();
            assert_eq!(err.kind(), crate::ErrorCategory::Config);
            let problems = err.problems();
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
        assert_eq!(err.kind(), crate::ErrorCategory::Config);
        let problems = err.problems();
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
    fn effective_values_are_the_given_else_the_presets() {
        let c = Config::for_preset(Preset::Tradovate).token("t");
        let eff = Effective {
            config: &c,
            preset: Preset::Tradovate,
        };
        assert_eq!(eff.type_pointer(), "/e");
        assert_eq!(eff.max_reconnect_attempts(), Some(10));
        assert_eq!(eff.token_query_param(), None);
        let c = Config::for_preset(Preset::Agent).jitter(0.5);
        let eff = Effective {
            config: &c,
            preset: Preset::Agent,
        };
        assert_eq!(eff.token_query_param().as_deref(), Some("token"));
        assert_eq!(eff.jitter(), 0.5);
        assert_eq!(eff.ping_type().as_deref(), Some("ping"));
    }

    #[test]
    fn compression_is_deflate_unless_turned_off_with_null() {
        use crate::deflate::Compression;
        let url = "ws://127.0.0.1:1";
        let on = Config::from_value(serde_json::json!({"url": url})).unwrap();
        assert_eq!(on.resolve().unwrap().compression, Some(Compression::Deflate));
        let v = serde_json::json!({"url": url, "compression": "deflate"});
        let on = Config::from_value(v).unwrap();
        assert_eq!(on.resolve().unwrap().compression, Some(Compression::Deflate));
        let off = Config::from_value(serde_json::json!({"url": url, "compression": null}));
        assert_eq!(off.unwrap().resolve().unwrap().compression, None);
        let off = Config::new(url).compression(None).resolve().unwrap();
        assert_eq!(off.compression, None);
        let e = Config::from_value(serde_json::json!({"url": url, "compression": "gzip"}));
        let e = e.unwrap_err().to_string();
        assert!(e.contains("compression") && e.contains("deflate"), "{e}");
    }
}
