//! `send_request` sends a Tradovate request without waiting: it returns the id at once and
//! the answer arrives as a `Response` event carrying that id.

use tradewire::{Client, Config, ErrorCategory, Event};
use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer};

use crate::support::{expect_kind, wait_for, SOON};
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
