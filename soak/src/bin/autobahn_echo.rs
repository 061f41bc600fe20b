//! `tradewire-autobahn-echo`: the Autobahn TestSuite's client under test.
//!
//! Runs every case the fuzzing server offers against a `tradewire::Client` with the `raw`
//! preset (frames untouched, binary included) and reconnect disabled, echoing each message
//! back as it came (text as text, binary as binary), then asks the server to write its
//! reports.
//!
//! ```text
//! tradewire-autobahn-echo [--url ws://127.0.0.1:9001] [--agent tradewire] [--case-timeout 120]
//! ```
//!
//! Used by `scripts/autobahn.sh`; see docs/AUTOBAHN.md.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use tradewire::{Client, Config, Event, Preset};

struct Args {
    url: String,
    agent: String,
    case_timeout: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: "ws://127.0.0.1:9001".into(),
        agent: "tradewire".into(),
        case_timeout: Duration::from_secs(120),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--url" => args.url = value("--url")?,
            "--agent" => args.agent = value("--agent")?,
            "--case-timeout" => {
                let v = value("--case-timeout")?;
                let secs: f64 = v
                    .parse()
                    .map_err(|_| format!("--case-timeout: not a number: {v}"))?;
                args.case_timeout = Duration::from_secs_f64(secs);
            }
            "-h" | "--help" => {
                println!("usage: tradewire-autobahn-echo [--url ws://127.0.0.1:9001] [--agent tradewire] [--case-timeout SECS]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// The client configuration for one Autobahn connection.
fn config(url: String) -> Config {
    Config::new(url)
        .preset(Preset::Raw)
        .reconnect(false)
        // Group 9 sends messages of up to 16 MiB; leave room above that.
        .max_message_size(64 << 20)
        .max_frame_size(64 << 20)
        // An echo of a 16 MiB message is one 16 MiB frame in tungstenite's write buffer.
        .max_write_buffer(64 << 20)
        // No client pings during a case: they would be frames the case does not expect.
        .heartbeat_interval(Duration::from_secs(3600))
        .heartbeat_timeout(Duration::from_secs(7200))
        .connect_timeout(Duration::from_secs(10))
}

/// Connects to `url` and echoes every message until the connection ends. Returns the text
/// messages received (used for `getCaseCount`) and the number echoed.
fn session(url: String, echo: bool, timeout: Duration) -> Result<(Vec<String>, u64), String> {
    let client = Client::connect(config(url)).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    let mut texts = Vec::new();
    let mut echoed = 0u64;
    let outcome = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Err(format!("no end of the connection within {timeout:?}"));
        }
        match client.recv_timeout(left) {
            Ok(Some(Event::Message(m))) => {
                if echo {
                    let sent = if m.is_binary() {
                        client.send_binary(m.raw_bytes().to_vec())
                    } else {
                        client.send_text(m.raw().unwrap_or_default().to_string())
                    };
                    match sent {
                        Ok(()) => echoed += 1,
                        // The server may already be closing: the case judges what it got.
                        Err(e) => eprintln!("  echo not sent: {e}"),
                    }
                } else if let Some(t) = m.raw() {
                    texts.push(t.to_string());
                }
            }
            Ok(Some(Event::Disconnected { .. })) | Ok(Some(Event::GaveUp { .. })) => break Ok(()),
            Ok(Some(Event::Error(e))) => {
                eprintln!("  error event: {}: {}", e.kind.as_str(), e.message)
            }
            Ok(Some(_)) => {}
            Ok(None) => {}
            Err(_) => break Ok(()),
        }
    };
    client.close();
    outcome.map(|()| (texts, echoed))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tradewire-autobahn-echo: {e}");
            return ExitCode::from(2);
        }
    };
    let base = args.url.trim_end_matches('/').to_string();
    let count = match session(
        format!("{base}/getCaseCount"),
        false,
        Duration::from_secs(30),
    ) {
        Ok((texts, _)) => match texts.first().and_then(|t| t.trim().parse::<u32>().ok()) {
            Some(n) => n,
            None => {
                eprintln!("tradewire-autobahn-echo: getCaseCount answered {texts:?}");
                return ExitCode::FAILURE;
            }
        },
        Err(e) => {
            eprintln!("tradewire-autobahn-echo: cannot reach the fuzzing server at {base}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("tradewire-autobahn-echo: {count} cases");
    let started = Instant::now();
    let mut stuck = 0;
    for case in 1..=count {
        let t0 = Instant::now();
        let url = format!("{base}/runCase?case={case}&agent={}", args.agent);
        match session(url, true, args.case_timeout) {
            Ok((_, echoed)) => eprintln!(
                "case {case}/{count}: {echoed} echoed in {:.2} s",
                t0.elapsed().as_secs_f64()
            ),
            Err(e) => {
                stuck += 1;
                eprintln!("case {case}/{count}: {e}");
            }
        }
    }
    eprintln!(
        "tradewire-autobahn-echo: {count} cases in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = session(
        format!("{base}/updateReports?agent={}", args.agent),
        false,
        Duration::from_secs(60),
    ) {
        eprintln!("tradewire-autobahn-echo: updateReports failed: {e}");
        return ExitCode::FAILURE;
    }
    if stuck > 0 {
        eprintln!("tradewire-autobahn-echo: {stuck} case(s) did not end in time");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
