//! `tradewire demo`: a mock risk daemon on 127.0.0.1, one client, realistic events, injected
//! faults, a live status line, and a summary. Exits non-zero when the client did not
//! recover, so it doubles as a self-test.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use tradewire::{Client, Config, Event, State, Status};
use tradewire_testkit::{events, frames, DaemonServer};

use crate::args::DemoArgs;

mod console;
mod report;

use crate::exit;
use crate::output::{latency, lifecycle_line, message_line, seconds, shorten};
use console::{spawn_status, terminal_width, Console};

/// The account the demo client follows; events for [`OTHER_ACCOUNT`] must be filtered out.
const ACCOUNT: i64 = 123;
const OTHER_ACCOUNT: i64 = 456;
/// How often the wait loops look at the client's state.
const POLL: Duration = Duration::from_millis(10);

/// Phase lengths and client settings; `--quick` shortens everything.
struct Plan {
    quick: bool,
    /// Events per second the daemon streams.
    rate: f64,
    warm_up: Duration,
    server_down: Duration,
    settle: Duration,
    half_open_rounds: u32,
    steady: Duration,
    heartbeat_interval: f64,
    heartbeat_timeout: f64,
    backoff_initial: f64,
    backoff_max: f64,
    /// The longest a fault may take to be noticed and repaired before the demo fails.
    recover_timeout: Duration,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                rate: 300.0,
                warm_up: Duration::from_millis(1500),
                server_down: Duration::from_millis(700),
                settle: Duration::from_millis(500),
                half_open_rounds: 1,
                steady: Duration::from_millis(800),
                heartbeat_interval: 0.5,
                heartbeat_timeout: 1.5,
                backoff_initial: 0.25,
                backoff_max: 1.0,
                recover_timeout: Duration::from_secs(15),
            }
        } else {
            Plan {
                quick,
                rate: 400.0,
                warm_up: Duration::from_secs(6),
                server_down: Duration::from_millis(2500),
                settle: Duration::from_secs(2),
                half_open_rounds: 2,
                steady: Duration::from_secs(3),
                heartbeat_interval: 0.5,
                heartbeat_timeout: 2.0,
                backoff_initial: 1.0,
                backoff_max: 10.0,
                recover_timeout: Duration::from_secs(20),
            }
        }
    }

    fn config(&self, url: &str) -> Result<Config, tradewire::Error> {
        Config::from_value(serde_json::json!({
            "url": url,
            "preset": "daemon",
            "account_id": ACCOUNT,
            "heartbeat_interval": self.heartbeat_interval,
            "heartbeat_timeout": self.heartbeat_timeout,
            "connect_timeout": 2.0,
            "backoff_initial": self.backoff_initial,
            "backoff_max": self.backoff_max,
            "min_uptime": 0.5,
        }))
    }
}

/// The demo was stopped by Ctrl-C.
struct Interrupted;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the consumer thread saw, read by the phase driver.
#[derive(Default)]
struct Tally {
    delivered: u64,
    for_account: u64,
    daemon_wide: u64,
    wrong_account: u64,
    types: BTreeMap<String, u64>,
    errors: BTreeMap<&'static str, u64>,
    live: bool,
    epoch: u64,
    disconnects: Vec<Instant>,
    gave_up: Option<String>,
    lagged: u64,
}

/// How many events of each kind the daemon generated.
#[derive(Default)]
struct Sent {
    account: AtomicU64,
    other: AtomicU64,
    daemon_wide: AtomicU64,
}

/// One line of the final verdict.
struct Check {
    name: String,
    ok: bool,
    detail: String,
}

/// Measurements for the summary.
#[derive(Default)]
struct Measures {
    restart_recovery: Option<Duration>,
    half_open_detect: Vec<Duration>,
    half_open_recovery: Vec<Duration>,
    close_took: Option<Duration>,
}

/// Everything the phases need.
struct Demo<'a> {
    plan: Plan,
    console: Arc<Console>,
    tally: Arc<Mutex<Tally>>,
    server: DaemonServer,
    stop: &'a AtomicBool,
    checks: Vec<Check>,
    m: Measures,
}

