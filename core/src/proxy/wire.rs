//! The bytes of a proxy handshake: the HTTP CONNECT request and its answer, and the SOCKS5
//! messages of RFC 1928 and RFC 1929. Pure.

use std::net::IpAddr;

use super::spec::bracketed;

/// The HTTP `CONNECT` request for `host:port`, with `Proxy-Authorization: Basic` when
/// credentials are given.
pub(crate) fn connect_request(host: &str, port: u16, auth: Option<(&str, &str)>) -> String {
    let target = format!("{}:{port}", bracketed(host));
    let mut req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some((user, password)) = auth {
        req.push_str(&format!(
            "Proxy-Authorization: {}\r\n",
            crate::url::basic_auth(user, password)
        ));
    }
    req.push_str(concat!(
        "User-Agent: tradewire/",
        env!("CARGO_PKG_VERSION"),
        "\r\n\r\n"
    ));
    req
}

/// Largest CONNECT answer header read.
pub(crate) const MAX_CONNECT_ANSWER: usize = 16 * 1024;

/// The end of the answer's header (the index after `\r\n\r\n`), once it has all arrived.
pub(crate) fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// The answer to CONNECT as it arrives, read until its header is complete. Each search for
/// the header's end starts where the last one stopped, so a proxy that answers a byte at a
/// time costs time linear in the answer's length.
#[derive(Debug, Default)]
pub(crate) struct ConnectAnswer {
    buf: Vec<u8>,
    /// The header's end, once found.
    end: Option<usize>,
}

impl ConnectAnswer {
    /// Adds bytes read from the proxy: `Ok(true)` once the header is complete, `Err` when
    /// the header is longer than [`MAX_CONNECT_ANSWER`] bytes.
    ///
    /// The limit is on where the header ends, not on how much has been read, so the answer
    /// is the same however the proxy's bytes are split into reads: a header that ends past
    /// the limit is refused even when it arrives in one read.
    pub fn push(&mut self, bytes: &[u8]) -> Result<bool, String> {
        if self.end.is_some() {
            self.buf.extend_from_slice(bytes);
            return Ok(true);
        }
        // The end may straddle the last read: look again at the 3 bytes before it.
        let from = self.buf.len().saturating_sub(3);
        self.buf.extend_from_slice(bytes);
        self.end = header_end(&self.buf[from..]).map(|i| i + from);
        match self.end {
            Some(end) if end > MAX_CONNECT_ANSWER => Err(too_long()),
            None if self.buf.len() > MAX_CONNECT_ANSWER => Err(too_long()),
            end => Ok(end.is_some()),
        }
    }

    /// The status code and reason phrase of the complete header, and whether bytes came
    /// after it (the venue cannot have spoken yet: an error).
    pub fn status(&self) -> Result<(u16, String, bool), String> {
        let end = self.end.ok_or("the answer to CONNECT is not complete")?;
        let (code, phrase) = connect_status(&self.buf[..end])?;
        Ok((code, phrase, end < self.buf.len()))
    }
}

fn too_long() -> String {
    format!(
        "it answered CONNECT with a header over {} KiB",
        MAX_CONNECT_ANSWER / 1024
    )
}

/// The status code and reason phrase of a CONNECT answer's header (`HTTP/1.x 200 ...`);
/// `Err` when it is not HTTP.
pub(crate) fn connect_status(header: &[u8]) -> Result<(u16, String), String> {
    let text = String::from_utf8_lossy(header);
    let line = text.lines().next().unwrap_or("");
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().and_then(|c| c.parse::<u16>().ok());
    match code {
        Some(code) if version.starts_with("HTTP/1.") => Ok((
            code,
            crate::redact::untrusted(parts.next().unwrap_or("").trim(), 100),
        )),
        _ => Err(format!(
            "its answer to CONNECT is not HTTP ({})",
            crate::redact::untrusted(line, 100)
        )),
    }
}

/// The SOCKS5 greeting: the methods offered (no authentication, or username/password only
/// when credentials are configured).
pub(crate) fn socks_greeting(with_auth: bool) -> Vec<u8> {
    if with_auth {
        vec![5, 1, 2]
    } else {
        vec![5, 1, 0]
    }
}

/// What the proxy chose in its method answer (`[5, method]`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SocksMethod {
    NoAuth,
    UserPass,
    /// `0xFF` or a method not offered: the proxy accepts none of ours.
    Refused(u8),
}

