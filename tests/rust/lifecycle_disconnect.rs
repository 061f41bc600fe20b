//! `disconnect(code, reason)` closes with that code, stops reconnecting and leaves the client
//! usable; `start()`/`resume()` connect again with the next epoch, as the first time.

use std::time::Duration;

use tradewire::{Client, Config, ErrorCategory, Event, State};
use tradewire_testkit::{ServerOptions, WsServer};

use crate::support::{eventually, expect_kind, quick, SOON};

fn live_client(server: &WsServer) -> Client {
    let client =
        Client::connect(quick(Config::new(server.url())).on_connect(r#"{"op":"hello"}"#)).unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(server
        .wait_for_received(|m| m.contains("hello"), SOON)
        .is_some());
    client
}

#[test]
fn the_server_gets_the_code_and_reason_and_the_client_stays_down_until_started_again() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = live_client(&server);

    client.disconnect(4001, "end of session").unwrap();
    // When disconnect() returns, the state says so and the event is queued.
    assert_eq!(client.status().state, State::Disconnected);
    assert_eq!(client.status().state.ready_state(), 3);
    match expect_kind(&client, "disconnected", SOON) {
        Event::Disconnected {
            epoch,
            code,
            reason,
            by_client,
            ..
        } => {
            assert_eq!((epoch, code, by_client), (1, Some(4001), true));
            assert_eq!(reason, "end of session");
        }
        other => panic!("{other:?}"),
    }
    assert!(eventually(SOON, || server
        .closes_received()
        .contains(&(Some(4001), "end of session".to_string()))));

    // No reconnecting: the backoff (100 ms) would have tried several times by now.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(server.accepted_total(), 1);
    assert_eq!(client.status().state, State::Disconnected);
    assert!(client
        .recv_timeout(Duration::from_millis(50))
        .unwrap()
        .is_none());

    // Sending while disconnected fails at once; nothing is queued.
    assert!(matches!(client.send_text("x"), Err(e) if e.kind() == ErrorCategory::NotConnected));

    // start() connects again: the next epoch, the on-connect message again.
    client.start().unwrap();
    match expect_kind(&client, "connected", SOON) {
        Event::Connected { epoch, .. } => assert_eq!(epoch, 2),
        other => panic!("{other:?}"),
    }
    assert!(eventually(SOON, || server
        .received()
        .iter()
        .filter(|m| m.contains("hello"))
        .count()
        == 2));
    assert_eq!(client.status().state, State::Live);
    // Running: start() is a usage error, resume() does nothing.
    assert!(matches!(client.start(), Err(e) if e.kind() == ErrorCategory::Usage));
    client.resume().unwrap();
    client.close();
}

#[test]
fn invalid_codes_and_long_reasons_are_refused_and_nothing_is_closed() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = live_client(&server);
    for code in [0, 999, 1004, 1005, 1006, 1015, 2000, 5000] {
        let e = client.disconnect(code, "").unwrap_err();
        assert_eq!(e.kind(), ErrorCategory::Usage, "{code}: {e:?}");
        assert!(e.to_string().contains(&code.to_string()), "{e}");
    }
    let e = client.disconnect(1000, &"r".repeat(124)).unwrap_err();
    assert!(e.to_string().contains("123 bytes"), "{e}");
    assert_eq!(client.status().state, State::Live);
    assert!(server.closes_received().is_empty());
    client.disconnect(1001, "").unwrap();
    match expect_kind(&client, "disconnected", SOON) {
        Event::Disconnected { code, .. } => assert_eq!(code, Some(1001)),
        other => panic!("{other:?}"),
    }
    client.close();
}

#[test]
fn while_waiting_to_reconnect_it_stops_without_an_event_and_resume_connects() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let port = server.port();
    server.stop();
    let client = Client::connect(
        quick(Config::new(format!("ws://127.0.0.1:{port}")))
            .backoff_initial(Duration::from_secs(30))
            .backoff_max(Duration::from_secs(30)),
    )
    .unwrap();
    expect_kind(&client, "reconnecting", SOON);
    client.disconnect(1000, "").unwrap();
    assert_eq!(client.status().state, State::Disconnected);
    assert!(client
        .recv_timeout(Duration::from_millis(200))
        .unwrap()
        .is_none());

    server.restart().unwrap();
    client.resume().unwrap();
    match expect_kind(&client, "connected", SOON) {
        Event::Connected { epoch, .. } => assert_eq!(epoch, 1),
        other => panic!("{other:?}"),
    }
    client.close();
}

#[test]
fn a_close_handshake_under_way_is_the_closing_state() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = std::sync::Arc::new(live_client(&server));
    // The server stops reading: the client's close waits for an answer (briefly).
    server.set_silent(true);
    let closer = {
        let client = client.clone();
        std::thread::spawn(move || client.disconnect(1000, "bye"))
    };
    let seen_closing = eventually(SOON, || client.status().state == State::Closing);
    closer.join().unwrap().unwrap();
    assert!(seen_closing, "the state never said closing");
    assert_eq!(State::Closing.ready_state(), 2);
    assert_eq!(client.status().state, State::Disconnected);
    client.close();
}
