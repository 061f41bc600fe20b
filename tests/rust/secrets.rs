//! The secret-canary suite: every failure path that can turn text into an event, an error, a
//! status or a log line is driven with distinctive secrets (holding `+ / = % & ! '` and a
//! space), by hostile servers that echo what they were sent; every output channel is
//! captured (events, errors and every link of their `source()` chain, `status()`, `Debug`
//! of every public type, every log record at TRACE of tradewire's own targets) and searched
//! for any 8-character run of any form of any secret (raw, percent-encoded in upper and
//! lower case, `+` for a space, JSON-escaped), with the forms computed by the testkit,
//! independently of the library's scrubber.
//! Server text must also arrive with its control characters escaped: no output holds a raw
//! CR, LF or ESC that a server sent.
//!
//! One exception, outside tradewire's control and documented in the README: tungstenite (the
//! WebSocket layer) and ureq (the token requests) dump raw requests and frames at TRACE level
//! under their own targets. Those TRACE records are left out of the search; their DEBUG and
//! higher records are searched like everything else.
//!
//! The CLI's output is checked in cli/tests/cli.rs, C's `tw_last_error` in ffi/tests.

use std::time::Duration;

use tradewire::{Client, Config, Event, Preset, Secret};
use tradewire_testkit::canary::HttpScript;
use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer, TradovateUser};
use tradewire_testkit::{AgentOptions, AgentServer, ServerOptions, WsServer};

use crate::support::canary::{
    capture, credentials, url_with_secrets, Outputs, BEARER, FORGERY, PASSWORD, QUERY_TOKEN, SEC,
    URL_PASSWORD,
};
use crate::support::{expect_kind, quick, wait_for, SOON};

/// A refused handshake whose body echoes the request: the request line (with the token
/// query parameter), the `Authorization` header, and a forged log line. As a fatal 401 and as
/// a retried 500.
#[test]
fn refused_handshake_echoing_the_request() {
    capture();
    let mut out = Outputs::default();
    for status in [401u16, 500] {
        let server = HttpScript::start(move |req, _| {
            (
                status,
                format!("you sent:\n{req}{FORGERY}{}", "padding ".repeat(30)),
            )
        })
        .unwrap();
        let config = quick(Config::new(url_with_secrets(&server.ws_url())))
            .token(BEARER)
            .query("api_token", QUERY_TOKEN)
            .max_reconnect_attempts(Some(1));
        out.0.push(format!("{config:?}"));
        let client = Client::connect(config).unwrap();
        let (ev, seen) = wait_for(&client, SOON, |e| e.kind() == "gave_up");
        assert!(ev.is_some(), "no gave_up: {seen:?}");
        out.events(&seen);
        out.event(ev.as_ref().unwrap());
        let Some(Event::GaveUp { reason }) = ev else {
            unreachable!()
        };
        assert!(reason.contains(&status.to_string()), "{reason}");
        // The echo reached the client (so the test is meaningful), scrubbed. The URL's
        // user:password went as Basic authentication, not in the request line.
        assert!(server.seen().iter().any(|r| r.contains("api_token=")));
        assert!(
            server.seen().iter().all(|r| !r.contains("user:")),
            "{:?}",
            server.seen()
        );
        assert!(reason.contains("<redacted>"), "{reason}");
        if let Err(e) = client.send_text("x") {
            out.error(&e);
        }
        out.client(&client);
    }
    out.check(&[]);
}

/// A server that accepts, then closes with a reason that repeats the token and forges a line.
#[test]
fn close_reason_with_the_token() {
    capture();
    let mut out = Outputs::default();
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::connect(
        quick(Config::new(url_with_secrets(&server.url())))
            .token(BEARER)
            .query("api_token", QUERY_TOKEN),
    )
    .unwrap();
    out.event(&expect_kind(&client, "connected", SOON));
    // A close reason holds at most 123 bytes.
    server.close_all(4001, &format!("bad {BEARER} {FORGERY}"));
    let (ev, seen) = wait_for(&client, SOON, |e| e.kind() == "reconnecting");
    out.events(&seen);
    let ev = ev.expect("reconnecting");
    out.event(&ev);
    let disconnected = seen.iter().find(|e| e.kind() == "disconnected").unwrap();
    let Event::Disconnected { reason, code, .. } = disconnected else {
        unreachable!()
    };
    assert_eq!(*code, Some(4001));
    assert!(
        reason.contains("<redacted>") && reason.contains("\\r\\n"),
        "{reason}"
    );
    out.client(&client);
    client.close();
    out.events(&client.events().try_iter().collect::<Vec<_>>());
    out.check(&[]);
}

