//! A connection whose server stops sending while the TCP connection stays open (half-open)
//! is detected by the silence deadline, and the client reconnects.

use std::time::{Duration, Instant};

use tradewire::{Client, Config, Event, Preset};
use tradewire_testkit::{DaemonServer, FaultProxy, ProxyMode};

use crate::support::{expect_kind, quick, SOON};

/// The daemon preset with heartbeats every 300 ms and a 1 s timeout (also used by
/// `loop_reads`).
pub(crate) fn config(url: String) -> Config {
    quick(Config::new(url).preset(Preset::Daemon))
        .heartbeat_interval(Duration::from_millis(300))
        .heartbeat_timeout(Duration::from_secs(1))
}

#[test]
fn silent_server_is_detected_and_left() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(config(server.url())).unwrap();
    expect_kind(&client, "connected", SOON);
    let t0 = Instant::now();
    server.set_silent(true);
    let ev = expect_kind(&client, "disconnected", SOON);
    let took = t0.elapsed();
    match ev {
        Event::Disconnected { reason, error, .. } => {
            assert!(reason.contains("heartbeat_timeout"), "{reason}");
            assert!(error.is_some());
        }
        _ => unreachable!(),
    }
    assert!(
        took < Duration::from_secs(3),
        "detected after {took:?}, bound is 3 x heartbeat_timeout"
    );
    server.set_silent(false);
    assert!(matches!(
        expect_kind(&client, "connected", SOON),
        Event::Connected { epoch: 2, .. }
    ));
}

#[test]
fn blackholed_proxy_is_detected() {
    let server = DaemonServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let client = Client::connect(config(format!("ws://127.0.0.1:{}", proxy.port()))).unwrap();
    expect_kind(&client, "connected", SOON);
    let t0 = Instant::now();
    proxy.set_mode(ProxyMode::Blackhole);
    expect_kind(&client, "disconnected", SOON);
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "detected after {:?}",
        t0.elapsed()
    );
    proxy.set_mode(ProxyMode::Pass);
    expect_kind(&client, "connected", SOON);
}

#[test]
fn a_quiet_but_alive_server_is_not_dead() {
    // The server sends nothing, but answers pings: the connection must stay up.
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(config(server.url())).unwrap();
    expect_kind(&client, "connected", SOON);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        client.try_recv().unwrap().is_none(),
        "no disconnect during 3 quiet seconds"
    );
    assert!(client.status().connected);
    assert!(
        client.status().last_heartbeat_latency.is_some(),
        "ping round trips are measured"
    );
}
