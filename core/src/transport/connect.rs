//! Establishing a connection: DNS, TCP, TLS and the WebSocket handshake, all under one
//! deadline and all interruptible by `close()` / `reconnect()`.
//!
//! Everything runs on the I/O thread with non-blocking sockets and the poller, except the
//! DNS lookup (`getaddrinfo` has no timeout), which runs on a short-lived helper thread whose
//! answer is awaited under the deadline.

use std::io;
use std::sync::Arc;
use std::time::Instant;

use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{HandshakeError, WebSocket};

use super::dial::{resolve, tcp_connect};
use super::{Metered, Reactor, Socket, Transport};
use crate::config::Settings;
use crate::error::ConnectReason;
use crate::status::Counters;
use crate::url::Scheme;

/// Why `connect` stopped early on request.
#[derive(Debug)]
pub(crate) enum Interrupt {
    /// `close()` was called.
    Close,
    /// `reconnect()` was called.
    Reconnect,
    /// `disconnect()` was called; `done` is answered once the client is disconnected.
    Disconnect { done: crossbeam_channel::Sender<()> },
}

/// A connection attempt that did not produce a WebSocket.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Stopped on request.
    Interrupted(Interrupt),
    /// Failed; `fatal` failures (rejected credentials, untrusted certificate) are not retried.
    /// `reason`: why, classified where it happened (`None`: none of the named reasons).
    Failed {
        message: String,
        fatal: bool,
        reason: Option<ConnectReason>,
    },
}

impl Failure {
    /// A failure the next attempt may not have, for none of the named reasons.
    pub(super) fn retry(message: impl Into<String>) -> Failure {
        Failure::because(None, message)
    }

    /// A failure the next attempt may not have, for `reason`.
    pub(super) fn because(reason: Option<ConnectReason>, message: impl Into<String>) -> Failure {
        Failure::Failed {
            message: message.into(),
            fatal: false,
            reason,
        }
    }

    /// A phase that did not finish before the deadline; the message is filled in by
    /// `connect` (it names the phase).
    pub(super) fn deadline() -> Failure {
        Failure::because(Some(ConnectReason::TimedOut), "")
    }
}

/// The reason of a failed TCP connect (or of a later socket error), by its I/O error kind:
/// refused and timed out are named, the rest is not. Pure.
pub(crate) fn reason_of_io(kind: io::ErrorKind) -> Option<ConnectReason> {
    match kind {
        io::ErrorKind::ConnectionRefused => Some(ConnectReason::ConnectionRefused),
        io::ErrorKind::TimedOut => Some(ConnectReason::TimedOut),
        _ => None,
    }
}

/// The reason of a WebSocket handshake answered with HTTP `status` instead of 101: refused
/// credentials for 401 and 403, a failed handshake otherwise. Pure.
pub(crate) fn reason_of_status(status: u16) -> ConnectReason {
    match status {
        401 | 403 => ConnectReason::Auth,
        _ => ConnectReason::Handshake,
    }
}

pub(crate) use super::dial::DNS_THREADS;

