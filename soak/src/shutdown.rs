//! Shutdown: how long `close()` takes in every state, and whether create/close cycles leave
//! threads, sockets or memory behind.

use std::time::{Duration, Instant};

use tradewire::{Client, Config, Event, Overflow, Preset};
use tradewire_testkit::{events, DaemonServer, FaultProxy, ProxyMode, SilentListener};

use crate::measure::{fd_count, mib, rss_kib, threads_named, Stats};

pub struct Outcome {
    pub ok: bool,
    pub lines: Vec<String>,
}

fn wait_kind(client: &Client, kind: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match client.recv_timeout(left) {
            Ok(Some(ev)) if ev.kind() == kind => return true,
            Ok(Some(_)) => {}
            _ => return false,
        }
    }
    false
}

fn timed_close(client: &Client) -> Duration {
    let t0 = Instant::now();
    client.close();
    t0.elapsed()
}

/// One `close()` timing in the named state; `None` if the state could not be reached.
fn close_in(state: &str, fixtures: &Fixtures) -> Option<Duration> {
    let quick = |c: Config| c.backoff_initial(Duration::from_millis(100)).jitter(0.0);
    match state {
        "not started" => {
            let c = Client::new(Config::new("ws://127.0.0.1:1")).ok()?;
            Some(timed_close(&c))
        }
        "websocket handshake hangs" => {
            let before = fixtures.silent.accepted();
            let c = Client::connect(
                Config::new(format!("ws://127.0.0.1:{}", fixtures.silent.port()))
                    .connect_timeout(Duration::from_secs(60)),
            )
            .ok()?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while fixtures.silent.accepted() <= before && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            Some(timed_close(&c))
        }
        "tls handshake hangs" => {
            let before = fixtures.silent.accepted();
            let c = Client::connect(
                Config::new(format!("wss://127.0.0.1:{}", fixtures.silent.port()))
                    .connect_timeout(Duration::from_secs(60)),
            )
            .ok()?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while fixtures.silent.accepted() <= before && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(50));
            Some(timed_close(&c))
        }
        "live" => {
            let c =
                Client::connect(Config::new(fixtures.daemon.url()).preset(Preset::Daemon)).ok()?;
            wait_kind(&c, "connected").then(|| timed_close(&c))
        }
        "live, server not answering (blackhole)" => {
            let c = Client::connect(
                Config::new(format!("ws://127.0.0.1:{}", fixtures.proxy.port()))
                    .preset(Preset::Daemon),
            )
            .ok()?;
            if !wait_kind(&c, "connected") {
                return None;
            }
            fixtures.proxy.set_mode(ProxyMode::Blackhole);
            let took = timed_close(&c);
            fixtures.proxy.set_mode(ProxyMode::Pass);
            fixtures.proxy.reset_all();
            Some(took)
        }
        "live, consumer not reading (block, queue full)" => {
            let server = DaemonServer::start().ok()?;
            let c = Client::connect(
                Config::new(server.url())
                    .preset(Preset::Daemon)
                    .queue_capacity(16)
                    .overflow(Overflow::Block),
            )
            .ok()?;
            if !server.wait_for_connections(1, Duration::from_secs(30)) {
                return None;
            }
            let stream = server.stream(20_000.0, Some(5_000), |seq| events::daemon_event(seq, 123));
            let deadline = Instant::now() + Duration::from_secs(10);
            while c.events().len() < 16 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            let took = timed_close(&c);
            stream.stop();
            Some(took)
        }
        "backoff" => {
            let c = Client::connect(
                Config::new(format!("ws://127.0.0.1:{}", fixtures.dead_port))
                    .backoff_initial(Duration::from_secs(60))
                    .backoff_max(Duration::from_secs(60)),
            )
            .ok()?;
            wait_kind(&c, "reconnecting").then(|| timed_close(&c))
        }
        "gave up" => {
            let c = Client::connect(
                quick(Config::new(format!(
                    "ws://127.0.0.1:{}",
                    fixtures.dead_port
                )))
                .reconnect(false),
            )
            .ok()?;
            wait_kind(&c, "gave_up").then(|| timed_close(&c))
        }
        "with a callback" => {
            let c = Client::new(Config::new(fixtures.daemon.url()).preset(Preset::Daemon)).ok()?;
            let (tx, rx) = crossbeam_channel::unbounded();
            c.set_callback(move |ev: Event| {
                let _ = tx.send(ev.kind());
            })
            .ok()?;
            c.start().ok()?;
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                match rx.recv_deadline(deadline) {
                    Ok("connected") => break,
                    Ok(_) => {}
                    Err(_) => return None,
                }
            }
            Some(timed_close(&c))
        }
        _ => None,
    }
}

struct Fixtures {
    silent: SilentListener,
    daemon: DaemonServer,
    proxy: FaultProxy,
    dead_port: u16,
}

