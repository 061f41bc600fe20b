//! `tradewire bridge` against a real redis-server (never a mock) and the testkit's WebSocket
//! servers: order and gap markers across a reconnect, Redis killed and restarted mid-stream,
//! two consumer groups, several connections, bad `--to` URLs and refused AUTH.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use support::redis_server::{Entry, RedisServer};
use support::{assert_usage_error, run, temp_file, text, Proc, LONG};
use tradewire_testkit::{ServerOptions, WsServer};

/// An entry as XRANGE and XREADGROUP give it: its id and its fields and values in turn.
type RawEntry = (String, Vec<String>);

fn message(n: u64, account: u64) -> String {
    format!(r#"{{"type":"t","account_id":{account},"data":{{"n":{n}}}}}"#)
}

fn kinds(entries: &[Entry]) -> Vec<String> {
    entries.iter().map(|e| e.get("kind").to_string()).collect()
}

/// The `n` of each message entry, in stream order.
fn numbers(entries: &[Entry]) -> Vec<u64> {
    entries
        .iter()
        .filter(|e| e.get("kind") == "message")
        .map(|e| e.event()["data"]["n"].as_u64().expect("n"))
        .collect()
}

fn count_kind(entries: &[Entry], kind: &str) -> usize {
    entries.iter().filter(|e| e.get("kind") == kind).count()
}

fn stop(mut p: Proc) -> String {
    p.interrupt();
    let status = p.wait(LONG);
    let err = p.stderr();
    assert_eq!(status.code(), Some(0), "stderr:\n{err}");
    err
}

#[test]
fn bridge_writes_events_in_order_with_gap_markers_across_a_reconnect() {
    let redis = RedisServer::start(None);
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let p = Proc::spawn(&["bridge", &server.url(), "--to", &redis.url()]);
    redis.wait_for("tradewire", "connected entry", |e| {
        count_kind(e, "connected") == 1
    });
    for n in 1..=5 {
        server.broadcast(&message(n, 7));
    }
    redis.wait_for("tradewire", "5 messages", |e| numbers(e).len() == 5);
    server.drop_all();
    redis.wait_for("tradewire", "second connection", |e| {
        count_kind(e, "connected") == 2
    });
    for n in 6..=10 {
        server.broadcast(&message(n, 7));
    }
    redis.wait_for("tradewire", "10 messages", |e| numbers(e).len() == 10);
    let err = stop(p);
    let entries = redis.wait_for("tradewire", "final disconnect", |e| {
        count_kind(e, "disconnected") == 2
    });
    assert_eq!(numbers(&entries), (1..=10).collect::<Vec<_>>());
    let k = kinds(&entries);
    let first_gap = k.iter().position(|k| k == "disconnected").unwrap();
    assert_eq!(
        k[..first_gap],
        [
            "connected",
            "message",
            "message",
            "message",
            "message",
            "message"
        ]
    );
    // The gap: disconnected (epoch 1), reconnecting (still epoch 1), connected (epoch 2).
    let second = k.iter().rposition(|k| k == "connected").unwrap();
    assert!(
        k[first_gap..second]
            .iter()
            .all(|k| k == "disconnected" || k == "reconnecting"),
        "{k:?}"
    );
    assert_eq!(entries[first_gap].get("epoch"), "1");
    assert_eq!(entries[second].get("epoch"), "2");
    assert_eq!(
        entries[second].get("seq"),
        "1",
        "the sequence restarts with each epoch"
    );
    // Keys: unique, <instance>:<connection>:<epoch>:<seq>, one instance.
    let keys: HashSet<&str> = entries.iter().map(|e| e.get("key")).collect();
    assert_eq!(keys.len(), entries.len());
    for e in &entries {
        let parts: Vec<&str> = e.get("key").split(':').collect();
        assert_eq!(parts.len(), 4, "{e:?}");
        assert_eq!(parts[0], entries[0].get("key").split(':').next().unwrap());
        assert_eq!(
            (parts[1], parts[2], parts[3]),
            ("1", e.get("epoch"), e.get("seq"))
        );
    }
    let m = entries.iter().find(|e| e.get("kind") == "message").unwrap();
    assert_eq!((m.get("type"), m.get("account_id")), ("t", "7"));
    assert!(m.get("received_at").ends_with('Z'), "{m:?}");
    assert_eq!(m.event()["epoch"], 1);
    assert!(err.contains("redis: connected to"), "{err}");
}

#[test]
fn redis_killed_and_restarted_mid_stream_loses_no_event() {
    let mut redis = RedisServer::start_durable();
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let p = Proc::spawn(&[
        "bridge",
        &server.url(),
        "--to",
        &redis.url(),
        "--status-interval",
        "1",
    ]);
    redis.wait_for("tradewire", "connected entry", |e| {
        count_kind(e, "connected") == 1
    });
    const TOTAL: u64 = 3000;
    for n in 1..=1000 {
        server.broadcast(&message(n, 1));
    }
    redis.wait_for("tradewire", "some messages", |e| !numbers(e).is_empty());
    redis.kill();
    // Sent while Redis is down: the bridge holds what it took, the rest waits in the
    // client's queue and the socket (overflow policy block).
    for n in 1001..=2000 {
        server.broadcast(&message(n, 1));
    }
    std::thread::sleep(Duration::from_millis(1500));
    redis.restart();
    for n in 2001..=TOTAL {
        server.broadcast(&message(n, 1));
    }
    let entries = redis.wait_for("tradewire", "every message", |e| {
        numbers(e).into_iter().collect::<HashSet<_>>().len() == TOTAL as usize
    });
    let err = stop(p);
    // Duplicates (re-sent after the restart) carry the same key: dropping them by key gives
    // every message once, in order.
    let mut seen = HashSet::new();
    let unique: Vec<Entry> = entries
        .into_iter()
        .filter(|e| seen.insert(e.get("key").to_string()))
        .collect();
    assert_eq!(numbers(&unique), (1..=TOTAL).collect::<Vec<_>>());
    assert!(err.contains("redis: connection lost"), "{err}");
    assert!(err.contains("redis: reconnected to"), "{err}");
    assert!(err.contains("status: feed live, redis "), "{err}");
}

#[test]
fn two_consumer_groups_read_the_same_stream() {
    let redis = RedisServer::start(None);
    let mut c = redis.conn();
    for g in ["risk", "dashboard"] {
        let _: () = redis::cmd("XGROUP")
            .arg(&["CREATE", "desk", g, "0", "MKSTREAM"])
            .query(&mut c)
            .unwrap();
    }
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let p = Proc::spawn(&[
        "bridge",
        &server.url(),
        "--to",
        &redis.url(),
        "--stream",
        "desk",
        "--maxlen",
        "100000",
    ]);
    redis.wait_for("desk", "connected entry", |e| {
        count_kind(e, "connected") == 1
    });
    for n in 1..=50 {
        server.broadcast(&message(n, 3));
    }
    redis.wait_for("desk", "50 messages", |e| numbers(e).len() == 50);
    for g in ["risk", "dashboard"] {
        let read: Vec<(String, Vec<RawEntry>)> = redis::cmd("XREADGROUP")
            .arg(&[
                "GROUP", g, "worker-1", "COUNT", "1000", "STREAMS", "desk", ">",
            ])
            .query(&mut c)
            .unwrap();
        let entries: Vec<Entry> = read
            .into_iter()
            .flat_map(|(_, e)| e)
            .map(Entry::from)
            .collect();
        assert_eq!(numbers(&entries), (1..=50).collect::<Vec<_>>(), "group {g}");
    }
    stop(p);
}

#[test]
fn several_connections_each_into_its_own_stream_and_placeholders_split_streams() {
    let redis = RedisServer::start(None);
    let a = WsServer::start(ServerOptions::default()).unwrap();
    let b = WsServer::start(ServerOptions::default()).unwrap();
    let config = temp_file(
        "bridge-two.json",
        &format!(
            r#"[{{"url": "{}", "stream": "acct:{{account_id}}"}}, {{"url": "{}"}}]"#,
            a.url(),
            b.url()
        ),
    );
    let p = Proc::spawn(&[
        "bridge",
        "--config",
        config.to_str().unwrap(),
        "--to",
        &redis.url(),
    ]);
    redis.wait_for("acct:_", "connected entry", |e| {
        count_kind(e, "connected") == 1
    });
    redis.wait_for("tradewire:2", "connected entry", |e| {
        count_kind(e, "connected") == 1
    });
    a.broadcast(&message(1, 11));
    a.broadcast(&message(2, 22));
    b.broadcast(&message(3, 33));
    redis.wait_for("acct:11", "its message", |e| numbers(e) == [1]);
    redis.wait_for("acct:22", "its message", |e| numbers(e) == [2]);
    let two = redis.wait_for("tradewire:2", "its message", |e| numbers(e) == [3]);
    assert!(two[0].get("key").contains(":2:1:1"), "{two:?}");
    stop(p);
    // The last lifecycle entry went to every stream of its connection.
    for s in ["acct:_", "acct:11", "acct:22"] {
        redis.wait_for(s, "the final disconnect", |e| {
            count_kind(e, "disconnected") == 1
        });
    }
}

#[test]
fn bad_to_urls_exit_2_with_the_accepted_form() {
    for (to, why) in [
        ("localhost:6379", "must start with redis://"),
        ("rediss://h:6379", "TLS to Redis"),
        ("redis://:hunter2-secret@h:port", "the port 'port'"),
        ("redis://:hunter2-secret@h/x", "the database 'x'"),
    ] {
        assert_usage_error(
            &["bridge", "ws://127.0.0.1:1", "--to", to],
            &[
                why,
                "redis://[[user]:password@]host[:port][/db]",
                "tradewire bridge --help",
            ],
        );
        assert!(!text(&run(&["bridge", "ws://h", "--to", to]).stderr).contains("hunter2"));
    }
    assert_usage_error(&["bridge", "ws://127.0.0.1:1"], &["missing --to"]);
}

#[test]
fn refused_auth_exits_3_and_the_password_never_shows() {
    const RIGHT: &str = "Right+Pass/w0rd=1";
    const WRONG: &str = "wrong+Pass/w0rd=2";
    let redis = RedisServer::start(Some(RIGHT));
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let url = server.url();
    let wrong = format!(
        "redis://:{}@127.0.0.1:{}/0",
        WRONG.replace('/', "%2F"),
        redis.port
    );
    let no_password = format!("redis://127.0.0.1:{}/0", redis.port);
    let mut outputs = Vec::new();
    for to in [&wrong, &no_password] {
        let mut p = Proc::spawn_env(&["bridge", &url, "--to", to], &[("TRADEWIRE_LOG", "trace")]);
        let status = p.wait(LONG);
        let err = p.stderr();
        assert_eq!(status.code(), Some(3), "{to}: {err}");
        assert!(err.contains("Redis refused the credentials"), "{err}");
        outputs.push(err);
        outputs.push(p.all_stdout());
    }
    // The right password: entries written, and still never printed (trace log included).
    let mut p = Proc::spawn_env(
        &[
            "bridge",
            &url,
            "--to",
            &redis.url(),
            "--count",
            "2",
            "--status-interval",
            "1",
        ],
        &[("TRADEWIRE_LOG", "trace")],
    );
    redis.wait_for("tradewire", "connected entry", |e| {
        count_kind(e, "connected") == 1
    });
    server.broadcast(&message(1, 1));
    server.broadcast(&message(2, 1));
    assert_eq!(p.wait(LONG).code(), Some(0), "{}", p.stderr());
    outputs.push(p.stderr());
    outputs.push(p.all_stdout());
    // Redis unreachable: the retries and status lines name it, never with the password.
    let closed = format!("redis://:{RIGHT}@127.0.0.1:{}/0", support::closed_port());
    let mut p = Proc::spawn_env(
        &["bridge", &url, "--to", &closed, "--status-interval", "1"],
        &[("TRADEWIRE_LOG", "trace")],
    );
    let deadline = std::time::Instant::now() + LONG;
    while !p.stderr().contains("redis down") {
        assert!(std::time::Instant::now() < deadline, "{}", p.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    p.interrupt();
    let status = p.wait(LONG);
    let err = p.stderr();
    assert!(
        err.contains("redis: cannot reach redis://:<redacted>@127.0.0.1:"),
        "{err}"
    );
    // The client's `connected` (at least) was never written: said, and exit 1.
    assert!(err.contains("Redis was never reachable;"), "{err}");
    assert_eq!(status.code(), Some(1), "{err}");
    outputs.push(err);
    let secrets = [RIGHT.to_string(), WRONG.to_string()];
    tradewire_testkit::canary::assert_no_leak(outputs.iter(), &secrets);
}

#[test]
fn giving_up_on_the_feed_exits_4_after_writing_gave_up() {
    let redis = RedisServer::start(None);
    let port = support::closed_port();
    let out = run(&[
        "bridge",
        &format!("ws://127.0.0.1:{port}"),
        "--to",
        &redis.url(),
        "--max-reconnects",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let entries = redis.entries("tradewire");
    assert_eq!(
        kinds(&entries).last().map(String::as_str),
        Some("gave_up"),
        "{entries:?}"
    );
}

#[test]
fn a_sequence_gap_is_an_entry_just_before_the_message_that_skipped() {
    let redis = RedisServer::start(None);
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let config = temp_file(
        "bridge-seq.json",
        &format!(r#"{{"url": "{}", "sequence": "/seq"}}"#, server.url()),
    );
    let p = Proc::spawn(&[
        "bridge",
        "--config",
        config.to_str().unwrap(),
        "--to",
        &redis.url(),
    ]);
    redis.wait_for("tradewire", "connected entry", |e| {
        count_kind(e, "connected") == 1
    });
    for seq in [1, 2, 5] {
        server.broadcast(&format!(
            r#"{{"type":"t","seq":{seq},"data":{{"n":{seq}}}}}"#
        ));
    }
    let entries = redis.wait_for("tradewire", "3 messages", |e| numbers(e).len() == 3);
    stop(p);
    let k = kinds(&entries);
    assert_eq!(
        k[..5],
        ["connected", "message", "message", "gap", "message"],
        "{k:?}"
    );
    let gap = entries[3].event();
    assert_eq!(
        (&gap["expected"], &gap["received"], &gap["missing"]),
        (&3.into(), &5.into(), &2.into())
    );
}

#[test]
fn a_redis_too_slow_to_answer_is_left_and_the_batch_sent_again_with_the_same_keys() {
    let redis = RedisServer::start(None);
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let p = Proc::spawn(&["bridge", &server.url(), "--to", &redis.url()]);
    redis.wait_for("tradewire", "connected entry", |e| {
        count_kind(e, "connected") == 1
    });
    // Writes wait 7 s: longer than the bridge waits for a reply (5 s).
    let _: () = redis::cmd("CLIENT")
        .arg(&["PAUSE", "7000", "WRITE"])
        .query(&mut redis.conn())
        .unwrap();
    for n in 1..=5 {
        server.broadcast(&message(n, 1));
    }
    let entries = redis.wait_for("tradewire", "5 messages", |e| {
        numbers(e).into_iter().collect::<HashSet<_>>().len() == 5
    });
    let err = stop(p);
    assert!(err.contains("redis: connection lost"), "{err}");
    assert!(err.contains("redis: reconnected to"), "{err}");
    let mut seen = HashSet::new();
    let unique: Vec<Entry> = entries
        .iter()
        .filter(|e| seen.insert(e.get("key").to_string()))
        .cloned()
        .collect();
    // Redis drops a closed connection's paused commands, so here the batch is in the stream
    // once; had it run them, the copies would carry the same keys and be dropped above.
    assert_eq!(numbers(&unique), [1, 2, 3, 4, 5]);
}

#[test]
fn a_batch_redis_ran_but_did_not_acknowledge_is_sent_again_with_the_same_keys() {
    use tradewire_testkit::{FaultProxy, ProxyMode};
    let redis = RedisServer::start(None);
    let proxy = FaultProxy::start(([127, 0, 0, 1], redis.port).into()).unwrap();
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let to = format!("redis://127.0.0.1:{}/0", proxy.port());
    let p = Proc::spawn(&["bridge", &server.url(), "--to", &to]);
    redis.wait_for("tradewire", "connected entry", |e| {
        count_kind(e, "connected") == 1
    });
    // The batch is held on its way to Redis past the bridge's 5 s reply timeout; then Redis
    // gets it (and runs it) on the connection the bridge has left, and the bridge sends it
    // again on its new one.
    proxy.set_mode(ProxyMode::Pause);
    for n in 1..=5 {
        server.broadcast(&message(n, 1));
    }
    let deadline = std::time::Instant::now() + LONG;
    while !p.stderr().contains("redis: connection lost") {
        assert!(std::time::Instant::now() < deadline, "{}", p.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    proxy.set_mode(ProxyMode::Pass);
    // The held batch (at least the first message) is in the stream twice; the messages
    // taken after it may have gone in the next batch, sent once.
    let entries = redis.wait_for("tradewire", "every message, some twice", |e| {
        let n = numbers(e);
        n.iter().collect::<HashSet<_>>().len() == 5 && n.len() > 5
    });
    let err = stop(p);
    assert!(err.contains("redis: reconnected to"), "{err}");
    let messages: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.get("kind") == "message")
        .collect();
    for m in &messages {
        // Every copy of a message is the same event under the same key, in another entry.
        for o in messages
            .iter()
            .filter(|o| o.event()["data"] == m.event()["data"])
        {
            assert_eq!((o.get("key"), o.get("data")), (m.get("key"), m.get("data")));
        }
    }
    let mut seen = HashSet::new();
    let unique: Vec<Entry> = entries
        .into_iter()
        .filter(|e| seen.insert(e.get("key").to_string()))
        .collect();
    assert_eq!(numbers(&unique), [1, 2, 3, 4, 5]);
}