/// Connects and completes the WebSocket handshake before `deadline`.
/// `check` is called whenever the thread wakes; it returns `Some` to stop the attempt.
pub(crate) fn connect(
    s: &Settings,
    tls: Option<&native_tls::TlsConnector>,
    reactor: &mut Reactor,
    counters: &Arc<Counters>,
    check: &mut dyn FnMut() -> Option<Interrupt>,
) -> Result<WebSocket<Metered>, Failure> {
    let deadline = Instant::now() + s.connect_timeout;
    let host = s.endpoint.host.as_str();
    let port = s.endpoint.port;
    let timeout_msg = |phase: &str| {
        format!(
            "{phase} with {host}:{port} did not complete within connect_timeout ({:?}); check that the server is up and reachable, or raise connect_timeout",
            s.connect_timeout
        )
    };

    // Through a proxy, the TCP connection goes to the proxy and the tunnel to the venue.
    let (dial_host, dial_port) = match &s.proxy {
        Some(p) => (p.host.as_str(), p.port),
        None => (host, port),
    };
    let via = s
        .proxy
        .as_ref()
        .map(|p| format!("the proxy {}", p.redacted()));
    let addrs = resolve(dial_host, dial_port, deadline, reactor, check).map_err(|f| match f {
        Failure::Failed {
            message, reason, ..
        } if message.is_empty() => Failure::because(reason, timeout_msg("the DNS lookup")),
        Failure::Failed {
            message, reason, ..
        } if via.is_some() => Failure::because(
            reason,
            format!("{} is unreachable: {message}", via.as_deref().unwrap_or("")),
        ),
        other => other,
    })?;

    let mut last_err = String::new();
    let mut last_reason = None;
    let mut last_addr = None;
    let mut socket = None;
    for addr in &addrs {
        last_addr = Some(*addr);
        match tcp_connect(*addr, deadline, reactor, check) {
            Ok(sock) => {
                socket = Some(sock);
                break;
            }
            Err(Failure::Failed {
                message, reason, ..
            }) if message.is_empty() => {
                return Err(Failure::because(reason, timeout_msg("the TCP connection")))
            }
            Err(Failure::Failed {
                message, reason, ..
            }) => {
                last_err = message;
                last_reason = reason;
            }
            Err(other) => return Err(other),
        }
    }
    let socket = socket.ok_or_else(|| {
        let target = connect_target(dial_host, dial_port, last_addr);
        let message = match &via {
            Some(v) => format!("{v} is unreachable: could not connect to {target}: {last_err}"),
            None => format!("could not connect to {target}: {last_err}"),
        };
        Failure::because(last_reason, message)
    })?;
    if let Some(p) = &s.proxy {
        super::tunnel::open(
            p,
            host,
            port,
            &socket,
            deadline,
            reactor,
            check,
            &timeout_msg,
        )?;
    }
    let _ = socket.tcp().set_nodelay(true);

    let transport = match (s.endpoint.scheme, tls) {
        (Scheme::Wss, Some(tls)) => Transport::Tls(Box::new(tls_handshake(
            tls,
            host,
            socket,
            deadline,
            reactor,
            check,
            &timeout_msg,
            s,
        )?)),
        (Scheme::Wss, None) => {
            return Err(Failure::retry(
                "internal error: no TLS connector for a wss:// URL",
            ))
        }
        (Scheme::Ws, _) => Transport::Plain(socket),
    };
    ws_handshake(
        s,
        Metered::new(transport, counters.clone()),
        deadline,
        reactor,
        check,
        &timeout_msg,
    )
}

#[allow(clippy::too_many_arguments)]
fn tls_handshake(
    tls: &native_tls::TlsConnector,
    host: &str,
    socket: Socket,
    deadline: Instant,
    reactor: &mut Reactor,
    check: &mut dyn FnMut() -> Option<Interrupt>,
    timeout_msg: &dyn Fn(&str) -> String,
    s: &Settings,
) -> Result<native_tls::TlsStream<Socket>, Failure> {
    let mut attempt = tls.connect(host, socket);
    loop {
        match attempt {
            Ok(stream) => {
                stream
                    .get_ref()
                    .want(false, false)
                    .map_err(|e| Failure::retry(format!("poll setup failed: {e}")))?;
                return Ok(stream);
            }
            Err(native_tls::HandshakeError::Failure(e)) => {
                return Err(tls_failure(&e.to_string(), host, s))
            }
            Err(native_tls::HandshakeError::WouldBlock(mid)) => {
                mid.get_ref()
                    .want(true, false)
                    .map_err(|e| Failure::retry(format!("poll setup failed: {e}")))?;
                wait_step(deadline, reactor, check, || {
                    timeout_msg("the TLS handshake")
                })?;
                attempt = mid.handshake();
            }
        }
    }
}

