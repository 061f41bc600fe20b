//! Proxies (issue 22): ws and wss through real proxy servers — tinyproxy (HTTP CONNECT, with
//! and without Basic authentication) and dante (SOCKS5 and SOCKS5 with the proxy resolving the
//! name, with and without username/password) —, the environment variables and NO_PROXY (in a
//! child process: the test process's environment is never changed), refused credentials as a
//! fatal `auth` error that names the proxy without its password, an unreachable or vanished
//! proxy retried like any network trouble, the connect deadline and close() covering the proxy
//! step, and Tradovate's token request through the same proxy.

use std::process::Command;
use std::time::{Duration, Instant};

use tradewire::{Client, Config, ConnectReason, Event};
use tradewire_testkit::{
    ServerOptions, SilentListener, TradovateOptions, TradovateServer, WsServer,
};

use crate::support::proxy_servers::{free_port, ProxyServer, SOCKS_PASSWORD, SOCKS_USER};
use crate::support::{expect_kind, quick, SOON};

fn server(tls: bool) -> WsServer {
    WsServer::start(ServerOptions {
        tls,
        ..ServerOptions::default()
    })
    .unwrap()
}

/// Connects through `proxy`, checks a message arrives, and returns the client.
fn through(server: &WsServer, proxy: &str) -> Client {
    let client = Client::connect(
        quick(Config::new(server.url()))
            .verify_tls(false)
            .proxy(proxy),
    )
    .unwrap();
    if let Err(e) = client.wait_live(SOON) {
        panic!("not live through {proxy}: {e}");
    }
    server.broadcast(r#"{"type":"hello"}"#);
    let ev = expect_kind(&client, "message", SOON);
    assert_eq!(ev.as_message().unwrap().msg_type(), Some("hello"));
    client
}

#[test]
fn ws_and_wss_through_tinyproxy() {
    let Some(proxy) = ProxyServer::tinyproxy(None) else {
        return;
    };
    for tls in [false, true] {
        let server = server(tls);
        let client = through(&server, &proxy.url("http", None));
        let log = proxy.log();
        assert!(
            log.contains(&format!("127.0.0.1:{}", server.port())),
            "tinyproxy did not carry the connection to {}: {log}",
            server.port()
        );
        client.close();
    }
}

#[test]
fn basic_auth_through_tinyproxy_and_the_password_stays_secret() {
    let password = "tiny-pw-Zq81";
    let Some(proxy) = ProxyServer::tinyproxy(Some(("alice", password))) else {
        return;
    };
    let server = server(true);
    let url = proxy.url("http", Some(("alice", password)));
    let client = through(&server, &url);
    let seen = [
        format!("{:?}", client.config()),
        client.config().to_json().to_string(),
        format!("{:?}", client.status()),
        format!("{:?}", Config::new(server.url()).proxy(url.as_str())),
    ];
    for text in seen {
        assert!(!text.contains(password), "{text}");
    }
    client.close();
}

#[test]
fn a_407_is_a_fatal_auth_error_naming_the_proxy_without_the_password() {
    let Some(proxy) = ProxyServer::tinyproxy(Some(("alice", "right-pw-77"))) else {
        return;
    };
    let server = server(false);
    for auth in [Some(("alice", "wrong-pw-99")), None] {
        let url = proxy.url("http", auth);
        let client = Client::connect(quick(Config::new(server.url())).proxy(url)).unwrap();
        let e = client.wait_live(SOON).expect_err("must not connect");
        assert_eq!(e.reason(), Some(ConnectReason::Auth), "{e}");
        let text = e.to_string();
        // tinyproxy 1.11 answers 401 where the standard says 407.
        assert!(text.contains("407") || text.contains("401"), "{text}");
        assert!(text.contains("proxy authentication required"), "{text}");
        assert!(
            text.contains(&format!("127.0.0.1:{}", proxy.port())),
            "{text}"
        );
        assert!(!text.contains("wrong-pw-99"), "{text}");
        let Event::GaveUp { reason } = expect_kind(&client, "gave_up", SOON) else {
            unreachable!()
        };
        assert!(!reason.contains("wrong-pw-99"), "{reason}");
        assert_eq!(server.accepted_total(), 0);
    }
}

#[test]
fn ws_and_wss_through_dante_socks5_and_socks5h() {
    let Some(proxy) = ProxyServer::danted(false) else {
        return;
    };
    for (scheme, tls) in [
        ("socks5", false),
        ("socks5", true),
        ("socks5h", false),
        ("socks5h", true),
    ] {
        let server = server(tls);
        let client = through(&server, &proxy.url(scheme, None));
        let log = proxy.log();
        assert!(
            log.contains(&format!(".{}", server.port())),
            "dante did not carry the {scheme} connection to {}: {log}",
            server.port()
        );
        client.close();
    }
}

#[test]
fn socks5h_lets_the_proxy_resolve_the_name() {
    let Some(proxy) = ProxyServer::danted(false) else {
        return;
    };
    let server = server(false);
    let url = format!("ws://localhost:{}/", server.port());
    let client =
        Client::connect(quick(Config::new(url)).proxy(proxy.url("socks5h", None))).unwrap();
    client.wait_live(SOON).unwrap();
    let log = proxy.log();
    assert!(log.contains(&format!(".{}", server.port())), "{log}");
}

#[test]
fn socks5_username_auth_through_dante_and_wrong_credentials_are_fatal() {
    let Some(proxy) = ProxyServer::danted(true) else {
        return;
    };
    let server = server(true);
    let client = through(
        &server,
        &proxy.url("socks5h", Some((SOCKS_USER, SOCKS_PASSWORD))),
    );
    client.close();

    let bad = proxy.url("socks5", Some((SOCKS_USER, "not-the-pw-31")));
    let client = Client::connect(
        quick(Config::new(server.url()))
            .verify_tls(false)
            .proxy(bad),
    )
    .unwrap();
    let e = client.wait_live(SOON).expect_err("must not connect");
    assert_eq!(e.reason(), Some(ConnectReason::Auth), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("refused the user name and password"),
        "{text}"
    );
    assert!(!text.contains("not-the-pw-31"), "{text}");
    expect_kind(&client, "gave_up", SOON);

    // No credentials to a proxy that wants them: fatal too, and it says so.
    let none = proxy.url("socks5", None);
    let client = Client::connect(quick(Config::new(server.url())).proxy(none)).unwrap();
    let e = client.wait_live(SOON).expect_err("must not connect");
    assert_eq!(e.reason(), Some(ConnectReason::Auth), "{e}");
    assert!(e.to_string().contains("credentials"), "{e}");
}

#[test]
fn a_socks_refusal_says_the_reply_code_in_words() {
    let Some(proxy) = ProxyServer::danted(false) else {
        return;
    };
    let closed = free_port();
    let client = Client::connect(
        quick(Config::new(format!("ws://127.0.0.1:{closed}/"))).proxy(proxy.url("socks5", None)),
    )
    .unwrap();
    let Event::Reconnecting { reason, .. } = expect_kind(&client, "reconnecting", SOON) else {
        unreachable!()
    };
    assert!(reason.contains("reply code"), "{reason}");
    assert!(
        reason.contains(&format!("127.0.0.1:{}", proxy.port())),
        "{reason}"
    );
    client.close();
}

#[test]
fn an_unreachable_proxy_is_retried_and_a_killed_one_reconnects_when_back() {
    let Some(mut proxy) = ProxyServer::tinyproxy(None) else {
        return;
    };
    let port = proxy.port();
    let server = server(false);
    let client = through(&server, &proxy.url("http", None));

    // The tunnel drops mid-stream: a normal disconnect and reconnect attempts, which fail
    // (nobody listens) and are retried, not given up.
    proxy.kill();
    expect_kind(&client, "disconnected", SOON);
    let Event::Reconnecting { reason, .. } = expect_kind(&client, "reconnecting", SOON) else {
        unreachable!()
    };
    let (ev, _) = crate::support::wait_for(
        &client,
        SOON,
        |e| matches!(e, Event::Reconnecting { reason, .. } if reason.contains("unreachable")),
    );
    let reason = ev
        .map(|e| match e {
            Event::Reconnecting { reason, .. } => reason,
            _ => unreachable!(),
        })
        .unwrap_or(reason);
    assert!(reason.contains("unreachable"), "{reason}");
    assert!(reason.contains(&format!("127.0.0.1:{port}")), "{reason}");

    // The proxy comes back on its port: the client connects again through it.
    let Some(_back) = ProxyServer::tinyproxy_on(port, None) else {
        return;
    };
    expect_kind(&client, "connected", SOON);
    server.broadcast(r#"{"type":"again"}"#);
    let ev = expect_kind(&client, "message", SOON);
    assert_eq!(ev.as_message().unwrap().msg_type(), Some("again"));
}

#[test]
fn the_connect_timeout_and_close_cover_the_proxy_step() {
    // A "proxy" that accepts TCP and never answers.
    let silent = SilentListener::start().unwrap();
    let proxy = format!("http://u:silent-pw-5@127.0.0.1:{}", silent.addr().port());
    let client = Client::connect(
        quick(Config::new("wss://venue.invalid/ws"))
            .proxy(proxy.as_str())
            .connect_timeout(Duration::from_millis(500)),
    )
    .unwrap();
    let Event::Reconnecting { reason, .. } = expect_kind(&client, "reconnecting", SOON) else {
        unreachable!()
    };
    assert!(reason.contains("connect_timeout"), "{reason}");
    assert!(reason.contains("proxy"), "{reason}");
    assert!(!reason.contains("silent-pw-5"), "{reason}");

    // close() while the proxy step waits: prompt, not after the (long) deadline.
    let client = Client::connect(
        quick(Config::new("ws://venue.invalid/ws"))
            .proxy(proxy.as_str())
            .connect_timeout(Duration::from_secs(600)),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    client.close();
    assert!(start.elapsed() < SOON, "close took {:?}", start.elapsed());
}

#[test]
fn the_tradovate_token_request_goes_through_the_proxy() {
    let Some(proxy) = ProxyServer::tinyproxy(Some(("tv", "tv-proxy-pw"))) else {
        return;
    };
    let tradovate = TradovateServer::start(TradovateOptions::default()).unwrap();
    let config = crate::tradovate_session::config(&tradovate)
        .proxy(proxy.url("http", Some(("tv", "tv-proxy-pw"))));
    let client = Client::connect(config).unwrap();
    client.wait_live(SOON).unwrap();
    assert!(tradovate.token_requests() >= 1);
    let auth_port = tradovate
        .auth_url()
        .rsplit(':')
        .next()
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_string();
    let log = proxy.log();
    assert!(log.contains(&format!(":{auth_port}")), "{auth_port}: {log}");
    client.close();

    // Refused proxy credentials: the token request fails as an authentication problem,
    // without the password in it.
    let config = crate::tradovate_session::config(&tradovate)
        .proxy(proxy.url("http", Some(("tv", "bad-tv-pw"))));
    let client = Client::connect(config).unwrap();
    let e = client.wait_live(SOON).expect_err("must not connect");
    assert_eq!(e.reason(), Some(ConnectReason::Auth), "{e}");
    assert!(!e.to_string().contains("bad-tv-pw"), "{e}");
}

// ------------------------------------------------------------------ environment variables

/// Set in the child process: the URL to connect to.
const CHILD_URL: &str = "TRADEWIRE_PROXY_TEST_URL";
/// Set in the child process: the `proxy` field, when the test gives one.
const CHILD_PROXY: &str = "TRADEWIRE_PROXY_TEST_FIELD";
const PROXY_VARS: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Not a test of its own: the body of [`run_child`]'s process (does nothing elsewhere).
#[test]
fn environment_child() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let mut config = quick(Config::new(url)).verify_tls(false);
    if let Ok(p) = std::env::var(CHILD_PROXY) {
        config = config.proxy(p);
    }
    let client = Client::connect(config).unwrap();
    if let Err(e) = client.wait_live(SOON) {
        panic!("not live: {e}");
    }
}

/// Runs [`environment_child`] in a new process of this test binary with exactly `env` as
/// its proxy variables; panics (with its output) unless it connected.
fn run_child(url: &str, env: &[(&str, String)], field: Option<&str>) {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "proxies::environment_child",
        "--nocapture",
        "--test-threads=1",
    ]);
    for v in PROXY_VARS {
        cmd.env_remove(v);
    }
    cmd.env_remove(CHILD_PROXY).env(CHILD_URL, url);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(f) = field {
        cmd.env(CHILD_PROXY, f);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "child failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn environment_variables_choose_the_proxy_and_no_proxy_and_direct_bypass_it() {
    let Some(tiny) = ProxyServer::tinyproxy(None) else {
        return;
    };
    let Some(dante) = ProxyServer::danted(false) else {
        return;
    };
    let dead = format!("http://127.0.0.1:{}", free_port());
    let carried = |proxy: &ProxyServer, port: u16| {
        let log = proxy.log();
        log.contains(&format!(":{port}")) || log.contains(&format!(".{port}"))
    };

    // wss: HTTPS_PROXY (HTTP_PROXY, pointing nowhere, is not for wss).
    let wss = server(true);
    run_child(
        &wss.url(),
        &[
            ("HTTPS_PROXY", tiny.url("http", None)),
            ("HTTP_PROXY", dead.clone()),
        ],
        None,
    );
    assert!(carried(&tiny, wss.port()), "{}", tiny.log());

    // ws: http_proxy (HTTPS_PROXY, pointing nowhere, is not for ws).
    let ws = server(false);
    run_child(
        &ws.url(),
        &[
            ("http_proxy", tiny.url("http", None)),
            ("HTTPS_PROXY", dead.clone()),
        ],
        None,
    );
    assert!(carried(&tiny, ws.port()), "{}", tiny.log());

    // ALL_PROXY when no scheme variable is set.
    let ws = server(false);
    run_child(&ws.url(), &[("ALL_PROXY", dante.url("socks5", None))], None);
    assert!(carried(&dante, ws.port()), "{}", dante.log());

    // NO_PROXY (a CIDR range) exempts the host: direct, the proxy never sees it.
    let ws = server(false);
    run_child(
        &ws.url(),
        &[
            ("HTTP_PROXY", tiny.url("http", None)),
            ("NO_PROXY", "example.com, 127.0.0.0/8".into()),
        ],
        None,
    );
    assert!(!carried(&tiny, ws.port()), "{}", tiny.log());

    // proxy = "direct" ignores the environment.
    let ws = server(false);
    run_child(
        &ws.url(),
        &[("HTTP_PROXY", tiny.url("http", None))],
        Some("direct"),
    );
    assert!(!carried(&tiny, ws.port()), "{}", tiny.log());

    // The field wins over the environment.
    let ws = server(false);
    run_child(
        &ws.url(),
        &[("HTTP_PROXY", dead.clone())],
        Some(&dante.url("socks5h", None)),
    );
    assert!(carried(&dante, ws.port()), "{}", dante.log());
}
