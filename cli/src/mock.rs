//! `tradewire mock-server`: a testkit server in the foreground, for people developing against
//! tradewire. Prints the URL first (stdout), how to connect (stderr), and stops on Ctrl-C.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tradewire_testkit::{
    events, AgentOptions, AgentServer, BreakoutOptions, BreakoutServer, DaemonServer, ReplayServer,
    WsServer,
};

use crate::args::{MockArgs, MockPreset, ReplayArgs};
use crate::exit;

/// The agent id the agent server knows.
const AGENT_ID: &str = "agent-1";
/// How often the loop looks at the Ctrl-C flag and the connection count.
const TICK: Duration = Duration::from_millis(50);

/// Runs the server until `stop` is set; returns the exit code.
pub fn run(args: &MockArgs, stop: &AtomicBool) -> i32 {
    let result = match args.preset {
        MockPreset::Daemon => daemon(args, stop),
        MockPreset::Agent => agent(args, stop),
        MockPreset::Breakout => breakout(args, stop),
    };
    match result {
        Ok(()) => {
            eprintln!("tradewire: mock server stopped");
            exit::OK
        }
        Err(e) => {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                " (is another server using it? pick another with --port, or --port 0 for any free port)"
            } else {
                ""
            };
            eprintln!(
                "tradewire: error: cannot start the {} mock server on port {}: {e}{hint}",
                args.preset.name(),
                args.port
            );
            exit::FAILURE
        }
    }
}

/// `mock-server --replay FILE`: serves the recording, one recorded connection per client
/// connection, until every one was played or Ctrl-C; returns the exit code.
pub fn replay(args: &ReplayArgs, stop: &AtomicBool) -> i32 {
    let rec = match tradewire::record::reader::read(&args.file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tradewire: error: {e}");
            return exit::FAILURE;
        }
    };
    let bound = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, args.port));
    let server = match bound.and_then(|l| ReplayServer::serve(l, rec.clone(), args.speed)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "tradewire: error: cannot start the replay server on port {}: {e}",
                args.port
            );
            return exit::FAILURE;
        }
    };
    let url = server.url();
    announce_url(&url);
    let speed = args.speed.map_or("as fast as possible".to_string(), |s| {
        format!("at {s}x the recorded pace")
    });
    eprintln!(
        "tradewire: replaying {} ({} connection{}, {} skipped record{} in it) on {url}, {speed}",
        args.file.display(),
        server.total(),
        if server.total() == 1 { "" } else { "s" },
        rec.skipped,
        if rec.skipped == 1 { "" } else { "s" },
    );
    let first = rec
        .connections
        .first()
        .and_then(|c| c.url.clone())
        .unwrap_or_default();
    eprintln!("tradewire: recorded from {first}; try: tradewire listen {url} (with the recording's --preset)");
    let mut reported = 0;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(TICK);
        let ended = server.ended();
        if ended != reported {
            reported = ended;
            eprintln!("tradewire: played connection {ended} of {}", server.total());
        }
        if ended >= server.total() {
            eprintln!("tradewire: the recording is over");
            return exit::OK;
        }
    }
    eprintln!("tradewire: interrupted; stopping the server");
    exit::OK
}

/// Prints the URL as the first stdout line, so scripts can read it.
fn announce_url(url: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{url}");
    let _ = out.flush();
}

fn daemon(args: &MockArgs, stop: &AtomicBool) -> std::io::Result<()> {
    let server = DaemonServer::start_on(args.port)?;
    let url = server.url();
    announce_url(&url);
    let accounts: Vec<String> = args.accounts.iter().map(i64::to_string).collect();
    eprintln!(
        "tradewire: daemon mock server (document 002) on {url}: {} events/s for accounts {}, \
         plus a daemon-wide daemon_status every 50 events",
        args.rate,
        accounts.join(", ")
    );
    let first = args.accounts.first().copied().unwrap_or(123);
    eprintln!("tradewire: try: tradewire listen {url} --preset daemon --account {first}");
    eprintln!("tradewire: Ctrl-C to stop");
    server.broadcast(&events::daemon_status("RUNNING"));
    let list = args.accounts.clone();
    let stream = server.stream(args.rate, None, move |seq| {
        if seq % 50 == 0 {
            events::daemon_status("RUNNING")
        } else {
            let account = list[(seq as usize) % list.len().max(1)];
            events::daemon_event(seq, account)
        }
    });
    watch(&server, stop, |_| {});
    stream.stop();
    server.broadcast(&events::daemon_status("STOPPING"));
    server.close_all(1001, "Daemon shutting down");
    Ok(())
}

