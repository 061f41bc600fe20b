//! `tradewire`: listen to a trading event stream, bridge it into Redis Streams, run the
//! self-contained demo, or run a mock server. See `tradewire --help`.

mod args;
mod bridge;
mod demo;
mod help;
mod listen;
mod mock;
mod output;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use args::Command;

/// Exit codes (documented in `tradewire --help`).
pub mod exit {
    /// Success, including a stop by Ctrl-C.
    pub const OK: i32 = 0;
    /// A runtime failure (the demo's self-test failed, a server could not start, ...).
    pub const FAILURE: i32 = 1;
    /// Bad arguments or configuration.
    pub const USAGE: i32 = 2;
    /// The server rejected the credentials (bridge: the WebSocket server or Redis).
    pub const AUTH: i32 = 3;
    /// The client gave up reconnecting (bridge: the WebSocket feed gave up).
    pub const GAVE_UP: i32 = 4;
    /// `listen --wait N`: the connection was not live within N seconds, or its first
    /// attempt failed (the message gives the reason).
    pub const NOT_LIVE: i32 = 5;
    /// The demo was interrupted by Ctrl-C.
    pub const INTERRUPTED: i32 = 130;
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let code = match args::parse(&argv) {
        Ok(command) => run(command),
        Err(e) => {
            eprintln!("{e}");
            exit::USAGE
        }
    };
    std::process::exit(code);
}

fn run(command: Command) -> i32 {
    match command {
        Command::Help(topic) => {
            print!("{}", topic.help());
            exit::OK
        }
        Command::Version => {
            println!("tradewire {}", tradewire::VERSION);
            exit::OK
        }
        Command::Listen(a) => with_ctrl_c(|stop| listen::run(&a, stop)),
        Command::Bridge(a) => with_ctrl_c(|stop| bridge::run(&a, stop)),
        Command::Demo(a) => with_ctrl_c(|stop| demo::run(&a, stop)),
        Command::MockServer(a) => with_ctrl_c(|stop| mock::run(&a, stop)),
        Command::Replay(a) => with_ctrl_c(|stop| mock::replay(&a, stop)),
    }
}

/// Runs `body` with a flag that Ctrl-C (SIGINT) and SIGTERM set; the commands poll it and
/// close cleanly. A second Ctrl-C while the first is being handled exits at once (code 130).
fn with_ctrl_c(body: impl FnOnce(&AtomicBool) -> i32) -> i32 {
    init_logging();
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // The conditional shutdown must be registered first: it sees the flag as it was
        // before this signal's own handler sets it.
        let registered = signal_hook::flag::register_conditional_shutdown(
            signal,
            exit::INTERRUPTED,
            stop.clone(),
        )
        .and_then(|_| signal_hook::flag::register(signal, stop.clone()));
        if let Err(e) = registered {
            eprintln!("tradewire: warning: cannot handle Ctrl-C cleanly ({e}); it will end the program at once");
        }
    }
    let code = body(&stop);
    // Nothing may be left half-printed; a failed flush of a closed pipe is not an error.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    code
}

/// `TRADEWIRE_LOG=error|warn|info|debug|trace` prints the library's log on stderr.
fn init_logging() {
    let Ok(level) = std::env::var("TRADEWIRE_LOG") else {
        return;
    };
    let filter = match level.trim().to_ascii_lowercase().as_str() {
        "error" => log::LevelFilter::Error,
        "warn" => log::LevelFilter::Warn,
        "info" | "1" | "" => log::LevelFilter::Info,
        "debug" => log::LevelFilter::Debug,
        "trace" => log::LevelFilter::Trace,
        "off" | "0" => return,
        other => {
            eprintln!("tradewire: warning: TRADEWIRE_LOG={other:?} is not a level (error, warn, info, debug, trace); using info");
            log::LevelFilter::Info
        }
    };
    if log::set_logger(&StderrLogger).is_ok() {
        log::set_max_level(filter);
    }
}

/// Writes log records as `[level target] message` lines on stderr.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        // Every known secret scrubbed, whatever crate logged the line (tungstenite's TRACE
        // dumps of the handshake included).
        let text = record.args().to_string();
        eprintln!(
            "[{} {}] {}",
            record.level().as_str().to_ascii_lowercase(),
            record.target(),
            tradewire::redact::scrub(&text)
        );
    }

    fn flush(&self) {}
}
