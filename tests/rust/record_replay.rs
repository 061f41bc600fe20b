//! Record and replay: a session recorded against the testkit with faults (a server restart,
//! a half-open connection, a malformed message, a close with a code, a protocol violation) and replayed by the
//! testkit's `ReplayServer` into a fresh client delivers the same events (kinds, types,
//! data, epochs, close codes), timestamps aside; the same for a Tradovate session, whose
//! recording holds no token.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use tradewire::record::format::How;
use tradewire::record::reader;
use tradewire::{Client, Config, Event, Preset};
use tradewire_testkit::events::daemon_event;
use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer};
use tradewire_testkit::{DaemonServer, ReplayServer};

use crate::support::{quick, wait_for, SOON};

/// A fresh directory for this test's recording.
pub fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tw-rec-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("session.jsonl")
}

/// What must be the same between a live session and its replay: no timestamps, no URL, no
/// texts that depend on timing (reasons name durations and attempts), no reconnect
/// attempts (a recording holds what the feed sent, not how long a restart refused
/// connections).
pub fn projection(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Reconnecting { .. } => None,
            Event::Connected { epoch, .. } => Some(format!("connected {epoch}")),
            Event::Authenticated { epoch } => Some(format!("authenticated {epoch}")),
            Event::Disconnected {
                epoch,
                code,
                by_client,
                ..
            } => Some(format!(
                "disconnected {epoch} {code:?} by_client={by_client}"
            )),
            Event::Message(m) => Some(format!(
                "message {} {:?} {:?} {:?} {:?}",
                m.epoch(),
                m.msg_type(),
                m.account_id(),
                m.data_json(),
                m.raw()
            )),
            Event::Error(err) => Some(format!("error {:?} {} {:?}", err.kind, err.epoch, err.raw)),
            Event::Response { id, status, data } => {
                Some(format!("response {id} {status} {data:?}"))
            }
            other => Some(other.kind().to_string()),
        })
        .collect()
}

/// Receives until `pred` matches; every event, the matching one last.
pub fn until(client: &Client, what: &str, pred: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let (found, mut seen) = wait_for(client, SOON * 3, pred);
    match found {
        Some(e) => seen.push(e),
        None => panic!("no {what}; saw {seen:#?}"),
    }
    seen
}

fn connected(client: &Client, epoch: u64) -> Vec<Event> {
    until(
        client,
        &format!("connection {epoch}"),
        |e| matches!(e, Event::Connected { epoch: n, .. } if *n == epoch),
    )
}

/// The next `n` data events (messages, errors, responses) with everything before them.
fn data(client: &Client, n: usize) -> Vec<Event> {
    let mut seen = Vec::new();
    for _ in 0..n {
        seen.extend(until(client, "data", |e| {
            matches!(
                e,
                Event::Message(_) | Event::Error(_) | Event::Response { .. }
            )
        }));
    }
    seen
}

/// Closes the client; every event, the ones delivered by the close included.
pub fn close_and_drain(client: Client, mut seen: Vec<Event>) -> Vec<Event> {
    client.close();
    while let Ok(Some(e)) = client.try_recv() {
        seen.push(e);
    }
    seen
}

fn count_data(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Message(_) | Event::Error(_) | Event::Response { .. }
            )
        })
        .count()
}

/// Replays `path` (as fast as possible) into a fresh client made by `config`, until it
/// delivered as many data events as `live` and its last connection; the replayed events.
pub fn replay_into(path: &Path, live: &[Event], config: impl Fn(String) -> Config) -> Vec<Event> {
    let rec = reader::read(path).unwrap();
    let last = rec.connections.len() as u64;
    let replay = ReplayServer::start(rec, None).unwrap();
    let client = Client::connect(config(replay.url())).unwrap();
    let mut seen = connected(&client, last);
    let want = count_data(live);
    let have = count_data(&seen);
    if have < want {
        seen.extend(data(&client, want - have));
    }
    close_and_drain(client, seen)
}

fn daemon_config(url: String) -> Config {
    quick(Config::new(url).preset(Preset::Daemon))
        .heartbeat_interval(Duration::from_millis(300))
        .heartbeat_timeout(Duration::from_secs(1))
}

fn record_daemon_session(path: &Path) -> Vec<Event> {
    let server = DaemonServer::start().unwrap();
    let config = daemon_config(server.url()).record(path.to_string_lossy());
    let client = Client::connect(config).unwrap();
    let mut seen = connected(&client, 1);
    // Connection 1: events, a malformed message, then a restart (the socket drops).
    server.broadcast(&daemon_event(1, 123));
    server.broadcast(&daemon_event(2, 456));
    server.broadcast("{not json");
    server.broadcast(&daemon_event(3, 123));
    seen.extend(data(&client, 4));
    server.stop();
    std::thread::sleep(Duration::from_millis(300));
    server.restart().unwrap();
    seen.extend(connected(&client, 2));
    // Connection 2: an event, then the server goes silent (half-open).
    server.broadcast(&daemon_event(4, 123));
    seen.extend(data(&client, 1));
    server.set_silent(true);
    seen.extend(until(&client, "the silent server left", |e| {
        e.kind() == "disconnected"
    }));
    server.set_silent(false);
    seen.extend(connected(&client, 3));
    // Connection 3: an event, then a close with a code.
    server.broadcast(&daemon_event(5, 456));
    seen.extend(data(&client, 1));
    server.close_all(4001, "maintenance");
    seen.extend(connected(&client, 4));
    server.broadcast(&daemon_event(6, 123));
    seen.extend(data(&client, 1));
    // Connection 4: a text frame that is not UTF-8 (a protocol violation, closed with 1007).
    server.send_raw(&tradewire_testkit::frames::text_frame(&[0xff, 0xfe]));
    seen.extend(connected(&client, 5));
    server.broadcast(&daemon_event(7, 456));
    seen.extend(data(&client, 1));
    close_and_drain(client, seen)
}

