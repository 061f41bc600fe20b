//! `send_request` sends a Tradovate request without waiting: it returns the id at once and
//! the answer arrives as a `Response` event carrying that id.

use tradewire::{Client, Config, ErrorCategory, Event};
use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer};

use crate::support::{eventually, expect_kind, wait_for, SOON};
use crate::tradovate_session::config;

#[test]
fn the_answer_arrives_as_a_response_event_with_the_returned_id() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let client = Client::connect(config(&server)).unwrap();
    expect_kind(&client, "authenticated", SOON);
    expect_kind(&client, "response", SOON); // the sync answer
    let first = client.send_request("account/list", None).unwrap();
    let second = client
        .send_request("order/placeorder", Some(r#"{"symbol":"ESZ6"}"#))
        .unwrap();
    assert!(
        second > first,
        "ids are never reused: {first} then {second}"
    );
    let mut answered = Vec::new();
    for _ in 0..2 {
        let (ev, seen) = wait_for(&client, SOON, |e| matches!(e, Event::Response { .. }));
        match ev {
            Some(Event::Response { id, status, data }) => {
                assert_eq!(status, 200);
                answered.push((id, data.unwrap_or_default()));
            }
            other => panic!("{other:?} after {seen:?}"),
        }
    }
    assert_eq!(answered[0].0, first);
    assert!(answered[0].1.starts_with('['), "{}", answered[0].1);
    assert_eq!(answered[1].0, second);
    assert!(answered[1].1.contains("placeorder"), "{}", answered[1].1);
    client.close();
}

#[test]
fn other_presets_and_a_client_not_started_are_refused_before_sending() {
    let client = Client::new(Config::new("ws://127.0.0.1:9")).unwrap();
    assert!(matches!(
        client.send_request("account/list", None),
        Err(e) if e.kind() == ErrorCategory::Usage
    ));
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let idle = Client::new(config(&server)).unwrap();
    assert!(matches!(
        idle.send_request("account/list", None),
        Err(e) if e.kind() == ErrorCategory::NotConnected
    ));
    assert!(matches!(
        idle.send_request("bad\nendpoint", None),
        Err(e) if e.kind() == ErrorCategory::Usage
    ));
}

/// The response to a request sent with `id`.
fn response_to(client: &Client, want: u64) -> (u16, String) {
    let (ev, seen) = wait_for(
        client,
        SOON,
        |e| matches!(e, Event::Response { id, .. } if *id == want),
    );
    match ev {
        Some(Event::Response { status, data, .. }) => (status, data.unwrap_or_default()),
        other => panic!("no response to {want}: {other:?} after {seen:?}"),
    }
}

#[test]
fn a_callers_id_goes_out_and_comes_back_and_one_in_use_is_refused() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let client = Client::connect(config(&server)).unwrap();
    expect_kind(&client, "authenticated", SOON);
    expect_kind(&client, "response", SOON); // the sync answer

    // As document 000's send(endpoint, body, requestId): the id on the wire and on the answer.
    let id = client
        .send_request_with_id("account/list", None, 500)
        .unwrap();
    assert_eq!(id, 500);
    let (status, data) = response_to(&client, 500);
    assert_eq!(status, 200);
    assert!(data.starts_with('['), "{data}");
    assert!(server
        .requests()
        .iter()
        .any(|(e, i, _)| e == "account/list" && *i == 500));
    // Answered: the id is free again. The ids the client picks stay above it.
    assert_eq!(
        client
            .send_request_with_id("account/list", None, 500)
            .unwrap(),
        500
    );
    response_to(&client, 500);
    let next = client.send_request("account/list", None).unwrap();
    assert!(next > 500, "generated ids never meet a caller's: {next}");
    response_to(&client, next);

    // An id still waiting for its answer is refused, and nothing is sent.
    server.drop_responses(true);
    client
        .send_request_with_id("order/placeorder", Some("{}"), 42)
        .unwrap();
    let err = client
        .send_request_with_id("order/placeorder", Some("{}"), 42)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCategory::Usage, "{err}");
    assert!(err.to_string().contains("already waiting"), "{err}");
    let err = client
        .send_request_with_id("account/list", None, next + 1)
        .and_then(|_| client.send_request_with_id("account/list", None, next + 1))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCategory::Usage, "{err}");
    // 0 is the login's.
    let err = client
        .send_request_with_id("account/list", None, 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCategory::Usage, "{err}");
    // The server got the first 42 and (after the later request, which came in order) no other.
    let sent = |id: u64| {
        server
            .requests()
            .iter()
            .filter(|(_, i, _)| *i == id)
            .count()
    };
    assert!(eventually(SOON, || sent(next + 1) == 1));
    assert_eq!(sent(42), 1, "the refused request was not sent");
    client.close();
}
