//! 200 create/connect/close cycles leave no thread, socket or memory behind. The
//! 1,000-cycle version with figures is `cargo run --release -p tradewire-soak -- lifecycle`
//! (docs/RELIABILITY.md).

use tradewire::{Client, Config, Preset};
use tradewire_testkit::DaemonServer;

use crate::support::{eventually, expect_kind, fd_count, isolated, rss_kib, threads_named, SOON};

const CYCLES: usize = 200;

fn cycle(server: &DaemonServer) {
    let client = Client::connect(Config::new(server.url()).preset(Preset::Daemon)).unwrap();
    expect_kind(&client, "connected", SOON);
    client.close();
}

#[test]
fn create_close_cycles_leave_nothing_behind() {
    let server = DaemonServer::start().unwrap();
    // Warm-up: allocator pools and the server's first connection threads.
    for _ in 0..20 {
        cycle(&server);
    }
    assert!(server.wait_for_at_most(0, SOON));
    let (threads0, fds0, rss0) = (threads_named("tradewire"), fd_count(), rss_kib());
    for _ in 0..CYCLES {
        cycle(&server);
        if isolated() {
            // close() joined the I/O thread; the kernel may list an exited thread in /proc for
            // a moment after pthread_join returns, hence "eventually".
            assert!(
                eventually(SOON, || threads_named("tradewire") == 0),
                "a thread outlived close()"
            );
        }
    }
    assert!(
        server.wait_for_at_most(0, SOON),
        "the server saw every connection end"
    );
    // The server's connection threads close their sockets just after the count drops.
    let settled = eventually(SOON, || fd_count() <= fds0);
    let (threads1, fds1, rss1) = (threads_named("tradewire"), fd_count(), rss_kib());
    eprintln!("lifecycle: {CYCLES} cycles: tradewire threads {threads0} -> {threads1}, fds {fds0} -> {fds1}, RSS {rss0} -> {rss1} KiB");
    if isolated() {
        assert_eq!(threads1, 0);
        assert!(settled, "file descriptors {fds0} -> {fds1}");
        // A leak of a socket buffer or a thread stack per cycle would be tens of MB here.
        assert!(rss1 < rss0 + 8 * 1024, "RSS {rss0} -> {rss1} KiB");
    }
}
