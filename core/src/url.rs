//! WebSocket URLs: parsing, the `{protocol, host, port}` form of reference document 004,
//! query parameters, and redaction of secrets for logs and errors.

use std::time::Duration;

/// `ws` or `wss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain WebSocket.
    Ws,
    /// WebSocket over TLS.
    Wss,
}

impl Scheme {
    /// The default port of the scheme: 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        }
    }
}

/// A parsed `ws://` or `wss://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `ws` or `wss`.
    pub scheme: Scheme,
    /// Host name or IP address, without IPv6 brackets.
    pub host: String,
    /// Port, the scheme's default when the URL has none.
    pub port: u16,
    /// Path and query, at least `/`.
    pub path_and_query: String,
}

/// Parses a WebSocket URL, saying what is wrong when it is not one.
pub fn parse_ws_url(url: &str) -> Result<Endpoint, String> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("ws://") {
        (Scheme::Ws, r)
    } else if let Some(r) = url.strip_prefix("wss://") {
        (Scheme::Wss, r)
    } else {
        return Err(format!(
            "`{}` is not a WebSocket URL: it must start with ws:// or wss://",
            redact_url(url, &[])
        ));
    };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.is_empty() {
        return Err("the URL has no host (expected ws://host:port/path)".into());
    }
    let (host, port) = split_host_port(authority)?;
    let mut path_and_query = tail.split('#').next().unwrap_or("").to_string();
    if !path_and_query.starts_with('/') {
        path_and_query.insert(0, '/');
    }
    if path_and_query
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(
            "the URL path contains spaces or control characters; percent-encode them".into(),
        );
    }
    Ok(Endpoint {
        scheme,
        port: port.unwrap_or(scheme.default_port()),
        host,
        path_and_query,
    })
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    let bad_port = |p: &str| format!("`{p}` is not a valid port (expected 1-65535)");
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']').ok_or("an IPv6 address must end with `]`")?;
        let host = &rest[..end];
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| bad_port(p))?,
            ),
            None if after.is_empty() => None,
            None => return Err(format!("unexpected `{after}` after the IPv6 address")),
        };
        return Ok((host.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => {
            if h.is_empty() {
                return Err("the URL has no host before the port".into());
            }
            let port = p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad_port(p))?;
            Ok((h.to_string(), Some(port)))
        }
        Some(_) => Err("an IPv6 address in a URL must be written in brackets: [::1]".into()),
        None => Ok((s.to_string(), None)),
    }
}

/// Builds a URL from the connection options of reference document 004:
/// protocol (default `ws`), host (default `localhost`, may carry a port), port (default by
/// protocol). Port precedence: the host's own port, then `port`, then the protocol default.
///
/// ```
/// use tradewire::url::metis_url;
/// assert_eq!(metis_url(Some("wss"), Some("api.example.com"), None).unwrap(), "wss://api.example.com:443");
/// assert_eq!(metis_url(None, Some("example.com:9000"), Some(1)).unwrap(), "ws://example.com:9000");
/// ```
pub fn metis_url(
    protocol: Option<&str>,
    host: Option<&str>,
    port: Option<u16>,
) -> Result<String, String> {
    let scheme = match protocol.unwrap_or("ws") {
        "ws" => Scheme::Ws,
        "wss" => Scheme::Wss,
        other => return Err(format!("protocol must be \"ws\" or \"wss\", got {other:?}")),
    };
    let host = host.unwrap_or("localhost").trim();
    let host = if host.is_empty() { "localhost" } else { host };
    let (h, host_port) = split_host_port(host)?;
    let port = host_port.or(port).unwrap_or(scheme.default_port());
    let name = if h.contains(':') { format!("[{h}]") } else { h };
    let prefix = match scheme {
        Scheme::Ws => "ws",
        Scheme::Wss => "wss",
    };
    Ok(format!("{prefix}://{name}:{port}"))
}

/// The `connectTimeout` of document 004, in milliseconds, clamped to 1000..=60000.
pub fn clamp_connect_timeout_ms(ms: f64) -> Duration {
    let ms = if ms.is_finite() {
        ms.clamp(1000.0, 60_000.0)
    } else {
        10_000.0
    };
    Duration::from_millis(ms as u64)
}

/// Appends query parameters (percent-encoded) to a URL that may already have a query.
pub fn with_query(url: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return url.to_string();
    }
    let mut out = url.to_string();
    // `ws://host:1?x` is not a valid request target: the path must be at least `/`.
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        if !rest.contains('/') {
            match rest.find('?') {
                Some(q) => out.insert(scheme_end + 3 + q, '/'),
                None => out.push('/'),
            }
        }
    }
    let mut sep = if out.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        out.push(sep);
        out.push_str(&percent_encode(k));
        out.push('=');
        out.push_str(&percent_encode(v));
        sep = '&';
    }
    out
}

