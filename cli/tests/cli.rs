//! The `tradewire` binary as a user runs it: arguments, exit codes, output, signals.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::*;
use tradewire_testkit::{DaemonServer, ServerOptions, TokenCheck, WsServer};

#[test]
fn help_and_version() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for s in ["listen", "demo", "mock-server", "Exit codes", "Examples"] {
        assert!(help.contains(s), "{s} missing from --help");
    }
    for cmd in ["listen", "demo", "mock-server"] {
        let out = run(&[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        let help = text(&out.stdout);
        assert!(
            help.contains("Usage:") && help.contains("Example"),
            "{cmd}: {help}"
        );
    }
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("tradewire 0."));
}

#[test]
fn argument_errors_exit_2_and_say_what_is_wrong() {
    assert_usage_error(&[], &["no command", "tradewire --help"]);
    assert_usage_error(
        &["lissen"],
        &["unknown command 'lissen'", "did you mean 'listen'"],
    );
    assert_usage_error(&["listen"], &["missing URL", "tradewire listen --help"]);
    assert_usage_error(
        &["listen", "ws://127.0.0.1:1", "--acount", "1"],
        &[
            "unknown option '--acount'",
            "did you mean '--account'",
            "--help",
        ],
    );
    assert_usage_error(
        &[
            "listen",
            "ws://127.0.0.1:1",
            "--header",
            "Authorization=Bearer hush-hush",
        ],
        &["bad --header", "NAME:VALUE"],
    );
    assert_usage_error(
        &["listen", "ws://127.0.0.1:1", "--query", "x"],
        &["bad --query"],
    );
    assert_usage_error(
        &[
            "listen",
            "ws://127.0.0.1:1",
            "--token-env",
            "TRADEWIRE_TEST_SURELY_UNSET",
        ],
        &["TRADEWIRE_TEST_SURELY_UNSET", "not set"],
    );
    assert_usage_error(&["listen", "--preset", "nope"], &["preset", "nope"]);
    assert_usage_error(&["listen", "http://example.com"], &["url"]);
    assert_usage_error(
        &["mock-server", "--preset", "nope"],
        &["daemon, agent or breakout"],
    );
    assert_usage_error(&["demo", "--quik"], &["did you mean '--quick'"]);
    // The header value may be a secret: it is not echoed.
    let out = run(&[
        "listen",
        "ws://h",
        "--header",
        "Authorization=Bearer hush-hush",
    ]);
    assert!(!text(&out.stderr).contains("hush-hush"));
}

