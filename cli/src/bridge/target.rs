//! The Redis address of `bridge --to`: parsed and checked before anything connects, its
//! password kept out of every text the bridge prints.
//!
//! Pure: parsing only. The password becomes a [`tradewire::Secret`] (its `Debug` is
//! redacted) and [`RedisTarget::register_secret`] registers it with the core's scrubber, so
//! that no error, log line or status line shows it in any form.

use std::fmt;

use tradewire::Secret;

/// The accepted form of `--to`, quoted by every error about it.
pub const FORM: &str = "redis://[[user]:password@]host[:port][/db]";

/// Redis's own port, when `--to` gives none.
const DEFAULT_PORT: u16 = 6379;

/// Where the bridge writes: a Redis server and database, with optional ACL credentials.
#[derive(Clone, PartialEq)]
pub struct RedisTarget {
    /// Host name or IP address (an IPv6 address without its brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Database number (`SELECT`).
    pub db: i64,
    /// ACL user name (Redis 6+), if any.
    pub username: Option<String>,
    /// The password (percent-decoded), if any.
    pub password: Option<Secret>,
}

impl RedisTarget {
    /// The address as a URL with the password replaced by `<redacted>`: what messages show.
    pub fn shown(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let user = match (&self.username, &self.password) {
            (Some(u), Some(_)) => format!("{u}:<redacted>@"),
            (None, Some(_)) => ":<redacted>@".to_string(),
            (Some(u), None) => format!("{u}@"),
            (None, None) => String::new(),
        };
        format!("redis://{user}{host}:{}/{}", self.port, self.db)
    }

    /// Registers the password with the core's scrubber (every encoded form of it), so that
    /// any text printed from now on (a Redis error quoting it included) shows `<redacted>`.
    pub fn register_secret(&self, typed: &str) {
        if let Some(p) = &self.password {
            tradewire::redact::register(p.expose());
        }
        // The form the user typed (percent-encoded or not) too.
        if let Some((userinfo, _)) = after_scheme(typed).and_then(|rest| rest.rsplit_once('@')) {
            if let Some((_, typed_password)) = userinfo.split_once(':') {
                tradewire::redact::register(typed_password);
            }
        }
    }

    /// The redis crate's connection settings for this target.
    pub fn connection_info(&self) -> redis::ConnectionInfo {
        use redis::IntoConnectionInfo;
        let addr = redis::ConnectionAddr::Tcp(self.host.clone(), self.port);
        let mut settings = redis::RedisConnectionInfo::default().set_db(self.db);
        if let Some(u) = &self.username {
            settings = settings.set_username(u);
        }
        if let Some(p) = &self.password {
            settings = settings.set_password(p.expose());
        }
        // Infallible for an address (the redis crate returns Ok for ConnectionAddr).
        match addr.into_connection_info() {
            Ok(info) => info.set_redis_settings(settings),
            Err(_) => unreachable!("a ConnectionAddr always converts"),
        }
    }
}

impl fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisTarget({})", self.shown())
    }
}

/// The text after `redis://` (any case), if the URL starts with it.
fn after_scheme(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    scheme.eq_ignore_ascii_case("redis").then_some(rest)
}

