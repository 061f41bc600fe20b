//! `tradewire-soak`: long-running reliability measurements of the tradewire client against
//! the testkit on 127.0.0.1. Each command prints its figures and exits non-zero if a
//! guarantee of docs/RELIABILITY.md was not met.
//!
//! ```text
//! tradewire-soak faults [--cycles 200] [--rate 2000] [--max-outage-ms 600] [--seed 1]
//! tradewire-soak herd [--clients 200] [--outage-ms 7800] [--quick-outage-ms 200]
//! tradewire-soak slow [--seconds 30] [--rate 5000] [--policy all|block|drop_oldest|drop_newest]
//! tradewire-soak close [--runs 30]
//! tradewire-soak lifecycle [--cycles 1000]
//! tradewire-soak half-open [--runs 10]
//! tradewire-soak huge-frame [--runs 20]
//! tradewire-soak footprint [--clients 50]
//! tradewire-soak all        every command above with its defaults
//! ```
//!
//! Run with `--release` (`scripts/soak.sh` does).

mod faults;
mod herd;
mod measure;
mod probes;
mod shutdown;
mod slow;

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tradewire::Overflow;

struct Args {
    command: String,
    opts: HashMap<String, String>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut it = std::env::args().skip(1);
        let command = it.next().unwrap_or_else(|| "help".into());
        let mut opts = HashMap::new();
        while let Some(a) = it.next() {
            let Some(name) = a.strip_prefix("--") else {
                return Err(format!("unexpected argument {a}"));
            };
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            opts.insert(name.to_string(), value);
        }
        Ok(Args { command, opts })
    }

    fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.opts.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: not a number: {v}")),
        }
    }

    fn text(&self, name: &str, default: &str) -> String {
        self.opts
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }
}

const USAGE: &str = "usage: tradewire-soak <faults|herd|slow|close|lifecycle|half-open|huge-frame|footprint|all> [--option value ...]
  faults      --cycles 200 --rate 2000 --max-outage-ms 600 --seed 1
  herd        --clients 200 --outage-ms 7800 --quick-outage-ms 200
  slow        --seconds 30 --rate 5000 --policy all|block|drop_oldest|drop_newest [--queue N]
  close       --runs 30
  lifecycle   --cycles 1000
  half-open   --runs 10
  huge-frame  --runs 20
  footprint   --clients 50
  all         every command with its defaults";

fn report(ok: bool, lines: &[String]) -> bool {
    for l in lines {
        println!("{l}");
    }
    ok
}

fn faults(a: &Args) -> Result<bool, String> {
    let o = faults::Options {
        cycles: a.num("cycles", 200)?,
        rate: a.num("rate", 2000.0)?,
        max_outage: Duration::from_millis(a.num("max-outage-ms", 600)?),
        seed: a.num("seed", 1)?,
        overhead_bound: Duration::from_millis(250),
    };
    let out = faults::run(&o);
    Ok(report(out.ok, &out.lines))
}

fn herd(a: &Args) -> Result<bool, String> {
    let clients: usize = a.num("clients", 200)?;
    let quarter = clients / 4;
    let mut ok = true;
    for (label, outage, checked) in [
        (
            "quick restart",
            Duration::from_millis(a.num("quick-outage-ms", 200)?),
            false,
        ),
        (
            "long outage",
            Duration::from_millis(a.num("outage-ms", 7800)?),
            true,
        ),
    ] {
        match herd::run(clients, outage, None) {
            Ok(h) => {
                let holds = h.densest_100ms <= quarter;
                let first = h
                    .connected_after_restart
                    .iter()
                    .min()
                    .copied()
                    .unwrap_or_default();
                println!(
                    "herd[{label}]: {} clients, server down {:.1} s, default jitter 0.1: first back {:.0} ms after the restart, all within {:.0} ms; densest 100 ms window holds {} ({:.0} %) {}",
                    h.clients,
                    outage.as_secs_f64(),
                    first.as_secs_f64() * 1000.0,
                    h.spread.as_secs_f64() * 1000.0,
                    h.densest_100ms,
                    100.0 * h.densest_100ms as f64 / h.clients as f64,
                    if holds { "<= a quarter" } else { "> a quarter" }
                );
                if checked && !holds {
                    ok = false;
                }
            }
            Err(e) => {
                println!("herd[{label}]: {e}");
                ok = false;
            }
        }
    }
    Ok(ok)
}