/// Runs the demo; returns the exit code.
pub fn run(args: &DemoArgs, stop: &AtomicBool) -> i32 {
    let plan = Plan::new(args.quick);
    let console = Arc::new(Console::new());
    let server = match DaemonServer::start() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tradewire: error: cannot start the demo's mock daemon on 127.0.0.1: {e}");
            return exit::FAILURE;
        }
    };
    let client = match plan.config(&server.url()).and_then(Client::new) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("tradewire: error: the demo's client configuration was refused: {e}");
            return exit::FAILURE;
        }
    };
    let started = Instant::now();
    console.line(&format!(
        "tradewire {} demo{}: a mock risk daemon (document 002) on {} and one client for account {ACCOUNT}",
        tradewire::VERSION,
        if plan.quick { " (quick)" } else { "" },
        server.url()
    ));
    console.note(&format!(
        "client: preset daemon, account {ACCOUNT}, ping every {} s, dead after {} s without data, backoff {}..{} s",
        plan.heartbeat_interval, plan.heartbeat_timeout, plan.backoff_initial, plan.backoff_max
    ));

    let tally = Arc::new(Mutex::new(Tally::default()));
    let consumer = spawn_consumer(&client, &tally, &console);
    let status_stop = Arc::new(AtomicBool::new(false));
    let status = spawn_status(&client, &console, &status_stop, started);
    if let Err(e) = client.start() {
        eprintln!("tradewire: error: cannot start the client: {e}");
        return exit::FAILURE;
    }

    let sent = Arc::new(Sent::default());
    let stream = {
        let sent = sent.clone();
        server.stream(plan.rate, None, move |seq| daemon_mix(seq, &sent))
    };

    let mut demo = Demo {
        plan,
        console: console.clone(),
        tally,
        server,
        stop,
        checks: Vec::new(),
        m: Measures::default(),
    };
    let outcome = demo.phases();

    let generated = stream.stop();
    let closing = Instant::now();
    client.close();
    demo.m.close_took = Some(closing.elapsed());
    status_stop.store(true, Ordering::SeqCst);
    let _ = status.join();
    let _ = consumer.join();
    console.clear_status();

    if outcome.is_err() {
        console.line("");
        console.line("tradewire: interrupted; the client was closed");
        return exit::INTERRUPTED;
    }
    let final_status = client.status();
    demo.final_checks(&final_status);
    demo.summary(&final_status, &sent, generated, started.elapsed())
}

/// Event `seq` of the demo daemon: mostly account 123, a third for account 456 (to be
/// filtered out), and a daemon-wide `daemon_status` now and then.
fn daemon_mix(seq: u64, sent: &Sent) -> String {
    if seq % 40 == 0 {
        sent.daemon_wide.fetch_add(1, Ordering::Relaxed);
        events::daemon_status("RUNNING")
    } else if seq % 3 == 0 {
        sent.other.fetch_add(1, Ordering::Relaxed);
        events::daemon_event(seq, OTHER_ACCOUNT)
    } else {
        sent.account.fetch_add(1, Ordering::Relaxed);
        events::daemon_event(seq, ACCOUNT)
    }
}