#[test]
fn config_file_problems_name_the_field_or_the_file() {
    let wrong_type = temp_file(
        "wrong-type.json",
        r#"{"url": "ws://127.0.0.1:1", "heartbeat_timeout": "soon", "colour": "blue"}"#,
    );
    assert_usage_error(
        &["listen", "--config", wrong_type.to_str().unwrap()],
        &["heartbeat_timeout", "colour", "wrong-type.json"],
    );
    let out_of_range = temp_file("range.json", r#"{"url": "ws://127.0.0.1:1", "jitter": 7}"#);
    assert_usage_error(
        &["listen", "--config", out_of_range.to_str().unwrap()],
        &["jitter"],
    );
    // The command line wins over the file.
    assert_usage_error(
        &[
            "listen",
            "ws://127.0.0.1:1",
            "--config",
            out_of_range.to_str().unwrap(),
            "--preset",
            "nope",
        ],
        &["preset", "nope"],
    );
    let broken = temp_file("broken.json", "{\"url\": ");
    assert_usage_error(
        &["listen", "--config", broken.to_str().unwrap()],
        &["not valid JSON", "broken.json"],
    );
    assert_usage_error(
        &["listen", "--config", "/nonexistent/tradewire.json"],
        &["cannot read the config file"],
    );
}

#[test]
fn listen_prints_filtered_json_lines_and_exits_0_on_ctrl_c() {
    let daemon = DaemonServer::start().unwrap();
    let url = daemon.url();
    let mut p = Proc::spawn(&[
        "listen",
        &url,
        "--preset",
        "daemon",
        "--account",
        "123",
        "--types",
        "GatewayUserTrade,daemon_status",
    ]);
    assert!(
        daemon.wait_for_connections(1, LONG),
        "no connection; stderr:\n{}",
        p.stderr()
    );
    daemon.trigger_event("GatewayUserTrade", Some(456), json!({"id": 1})); // other account
    daemon.trigger_event("MarketQuote", Some(123), json!({"bid": 1.0})); // other type
    daemon.trigger_event(
        "GatewayUserTrade",
        Some(123),
        json!({"id": 101112, "profitAndLoss": -45.5}),
    );
    daemon.trigger_event("daemon_status", None, json!({"status": "RUNNING"}));
    daemon.trigger_event("GatewayUserTrade", Some(123), json!({"id": 2}));

    let first = p.json_line();
    assert_eq!(first["type"], "GatewayUserTrade");
    assert_eq!(first["account_id"], 123);
    assert_eq!(first["data"], json!({"id": 101112, "profitAndLoss": -45.5}));
    assert_eq!(first["raw"], Value::Null);
    assert_eq!(first["epoch"], 1);
    let at = first["received_at"].as_str().unwrap();
    assert!(
        at.len() == 27 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
        "{at}"
    );
    let second = p.json_line();
    assert_eq!(second["type"], "daemon_status");
    assert_eq!(second["account_id"], Value::Null);
    let third = p.json_line();
    assert_eq!(third["data"]["id"], 2, "filtered events leaked: {third}");

    p.interrupt();
    let status = p.wait(LONG);
    assert_eq!(status.code(), Some(0), "stderr:\n{}", p.stderr());
    let err = p.stderr();
    assert!(err.contains("connected to"), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        daemon.wait_for_at_most(0, LONG),
        "the connection was not closed"
    );
}

#[test]
fn listen_keeps_the_servers_json_unchanged() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let url = server.url();
    let mut p = Proc::spawn(&["listen", &url, "--preset", "json", "--count", "4"]);
    assert!(
        server.wait_for_connections(1, LONG),
        "no connection; stderr:\n{}",
        p.stderr()
    );
    let big = "123456789012345678901234567890";
    let payload =
        format!(r#"{{"id":{big},"n":-18446744073709551617,"f":[0.1,1e400,5e-324],"s":"\ud800"}}"#);
    let deep = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
    server.broadcast(&format!(
        r#"{{"type":"t","account_id":{big},"data":{payload}}}"#
    ));
    server.broadcast(r#"{"type":"t","account_id":"123","data":{}}"#);
    // Pretty-printed by the server: put on one line, digits kept.
    server.broadcast(&format!(
        "{{\n \"type\": \"t\",\n \"account_id\": 123,\n \"data\": {{\n  \"id\": {big}\n }}\n}}"
    ));
    server.broadcast(&format!(r#"{{"type":"t","data":{deep}}}"#));

    let first = p.line(LONG);
    assert!(
        first.contains(&format!(r#""account_id":{big},"data":{payload},"#)),
        "{first}"
    );
    let second = p.json_line();
    assert_eq!(second["account_id"], "123", "a string stays a string");
    let third = p.line(LONG);
    assert!(
        third.contains(&format!(r#""account_id":123,"data":{{"id":{big}}},"#)),
        "{third}"
    );
    let fourth = p.line(LONG);
    assert!(
        fourth.contains(&format!(r#""data":{deep},"#)),
        "{}",
        &fourth[..200]
    );
    assert_eq!(p.wait(LONG).code(), Some(0), "stderr:\n{}", p.stderr());
}

#[test]
fn count_stops_after_n_messages_and_the_token_is_never_printed() {
    let secret = "s3cret-token-value";
    let server = WsServer::start(ServerOptions {
        token: TokenCheck::Required(secret.into()),
        ..ServerOptions::default()
    })
    .unwrap();
    let mut p = Proc::spawn_env(
        &[
            "listen",
            &server.url(),
            "--token-env",
            "TW_TEST_TOKEN",
            "--count",
            "2",
        ],
        &[("TW_TEST_TOKEN", secret), ("TRADEWIRE_LOG", "debug")],
    );
    assert!(server.wait_for_connections(1, LONG), "{}", p.stderr());
    server.broadcast(r#"{"type":"a","data":{"n":1}}"#);
    server.broadcast("plain text");
    server.broadcast(r#"{"type":"c"}"#);
    let status = p.wait(LONG);
    assert_eq!(status.code(), Some(0), "{}", p.stderr());
    let out = p.all_stdout();
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["data"], json!({"n": 1}));
    assert_eq!(lines[1]["data"], Value::Null);
    assert_eq!(lines[1]["raw"], "plain text");
    let err = p.stderr();
    assert!(!err.contains(secret), "the token leaked on stderr:\n{err}");
    assert!(!out.contains(secret));
}

#[test]
fn listen_prints_a_breakout_messages_ts_as_its_server_time() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let mut p = Proc::spawn(&[
        "listen",
        &server.url(),
        "--preset",
        "breakout",
        "--count",
        "2",
    ]);
    assert!(server.wait_for_connections(1, LONG), "{}", p.stderr());
    server.broadcast(r#"{"type":"SIGNAL","ts":1737125115123,"data":{}}"#);
    server.broadcast(r#"{"type":"SIGNAL","ts":"not a time","data":{}}"#);
    let status = p.wait(LONG);
    assert_eq!(status.code(), Some(0), "{}", p.stderr());
    let out = p.all_stdout();
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["server_time"], "2025-01-17T14:45:15.123000Z");
    assert_eq!(lines[1]["server_time"], Value::Null);
}

#[test]
fn rejected_credentials_exit_3() {
    let server = WsServer::start(ServerOptions {
        token: TokenCheck::Required("the-right-one".into()),
        ..ServerOptions::default()
    })
    .unwrap();
    let wrong = "wrong-token-1234";
    let out = run(&["listen", &server.url(), "--token", wrong]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("gave up"), "{err}");
    assert!(!err.contains(wrong), "the token leaked:\n{err}");
}

#[test]
fn giving_up_exits_4() {
    let config = temp_file(
        "fast-backoff.json",
        r#"{"backoff_initial": 0.05, "backoff_max": 0.1, "connect_timeout": 2}"#,
    );
    let url = format!("ws://127.0.0.1:{}", closed_port());
    let out = run(&[
        "listen",
        &url,
        "--config",
        config.to_str().unwrap(),
        "--max-reconnects",
        "2",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("reconnecting in"), "{err}");
    assert!(err.contains("gave up"), "{err}");
}

#[test]
fn demo_quick_recovers_and_exits_0() {
    let mut p = Proc::spawn(&["demo", "--quick"]);
    let status = p.wait(Duration::from_secs(60));
    let out = p.all_stdout();
    assert_eq!(
        status.code(),
        Some(0),
        "stdout:\n{out}\nstderr:\n{}",
        p.stderr()
    );
    assert!(out.contains("PASS"), "{out}");
    assert!(out.contains("half-open"), "{out}");
    let err = p.stderr();
    assert!(err.contains("[1/5]") && err.contains("[5/5]"), "{err}");
    assert!(err.contains("ev/s"), "no status line:\n{err}");
}

#[test]
fn mock_daemon_feeds_listen_and_stops_on_ctrl_c() {
    let mut server = Proc::spawn(&[
        "mock-server",
        "--preset",
        "daemon",
        "--port",
        "0",
        "--rate",
        "200",
        "--accounts",
        "7,8",
    ]);
    let url = server.line(LONG);
    assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
    let out = run(&[
        "listen",
        &url,
        "--preset",
        "daemon",
        "--account",
        "8",
        "--count",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    for l in &lines {
        assert!(l["account_id"] == 8 || l["account_id"].is_null(), "{l}");
    }
    server.interrupt();
    assert_eq!(server.wait(LONG).code(), Some(0), "{}", server.stderr());
    assert!(server.stderr().contains("stopped"));
}

#[test]
fn mock_agent_prints_a_working_url() {
    let mut server = Proc::spawn(&["mock-server", "--preset", "agent", "--port", "0"]);
    let url = server.line(LONG);
    assert!(
        url.contains("token=") && url.contains("agentId=agent-1"),
        "{url}"
    );
    let out = run(&["listen", &url, "--preset", "agent", "--count", "1"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let first: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(first["type"], "connected");
    assert!(!err.contains(
        url.split("token=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
    ));
    server.interrupt();
    assert_eq!(server.wait(LONG).code(), Some(0), "{}", server.stderr());
}

#[test]
fn listen_subscribe_is_sent_on_connect_and_again_after_a_reconnect() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let url = server.url();
    let mut p = Proc::spawn(&[
        "listen",
        &url,
        "--preset",
        "json",
        "--subscribe",
        r#"{"type":"subscribe","symbol":"ES"}"#,
        "--subscribe",
        r#""quotes""#,
    ]);
    let sent = |n: usize| {
        let deadline = std::time::Instant::now() + LONG;
        loop {
            let got = server.received();
            if got.len() >= n || std::time::Instant::now() >= deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let sub = r#"{"type":"subscribe","symbol":"ES"}"#;
    assert_eq!(sent(2), [sub, r#""quotes""#], "stderr:\n{}", p.stderr());
    server.drop_all();
    assert_eq!(
        sent(4),
        [sub, r#""quotes""#, sub, r#""quotes""#],
        "stderr:\n{}",
        p.stderr()
    );
    p.interrupt();
    assert_eq!(p.wait(LONG).code(), Some(0), "stderr:\n{}", p.stderr());
}

#[test]
fn listen_wait_exits_5_with_the_reason_when_the_first_attempt_fails() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("ws://127.0.0.1:{port}");
    let out = run(&["listen", &url, "--wait", "10"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("reason: connection_refused"), "{err}");
    assert!(out.stdout.is_empty());
}
