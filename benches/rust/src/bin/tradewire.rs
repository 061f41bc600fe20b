//! tradewire's Rust API as an application uses it: the daemon preset with an account
//! filter, events taken with `Client::try_recv` / `recv_timeout` on the main thread, which
//! (with the default `inline_reads`) reads the socket itself. With `--inline-reads false`
//! (client `tradewire-rust-thread`) only the I/O thread reads, and hands events over.
//!
//! With `--preset raw` (client `tradewire-rust-raw`, issue 30's raw pass-through) the
//! frames are delivered untouched and not parsed: no account filter, every frame counts as
//! delivered, as in `bench-wstool-raw` (`Tally::raw_frame`).
//!
//! ```text
//! bench-tradewire ws://127.0.0.1:PORT firehose|paced|idle [--preset daemon|raw] [--read-buffer-size BYTES] [--inline-reads false] [--compression false] [--sequence true] [--record PATH]
//! ```
//!
//! permessage-deflate is offered, as the default configuration does (`--compression false`:
//! not offered); only `bench-server --deflate` accepts it.

use tradewire::{Client, Config, Event, Preset};
use tradewire_bench::{die, ClientArgs, Tally, ACCOUNT, STALL};

fn main() {
    let args = ClientArgs::parse(
        "bench-tradewire URL MODE [--preset daemon|raw] [--read-buffer-size BYTES] [--inline-reads false] [--compression false] [--sequence true] [--record PATH]",
    );
    let raw = match args.get::<String>("preset").as_deref() {
        None | Some("daemon") => false,
        Some("raw") => true,
        Some(other) => die(&format!("--preset: daemon or raw, not {other}")),
    };
    let mut config = Config::new(args.url.as_str());
    config = if raw {
        config.preset(Preset::Raw)
    } else {
        config.preset(Preset::Daemon).account_id(ACCOUNT)
    };
    let mut name = if raw {
        "tradewire-rust-raw"
    } else {
        "tradewire-rust"
    };
    if let Some(inline) = args.get::<bool>("inline-reads") {
        config = config.inline_reads(inline);
        if !inline {
            name = "tradewire-rust-thread";
        }
    }
    if args.get::<bool>("compression") == Some(false) {
        config = config.compression(None);
    }
    if args.get::<bool>("sequence") == Some(true) {
        // bench-server --seq numbers the frames: each message's number is checked.
        config = config.sequence("/seq");
    }
    if let Some(path) = args.get::<String>("record") {
        // Every frame and boundary written to PATH by the recording thread.
        config = config.record(path);
    }
    if let Some(n) = args.get::<usize>("read-buffer-size") {
        config = config.read_buffer_size(n);
    }
    let client = Client::connect(config).unwrap_or_else(|e| die(&format!("tradewire: {e}")));
    let mut tally = Tally::new(&args.mode);
    loop {
        let ev = match client.try_recv() {
            Ok(Some(ev)) => ev,
            _ => match client.recv_timeout(STALL) {
                Ok(Some(ev)) => ev,
                _ => die("tradewire: no event for 60 s"),
            },
        };
        match ev {
            Event::Message(m) => {
                let report = if raw {
                    tally.raw_frame(name, m.raw_bytes())
                } else {
                    tally.event(name, m.msg_type(), m.data_json().unwrap_or(""))
                };
                if let Some(report) = report {
                    println!("{report}");
                    break;
                }
            }
            Event::Disconnected { reason, .. } => {
                die(&format!("tradewire: disconnected: {reason}"))
            }
            _ => {}
        }
    }
    client.close();
}