/// Reads the client's events: counts them, prints connection changes and the first event of
/// each type.
fn spawn_consumer(
    client: &Client,
    tally: &Arc<Mutex<Tally>>,
    console: &Arc<Console>,
) -> JoinHandle<()> {
    let events = client.events();
    let tally = tally.clone();
    let console = console.clone();
    std::thread::spawn(move || loop {
        let event = match events.recv_timeout(Duration::from_millis(100)) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let now = Instant::now();
        let mut sample = None;
        {
            let mut t = lock(&tally);
            match &event {
                Event::Message(m) => {
                    t.delivered += 1;
                    match m.account_id() {
                        None => t.daemon_wide += 1,
                        Some(a) if a == ACCOUNT.to_string() => t.for_account += 1,
                        Some(_) => t.wrong_account += 1,
                    }
                    let kind = m.msg_type().unwrap_or("(none)").to_string();
                    let seen = t.types.entry(kind).or_insert(0);
                    *seen += 1;
                    if *seen == 1 {
                        sample = Some(message_line(m));
                    }
                }
                Event::Connected { epoch, .. } => {
                    t.live = true;
                    t.epoch = *epoch;
                }
                Event::Disconnected { .. } => {
                    t.live = false;
                    t.disconnects.push(now);
                }
                Event::Error(e) => *t.errors.entry(e.kind.as_str()).or_insert(0) += 1,
                Event::GaveUp { reason } => t.gave_up = Some(reason.clone()),
                Event::Lagged { dropped } => t.lagged += dropped,
                _ => {}
            }
        }
        if let Some(line) = sample {
            let width = terminal_width().map_or(150, |w| w.saturating_sub(8).max(40));
            console.note(&format!("▸ {}", shorten(&line, width)));
        } else if let Some(line) = lifecycle_line(&event) {
            console.note(&format!("· {line}"));
        }
    })
}