/// Reads the method answer; `Err` when it is not SOCKS5.
pub(crate) fn socks_method(reply: [u8; 2], with_auth: bool) -> Result<SocksMethod, String> {
    if reply[0] != 5 {
        return Err(format!(
            "it does not speak SOCKS5 (version byte {})",
            reply[0]
        ));
    }
    Ok(match (reply[1], with_auth) {
        (0, false) => SocksMethod::NoAuth,
        (2, true) => SocksMethod::UserPass,
        (m, _) => SocksMethod::Refused(m),
    })
}

/// The RFC 1929 username/password request (lengths checked when the URL was parsed).
pub(crate) fn socks_auth_request(user: &str, password: &str) -> Vec<u8> {
    let mut out = vec![1, user.len().min(255) as u8];
    out.extend_from_slice(&user.as_bytes()[..user.len().min(255)]);
    out.push(password.len().min(255) as u8);
    out.extend_from_slice(&password.as_bytes()[..password.len().min(255)]);
    out
}

/// Whether the RFC 1929 answer (`[1, status]`) accepts the credentials.
pub(crate) fn socks_auth_ok(reply: [u8; 2]) -> bool {
    reply[1] == 0
}

/// Where a SOCKS5 CONNECT goes: an address (resolved here) or a name (resolved by the proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SocksTarget {
    Ip(IpAddr),
    Name(String),
}

/// The SOCKS5 CONNECT request; `Err` for a name over 255 bytes.
pub(crate) fn socks_connect(target: &SocksTarget, port: u16) -> Result<Vec<u8>, String> {
    let mut out = vec![5, 1, 0];
    match target {
        SocksTarget::Ip(IpAddr::V4(a)) => {
            out.push(1);
            out.extend_from_slice(&a.octets());
        }
        SocksTarget::Ip(IpAddr::V6(a)) => {
            out.push(4);
            out.extend_from_slice(&a.octets());
        }
        SocksTarget::Name(n) => {
            let len = u8::try_from(n.len())
                .map_err(|_| "the host name is too long for SOCKS5 (255 bytes)".to_string())?;
            out.push(3);
            out.push(len);
            out.extend_from_slice(n.as_bytes());
        }
    }
    out.extend_from_slice(&port.to_be_bytes());
    Ok(out)
}

/// The whole length of a SOCKS5 CONNECT reply, from its first 5 bytes (the address type and,
/// for a name, its length byte); `Err` when it is not a SOCKS5 reply.
pub(crate) fn socks_reply_len(head: [u8; 5]) -> Result<usize, String> {
    if head[0] != 5 {
        return Err(format!(
            "its answer is not SOCKS5 (version byte {})",
            head[0]
        ));
    }
    match head[3] {
        1 => Ok(4 + 4 + 2),
        4 => Ok(4 + 16 + 2),
        3 => Ok(4 + 1 + usize::from(head[4]) + 2),
        t => Err(format!("its answer has an unknown address type {t}")),
    }
}

