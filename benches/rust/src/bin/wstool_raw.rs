//! ws-tool's raw read loop (issue 30's socket-side limit): the connection and reader of
//! `bench-wstool` (one thread, blocking std TcpStream with TCP_NODELAY, ws-tool's blocking
//! `FrameCodec` with its default configuration, which checks the UTF-8 of text frames), and
//! no parsing: every text frame counts as delivered, whatever its account. Only the markers
//! are recognised, by their first bytes; in paced mode each frame's `ts` is found in its
//! text to time it (`Tally::raw_frame`). The report says `"unparsed": true`, and the run
//! fails when the count differs from the frames the server sent.
//!
//! ```text
//! bench-wstool-raw ws://127.0.0.1:PORT firehose|paced|idle [--read-size BYTES]
//! ```

use tradewire_bench::{wstool, ClientArgs, Tally};

const NAME: &str = "wstool-raw";

fn main() {
    let args = ClientArgs::parse("bench-wstool-raw URL MODE [--read-size BYTES]");
    let codec = wstool::connect(&args.url, args.get("read-size"));
    let mut tally = Tally::new(&args.mode);
    wstool::read_texts(codec, NAME, |payload| {
        match tally.raw_frame(NAME, payload) {
            Some(report) => {
                println!("{report}");
                true
            }
            None => false,
        }
    });
}