/// The URL without the query parameters named `name` (compared after percent-decoding);
/// the fragment and the other parameters are kept in order. Pure.
///
/// ```
/// use tradewire::url::without_query_param;
/// assert_eq!(without_query_param("ws://h/ws?token=t&agentId=a1&x=1", "agentId"), "ws://h/ws?token=t&x=1");
/// assert_eq!(without_query_param("ws://h/ws?agent%49d=a1#f", "agentId"), "ws://h/ws#f");
/// ```
pub fn without_query_param(url: &str, name: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let Some((base, query)) = before_fragment.split_once('?') else {
        return url.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            percent_decode(key).as_deref() != Some(name)
        })
        .collect();
    let mut out = base.to_string();
    if !(kept.is_empty() || kept == [""]) {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Percent-encodes everything but the RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a query parameter or header name usually carries a secret.
pub fn is_sensitive_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "token",
        "auth",
        "key",
        "secret",
        "password",
        "passwd",
        "signature",
        "cookie",
        "session",
        "jwt",
        "ticket",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// Returns the URL with the values of secret-looking query parameters (and any parameter
/// named in `extra`) and any `user:password@` part replaced by `<redacted>`.
///
/// ```
/// use tradewire::url::redact_url;
/// assert_eq!(redact_url("ws://h/ws?token=abc&agentId=a1", &[]), "ws://h/ws?token=<redacted>&agentId=a1");
/// ```
pub fn redact_url(url: &str, extra: &[&str]) -> String {
    // The query starts at the first `?` after the scheme's `://`: a `?` before it (not a
    // URL at all) must not make the user and password look like a query.
    let from = url.find("://").map_or(0, |i| i + 3);
    let (before_query, query) = match url[from..].find('?') {
        Some(q) => (&url[..from + q], Some(&url[from + q + 1..])),
        None => (url, None),
    };
    let mut out = match before_query.split_once("://") {
        Some((scheme, rest)) => {
            let auth_end = rest.find('/').unwrap_or(rest.len());
            match rest[..auth_end].rfind('@') {
                Some(at) => format!("{scheme}://<redacted>@{}", &rest[at + 1..]),
                None => before_query.to_string(),
            }
        }
        None => before_query.to_string(),
    };
    if let Some(q) = query {
        out.push('?');
        let parts: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _))
                    if is_sensitive_name(k) || extra.iter().any(|e| e.eq_ignore_ascii_case(k)) =>
                {
                    format!("{k}=<redacted>")
                }
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

/// Splits the `user:password@` part off a URL: the URL without it, and the user and password
/// (percent-decoded) when it had one. Pure.
///
/// ```
/// use tradewire::url::split_userinfo;
/// assert_eq!(
///     split_userinfo("wss://me:p%40ss@h:1/ws?x=1"),
///     ("wss://h:1/ws?x=1".to_string(), Some(("me".to_string(), "p@ss".to_string())))
/// );
/// assert_eq!(split_userinfo("ws://h/ws").1, None);
/// ```
pub fn split_userinfo(url: &str) -> (String, Option<(String, String)>) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_string(), None);
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (url.to_string(), None);
    };
    let userinfo = &rest[..at];
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let decode = |t: &str| percent_decode_strict(t).unwrap_or_else(|| t.to_string());
    let stripped = format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]);
    (stripped, Some((decode(user), decode(password))))
}

/// `Basic <base64(user:password)>`, the `Authorization` value of RFC 7617. Pure.
///
/// ```
/// assert_eq!(tradewire::url::basic_auth("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
/// ```
pub fn basic_auth(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        crate::base64::encode(format!("{user}:{password}").as_bytes())
    )
}

