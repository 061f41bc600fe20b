//! Which proxy a connection uses: the `proxy` field, else the environment variables as curl
//! and Python requests read them, with `NO_PROXY`. The environment is passed in as a map.
//! Pure.

use std::collections::HashMap;
use std::net::IpAddr;

use super::spec::{parse_proxy_url, Proxy};

/// The proxy for a connection to `host` (`secure`: wss or https), or `None` for a direct
/// connection.
///
/// - `config` `"direct"`: direct, whatever the environment says.
/// - `config` a URL: that proxy (`NO_PROXY` governs the environment variables only).
/// - no `config`: `NO_PROXY`/`no_proxy` first (a match means direct), then
///   `https_proxy`/`HTTPS_PROXY` for a secure connection or `http_proxy`/`HTTP_PROXY` for a
///   plain one, then `all_proxy`/`ALL_PROXY`; the lowercase name wins, empty means unset.
///
/// `Err` says which setting is wrong (never the password).
pub(crate) fn choose(
    config: Option<&str>,
    env: &HashMap<String, String>,
    secure: bool,
    host: &str,
) -> Result<Option<Proxy>, String> {
    if let Some(c) = config {
        if c.trim().eq_ignore_ascii_case("direct") {
            return Ok(None);
        }
        return parse_proxy_url(c).map(Some);
    }
    let get = |name: &str| {
        [name.to_ascii_lowercase(), name.to_string()]
            .into_iter()
            .find_map(|n| env.get(&n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
    };
    if let Some((_, no_proxy)) = get("NO_PROXY") {
        if no_proxy_matches(no_proxy, host) {
            return Ok(None);
        }
    }
    let scheme_var = if secure { "HTTPS_PROXY" } else { "HTTP_PROXY" };
    match get(scheme_var).or_else(|| get("ALL_PROXY")) {
        Some((name, value)) => parse_proxy_url(value)
            .map(Some)
            .map_err(|e| format!("the environment variable {name}: {e}")),
        None => Ok(None),
    }
}

/// Whether `NO_PROXY` (comma- or space-separated) exempts `host`: `*` exempts every host; a
/// name matches itself and its subdomains (`example.com` and `.example.com` both match
/// `api.example.com`); an address matches itself; a CIDR range (`10.0.0.0/8`) matches the
/// addresses inside it. A `:port` on an entry is ignored. Case-insensitive. Pure.
pub(crate) fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    let host_ip = host.parse::<IpAddr>().ok();
    no_proxy
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.to_ascii_lowercase();
            if let Some((net, bits)) = entry.split_once('/') {
                return match (
                    host_ip,
                    net.trim_matches(['[', ']']).parse::<IpAddr>(),
                    bits.parse::<u8>(),
                ) {
                    (Some(ip), Ok(net), Ok(bits)) => in_cidr(ip, net, bits),
                    _ => false,
                };
            }
            let name = strip_port(&entry);
            if let (Some(ip), Ok(e)) = (host_ip, name.parse::<IpAddr>()) {
                return ip == e;
            }
            let name = name.trim_start_matches("*.").trim_start_matches('.');
            let name = name.trim_end_matches('.');
            !name.is_empty()
                && (host == name
                    || (host.len() > name.len()
                        && host.ends_with(name)
                        && host.as_bytes()[host.len() - name.len() - 1] == b'.'))
        })
}

/// Whether an `http(s)://` URL is secure, and its host (without port or brackets). Pure.
pub(crate) fn http_url_host(url: &str) -> (bool, String) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        hostport.split(':').next().unwrap_or(hostport)
    };
    (
        scheme.eq_ignore_ascii_case("https"),
        host.to_ascii_lowercase(),
    )
}

/// An entry without its `:port` (`[v6]:port` and `host:port`; a bare IPv6 address is kept).
fn strip_port(entry: &str) -> &str {
    if let Some(v6) = entry.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    match entry.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => entry,
    }
}

/// Whether `ip` is in `net/bits` (same family only).
fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::spec::ProxyKind;
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_proxy_matches_names_suffixes_addresses_ranges_and_star() {
        let list = "localhost, .corp.example,example.org:443 10.0.0.0/8,::1,192.168.1.5,fd00::/8";
        for host in [
            "localhost",
            "LOCALHOST",
            "a.corp.example",
            "corp.example",
            "example.org",
            "api.example.org",
            "10.2.3.4",
            "[::1]",
            "192.168.1.5",
            "fd12::1",
        ] {
            assert!(no_proxy_matches(list, host), "{host}");
        }
        for host in [
            "notexample.org",
            "example.com",
            "11.0.0.1",
            "192.168.1.6",
            "localhost.evil",
            "fe80::1",
        ] {
            assert!(!no_proxy_matches(list, host), "{host}");
        }
        assert!(no_proxy_matches("*", "anything.at.all"));
        assert!(no_proxy_matches("*.corp.example", "x.corp.example"));
        assert!(!no_proxy_matches("", "localhost"));
        assert!(no_proxy_matches("0.0.0.0/0", "8.8.8.8"));
    }

    #[test]
    fn the_config_wins_and_direct_ignores_the_environment() {
        let e = env(&[("HTTPS_PROXY", "http://envproxy:1")]);
        assert_eq!(choose(Some("direct"), &e, true, "h").unwrap(), None);
        let p = choose(Some("socks5h://cfg:1080"), &e, true, "h")
            .unwrap()
            .unwrap();
        assert_eq!((p.kind, p.host.as_str()), (ProxyKind::Socks5h, "cfg"));
        assert!(choose(Some("gopher://x"), &e, true, "h").is_err());
    }

    #[test]
    fn the_environment_is_read_by_scheme_then_all_proxy_with_no_proxy() {
        let e = env(&[
            ("HTTPS_PROXY", "http://secure:1"),
            ("http_proxy", "http://plain:2"),
            ("HTTP_PROXY", "http://upper:3"),
            ("ALL_PROXY", "socks5://all:4"),
            ("no_proxy", "internal.corp"),
        ]);
        let host_of = |secure, host| choose(None, &e, secure, host).unwrap().map(|p| p.host);
        assert_eq!(host_of(true, "venue.com").as_deref(), Some("secure"));
        assert_eq!(host_of(false, "venue.com").as_deref(), Some("plain"));
        assert_eq!(host_of(true, "a.internal.corp"), None);
        let only_all = env(&[("all_proxy", "socks5h://all:4"), ("HTTPS_PROXY", "")]);
        let p = choose(None, &only_all, true, "venue.com").unwrap().unwrap();
        assert_eq!((p.kind, p.host.as_str()), (ProxyKind::Socks5h, "all"));
        assert_eq!(choose(None, &env(&[]), true, "venue.com").unwrap(), None);
    }

    #[test]
    fn the_host_of_a_token_url_is_found() {
        assert_eq!(
            http_url_host("https://u:p@Demo.Example.com:8443/v1/auth?x=1"),
            (true, "demo.example.com".into())
        );
        assert_eq!(http_url_host("http://[::1]:9/a"), (false, "::1".into()));
    }

    #[test]
    fn a_bad_environment_proxy_names_the_variable_not_the_password() {
        let e = env(&[("HTTPS_PROXY", "ftp://u:topsecret@h:1")]);
        let err = choose(None, &e, true, "venue.com").unwrap_err();
        assert!(err.contains("HTTPS_PROXY"), "{err}");
        assert!(!err.contains("topsecret"), "{err}");
    }
}
