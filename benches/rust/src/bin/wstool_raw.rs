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

use tradewire_bench::{die, wstool, ClientArgs, Tally};
use ws_tool::frame::OpCode;

const NAME: &str = "wstool-raw";

fn main() {
    let args = ClientArgs::parse("bench-wstool-raw URL MODE [--read-size BYTES]");
    let mut codec = wstool::connect(&args.url, args.get("read-size"));
    let mut tally = Tally::new(&args.mode);
    loop {
        let (header, payload) = codec
            .receive()
            .unwrap_or_else(|e| die(&format!("{NAME}: read: {e}")));
        match header.code {
            OpCode::Text => {
                if let Some(report) = tally.raw_frame(NAME, payload) {
                    println!("{report}");
                    break;
                }
            }
            OpCode::Ping => {
                let ping = payload.to_vec();
                wstool::pong(&mut codec, &ping);
            }
            OpCode::Close => die(&format!("{NAME}: the server closed before the end")),
            _ => {}
        }
    }
    wstool::close(codec);
}