/// The agent preset: the JWT travels as the `token` query parameter; an unknown agent is
/// closed with 1008 (fatal).
#[test]
fn agent_token_in_the_query() {
    capture();
    let mut out = Outputs::default();
    let agent = AgentServer::start(AgentOptions::default()).unwrap();
    let config = quick(Config::new(agent.url()).preset(Preset::Agent))
        .token(QUERY_TOKEN)
        .query("agentId", "nobody");
    out.0.push(format!("{config:?}"));
    let client = Client::connect(config).unwrap();
    let (ev, seen) = wait_for(&client, SOON, |e| e.kind() == "gave_up");
    out.events(&seen);
    out.event(&ev.expect("gave_up"));
    out.client(&client);
    out.check(&[]);
}

/// wss with a certificate the client refuses, the URL carrying secrets.
#[test]
fn tls_failure() {
    capture();
    let mut out = Outputs::default();
    let server = WsServer::start(ServerOptions {
        tls: true,
        ..ServerOptions::default()
    })
    .unwrap();
    let client = Client::connect(
        quick(Config::new(url_with_secrets(&server.url())))
            .token(BEARER)
            .query("api_token", QUERY_TOKEN),
    )
    .unwrap();
    let (ev, seen) = wait_for(&client, SOON, |e| e.kind() == "gave_up");
    out.events(&seen);
    let ev = ev.expect("gave_up");
    out.event(&ev);
    let Event::GaveUp { reason } = ev else {
        unreachable!()
    };
    assert!(reason.contains("certificate"), "{reason}");
    out.client(&client);
    out.check(&[]);
}

/// Runs a Tradovate client against a scripted token endpoint until it gives up or
/// reconnects, collecting everything.
fn tradovate_against(
    answer: impl Fn(&str, usize) -> (u16, String) + Send + Sync + 'static,
    until: &str,
    out: &mut Outputs,
) -> Event {
    let token_url = HttpScript::start(answer).unwrap();
    let dir = std::env::temp_dir().join(format!(
        "tradewire-canary-{}-{}",
        std::process::id(),
        token_url.port()
    ));
    let config = quick(Config::new(url_with_secrets("ws://127.0.0.1:9")).preset(Preset::Tradovate))
        .credentials(credentials())
        .auth_url(token_url.http_url() + "/auth/accesstokenrequest")
        .token_file(dir.join("token.json").to_str().unwrap())
        .max_reconnect_attempts(Some(1));
    out.0.push(format!("{config:?}"));
    let client = Client::connect(config).unwrap();
    let (ev, seen) = wait_for(&client, Duration::from_secs(20), |e| e.kind() == until);
    out.events(&seen);
    let ev = ev.unwrap_or_else(|| panic!("no {until}: {seen:?}"));
    out.event(&ev);
    assert!(
        token_url.seen().iter().any(|r| r.contains("password")),
        "the token endpoint was asked"
    );
    out.client(&client);
    client.close();
    let _ = std::fs::remove_dir_all(&dir);
    ev
}

/// The token endpoint's failure answers: an `errorText` that echoes the request (password and
/// `sec`), a p-ticket then a captcha, an answer over the size limit that repeats the password,
/// a 500 whose body echoes the request, an answer whose expirationTime is the password.
#[test]
fn token_endpoint_failures() {
    capture();
    let mut out = Outputs::default();

    let ev = tradovate_against(
        |req, _| {
            let body = req.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
            (
                200,
                serde_json::json!({ "errorText": format!("bad login {body}{FORGERY}") })
                    .to_string(),
            )
        },
        "gave_up",
        &mut out,
    );
    let Event::GaveUp { reason } = ev else {
        unreachable!()
    };
    assert!(
        reason.contains("refused") && reason.contains("<redacted>"),
        "{reason}"
    );

    let ev = tradovate_against(
        |req, n| {
            let body = req.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
            let answer = if n == 0 {
                serde_json::json!({"p-ticket": format!("ticket {body}"), "p-time": 0})
            } else {
                serde_json::json!({"p-ticket": "again", "p-time": 0, "p-captcha": true})
            };
            (200, answer.to_string())
        },
        "gave_up",
        &mut out,
    );
    let Event::GaveUp { reason } = ev else {
        unreachable!()
    };
    assert!(reason.contains("captcha"), "{reason}");

    let ev = tradovate_against(
        |_, _| {
            (
                200,
                format!("{{\"errorText\": \"{}\"}}", PASSWORD.repeat(10_000)),
            )
        },
        "reconnecting",
        &mut out,
    );
    let Event::Reconnecting { reason, .. } = ev else {
        unreachable!()
    };
    assert!(
        reason.contains("response too large (limit 65536 bytes"),
        "{reason}"
    );

    tradovate_against(
        |req, _| (500, format!("internal error while handling {req}{FORGERY}")),
        "reconnecting",
        &mut out,
    );
    tradovate_against(
        |_, _| {
            (
                200,
                serde_json::json!({"accessToken": "a-token-never-used", "expirationTime": PASSWORD})
                    .to_string(),
            )
        },
        "reconnecting",
        &mut out,
    );
    out.check(&[]);
}