fn tls_failure(err: &str, host: &str, s: &Settings) -> Failure {
    let lower = err.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("verify") {
        Failure::Failed {
            message: format!(
                "the TLS certificate of {host} was not accepted ({err}). If the server uses a self-signed or private certificate and you trust this network, set verify_tls = false (rejectUnauthorized: false); otherwise install the issuing CA in the system trust store"
            ),
            fatal: s.verify_tls,
            reason: Some(ConnectReason::Tls),
        }
    } else {
        Failure::because(
            Some(ConnectReason::Tls),
            format!("the TLS handshake with {host} failed: {err}"),
        )
    }
}

fn ws_handshake(
    s: &Settings,
    stream: Metered,
    deadline: Instant,
    reactor: &mut Reactor,
    check: &mut dyn FnMut() -> Option<Interrupt>,
    timeout_msg: &dyn Fn(&str) -> String,
) -> Result<WebSocket<Metered>, Failure> {
    let mut request = s
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| Failure::Failed {
            message: s.scrub(&format!("bad request URL: {e}")),
            fatal: true,
            reason: None,
        })?;
    {
        let headers = request.headers_mut();
        headers.insert(
            "User-Agent",
            tungstenite::http::HeaderValue::from_static(concat!(
                "tradewire/",
                env!("CARGO_PKG_VERSION")
            )),
        );
        for (k, v) in &s.headers {
            let name = tungstenite::http::HeaderName::from_bytes(k.as_bytes());
            let value = tungstenite::http::HeaderValue::from_str(v);
            match (name, value) {
                (Ok(n), Ok(v)) => {
                    headers.insert(n, v);
                }
                _ => {
                    return Err(Failure::Failed {
                        message: format!("the header `{k}` cannot be sent (invalid name or value)"),
                        fatal: true,
                        reason: None,
                    })
                }
            }
        }
        if s.compression.is_some() {
            headers.insert(
                "Sec-WebSocket-Extensions",
                tungstenite::http::HeaderValue::from_static(crate::deflate::OFFER),
            );
        }
    }
    let mut config = WebSocketConfig::default();
    config.read_buffer_size = s.read_buffer_size;
    config.write_buffer_size = 0;
    config.max_write_buffer_size = s.max_write_buffer;
    config.max_message_size = Some(s.max_message_size);
    config.max_frame_size = Some(s.max_frame_size);

    let _ = stream.socket().want(true, false);
    let mut attempt = tungstenite::client::client_with_config(request, stream, Some(config));
    loop {
        match attempt {
            Ok((mut ws, response)) => {
                ws.get_mut().deflate = extensions(s, &response)?;
                return Ok(ws);
            }
            Err(HandshakeError::Interrupted(mid)) => {
                wait_step(deadline, reactor, check, || {
                    timeout_msg("the WebSocket handshake")
                })?;
                attempt = mid.handshake();
            }
            Err(HandshakeError::Failure(e)) => return Err(handshake_failure(s, e)),
        }
    }
}

/// The extension the server's answer agreed to; anything we did not offer fails the
/// connection (RFC 6455 §9.1).
fn extensions(
    s: &Settings,
    response: &tungstenite::handshake::client::Response,
) -> Result<Option<crate::deflate::Params>, Failure> {
    let values: Vec<&str> = response
        .headers()
        .get_all("Sec-WebSocket-Extensions")
        .iter()
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
        .collect();
    crate::deflate::accept(&values, s.compression.is_some()).map_err(|why| {
        Failure::because(
            Some(ConnectReason::Handshake),
            s.scrub(&format!(
                "the WebSocket handshake with {} failed: the server's Sec-WebSocket-Extensions answer has {}",
                s.redacted_url,
                crate::redact::untrusted(&why, 200)
            )),
        )
    })
}