/// Decodes `%XX` escapes only (a `+` stays a `+`, as in a URL's authority); `None` when an
/// escape is malformed or the result is not UTF-8.
fn percent_decode_strict(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The secret values a URL carries: the values of secret-looking query parameters (and of
/// those named in `extra`), and the password (and the whole `user:password`) of its
/// authority. Pure.
///
/// ```
/// use tradewire::url::secrets_in_url;
/// assert_eq!(secrets_in_url("ws://u:pw1@h/ws?token=abc&agentId=a1", &[]), ["u:pw1", "pw1", "abc"]);
/// ```
pub fn secrets_in_url(url: &str, extra: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let (before_query, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    if let Some((_, rest)) = before_query.split_once("://") {
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            out.push(userinfo.to_string());
            if let Some((_, password)) = userinfo.split_once(':') {
                out.push(password.to_string());
            }
        }
    }
    for pair in query.unwrap_or("").split(['&', '#']) {
        if let Some((k, v)) = pair.split_once('=') {
            if !v.is_empty()
                && (is_sensitive_name(k) || extra.iter().any(|e| e.eq_ignore_ascii_case(k)))
            {
                out.push(v.to_string());
                // The decoded value, in case the URL carried it percent-encoded.
                if let Some(decoded) = percent_decode(v) {
                    if decoded != v {
                        out.push(decoded);
                    }
                }
            }
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (as a space); `None` when the result is not UTF-8 or an
/// escape is malformed.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (config_url): a `?` before `://` put the password in the "query",
    /// which was shown.
    #[test]
    fn a_question_mark_before_the_scheme_end_does_not_show_the_password() {
        let shown = redact_url("w?://user:secretpassword@host/p?token=abc&x=1", &[]);
        assert!(!shown.contains("secretpassword"), "{shown}");
        assert!(!shown.contains("abc"), "{shown}");
        assert_eq!(
            redact_url("ws://u:p@h/p?token=abc&x=1", &[]),
            "ws://<redacted>@h/p?token=<redacted>&x=1"
        );
    }

    #[test]
    fn userinfo_is_split_off_and_decoded() {
        assert_eq!(
            split_userinfo("ws://u:a+b%2Fc@[::1]:9/x@y"),
            (
                "ws://[::1]:9/x@y".to_string(),
                Some(("u".to_string(), "a+b/c".to_string()))
            )
        );
        assert_eq!(
            split_userinfo("ws://token@h"),
            (
                "ws://h".to_string(),
                Some(("token".to_string(), String::new()))
            )
        );
        assert_eq!(split_userinfo("ws://h/p?q=a@b").1, None);
    }

    /// The URL-building table of reference document 004, row by row.
    #[test]
    fn document_004_url_table() {
        type Row<'a> = (Option<&'a str>, Option<&'a str>, Option<u16>, &'a str);
        let rows: [Row<'_>; 5] = [
            (
                Some("ws"),
                Some("localhost"),
                Some(8080),
                "ws://localhost:8080",
            ),
            (
                Some("wss"),
                Some("api.example.com"),
                None,
                "wss://api.example.com:443",
            ),
            (
                None,
                Some("example.com:9000"),
                None,
                "ws://example.com:9000",
            ),
            (None, None, Some(3000), "ws://localhost:3000"),
            (None, None, None, "ws://localhost:80"),
        ];
        for (protocol, host, port, want) in rows {
            assert_eq!(
                metis_url(protocol, host, port).unwrap(),
                want,
                "{protocol:?} {host:?} {port:?}"
            );
        }
    }

    #[test]
    fn document_004_port_precedence_and_errors() {
        assert_eq!(
            metis_url(Some("wss"), Some("example.com:9000"), Some(8443)).unwrap(),
            "wss://example.com:9000"
        );
        assert_eq!(
            metis_url(Some("wss"), Some("example.com"), Some(8443)).unwrap(),
            "wss://example.com:8443"
        );
        assert_eq!(
            metis_url(None, Some("[::1]:9000"), None).unwrap(),
            "ws://[::1]:9000"
        );
        assert!(metis_url(Some("http"), None, None)
            .unwrap_err()
            .contains("ws"));
        assert!(metis_url(None, Some("example.com:99999"), None).is_err());
    }

    #[test]
    fn document_004_connect_timeout_clamp() {
        assert_eq!(clamp_connect_timeout_ms(10.0), Duration::from_millis(1000));
        assert_eq!(
            clamp_connect_timeout_ms(10_000.0),
            Duration::from_millis(10_000)
        );
        assert_eq!(
            clamp_connect_timeout_ms(600_000.0),
            Duration::from_millis(60_000)
        );
    }

    #[test]
    fn parses_urls() {
        let e = parse_ws_url("wss://api.example.com/v1/websocket?x=1").unwrap();
        assert_eq!(e.scheme, Scheme::Wss);
        assert_eq!(e.host, "api.example.com");
        assert_eq!(e.port, 443);
        assert_eq!(e.path_and_query, "/v1/websocket?x=1");
        let e = parse_ws_url("ws://127.0.0.1:8765").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path_and_query.as_str()),
            ("127.0.0.1", 8765, "/")
        );
        let e = parse_ws_url("ws://[::1]:9000/ws").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 9000));
        assert!(parse_ws_url("http://x").unwrap_err().contains("ws://"));
        assert!(parse_ws_url("ws://").is_err());
        assert!(parse_ws_url("ws://host:0/").is_err());
        assert!(parse_ws_url("ws://host/a b").is_err());
    }

    #[test]
    fn query_and_redaction() {
        let u = with_query(
            "ws://h/ws",
            &[
                ("token".into(), "a b&c".into()),
                ("agentId".into(), "a1".into()),
            ],
        );
        assert_eq!(u, "ws://h/ws?token=a%20b%26c&agentId=a1");
        assert_eq!(redact_url(&u, &[]), "ws://h/ws?token=<redacted>&agentId=a1");
        assert_eq!(
            redact_url("ws://h/?k=v&x=1", &["x"]),
            "ws://h/?k=v&x=<redacted>"
        );
        assert_eq!(
            redact_url("wss://user:pw@h:1/p", &[]),
            "wss://<redacted>@h:1/p"
        );
        assert_eq!(
            with_query("ws://h/?a=1", &[("b".into(), "2".into())]),
            "ws://h/?a=1&b=2"
        );
    }
}