/// A real Tradovate session: wrong password first, then a login whose access token the
/// server then echoes in a SockJS close frame, a shutdown note and an error response.
#[test]
fn tradovate_session_echoing_the_access_token() {
    capture();
    let mut out = Outputs::default();
    let dir = std::env::temp_dir().join(format!("tradewire-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token.json");
    let server = TradovateServer::start(TradovateOptions {
        users: vec![TradovateUser {
            name: "trader".into(),
            password: PASSWORD.into(),
            user_id: 7,
            accounts: vec![101],
        }],
        ..TradovateOptions::default()
    })
    .unwrap();
    server.reject_credentials(true);
    let config = quick(Config::new(server.ws_url()).preset(Preset::Tradovate))
        .credentials(credentials())
        .auth_url(server.auth_url())
        .token_file(token_file.to_str().unwrap());
    out.0.push(format!("{config:?}"));
    let client = Client::connect(config).unwrap();
    let (_, seen) = wait_for(&client, SOON, |e| e.kind() == "gave_up");
    out.events(&seen);
    server.reject_credentials(false);
    client.reconnect().unwrap();
    let (ev, seen) = wait_for(&client, SOON, |e| e.kind() == "authenticated");
    assert!(ev.is_some(), "no login after reconnect: {seen:?}");
    out.events(&seen);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&token_file).unwrap()).unwrap();
    let mut tokens = vec![saved["accessToken"].as_str().unwrap().to_string()];
    tokens.extend(saved["mdAccessToken"].as_str().map(String::from));
    let token = tokens[0].clone();
    // What the application reads of the token answer shows neither token.
    let info = client.token_info().expect("the token answer");
    out.0.push(format!("{info:?} {}", info.to_json()));

    // An error response that echoes the token, to a request that waits for it.
    server.drop_responses(true);
    let err = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| client.request("order/placeorder", Some("{}"), SOON));
        let (_, id, _) = server
            .wait_for_request("order/placeorder", SOON)
            .expect("the request reached the server");
        server.emit(&format!(
            "a{}",
            serde_json::json!([{"i": id, "s": 400, "d": format!("refused for {token}{FORGERY}")}])
        ));
        waiting.join().unwrap().unwrap_err()
    });
    assert!(err.to_string().contains("<redacted>"), "{err}");
    out.error(&err);

    // A subscription request refused with an errorText that echoes the token: the
    // `subscription_failed` error event and its log line carry neither.
    let key = client
        .subscribe(tradewire::Subscription::request(
            "md/subscribequote",
            Some(r#"{"symbol":"ESZ6"}"#),
        ))
        .unwrap();
    let (_, id, _) = server
        .wait_for_request("md/subscribequote", SOON)
        .expect("the subscription request reached the server");
    server.emit(&format!(
        "a{}",
        serde_json::json!([{"i": id, "s": 200, "d": {"errorText": format!("no {token}{FORGERY}")}}])
    ));
    let (ev, seen) = wait_for(&client, SOON, |e| e.kind() == "error");
    let refused = ev.expect("a subscription_failed error");
    assert!(format!("{refused:?}").contains("<redacted>"), "{refused:?}");
    out.events(&seen);
    out.event(&refused);
    client.unsubscribe(&key).unwrap();
    server.drop_responses(false);

    // A shutdown note, then a SockJS close frame, both echoing the token.
    server.emit(&format!(
        "a{}",
        serde_json::json!([{"e": "shutdown", "d": {"reason": format!("maintenance {token}")}}])
    ));
    let (ev, seen) = wait_for(&client, SOON, |e| e.kind() == "authenticated");
    assert!(ev.is_some(), "no login after the shutdown: {seen:?}");
    out.events(&seen);
    server.emit(&format!(
        "c{}",
        serde_json::json!([3000, format!("go away {token}{FORGERY}")])
    ));
    let (ev, seen) = wait_for(&client, SOON, |e| e.kind() == "reconnecting");
    assert!(ev.is_some(), "no reconnect after c[...]: {seen:?}");
    out.events(&seen);
    out.event(ev.as_ref().unwrap());
    let reason = seen
        .iter()
        .find_map(|e| match e {
            Event::Disconnected {
                code: Some(3000),
                reason,
                ..
            } => Some(reason.clone()),
            _ => None,
        })
        .expect("a Disconnected with 3000");
    assert!(reason.contains("<redacted>"), "{reason}");

    out.client(&client);
    client.close();
    out.events(&client.events().try_iter().collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(&dir);
    out.check(&tokens);
}

/// A value whose serialization fails with a message quoting a secret.
struct Unserializable;

impl serde::Serialize for Unserializable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(format!(
            "cannot serialize the session of token {BEARER}"
        )))
    }
}

