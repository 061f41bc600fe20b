//! Daemon, agent and breakout servers speaking their reference wire formats.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tradewire_testkit::{
    events, AgentOptions, AgentServer, BreakoutOptions, BreakoutServer, DaemonServer,
};
use tungstenite::Message;

#[test]
fn daemon_broadcasts_events() {
    let daemon = DaemonServer::start().unwrap();
    let mut ws = connect(&format!("{}/", daemon.url())).unwrap();
    assert!(daemon.wait_for_connections(1, SOON));

    daemon.trigger_event(
        "GatewayUserTrade",
        Some(123),
        json!({"profitAndLoss": -45.5}),
    );
    daemon.trigger_event("daemon_status", None, json!({"status": "RUNNING"}));
    daemon.broadcast(&events::daemon_status("STOPPING"));
    let trade = read_json(&mut ws).unwrap();
    assert_eq!(trade["type"], "GatewayUserTrade");
    assert_eq!(trade["account_id"], 123);
    assert_eq!(trade["data"]["profitAndLoss"], -45.5);
    let status = read_json(&mut ws).unwrap();
    assert!(status["account_id"].is_null());
    let stopping = read_json(&mut ws).unwrap();
    assert_eq!(stopping["data"]["status"], "STOPPING");

    // Deref gives the full WsServer; start_on takes a fixed port.
    let port = daemon.port();
    drop(ws);
    drop(daemon);
    let again = DaemonServer::start_on(port).unwrap();
    assert_eq!(again.server.port(), port);
}

fn agent_server(ping_interval: Duration) -> AgentServer {
    AgentServer::start(AgentOptions {
        agents: vec!["agent-1".into(), "agent-2".into()],
        ping_interval,
        ..AgentOptions::default()
    })
    .unwrap()
}

