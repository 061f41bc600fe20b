//! Short repeated probes: half-open detection through a blackholing proxy, and a frame header
//! that claims a huge length.

use std::time::{Duration, Instant};

use tradewire::{Client, Config, Event, Preset};
use tradewire_testkit::{frames, DaemonServer, FaultProxy, ProxyMode};

use crate::measure::{mib, ms, rss_kib, Rng, Stats};

pub struct Outcome {
    pub ok: bool,
    pub lines: Vec<String>,
}

fn next_matching(
    client: &Client,
    timeout: Duration,
    pred: impl Fn(&Event) -> bool,
) -> Option<Event> {
    let deadline = Instant::now() + timeout;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match client.recv_timeout(left) {
            Ok(Some(ev)) if pred(&ev) => return Some(ev),
            Ok(Some(_)) => {}
            _ => return None,
        }
    }
    None
}

/// Half-open: the proxy starts discarding everything; time until `Disconnected`.
/// The guarantee: within heartbeat_timeout + 1 s.
pub fn half_open(runs: u32, interval: Duration, timeout: Duration) -> Outcome {
    let server = DaemonServer::start().expect("server");
    let proxy = FaultProxy::start(server.addr()).expect("proxy");
    let client = Client::connect(
        Config::new(format!("ws://127.0.0.1:{}", proxy.port()))
            .preset(Preset::Daemon)
            .heartbeat_interval(interval)
            .heartbeat_timeout(timeout)
            .backoff_initial(Duration::from_millis(100))
            .min_uptime(Duration::from_millis(500))
            .jitter(0.0),
    )
    .expect("client");
    let mut samples = Vec::new();
    let mut ok = true;
    let mut rng = Rng::new(7);
    for _ in 0..runs {
        if next_matching(&client, Duration::from_secs(30), |e| {
            matches!(e, Event::Connected { .. })
        })
        .is_none()
        {
            ok = false;
            break;
        }
        // 1-3 heartbeat intervals: the blackhole starts at a random phase of the ping cycle.
        std::thread::sleep(interval.mul_f64(1.0 + 2.0 * rng.next_f64()));
        let t0 = Instant::now();
        proxy.set_mode(ProxyMode::Blackhole);
        let got = next_matching(&client, timeout * 5, |e| {
            matches!(e, Event::Disconnected { .. })
        });
        let took = t0.elapsed();
        proxy.set_mode(ProxyMode::Pass);
        proxy.reset_all();
        match got {
            Some(_) => samples.push(took),
            None => {
                ok = false;
                break;
            }
        }
    }
    client.close();
    let stats = Stats::new(samples);
    if stats.max() > timeout + Duration::from_secs(1) {
        ok = false;
    }
    Outcome {
        ok,
        lines: vec![format!(
            "half-open: heartbeat_interval {} heartbeat_timeout {}: blackhole -> Disconnected {}",
            ms(interval),
            ms(timeout),
            stats.line()
        )],
    }
}

/// A frame header claiming `len` bytes: the client must close with 1009 without allocating.
pub fn huge_frame(runs: u32, len: u64) -> Outcome {
    let server = DaemonServer::start().expect("server");
    let client = Client::connect(
        Config::new(server.url())
            .preset(Preset::Daemon)
            .backoff_initial(Duration::from_millis(50))
            .min_uptime(Duration::ZERO)
            .jitter(0.0),
    )
    .expect("client");
    let mut header = vec![0x80 | frames::OP_TEXT, 127];
    header.extend_from_slice(&len.to_be_bytes());
    let rss0 = rss_kib();
    let mut rss_peak = rss0;
    let mut samples = Vec::new();
    let mut ok = true;
    for _ in 0..runs {
        if next_matching(&client, Duration::from_secs(30), |e| {
            matches!(e, Event::Connected { .. })
        })
        .is_none()
        {
            ok = false;
            break;
        }
        let t0 = Instant::now();
        server.send_raw(&header);
        match next_matching(&client, Duration::from_secs(10), |e| {
            matches!(e, Event::Disconnected { .. })
        }) {
            Some(Event::Disconnected {
                code: Some(1009), ..
            }) => samples.push(t0.elapsed()),
            other => {
                ok = false;
                eprintln!("huge-frame: expected a 1009 close, got {other:?}");
                break;
            }
        }
        rss_peak = rss_peak.max(rss_kib());
    }
    client.close();
    let growth = rss_peak as i64 - rss0 as i64;
    if growth > 8 * 1024 {
        ok = false;
    }
    Outcome {
        ok,
        lines: vec![format!(
            "huge-frame: header claiming {len} bytes -> close 1009 {}; RSS growth {}",
            Stats::new(samples).line(),
            mib(growth)
        )],
    }
}
