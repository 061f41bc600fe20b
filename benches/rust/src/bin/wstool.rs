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

use tradewire_bench::{wstool, ClientArgs, Envelope, Tally, ACCOUNT};

const NAME: &str = "wstool";

fn main() {
    let args = ClientArgs::parse("bench-wstool URL MODE [--read-size BYTES]");
    let codec = wstool::connect(&args.url, args.get("read-size"));
    let mut tally = Tally::new(&args.mode);
    wstool::read_texts(codec, NAME, |payload| {
        let Ok(env) = serde_json::from_slice::<Envelope<'_>>(payload) else {
            return false;
        };
        if env.account_id.is_some_and(|a| a != ACCOUNT) {
            return false;
        }
        match tally.event(NAME, Some(env.kind), env.data.get()) {
            Some(report) => {
                println!("{report}");
                true
            }
            None => false,
        }
    });
}
