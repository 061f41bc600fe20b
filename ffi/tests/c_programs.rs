//! The C programs of `tests/c`, built against libtradewire with `-Wall -Wextra -Werror
//! -pedantic` and ASan + UBSan, run against testkit servers started here; one scenario also
//! runs under valgrind (built without sanitizers), and the header is compiled as C++17.
//!
//! Each program checks the API from C and exits 0 when every check passed; the tests here
//! drive the servers (events, restarts) and check what the programs printed.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{program, start, Finished, Flavor, PROGRAM_TIMEOUT};
use tradewire_testkit::{DaemonServer, ServerOptions, WsServer};

/// Generous bound for a server-side condition (a connection, a message) on a busy machine.
const SOON: Duration = Duration::from_secs(20);

const VERSION: &str = env!("CARGO_PKG_VERSION");

#[test]
fn header_compiles_as_cpp17_and_links() {
    let exe = program("header_cpp", Flavor::Cxx);
    start(&exe, &[VERSION], &[])
        .finish(PROGRAM_TIMEOUT)
        .assert_success("header_cpp");
}

#[test]
fn api_without_a_server_bad_config_null_arguments_and_closed_client() {
    let exe = program("api_basics", Flavor::Sanitized);
    let done = start(&exe, &[VERSION], &[]).finish(PROGRAM_TIMEOUT);
    done.assert_success("api_basics");
    assert!(done
        .stdout
        .iter()
        .any(|l| l.starts_with("bad json: invalid configuration")));
}

/// Who reads the socket in the events scenario.
#[derive(Clone, Copy)]
enum Reads {
    /// The I/O thread (`inline_reads` off).
    Thread,
    /// The thread waiting for events (`inline_reads`).
    Inline,
    /// The same, polling without sleeping while the feed is active (`busy_poll`).
    Spinning,
}

/// The events scenario: messages for the account and for none pass, others are filtered.
fn events_filtered(flavor: Flavor, wrapper: &[String], reads: Reads) -> Finished {
    let exe = program("events_filtered", flavor);
    let daemon = DaemonServer::start().expect("start the daemon server");
    let url = daemon.url();
    let mut args = vec![url.as_str(), "123"];
    match reads {
        Reads::Thread => {}
        Reads::Inline => args.push("inline"),
        Reads::Spinning => args.push("spin"),
    }
    let running = start(&exe, &args, wrapper);
    assert!(
        daemon.wait_for_connections(1, SOON),
        "the C client did not connect"
    );
    daemon.trigger_event("Position", Some(123), json!({"symbol": "ES", "qty": 1}));
    daemon.trigger_event("Position", Some(456), json!({"symbol": "NQ", "qty": 2}));
    daemon.trigger_event(
        "SystemNotice",
        None,
        json!({"text": "maintenance at 22:00"}),
    );
    daemon.trigger_event("Fill", Some(123), json!({"price": 5012.25}));
    daemon.trigger_event("Fill", Some(456), json!({"price": 1.0}));
    daemon.trigger_event("done", Some(123), json!({}));
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("events_filtered");
    assert_eq!(done.value("types"), Some("Position,SystemNotice,Fill,done"));
    let status: serde_json::Value =
        serde_json::from_str(done.value("status").expect("status line")).expect("status JSON");
    assert_eq!(status["filtered"], 2, "{status}");
    assert_eq!(status["state"], "live", "{status}");
    let messages: Vec<_> = done
        .events()
        .into_iter()
        .filter(|e| e["kind"] == "message")
        .collect();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[0]["data"], json!({"symbol": "ES", "qty": 1}));
    assert_eq!(
        messages[0]["account_id"], 123,
        "the daemon sends the integer 123"
    );
    assert_eq!(messages[1]["account_id"], serde_json::Value::Null);
    done
}

#[test]
fn events_are_received_and_filtered_by_account() {
    events_filtered(Flavor::Sanitized, &[], Reads::Thread);
}

#[test]
fn events_are_received_and_filtered_with_inline_reads() {
    events_filtered(Flavor::Sanitized, &[], Reads::Inline);
}

#[test]
fn events_are_received_and_filtered_by_a_busy_polling_receiver() {
    events_filtered(Flavor::Sanitized, &[], Reads::Spinning);
}

