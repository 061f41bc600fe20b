//! A preset whose reference document gives a reconnect schedule keeps it by default, with at
//! most 10 % of jitter: every announced `Reconnecting.delay` is within [d, 1.1·d] of the
//! document's delay d (daemon 002: 1, 2, 4, 8, then 10 s once a connection has been up,
//! every 5 s before; breakout 001: a fixed 5 s;
//! tradovate 000: 1 s doubling to 60 s), and `jitter = 0` gives exactly d. Presets without
//! a documented schedule keep the wider 0–100 % jitter.
//!
//! The client retries against a port nobody listens on (refused) or a server that accepts
//! and closes at once; the delays are those the `Reconnecting` events announce, so the
//! tests wait through the schedule (up to 15 s for the daemon's fifth delay) but assert no
//! timing of their own.

use std::net::TcpListener;
use std::time::Duration;

use tradewire::{Client, Config, Event, Preset};
use tradewire_testkit::{ServerOptions, WsServer};

use crate::support::wait_for;

/// A ws:// URL on 127.0.0.1 where nothing listens: every connection attempt is refused.
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("ws://127.0.0.1:{port}/")
}

/// The delays of the first `n` `Reconnecting` events, in attempt order.
fn announced_delays(config: Config, n: usize) -> Vec<Duration> {
    let client = Client::connect(config).unwrap();
    let mut delays = Vec::new();
    let mut next_attempt = 1;
    while delays.len() < n {
        // Bound: the previous delay (at most 60 s) plus a generous margin for a busy machine.
        let (ev, seen) = wait_for(&client, Duration::from_secs(90), |e| {
            matches!(e, Event::Reconnecting { .. })
        });
        match ev {
            Some(Event::Reconnecting { attempt, delay, .. }) => {
                assert_eq!(attempt, next_attempt, "attempts count up: {seen:?}");
                next_attempt += 1;
                delays.push(delay);
            }
            _ => panic!("no reconnecting event after {delays:?}: {seen:?}"),
        }
    }
    client.close();
    delays
}

/// Each delay is within [d, 1.1·d] of the document's.
fn assert_within_ten_percent(preset: &str, got: &[Duration], documented: &[u64]) {
    assert_eq!(got.len(), documented.len());
    for (i, (g, d)) in got.iter().zip(documented).enumerate() {
        let d = Duration::from_secs(*d);
        assert!(
            *g >= d && *g <= d.mul_f64(1.1),
            "{preset}: attempt {} announced {g:?}, outside [{d:?}, {:?}] (all: {got:?})",
            i + 1,
            d.mul_f64(1.1)
        );
    }
}

fn exactly(secs: &[u64]) -> Vec<Duration> {
    secs.iter().map(|s| Duration::from_secs(*s)).collect()
}

const DAEMON: [u64; 5] = [1, 2, 4, 8, 10];

#[test]
fn daemon_waits_1_2_4_8_then_10_s_plus_at_most_ten_percent() {
    // Once a connection was up (here: accepted, then closed at once), the drop schedule.
    let server = WsServer::start(ServerOptions::default()).unwrap();
    server.accept_then_close(Some((1011, "try later".into())));
    let config = Config::new(server.url()).preset(Preset::Daemon);
    let got = announced_delays(config, DAEMON.len());
    assert_within_ten_percent("daemon", &got, &DAEMON);
}

/// Document 002: a daemon that is not running (refused before any connection was up) is
/// retried every 5 s; the drop schedule starts once a connection has been up.
#[test]
fn daemon_never_reached_is_retried_every_5_s() {
    let config = Config::new(refused_url()).preset(Preset::Daemon);
    let got = announced_delays(config, 2);
    assert_within_ten_percent("daemon before its first connection", &got, &[5, 5]);
    let exact = Config::new(refused_url())
        .preset(Preset::Daemon)
        .jitter(0.0);
    assert_eq!(announced_delays(exact, 1), exactly(&[5]));
}

#[test]
fn daemon_without_jitter_waits_exactly_1_2_4_8_10_s() {
    // A server that accepts and closes at once: short-lived connections do not reset the
    // counter, so the schedule goes on as after refusals.
    let server = WsServer::start(ServerOptions::default()).unwrap();
    server.accept_then_close(Some((1011, "try later".into())));
    let config = Config::new(server.url()).preset(Preset::Daemon).jitter(0.0);
    assert_eq!(announced_delays(config, DAEMON.len()), exactly(&DAEMON));
}

#[test]
fn breakout_waits_a_fixed_5_s_plus_at_most_ten_percent() {
    let config = Config::new(refused_url()).preset(Preset::Breakout);
    let got = announced_delays(config, 2);
    assert_within_ten_percent("breakout", &got, &[5, 5]);
}

#[test]
fn breakout_without_jitter_waits_exactly_5_s() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    server.accept_then_close(Some((1011, "try later".into())));
    let config = Config::new(server.url())
        .preset(Preset::Breakout)
        .jitter(0.0);
    assert_eq!(announced_delays(config, 2), exactly(&[5, 5]));
}

#[test]
fn tradovate_doubles_from_1_s_plus_at_most_ten_percent() {
    let config = Config::new(refused_url())
        .preset(Preset::Tradovate)
        .token("not-a-real-token");
    let got = announced_delays(config, 4);
    assert_within_ten_percent("tradovate", &got, &[1, 2, 4, 8]);
}

#[test]
fn tradovate_without_jitter_doubles_exactly() {
    let config = Config::new(refused_url())
        .preset(Preset::Tradovate)
        .token("not-a-real-token")
        .jitter(0.0);
    assert_eq!(announced_delays(config, 4), exactly(&[1, 2, 4, 8]));
}

#[test]
fn presets_without_a_documented_schedule_keep_the_wide_jitter() {
    // agent (003) gives no schedule: 1 s doubling, + 0–100 %.
    let config = Config::new(refused_url())
        .preset(Preset::Agent)
        .token("jwt");
    let got = announced_delays(config, 2);
    for (g, d) in got.iter().zip([1u64, 2]) {
        let d = Duration::from_secs(d);
        assert!(*g >= d && *g <= d * 2, "{got:?}");
    }
    let config = Config::new(refused_url())
        .preset(Preset::Agent)
        .token("jwt")
        .jitter(0.0);
    assert_eq!(announced_delays(config, 2), exactly(&[1, 2]));
}
