//! The C programs of `tests/c` that check the presets from C: document 000 (Tradovate
//! requests, token_info, caller ids), 004 (whole messages, connection-change, the resolved
//! configuration), the documented reconnect schedules, and `tw_client_wait_live` with the
//! reason of each kind of failed attempt. Built and run as in `c_programs.rs`.

mod support;

#[path = "../../tests/rust/support/peer.rs"]
mod peer;

use std::time::Duration;

use peer::PeerServer;
use serde_json::json;
use support::{program, start, Flavor, PROGRAM_TIMEOUT};
use tradewire_testkit::{ServerOptions, WsServer};

/// Generous bound for a server-side condition (a connection, a message) on a busy machine.
const SOON: Duration = Duration::from_secs(20);

#[test]
fn wait_live_returns_when_live_or_the_reason_of_the_failure() {
    let exe = program("wait_live", Flavor::Sanitized);
    let live = WsServer::start(ServerOptions::default()).expect("start the server");
    let refused_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let plain = WsServer::start(ServerOptions::default()).expect("start the server");
    let pathed = WsServer::start(ServerOptions {
        path: Some("/ws".into()),
        ..ServerOptions::default()
    })
    .expect("start the server");
    let guarded = WsServer::start(ServerOptions {
        token: tradewire_testkit::TokenCheck::Required("right".into()),
        reject_token_with_http_401: true,
        ..ServerOptions::default()
    })
    .expect("start the server");
    let silent = tradewire_testkit::SilentListener::start().expect("start the listener");
    let args = [
        live.url(),
        format!("ws://127.0.0.1:{refused_port}"),
        format!("wss://127.0.0.1:{}", plain.port()),
        format!("ws://127.0.0.1:{}/elsewhere", pathed.port()),
        guarded.url(),
        format!("ws://127.0.0.1:{}", silent.port()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut running = start(&exe, &args, &[]);
    running.wait_for_line(SOON, |l| l == "refused");
    let appeared = WsServer::start(ServerOptions {
        port: refused_port,
        ..ServerOptions::default()
    })
    .expect("start the server on the refused port");
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("wait_live");
    assert!(done.stdout.iter().any(|l| l == "live after refused"));
    assert!(appeared.accepted_total() >= 1);
}

#[test]
fn document_004_messages_connection_change_and_config_from_c() {
    let exe = program("metis", Flavor::Sanitized);
    let server = WsServer::start(ServerOptions::default()).expect("start the server");
    let port = server.port().to_string();
    let mut running = start(&exe, &[&port], &[]);
    running.wait_for_line(SOON, |l| l == "live");
    server.broadcast(r#"{"type":"status-update","payload":{"status":"ok"}}"#);
    server.broadcast("plain text");
    server.broadcast_binary(br#"{"type":"alert","payload":{"message":"hot"}}"#);
    server.broadcast_binary(&[0xff, 0x00, 0x7b, 0x01]);
    running.wait_for_line(SOON, |l| l == "sent");
    assert!(server
        .wait_for_received(|m| m == r#"{"type":"command","action":"execute"}"#, SOON)
        .is_some());
    assert!(server.received().iter().any(|m| m == "Hello, WebSocket!"));
    server.close_all(1001, "going away");
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("metis");
    let config: serde_json::Value =
        serde_json::from_str(done.value("config").expect("config line")).expect("config JSON");
    assert_eq!(config["port"], server.port());
    assert_eq!(config["host"], "127.0.0.1");
}

#[test]
fn tradovate_request_round_trip() {
    let exe = program("tradovate_request", Flavor::Sanitized);
    let server = tradewire_testkit::tradovate::TradovateServer::start(
        tradewire_testkit::tradovate::TradovateOptions::default(),
    )
    .expect("start the Tradovate server");
    let running = start(&exe, &[&server.ws_url(), &server.auth_url()], &[]);
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("tradovate_request");
    assert!(server
        .requests()
        .iter()
        .any(|(endpoint, _, body)| endpoint == "user/find" && body.contains("trader")));
    assert!(server
        .requests()
        .iter()
        .any(|(endpoint, id, _)| endpoint == "account/list" && *id == 500));
    // The token file is on by default, per environment (here the token host) and user, in
    // document 000's format: the answer as received plus retrievedAt in Unix milliseconds.
    let path = support::state_home().join("tradewire").join(format!(
        "tradovate-127.0.0.1_{}-trader.json",
        server.http_port()
    ));
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the default token file"))
            .expect("JSON");
    assert_eq!(stored["userId"], 7, "{stored}");
    assert!(stored["accessToken"].is_string() && stored["retrievedAt"].is_u64());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn presets_keep_documented_schedules_and_breakout_gives_server_time() {
    let exe = program("presets", Flavor::Sanitized);
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        format!("ws://127.0.0.1:{port}/")
    };
    let breakout = tradewire_testkit::BreakoutServer::start(Default::default())
        .expect("start the breakout server");
    let running = start(&exe, &[&refused, &breakout.url()], &[]);
    assert!(
        breakout.wait_for_connections(1, SOON),
        "the C client did not connect"
    );
    breakout.publish("SIGNAL", json!({"symbol": "BTCUSDT"}));
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("presets");
    let message = done
        .events()
        .into_iter()
        .find(|e| e["kind"] == "message")
        .expect("the SIGNAL message");
    let shown = message["server_time"]
        .as_str()
        .expect("server_time in the JSON form");
    assert!(shown.ends_with('Z'), "{shown}");
    let status: serde_json::Value =
        serde_json::from_str(done.value("status").expect("status line")).expect("status JSON");
    assert!(status["feed_latency"].is_f64(), "{status}");
}

/// Whether the peer received a message containing `part`.
fn peer_received(peer: &PeerServer, part: &str) -> bool {
    peer.received().iter().any(|m| m.contains(part))
}

fn until(pred: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + SOON;
    while std::time::Instant::now() < deadline {
        if pred() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    pred()
}

/// Document 000's calls from C through npm `sockjs` (its raw WebSocket endpoint, answered
/// here as Tradovate would; the token from the testkit's token URL): wait_live, token_info,
/// a request with the caller's id, and the token file in the document's format.
#[test]
fn tradovate_calls_from_c_through_npm_sockjs() {
    let Some(peer) = PeerServer::node("sockjs_server.js", &["--port", "0"]) else {
        return;
    };
    let auth = tradewire_testkit::tradovate::TradovateServer::start(Default::default())
        .expect("start the token server");
    let dir = std::env::temp_dir().join(format!("tradewire-c-peer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let token_file = dir.join("access-token.json");
    let exe = program("tradovate_peer", Flavor::Sanitized);
    let ws = peer.url("/sockjs/websocket");
    let write = |text: &str| {
        let cmd = json!({"cmd": "write", "text": text}).to_string();
        assert_eq!(peer.command(&cmd), "OK 1");
    };
    let mut running = start(
        &exe,
        &[
            &ws,
            &auth.auth_url(),
            token_file.to_str().expect("utf-8 path"),
        ],
        &[],
    );
    assert!(until(|| peer.command(r#"{"cmd":"count"}"#) == "COUNT 1"));
    write("o");
    assert!(until(|| peer_received(&peer, "authorize\n0\n\n")));
    write(r#"a[{"s":200,"i":0}]"#);
    running.wait_for_line(SOON, |l| l == "sent 77");
    assert!(until(|| peer_received(&peer, "account/list\n77\n")));
    write(r#"a[{"s":200,"i":77,"d":{"from":"peer-answer"}}]"#);
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("tradovate_peer");
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&token_file).expect("the token file"))
            .expect("JSON");
    assert!(stored["retrievedAt"].is_u64(), "{stored}");
    assert!(stored["accessToken"].is_string(), "{stored}");
    let _ = std::fs::remove_dir_all(&dir);
}
