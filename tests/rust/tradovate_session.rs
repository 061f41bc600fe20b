//! The tradovate preset against the testkit's Tradovate mock: login with an access token,
//! the sync request after every login, props events filtered by account, requests matched
//! to responses, liveness with `[]` / `h`, shutdown, and a session that outlives its tokens.

use std::time::Duration;

use serde_json::json;
use tradewire::{Client, Config, Credentials, ErrorCategory, Event, Preset, Secret};
use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer};

use crate::support::{eventually, expect_kind, quick, wait_for, SOON};

pub fn credentials() -> Credentials {
    Credentials {
        name: "trader".into(),
        password: Secret::new("secret"),
        app_id: "tradewire-tests".into(),
        app_version: "1.0".into(),
        sec: Secret::new("api-secret"),
        cid: json!(8),
        device_id: None,
    }
}

/// A client of `server` that keeps its token in no file (tests never write into the home
/// directory; the token file's tests name their own).
pub fn config(server: &TradovateServer) -> Config {
    quick(Config::new(server.ws_url()).preset(Preset::Tradovate))
        .credentials(credentials())
        .auth_url(server.auth_url())
        .no_token_file()
}

fn requests_to(server: &TradovateServer, endpoint: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|(e, _, _)| e == endpoint)
        .count()
}

#[test]
fn logs_in_syncs_and_filters_props_by_account() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let client = Client::connect(config(&server).account_id(101)).unwrap();
    expect_kind(&client, "connected", SOON);
    expect_kind(&client, "authenticated", SOON);
    let st = client.status();
    assert!(st.authenticated && st.token_expires_at.is_some());
    assert!(
        !st.to_json().to_string().contains("tok-"),
        "the token never appears in status"
    );
    // The sync request went out with our user id, and its answer arrives as a Response event.
    let Event::Response { status, data, .. } = expect_kind(&client, "response", SOON) else {
        unreachable!()
    };
    assert_eq!(status, 200);
    assert!(data.unwrap().contains("ACC-101"));
    let sync: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|(e, _, _)| e == "user/syncrequest")
        .collect();
    assert_eq!(sync.len(), 1);
    assert!(sync[0].2.contains("\"users\":[7]"), "{:?}", sync[0]);
    server.emit_props(202, "position", json!({"id": 1, "netPos": 3}));
    server.emit_props(101, "position", json!({"id": 2, "netPos": 1}));
    let ev = expect_kind(&client, "message", SOON);
    let m = ev.as_message().unwrap();
    assert_eq!(m.msg_type(), Some("props"));
    assert_eq!(m.account_id(), Some("101"));
    assert!(m.data_json().unwrap().contains("\"netPos\":1"));
    assert!(eventually(SOON, || client.status().filtered == 1));
}

#[test]
fn requests_are_matched_time_out_and_fail_fast_on_disconnect() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let client = Client::connect(config(&server)).unwrap();
    expect_kind(&client, "authenticated", SOON);
    let accounts = client.request("account/list", None, SOON).unwrap();
    assert!(accounts.contains("ACC-202"), "{accounts}");

    server.drop_responses(true);
    let err = client
        .request(
            "order/placeorder",
            Some(r#"{"qty":1}"#),
            Duration::from_millis(300),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCategory::Timeout, "{err}");
    assert!(err.to_string().contains("outcome is unknown"), "{err}");

    // A request in flight when the connection drops fails at once, long before its timeout.
    let c = std::sync::Arc::new(client);
    let c2 = c.clone();
    let waiter = std::thread::spawn(move || {
        let t0 = std::time::Instant::now();
        (
            c2.request(
                "order/placeorder",
                Some(r#"{"qty":2}"#),
                Duration::from_secs(60),
            ),
            t0.elapsed(),
        )
    });
    assert!(eventually(SOON, || requests_to(
        &server,
        "order/placeorder"
    ) == 2));
    server.drop_all();
    let (result, took) = waiter.join().unwrap();
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorCategory::Request, "{err}");
    assert!(err.to_string().contains("outcome is unknown"), "{err}");
    assert!(took < Duration::from_secs(30), "failed after {took:?}");
    // After the reconnect nothing is replayed.
    server.drop_responses(false);
    expect_kind(&c, "authenticated", SOON);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        requests_to(&server, "order/placeorder"),
        2,
        "requests are never re-sent"
    );
    assert_eq!(
        requests_to(&server, "user/syncrequest"),
        2,
        "the sync request is re-sent after every login"
    );
}

