//! A proxy as configured: its kind, address and credentials. Pure.

use std::fmt;

/// How a proxy is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProxyKind {
    /// HTTP CONNECT (`http://`), with Basic authentication when credentials are given.
    Http,
    /// SOCKS5 with the target resolved here (`socks5://`).
    Socks5,
    /// SOCKS5 with the target's name resolved by the proxy (`socks5h://`).
    Socks5h,
}

impl ProxyKind {
    /// The URL scheme.
    pub fn scheme(self) -> &'static str {
        match self {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
        }
    }
}

/// A proxy: kind, host, port and optional `user:password`. Its `Debug` and
/// [`Proxy::redacted`] never show the password.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    pub kind: ProxyKind,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// User and password, percent-decoded.
    pub auth: Option<(String, String)>,
}

impl Proxy {
    /// `scheme://[<redacted>@]host:port`: the form used in messages. The user name is a
    /// credential too (README, "Proxies"), so neither part is shown.
    pub fn redacted(&self) -> String {
        let user = match &self.auth {
            Some(_) => "<redacted>@",
            None => "",
        };
        format!(
            "{}://{user}{}:{}",
            self.kind.scheme(),
            bracketed(&self.host),
            self.port
        )
    }

    /// Registers the password, `user:password` and its Basic encoding (what a proxy may echo)
    /// for scrubbing from every text.
    pub fn register_secrets(&self) {
        if let Some((user, password)) = &self.auth {
            crate::redact::register(password);
            crate::redact::register(&format!("{user}:{password}"));
            let basic = crate::url::basic_auth(user, password);
            crate::redact::register(basic.trim_start_matches("Basic "));
        }
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `[v6]` for an IPv6 address, the host as is otherwise. Pure.
pub(crate) fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// Parses `http://[user:pass@]host[:port]`, `socks5://...` or `socks5h://...` (a URL
/// without a scheme is `http://`, as curl reads it). Default ports: 80 for http (as Python
/// requests), 1080 for SOCKS. The error never contains the password. Pure.
pub(crate) fn parse_proxy_url(url: &str) -> Result<Proxy, String> {
    let url = url.trim();
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_string(), url),
    };
    let kind = match scheme.as_str() {
        "http" => ProxyKind::Http,
        "socks5" => ProxyKind::Socks5,
        "socks5h" => ProxyKind::Socks5h,
        "https" => return Err("an https:// proxy (TLS to the proxy) is not supported: use http://, socks5:// or socks5h://".into()),
        other => {
            return Err(format!(
                "unsupported proxy scheme {:?}: expected http://, socks5:// or socks5h://",
                crate::redact::truncate(other, 20)
            ))
        }
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let rest_after = &rest[authority.len()..];
    if !(rest_after.is_empty() || rest_after == "/") {
        return Err("a proxy URL has no path: give scheme://[user:password@]host:port".into());
    }
    let (auth, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hp)) => {
            let (_, pair) = crate::url::split_userinfo(&format!("x://{userinfo}@h"));
            (pair, hp)
        }
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport)?;
    let port = port.unwrap_or(match kind {
        ProxyKind::Http => 80,
        _ => 1080,
    });
    if let (ProxyKind::Socks5 | ProxyKind::Socks5h, Some((u, p))) = (kind, &auth) {
        if u.is_empty() || u.len() > 255 || p.len() > 255 {
            return Err("SOCKS5 user names and passwords are 1 to 255 bytes (RFC 1929)".into());
        }
    }
    Ok(Proxy {
        kind,
        host,
        port,
        auth,
    })
}

/// `host[:port]` or `[v6][:port]`. Pure.
fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or("the proxy's IPv6 address lacks its closing `]`")?;
        (h, after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err("the proxy URL has no host".into());
    }
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("the proxy port {p:?} is not a port number"))?,
        ),
        None => None,
    };
    Ok((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_of_each_kind_parse() {
        let p = parse_proxy_url("http://proxy.corp:3128").unwrap();
        assert_eq!(
            (p.kind, p.host.as_str(), p.port, p.auth),
            (ProxyKind::Http, "proxy.corp", 3128, None)
        );
        let p = parse_proxy_url("socks5://me:p%40ss@10.0.0.1").unwrap();
        assert_eq!((p.kind, p.port), (ProxyKind::Socks5, 1080));
        assert_eq!(p.auth, Some(("me".into(), "p@ss".into())));
        let p = parse_proxy_url("SOCKS5H://[::1]:9050/").unwrap();
        assert_eq!(
            (p.kind, p.host.as_str(), p.port),
            (ProxyKind::Socks5h, "::1", 9050)
        );
        let p = parse_proxy_url("proxy:8080").unwrap();
        assert_eq!((p.kind, p.port), (ProxyKind::Http, 8080));
        assert_eq!(parse_proxy_url("http://h").unwrap().port, 80);
    }

    #[test]
    fn bad_proxy_urls_say_why_without_the_password() {
        for (url, why) in [
            ("ftp://h:1", "unsupported proxy scheme"),
            ("https://h:1", "not supported"),
            ("http://h:99999", "not a port"),
            ("http://:1", "no host"),
            ("http://u:secretpw@h:1/path", "no path"),
            ("socks5://:secretpw@h:1", "1 to 255"),
        ] {
            let e = parse_proxy_url(url).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
            assert!(!e.contains("secretpw"), "{e}");
        }
    }

    #[test]
    fn the_redacted_form_and_debug_hide_the_password() {
        let p = parse_proxy_url("http://me:hunter22@[::1]:3128").unwrap();
        assert_eq!(p.redacted(), "http://<redacted>@[::1]:3128");
        assert_eq!(format!("{p:?}"), p.redacted());
        assert!(!format!("{p:?}").contains("hunter22"));
    }
}
