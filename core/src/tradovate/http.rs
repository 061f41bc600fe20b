//! The HTTP side of Tradovate authentication: `auth/accesstokenrequest` (with the p-ticket
//! penalty protocol) and `auth/renewaccesstoken`. Blocking (ureq, every timeout set); runs on
//! a helper thread, never on the I/O thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use super::token::TokenInfo;
use crate::config::Credentials;
use crate::error::ConnectReason;
use crate::proxy::{Proxy, ProxyKind};
use crate::redact::untrusted;

/// Why no token was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// The server refused the credentials or the token: do not retry at full speed.
    Rejected(String),
    /// The server wants a captcha solved: only a person can do that.
    Captcha(String),
    /// Network trouble or a server error: worth retrying with backoff.
    Network(String),
    /// The token server could not be reached, for a reason `wait_live` names (refused,
    /// DNS, TLS, timed out): worth retrying with backoff.
    Unreachable(String, ConnectReason),
    /// The client was closed meanwhile.
    Cancelled,
}

/// Most penalty rounds honoured before giving up on one token request.
const MAX_PENALTIES: u32 = 5;

/// The proxy as ureq takes it (its SOCKS support needs the `socks-proxy` feature; it
/// resolves the target here for socks5:// and lets the proxy resolve it for socks5h://).
fn ureq_proxy(p: &Proxy) -> Result<ureq::Proxy, AuthError> {
    let protocol = match p.kind {
        ProxyKind::Http => ureq::ProxyProtocol::Http,
        ProxyKind::Socks5 => ureq::ProxyProtocol::Socks5,
        ProxyKind::Socks5h => ureq::ProxyProtocol::Socks5h,
    };
    let mut b = ureq::Proxy::builder(protocol).host(&p.host).port(p.port);
    if let Some((user, password)) = &p.auth {
        b = b.username(user).password(password);
    }
    b.resolve_target(p.kind == ProxyKind::Socks5)
        .build()
        .map_err(|e| {
            AuthError::Network(scrub(&format!(
                "the proxy {} cannot be used for the token request: {e}",
                p.redacted()
            )))
        })
}

