//! 200 clients reconnecting after one quick server restart are spread out by the backoff
//! jitter (default 0–100 % of the delay): no 100 ms window holds more than a quarter of the
//! reconnections. The soak command measures longer outages too (`tradewire-soak herd`,
//! docs/RELIABILITY.md).

use std::time::{Duration, Instant};

use crossbeam_channel::Select;
use tradewire::{Client, Config, Event};
use tradewire_testkit::{ServerOptions, WsServer};

const CLIENTS: usize = 200;

/// The largest number of instants in any window of length `window`.
fn densest(times: &mut [Duration], window: Duration) -> usize {
    times.sort();
    let (mut best, mut lo) = (0, 0);
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= window {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

#[test]
fn two_hundred_clients_do_not_reconnect_in_one_burst() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let clients: Vec<Client> = (0..CLIENTS)
        .map(|_| Client::connect(Config::new(server.url())).unwrap())
        .collect();
    assert!(
        server.wait_for_connections(CLIENTS, Duration::from_secs(60)),
        "{} connected",
        server.connection_count()
    );
    let rxs: Vec<_> = clients.iter().map(|c| c.events()).collect();
    for rx in &rxs {
        while rx.try_recv().is_ok() {}
    }
    server.stop();
    // Back before the first retry (1-2 s after the drop): every client's first attempt
    // succeeds, so only the jitter spreads them.
    std::thread::sleep(Duration::from_millis(200));
    server.restart().unwrap();
    let back = Instant::now();

    let mut sel = Select::new();
    for rx in &rxs {
        sel.recv(rx);
    }
    let mut times: Vec<Option<Duration>> = vec![None; CLIENTS];
    let mut missing = CLIENTS;
    let deadline = back + Duration::from_secs(60);
    while missing > 0 {
        let Ok(op) = sel.select_deadline(deadline) else {
            break;
        };
        let i = op.index();
        match op.recv(&rxs[i]) {
            Ok(Event::Connected { .. }) if times[i].is_none() => {
                times[i] = Some(back.elapsed());
                missing -= 1;
            }
            Ok(_) => {}
            Err(_) => {
                sel.remove(i);
            }
        }
    }
    for c in &clients {
        c.close();
    }
    assert_eq!(missing, 0, "{missing} clients did not come back");
    let mut times: Vec<Duration> = times.into_iter().flatten().collect();
    let most = densest(&mut times, Duration::from_millis(100));
    eprintln!(
        "herd: {CLIENTS} clients back between {:?} and {:?} after the restart; densest 100 ms window: {most}",
        times.first().unwrap(),
        times.last().unwrap()
    );
    assert!(
        most <= CLIENTS / 4,
        "{most} of {CLIENTS} clients reconnected within one 100 ms window"
    );
}
