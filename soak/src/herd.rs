//! Many clients reconnecting after one server restart: does jitter spread them out?
//!
//! `clients` clients with the json preset's default backoff (1 s doubling, 0–10 % jitter)
//! connect to one server; the server stops, stays down for `outage`, and comes back. The time
//! of every client's `Connected` event after the restart is taken (one thread selects over
//! all event channels), and the densest 100 ms window is reported.

use std::time::{Duration, Instant};

use crossbeam_channel::Select;
use tradewire::{Client, Config, Event};
use tradewire_testkit::{ServerOptions, WsServer};

use crate::measure::densest_window;

pub struct Herd {
    /// Seconds after the restart at which each client's `Connected` arrived.
    pub connected_after_restart: Vec<Duration>,
    pub densest_100ms: usize,
    pub clients: usize,
    pub spread: Duration,
}

/// Runs one restart with `clients` clients; `None` if not every client came back in time.
pub fn run(clients: usize, outage: Duration, jitter: Option<f64>) -> Result<Herd, String> {
    let server = WsServer::start(ServerOptions::default()).map_err(|e| e.to_string())?;
    let mut all = Vec::with_capacity(clients);
    for _ in 0..clients {
        let mut config = Config::new(server.url());
        if let Some(j) = jitter {
            config = config.jitter(j);
        }
        all.push(Client::connect(config).map_err(|e| e.to_string())?);
    }
    let rxs: Vec<_> = all.iter().map(|c| c.events()).collect();
    if !server.wait_for_connections(clients, Duration::from_secs(60)) {
        return Err(format!(
            "only {} of {clients} connected",
            server.connection_count()
        ));
    }
    // Drain the first Connected events.
    for rx in &rxs {
        while rx.try_recv().is_ok() {}
    }
    server.stop();
    std::thread::sleep(outage);
    server.restart().map_err(|e| e.to_string())?;
    let back = Instant::now();
    let mut times = vec![None; clients];
    let mut sel = Select::new();
    for rx in &rxs {
        sel.recv(rx);
    }
    let deadline = back + Duration::from_secs(120);
    let mut missing = clients;
    while missing > 0 {
        let Ok(op) = sel.select_deadline(deadline) else {
            break;
        };
        let i = op.index();
        match op.recv(&rxs[i]) {
            Ok(Event::Connected { .. }) => {
                if times[i].is_none() {
                    times[i] = Some(Instant::now().saturating_duration_since(back));
                    missing -= 1;
                }
            }
            Ok(_) => {}
            Err(_) => {
                sel.remove(i);
            }
        }
    }
    for c in &all {
        c.close();
    }
    if missing > 0 {
        return Err(format!(
            "{missing} of {clients} clients did not reconnect within 120 s"
        ));
    }
    let times: Vec<Duration> = times.into_iter().flatten().collect();
    let densest = densest_window(&times, Duration::from_millis(100));
    let spread = times.iter().max().copied().unwrap_or_default()
        - times.iter().min().copied().unwrap_or_default();
    Ok(Herd {
        connected_after_restart: times,
        densest_100ms: densest,
        clients,
        spread,
    })
}