fn handshake_failure(s: &Settings, e: tungstenite::Error) -> Failure {
    match e {
        tungstenite::Error::Http(resp) => http_failure(s, &resp),
        other => Failure::because(
            Some(ConnectReason::Handshake),
            s.scrub(&format!(
                "the WebSocket handshake with {} failed: {}",
                s.redacted_url,
                explain_handshake_error(&other)
            )),
        ),
    }
}

/// What a handshake error from tungstenite means, in terms of what the server did wrong and
/// what to check. Pure.
fn explain_handshake_error(e: &tungstenite::Error) -> String {
    use tungstenite::error::{CapacityError, ProtocolError as P};
    use tungstenite::Error as E;
    let not_ws = "the server (or a proxy in front of it) may not speak WebSocket at this URL; check the URL and the port";
    match e {
        E::AttackAttempt => "the server's HTTP answer was malformed or hostile (tungstenite refused it as an attack attempt: for example a header block over the size limit); check that the URL points at a WebSocket endpoint".into(),
        E::Capacity(CapacityError::TooManyHeaders) => "the server's HTTP answer has too many headers".into(),
        E::Capacity(CapacityError::MessageTooLong { size, max_size }) => format!("the server's HTTP answer is too long ({size} bytes, limit {max_size})"),
        E::Protocol(P::WrongHttpVersion) => format!("the server answered with an HTTP version older than 1.1; {not_ws}"),
        E::Protocol(P::MissingConnectionUpgradeHeader) => format!("the server's answer lacks the `Connection: upgrade` header; {not_ws}"),
        E::Protocol(P::MissingUpgradeWebSocketHeader) => format!("the server's answer lacks the `Upgrade: websocket` header; {not_ws}"),
        E::Protocol(P::SecWebSocketAcceptKeyMismatch) => "the server's `Sec-WebSocket-Accept` header is missing or does not match our key (a broken server or an interfering proxy)".into(),
        E::Protocol(P::SecWebSocketSubProtocolError(sub)) => format!("the server's `Sec-WebSocket-Protocol` answer is not acceptable ({sub})"),
        E::Protocol(P::InvalidHeader(name)) => format!("the server's answer has a missing, duplicated or incorrect `{name}` header"),
        E::Protocol(P::HandshakeIncomplete) => "the server closed the connection before completing the WebSocket handshake".into(),
        E::Protocol(P::HttparseError(h)) => format!("the server's answer is not valid HTTP ({h}); {not_ws}"),
        E::Protocol(P::JunkAfterRequest) => "the server sent unexpected data after its HTTP answer".into(),
        E::Protocol(other) => format!("the server violated the WebSocket protocol: {other}"),
        E::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => "the server closed the connection before completing the WebSocket handshake".into(),
        E::Io(io) => format!("I/O error: {io}"),
        E::Utf8(_) => "the server's HTTP answer is not valid UTF-8".into(),
        E::HttpFormat(h) => format!("the server's HTTP answer is malformed ({h})"),
        E::Url(u) => format!("the URL cannot be used ({u})"),
        other => other.to_string(),
    }
}

fn http_failure(s: &Settings, resp: &tungstenite::http::Response<Option<Vec<u8>>>) -> Failure {
    let status = resp.status();
    // The body is the server's text (it may echo our request, token included): scrubbed
    // whole first, control characters escaped, cut after.
    let body = resp
        .body()
        .as_deref()
        .map(|b| String::from_utf8_lossy(b).trim().to_string())
        .filter(|b| !b.is_empty())
        .map(|b| format!(" ({})", crate::redact::untrusted(&b, 200)))
        .unwrap_or_default();
    let code = status.as_u16();
    let what = format!("the server answered the WebSocket handshake with HTTP {status}{body}");
    let reason = Some(reason_of_status(code));
    match code {
        401 | 403 => Failure::Failed {
            message: format!("{what}: the credentials were rejected; check the token"),
            fatal: true,
            reason,
        },
        404 => Failure::because(
            reason,
            format!("{what}: check the URL path ({})", s.redacted_url),
        ),
        _ => Failure::because(reason, what),
    }
}