#[test]
fn reconnects_after_the_server_restarts_and_on_demand() {
    let exe = program("reconnect", Flavor::Sanitized);
    let daemon = DaemonServer::start().expect("start the daemon server");
    let url = daemon.url();
    let running = start(&exe, &[&url], &[]);
    assert!(
        daemon.wait_for_connections(1, SOON),
        "the C client did not connect"
    );
    daemon.stop();
    daemon
        .restart()
        .expect("restart the server on the same port");
    assert!(
        daemon.wait_for_connections(1, SOON),
        "the C client did not reconnect"
    );
    daemon.trigger_event("after_restart", None, json!({"n": 1}));
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("reconnect");
    let kinds: Vec<String> = done
        .events()
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("?").to_string())
        .collect();
    let first_disconnect = kinds
        .iter()
        .position(|k| k == "disconnected")
        .expect("a disconnected event");
    let second_connect = kinds
        .iter()
        .rposition(|k| k == "connected")
        .expect("connected again");
    assert!(first_disconnect < second_connect, "{kinds:?}");
}

/// After `gave_up` the stream ends (`TW_CLOSED` once drained, at once even without a time
/// limit) and `tw_client_reconnect` starts a new one; `tw_last_error` is cleared by the next
/// successful call on the thread (the program checks both).
#[test]
fn gave_up_ends_the_stream_and_reconnect_starts_a_new_one() {
    let exe = program("gave_up", Flavor::Sanitized);
    let daemon = DaemonServer::start().expect("start the daemon server");
    let url = daemon.url();
    let running = start(&exe, &[&url], &[]);
    assert!(
        daemon.wait_for_connections(1, SOON),
        "the C client did not connect"
    );
    daemon.stop();
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("gave_up");
    assert_eq!(done.value("streams"), Some("2"));
    let kinds: Vec<String> = done
        .events()
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("?").to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "connected",
            "disconnected",
            "reconnecting",
            "gave_up",
            "reconnecting",
            "gave_up"
        ],
        "{kinds:?}"
    );
}

#[test]
fn close_from_another_thread_wakes_a_blocked_next_event() {
    let exe = program("close_blocked", Flavor::Sanitized);
    let server = WsServer::start(ServerOptions::default()).expect("start the server");
    let url = server.url();
    let done = start(&exe, &[&url], &[]).finish(PROGRAM_TIMEOUT);
    done.assert_success("close_blocked");
    let timings: Vec<&String> = done
        .stdout
        .iter()
        .filter(|l| l.contains("after the close"))
        .collect();
    assert_eq!(timings.len(), 4, "{:?}", done.stdout);
    for line in timings {
        eprintln!("close_blocked: {line}");
    }
}

#[test]
fn next_events_takes_queued_events_in_full_batches_in_order() {
    let exe = program("next_events", Flavor::Sanitized);
    let server = WsServer::start(ServerOptions::default()).expect("start the server");
    let running = start(&exe, &[&server.url(), "200", "16"], &[]);
    assert!(
        server.wait_for_connections(1, SOON),
        "the C client did not connect"
    );
    for seq in 0..200 {
        server.broadcast(&tradewire_testkit::events::sequenced(seq, None));
    }
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("next_events");
    assert_eq!(done.value("first_batch"), Some("16"));
    let batches: usize = done
        .value("batches")
        .and_then(|b| b.parse().ok())
        .expect("batches line");
    // 200 messages in batches of at most 16: 13 when every batch is full (each is, since
    // all were queued first).
    assert_eq!(batches, 13, "{:?}", done.stdout);
}

