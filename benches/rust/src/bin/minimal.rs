//! The reference limit: a minimal hand-written Rust client, what a careful engineer writes
//! in an afternoon without reconnects, heartbeats or lifecycle events.
//!
//! One reader thread: tungstenite (blocking socket, TCP_NODELAY, default configuration)
//! reads a frame, serde_json parses it into a borrowed struct, the account filter runs, and
//! the frame (zero-copy `Utf8Bytes`) goes over a bounded crossbeam channel to the consumer
//! thread, which reads `data.ts` as every client does.
//!
//! ```text
//! bench-minimal ws://127.0.0.1:PORT firehose|paced|idle
//! ```

use std::ops::Range;

use tradewire_bench::{ClientArgs, Envelope, Tally, ACCOUNT};
use tungstenite::{Message, Utf8Bytes};

/// A delivered event: the frame, where its type and data are.
struct Delivered {
    text: Utf8Bytes,
    kind: Range<usize>,
    data: Range<usize>,
}

fn span(outer: &str, inner: &str) -> Range<usize> {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    start..start + inner.len()
}

fn main() {
    let args = ClientArgs::parse("bench-minimal URL MODE");
    let mut ws = tradewire_bench::tungstenite_connect(&args.url, None);

    let (tx, rx) = crossbeam_channel::bounded::<Delivered>(65_536);
    let reader = std::thread::spawn(move || loop {
        let text = match ws.read() {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(_)) | Err(_) => return,
            Ok(_) => continue,
        };
        let Ok(env) = serde_json::from_str::<Envelope<'_>>(text.as_str()) else {
            continue;
        };
        if env.account_id.is_some_and(|a| a != ACCOUNT) {
            continue;
        }
        let kind = span(text.as_str(), env.kind);
        let data = span(text.as_str(), env.data.get());
        let end = env.kind == tradewire_bench::END;
        if tx.send(Delivered { text, kind, data }).is_err() || end {
            let _ = ws.close(None);
            let _ = ws.flush();
            // Read until the server answers the close.
            while ws.read().is_ok() {}
            return;
        }
    });

    let mut tally = Tally::new(&args.mode);
    for d in rx.iter() {
        let text = d.text.as_str();
        if let Some(report) = tally.event("minimal", Some(&text[d.kind]), &text[d.data]) {
            println!("{report}");
            break;
        }
    }
    let _ = reader.join();
}
