//! A client keeps one I/O thread across 100 reconnects, and close() leaves none behind.

use std::time::Duration;

use tradewire::{Client, Config, Event, Preset};
use tradewire_testkit::DaemonServer;

use crate::support::{eventually, expect_kind, threads_named, wait_for, SOON};

/// Thread counts are per process: only meaningful when each test has its own process
/// (cargo-nextest, which the test command uses).
fn isolated() -> bool {
    std::env::var_os("NEXTEST").is_some()
}

#[test]
fn no_thread_leak_over_100_reconnects() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(
        Config::new(server.url())
            .preset(Preset::Daemon)
            .backoff_initial(Duration::from_millis(5))
            .backoff_max(Duration::from_millis(20))
            .jitter(0.0)
            .min_uptime(Duration::ZERO),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    let baseline = threads_named("tradewire");
    for epoch in 2..=101u64 {
        server.drop_all();
        let (ev, seen) = wait_for(&client, SOON, |e| matches!(e, Event::Connected { .. }));
        match ev {
            Some(Event::Connected { epoch: got, .. }) => assert_eq!(got, epoch, "{seen:?}"),
            _ => panic!("no reconnect for epoch {epoch}: {seen:?}"),
        }
        if isolated() {
            assert!(
                threads_named("tradewire") <= baseline,
                "thread count grew at epoch {epoch}"
            );
        }
    }
    assert_eq!(client.status().reconnects, 100);
    client.close();
    if isolated() {
        assert!(
            eventually(SOON, || threads_named("tradewire") == 0),
            "threads left after close()"
        );
    }
}
