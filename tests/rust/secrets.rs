//! Tokens, passwords and token query parameters appear in no log line (captured at trace
//! level), no error, no event and no `Debug` output.
//!
//! One exception, outside tradewire's control and documented in the README: tungstenite,
//! the WebSocket layer, dumps the raw handshake request and every frame at TRACE level under
//! its own `tungstenite` target. Those TRACE records are left out of the search; its DEBUG
//! and higher records are searched like everything else.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tradewire::{Client, Config, Credentials, Event, Preset, Secret};
use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer, TradovateUser};
use tradewire_testkit::{AgentOptions, AgentServer, ServerOptions, TokenCheck, WsServer};

use crate::support::{expect_kind, quick, wait_for, SOON};

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.level() == log::Level::Trace && record.target().starts_with("tungstenite") {
            return;
        }
        if let Ok(mut lines) = self.0.lock() {
            lines.push(format!(
                "{} {} {}",
                record.level(),
                record.target(),
                record.args()
            ));
        }
    }
    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let c: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        let _ = log::set_logger(c);
        log::set_max_level(log::LevelFilter::Trace);
        c
    })
}

#[test]
fn secrets_never_leak() {
    let logs = capture();
    let mut outputs: Vec<String> = Vec::new();
    let mut secrets: Vec<String> = vec![
        "pw-SECRET-123".into(),
        "sec-SECRET-456".into(),
        "jwt-SECRET-789".into(),
        "bearer-SECRET-000".into(),
    ];

    // Tradovate: credentials, then an access token (read back from the token file).
    let dir = std::env::temp_dir().join(format!("tradewire-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token.json");
    let server = TradovateServer::start(TradovateOptions {
        users: vec![TradovateUser {
            name: "trader".into(),
            password: "pw-SECRET-123".into(),
            user_id: 7,
            accounts: vec![101],
        }],
        ..TradovateOptions::default()
    })
    .unwrap();
    let creds = Credentials {
        name: "trader".into(),
        password: Secret::new("pw-SECRET-123"),
        app_id: "app".into(),
        app_version: "1.0".into(),
        sec: Secret::new("sec-SECRET-456"),
        cid: serde_json::json!(1),
        device_id: None,
    };
    // Wrong password first (an error path), then the right one.
    server.reject_credentials(true);
    let config = quick(Config::new(server.ws_url()).preset(Preset::Tradovate))
        .credentials(creds.clone())
        .auth_url(server.auth_url())
        .token_file(token_file.to_str().unwrap());
    outputs.push(format!("{config:?}"));
    let client = Client::connect(config.clone()).unwrap();
    let (_, seen) = wait_for(&client, SOON, |e| e.kind() == "gave_up");
    outputs.extend(seen.iter().map(|e| format!("{e:?}")));
    server.reject_credentials(false);
    client.reconnect().unwrap();
    let (ev, seen) = wait_for(&client, SOON, |e| e.kind() == "authenticated");
    assert!(ev.is_some(), "no login after reconnect: {seen:?}");
    outputs.extend(seen.iter().map(|e| format!("{e:?}")));
    outputs.push(client.status().to_json().to_string());
    outputs.push(format!("{client:?} {:?}", client.status()));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&token_file).unwrap()).unwrap();
    secrets.push(saved["accessToken"].as_str().unwrap().to_string());
    if let Some(md) = saved["mdAccessToken"].as_str() {
        secrets.push(md.to_string());
    }
    client.close();
    outputs.extend(client.events().iter().map(|e| format!("{e:?}")));

    // Agent: the JWT travels as a query parameter.
    let agent = AgentServer::start(AgentOptions::default()).unwrap();
    let config = quick(Config::new(agent.url()).preset(Preset::Agent))
        .token("jwt-SECRET-789")
        .query("agentId", "nobody");
    outputs.push(format!("{config:?}"));
    let client = Client::connect(config).unwrap();
    let (_, seen) = wait_for(&client, SOON, |e| e.kind() == "gave_up");
    outputs.extend(seen.iter().map(|e| format!("{e:?}")));
    outputs.push(client.url().to_string());

    // A Bearer header refused with HTTP 401.
    let ws = WsServer::start(ServerOptions {
        token: TokenCheck::Required("other".into()),
        reject_token_with_http_401: true,
        ..ServerOptions::default()
    })
    .unwrap();
    let client = Client::connect(quick(Config::new(ws.url())).token("bearer-SECRET-000")).unwrap();
    let ev = expect_kind(&client, "gave_up", SOON);
    outputs.push(format!("{ev:?}"));
    if let Event::GaveUp { reason } = ev {
        assert!(reason.contains("401"));
    }
    // Errors returned by the API.
    outputs.push(format!("{:?}", client.send_text("x").unwrap_err()));
    let bad =
        Config::from_json(r#"{"url": "ws://h/?token=jwt-SECRET-789", "jitter": "x"}"#).unwrap_err();
    outputs.push(format!("{bad} {bad:?}"));
    drop(client);
    std::thread::sleep(Duration::from_millis(100));

    let lines = logs.0.lock().unwrap().clone();
    assert!(lines.len() > 5, "logs were captured: {}", lines.len());
    for secret in &secrets {
        for line in lines.iter().chain(outputs.iter()) {
            assert!(!line.contains(secret.as_str()), "a secret leaked: {line}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
