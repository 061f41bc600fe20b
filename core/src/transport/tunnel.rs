//! Opening the tunnel through a proxy on the connection's non-blocking socket: every read and
//! write waits on the poller under the connect deadline and stops when `check` says so, as
//! the rest of `connect` does.

use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::time::Instant;

use crate::error::ConnectReason;
use crate::proxy::wire::{self, SocksMethod, SocksTarget};
use crate::proxy::{bracketed, Proxy, ProxyKind};
use crate::transport::connect::{wait_step, Failure, Interrupt};
use crate::transport::dial::resolve;
use crate::transport::{Reactor, Socket};

/// One handshake with the proxy: the socket, the deadline and what to say on timeout.
struct Step<'a> {
    proxy: &'a Proxy,
    socket: &'a Socket,
    deadline: Instant,
    reactor: &'a mut Reactor,
    check: &'a mut dyn FnMut() -> Option<Interrupt>,
    timeout_msg: &'a dyn Fn(&str) -> String,
}

/// Asks `proxy` (already connected on `socket`) for a tunnel to `host:port`. On success the
/// socket carries the venue's bytes (TLS and the WebSocket handshake follow inside it).
#[allow(clippy::too_many_arguments)]
pub(crate) fn open(
    proxy: &Proxy,
    host: &str,
    port: u16,
    socket: &Socket,
    deadline: Instant,
    reactor: &mut Reactor,
    check: &mut dyn FnMut() -> Option<Interrupt>,
    timeout_msg: &dyn Fn(&str) -> String,
) -> Result<(), Failure> {
    let mut step = Step {
        proxy,
        socket,
        deadline,
        reactor,
        check,
        timeout_msg,
    };
    let result = match proxy.kind {
        ProxyKind::Http => http_connect(&mut step, host, port),
        ProxyKind::Socks5 | ProxyKind::Socks5h => socks5(&mut step, host, port),
    };
    let _ = socket.want(false, false);
    result
}

fn http_connect(step: &mut Step<'_>, host: &str, port: u16) -> Result<(), Failure> {
    let auth = step
        .proxy
        .auth
        .as_ref()
        .map(|(u, p)| (u.as_str(), p.as_str()));
    let request = wire::connect_request(host, port, auth);
    step.write_all(request.as_bytes(), "CONNECT")?;
    // Nothing comes from the venue before we speak (TLS and WebSocket clients speak first),
    // so reading in chunks cannot take the venue's bytes; any extra byte is an error.
    let mut answer = wire::ConnectAnswer::default();
    loop {
        let mut chunk = [0u8; 1024];
        let n = step.read(&mut chunk, "CONNECT")?;
        if answer
            .push(&chunk[..n])
            .map_err(|e| step.refused(None, e))?
        {
            break;
        }
    }
    let (code, phrase, extra) = answer
        .status()
        .map_err(|e| step.refused(Some(ConnectReason::Handshake), e))?;
    let target = format!("{}:{port}", bracketed(host));
    match code {
        200..=299 if !extra => Ok(()),
        200..=299 => Err(step.refused(
            Some(ConnectReason::Handshake),
            "it sent data after its answer to CONNECT".into(),
        )),
        // 407 is the standard answer; some proxies (tinyproxy 1.11) answer 401.
        401 | 407 => Err(step.auth_refused(format!(
            "it answered CONNECT {target} with {code} {phrase} (proxy authentication required)"
        ))),
        _ => Err(step.refused(
            Some(ConnectReason::Handshake),
            format!("it answered CONNECT {target} with {code} {phrase}"),
        )),
    }
}

