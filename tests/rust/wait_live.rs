//! `wait_live(timeout)`: returns once the connection is live (after the login for
//! Tradovate), or the first attempt's error with a reason to branch on
//! (`connection_refused`, `timed_out`, `dns`, `tls`, `handshake`, `auth`); the client keeps
//! reconnecting in the background and becomes live when the server appears.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use tradewire::{Client, Config, ConnectReason, Error, ErrorCategory, Preset};
use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer};
use tradewire_testkit::{DaemonServer, ServerOptions, SilentListener, TokenCheck, WsServer};

use crate::support::peer::PeerServer;
use crate::support::{quick, SOON};

/// A port nobody listens on (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn started(config: Config) -> Client {
    Client::connect(quick(config)).expect("valid config")
}

/// Started, with `connect_timeout` (which `quick` would otherwise set).
fn started_with_timeout(config: Config, connect_timeout: Duration) -> Client {
    Client::connect(quick(config).connect_timeout(connect_timeout)).expect("valid config")
}

/// The error of `wait_live`, which must fail.
fn wait_error(client: &Client) -> Error {
    match client.wait_live(SOON) {
        Ok(()) => panic!("wait_live succeeded; status {:?}", client.status()),
        Err(e) => e,
    }
}

/// Calls `wait_live` until it succeeds (each failed attempt is returned as it happens),
/// within `SOON`; the errors seen before.
fn live_eventually(client: &Client) -> Vec<Error> {
    let deadline = Instant::now() + SOON;
    let mut seen = Vec::new();
    loop {
        match client.wait_live(deadline.saturating_duration_since(Instant::now())) {
            Ok(()) => return seen,
            Err(e) if Instant::now() < deadline && e.kind() != ErrorCategory::Timeout => {
                seen.push(e)
            }
            Err(e) => panic!("not live within {SOON:?}: {e}; before: {seen:?}"),
        }
    }
}

#[test]
fn live_against_the_testkit_daemon_and_at_once_when_already_live() {
    let daemon = DaemonServer::start().unwrap();
    let client = started(Config::new(daemon.url()).preset(Preset::Daemon));
    client.wait_live(SOON).expect("live");
    assert!(client.status().connected);
    // Already live: at once, even with no time to wait.
    client.wait_live(Duration::ZERO).expect("still live");
}

#[test]
fn live_against_the_python_websockets_daemon() {
    let Some(peer) = PeerServer::python("daemon_server.py", &["--port", "0"]) else {
        return;
    };
    let client = started(Config::new(peer.url("")).preset(Preset::Daemon));
    client.wait_live(SOON).expect("live");
    assert!(peer.wait_count(1, SOON));
    // Stopped: the next attempt is refused, and wait_live says so; started again: live.
    peer.stop();
    let e = wait_error(&client);
    assert_eq!(e.reason(), Some(ConnectReason::ConnectionRefused), "{e}");
    peer.start();
    live_eventually(&client);
}

#[test]
fn refused_then_live_when_the_server_appears() {
    let port = free_port();
    let client = started(Config::new(format!("ws://127.0.0.1:{port}")));
    let e = wait_error(&client);
    assert_eq!(e.reason(), Some(ConnectReason::ConnectionRefused), "{e}");
    assert_eq!(e.reason().unwrap().as_str(), "connection_refused");
    assert_eq!(e.kind(), ErrorCategory::Connect);
    assert!(e.to_string().contains(&port.to_string()), "{e}");
    // The client goes on trying in the background.
    let server = WsServer::start(ServerOptions {
        port,
        ..ServerOptions::default()
    })
    .unwrap();
    let before = live_eventually(&client);
    assert!(
        before
            .iter()
            .all(|e| e.reason() == Some(ConnectReason::ConnectionRefused)),
        "{before:?}"
    );
    assert!(server.wait_for_connections(1, SOON));
}

#[test]
fn a_name_that_does_not_resolve_is_dns() {
    let client = started(Config::new("ws://nonexistent.invalid:8765/"));
    let e = wait_error(&client);
    assert_eq!(e.reason(), Some(ConnectReason::Dns), "{e}");
    assert_eq!(e.kind(), ErrorCategory::Connect);
}

#[test]
fn tls_failures_are_tls() {
    // wss to a server that speaks plain WebSocket: retried.
    let plain = WsServer::start(ServerOptions::default()).unwrap();
    let url = plain.url().replacen("ws://", "wss://", 1);
    let client = started(Config::new(url));
    let e = wait_error(&client);
    assert_eq!(e.reason(), Some(ConnectReason::Tls), "{e}");
    assert_eq!(e.kind(), ErrorCategory::Connect);

    // An untrusted certificate: fatal (the client gives up), still tls.
    let tls = WsServer::start(ServerOptions {
        tls: true,
        ..ServerOptions::default()
    })
    .unwrap();
    let client = started(Config::new(tls.url()));
    let e = wait_error(&client);
    assert_eq!(e.reason(), Some(ConnectReason::Tls), "{e}");
    assert!(e.to_string().contains("certificate"), "{e}");
    // Gave up: a later wait says so, with the same reason.
    let again = wait_error(&client);
    assert_eq!(again.kind(), ErrorCategory::Closed, "{again}");
    assert_eq!(again.reason(), Some(ConnectReason::Tls));
}

#[test]
fn an_http_status_instead_of_101_is_handshake() {
    let server = WsServer::start(ServerOptions {
        path: Some("/ws".into()),
        ..ServerOptions::default()
    })
    .unwrap();
    let url = format!("ws://127.0.0.1:{}/elsewhere", server.port());
    let client = started(Config::new(url));
    let e = wait_error(&client);
    assert_eq!(e.reason(), Some(ConnectReason::Handshake), "{e}");
    assert!(e.to_string().contains("404"), "{e}");
}