#[test]
fn a_daemon_session_with_faults_replays_to_the_same_events() {
    let path = temp_file("daemon");
    let live = record_daemon_session(&path);
    let rec = reader::read(&path).unwrap();
    assert_eq!(rec.skipped, 0);
    let ends: Vec<_> = rec
        .connections
        .iter()
        .map(|c| c.end.as_ref().map(|e| (e.how, e.code)).unwrap())
        .collect();
    assert_eq!(ends.len(), 5, "{ends:?}");
    assert_eq!(ends[0], (How::Dropped, 1006));
    assert_eq!(ends[1].0, How::Silent);
    assert_eq!(ends[2], (How::Close, 4001));
    assert_eq!(ends[3], (How::Violation, 1007));
    assert_eq!(ends[4].0, How::Client);
    assert_eq!(
        rec.connections[2].end.as_ref().unwrap().reason,
        "maintenance"
    );

    let replayed = replay_into(&path, &live, daemon_config);
    let (a, b) = (projection(&live), projection(&replayed));
    assert_eq!(a, b, "live:\n{a:#?}\nreplayed:\n{b:#?}");
    assert!(
        a.iter().any(|l| l.starts_with("error")),
        "the malformed message: {a:#?}"
    );
    assert!(
        a.iter()
            .any(|l| l == "disconnected 3 Some(4001) by_client=false"),
        "{a:#?}"
    );
}

fn tradovate_replay_config(url: String) -> Config {
    quick(Config::new(url).preset(Preset::Tradovate))
        .token("replay-token-not-the-recorded-one")
        .no_token_file()
}

#[test]
fn a_tradovate_session_replays_to_the_same_events_and_its_recording_holds_no_token() {
    let path = temp_file("tradovate");
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let config = crate::tradovate_session::config(&server).record(path.to_string_lossy());
    let client = Client::connect(config).unwrap();
    let mut live = connected(&client, 1);
    live.extend(until(&client, "login", |e| e.kind() == "authenticated"));
    // The sync request's answer, then account events.
    live.extend(data(&client, 1));
    server.emit_props(101, "position", json!({"id": 1, "netPos": 3}));
    server.emit_props(202, "order", json!({"id": 2, "action": "Buy"}));
    live.extend(data(&client, 2));
    server.close_all(1001, "going away");
    live.extend(connected(&client, 2));
    live.extend(until(&client, "login", |e| e.kind() == "authenticated"));
    live.extend(data(&client, 1));
    server.emit_props(101, "fill", json!({"id": 3, "qty": 1}));
    live.extend(data(&client, 1));
    let live = close_and_drain(client, live);

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("tok-"),
        "no access token in the recording:\n{text}"
    );
    assert!(!text.contains("api-secret"), "no sec in the recording");
    assert!(
        text.contains(tradewire::record::format::LOGIN_REDACTED),
        "{text}"
    );
    assert!(
        text.contains(r#""text":"o""#),
        "SockJS frames are recorded as sent: {text}"
    );

    let replayed = replay_into(&path, &live, tradovate_replay_config);
    let (a, b) = (projection(&live), projection(&replayed));
    assert_eq!(a, b, "live:\n{a:#?}\nreplayed:\n{b:#?}");
    assert!(a.iter().any(|l| l.contains("fill")), "{a:#?}");
}

#[test]
fn the_writer_thread_is_joined_by_close_and_the_file_is_complete() {
    let path = temp_file("joined");
    let server = DaemonServer::start().unwrap();
    let client =
        Client::connect(daemon_config(server.url()).record(path.to_string_lossy())).unwrap();
    connected(&client, 1);
    if crate::support::isolated() {
        assert_eq!(crate::support::threads_named("tradewire-rec"), 1);
    }
    for seq in 1..=50 {
        server.broadcast(&daemon_event(seq, 123));
    }
    data(&client, 50);
    client.close();
    if crate::support::isolated() {
        assert_eq!(
            crate::support::threads_named("tradewire-rec"),
            0,
            "the writer is joined"
        );
    }
    // Everything up to the close is in the file when close() returns.
    let rec = reader::read(&path).unwrap();
    assert_eq!(rec.connections.len(), 1);
    assert_eq!(rec.connections[0].received().count(), 50);
    assert_eq!(rec.connections[0].end.as_ref().unwrap().how, How::Client);
}
