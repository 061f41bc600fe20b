//! The agent preset (reference 003): JWT in the query, JSON pings answered with pongs,
//! 1008 fatal, "New connection established" means superseded. Against the testkit and
//! against a server on Node's `ws` library.

use std::time::Duration;

use tradewire::{Client, Config, Event, Preset};
use tradewire_testkit::{AgentOptions, AgentServer};

use crate::support::peer::PeerServer;
use crate::support::{eventually, expect_kind, quick, wait_for, SOON};

fn server() -> AgentServer {
    AgentServer::start(AgentOptions {
        ping_interval: Duration::from_millis(200),
        ..AgentOptions::default()
    })
    .unwrap()
}

fn agent_client(url: String, token: &str, agent: &str) -> Client {
    Client::connect(quick(
        Config::new(url)
            .preset(Preset::Agent)
            .token(token)
            .query("agentId", agent),
    ))
    .unwrap()
}

#[test]
fn receives_initial_data_and_answers_pings() {
    let server = server();
    let token = server.token_for("user-1");
    let client = agent_client(server.url(), &token, "agent-1");
    let ev = expect_kind(&client, "connected", SOON);
    let Event::Connected { url, .. } = ev else {
        unreachable!()
    };
    assert!(
        !url.contains(&token),
        "the token never appears in events: {url}"
    );
    let (ev, _) = wait_for(&client, SOON, |e| {
        e.as_message().and_then(|m| m.msg_type()) == Some("initial_data")
    });
    assert!(ev.is_some());
    assert!(
        eventually(SOON, || server.pongs_received() >= 3),
        "pongs: {}",
        server.pongs_received()
    );
    assert!(server
        .received()
        .iter()
        .any(|m| m.contains("\"type\":\"pong\"") && m.contains("\"timestamp\"")));
    // Several ping intervals later, the server has not dropped us for missing pongs.
    std::thread::sleep(Duration::from_millis(600));
    assert!(client.status().connected);
    assert_eq!(client.status().epoch, 1);
}

#[test]
fn unknown_agent_is_fatal() {
    let server = server();
    let client = agent_client(server.url(), &server.token_for("u"), "no-such-agent");
    let Event::GaveUp { reason } = expect_kind(&client, "gave_up", SOON) else {
        unreachable!()
    };
    assert!(
        reason.contains("1008") && reason.contains("Agent not found"),
        "{reason}"
    );
}

#[test]
fn superseded_connection_does_not_fight_back() {
    let server = server();
    let token = server.token_for("u");
    let first = agent_client(server.url(), &token, "agent-1");
    expect_kind(&first, "connected", SOON);
    // The server answers the handshake before it registers the agent's connection; its
    // `connected` message comes after, so once the client has it the second connection
    // supersedes this one, not the other way round.
    let (greeting, _) = wait_for(&first, SOON, |e| {
        e.as_message().and_then(|m| m.msg_type()) == Some("connected")
    });
    assert!(greeting.is_some(), "the server's connected message");
    let second = agent_client(server.url(), &token, "agent-1");
    expect_kind(&second, "connected", SOON);
    let Event::GaveUp { reason } = expect_kind(&first, "gave_up", SOON) else {
        unreachable!()
    };
    assert!(reason.contains("superseded"), "{reason}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        second.status().connected,
        "the newer connection keeps its place"
    );
    assert_eq!(second.status().epoch, 1);
}

#[test]
fn node_ws_agent_server() {
    let Some(peer) = PeerServer::node(
        "agent_server.js",
        &["--port", "0", "--ping-ms", "200", "--agents", "a1"],
    ) else {
        return;
    };
    let client = agent_client(peer.url("/ws"), "test-token", "a1");
    expect_kind(&client, "connected", SOON);
    let (ev, _) = wait_for(&client, SOON, |e| {
        e.as_message().and_then(|m| m.msg_type()) == Some("initial_data")
    });
    assert!(ev.is_some());
    assert!(eventually(SOON, || peer.pongs() >= 2));
    client
        .send_json(&serde_json::json!({"type": "subscribe", "agentId": "a1"}))
        .unwrap();
    assert!(eventually(SOON, || peer
        .received()
        .iter()
        .any(|m| m.contains("subscribe"))));
    let bad = agent_client(peer.url("/ws"), "wrong-token", "a1");
    let Event::GaveUp { reason } = expect_kind(&bad, "gave_up", SOON) else {
        unreachable!()
    };
    assert!(reason.contains("1008"), "{reason}");
}
