//! An idle connected client costs memory in proportion to what it holds, not to its queue
//! capacity. With a preallocated bounded channel (`crossbeam_channel::bounded(65536)`, whose
//! array flavour writes one slot per event of capacity up front) each client took about
//! 8 MiB of RSS before any event arrived, so 200 clients in one process took 1.6 GiB.
//! Figures: `tradewire-soak footprint` (docs/RELIABILITY.md).

use tradewire::{Client, Config, Preset};
use tradewire_testkit::DaemonServer;

use crate::support::{expect_kind, isolated, rss_kib, SOON};

const CLIENTS: usize = 20;

#[test]
fn an_idle_client_with_the_default_queue_costs_under_a_mebibyte() {
    let server = DaemonServer::start().unwrap();
    let rss0 = rss_kib();
    let clients: Vec<Client> = (0..CLIENTS)
        .map(|_| Client::connect(Config::new(server.url()).preset(Preset::Daemon)).unwrap())
        .collect();
    for c in &clients {
        expect_kind(c, "connected", SOON);
    }
    let per_client = (rss_kib().saturating_sub(rss0)) / CLIENTS as u64;
    eprintln!("footprint: {per_client} KiB per idle connected client (server side included)");
    if isolated() {
        assert!(per_client < 1024, "{per_client} KiB per idle client");
    }
}
