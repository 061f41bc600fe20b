//! The C program tests/c/record.c: `record` in C's JSON configuration writes the session,
//! with the token scrubbed, complete when `tw_client_close` returns.

mod support;

use std::time::Duration;

use support::{program, start, Flavor, PROGRAM_TIMEOUT};
use tradewire_testkit::{ServerOptions, WsServer};

#[test]
fn record_from_c_writes_the_session_without_the_token() {
    let exe = program("record", Flavor::Sanitized);
    let server = WsServer::start(ServerOptions::default()).expect("start the server");
    let dir = std::env::temp_dir().join(format!("tw-c-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("c.jsonl");
    let _ = std::fs::remove_file(&path);
    let running = start(
        &exe,
        &[&server.url(), path.to_str().expect("UTF-8 path")],
        &[],
    );
    assert!(server.wait_for_connections(1, Duration::from_secs(20)));
    server.broadcast(r#"{"type":"fill","data":{"qty":1}}"#);
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("record");
    let text = std::fs::read_to_string(&path).expect("the recording");
    assert!(
        text.contains(r#""kind":"recv""#) && text.contains("fill"),
        "{text}"
    );
    assert!(text.contains("token=<redacted>"), "{text}");
    assert!(!text.contains("Tok3n"), "no token in the recording: {text}");
    assert!(
        text.contains(r#""kind":"end""#),
        "complete at close: {text}"
    );
}
