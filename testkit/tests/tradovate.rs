//! TradovateServer over its WebSocket: SockJS framing, authorization, requests and faults.

mod common;

use std::time::{Duration, Instant};

use common::tradovate::*;
use common::*;
use serde_json::{json, Value};
use tradewire_testkit::tradovate::{array_frame, props_item};
use tradewire_testkit::{TradovateOptions, TradovateServer, TradovateUser};

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
