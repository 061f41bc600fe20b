//! `tradewire demo`: a mock risk daemon on 127.0.0.1, one client, realistic events, injected
//! faults, a live status line, and a summary. Exits non-zero when the client did not
//! recover, so it doubles as a self-test.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tradewire::Client;
use tradewire_testkit::DaemonServer;

use crate::args::DemoArgs;

mod console;
mod consumer;
mod mix;
mod phases;
mod plan;
mod report;

use crate::exit;
use console::{spawn_status, Console};
use consumer::{spawn_consumer, Tally};
use mix::{daemon_mix, Sent};
use plan::Plan;

/// The account the demo client follows; events for [`OTHER_ACCOUNT`] must be filtered out.
const ACCOUNT: i64 = 123;
const OTHER_ACCOUNT: i64 = 456;
/// How often the wait loops look at the client's state.
const POLL: Duration = Duration::from_millis(10);

/// The demo was stopped by Ctrl-C.
struct Interrupted;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
    let config = plan.config(&server.url()).map(|c| match &args.record {
        Some(path) => c.record(path.to_string_lossy()),
        None => c,
    });
    let client = match config.and_then(Client::new) {
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

impl Demo<'_> {
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