#[test]
fn refused_credentials_are_auth() {
    // HTTP 401 to the WebSocket handshake.
    let server = WsServer::start(ServerOptions {
        token: TokenCheck::Required("right".into()),
        reject_token_with_http_401: true,
        ..ServerOptions::default()
    })
    .unwrap();
    let client = started(Config::new(server.url()).token("wrong"));
    let e = wait_error(&client);
    assert_eq!(e.reason(), Some(ConnectReason::Auth), "{e}");
    assert_eq!(e.kind(), ErrorCategory::Auth);

    // Tradovate: the token request refuses the credentials.
    let tradovate = TradovateServer::start(TradovateOptions::default()).unwrap();
    tradovate.reject_credentials(true);
    let client = Client::connect(crate::tradovate_session::config(&tradovate)).unwrap();
    let e = wait_error(&client);
    assert_eq!(e.reason(), Some(ConnectReason::Auth), "{e}");
    assert_eq!(e.kind(), ErrorCategory::Auth);
    assert!(!e.to_string().contains("secret"), "{e}");
}

#[test]
fn tradovate_is_live_once_logged_in() {
    let tradovate = TradovateServer::start(TradovateOptions::default()).unwrap();
    let client = Client::connect(crate::tradovate_session::config(&tradovate)).unwrap();
    client.wait_live(SOON).expect("live");
    let status = client.status();
    assert!(status.authenticated, "{status:?}");
    assert!(tradovate.authorizations() >= 1);
}

#[test]
fn a_token_server_that_cannot_be_reached_gives_the_reason() {
    let tradovate = TradovateServer::start(TradovateOptions::default()).unwrap();
    // Refused: nobody listens on the token URL's port.
    let refused = format!(
        "http://127.0.0.1:{}/v1/auth/accesstokenrequest",
        free_port()
    );
    let client =
        Client::connect(crate::tradovate_session::config(&tradovate).auth_url(refused)).unwrap();
    let e = wait_error(&client);
    assert_eq!(e.reason(), Some(ConnectReason::ConnectionRefused), "{e}");
    assert_eq!(e.kind(), ErrorCategory::Connect, "{e}");
    // A name that does not resolve.
    let unknown = "http://tradewire-test.invalid/v1/auth/accesstokenrequest".to_string();
    let client =
        Client::connect(crate::tradovate_session::config(&tradovate).auth_url(unknown)).unwrap();
    let e = wait_error(&client);
    assert_eq!(e.reason(), Some(ConnectReason::Dns), "{e}");
}

#[test]
fn a_stalled_handshake_is_timed_out() {
    let silent = SilentListener::start().unwrap();
    let client = started_with_timeout(
        Config::new(format!("ws://127.0.0.1:{}", silent.port())),
        Duration::from_millis(300),
    );
    let e = wait_error(&client);
    assert_eq!(e.reason(), Some(ConnectReason::TimedOut), "{e}");
    assert_eq!(e.kind(), ErrorCategory::Connect);
    assert!(e.to_string().contains("connect_timeout"), "{e}");
}

#[test]
fn waiting_less_than_the_attempt_takes_is_a_timeout() {
    let silent = SilentListener::start().unwrap();
    let client = started_with_timeout(
        Config::new(format!("ws://127.0.0.1:{}", silent.port())),
        Duration::from_secs(60),
    );
    let e = client.wait_live(Duration::from_millis(200)).unwrap_err();
    assert_eq!(e.kind(), ErrorCategory::Timeout, "{e}");
    assert_eq!(e.reason(), Some(ConnectReason::TimedOut));
}

#[test]
fn not_started_closed_and_closed_while_waiting() {
    let port = free_port();
    let client = Client::new(quick(Config::new(format!("ws://127.0.0.1:{port}")))).unwrap();
    let e = client.wait_live(SOON).unwrap_err();
    assert_eq!(e.kind(), ErrorCategory::Usage, "{e}");

    // Closed from another thread while waiting on a silent server.
    let silent = SilentListener::start().unwrap();
    let client = std::sync::Arc::new(started_with_timeout(
        Config::new(format!("ws://127.0.0.1:{}", silent.port())),
        Duration::from_secs(60),
    ));
    let waiter = {
        let client = client.clone();
        std::thread::spawn(move || client.wait_live(Duration::from_secs(60)))
    };
    // The waiter may or may not be waiting yet: either way it ends with Closed.
    client.close();
    let e = waiter.join().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorCategory::Closed, "{e}");
    assert_eq!(
        client.wait_live(SOON).unwrap_err().kind(),
        ErrorCategory::Closed
    );
}

#[test]
fn a_connection_that_ends_before_the_login_is_a_failed_attempt() {
    // A plain WebSocket server never opens the SockJS session: the Tradovate client stays
    // connected, waiting to log in.
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = started(
        Config::new(server.url())
            .preset(Preset::Tradovate)
            .token("static-token"),
    );
    assert!(server.wait_for_connections(1, SOON));
    let e = client.wait_live(Duration::from_millis(100)).unwrap_err();
    assert_eq!(e.kind(), ErrorCategory::Timeout, "{e}");
    server.close_all(1000, "bye");
    let e = wait_error(&client);
    assert_eq!(e.kind(), ErrorCategory::Connect, "{e}");
    assert_eq!(e.reason(), None);
    assert!(e.to_string().contains("before the login completed"), "{e}");
}
