//! TradovateServer: token endpoints, SockJS framing, authorization, requests and faults.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tradewire_testkit::tradovate::{array_frame, props_item};
use tradewire_testkit::{TradovateOptions, TradovateServer, TradovateUser};
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<TcpStream>;

fn start() -> TradovateServer {
    start_with(Duration::from_secs(30))
}

fn start_with(heartbeat_interval: Duration) -> TradovateServer {
    TradovateServer::start(TradovateOptions {
        heartbeat_interval,
        ..TradovateOptions::default()
    })
    .unwrap()
}

// ---- a hand-written HTTP/1.1 client -------------------------------------------------

/// Sends one request and returns (status, body).
fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut tcp = TcpStream::connect(host).unwrap();
    tcp.set_read_timeout(Some(SOON)).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    tcp.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("\r\nConnection: close"), "{head}");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

fn post_json(url: &str, body: &Value) -> (u16, Value) {
    let (status, text) = http(
        "POST",
        url,
        &[("Content-Type", "application/json")],
        &body.to_string(),
    );
    (status, serde_json::from_str(&text).unwrap())
}

fn credentials(name: &str, password: &str) -> Value {
    json!({"name": name, "password": password, "appId": "tradewire", "appVersion": "1.0",
           "sec": "s3c", "cid": 0})
}

/// A successful token response.
fn token(server: &TradovateServer) -> Value {
    let (status, body) = post_json(&server.auth_url(), &credentials("trader", "secret"));
    assert_eq!(status, 200, "{body}");
    assert!(body["accessToken"].is_string(), "{body}");
    body
}

fn renew(server: &TradovateServer, access_token: &str) -> (u16, Value) {
    let bearer = format!("Bearer {access_token}");
    let (status, text) = http(
        "GET",
        &server.renew_url(),
        &[("Authorization", &bearer)],
        "",
    );
    (status, serde_json::from_str(&text).unwrap())
}

// ---- a plain WebSocket client speaking the frames --------------------------------------

/// Connects and checks the `o` frame.
fn open(url: &str) -> Ws {
    let mut ws = connect(url).unwrap();
    assert_eq!(read_text(&mut ws).as_deref(), Some("o"));
    ws
}

fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).unwrap();
}

/// Next frame that is not a server heartbeat.
fn next_frame(ws: &mut Ws) -> String {
    loop {
        let text = read_text(ws).expect("a frame");
        if text != "h" {
            return text;
        }
    }
}

/// The items of the next `a[...]` frame (skipping heartbeats).
fn next_items(ws: &mut Ws) -> Vec<Value> {
    let frame = next_frame(ws);
    let array = frame.strip_prefix('a').unwrap_or_else(|| panic!("{frame}"));
    serde_json::from_str::<Vec<Value>>(array).unwrap()
}

fn authorize(ws: &mut Ws, token: &str) -> String {
    send(ws, &format!("authorize\n0\n\n{token}"));
    next_frame(ws)
}