/// Runs the event-loop program `name` (`ready_fd`, `loop_reads`) against 3,000 sequenced
/// messages sent in bursts with pauses (the loop finds events queued, and waits for the
/// next burst); the program checks each arrives once, in order, and the end after close.
/// Returns its `counter` line's value.
fn run_event_loop_program(name: &str, counter: &str) -> u64 {
    let exe = program(name, Flavor::Sanitized);
    let server = WsServer::start(ServerOptions::default()).expect("start the server");
    let running = start(&exe, &[&server.url(), "3000"], &[]);
    assert!(
        server.wait_for_connections(1, SOON),
        "the C client did not connect"
    );
    for burst in 0..30 {
        for seq in burst * 100..(burst + 1) * 100 {
            server.broadcast(&tradewire_testkit::events::sequenced(seq, None));
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success(name);
    done.value(counter)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no {counter} line: {:?}", done.stdout))
}

#[test]
fn a_loop_that_reads_the_socket_itself_gets_every_event_once_and_sees_the_end() {
    let lent = run_event_loop_program("loop_reads", "lent");
    assert!(lent >= 1, "the loop never held the connection");
}

#[test]
fn a_poll_loop_on_the_ready_fd_gets_every_event_once_and_sees_the_end() {
    let waits = run_event_loop_program("ready_fd", "waits");
    assert!(waits >= 1, "the loop never waited on the fd");
}

#[test]
fn callback_receives_every_event_on_a_library_thread() {
    let exe = program("callback", Flavor::Sanitized);
    let daemon = DaemonServer::start().expect("start the daemon server");
    let url = daemon.url();
    let running = start(&exe, &[&url, "25"], &[]);
    assert!(
        daemon.wait_for_connections(1, SOON),
        "the C client did not connect"
    );
    for seq in 0..25 {
        daemon.trigger_event("tick", None, json!({"seq": seq}));
    }
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("callback");
    let kept: serde_json::Value =
        serde_json::from_str(done.value("kept").expect("kept line")).expect("JSON");
    assert_eq!(kept["data"], json!({"seq": 0}));
}

/// `tw_client_disconnect` sends the application's close code and reason, the client stays
/// down, and `tw_client_start` connects again (the program checks the events and states).
#[test]
fn disconnect_closes_with_the_code_and_start_connects_again() {
    let exe = program("disconnect", Flavor::Sanitized);
    let server = WsServer::start(ServerOptions::default()).expect("start the server");
    let running = start(&exe, &[&server.url()], &[]);
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("disconnect");
    assert!(server
        .closes_received()
        .contains(&(Some(4001), "end of session".to_string())));
    assert_eq!(server.accepted_total(), 2);
}

/// `tw_client_wait_live`: live, each failure's reason from `tw_last_error_reason()`, and live
/// once the refused server appears.
#[test]
fn listeners_are_called_for_their_kinds_in_order_and_removed_for_good() {
    let exe = program("listeners", Flavor::Sanitized);
    let daemon = DaemonServer::start().expect("start the daemon server");
    let url = daemon.url();
    let mut running = start(&exe, &[&url, "20"], &[]);
    assert!(
        daemon.wait_for_connections(1, SOON),
        "the C client did not connect"
    );
    for seq in 0..20 {
        daemon.trigger_event("tick", None, json!({"seq": seq}));
    }
    running.wait_for_line(SOON, |l| l == "removed");
    for seq in 0..5 {
        daemon.trigger_event("tock", None, json!({"seq": seq}));
    }
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("listeners");
}

#[test]
fn create_close_cycles_leave_nothing_behind() {
    let exe = program("lifecycle", Flavor::Plain);
    let server = WsServer::start(ServerOptions::default()).expect("start the server");
    let running = start(&exe, &[&server.url()], &[]);
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("lifecycle");
}

#[test]
fn json_client_frames_sending_and_request_error() {
    let exe = program("send_request", Flavor::Sanitized);
    let server = WsServer::start(ServerOptions::default()).expect("start the server");
    let url = server.url();
    let running = start(&exe, &[&url], &[]);
    assert!(
        server.wait_for_connections(1, SOON),
        "the C client did not connect"
    );
    server.broadcast("plain text");
    server.broadcast("x\0y");
    server.broadcast_binary(&[0x00, 0x01, 0x02, 0xff]);
    let request = server
        .wait_for_received(|m| m.contains(r#""method":"c""#), SOON)
        .expect("the JSON request reached the server");
    let id = serde_json::from_str::<serde_json::Value>(&request).expect("JSON")["id"].clone();
    server.broadcast(&format!(r#"{{"id":{id},"answered":true}}"#));
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("send_request");
    assert!(
        server
            .wait_for_received(|m| m == "hello from C", SOON)
            .is_some(),
        "the server did not receive the text; it got {:?}",
        server.received()
    );
    let request = done
        .stdout
        .iter()
        .find(|l| l.starts_with("request: "))
        .expect("request line");
    assert!(request.starts_with("request: TW_ERR_USAGE: "), "{request}");
}

#[test]
fn valgrind_finds_no_leak_or_memory_error() {
    if std::env::var_os("TRADEWIRE_SKIP_VALGRIND").is_some() {
        eprintln!("valgrind run skipped (TRADEWIRE_SKIP_VALGRIND is set)");
        return;
    }
    let suppressions = support::workspace().join("tests/c/valgrind.supp");
    let wrapper: Vec<String> = vec![
        "valgrind".into(),
        "--leak-check=full".into(),
        "--show-leak-kinds=definite,indirect,possible".into(),
        "--errors-for-leak-kinds=definite,indirect,possible".into(),
        "--error-exitcode=1".into(),
        format!("--suppressions={}", suppressions.display()),
    ];
    let available = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        available,
        "valgrind is not installed (set TRADEWIRE_SKIP_VALGRIND=1 to skip this test)"
    );
    let done = events_filtered(Flavor::Plain, &wrapper, Reads::Inline);
    assert!(
        done.stderr.contains("ERROR SUMMARY: 0 errors"),
        "{}",
        done.stderr
    );
}

#[test]
fn listen_example_prints_json_lines_and_exits_cleanly_on_sigint() {
    let exe = support::example("listen");
    let daemon = DaemonServer::start().expect("start the daemon server");
    let url = daemon.url();
    let mut running = start(&exe, &["daemon", "7", &url], &[]);
    assert!(
        daemon.wait_for_connections(1, SOON),
        "listen did not connect"
    );
    daemon.trigger_event("Balance", Some(7), json!({"cash": 1000}));
    daemon.trigger_event("Balance", Some(8), json!({"cash": 5}));
    daemon.trigger_event("Last", Some(7), json!({}));
    running.wait_for_line(SOON, |l| l.contains(r#""type":"Last""#));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &running.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("listen");
    let messages: Vec<_> = done
        .events()
        .into_iter()
        .filter(|e| e["kind"] == "message")
        .collect();
    assert_eq!(messages.len(), 2, "{:?}", done.stdout);
    assert_eq!(messages[0]["data"], json!({"cash": 1000}));
    assert!(messages.iter().all(|m| m["account_id"] == 7));
}

/// The server's JSON reaches C unchanged: `tw_event_data_json` has the original digits of
/// integers beyond 64 bits and of floats out of range, at any depth; the account keeps its
/// JSON type in `tw_event_account_id_json` (and in `tw_event_to_json`) while
/// `tw_event_account_id` stays the plain text.
#[test]
fn json_values_reach_c_unchanged() {
    let exe = program("json_values", Flavor::Sanitized);
    let server = WsServer::start(ServerOptions::default()).expect("start the server");
    let url = server.url();
    let big = "123456789012345678901234567890";
    let deep = format!(
        "{}-18446744073709551617{}",
        "[".repeat(1000),
        "]".repeat(1000)
    );
    // (frame, tw_event_account_id, tw_event_account_id_json, tw_event_data_json)
    let frames: Vec<[String; 4]> = vec![
        [
            format!(
                r#"{{"type":"t","account_id":{big},"data":{{"id":{big},"f":[0.1,1e400,5e-324]}}}}"#
            ),
            big.into(),
            big.into(),
            format!(r#"{{"id":{big},"f":[0.1,1e400,5e-324]}}"#),
        ],
        [
            r#"{"type":"t","account_id":123,"data":{}}"#.into(),
            "123".into(),
            "123".into(),
            "{}".into(),
        ],
        [
            r#"{"type":"t","account_id":"123","data":{}}"#.into(),
            "123".into(),
            r#""123""#.into(),
            "{}".into(),
        ],
        [
            r#"{"type":"t","account_id":"A\u0042\"C","data":{"s":"\ud800"}}"#.into(),
            r#"AB"C"#.into(),
            r#""AB\"C""#.into(),
            r#"{"s":"\ud800"}"#.into(),
        ],
        [
            format!(r#"{{"type":"t","data":{deep}}}"#),
            "NULL".into(),
            "NULL".into(),
            deep.clone(),
        ],
    ];
    let count = frames.len().to_string();
    let running = start(&exe, &[url.as_str(), count.as_str()], &[]);
    assert!(
        server.wait_for_connections(1, SOON),
        "the C client did not connect"
    );
    for f in &frames {
        server.broadcast(&f[0]);
    }
    let done = running.finish(PROGRAM_TIMEOUT);
    done.assert_success("json_values");
    let printed = |key: &str| -> Vec<String> {
        let prefix = format!("{key}=");
        done.stdout
            .iter()
            .filter_map(|l| l.strip_prefix(prefix.as_str()).map(str::to_string))
            .collect()
    };
    let column = |i: usize| -> Vec<String> { frames.iter().map(|f| f[i].clone()).collect() };
    assert_eq!(printed("account"), column(1));
    assert_eq!(printed("account_json"), column(2));
    assert_eq!(printed("data"), column(3));
    // tw_event_to_json: the account keeps its type, the data its digits (compared as text:
    // serde_json::Value would read neither the lone surrogate nor 1,000 levels).
    let lines: Vec<&String> = done
        .stdout
        .iter()
        .filter(|l| l.starts_with(r#"{"kind":"message""#))
        .collect();
    assert_eq!(lines.len(), frames.len());
    for (line, f) in lines.iter().zip(&frames) {
        let account = if f[2] == "NULL" { "null" } else { &f[2] };
        let expected = format!(r#""account_id":{account},"#);
        assert!(line.contains(&expected), "{expected} in {line:.300}");
        assert!(
            line.contains(&format!(r#""data":{},"#, f[3])),
            "{line:.300}"
        );
    }
}

/// The C part of the secret-canary suite (tests/rust/secrets.rs has the rest): a server that
/// refuses the handshake with a body echoing the request (token header and query parameter),
/// and a bad configuration holding the same secrets. Nothing the C API hands out may hold an
/// 8-character run of any form of any secret.
#[test]
fn no_secret_reaches_a_c_string() {
    use tradewire_testkit::canary::{assert_no_leak, HttpScript};
    const BEARER: &str = "tok+Bear/er=3%&!' z";
    const QUERY_TOKEN: &str = "qry+Que/ry=4%&!' q";
    let server = HttpScript::start(|req, _| (401, format!("you sent:\n{req}\r\nforged\x1b[2J")))
        .expect("start the echoing server");
    let config = json!({
        "url": format!("{}/ws", server.ws_url()),
        "token": BEARER,
        "query": {"api_token": QUERY_TOKEN},
        "reconnect": false,
    })
    .to_string();
    let bad = json!({
        "url": format!("ws://h/?token={}", QUERY_TOKEN.replace(' ', "+")),
        "token": BEARER,
        "jitter": "lots",
    })
    .to_string();
    let exe = program("secrets", Flavor::Sanitized);
    let done = start(&exe, &[&config, &bad], &[]).finish(PROGRAM_TIMEOUT);
    done.assert_success("secrets");
    assert!(server.requests() >= 1, "the server was reached");
    let printed: Vec<String> = done.stdout.clone();
    assert!(
        printed.iter().any(|l| l.contains("<redacted>")),
        "the echo reached the program: {printed:?}"
    );
    assert_no_leak(
        printed.iter(),
        &[BEARER.to_string(), QUERY_TOKEN.to_string()],
    );
    assert!(
        !printed.iter().any(|l| l.contains('\x1b')),
        "server text unescaped: {printed:?}"
    );
}

/// The `proxy` field from C's JSON configuration (issue 22): a proxy that refuses CONNECT with
/// 407 and echoes the request (its Basic credentials); the refusal is fatal (the program
/// waits for `gave_up`), and no C string holds the proxy's password in any form.
#[test]
fn a_proxy_from_c_json_and_its_password_never_reaches_a_c_string() {
    use tradewire_testkit::canary::{assert_no_leak, HttpScript};
    const PASSWORD: &str = "prx+Pass/wd=6%&!' c";
    let proxy = HttpScript::start(|req, _| (407, format!("you sent:\n{req}\r\nforged\x1b[2J")))
        .expect("start the echoing proxy");
    let encoded = tradewire_testkit::canary::percent_encode_all(PASSWORD);
    let proxy_url = format!("http://desk:{encoded}@127.0.0.1:{}", proxy.port());
    let config = json!({
        "url": "ws://127.0.0.1:9/feed",
        "proxy": proxy_url,
    })
    .to_string();
    let bad = json!({"url": "ws://h/", "proxy": proxy_url, "jitter": "lots"}).to_string();
    let exe = program("secrets", Flavor::Sanitized);
    let done = start(&exe, &[&config, &bad], &[]).finish(PROGRAM_TIMEOUT);
    done.assert_success("secrets");
    assert!(proxy.requests() >= 1, "the proxy was reached");
    let printed: Vec<String> = done.stdout.clone();
    assert!(
        printed.iter().any(|l| l.contains("407")),
        "the refusal reached the program: {printed:?}"
    );
    assert_no_leak(printed.iter(), &[PASSWORD.to_string(), encoded]);
}
