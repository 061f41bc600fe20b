//! A server that accepts and then closes at once is not retried forever: a configured fatal
//! code stops it (by default only `agent`'s 1008; the other presets retry every close, as
//! their documents do), and an accept-then-close loop backs off instead of resetting its
//! counter.

use std::time::Duration;

use tradewire::{Client, Config, Event, Preset, State};
use tradewire_testkit::{ServerOptions, WsServer};

use crate::support::{expect_kind, quick, wait_for, SOON};

#[test]
fn a_configured_fatal_code_right_after_accept_gives_up() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    server.accept_then_close(Some((1008, "Invalid token".into())));
    let client = Client::connect(
        quick(Config::new(server.url()).preset(Preset::Daemon)).fatal_close_codes(vec![1008]),
    )
    .unwrap();
    let ev = expect_kind(&client, "gave_up", SOON);
    let Event::GaveUp { reason } = ev else {
        unreachable!()
    };
    assert!(
        reason.contains("1008") && reason.contains("Invalid token"),
        "{reason}"
    );
    assert_eq!(client.status().state, State::GaveUp);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.accepted_total(), 1, "no retry after a fatal close");
    // reconnect() tries again once the cause is fixed.
    server.accept_then_close(None);
    client.reconnect().unwrap();
    expect_kind(&client, "connected", SOON);
}

/// Document 002's client retries every close: so does the daemon preset, 1008 included.
#[test]
fn the_daemon_preset_retries_1008() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    server.accept_then_close(Some((1008, "policy".into())));
    let client = Client::connect(quick(Config::new(server.url()).preset(Preset::Daemon))).unwrap();
    let (ev, seen) = wait_for(&client, SOON, |e| {
        matches!(e, Event::Reconnecting { .. } | Event::GaveUp { .. })
    });
    assert!(
        matches!(ev, Some(Event::Reconnecting { .. })),
        "{ev:?} after {seen:?}"
    );
    assert!(crate::support::eventually(SOON, || server.accepted_total() >= 2));
    client.close();
}

#[test]
fn accept_then_close_backs_off_instead_of_looping() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    server.accept_then_close(Some((1011, "try later".into())));
    let client = Client::connect(
        Config::new(server.url())
            .backoff_initial(Duration::from_millis(50))
            .backoff_max(Duration::from_secs(5))
            .jitter(0.0)
            .min_uptime(Duration::from_secs(5)),
    )
    .unwrap();
    let mut attempts = Vec::new();
    while attempts.len() < 4 {
        let (ev, seen) = wait_for(&client, SOON, |e| matches!(e, Event::Reconnecting { .. }));
        match ev {
            Some(Event::Reconnecting { attempt, delay, .. }) => attempts.push((attempt, delay)),
            _ => panic!("no reconnecting event: {seen:?}"),
        }
    }
    let numbers: Vec<u32> = attempts.iter().map(|a| a.0).collect();
    assert_eq!(
        numbers,
        [1, 2, 3, 4],
        "the counter is not reset by short-lived connections"
    );
    assert!(
        attempts[3].1 > attempts[0].1,
        "the delay grows: {attempts:?}"
    );
}

#[test]
fn max_attempts_then_gave_up_and_reconnect_restarts() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let url = server.url();
    server.stop();
    let client = Client::connect(quick(Config::new(url)).max_reconnect_attempts(Some(2))).unwrap();
    let Event::GaveUp { reason } = expect_kind(&client, "gave_up", SOON) else {
        unreachable!()
    };
    assert!(reason.contains("2 reconnect attempts"), "{reason}");
    assert!(client.send_text("x").is_err());
    server.restart().unwrap();
    client.reconnect().unwrap();
    expect_kind(&client, "connected", SOON);
    assert_eq!(client.status().reconnect_attempts, 0);
}
