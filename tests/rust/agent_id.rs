//! `agent_id` (reference 003) is the `agentId` query parameter of the agent preset,
//! percent-encoded, and it wins over an `agentId` already in the URL: the server streams
//! the agent `agent_id` names.

use tradewire::{Client, Config, Event, Preset};
use tradewire_testkit::{AgentOptions, AgentServer};

use crate::support::{expect_kind, quick, wait_for, SOON};

#[test]
fn agent_id_selects_the_agent_and_wins_over_the_url() {
    let server = AgentServer::start(AgentOptions {
        agents: vec!["agent 1/é".into()],
        ..AgentOptions::default()
    })
    .unwrap();
    let token = server.token_for("user-1");
    // The URL names an agent that does not exist (1008 "Agent not found" would be fatal).
    let client = Client::connect(quick(
        Config::new(format!("{}?agentId=nobody", server.url()))
            .preset(Preset::Agent)
            .token(token)
            .agent_id("agent 1/é"),
    ))
    .unwrap();
    let Event::Connected { url, .. } = expect_kind(&client, "connected", SOON) else {
        unreachable!()
    };
    assert!(
        url.ends_with("agentId=agent%201%2F%C3%A9") && !url.contains("nobody"),
        "{url}"
    );
    // The server knows it by its decoded name: it sends that agent's `connected` message.
    let (ev, seen) = wait_for(&client, SOON, |e| {
        e.as_message().and_then(|m| m.msg_type()) == Some("connected")
    });
    let ev = ev.unwrap_or_else(|| panic!("no connected message: {seen:?}"));
    assert_eq!(
        ev.data_json()
            .and_then(|d| tradewire::envelope::member(d, "agentId")),
        Some(r#""agent 1/é""#)
    );
    assert!(server.is_agent_connected("agent 1/é"));
}