fn slow(a: &Args) -> Result<bool, String> {
    let policies = match a.text("policy", "all").as_str() {
        "all" => {
            // One process per policy: each one's RSS figures are its own.
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let mut ok = true;
            for policy in ["drop_oldest", "drop_newest", "block"] {
                let mut cmd = std::process::Command::new(&exe);
                cmd.args(["slow", "--policy", policy]);
                for (k, v) in &a.opts {
                    if k != "policy" {
                        cmd.arg(format!("--{k}")).arg(v);
                    }
                }
                ok &= cmd.status().map_err(|e| e.to_string())?.success();
            }
            return Ok(ok);
        }
        "block" => vec![Overflow::Block],
        "drop_oldest" => vec![Overflow::DropOldest],
        "drop_newest" => vec![Overflow::DropNewest],
        other => return Err(format!("--policy: unknown policy {other}")),
    };
    let queue: usize = a.num("queue", 0)?;
    let mut ok = true;
    for policy in policies {
        let o = slow::Options {
            policy,
            stall: Duration::from_secs_f64(a.num("seconds", 30.0)?),
            rate: a.num("rate", 5000.0)?,
            queue_capacity: (queue > 0).then_some(queue),
        };
        let out = slow::run(&o);
        ok &= report(out.ok, &out.lines);
    }
    Ok(ok)
}

fn run(a: &Args) -> Result<bool, String> {
    if matches!(a.command.as_str(), "help" | "-h" | "--help") {
        println!("{USAGE}");
        return Ok(true);
    }
    let t0 = Instant::now();
    let ok = match a.command.as_str() {
        "faults" => faults(a)?,
        "herd" => herd(a)?,
        "slow" => slow(a)?,
        "close" => {
            let out = shutdown::close_times(a.num("runs", 30)?);
            report(out.ok, &out.lines)
        }
        "lifecycle" => {
            let out = shutdown::lifecycle(a.num("cycles", 1000)?);
            report(out.ok, &out.lines)
        }
        "half-open" => {
            let out = probes::half_open(
                a.num("runs", 10)?,
                Duration::from_millis(500),
                Duration::from_secs(2),
            );
            report(out.ok, &out.lines)
        }
        "huge-frame" => {
            let runs = a.num("runs", 20)?;
            let mut ok = true;
            for len in [1u64 << 40, 1u64 << 62] {
                let out = probes::huge_frame(runs, len);
                ok &= report(out.ok, &out.lines);
            }
            ok
        }
        "all" => {
            // One process per command, so that each one's RSS and thread figures are its own.
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let mut failed = Vec::new();
            for cmd in [
                "faults",
                "herd",
                "slow",
                "close",
                "lifecycle",
                "half-open",
                "huge-frame",
                "footprint",
            ] {
                println!("== {cmd}");
                let status = std::process::Command::new(&exe)
                    .arg(cmd)
                    .status()
                    .map_err(|e| e.to_string())?;
                if !status.success() {
                    failed.push(cmd);
                }
            }
            if !failed.is_empty() {
                println!("failed: {}", failed.join(", "));
            }
            failed.is_empty()
        }
        "footprint" => {
            let out = shutdown::footprint(a.num("clients", 50)?);
            report(out.ok, &out.lines)
        }
        "serve" => {
            shutdown::serve();
            return Ok(true);
        }
        "serve-stream" => {
            slow::serve_stream(a.num("rate", 5000.0)?, a.num("count", 150_000)?);
            return Ok(true);
        }
        _ => return Err(USAGE.into()),
    };
    println!(
        "{}: {} in {:.1} s",
        a.command,
        if ok { "PASS" } else { "FAIL" },
        t0.elapsed().as_secs_f64()
    );
    Ok(ok)
}

fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tradewire-soak: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("tradewire-soak: {e}");
            ExitCode::from(2)
        }
    }
}
