//! `tradewire listen --record FILE` and `tradewire mock-server --replay FILE`: a session
//! recorded by the CLI replays into `listen` as the same messages, and the replay server
//! exits 0 once every recorded connection was played.

mod support;

use serde_json::Value;
use support::*;
use tradewire_testkit::DaemonServer;

fn messages(stdout: &[u8]) -> Vec<(Value, Value, Value)> {
    text(stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["type"].clone(), v["data"].clone(), v["epoch"].clone()))
        .collect()
}

#[test]
fn listen_record_then_mock_server_replay_gives_the_same_messages() {
    let path = temp_file("cli-record.jsonl", "");
    std::fs::remove_file(&path).unwrap();
    let server = DaemonServer::start().unwrap();
    let file = path.to_str().unwrap();
    let mut listen = Proc::spawn(&[
        "listen",
        &server.url(),
        "--preset",
        "daemon",
        "--count",
        "3",
        "--record",
        file,
    ]);
    assert!(server.wait_for_connections(1, LONG));
    for seq in 1..=3 {
        server.broadcast(&tradewire_testkit::events::daemon_event(seq, 123));
    }
    let live = listen.all_stdout();
    assert_eq!(listen.wait(LONG).code(), Some(0), "{}", listen.stderr());
    let live = messages(live.as_bytes());
    assert_eq!(live.len(), 3);

    let mut replay = Proc::spawn(&[
        "mock-server",
        "--replay",
        file,
        "--speed",
        "max",
        "--port",
        "0",
    ]);
    let url = replay.line(LONG);
    let out = run(&["listen", &url, "--preset", "daemon", "--count", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(messages(&out.stdout), live);
    assert_eq!(replay.wait(LONG).code(), Some(0), "{}", replay.stderr());
    assert!(
        replay.stderr().contains("the recording is over"),
        "{}",
        replay.stderr()
    );
}

#[test]
fn a_bad_recording_is_refused_with_its_line() {
    let path = temp_file(
        "cli-bad.jsonl",
        "{\"kind\":\"open\",\"at_us\":1,\"epoch\":1,\"url\":\"u\"}\nnot json\n",
    );
    let out = run(&["mock-server", "--replay", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("line 2: not a recording record"),
        "{}",
        text(&out.stderr)
    );
}