#[test]
fn agent_connect_sends_connected_and_initial_data() {
    let server = agent_server(Duration::from_secs(30));
    let token = server.token_for("user-1");
    assert_eq!(token.split('.').count(), 3);
    let url = server.url_for(&token, "agent-1");
    assert!(url.contains("/ws?token="));
    let mut ws = connect(&url).unwrap();

    let connected = read_json(&mut ws).unwrap();
    assert_eq!(connected["type"], "connected");
    assert_eq!(connected["data"]["agentId"], "agent-1");
    assert!(connected["data"]["timestamp"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    let initial = read_json(&mut ws).unwrap();
    assert_eq!(initial["type"], "initial_data");
    assert_eq!(initial["data"]["positions"].as_array().unwrap().len(), 2);

    assert!(server.is_agent_connected("agent-1"));
    assert!(server.position_update(
        "agent-1",
        json!({"eventType": "position_closed", "positionId": "p1"})
    ));
    assert!(server.price_update_batch(
        "agent-1",
        json!([{"tokenAddress": "t", "price": 1.5, "priceUsd": 2.0}])
    ));
    assert!(!server.position_update("agent-2", json!({})));
    let update = read_json(&mut ws).unwrap();
    assert_eq!(update["type"], "position_update");
    assert_eq!(update["data"]["positionId"], "p1");
    let prices = read_json(&mut ws).unwrap();
    assert_eq!(prices["type"], "price_update_batch");
    assert_eq!(prices["data"]["updates"][0]["price"], 1.5);
}

#[test]
fn agent_rejects_bad_tokens_and_unknown_agents() {
    let server = agent_server(Duration::from_secs(30));
    let forged = AgentServer::start(AgentOptions {
        secret: "other-secret".into(),
        ..AgentOptions::default()
    })
    .unwrap()
    .token_for("user-1");
    for url in [
        server.url_for(&forged, "agent-1"),
        server.url_for("garbage", "agent-1"),
        format!("{}?agentId=agent-1", server.url()),
    ] {
        let mut ws = connect(&url).unwrap();
        assert_eq!(read_close(&mut ws), Some((1008, "Invalid token".into())));
    }
    let mut ws = connect(&server.url_for(&server.token_for("u"), "agent-9")).unwrap();
    assert_eq!(read_close(&mut ws), Some((1008, "Agent not found".into())));
    assert_eq!(server.connection_count(), 0);
    assert_eq!(server.accepted_total(), 4);
}

#[test]
fn agent_new_connection_supersedes_old_one() {
    let server = agent_server(Duration::from_secs(30));
    let url = server.url_for(&server.token_for("user-1"), "agent-1");
    let mut old = connect(&url).unwrap();
    assert_eq!(read_json(&mut old).unwrap()["type"], "connected");
    let mut other_agent = connect(&server.url_for(&server.token_for("u"), "agent-2")).unwrap();
    assert_eq!(read_json(&mut other_agent).unwrap()["type"], "connected");

    let mut new = connect(&url).unwrap();
    assert_eq!(read_json(&mut new).unwrap()["type"], "connected");
    assert_eq!(
        read_close(&mut old),
        Some((1000, "New connection established".into()))
    );
    assert!(server.wait_for_at_most(2, SOON));
    assert!(server.position_update("agent-1", json!({"eventType": "position_updated"})));
    assert_eq!(read_json(&mut new).unwrap()["type"], "initial_data");
    assert_eq!(read_json(&mut new).unwrap()["type"], "position_update");
}

#[test]
fn agent_pings_counts_pongs_and_times_out_silent_clients() {
    let server = agent_server(Duration::from_millis(100));
    let token = server.token_for("user-1");

    // A client that answers pings stays connected.
    let mut polite = connect(&server.url_for(&token, "agent-1")).unwrap();
    // A client that never answers is closed with "Connection timeout".
    let mut mute = connect(&server.url_for(&token, "agent-2")).unwrap();

    let mut pings = 0;
    while pings < 4 {
        let message = read_json(&mut polite).expect("message");
        if message["type"] == "ping" {
            assert!(message["timestamp"].is_string());
            pings += 1;
            let pong = json!({"type": "pong", "timestamp": message["timestamp"]});
            polite.send(Message::text(pong.to_string())).unwrap();
        }
    }
    assert!(eventually(|| server.pongs_received() >= 4));
    assert!(server.is_agent_connected("agent-1"));

    let mut seen: Vec<Value> = Vec::new();
    let close = loop {
        match mute.read() {
            Ok(Message::Text(t)) => seen.push(serde_json::from_str(t.as_str()).unwrap()),
            Ok(Message::Close(frame)) => {
                break frame.map(|f| (u16::from(f.code), f.reason.to_string()))
            }
            Ok(_) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    };
    assert_eq!(close, Some((1000, "Connection timeout".to_string())));
    assert!(seen.iter().any(|m| m["type"] == "ping"));
    assert!(!server.is_agent_connected("agent-2"));
}

#[test]
fn agent_wrong_path_is_404() {
    let server = agent_server(Duration::from_secs(30));
    let url = server
        .url_for(&server.token_for("u"), "agent-1")
        .replace("/ws?", "/other?");
    assert_eq!(connect(&url).err().as_deref(), Some("http 404"));
}

#[test]
fn breakout_heartbeats_and_publishes() {
    let server = BreakoutServer::start(BreakoutOptions {
        heartbeat_interval: Duration::from_millis(100),
        ..BreakoutOptions::default()
    })
    .unwrap();
    assert!(server.url().ends_with("/ws/"));
    let mut ws = connect(&server.url()).unwrap();
    let first = read_json(&mut ws).unwrap();
    assert_eq!(first["type"], "HEARTBEAT");
    assert!(first["ts"].as_u64().unwrap() > 1_700_000_000_000);
    assert!(first["data"]["latency_ms"].is_f64());
    assert!(first["data"]["server_time"].is_u64());

    let second = read_json(&mut ws).unwrap();
    assert_eq!(second["type"], "HEARTBEAT");

    assert!(server.wait_for_connections(1, SOON));
    server.publish("ENGINE_UPDATE", json!({"state": "RUNNING"}));
    let update = loop {
        let message = read_json(&mut ws).unwrap();
        if message["type"] != "HEARTBEAT" {
            break message;
        }
    };
    assert_eq!(update["type"], "ENGINE_UPDATE");
    assert_eq!(update["data"]["state"], "RUNNING");
    assert!(update["ts"].is_u64());
}