impl Demo<'_> {
    fn phases(&mut self) -> Result<(), Interrupted> {
        let total = 5;
        self.console.heading(&format!(
            "[1/{total}] Live stream: trades, positions, orders, quotes and lockouts for accounts {ACCOUNT} and {OTHER_ACCOUNT}, plus daemon-wide status, at {} events/s",
            self.plan.rate
        ));
        self.console.note(&format!(
            "the client keeps account {ACCOUNT} and daemon-wide events and filters out account {OTHER_ACCOUNT}; first event of each type:"
        ));
        let live = self.wait_for(self.plan.recover_timeout, |t| t.live)?;
        self.check(
            "connects to the daemon",
            live.is_some(),
            live.map(|d| format!("live after {}", seconds(d)))
                .unwrap_or_else(|| "never became live".into()),
        );
        self.pause(self.plan.warm_up)?;
        let delivered = self.tally().delivered;
        self.check(
            "streams events",
            delivered > 0,
            format!("{delivered} events delivered"),
        );

        self.console.heading(&format!(
            "[2/{total}] Daemon restart: the server drops every connection and is down for {}",
            seconds(self.plan.server_down)
        ));
        self.restart()?;

        self.console.heading(&format!(
            "[3/{total}] Half-open connection: the server goes silent but keeps the socket open (no close, no reset); only the {} s heartbeat timeout can tell",
            self.plan.heartbeat_timeout
        ));
        for round in 1..=self.plan.half_open_rounds {
            self.half_open(round)?;
        }

        self.console.heading(&format!(
            "[4/{total}] Malformed messages: invalid JSON, a non-object, a message without a type, a binary frame, then invalid UTF-8"
        ));
        self.malformed()?;

        self.console
            .heading(&format!("[5/{total}] Steady again: the stream goes on"));
        let before = self.tally().delivered;
        self.pause(self.plan.steady)?;
        let after = self.tally();
        let (delivered, live) = (after.delivered - before, after.live);
        drop(after);
        self.check(
            "still live and delivering at the end",
            live && delivered > 0,
            format!("{delivered} events in the last phase"),
        );
        Ok(())
    }

    fn restart(&mut self) -> Result<(), Interrupted> {
        let (epoch, drops) = {
            let t = self.tally();
            (t.epoch, t.disconnects.len())
        };
        self.server.broadcast(&events::daemon_status("STOPPING"));
        let down = Instant::now();
        self.server.stop();
        self.console
            .note("daemon stopped: connections dropped, port closed (connection refused)");
        let noticed = self.wait_for(self.plan.recover_timeout, |t| t.disconnects.len() > drops)?;
        self.check(
            "notices the restart",
            noticed.is_some(),
            noticed
                .map(|d| format!("disconnect seen after {}", seconds(d)))
                .unwrap_or_else(|| "no disconnect seen".into()),
        );
        self.pause(self.plan.server_down.saturating_sub(down.elapsed()))?;
        if let Err(e) = self.server.restart() {
            self.check("daemon restarts", false, e.to_string());
            return Ok(());
        }
        self.console.note("daemon is back on the same port");
        let back = self.wait_for(self.plan.recover_timeout, |t| t.live && t.epoch > epoch)?;
        let total = back.map(|_| down.elapsed());
        self.m.restart_recovery = total;
        self.check(
            "reconnects after the restart",
            back.is_some(),
            total
                .map(|d| format!("live again {} after the daemon went down", seconds(d)))
                .unwrap_or_else(|| "did not reconnect".into()),
        );
        self.server.broadcast(&events::daemon_status("RUNNING"));
        self.pause(self.plan.settle)
    }

    fn half_open(&mut self, round: u32) -> Result<(), Interrupted> {
        let (epoch, drops) = {
            let t = self.tally();
            (t.epoch, t.disconnects.len())
        };
        let silent = Instant::now();
        self.server.set_silent(true);
        self.console.note(&format!(
            "round {round}: the server stopped reading and writing; the TCP connection stays open"
        ));
        let limit =
            Duration::from_secs_f64(self.plan.heartbeat_timeout) + self.plan.recover_timeout;
        let noticed = self.wait_for(limit, |t| t.disconnects.len() > drops)?;
        let detected = noticed.and_then(|_| {
            self.tally()
                .disconnects
                .get(drops)
                .map(|at| at.saturating_duration_since(silent))
        });
        self.server.set_silent(false);
        if let Some(d) = detected {
            self.m.half_open_detect.push(d);
        }
        self.check(
            &format!("detects the half-open connection (round {round})"),
            detected.is_some(),
            detected
                .map(|d| {
                    format!(
                        "declared dead after {} (heartbeat_timeout {} s)",
                        seconds(d),
                        self.plan.heartbeat_timeout
                    )
                })
                .unwrap_or_else(|| "never noticed".into()),
        );
        let back = self.wait_for(self.plan.recover_timeout, |t| t.live && t.epoch > epoch)?;
        let total = back.map(|_| silent.elapsed());
        if let Some(d) = total {
            self.m.half_open_recovery.push(d);
        }
        self.check(
            &format!("reconnects after the half-open connection (round {round})"),
            back.is_some(),
            total
                .map(|d| format!("live again {} after the server went silent", seconds(d)))
                .unwrap_or_else(|| "did not reconnect".into()),
        );
        self.pause(self.plan.settle)
    }

    fn malformed(&mut self) -> Result<(), Interrupted> {
        let (epoch, errors_before, delivered) = {
            let t = self.tally();
            (t.epoch, t.errors.clone(), t.delivered)
        };
        let errors: u64 = errors_before.values().sum();
        let bad: [&str; 3] = [
            r#"{"type":"GatewayUserTrade","account_id":123,"data":{"id":101112,"profitAndLoss":-45.5"#,
            r#"[1,2,3]"#,
            r#"{"account_id":123,"data":{"note":"this message has no type field"}}"#,
        ];
        for text in bad {
            self.server.broadcast(text);
        }
        self.server.broadcast_binary(&[0xde, 0xad, 0xbe, 0xef]);
        let expected = 4;
        let reported = self.wait_for(self.plan.recover_timeout, |t| {
            t.errors.values().sum::<u64>() >= errors + expected
        })?;
        self.pause(self.plan.settle)?;
        let (epoch_now, delivered_now, kinds) = {
            let t = self.tally();
            let kinds: Vec<String> = t
                .errors
                .iter()
                .filter_map(|(k, n)| {
                    let new = n - errors_before.get(k).copied().unwrap_or(0);
                    (new > 0).then(|| format!("{k} ×{new}"))
                })
                .collect();
            (t.epoch, t.delivered, kinds.join(", "))
        };
        self.check(
            "reports each bad message as an error event",
            reported.is_some(),
            if kinds.is_empty() {
                "no error events".into()
            } else {
                kinds
            },
        );
        self.check(
            "keeps the connection and the stream after bad messages",
            epoch_now == epoch && delivered_now > delivered,
            format!(
                "same connection ({epoch_now}), {} more events delivered",
                delivered_now.saturating_sub(delivered)
            ),
        );

        // Invalid UTF-8 in a text frame is a protocol violation: the client closes with 1007
        // and must come back.
        self.server
            .send_raw(&frames::text_frame(&[b'{', 0xff, 0xfe, b'}']));
        self.console
            .note("sent a text frame that is not UTF-8: a protocol error that ends the connection");
        let sent = Instant::now();
        let back = self.wait_for(self.plan.recover_timeout, |t| t.live && t.epoch > epoch)?;
        self.check(
            "reconnects after a protocol error",
            back.is_some(),
            back.map(|_| format!("live again after {}", seconds(sent.elapsed())))
                .unwrap_or_else(|| "did not reconnect".into()),
        );
        self.pause(self.plan.settle)
    }

    fn final_checks(&mut self, s: &Status) {
        let (wrong, gave_up, lagged) = {
            let t = self.tally();
            (t.wrong_account, t.gave_up.clone(), t.lagged)
        };
        self.check(
            &format!("delivers nothing for account {OTHER_ACCOUNT}"),
            wrong == 0 && s.filtered > 0,
            format!("{} filtered out, {wrong} delivered by mistake", s.filtered),
        );
        self.check(
            "never gives up",
            gave_up.is_none(),
            gave_up.unwrap_or_else(|| "kept reconnecting".into()),
        );
        self.check(
            "loses nothing silently",
            s.dropped == 0 && lagged == 0,
            format!("{} dropped by the overflow policy", s.dropped),
        );
        let closed = self.m.close_took.unwrap_or_default();
        self.check(
            "closes promptly",
            s.state == State::Closed,
            format!("close() returned in {}", latency(closed)),
        );
    }

    fn check(&mut self, name: &str, ok: bool, detail: String) {
        let mark = if ok { "ok" } else { "FAILED" };
        self.console.note(&format!("{mark}: {name} ({detail})"));
        self.checks.push(Check {
            name: name.to_string(),
            ok,
            detail,
        });
    }

    fn tally(&self) -> MutexGuard<'_, Tally> {
        lock(&self.tally)
    }

    /// Sleeps for `d`, or less when Ctrl-C is pressed.
    fn pause(&self, d: Duration) -> Result<(), Interrupted> {
        let end = Instant::now() + d;
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Err(Interrupted);
            }
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            std::thread::sleep((end - now).min(Duration::from_millis(20)));
        }
    }

    /// Waits until `cond` holds: `Some(time waited)`, or `None` after `timeout`.
    fn wait_for(
        &self,
        timeout: Duration,
        cond: impl Fn(&Tally) -> bool,
    ) -> Result<Option<Duration>, Interrupted> {
        let start = Instant::now();
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Err(Interrupted);
            }
            if cond(&self.tally()) {
                return Ok(Some(start.elapsed()));
            }
            if start.elapsed() >= timeout {
                return Ok(None);
            }
            std::thread::sleep(POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_has_every_kind_of_event() {
        let sent = Sent::default();
        let mut accounts = std::collections::BTreeSet::new();
        for seq in 1..=120 {
            let v: serde_json::Value = serde_json::from_str(&daemon_mix(seq, &sent)).unwrap();
            accounts.insert(v["account_id"].to_string());
        }
        assert_eq!(
            accounts.into_iter().collect::<Vec<_>>(),
            vec!["123", "456", "null"]
        );
        assert_eq!(sent.daemon_wide.load(Ordering::Relaxed), 3);
        assert_eq!(sent.other.load(Ordering::Relaxed), 39);
        assert_eq!(sent.account.load(Ordering::Relaxed), 78);
    }

    #[test]
    fn plans_are_valid_configurations() {
        for quick in [false, true] {
            let plan = Plan::new(quick);
            plan.config("ws://127.0.0.1:1").unwrap().validate().unwrap();
        }
    }
}