/// Waits for the next readiness during a handshake, honouring interrupts and the deadline.
pub(super) fn wait_step(
    deadline: Instant,
    reactor: &mut Reactor,
    check: &mut dyn FnMut() -> Option<Interrupt>,
    timeout_msg: impl Fn() -> String,
) -> Result<(), Failure> {
    loop {
        if let Some(i) = check() {
            return Err(Failure::Interrupted(i));
        }
        if Instant::now() >= deadline {
            return Err(Failure::because(
                Some(ConnectReason::TimedOut),
                timeout_msg(),
            ));
        }
        let ready = reactor
            .wait(Some(deadline))
            .map_err(|e| Failure::retry(format!("poll failed: {e}")))?;
        if ready {
            return Ok(());
        }
    }
}

/// `host:port`, with the address tried when the host is a name (`localhost:9 (127.0.0.1:9)`),
/// not twice when it is an address. Pure.
fn connect_target(host: &str, port: u16, addr: Option<std::net::SocketAddr>) -> String {
    match addr {
        Some(a)
            if host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_err() =>
        {
            format!("{host}:{port} ({a})")
        }
        _ => format!("{host}:{port}"),
    }
}

/// Builds the TLS connector once per client (loading the system roots is not free).
pub(crate) fn tls_connector(verify: bool) -> crate::Result<native_tls::TlsConnector> {
    native_tls::TlsConnector::builder()
        .danger_accept_invalid_certs(!verify)
        .danger_accept_invalid_hostnames(!verify)
        .build()
        .map_err(|e| crate::Error::connect(format!("could not set up TLS: {e}")).with_source(e))
}

#[cfg(test)]
mod handshake_error_tests {
    use super::explain_handshake_error;
    use tungstenite::error::ProtocolError;

    #[test]
    fn a_connect_target_names_an_address_once() {
        use super::connect_target;
        let a: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(connect_target("127.0.0.1", 9, Some(a)), "127.0.0.1:9");
        assert_eq!(
            connect_target("localhost", 9, Some(a)),
            "localhost:9 (127.0.0.1:9)"
        );
        let v6: std::net::SocketAddr = "[::1]:9".parse().unwrap();
        assert_eq!(connect_target("[::1]", 9, Some(v6)), "[::1]:9");
    }

    #[test]
    fn failures_are_classified_by_what_happened() {
        use super::{reason_of_io, reason_of_status};
        use crate::error::ConnectReason as R;
        use std::io::ErrorKind as K;
        assert_eq!(
            reason_of_io(K::ConnectionRefused),
            Some(R::ConnectionRefused)
        );
        assert_eq!(reason_of_io(K::TimedOut), Some(R::TimedOut));
        assert_eq!(reason_of_io(K::PermissionDenied), None);
        assert_eq!(reason_of_io(K::AddrNotAvailable), None);
        assert_eq!(reason_of_status(401), R::Auth);
        assert_eq!(reason_of_status(403), R::Auth);
        for status in [200, 301, 400, 404, 500, 503] {
            assert_eq!(reason_of_status(status), R::Handshake, "{status}");
        }
    }

    #[test]
    fn terse_handshake_errors_say_what_the_server_did() {
        let m = explain_handshake_error(&tungstenite::Error::AttackAttempt);
        assert!(m.contains("malformed or hostile"), "{m}");
        let m = explain_handshake_error(&tungstenite::Error::Protocol(
            ProtocolError::SecWebSocketAcceptKeyMismatch,
        ));
        assert!(m.contains("Sec-WebSocket-Accept"), "{m}");
        let m = explain_handshake_error(&tungstenite::Error::Protocol(
            ProtocolError::HandshakeIncomplete,
        ));
        assert!(m.contains("before completing"), "{m}");
    }
}