/// An agent with every timeout set, through `proxy` (`None`: direct, whatever the
/// environment says: the proxy was chosen, environment included, when the configuration
/// was resolved).
fn agent(timeout: Duration, proxy: Option<&Proxy>) -> Result<ureq::Agent, AuthError> {
    let proxy = proxy.map(ureq_proxy).transpose()?;
    let config = ureq::Agent::config_builder()
        .proxy(proxy)
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::NativeTls)
                .build(),
        )
        .user_agent(concat!("tradewire/", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(ureq::Agent::new_with_config(config))
}

/// A failed request through a proxy: the proxy's refusal of the credentials (HTTP 407 or a
/// SOCKS login failure) is a rejection, not network trouble. The text is scrubbed.
fn request_failure(what: String, e: &ureq::Error, proxy: Option<&Proxy>) -> AuthError {
    let text = e.to_string();
    let via = proxy
        .map(|p| format!(" (through the proxy {})", p.redacted()))
        .unwrap_or_default();
    let message = scrub(&format!("{what}{via}: {text}"));
    let lower = text.to_ascii_lowercase();
    if proxy.is_some()
        && (lower.contains("responded 407")
            || lower.contains("responded 401")
            || lower.contains("authentication failed"))
    {
        AuthError::Rejected(format!("{message}; check the proxy's user name and password"))
    } else {
        match reason_of_request_error(e) {
            Some(reason) => AuthError::Unreachable(message, reason),
            None => AuthError::Network(message),
        }
    }
}

/// Why a token request could not reach its server, when the error says: refused, a name
/// that does not resolve, TLS, a timeout. Pure.
fn reason_of_request_error(e: &ureq::Error) -> Option<ConnectReason> {
    match e {
        ureq::Error::Io(io) => crate::transport::connect::reason_of_io(io.kind()).or_else(|| {
            // The standard library's getaddrinfo failure has no kind of its own, only this.
            io.to_string()
                .starts_with("failed to lookup address")
                .then_some(ConnectReason::Dns)
        }),
        ureq::Error::Timeout(_) => Some(ConnectReason::TimedOut),
        ureq::Error::HostNotFound => Some(ConnectReason::Dns),
        ureq::Error::Tls(_) | ureq::Error::NativeTls(_) | ureq::Error::TlsRequired => {
            Some(ConnectReason::Tls)
        }
        _ => None,
    }
}

fn scrub(text: &str) -> String {
    crate::redact::scrub(text).into_owned()
}

/// Requests a new access token with the credentials, honouring `p-ticket` penalties.
pub(crate) fn request_token(
    url: &str,
    credentials: &Credentials,
    timeout: Duration,
    proxy: Option<&Proxy>,
    cancel: &AtomicBool,
) -> Result<TokenInfo, AuthError> {
    let agent = agent(timeout, proxy)?;
    let mut ticket: Option<String> = None;
    for _ in 0..=MAX_PENALTIES {
        if cancel.load(Ordering::SeqCst) {
            return Err(AuthError::Cancelled);
        }
        let mut body = request_body(credentials);
        if let Some(t) = &ticket {
            body["p-ticket"] = serde_json::Value::String(t.clone());
        }
        let v = post_json(&agent, url, &body, proxy)?;
        if let Some(text) = v
            .get("errorText")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
        {
            // The server's words (a server may echo the password): scrubbed, escaped, cut.
            return Err(AuthError::Rejected(format!(
                "the access-token request was refused: {}",
                untrusted(text, SERVER_TEXT_LIMIT)
            )));
        }
        if let Some(t) = v.get("p-ticket").and_then(|t| t.as_str()) {
            if v.get("p-captcha").and_then(|c| c.as_bool()) == Some(true) {
                return Err(AuthError::Captcha(
                    "Tradovate asks for a captcha (too many failed logins): log in once at the Tradovate web site to solve it, then call reconnect()".into(),
                ));
            }
            let wait = v
                .get("p-time")
                .and_then(|t| t.as_f64())
                .unwrap_or(1.0)
                .clamp(0.0, 3600.0);
            tw_warn!("tradewire: the access-token request is penalised: retrying in {wait:.0} s as the server asks");
            if !sleep_unless_cancelled(Duration::from_secs_f64(wait), cancel) {
                return Err(AuthError::Cancelled);
            }
            ticket = Some(t.to_string());
            continue;
        }
        return TokenInfo::from_response(&v, SystemTime::now()).map_err(|e| {
            AuthError::Network(format!(
                "unexpected access-token answer: {}",
                untrusted(&e, SERVER_TEXT_LIMIT)
            ))
        });
    }
    Err(AuthError::Network(format!(
        "the access-token request was still penalised after {MAX_PENALTIES} waits"
    )))
}

/// The body of `auth/accesstokenrequest`: document 000's `AuthRequest`, with its defaults
/// (`appVersion` `"1.0"`, `cid` `0`) for what is empty or null. Pure.
fn request_body(c: &Credentials) -> serde_json::Value {
    let app_version = if c.app_version.is_empty() {
        "1.0"
    } else {
        c.app_version.as_str()
    };
    let cid = if c.cid.is_null() {
        serde_json::Value::from(0)
    } else {
        c.cid.clone()
    };
    let mut body = serde_json::json!({
        "name": c.name,
        "password": c.password.expose(),
        "appId": c.app_id,
        "appVersion": app_version,
        "sec": c.sec.expose(),
        "cid": cid,
    });
    if let Some(id) = &c.device_id {
        body["deviceId"] = serde_json::Value::String(id.clone());
    }
    body
}

/// Renews a still-valid token (`auth/renewaccesstoken`).
pub(crate) fn renew_token(
    url: &str,
    token: &str,
    timeout: Duration,
    proxy: Option<&Proxy>,
) -> Result<TokenInfo, AuthError> {
    let agent = agent(timeout, proxy)?;
    let response = agent
        .get(url)
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept", "application/json")
        .call()
        .map_err(|e| request_failure("the token renewal failed".into(), &e, proxy))?;
    let v = read_answer(response, "token renewal")?;
    TokenInfo::from_response(&v, SystemTime::now()).map_err(|e| {
        AuthError::Rejected(format!(
            "the token renewal was refused: {}",
            untrusted(&e, SERVER_TEXT_LIMIT)
        ))
    })
}

fn post_json(
    agent: &ureq::Agent,
    url: &str,
    body: &serde_json::Value,
    proxy: Option<&Proxy>,
) -> Result<serde_json::Value, AuthError> {
    let response = agent
        .post(url)
        .header("Accept", "application/json")
        .send_json(body)
        .map_err(|e| {
            request_failure(
                format!("the access-token request to {url} failed"),
                &e,
                proxy,
            )
        })?;
    read_answer(response, "access-token request")
}

fn read_answer(
    mut response: ureq::http::Response<ureq::Body>,
    what: &str,
) -> Result<serde_json::Value, AuthError> {
    let status = response.status().as_u16();
    let text = match response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER as u64)
        .read_to_string()
    {
        Ok(t) => t,
        Err(ureq::Error::BodyExceedsLimit(_)) => {
            return Err(AuthError::Network(format!(
                "the {what} failed: response too large (limit {MAX_ANSWER} bytes, HTTP {status}); check that the auth URL is a Tradovate token endpoint"
            )))
        }
        Err(e) => {
            return Err(AuthError::Network(format!(
                "the {what} answer (HTTP {status}) could not be read: {e}"
            )))
        }
    };
    let details = || {
        let t = text.trim();
        if t.is_empty() {
            String::new()
        } else {
            format!(" ({})", untrusted(t, SERVER_TEXT_LIMIT))
        }
    };
    if status == 401 || status == 403 {
        return Err(AuthError::Rejected(format!(
            "the {what} was refused with HTTP {status}{}: check the credentials",
            details()
        )));
    }
    if !(200..300).contains(&status) {
        return Err(AuthError::Network(format!(
            "the {what} failed with HTTP {status}{}",
            details()
        )));
    }
    serde_json::from_str(&text).map_err(|e| {
        AuthError::Network(format!(
            "the {what} answer (HTTP {status}) is not JSON ({e}){}",
            details()
        ))
    })
}

