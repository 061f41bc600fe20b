//! tradewire's Rust API as an application uses it: the daemon preset with an account
//! filter, events taken from the channel on the main thread. With `--inline-reads true`
//! (client `tradewire-rust-inline`) the events are taken with `Client::try_recv` /
//! `recv_timeout`, so that the main thread reads the socket itself.
//!
//! ```text
//! bench-tradewire ws://127.0.0.1:PORT firehose|paced|idle [--read-buffer-size BYTES] [--inline-reads true]
//! ```

use tradewire::{Client, Config, Event, Preset};
use tradewire_bench::{die, ClientArgs, Tally, ACCOUNT, STALL};

fn main() {
    let args = ClientArgs::parse(
        "bench-tradewire URL MODE [--read-buffer-size BYTES] [--inline-reads true]",
    );
    let inline = args.get::<bool>("inline-reads").unwrap_or(false);
    let name = if inline {
        "tradewire-rust-inline"
    } else {
        "tradewire-rust"
    };
    let mut config = Config::new(args.url.as_str())
        .preset(Preset::Daemon)
        .account_id(ACCOUNT);
    if let Some(n) = args.get::<usize>("read-buffer-size") {
        config = config.read_buffer_size(n);
    }
    config = config.inline_reads(inline);
    let client = Client::connect(config).unwrap_or_else(|e| die(&format!("tradewire: {e}")));
    let events = client.events();
    let mut tally = Tally::new(&args.mode);
    loop {
        let ev = if inline {
            match client.try_recv() {
                Ok(Some(ev)) => ev,
                _ => match client.recv_timeout(STALL) {
                    Ok(Some(ev)) => ev,
                    _ => die("tradewire: no event for 60 s"),
                },
            }
        } else {
            match events.try_recv() {
                Ok(ev) => ev,
                Err(_) => match events.recv_timeout(STALL) {
                    Ok(ev) => ev,
                    Err(_) => die("tradewire: no event for 60 s"),
                },
            }
        };
        match ev {
            Event::Message(m) => {
                if let Some(report) = tally.event(name, m.msg_type(), m.data_json().unwrap_or("")) {
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
