//! A hand loop on ws-tool 0.11 (issue 30's peer): one thread, a blocking std TcpStream with
//! TCP_NODELAY, ws-tool's blocking `FrameCodec` reader with its default configuration. Each
//! text frame comes as a slice of the codec's read buffer (UTF-8 checked by ws-tool); serde_json
//! parses that slice in place into a borrowed struct (`&str` type, `Option<i64>` account,
//! `&RawValue` data), the account filter runs, and the same thread reads `data.ts` as every
//! client does. Nothing is copied or allocated per frame.
//!
//! ```text
//! bench-wstool ws://127.0.0.1:PORT firehose|paced|idle [--read-size BYTES]
//! ```
//!
//! `--read-size`: the bytes asked of the socket per read (ws-tool's default, 4 KiB, when not
//! given). A ping is answered with its pong; a close before the end marker fails the run.

use serde::Deserialize;
use serde_json::value::RawValue;
use tradewire_bench::{die, wstool, ClientArgs, Tally, ACCOUNT};
use ws_tool::frame::OpCode;

const NAME: &str = "wstool";

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    account_id: Option<i64>,
    #[serde(borrow)]
    data: &'a RawValue,
}

fn main() {
    let args = ClientArgs::parse("bench-wstool URL MODE [--read-size BYTES]");
    let mut codec = wstool::connect(&args.url, args.get("read-size"));
    let mut tally = Tally::new(&args.mode);
    loop {
        let (header, payload) = codec
            .receive()
            .unwrap_or_else(|e| die(&format!("{NAME}: read: {e}")));
        match header.code {
            OpCode::Text => {
                let Ok(env) = serde_json::from_slice::<Envelope<'_>>(payload) else {
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