/// A SOCKS5 reply code in words (RFC 1928 section 6).
pub(crate) fn socks_reply_text(code: u8) -> String {
    let words = match code {
        0 => "succeeded",
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => return format!("reply code {code} (unassigned)"),
    };
    format!("{words} (reply code {code})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connect_request_names_the_target_and_carries_basic_auth() {
        let r = connect_request("venue.com", 443, Some(("Aladdin", "open sesame")));
        assert!(
            r.starts_with("CONNECT venue.com:443 HTTP/1.1\r\nHost: venue.com:443\r\n"),
            "{r}"
        );
        assert!(
            r.contains("Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"),
            "{r}"
        );
        assert!(r.ends_with("\r\n\r\n"));
        let r = connect_request("::1", 80, None);
        assert!(r.starts_with("CONNECT [::1]:80 HTTP/1.1\r\n"), "{r}");
        assert!(!r.contains("Proxy-Authorization"));
    }

    #[test]
    fn connect_answers_are_read_once_the_header_is_complete() {
        assert_eq!(header_end(b"HTTP/1.1 200 OK\r\n"), None);
        let a = b"HTTP/1.0 200 Connection established\r\nProxy-agent: x\r\n\r\n";
        assert_eq!(header_end(a), Some(a.len()));
        assert_eq!(
            connect_status(a).unwrap(),
            (200, "Connection established".into())
        );
        assert_eq!(
            connect_status(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").unwrap(),
            (407, "Proxy Authentication Required".into())
        );
        assert!(connect_status(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }

    #[test]
    fn a_connect_answer_is_complete_at_its_end_in_any_pieces() {
        let a = b"HTTP/1.1 200 OK\r\nVia: x\r\n\r\n";
        for piece in 1..a.len() {
            let mut answer = ConnectAnswer::default();
            let done: Vec<bool> = a.chunks(piece).map(|c| answer.push(c).unwrap()).collect();
            assert_eq!(done.iter().filter(|d| **d).count(), 1, "piece {piece}");
            assert_eq!(answer.status().unwrap(), (200, "OK".into(), false));
        }
        let mut answer = ConnectAnswer::default();
        assert!(answer.push(b"HTTP/1.1 200 OK\r\n\r\nhello").unwrap());
        assert_eq!(answer.status().unwrap(), (200, "OK".into(), true));
        let mut endless = ConnectAnswer::default();
        let line = [b'x'; 1024];
        let results: Vec<_> = (0..17).map(|_| endless.push(&line)).collect();
        assert!(results[15].is_ok() && results[16].is_err());
    }

    /// Found by fuzzing (proxy_replies): a header that ended past 16 KiB was accepted when
    /// its end came in the same read that crossed the limit, and refused when read in
    /// smaller pieces.
    #[test]
    fn the_header_limit_does_not_depend_on_the_reads() {
        let long = |len: usize| {
            let mut a = b"HTTP/1.1 200 OK\r\nVia: ".to_vec();
            a.resize(len - 4, b'x');
            a.extend_from_slice(b"\r\n\r\n");
            a
        };
        let outcome = |a: &[u8], piece: usize| {
            let mut answer = ConnectAnswer::default();
            for c in a.chunks(piece) {
                match answer.push(c) {
                    Ok(true) => return Ok(answer.status().unwrap().0),
                    Ok(false) => {}
                    Err(e) => return Err(e),
                }
            }
            unreachable!("the header ends")
        };
        for piece in [1, 7, 1024, 4096, 1 << 20] {
            assert_eq!(
                outcome(&long(MAX_CONNECT_ANSWER), piece),
                Ok(200),
                "{piece}"
            );
            let e = outcome(&long(MAX_CONNECT_ANSWER + 1), piece).unwrap_err();
            assert!(e.contains("over 16 KiB"), "{piece}: {e}");
        }
    }

    #[test]
    fn socks5_messages_follow_rfc_1928_and_1929() {
        assert_eq!(socks_greeting(false), [5, 1, 0]);
        assert_eq!(socks_greeting(true), [5, 1, 2]);
        assert_eq!(socks_method([5, 0], false), Ok(SocksMethod::NoAuth));
        assert_eq!(socks_method([5, 2], true), Ok(SocksMethod::UserPass));
        assert_eq!(
            socks_method([5, 0xFF], false),
            Ok(SocksMethod::Refused(0xFF))
        );
        assert_eq!(socks_method([5, 0], true), Ok(SocksMethod::Refused(0)));
        assert!(socks_method([4, 0], false).is_err());
        assert_eq!(
            socks_auth_request("ab", "xyz"),
            [1, 2, b'a', b'b', 3, b'x', b'y', b'z']
        );
        assert!(socks_auth_ok([1, 0]));
        assert!(!socks_auth_ok([1, 1]));
        let ip = SocksTarget::Ip("127.0.0.1".parse().unwrap());
        assert_eq!(
            socks_connect(&ip, 0x1234).unwrap(),
            [5, 1, 0, 1, 127, 0, 0, 1, 0x12, 0x34]
        );
        let name = SocksTarget::Name("ab.c".into());
        assert_eq!(
            socks_connect(&name, 80).unwrap(),
            [5, 1, 0, 3, 4, b'a', b'b', b'.', b'c', 0, 80]
        );
        let v6 = SocksTarget::Ip("::1".parse().unwrap());
        assert_eq!(socks_connect(&v6, 1).unwrap().len(), 4 + 16 + 2);
        assert!(socks_connect(&SocksTarget::Name("a".repeat(256)), 1).is_err());
    }

    #[test]
    fn socks5_replies_have_their_length_and_code_in_words() {
        assert_eq!(socks_reply_len([5, 0, 0, 1, 0]), Ok(10));
        assert_eq!(socks_reply_len([5, 0, 0, 4, 0]), Ok(22));
        assert_eq!(socks_reply_len([5, 0, 0, 3, 7]), Ok(14));
        assert!(socks_reply_len([5, 0, 0, 9, 0]).is_err());
        assert!(socks_reply_len([0, 90, 0, 0, 0]).is_err());
        assert_eq!(socks_reply_text(5), "connection refused (reply code 5)");
        assert_eq!(
            socks_reply_text(2),
            "connection not allowed by ruleset (reply code 2)"
        );
        assert_eq!(socks_reply_text(42), "reply code 42 (unassigned)");
    }
}
