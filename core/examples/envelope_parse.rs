//! `envelope::parse` alone, for profiling the envelope scanner without a socket
//! (docs/BENCHMARKS.md, issue 30): the six document-002 events of the benchmark's firehose in
//! turn, with the default pointers and `/ts` as the time pointer, `N` times (default 3 M).
//! Prints the time per parse; run it pinned and under callgrind for instructions:
//!
//! ```text
//! cargo build --release -p tradewire --example envelope_parse
//! taskset -c 1 target/release/examples/envelope_parse 3000000
//! valgrind --tool=callgrind target/release/examples/envelope_parse 100000
//! ```

use std::hint::black_box;
use std::time::Instant;

use tradewire::envelope::{parse, Pointer, Pointers};

const EVENTS: [&str; 6] = [
    r#"{"type":"MarketQuote","account_id":123,"data":{"ts":      20640077136887,"contractId":"CON.F.US.ENQ.U25","bid":21009.25,"ask":21009.50,"last":21009.50,"volume":1001,"timestamp":"2025-01-17T14:30:00.250Z","seq":1}}"#,
    r#"{"type":"GatewayUserTrade","account_id":456,"data":{"ts":      20640077136887,"id":100002,"contractId":"CON.F.US.MES.U25","profitAndLoss":-163.38,"quantity":3,"executionTime":"2025-01-17T14:30:00.500Z","timestamp":"2025-01-17T14:30:00.500Z","seq":2}}"#,
    r#"{"type":"MarketQuote","account_id":789,"data":{"ts":      20640077136887,"contractId":"CON.F.US.EP.U25","bid":21027.75,"ask":21028.00,"last":21028.00,"volume":1003,"timestamp":"2025-01-17T14:30:00.750Z","seq":3}}"#,
    r#"{"type":"GatewayUserPosition","account_id":456,"data":{"ts":      20640077136887,"id":404,"contractId":"CON.F.US.MNQ.U25","type":1,"size":4,"averagePrice":21037.50,"createdAt":"2025-01-17T14:30:00.000Z","updatedAt":"2025-01-17T14:30:01.000Z","seq":4}}"#,
    r#"{"type":"MarketQuote","account_id":123,"data":{"ts":      20640077136887,"contractId":"CON.F.US.ENQ.U25","bid":21006.25,"ask":21006.50,"last":21006.50,"volume":1005,"timestamp":"2025-01-17T14:30:01.250Z","seq":5}}"#,
    r#"{"type":"GatewayUserOrder","account_id":456,"data":{"ts":      20640077136887,"id":706,"contractId":"CON.F.US.MES.U25","type":2,"side":1,"size":3,"limitPrice":21015.50,"state":1,"createdAt":"2025-01-17T14:30:00.000Z","updatedAt":"2025-01-17T14:30:01.500Z","seq":6}}"#,
];

fn main() {
    let n: usize = match std::env::args().nth(1) {
        None => 3_000_000,
        Some(s) => {
            match s.parse() {
                Ok(n) => n,
                Err(_) => {
                    eprintln!("envelope_parse: `{s}` is not a count of parses; give a number such as 3000000");
                    std::process::exit(2);
                }
            }
        }
    };
    let p = Pointers {
        time: Pointer::parse("/ts").expect("a valid pointer"),
        ..Pointers::default()
    };
    let mut checksum = 0usize;
    let start = Instant::now();
    for i in 0..n {
        let env =
            parse(black_box(EVENTS[i % EVENTS.len()]), &p).expect("the events are JSON objects");
        checksum += env.data.len() + env.msg_type.map_or(0, |t| t.len());
    }
    let elapsed = start.elapsed();
    println!(
        "{n} parses, {:.1} ns per parse (checksum {checksum})",
        elapsed.as_nanos() as f64 / n.max(1) as f64
    );
}