/// An authorized connection to the trading socket.
fn authorized(server: &TradovateServer) -> Ws {
    let access = token(server)["accessToken"].as_str().unwrap().to_string();
    let mut ws = open(&server.ws_url());
    assert_eq!(authorize(&mut ws, &access), r#"a[{"s":200,"i":0}]"#);
    ws
}

/// Reads frames for `d`; returns them (the socket's read timeout is restored to SOON).
fn frames_for(ws: &mut Ws, d: Duration) -> Vec<String> {
    let deadline = Instant::now() + d;
    let mut frames = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        set_timeout(ws, left);
        match ws.read() {
            Ok(Message::Text(t)) => frames.push(t.as_str().to_string()),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    set_timeout(ws, SOON);
    frames
}

// ---- token endpoints ------------------------------------------------------------------

#[test]
fn token_request_returns_the_documented_fields() {
    let server = start();
    assert!(server.auth_url().starts_with("http://127.0.0.1:"));
    assert!(server.auth_url().ends_with("/v1/auth/accesstokenrequest"));
    assert!(server.renew_url().ends_with("/v1/auth/renewaccesstoken"));
    let body = token(&server);
    let access = body["accessToken"].as_str().unwrap();
    let md = body["mdAccessToken"].as_str().unwrap();
    assert!(access.starts_with("tok-") && md.starts_with("md-") && access != md);
    assert_eq!(body["userId"], 7);
    assert_eq!(body["name"], "trader");
    assert_eq!(body["userStatus"], "Active");
    assert_eq!(body["hasLive"], false);
    assert_eq!(body["hasMarketData"], true);
    assert_eq!(body["orgName"], "tradewire-test");
    // ISO 8601 UTC with milliseconds, about 80 minutes ahead.
    let expiry = body["expirationTime"].as_str().unwrap();
    assert_eq!(expiry.len(), "2025-01-17T16:25:15.123Z".len(), "{expiry}");
    assert!(expiry.ends_with('Z') && &expiry[10..11] == "T" && &expiry[19..20] == ".");
    assert_eq!(server.token_requests(), 1);
    assert_eq!(server.valid_tokens(), 1);

    let again = token(&server);
    assert_ne!(again["accessToken"], body["accessToken"]);
    assert_eq!(server.valid_tokens(), 2);
}

#[test]
fn wrong_credentials_and_rejections() {
    let server = start();
    let (status, body) = post_json(&server.auth_url(), &credentials("trader", "wrong"));
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"errorText": "Incorrect username or password. Please try again."})
    );

    server.reject_credentials(true);
    let (status, body) = post_json(&server.auth_url(), &credentials("trader", "secret"));
    assert_eq!(status, 200);
    assert!(body["errorText"].is_string() && body.get("accessToken").is_none());
    server.reject_credentials(false);

    server.reject_with_http_401(true);
    let (status, _) = post_json(&server.auth_url(), &credentials("trader", "secret"));
    assert_eq!(status, 401);
    server.reject_with_http_401(false);
    token(&server);

    let (status, _) = http("POST", &server.auth_url(), &[], "not json");
    assert_eq!(status, 400);
    let (status, _) = http("GET", &server.auth_url(), &[], "");
    assert_eq!(status, 405);
    let auth = server.auth_url();
    let (status, _) = http(
        "POST",
        &auth.replace("accesstokenrequest", "nope"),
        &[],
        "{}",
    );
    assert_eq!(status, 404);
    assert_eq!(
        server.token_requests(),
        5,
        "only POSTs to the token path count"
    );
    assert_eq!(server.valid_tokens(), 1);
}

#[test]
fn penalty_ticket_must_be_carried_and_waited_for() {
    let server = start();
    server.penalty(Some((0.3, false)));
    let (status, first) = post_json(&server.auth_url(), &credentials("trader", "secret"));
    assert_eq!(status, 200);
    let ticket = first["p-ticket"].as_str().unwrap().to_string();
    assert_eq!(first["p-time"], 0.3);
    assert_eq!(first["p-captcha"], false);
    assert!(first.get("accessToken").is_none());

    // Too early with the ticket: the same ticket, less time to wait.
    let mut retry = credentials("trader", "secret");
    retry["p-ticket"] = json!(ticket);
    let (_, early) = post_json(&server.auth_url(), &retry);
    assert_eq!(early["p-ticket"], ticket);
    let left = early["p-time"].as_f64().unwrap();
    assert!(left > 0.0 && left <= 0.3, "{early}");
    // Without the ticket: still penalized.
    let (_, plain) = post_json(&server.auth_url(), &credentials("trader", "secret"));
    assert_eq!(plain["p-ticket"], ticket);

    std::thread::sleep(Duration::from_millis(320));
    let (status, ok) = post_json(&server.auth_url(), &retry);
    assert_eq!(status, 200);
    assert!(ok["accessToken"].is_string(), "{ok}");
    token(&server); // lifted

    server.penalty(Some((2.0, true)));
    let (_, captcha) = post_json(&server.auth_url(), &credentials("trader", "secret"));
    assert_eq!(captcha["p-captcha"], true);
    assert_eq!(captcha["p-time"], json!(2), "whole seconds are an integer");
    server.penalty(None);
    token(&server);
    assert_eq!(server.token_requests(), 7);
}

