//! Subscriptions that survive reconnects, against a server nobody here wrote (Python
//! `websockets`, tests/peers/recording_server.py) that records what each connection received.

use std::time::Duration;

use tradewire::{Client, Config, ErrorKind, Event, Preset, Subscription};

use crate::support::peer::PeerServer;
use crate::support::{eventually, expect_kind, quick, wait_for, SOON};

fn recorder(args: &[&str]) -> Option<PeerServer> {
    let mut all = vec!["--port", "0"];
    all.extend_from_slice(args);
    PeerServer::python("recording_server.py", &all)
}

/// What each connection received so far, in accept order.
fn connections(peer: &PeerServer) -> Vec<Vec<String>> {
    let reply = peer.command(r#"{"cmd":"connections"}"#);
    let json = reply
        .strip_prefix("CONNECTIONS ")
        .unwrap_or_else(|| panic!("unexpected reply {reply:?}"));
    serde_json::from_str(json).expect("a JSON array of arrays")
}

/// Waits until connection `i` has received `n` messages; returns them.
fn received_on(peer: &PeerServer, i: usize, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    eventually(SOON, || {
        got = connections(peer).get(i).cloned().unwrap_or_default();
        got.len() >= n
    });
    got
}

fn plain_client(peer: &PeerServer, backoff: Option<Duration>) -> Client {
    let mut config = quick(Config::new(peer.url("")).on_connect("OC"));
    if let Some(b) = backoff {
        config = config.backoff_initial(b).backoff_max(b);
    }
    Client::new(config).expect("valid config")
}

fn connected(client: &Client, epoch: u64) {
    let (ev, seen) = wait_for(
        client,
        SOON,
        |e| matches!(e, Event::Connected { epoch: got, .. } if *got == epoch),
    );
    assert!(ev.is_some(), "no connection {epoch}; saw {seen:#?}");
}

#[test]
fn after_a_drop_the_new_connection_gets_on_connect_then_the_live_set_in_order() {
    let Some(peer) = recorder(&[]) else { return };
    let client = plain_client(&peer, None);
    client.start().unwrap();
    connected(&client, 1);
    assert_eq!(client.subscribe("A").unwrap(), "A");
    client
        .subscribe(Subscription::message("B").key("b").unsubscribe("unsub B"))
        .unwrap();
    client.subscribe("C").unwrap();
    assert!(client.unsubscribe("b").unwrap());
    assert!(!client.unsubscribe("b").unwrap(), "already gone");
    // Subscribing A again while live sends nothing.
    client.subscribe("A").unwrap();
    let first = received_on(&peer, 0, 5);
    assert_eq!(first, ["OC", "A", "B", "C", "unsub B"]);
    let keys: Vec<_> = client.subscriptions().into_iter().map(|s| s.key).collect();
    assert_eq!(keys, ["A", "C"]);

    assert_eq!(peer.command(r#"{"cmd":"drop"}"#), "OK 1");
    connected(&client, 2);
    // The application's first message on the new connection follows the subscriptions.
    client.send_text("app").unwrap();
    let second = received_on(&peer, 1, 4);
    assert_eq!(second, ["OC", "A", "C", "app"]);
    let all = connections(&peer);
    let unsubs = all.iter().flatten().filter(|m| *m == "unsub B").count();
    assert_eq!(unsubs, 1, "{all:?}");
    assert_eq!(all[0], first, "nothing more on the old connection");
    let status = client.status();
    assert_eq!(status.subscriptions, 2);
    assert!(status.subscriptions_replayed >= 2, "{status:?}");
}

#[test]
fn a_change_made_in_backoff_is_applied_once_to_the_new_connection() {
    let Some(peer) = recorder(&[]) else { return };
    let client = plain_client(&peer, Some(Duration::from_millis(500)));
    client.start().unwrap();
    connected(&client, 1);
    client
        .subscribe(Subscription::message("A").unsubscribe("unsub A"))
        .unwrap();
    client.subscribe("C").unwrap();
    assert_eq!(received_on(&peer, 0, 3), ["OC", "A", "C"]);
    peer.command(r#"{"cmd":"drop"}"#);
    expect_kind(&client, "reconnecting", SOON);
    // The client waits to reconnect: changes are recorded, nothing is sent.
    client.subscribe("D").unwrap();
    assert!(client.unsubscribe("A").unwrap());
    client.subscribe("E").unwrap();
    connected(&client, 2);
    client.send_text("app").unwrap();
    assert_eq!(received_on(&peer, 1, 5), ["OC", "C", "D", "E", "app"]);
    let all = connections(&peer);
    assert_eq!(
        all[0],
        ["OC", "A", "C"],
        "nothing went to the dead connection"
    );
    assert!(!all.iter().flatten().any(|m| m == "unsub A"), "{all:?}");
}

#[test]
fn the_registry_outlives_disconnect_and_reconnect_and_ends_with_close() {
    let Some(peer) = recorder(&[]) else { return };
    let client = plain_client(&peer, None);
    // Made before start: sent on the first connection.
    client.subscribe("A").unwrap();
    client.start().unwrap();
    connected(&client, 1);
    client.disconnect(1000, "bye").unwrap();
    client.subscribe("B").unwrap();
    client.resume().unwrap();
    connected(&client, 2);
    client.reconnect().unwrap();
    connected(&client, 3);
    client.send_text("app").unwrap();
    assert_eq!(received_on(&peer, 0, 2), ["OC", "A"]);
    assert_eq!(received_on(&peer, 1, 3), ["OC", "A", "B"]);
    assert_eq!(received_on(&peer, 2, 4), ["OC", "A", "B", "app"]);
    client.close();
    assert!(client.subscriptions().is_empty());
    assert!(client.subscribe("C").is_err());
}

fn tradovate_client(peer: &PeerServer) -> Client {
    let config = quick(Config::new(peer.url("/v1/websocket")).preset(Preset::Tradovate))
        .token("t")
        .on_connect(r#"{"endpoint":"md/subscribeDOM","body":{"symbol":"NQZ5"}}"#);
    Client::new(config).expect("valid config")
}

/// The request id of a frame `endpoint\n<id>\n\n<body>`.
fn id_of(frame: &str) -> u64 {
    frame.split('\n').nth(1).unwrap().parse().unwrap()
}

#[test]
fn tradovate_subscriptions_replay_as_requests_with_new_ids_after_a_drop() {
    let Some(peer) = recorder(&["--tradovate"]) else {
        return;
    };
    let client = tradovate_client(&peer);
    client.start().unwrap();
    expect_kind(&client, "authenticated", SOON);
    let key = client
        .subscribe(
            Subscription::request("md/subscribeQuote", Some(r#"{"symbol":"ESZ5"}"#))
                .unsubscribe_endpoint("md/unsubscribeQuote"),
        )
        .unwrap();
    assert_eq!(key, r#"md/subscribeQuote {"symbol":"ESZ5"}"#);
    let first = received_on(&peer, 0, 3);
    assert!(first[0].starts_with("authorize\n0\n"), "{first:?}");
    assert!(first[1].starts_with("md/subscribeDOM\n"), "{first:?}");
    assert!(first[2].starts_with("md/subscribeQuote\n"), "{first:?}");
    peer.command(r#"{"cmd":"drop"}"#);
    expect_kind(&client, "authenticated", SOON);
    // At once: the connection has its subscriptions before the event says it is live.
    assert!(client.unsubscribe(&key).unwrap());
    let second = received_on(&peer, 1, 4);
    assert!(second[0].starts_with("authorize\n0\n"), "{second:?}");
    assert!(second[1].starts_with("md/subscribeDOM\n"), "{second:?}");
    assert!(second[2].starts_with("md/subscribeQuote\n"), "{second:?}");
    assert!(
        second[2].ends_with("\n\n{\"symbol\":\"ESZ5\"}"),
        "{second:?}"
    );
    assert!(
        id_of(&second[2]) > id_of(&first[2]),
        "a fresh id: {first:?} {second:?}"
    );
    assert!(second[3].starts_with("md/unsubscribeQuote\n"), "{second:?}");
    assert!(
        second[3].ends_with("\n\n{\"symbol\":\"ESZ5\"}"),
        "{second:?}"
    );
    // The answers to subscription requests are checked, not delivered (those of the
    // on_connect requests are, as before).
    let ours = [id_of(&first[2]), id_of(&second[2]), id_of(&second[3])];
    let on_connect = id_of(&second[1]);
    let (ev, seen) = wait_for(
        &client,
        SOON,
        |e| matches!(e, Event::Response { id, .. } if *id == on_connect),
    );
    assert!(ev.is_some(), "{seen:#?}");
    let late = client.recv_timeout(Duration::from_millis(300)).unwrap();
    for e in seen.iter().chain(late.iter()) {
        if let Event::Response { id, .. } = e {
            assert!(!ours.contains(id), "{e:?} (subscription ids {ours:?})");
        }
    }
}

#[test]
fn a_refused_tradovate_subscription_is_a_subscription_failed_error_naming_the_endpoint() {
    let Some(peer) = recorder(&["--tradovate"]) else {
        return;
    };
    peer.command(r#"{"cmd":"refuse","endpoint":"md/subscribeQuote","status":404}"#);
    peer.command(r#"{"cmd":"refuse","endpoint":"md/getChart","error_text":"Symbol is not found"}"#);
    let client = tradovate_client(&peer);
    client.start().unwrap();
    expect_kind(&client, "authenticated", SOON);
    client
        .subscribe(Subscription::request(
            "md/subscribeQuote",
            Some(r#"{"symbol":"NOPE"}"#),
        ))
        .unwrap();
    let (ev, seen) = wait_for(&client, SOON, |e| matches!(e, Event::Error(_)));
    let Some(Event::Error(e)) = ev else {
        panic!("no error; saw {seen:#?}")
    };
    assert_eq!(e.kind, ErrorKind::SubscriptionFailed);
    assert_eq!(e.kind.as_str(), "subscription_failed");
    assert!(e.message.contains("md/subscribeQuote"), "{}", e.message);
    assert!(e.message.contains("404"), "{}", e.message);
    client
        .subscribe(Subscription::request("md/getChart", Some("{}")))
        .unwrap();
    let (ev, _) = wait_for(&client, SOON, |e| matches!(e, Event::Error(_)));
    let Some(Event::Error(e)) = ev else {
        panic!("no error")
    };
    assert!(e.message.contains("md/getChart"), "{}", e.message);
    assert!(e.message.contains("Symbol is not found"), "{}", e.message);
    // Not retried: one request each on this connection.
    let sent = received_on(&peer, 0, 4);
    assert_eq!(sent.len(), 4, "{sent:?}");
    // Still in the live set: sent again after the next reconnect.
    assert_eq!(client.subscriptions().len(), 2);
}

#[test]
fn subscription_requests_are_tradovate_only() {
    let client = Client::new(Config::new("ws://127.0.0.1:9")).unwrap();
    let err = client
        .subscribe(Subscription::request("md/subscribeQuote", None))
        .unwrap_err();
    assert!(err.to_string().contains("tradovate"), "{err}");
    assert!(client.subscriptions().is_empty());
}

#[test]
fn subscribing_while_connections_drop_sends_each_once_per_connection_in_order() {
    let Some(peer) = recorder(&[]) else { return };
    let client = std::sync::Arc::new(plain_client(&peer, None));
    client.start().unwrap();
    connected(&client, 1);
    let n = 300;
    let c = client.clone();
    let subscriber = std::thread::spawn(move || {
        for i in 0..n {
            c.subscribe(format!("k{i}")).unwrap();
        }
    });
    for _ in 0..3 {
        peer.command(r#"{"cmd":"drop"}"#);
        std::thread::sleep(Duration::from_millis(30));
    }
    subscriber.join().unwrap();
    // Wait for a live connection, then mark it with an application message.
    let mut last = 0;
    assert!(eventually(SOON, || {
        if client.send_text("app").is_err() {
            return false;
        }
        let all = connections(&peer);
        match all
            .iter()
            .rposition(|c| c.last().is_some_and(|m| m == "app"))
        {
            Some(i) => {
                last = i;
                true
            }
            None => false,
        }
    }));
    let all = connections(&peer);
    let expected: Vec<String> = std::iter::once("OC".to_string())
        .chain((0..n).map(|i| format!("k{i}")))
        .chain(std::iter::once("app".to_string()))
        .collect();
    let mut got = all[last].clone();
    got.dedup_by(|a, b| a == "app" && b == "app");
    assert_eq!(got, expected, "connection {last} of {}", all.len());
    // Every connection: on_connect, then subscriptions in order, none twice. A connection
    // the server dropped before anything arrived on it has nothing to check.
    for (i, conn) in all.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
        let subs: Vec<u32> = conn
            .iter()
            .filter_map(|m| m.strip_prefix('k').map(|k| k.parse().unwrap()))
            .collect();
        assert!(
            subs.windows(2).all(|w| w[0] < w[1]),
            "connection {i}: {conn:?}"
        );
        assert_eq!(
            conn.first().map(String::as_str),
            Some("OC"),
            "connection {i}"
        );
    }
}

#[test]
fn tradovate_subscriptions_follow_the_sync_request_and_on_connect() {
    use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer};
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let config = crate::tradovate_session::config(&server)
        .on_connect(r#"{"endpoint":"md/subscribeDOM","body":{"symbol":"NQZ5"}}"#);
    let client = Client::new(config).unwrap();
    client
        .subscribe(Subscription::request(
            "md/subscribeQuote",
            Some(r#"{"symbol":"ESZ5"}"#),
        ))
        .unwrap();
    client.start().unwrap();
    expect_kind(&client, "authenticated", SOON);
    let endpoints = || -> Vec<String> { server.requests().into_iter().map(|r| r.0).collect() };
    assert!(eventually(SOON, || endpoints().len() >= 3));
    assert_eq!(
        endpoints(),
        ["user/syncrequest", "md/subscribeDOM", "md/subscribeQuote"]
    );
}

#[test]
fn the_registry_outlives_gave_up() {
    use tradewire_testkit::{ServerOptions, WsServer};
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let config = quick(Config::new(server.url())).max_reconnect_attempts(Some(1));
    let client = Client::new(config).unwrap();
    client.subscribe("A").unwrap();
    client.start().unwrap();
    connected(&client, 1);
    assert!(eventually(SOON, || server.received().len() == 1));
    server.stop();
    expect_kind(&client, "gave_up", SOON);
    client.subscribe("B").unwrap();
    server.restart().unwrap();
    client.reconnect().unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(eventually(SOON, || server.received().len() >= 3));
    assert_eq!(server.received(), ["A", "A", "B"]);
}

#[test]
fn a_caller_cannot_choose_the_id_of_an_unanswered_subscription_request() {
    let Some(peer) = recorder(&["--tradovate"]) else {
        return;
    };
    peer.command(r#"{"cmd":"ignore","endpoint":"md/subscribeQuote"}"#);
    let client = tradovate_client(&peer);
    client.start().unwrap();
    expect_kind(&client, "authenticated", SOON);
    client
        .subscribe(Subscription::request("md/subscribeQuote", Some("{}")))
        .unwrap();
    let sent = received_on(&peer, 0, 3);
    let id = id_of(&sent[2]);
    let err = client
        .send_request_with_id("account/list", None, id)
        .unwrap_err();
    assert_eq!(err.kind(), tradewire::ErrorCategory::Usage, "{err}");
    // A fresh id is taken above it.
    let other = client.send_request("account/list", None).unwrap();
    assert!(other > id);
}