/// Parses `--to`. The error says what is wrong and never quotes anything before the last
/// `@` (where the password is), so it may be printed as it is.
pub fn parse(url: &str) -> Result<RedisTarget, String> {
    let url = url.trim();
    let Some(rest) = after_scheme(url) else {
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        return Err(match scheme.as_deref() {
            Some("rediss") | Some("valkeys") => {
                "TLS to Redis (rediss://) is not supported by this build; use redis:// on a \
                 trusted network, or a TLS tunnel (stunnel, spiped) to reach Redis"
                    .into()
            }
            Some("unix") | Some("redis+unix") => {
                "Unix sockets are not supported; give Redis's TCP address".into()
            }
            Some(_) => "the URL must start with redis://".into(),
            None => {
                "the URL must start with redis:// (for example redis://localhost:6379/0)".into()
            }
        });
    };
    let (userinfo, hostpart) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(u) => {
            let (user, pass) = match u.split_once(':') {
                Some((user, pass)) => (user, Some(pass)),
                None => (u, None),
            };
            let user = percent_decode(user)
                .ok_or("the user name has a bad percent-encoding (%XX)".to_string())?;
            let pass = match pass {
                Some(p) => Some(
                    percent_decode(p)
                        .ok_or("the password has a bad percent-encoding (%XX)".to_string())?,
                ),
                None => None,
            };
            let user = (!user.is_empty()).then_some(user);
            let pass = pass.filter(|p| !p.is_empty()).map(Secret::new);
            (user, pass)
        }
    };
    if hostpart.contains(['?', '#']) {
        return Err("options after ? or # are not supported".into());
    }
    let (authority, path) = match hostpart.split_once('/') {
        Some((a, p)) => (a, p),
        None => (hostpart, ""),
    };
    let (host, port) = split_host_port(authority)?;
    let db = match path {
        "" => 0,
        p => p
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("the database '{p}' is not a number (0, 1, ...)"))?,
    };
    Ok(RedisTarget {
        host,
        port,
        db,
        username,
        password,
    })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(authority: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or("an IPv6 address must end with ']'".to_string())?;
        match after {
            "" => (host, None),
            p => (
                host,
                Some(
                    p.strip_prefix(':')
                        .ok_or(format!("unexpected '{p}' after the IPv6 address"))?,
                ),
            ),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("no host: give Redis's address, e.g. redis://localhost:6379".into());
    }
    if host.contains(['/', '\\', ' ', '@']) || (host.contains(':') && !authority.starts_with('[')) {
        return Err(format!("'{host}' is not a host name or address"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("the port '{p}' is not a number from 1 to 65535"))?,
    };
    Ok((host.to_string(), port))
}

/// `%XX` decoded (UTF-8 required); `None` on a bad escape.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        let t = parse("redis://localhost").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.db), ("localhost", 6379, 0));
        assert_eq!(t.shown(), "redis://localhost:6379/0");
        let t = parse("REDIS://127.0.0.1:7000/3").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.db), ("127.0.0.1", 7000, 3));
        let t = parse("redis://[::1]:6380/").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.db), ("::1", 6380, 0));
        assert_eq!(t.shown(), "redis://[::1]:6380/0");
        let t = parse("redis://:pa%2Fss@h:1/2").unwrap();
        assert_eq!(t.password.as_ref().map(|p| p.expose()), Some("pa/ss"));
        assert_eq!(t.username, None);
        assert_eq!(t.shown(), "redis://:<redacted>@h:1/2");
        // A password may hold '@', ':' and '/' unencoded: the host is after the last '@'.
        let t = parse("redis://bridge:p@ss:w/rd@db.internal:6379/1").unwrap();
        assert_eq!(t.username.as_deref(), Some("bridge"));
        assert_eq!(t.password.as_ref().map(|p| p.expose()), Some("p@ss:w/rd"));
        assert_eq!(t.host, "db.internal");
        assert_eq!(t.shown(), "redis://bridge:<redacted>@db.internal:6379/1");
        assert!(!format!("{t:?}").contains("p@ss"));
    }

    #[test]
    fn errors_say_what_is_wrong_without_the_password() {
        for (url, expected) in [
            ("localhost:6379", "must start with redis://"),
            ("http://h", "must start with redis://"),
            ("rediss://h", "TLS to Redis"),
            ("unix:///tmp/r.sock", "Unix sockets"),
            ("redis://", "no host"),
            ("redis://:sekrit-pw@:6379", "no host"),
            ("redis://:sekrit-pw@h:port", "the port 'port'"),
            ("redis://:sekrit-pw@h:0", "from 1 to 65535"),
            ("redis://:sekrit-pw@h:70000", "from 1 to 65535"),
            ("redis://:sekrit-pw@h/db1", "the database 'db1'"),
            ("redis://:sekrit-pw@h/-1", "the database '-1'"),
            ("redis://:sekrit-pw@h?protocol=resp3", "after ? or #"),
            ("redis://:bad%zz@h", "password has a bad percent-encoding"),
            ("redis://[::1", "must end with ']'"),
        ] {
            let e = parse(url).unwrap_err();
            assert!(e.contains(expected), "{url}: {e}");
            assert!(!e.contains("sekrit"), "{url}: {e}");
        }
    }

    #[test]
    fn connection_info_carries_everything() {
        let t = parse("redis://u:pw@10.0.0.1:7001/4").unwrap();
        let info = t.connection_info();
        assert!(matches!(info.addr(), redis::ConnectionAddr::Tcp(h, 7001) if h == "10.0.0.1"));
        let r = info.redis_settings();
        assert_eq!(
            (r.db(), r.username(), r.password()),
            (4, Some("u"), Some("pw"))
        );
    }
}