#[test]
fn renewal_issues_a_new_token_and_keeps_the_old_one() {
    let server = start();
    let first = token(&server);
    let old = first["accessToken"].as_str().unwrap();
    let (status, renewed) = renew(&server, old);
    assert_eq!(status, 200);
    let new = renewed["accessToken"].as_str().unwrap();
    assert_ne!(new, old);
    assert_ne!(renewed["mdAccessToken"], first["mdAccessToken"]);
    assert_eq!(renewed["userId"], 7);
    assert!(
        renewed["expirationTime"].as_str().unwrap() >= first["expirationTime"].as_str().unwrap()
    );
    assert_eq!(server.renewals(), 1);
    assert_eq!(server.valid_tokens(), 2);

    // Both tokens open the socket; an md token does not renew.
    for token in [old, new] {
        let mut ws = open(&server.ws_url());
        assert_eq!(authorize(&mut ws, token), r#"a[{"s":200,"i":0}]"#);
    }
    let (status, _) = renew(&server, first["mdAccessToken"].as_str().unwrap());
    assert_eq!(status, 401);
    let (status, _) = renew(&server, "tok-0-bogus");
    assert_eq!(status, 401);
    let (status, body) = http("GET", &server.renew_url(), &[], "");
    assert_eq!(status, 401, "{body}");
    assert_eq!(server.renewals(), 4);
}

#[test]
fn tokens_expire() {
    let server = start();
    server.set_token_lifetime(Duration::from_millis(300));
    let short = token(&server);
    let access = short["accessToken"].as_str().unwrap();
    let mut ws = open(&server.ws_url());
    assert_eq!(authorize(&mut ws, access), r#"a[{"s":200,"i":0}]"#);
    assert_eq!(server.valid_tokens(), 1);

    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(server.valid_tokens(), 0);
    let mut late = open(&server.ws_url());
    assert_eq!(
        authorize(&mut late, access),
        r#"a[{"s":401,"i":0,"d":"Access is denied"}]"#
    );
    let (status, _) = renew(&server, access);
    assert_eq!(status, 401);
    // The authorized connection is not cut off by the expiry.
    send(&mut ws, "account/list\n1\n\n");
    assert_eq!(next_items(&mut ws)[0]["s"], 200);
}

#[test]
fn a_real_http_client_works_and_sees_a_stopped_server() {
    let server = start();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(3)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&server.auth_url())
        .send_json(credentials("trader", "secret"))
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.body_mut().read_json().unwrap();
    let access = body["accessToken"].as_str().unwrap().to_string();
    let mut renewed = agent
        .get(&server.renew_url())
        .header("Authorization", &format!("Bearer {access}"))
        .call()
        .unwrap();
    assert_eq!(renewed.status().as_u16(), 200);
    let renewed: Value = renewed.body_mut().read_json().unwrap();
    assert!(renewed["accessToken"].is_string());

    server.stop();
    let started = Instant::now();
    let err = agent.get(&server.renew_url()).call().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "{err}");
    assert!(TcpStream::connect(authority(&server.ws_url())).is_err());
    server.restart().unwrap();
    let response = agent
        .post(&server.auth_url())
        .send_json(credentials("trader", "secret"))
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // Tokens survive a restart.
    let mut ws = open(&server.ws_url());
    assert_eq!(authorize(&mut ws, &access), r#"a[{"s":200,"i":0}]"#);
}

// ---- WebSocket ------------------------------------------------------------------------

#[test]
fn authorize_checks_the_token_kind_per_socket() {
    let server = start();
    let body = token(&server);
    let access = body["accessToken"].as_str().unwrap();
    let md = body["mdAccessToken"].as_str().unwrap();
    assert!(server.ws_url().starts_with("ws://127.0.0.1:"));
    assert!(server.ws_url().ends_with("/v1/websocket"));
    assert!(server.md_url().ends_with("/v1/md/websocket"));

    let mut ws = open(&server.ws_url());
    assert_eq!(
        authorize(&mut ws, md),
        r#"a[{"s":401,"i":0,"d":"Access is denied"}]"#
    );
    // The socket stays open: a second try with the right token succeeds.
    assert_eq!(authorize(&mut ws, access), r#"a[{"s":200,"i":0}]"#);

    let mut mdws = open(&server.md_url());
    assert_eq!(
        authorize(&mut mdws, access),
        r#"a[{"s":401,"i":0,"d":"Access is denied"}]"#
    );
    send(&mut mdws, &format!("authorize\n5\n\n{md}"));
    assert_eq!(next_frame(&mut mdws), r#"a[{"s":200,"i":5}]"#);
    assert_eq!(server.authorizations(), 2);
    assert!(server.wait_for_authorizations(2, SOON));
    assert_eq!(server.connection_count(), 2);

    // Any other path is closed at once.
    let mut other = connect(&format!("ws://{}/v1/other", authority(&server.ws_url()))).unwrap();
    assert_eq!(read_close(&mut other), Some((1008, "Not Found".into())));
}

#[test]
fn heartbeats_go_to_authorized_connections_and_can_stop() {
    let server = start_with(Duration::from_millis(40));
    let mut idle = open(&server.ws_url());
    let mut ws = authorized(&server);
    let frames = frames_for(&mut ws, Duration::from_millis(300));
    assert!(
        frames.len() >= 2 && frames.iter().all(|f| f == "h"),
        "{frames:?}"
    );
    set_timeout(&idle, Duration::from_millis(100));
    assert!(is_quiet(&mut idle), "no heartbeats before authorization");

    server.set_heartbeats(false);
    frames_for(&mut ws, Duration::from_millis(60)); // one may be in flight
    set_timeout(&ws, Duration::from_millis(200));
    assert!(is_quiet(&mut ws));
    assert_eq!(server.connection_count(), 2, "sockets stay open");

    server.set_heartbeats(true);
    set_timeout(&ws, SOON);
    assert_eq!(read_text(&mut ws).as_deref(), Some("h"));

    // Client heartbeats are counted, before and after authorization.
    send(&mut idle, "[]");
    send(&mut ws, "[]");
    send(&mut ws, "[]");
    assert!(eventually(|| server.client_heartbeats() == 3));
    assert!(server.requests().is_empty());
}

#[test]
fn requests_are_answered_after_authorization() {
    let server = start();
    let mut ws = open(&server.ws_url());
    send(&mut ws, "account/list\n1\n\n");
    assert_eq!(
        next_frame(&mut ws),
        r#"a[{"s":401,"i":1,"d":"Not authorized"}]"#
    );
    let access = token(&server)["accessToken"].as_str().unwrap().to_string();
    assert_eq!(authorize(&mut ws, &access), r#"a[{"s":200,"i":0}]"#);

    send(&mut ws, "user/syncrequest\n2\n\n{\"users\":[7]}");
    let sync = next_items(&mut ws);
    assert_eq!(sync.len(), 1);
    assert_eq!(
        (sync[0]["s"].clone(), sync[0]["i"].clone()),
        (json!(200), json!(2))
    );
    let d = &sync[0]["d"];
    assert_eq!(d["users"][0]["id"], 7);
    assert_eq!(d["users"][0]["name"], "trader");
    let accounts = d["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0]["id"], 101);
    assert_eq!(accounts[0]["name"], "ACC-101");
    assert_eq!(accounts[1]["id"], 202);
    assert_eq!(d["positions"], json!([]));
    assert_eq!(d["orders"], json!([]));

    send(&mut ws, "account/list\n3\n\n");
    let list = next_items(&mut ws);
    assert_eq!(list[0]["d"].as_array().unwrap().len(), 2);
    assert_eq!(list[0]["d"][1]["name"], "ACC-202");

    send(&mut ws, "order/placeOrder\n4\n\n{\"accountId\":101}");
    assert_eq!(
        next_items(&mut ws),
        [json!({"s": 200, "i": 4, "d": {"ok": true, "endpoint": "order/placeOrder"}})]
    );

    send(&mut ws, "md/subscribeQuote\n5\n\n{\"symbol\":\"ESM5\"}");
    assert_eq!(next_frame(&mut ws), r#"a[{"s":200,"i":5,"d":{"ok":true}}]"#);
    for _ in 0..3 {
        let md = next_items(&mut ws);
        assert_eq!(md[0]["e"], "md");
        let quote = &md[0]["d"]["quotes"][0];
        assert_eq!(quote["contractId"], 1);
        assert!(quote["entries"]["Bid"]["price"].as_f64().unwrap() > 5000.0);
    }

    send(&mut ws, "not a request");
    send(&mut ws, "account/list\n6\n\n");
    assert_eq!(next_items(&mut ws)[0]["i"], 6);
    let requests = server.requests();
    let endpoints: Vec<(&str, u64)> = requests.iter().map(|(e, i, _)| (e.as_str(), *i)).collect();
    assert_eq!(
        endpoints,
        [
            ("account/list", 1),
            ("user/syncrequest", 2),
            ("account/list", 3),
            ("order/placeOrder", 4),
            ("md/subscribeQuote", 5),
            ("account/list", 6)
        ]
    );
    assert_eq!(requests[1].2, "{\"users\":[7]}");
    let found = server.wait_for_request("ORDER/PLACEORDER", SOON).unwrap();
    assert_eq!(found.2, "{\"accountId\":101}");
}

#[test]
fn responses_can_be_delayed_or_dropped_while_heartbeats_go_on() {
    let server = start_with(Duration::from_millis(40));
    let mut ws = authorized(&server);

    server.set_response_delay(Duration::from_millis(250));
    let sent = Instant::now();
    send(&mut ws, "account/list\n1\n\n");
    let mut heartbeats = 0;
    let response = loop {
        let text = read_text(&mut ws).unwrap();
        if text == "h" {
            heartbeats += 1;
        } else {
            break text;
        }
    };
    assert!(sent.elapsed() >= Duration::from_millis(250));
    assert!(
        response.starts_with(r#"a[{"s":200,"i":1,"d":["#),
        "{response}"
    );
    assert!(
        heartbeats >= 1,
        "heartbeats flow while a response is delayed"
    );

    server.set_response_delay(Duration::ZERO);
    server.drop_responses(true);
    send(&mut ws, "account/list\n2\n\n");
    let frames = frames_for(&mut ws, Duration::from_millis(250));
    assert!(
        !frames.is_empty() && frames.iter().all(|f| f == "h"),
        "{frames:?}"
    );
    assert!(server.wait_for_request("account/list", SOON).is_some());
    assert_eq!(server.requests().len(), 2);

    server.drop_responses(false);
    send(&mut ws, "account/list\n3\n\n");
    assert_eq!(next_items(&mut ws)[0]["i"], 3);
}

#[test]
fn props_events_batches_and_shutdown() {
    let server = start();
    let mut unauthorized = open(&server.ws_url());
    let mut ws = authorized(&server);

    server.emit_props(101, "position", json!({"id": 1, "netPos": 2}));
    let items = next_items(&mut ws);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["e"], "props");
    let d = &items[0]["d"];
    assert_eq!(d["entityType"], "position");
    assert_eq!(d["eventType"], "Updated");
    assert_eq!(d["entity"], json!({"id": 1, "netPos": 2, "accountId": 101}));

    // Two accounts in one frame.
    server.emit(&array_frame(&[
        props_item(101, "order", json!({"id": 5})),
        props_item(202, "order", json!({"id": 6})),
    ]));
    let batch = next_items(&mut ws);
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[0]["d"]["entity"]["accountId"], 101);
    assert_eq!(batch[1]["d"]["entity"]["accountId"], 202);

    server.send_shutdown();
    let expected = json!([{"e": "shutdown", "d": {"reasonCode": "Maintenance"}}]);
    assert_eq!(Value::Array(next_items(&mut ws)), expected);
    // The unauthorized connection got the raw frames but not the props event.
    assert_eq!(next_items(&mut unauthorized).len(), 2);
    assert_eq!(Value::Array(next_items(&mut unauthorized)), expected);
}

#[test]
fn close_all_sends_a_sockjs_close_frame_then_closes() {
    let server = start();
    let mut ws = authorized(&server);
    server.close_all(3000, "Go away!");
    assert_eq!(next_frame(&mut ws), r#"c[3000,"Go away!"]"#);
    assert_eq!(read_close(&mut ws), Some((3000, "Go away!".into())));
    assert!(server.wait_for_at_most(0, SOON));

    // A SockJS code a WebSocket close frame may not carry: close 1000.
    let mut again = open(&server.ws_url());
    server.close_all(2010, "Another connection still open");
    assert_eq!(
        next_frame(&mut again),
        r#"c[2010,"Another connection still open"]"#
    );
    assert_eq!(
        read_close(&mut again),
        Some((1000, "Normal closure".into()))
    );

    // drop_all: no close frame at all.
    let mut dropped = open(&server.ws_url());
    assert!(server.wait_for_connections(1, SOON));
    server.drop_all();
    assert!(read_close(&mut dropped).is_none());
}

#[test]
fn a_user_without_accounts_and_custom_users() {
    let server = TradovateServer::start(TradovateOptions {
        users: vec![TradovateUser {
            name: "empty".into(),
            password: "pw".into(),
            user_id: 99,
            accounts: vec![],
        }],
        heartbeat_interval: Duration::from_secs(30),
        ..TradovateOptions::default()
    })
    .unwrap();
    let user = format!("{:?}", TradovateOptions::default().users[0]);
    assert!(!user.contains("secret"), "{user}");
    let (_, body) = post_json(&server.auth_url(), &credentials("trader", "secret"));
    assert!(body["errorText"].is_string());
    let (_, body) = post_json(&server.auth_url(), &credentials("empty", "pw"));
    assert_eq!(body["userId"], 99);
    let mut ws = open(&server.ws_url());
    assert_eq!(
        authorize(&mut ws, body["accessToken"].as_str().unwrap()),
        r#"a[{"s":200,"i":0}]"#
    );
    send(&mut ws, "user/syncrequest\n1\n\n");
    let sync = next_items(&mut ws);
    assert_eq!(sync[0]["d"]["accounts"], json!([]));
    assert_eq!(sync[0]["d"]["users"][0]["id"], 99);
}