pub const STATES: [&str; 9] = [
    "not started",
    "websocket handshake hangs",
    "tls handshake hangs",
    "live",
    "live, server not answering (blackhole)",
    "live, consumer not reading (block, queue full)",
    "backoff",
    "gave up",
    "with a callback",
];

/// `close()` timings, `runs` per state. The guarantee: within one second.
pub fn close_times(runs: u32) -> Outcome {
    let daemon = DaemonServer::start().expect("server");
    let proxy = FaultProxy::start(daemon.addr()).expect("proxy");
    let dead = DaemonServer::start().expect("server");
    let dead_port = dead.port();
    drop(dead);
    let fixtures = Fixtures {
        silent: SilentListener::start().expect("listener"),
        daemon,
        proxy,
        dead_port,
    };
    let mut lines = Vec::new();
    let mut ok = true;
    for state in STATES {
        let mut samples = Vec::new();
        for _ in 0..runs {
            match close_in(state, &fixtures) {
                Some(d) => samples.push(d),
                None => {
                    ok = false;
                    lines.push(format!("close: could not reach the state \"{state}\""));
                }
            }
        }
        let stats = Stats::new(samples);
        if stats.max() > Duration::from_secs(1) {
            ok = false;
        }
        lines.push(format!("close: {state:<48} {}", stats.line()));
    }
    Outcome { ok, lines }
}

/// `cycles` × (create, connect, wait for Connected, close): threads, descriptors and RSS after.
pub fn lifecycle(cycles: u32) -> Outcome {
    let server = DaemonServer::start().expect("server");
    let mut lines = Vec::new();
    let cycle = || -> bool {
        let Ok(c) = Client::connect(Config::new(server.url()).preset(Preset::Daemon)) else {
            return false;
        };
        let ok = wait_kind(&c, "connected");
        c.close();
        ok
    };
    // Warm-up: allocator pools, the server's first threads.
    for _ in 0..20 {
        cycle();
    }
    let _ = server.wait_for_at_most(0, Duration::from_secs(10));
    let threads0 = threads_named("tradewire");
    let fds0 = fd_count();
    let rss0 = rss_kib();
    let t0 = Instant::now();
    let mut failed = 0;
    for _ in 0..cycles {
        if !cycle() {
            failed += 1;
        }
    }
    let took = t0.elapsed();
    let _ = server.wait_for_at_most(0, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(200));
    let threads1 = threads_named("tradewire");
    let fds1 = fd_count();
    let rss1 = rss_kib();
    lines.push(format!(
        "lifecycle: {cycles} create/connect/close cycles in {:.1} s ({failed} failed); tradewire threads {threads0} -> {threads1}; fds {fds0} -> {fds1}; RSS {} -> {} (growth {})",
        took.as_secs_f64(),
        mib(rss0 as i64),
        mib(rss1 as i64),
        mib(rss1 as i64 - rss0 as i64)
    ));
    let ok = failed == 0 && threads1 == 0 && fds1 <= fds0 && rss1 < rss0 + 8 * 1024;
    Outcome { ok, lines }
}

/// RSS per connected, idle client, with the default queue capacity and with a small one. The
/// server runs in a child process (`tradewire-soak serve`) so that only client memory counts.
pub fn footprint(clients: usize) -> Outcome {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server process");
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
    let port: u16 = line
        .trim()
        .strip_prefix("port ")
        .and_then(|p| p.parse().ok())
        .expect("port");
    let url = format!("ws://127.0.0.1:{port}");
    let mut lines = Vec::new();
    let mut ok = true;
    for queue in [None, Some(1024usize)] {
        let rss0 = rss_kib();
        let mut all = Vec::new();
        for _ in 0..clients {
            let mut config = Config::new(url.clone()).preset(Preset::Daemon);
            if let Some(q) = queue {
                config = config.queue_capacity(q);
            }
            let c = Client::connect(config).expect("client");
            ok &= wait_kind(&c, "connected");
            all.push(c);
        }
        let rss1 = rss_kib();
        for c in &all {
            c.close();
        }
        drop(all);
        let rss2 = rss_kib();
        let per = (rss1 as f64 - rss0 as f64) / clients as f64;
        lines.push(format!(
            "footprint: {clients} connected idle clients, queue_capacity {}: RSS {} -> {} ({:.2} MiB per client); after close {}",
            queue.map_or("65536 (default)".to_string(), |q| q.to_string()),
            mib(rss0 as i64),
            mib(rss1 as i64),
            per / 1024.0,
            mib(rss2 as i64)
        ));
    }
    drop(child.stdin.take());
    let _ = child.wait();
    Outcome { ok, lines }
}

/// The child of `footprint`: a daemon server until standard input closes.
pub fn serve() {
    use std::io::Write;
    let server = DaemonServer::start().expect("start the server");
    println!("port {}", server.port());
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}
