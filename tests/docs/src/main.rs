//! `tradewire-docs N` runs the N-th ```rust block of README.md (from 1) exactly as written;
//! `tradewire-docs count` prints how many there are. Used by tests/docs/check_docs.py.

#![allow(clippy::all)] // the README's code, as a reader would copy it

include!(concat!(env!("OUT_DIR"), "/snippets.rs"));

fn main() -> std::process::ExitCode {
    let arg = std::env::args().nth(1).unwrap_or_default();
    if arg == "count" {
        println!("{COUNT}");
        return std::process::ExitCode::SUCCESS;
    }
    match arg.parse().ok().and_then(run) {
        Some(code) => code,
        None => {
            eprintln!("usage: tradewire-docs N (1..={COUNT}) | count");
            std::process::ExitCode::from(2)
        }
    }
}