fn agent(args: &MockArgs, stop: &AtomicBool) -> std::io::Result<()> {
    let server = AgentServer::start(AgentOptions {
        port: args.port,
        agents: vec![AGENT_ID.into()],
        ..AgentOptions::default()
    })?;
    let token = server.token_for("user-1");
    let full = server.url_for(&token, AGENT_ID);
    announce_url(&full);
    let base = server.url();
    eprintln!(
        "tradewire: agent mock server (document 003) on {base}: agent id {AGENT_ID}, \
         JWT in the `token` query parameter, JSON ping every 30 s (answer with pong), \
         price updates at {} per second to a connected {AGENT_ID}",
        args.rate
    );
    eprintln!("tradewire: a valid token for user-1: {token}");
    eprintln!(
        "tradewire: try: tradewire listen {base} --preset agent --token {token} --query agentId={AGENT_ID}"
    );
    eprintln!("tradewire: Ctrl-C to stop");
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let mut next = Instant::now() + interval;
    let mut seq: u64 = 0;
    watch(&server, stop, |now| {
        while now >= next {
            next += interval;
            seq += 1;
            let price = 21_000.0 + ((seq * 37) % 160) as f64 * 0.25;
            if seq % 10 == 0 {
                server.position_update(
                    AGENT_ID,
                    json!({"id": "pos-1", "tokenSymbol": "MNQ", "quantity": 1 + seq % 3, "averagePrice": price}),
                );
            } else {
                server.price_update_batch(
                    AGENT_ID,
                    json!([{"tokenAddress": "MNQ", "priceUsd": price, "seq": seq}]),
                );
            }
            if now.saturating_duration_since(next) > Duration::from_secs(1) {
                next = now + interval; // fell far behind: skip rather than burst
            }
        }
    });
    server.close_all(1001, "Server shutting down");
    Ok(())
}

fn breakout(args: &MockArgs, stop: &AtomicBool) -> std::io::Result<()> {
    let server = BreakoutServer::start(BreakoutOptions {
        port: args.port,
        ..BreakoutOptions::default()
    })?;
    let url = server.url();
    announce_url(&url);
    eprintln!(
        "tradewire: breakout mock server (document 001) on {url}: HEARTBEAT every 30 s, \
         engine/signal/order/position events at {} per second",
        args.rate
    );
    eprintln!("tradewire: try: tradewire listen {url} --preset breakout");
    eprintln!("tradewire: Ctrl-C to stop");
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let mut next = Instant::now() + interval;
    let mut seq: u64 = 0;
    watch(&server, stop, |now| {
        while now >= next {
            next += interval;
            seq += 1;
            let (kind, data) = breakout_event(seq);
            server.publish(kind, data);
            if now.saturating_duration_since(next) > Duration::from_secs(1) {
                next = now + interval;
            }
        }
    });
    server.close_all(1001, "Server shutting down");
    Ok(())
}

/// A plausible breakout-engine event for `seq` (document 001's message types).
fn breakout_event(seq: u64) -> (&'static str, serde_json::Value) {
    let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];
    let symbol = symbols[(seq % 3) as usize];
    let price = 100.0 + ((seq * 37) % 500) as f64 / 10.0;
    match seq % 5 {
        0 => (
            "ENGINE_UPDATE",
            json!({"state": "RUNNING", "open_positions": seq % 4, "seq": seq}),
        ),
        1 => (
            "SIGNAL",
            json!({"signals": [{"symbol": symbol, "side": "long", "strength": 0.5 + (seq % 5) as f64 / 10.0}], "seq": seq}),
        ),
        2 => (
            "ORDER_PLACED",
            json!({"order_id": format!("ord-{seq}"), "symbol": symbol, "side": "buy", "qty": 1 + seq % 3, "price": price, "seq": seq}),
        ),
        3 => (
            "POSITION_OPEN",
            json!({"position_id": format!("pos-{seq}"), "symbol": symbol, "entry": price, "qty": 1 + seq % 3, "seq": seq}),
        ),
        _ => (
            "POSITION_UPDATE",
            json!({"position_id": format!("pos-{}", seq - 1), "symbol": symbol, "pnl": (seq % 21) as f64 - 10.0, "seq": seq}),
        ),
    }
}

/// Until `stop`: calls `tick(now)` every [`TICK`] and reports connection count changes.
fn watch(server: &WsServer, stop: &AtomicBool, mut tick: impl FnMut(Instant)) {
    let mut clients = 0;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(TICK);
        tick(Instant::now());
        let now = server.connection_count();
        if now != clients {
            eprintln!(
                "tradewire: {now} client{} connected",
                if now == 1 { "" } else { "s" }
            );
            clients = now;
        }
    }
    eprintln!("tradewire: interrupted; stopping the server");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakout_events_cycle_through_types() {
        let kinds: Vec<&str> = (1..=5).map(|s| breakout_event(s).0).collect();
        assert_eq!(
            kinds,
            [
                "SIGNAL",
                "ORDER_PLACED",
                "POSITION_OPEN",
                "POSITION_UPDATE",
                "ENGINE_UPDATE"
            ]
        );
        assert_eq!(breakout_event(7).1["seq"], 7);
    }
}
