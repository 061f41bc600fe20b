//! A connection that ends without a close frame is reported with code 1006 (RFC 6455
//! §7.1.5); a close the application asked for says `by_client`.

use std::time::Duration;

use tradewire::{Client, Config, Event};
use tradewire_testkit::{ServerOptions, WsServer};

use crate::support::{expect_kind, quick, SOON};

fn disconnected(client: &Client) -> (Option<u16>, String, Option<String>, bool) {
    match expect_kind(client, "disconnected", SOON) {
        Event::Disconnected {
            code,
            reason,
            error,
            by_client,
            ..
        } => (code, reason, error, by_client),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_reset_connection_is_1006_with_what_happened() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::connect(quick(Config::new(server.url()))).unwrap();
    expect_kind(&client, "connected", SOON);
    server.drop_all();
    let (code, reason, error, by_client) = disconnected(&client);
    assert_eq!(code, Some(1006));
    assert!(!by_client);
    assert!(!reason.is_empty());
    assert!(error.is_some());
    client.close();
}

#[test]
fn a_silent_server_is_1006_after_the_heartbeat_timeout() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::connect(
        quick(Config::new(server.url()))
            .heartbeat_interval(Duration::from_millis(200))
            .heartbeat_timeout(Duration::from_millis(600)),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    server.set_silent(true);
    let (code, reason, _, by_client) = disconnected(&client);
    assert_eq!(code, Some(1006));
    assert!(reason.contains("no data from the server"), "{reason}");
    assert!(!by_client);
    client.close();
}

#[test]
fn a_server_close_keeps_its_code_and_a_client_reconnect_is_by_client() {
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let client = Client::connect(quick(Config::new(server.url()))).unwrap();
    expect_kind(&client, "connected", SOON);
    server.close_all(4002, "maintenance");
    let (code, reason, _, by_client) = disconnected(&client);
    assert_eq!(
        (code, reason.as_str(), by_client),
        (Some(4002), "maintenance", false)
    );
    expect_kind(&client, "connected", SOON);
    client.reconnect().unwrap();
    let (code, _, _, by_client) = disconnected(&client);
    assert_eq!((code, by_client), (Some(1000), true));
    client.close();
}

/// Against a server on Python's `websockets` library: a reset is 1006, and the code and
/// reason of `disconnect()` are what that library reads from our close frame.
#[test]
fn against_a_websockets_server_reset_is_1006_and_disconnect_sends_the_code() {
    let Some(peer) = crate::support::peer::PeerServer::python("daemon_server.py", &["--port", "0"])
    else {
        return;
    };
    let client = Client::connect(quick(Config::new(peer.url("")))).unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(peer.wait_count(1, SOON));
    peer.reset_connections();
    let (code, _, error, by_client) = disconnected(&client);
    assert_eq!((code, by_client), (Some(1006), false));
    assert!(error.is_some());

    expect_kind(&client, "connected", SOON);
    assert!(peer.wait_count(1, SOON));
    client.disconnect(4010, "session over").unwrap();
    let (code, reason, _, by_client) = disconnected(&client);
    assert_eq!(
        (code, reason.as_str(), by_client),
        (Some(4010), "session over", true)
    );
    assert!(crate::support::eventually(SOON, || peer
        .closes()
        .contains(&(4010, "session over".to_string()))));
    client.close();
}