fn socks5(step: &mut Step<'_>, host: &str, port: u16) -> Result<(), Failure> {
    let with_auth = step.proxy.auth.is_some();
    // socks5://: the name is resolved here (under the same deadline), the proxy gets an address.
    let target = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => SocksTarget::Ip(ip),
        Err(_) if step.proxy.kind == ProxyKind::Socks5h => SocksTarget::Name(host.to_string()),
        Err(_) => {
            let addrs = resolve(host, port, step.deadline, step.reactor, step.check).map_err(
                |f| match f {
                    Failure::Failed {
                        message, reason, ..
                    } if message.is_empty() => {
                        Failure::because(reason, (step.timeout_msg)("the DNS lookup"))
                    }
                    other => other,
                },
            )?;
            match addrs.first() {
                Some(a) => SocksTarget::Ip(a.ip()),
                None => {
                    return Err(Failure::because(
                        Some(ConnectReason::Dns),
                        format!("the DNS lookup of {host} returned no address"),
                    ))
                }
            }
        }
    };
    step.write_all(&wire::socks_greeting(with_auth), "SOCKS5 greeting")?;
    let mut method = [0u8; 2];
    step.read_exact(&mut method, "SOCKS5 greeting")?;
    match wire::socks_method(method, with_auth)
        .map_err(|e| step.refused(Some(ConnectReason::Handshake), e))?
    {
        SocksMethod::NoAuth => {}
        SocksMethod::UserPass => {
            let (user, password) = step.proxy.auth.clone().unwrap_or_default();
            step.write_all(&wire::socks_auth_request(&user, &password), "SOCKS5 login")?;
            let mut answer = [0u8; 2];
            step.read_exact(&mut answer, "SOCKS5 login")?;
            if !wire::socks_auth_ok(answer) {
                return Err(step.auth_refused(
                    "it refused the user name and password (RFC 1929 status {})"
                        .replace("{}", &answer[1].to_string()),
                ));
            }
        }
        SocksMethod::Refused(m) if !with_auth => {
            return Err(step.auth_refused(format!(
                "it accepts no connection without credentials (method answer {m:#04x})"
            )))
        }
        SocksMethod::Refused(m) => {
            return Err(step.auth_refused(format!(
                "it does not accept username/password authentication (method answer {m:#04x})"
            )))
        }
    }
    let request = wire::socks_connect(&target, port).map_err(|e| Failure::Failed {
        message: e,
        fatal: true,
        reason: None,
    })?;
    step.write_all(&request, "SOCKS5 CONNECT")?;
    let mut head = [0u8; 5];
    step.read_exact(&mut head, "SOCKS5 CONNECT")?;
    let len =
        wire::socks_reply_len(head).map_err(|e| step.refused(Some(ConnectReason::Handshake), e))?;
    let mut rest = vec![0u8; len - head.len()];
    step.read_exact(&mut rest, "SOCKS5 CONNECT")?;
    match head[1] {
        0 => Ok(()),
        code => {
            let reason = if code == 5 {
                ConnectReason::ConnectionRefused
            } else {
                ConnectReason::Handshake
            };
            Err(step.refused(
                Some(reason),
                format!(
                    "it could not connect to {}:{port}: {}",
                    bracketed(host),
                    wire::socks_reply_text(code)
                ),
            ))
        }
    }
}

impl Step<'_> {
    /// A refusal worth retrying: which proxy and why.
    fn refused(&self, reason: Option<ConnectReason>, why: String) -> Failure {
        Failure::because(
            reason,
            crate::redact::scrub(&format!("the proxy {}: {why}", self.proxy.redacted()))
                .into_owned(),
        )
    }

    /// Refused credentials: fatal, with the `auth` reason.
    fn auth_refused(&self, why: String) -> Failure {
        let hint = if self.proxy.auth.is_some() {
            "check the proxy's user name and password"
        } else {
            "the proxy wants credentials: give them as user:password@ in the proxy URL"
        };
        Failure::Failed {
            message: crate::redact::scrub(&format!(
                "the proxy {}: {why}; {hint}",
                self.proxy.redacted()
            ))
            .into_owned(),
            fatal: true,
            reason: Some(ConnectReason::Auth),
        }
    }

    fn timed_out(&self, what: &str) -> String {
        (self.timeout_msg)(&format!(
            "the {what} exchange through the proxy {}",
            self.proxy.redacted()
        ))
    }

    fn write_all(&mut self, mut bytes: &[u8], what: &str) -> Result<(), Failure> {
        while !bytes.is_empty() {
            match self.socket.tcp().write(bytes) {
                Ok(0) => return Err(self.closed(what)),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(false, what)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(&e, what)),
            }
        }
        Ok(())
    }

    /// Reads what has arrived (at least one byte), waiting for it under the deadline.
    fn read(&mut self, buf: &mut [u8], what: &str) -> Result<usize, Failure> {
        loop {
            match self.socket.tcp().read(buf) {
                Ok(0) => return Err(self.closed(what)),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(true, what)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(&e, what)),
            }
        }
    }

    fn read_exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), Failure> {
        let mut filled = 0;
        while filled < buf.len() {
            filled += self.read(&mut buf[filled..], what)?;
        }
        Ok(())
    }

    fn wait(&mut self, readable: bool, what: &str) -> Result<(), Failure> {
        self.socket
            .want(readable, !readable)
            .map_err(|e| Failure::retry(format!("poll setup failed: {e}")))?;
        let msg = self.timed_out(what);
        wait_step(self.deadline, self.reactor, self.check, || msg.clone())
    }

    fn closed(&self, what: &str) -> Failure {
        self.refused(
            None,
            format!("it closed the connection during the {what} exchange"),
        )
    }

    fn io_error(&self, e: &io::Error, what: &str) -> Failure {
        self.refused(
            crate::transport::connect::reason_of_io(e.kind()),
            format!("the {what} exchange failed: {e}"),
        )
    }
}