#[test]
fn late_response_becomes_a_response_event() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let client = Client::connect(config(&server)).unwrap();
    expect_kind(&client, "authenticated", SOON);
    expect_kind(&client, "response", SOON); // the sync answer
    server.set_response_delay(Duration::from_millis(600));
    assert!(client
        .request("account/list", None, Duration::from_millis(100))
        .is_err());
    let (ev, seen) = wait_for(&client, SOON, |e| matches!(e, Event::Response { .. }));
    assert!(ev.is_some(), "{seen:?}");
}

#[test]
fn heartbeats_silence_and_shutdown() {
    let server = TradovateServer::start(TradovateOptions {
        heartbeat_interval: Duration::from_millis(200),
        ..TradovateOptions::default()
    })
    .unwrap();
    let client = Client::connect(
        config(&server)
            .heartbeat_interval(Duration::from_millis(200))
            .heartbeat_timeout(Duration::from_secs(1)),
    )
    .unwrap();
    expect_kind(&client, "authenticated", SOON);
    assert!(
        eventually(SOON, || server.client_heartbeats() >= 3),
        "the client sends [] while logged in"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        client.status().epoch,
        1,
        "server h frames keep the connection alive"
    );

    server.set_heartbeats(false);
    let Event::Disconnected { reason, .. } = expect_kind(&client, "disconnected", SOON) else {
        unreachable!()
    };
    assert!(reason.contains("heartbeat_timeout"), "{reason}");
    server.set_heartbeats(true);
    expect_kind(&client, "authenticated", SOON);

    server.send_shutdown();
    let Event::Disconnected { reason, .. } = expect_kind(&client, "disconnected", SOON) else {
        unreachable!()
    };
    assert!(reason.contains("shutdown"), "{reason}");
    let ev = expect_kind(&client, "authenticated", SOON);
    assert!(matches!(ev, Event::Authenticated { epoch: 3 }), "{ev:?}");
}

#[test]
fn a_session_outlives_three_token_lifetimes() {
    let server = TradovateServer::start(TradovateOptions {
        token_lifetime: Duration::from_secs(3),
        heartbeat_interval: Duration::from_millis(500),
        ..TradovateOptions::default()
    })
    .unwrap();
    let client =
        Client::connect(config(&server).token_expiry_margin(Duration::from_millis(500))).unwrap();
    expect_kind(&client, "authenticated", SOON);
    let first_expiry = client.status().token_expires_at.unwrap();
    std::thread::sleep(Duration::from_secs(10));
    let (_, seen) = wait_for(&client, Duration::from_millis(100), |_| false);
    assert!(
        !seen.iter().any(|e| matches!(e, Event::Disconnected { .. })),
        "{seen:?}"
    );
    assert!(server.renewals() >= 3, "renewals: {}", server.renewals());
    assert!(client.status().token_expires_at.unwrap() > first_expiry);
    assert_eq!(client.status().epoch, 1);
    assert!(client.request("account/list", None, SOON).is_ok());
    // A reconnect now logs in with the current token, without a new token request.
    let before = server.token_requests();
    server.drop_all();
    expect_kind(&client, "authenticated", SOON);
    assert_eq!(server.token_requests(), before);
}

#[test]
fn market_data_endpoint_logs_in_with_the_md_token_and_resubscribes() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let client = Client::connect(
        config(&server)
            .url(server.md_url())
            .market_data(true)
            .on_connect(r#"{"endpoint":"md/subscribeQuote","body":{"symbol":"ESZ5"}}"#),
    )
    .unwrap();
    expect_kind(&client, "authenticated", SOON);
    let (ev, seen) = wait_for(&client, SOON, |e| {
        e.as_message().and_then(|m| m.msg_type()) == Some("md")
    });
    assert!(ev.is_some(), "md events after subscribing: {seen:?}");
    assert_eq!(
        requests_to(&server, "user/syncrequest"),
        0,
        "no sync request on the md endpoint"
    );
    server.drop_all();
    expect_kind(&client, "authenticated", SOON);
    assert!(eventually(SOON, || server
        .requests()
        .iter()
        .filter(|(e, _, _)| e.eq_ignore_ascii_case("md/subscribeQuote"))
        .count()
        == 2));
}
