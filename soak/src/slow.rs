//! Slow consumer: the application stops reading for a while during a fast stream.
//!
//! The server runs in a child process (`tradewire-soak serve-stream`), so that this process's
//! RSS is the client's alone: under `block` the server queues what the client does not read.
//! Checked per overflow policy: memory growth, no `Disconnected` (heartbeats keep going while
//! the consumer stalls), and `messages + sum(Lagged) == sent` with `status().dropped` equal to
//! the sum of the `Lagged` markers (drop policies), or every message in order (block).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tradewire::{Client, Config, Event, Overflow, Preset};

use crate::measure::{mib, rss_kib};

pub struct Options {
    pub policy: Overflow,
    pub stall: Duration,
    pub rate: f64,
    pub queue_capacity: Option<usize>,
}

pub struct Outcome {
    pub ok: bool,
    pub lines: Vec<String>,
}

fn seq_of(m: &tradewire::Message) -> Option<u64> {
    m.data::<serde_json::Value>()?.get("seq")?.as_u64()
}

/// The child: a daemon server that waits for one client, streams `count` events at `rate`,
/// prints `sent N` and exits when its standard input closes.
pub fn serve_stream(rate: f64, count: u64) {
    let server = tradewire_testkit::DaemonServer::start().expect("start the server");
    println!("port {}", server.port());
    let _ = std::io::stdout().flush();
    if !server.wait_for_connections(1, Duration::from_secs(60)) {
        println!("error no client");
        return;
    }
    let stream = server.stream(rate, Some(count), |seq| {
        tradewire_testkit::events::daemon_event(seq, 123)
    });
    let _ = stream.wait_finished(Duration::from_secs(3600));
    println!("sent {}", stream.sent());
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

pub fn run(o: &Options) -> Outcome {
    let mut lines = Vec::new();
    let name = o.policy.name();
    let count = (o.rate * o.stall.as_secs_f64()).round() as u64;
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .args([
            "serve-stream",
            "--rate",
            &o.rate.to_string(),
            "--count",
            &count.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server process");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("port line");
    let port: u16 = line
        .trim()
        .strip_prefix("port ")
        .and_then(|p| p.parse().ok())
        .expect("port");

    let mut config = Config::new(format!("ws://127.0.0.1:{port}"))
        .preset(Preset::Daemon)
        .overflow(o.policy)
        .heartbeat_interval(Duration::from_secs(1))
        .heartbeat_timeout(Duration::from_secs(5));
    if let Some(c) = o.queue_capacity {
        config = config.queue_capacity(c);
    }
    let rss_before = rss_kib();
    let client = Client::connect(config).expect("client");
    match client.recv_timeout(Duration::from_secs(30)) {
        Ok(Some(Event::Connected { .. })) => {}
        other => {
            let _ = child.kill();
            let _ = child.wait();
            return Outcome {
                ok: false,
                lines: vec![format!("slow[{name}]: no connection: {other:?}")],
            };
        }
    }
    // The stall: nothing is read from the client for the whole stream.
    let t0 = Instant::now();
    let mut rss_peak = rss_kib();
    let mut dead_during_stall = false;
    while t0.elapsed() < o.stall {
        std::thread::sleep(Duration::from_millis(200));
        rss_peak = rss_peak.max(rss_kib());
        dead_during_stall |= !client.status().connected;
    }
    let st = client.status();
    let queued = client.events().len();
    let age = st.last_message_age;
    let latency = st.last_heartbeat_latency;
    // Now read everything.
    let mut messages = 0u64;
    let mut lagged = 0u64;
    let mut last = 0u64;
    let mut order_ok = true;
    let mut gaps = 0u64;
    let mut disconnected = 0;
    let mut sent: Option<u64> = None;
    let drain_deadline = Instant::now() + o.stall + Duration::from_secs(120);
    loop {
        match client.recv_timeout(Duration::from_millis(500)) {
            Ok(Some(ev @ Event::Message(_))) => {
                let s = ev.as_message().and_then(seq_of).unwrap_or(0);
                if s <= last {
                    order_ok = false;
                }
                if s != last + 1 {
                    gaps += 1;
                }
                last = s;
                messages += 1;
            }
            Ok(Some(Event::Lagged { dropped })) => lagged += dropped,
            Ok(Some(Event::Disconnected { .. })) => disconnected += 1,
            Ok(Some(_)) => {}
            Ok(None) => {
                if sent.is_none() {
                    let mut l = String::new();
                    if out.read_line(&mut l).is_ok() {
                        sent = l.trim().strip_prefix("sent ").and_then(|n| n.parse().ok());
                    }
                }
                if sent.is_some_and(|n| messages + lagged >= n) || Instant::now() > drain_deadline {
                    break;
                }
            }
            Err(_) => break,
        }
        rss_peak = rss_peak.max(rss_kib());
    }
    let st_end = client.status();
    client.close();
    drop(child.stdin.take());
    let _ = child.wait();
    let sent = sent.unwrap_or(0);
    let growth = rss_peak as i64 - rss_before as i64;
    lines.push(format!(
        "slow[{name}]: {:.0} events/s for {:.0} s, consumer stalled throughout; queue held {queued} at the end of the stall",
        o.rate,
        o.stall.as_secs_f64()
    ));
    lines.push(format!(
        "slow[{name}]: RSS before {} peak {} (growth {}); connected throughout: {}; last server data {:?} ago; last ping round trip {:?}",
        mib(rss_before as i64),
        mib(rss_peak as i64),
        mib(growth),
        !dead_during_stall && disconnected == 0,
        age,
        latency
    ));
    lines.push(format!(
        "slow[{name}]: sent {sent}, delivered {messages}, Lagged total {lagged}, status().dropped {}, gaps {gaps}, order kept {order_ok}",
        st_end.dropped
    ));
    let mut ok =
        growth < 50 * 1024 && !dead_during_stall && disconnected == 0 && order_ok && sent > 0;
    match o.policy {
        Overflow::Block => ok &= lagged == 0 && messages == sent && gaps == 0,
        _ => ok &= messages + lagged == sent && st_end.dropped == lagged,
    }
    Outcome { ok, lines }
}