/// Largest token answer read (a real one is well under 2 KiB).
const MAX_ANSWER: usize = 64 * 1024;
/// Longest piece of a server's text kept in an error.
const SERVER_TEXT_LIMIT: usize = 200;

/// Sleeps in short slices; false if cancelled meanwhile.
fn sleep_unless_cancelled(d: Duration, cancel: &AtomicBool) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if cancel.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep(
            Duration::from_millis(50).min(end.saturating_duration_since(Instant::now())),
        );
    }
    !cancel.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_has_the_documents_defaults_for_app_version_and_cid() {
        let c = Credentials {
            name: "trader".into(),
            password: crate::config::Secret::new("pw"),
            app_version: String::new(),
            cid: serde_json::Value::Null,
            ..Credentials::default()
        };
        let body = request_body(&c);
        assert_eq!((&body["appVersion"], &body["cid"]), (&"1.0".into(), &0.into()));
        assert!(body.get("deviceId").is_none());
        let c: Credentials = serde_json::from_str(r#"{"name": "a", "password": "b"}"#).unwrap();
        let body = request_body(&c);
        assert_eq!((&body["appVersion"], &body["cid"]), (&"1.0".into(), &0.into()));
        let c: Credentials = serde_json::from_str(
            r#"{"name": "a", "password": "b", "appVersion": "2.5", "cid": 42, "deviceId": "d"}"#,
        )
        .unwrap();
        let body = request_body(&c);
        assert_eq!((&body["appVersion"], &body["cid"]), (&"2.5".into(), &42.into()));
        assert_eq!(body["deviceId"], "d");
    }

    #[test]
    fn an_unreachable_token_server_has_the_reason_wait_live_names() {
        use std::io;
        let refused = ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused));
        let lookup = ureq::Error::Io(io::Error::other(
            "failed to lookup address information: Name or service not known",
        ));
        let cases = [
            (refused, Some(ConnectReason::ConnectionRefused)),
            (lookup, Some(ConnectReason::Dns)),
            (ureq::Error::HostNotFound, Some(ConnectReason::Dns)),
            (ureq::Error::TlsRequired, Some(ConnectReason::Tls)),
            (ureq::Error::StatusCode(500), None),
        ];
        for (e, reason) in cases {
            assert_eq!(reason_of_request_error(&e), reason, "{e}");
        }
    }
}