/// Errors that keep the underlying error as `source()` (JSON here): no link of the chain,
/// in `Display` or `Debug`, shows a secret, and the chain is there to walk.
#[test]
fn error_source_chains() {
    capture();
    let mut out = Outputs::default();
    let client = Client::new(
        Config::new(url_with_secrets("ws://127.0.0.1:9"))
            .token(BEARER)
            .query("api_token", QUERY_TOKEN),
    )
    .unwrap();
    // The configuration's JSON parse error, the JSON holding secrets.
    let broken = format!(r#"{{"url": "ws://h/?api_token={QUERY_TOKEN}", "token": "{BEARER}""#);
    let err = Config::from_json(&broken).unwrap_err();
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
    out.error(&err);
    // The serialization error of `send_json`, whose text quotes a secret.
    let err = client.send_json(&Unserializable).unwrap_err();
    assert_eq!(err.kind(), tradewire::ErrorCategory::Usage);
    let source = std::error::Error::source(&err).expect("the serde_json error");
    assert!(source.to_string().contains("<redacted>"), "{source}");
    out.error(&err);
    out.client(&client);
    log::info!(target: "tradewire::canary", "error chains checked");
    out.check(&[]);
}

/// Configuration errors and the `Debug` of every public type that holds a secret.
#[test]
fn configuration_errors_and_debug_output() {
    capture();
    let mut out = Outputs::default();
    let json = serde_json::json!({
        "url": format!("ws://user:{URL_PASSWORD}@h/?token={}", QUERY_TOKEN.replace(' ', "+")),
        "jitter": "x",
        "token": BEARER,
        "headers": {"X-Api-Key": QUERY_TOKEN},
    });
    match Config::from_value(json.clone()) {
        Ok(c) => {
            out.0.push(format!("{c:?}"));
            if let Err(e) = c.validate() {
                out.error(&e);
            }
        }
        Err(e) => out.error(&e),
    }
    let c = Config::new(format!("ws://user:{URL_PASSWORD}@127.0.0.1:9/?token=x"))
        .token(BEARER)
        .preset(Preset::Tradovate)
        .credentials(credentials());
    out.0.push(format!(
        "{c:?} {:?} {:?}",
        credentials(),
        Secret::new(PASSWORD)
    ));
    if let Err(e) = c.validate() {
        out.error(&e);
        out.0
            .extend(e.problems().iter().map(|p| format!("{p} {p:?}")));
    }
    let token = tradewire::tradovate::token::TokenInfo::from_response(
        &serde_json::json!({"accessToken": BEARER, "mdAccessToken": QUERY_TOKEN, "expirationTime": "2030-01-01T00:00:00Z"}),
        std::time::SystemTime::now(),
    )
    .unwrap();
    out.0.push(format!("{token:?}"));
    tradewire_testkit::canary::assert_no_leak(
        out.0.iter(),
        &[
            PASSWORD.into(),
            SEC.into(),
            BEARER.into(),
            URL_PASSWORD.into(),
        ],
    );
    // Log lines of this test (none expected) are checked with the others.
    log::info!(target: "tradewire::canary", "configuration checked");
    out.check(&[]);
}
