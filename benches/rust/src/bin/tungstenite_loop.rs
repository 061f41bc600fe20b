//! The fairest hand loop on tungstenite (issue 30's peer): one thread, no channel. A blocking
//! std TcpStream with TCP_NODELAY, tungstenite's default configuration; `read()` gives a
//! `Message::Text` (UTF-8 checked by tungstenite), serde_json parses it into a borrowed struct
//! (`&str` type, `Option<i64>` account, `&RawValue` data), the account filter runs, and the
//! same thread reads `data.ts` as every client does.
//!
//! `bench-minimal` is the same loop split over two threads (a reader and a consumer, as an
//! application that hands events on would write it); this one is what a loop that consumes
//! where it reads costs.
//!
//! ```text
//! bench-tungstenite-loop ws://127.0.0.1:PORT firehose|paced|idle
//! ```
//!
//! tungstenite answers pings by itself (the pong goes out with the next read or write).

use tradewire_bench::{die, ClientArgs, Envelope, Tally, ACCOUNT, STALL};
use tungstenite::Message;

const NAME: &str = "tungstenite-loop";

fn main() {
    let args = ClientArgs::parse("bench-tungstenite-loop URL MODE");
    let mut ws = tradewire_bench::tungstenite_connect(&args.url, Some(STALL));

    let mut tally = Tally::new(&args.mode);
    loop {
        let text = match ws.read() {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(_)) => die(&format!("{NAME}: the server closed before the end")),
            Err(e) => die(&format!("{NAME}: read: {e}")),
            Ok(_) => continue,
        };
        let Ok(env) = serde_json::from_str::<Envelope<'_>>(text.as_str()) else {
            continue;
        };
        if env.account_id.is_some_and(|a| a != ACCOUNT) {
            continue;
        }
        if let Some(report) = tally.event(NAME, Some(env.kind), env.data.get()) {
            println!("{report}");
            break;
        }
    }
    let _ = ws.close(None);
    let _ = ws.flush();
    // Read until the server answers the close.
    while ws.read().is_ok() {}
}
