//! TradovateServer's token endpoints over HTTP: the documented fields, refusals, penalty
//! tickets, renewal and expiry.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::tradovate::*;
use common::*;
use serde_json::{json, Value};

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
