//! Where to connect and what the handshake carries: the URL (given, from the document 004
//! options, or the preset's), its query, the headers (token, the URL's `user:password`),
//! and every secret among them registered for scrubbing before any problem is reported.

use super::fields::{Config, Effective};
use super::resolve::Problems;
use crate::preset::Preset;
use crate::url::{
    is_sensitive_name, metis_url, parse_ws_url, redact_url, with_query, without_query_param,
    Endpoint,
};

/// The query parameter that carries `agent_id` (document 003).
const AGENT_ID_PARAM: &str = "agentId";

/// Name-value pairs (query parameters, headers), in order.
type Pairs = Vec<(String, String)>;

/// Where to connect and what to send in the handshake.
pub(super) struct Target {
    pub url: String,
    pub redacted_url: String,
    pub endpoint: Option<Endpoint>,
    pub headers: Pairs,
}

impl Config {
    /// The URL before its query: explicit, else document 004's options, else the preset's
    /// default (tradovate: its `environment`'s); a preset without one (json, raw) needs a URL: never a silent ws://localhost:80.
    fn base_url(&self, preset: Preset, err: &mut Problems) -> String {
        if let Some(u) = &self.url {
            if self.metis.any {
                err.add(
                    "url",
                    "give either `url` or the protocol/host/port options, not both".into(),
                );
            }
            u.clone()
        } else if preset == Preset::Tradovate && !self.metis.any {
            self.tradovate_url(err)
        } else if let (Some(default), false) = (preset.defaults().url, self.metis.any) {
            default.to_string()
        } else if !self.metis.any {
            err.add(
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
                    err.add("host", e);
                    String::new()
                }
            }
        }
    }

    /// The URL with its query, the handshake headers (token, URL credentials), and every
    /// secret among them registered for scrubbing before any problem is reported.
    pub(super) fn target(&self, eff: &Effective<'_>, err: &mut Problems) -> Target {
        let base_url = self.base_url(eff.preset, err);
        let token_query_param = eff.token_query_param();
        let (query, mut headers) = self.query_and_headers(&token_query_param, eff.preset, err);
        let mut base_url = url_credentials(&base_url, &mut headers);
        if self.agent_id.is_some() {
            // `agent_id` wins: an agentId already in the URL would be a second, conflicting one.
            base_url = without_query_param(&base_url, AGENT_ID_PARAM);
        }
        let url = with_query(&base_url, &query);
        let mut sensitive: Vec<String> = token_query_param.iter().cloned().collect();
        sensitive.extend(
            self.query
                .iter()
                .flatten()
                .map(|(k, _)| k)
                .filter(|k| is_sensitive_name(k))
                .cloned(),
        );
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
                    err.add("url", e);
                    None
                }
            }
        };
        Target {
            url,
            redacted_url,
            endpoint,
            headers,
        }
    }

    /// The query parameters and headers: the configured ones, and the token in the one
    /// `token_query_param` names or in `Authorization: Bearer` (unless an `auth_message`
    /// carries it, or the preset is tradovate).
    fn query_and_headers(
        &self,
        token_query_param: &Option<String>,
        preset: Preset,
        err: &mut Problems,
    ) -> (Pairs, Pairs) {
        let mut query: Vec<(String, String)> = self
            .query
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(token) = &self.token {
            if token.expose().is_empty() {
                err.add("token", "is empty; remove it or give the token".into());
            }
            if self.auth_message.is_none() && preset != Preset::Tradovate {
                match token_query_param {
                    Some(p) => query.push((p.clone(), token.expose().to_string())),
                    None => {
                        headers.push(("Authorization".into(), format!("Bearer {}", token.expose())))
                    }
                }
            }
        }
        if let Some(agent) = &self.agent_id {
            if preset != Preset::Agent {
                err.add(
                    "agent_id",
                    format!(
                        "is used only by the agent preset (this is `{}`); give the parameter in `query` instead",
                        preset.name()
                    ),
                );
            } else if agent.is_empty() {
                err.add("agent_id", "is empty; remove it or give the agent's id".into());
            } else {
                query.retain(|(k, _)| k != AGENT_ID_PARAM);
                query.push((AGENT_ID_PARAM.into(), agent.clone()));
            }
        }
        if let Some(m) = &self.auth_message {
            if m.contains("{token}") && self.token.is_none() {
                err.add(
                    "auth_message",
                    "contains {token} but no `token` is configured".into(),
                );
            }
        }
        check_headers(&headers, err);
        (query, headers)
    }
}

/// `user:password@` in the URL: sent as HTTP Basic authentication (as browsers and
/// Python's websockets do) unless an Authorization header is configured, and never
/// kept in the URL that is logged or shown. Returns the URL without it.
fn url_credentials(base_url: &str, headers: &mut Vec<(String, String)>) -> String {
    let (base_url, userinfo) = crate::url::split_userinfo(base_url);
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
    base_url
}

/// Header names must be tokens and values must not break the request.
fn check_headers(headers: &[(String, String)], err: &mut Problems) {
    for (name, value) in headers {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            err.add("headers", format!("`{name}` is not a valid header name"));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n') {
            err.add(
                "headers",
                format!("the value of `{name}` contains a line break"),
            );
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

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
    fn agent_id_is_the_agentid_query_parameter_and_wins() {
        let s = Config::new("ws://h:4000/ws")
            .preset(Preset::Agent)
            .token("jwt-1")
            .agent_id("agent 7/é")
            .resolve()
            .unwrap();
        assert_eq!(s.url, "ws://h:4000/ws?token=jwt-1&agentId=agent%207%2F%C3%A9");
        assert_eq!(s.redacted_url, "ws://h:4000/ws?token=<redacted>&agentId=agent%207%2F%C3%A9");
        // One already in the URL or in `query` gives way to `agent_id`.
        let s = Config::new("ws://h/ws?agentId=old&x=1")
            .preset(Preset::Agent)
            .query("agentId", "older")
            .agent_id("new")
            .resolve()
            .unwrap();
        assert_eq!(s.url, "ws://h/ws?x=1&agentId=new");
        // Without agent_id, the URL's own stays.
        let s = Config::new("ws://h/ws?agentId=a1")
            .preset(Preset::Agent)
            .resolve()
            .unwrap();
        assert_eq!(s.url, "ws://h/ws?agentId=a1");
        // From JSON (Python keyword arguments, C, the CLI).
        let s = Config::from_value(json!({"preset": "agent", "agent_id": "a-2"}))
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(s.url, "ws://localhost:4000/ws?agentId=a-2");
    }

    #[test]
    fn agent_id_outside_the_agent_preset_or_empty_is_an_error() {
        let err = Config::new("ws://h/ws")
            .agent_id("a1")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("agent_id") && err.contains("only by the agent preset"), "{err}");
        let err = Config::new("ws://h/ws")
            .preset(Preset::Agent)
            .agent_id("")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("agent_id") && err.contains("empty"), "{err}");
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
}
