//! Issue 26's calls through a server nobody here wrote: sockjs-node (the npm `sockjs`
//! package, tests/peers/sockjs_server.js) carries the Tradovate frames on its raw WebSocket
//! endpoint, the peer answering by hand as Tradovate would; the access token comes from the
//! testkit's token endpoint. The caller's request id goes out and its answer comes back as a
//! `Response` event with it, `token_info()` shows the token answer (its `userId` in the sync
//! request the client sent), and the token file is in document 000's format.
//!
//! (sockjs' framed endpoint cannot be used: it closes a connection on the first frame that
//! is not JSON, and Tradovate's `authorize\n0\n\n<token>` is not.)

use serde_json::Value;
use tradewire::{Client, Config, Event, Preset};
use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer};

use crate::support::peer::PeerServer;
use crate::support::{eventually, expect_kind, quick, wait_for, SOON};
use crate::tradovate_session::credentials;

/// Writes `text` as it is to every connection of the peer (its raw endpoint adds no framing).
fn write(peer: &PeerServer, text: &str) {
    let cmd = serde_json::json!({"cmd": "write", "text": text});
    assert_eq!(peer.command(&cmd.to_string()), "OK 1");
}

/// Whether the peer received a message containing `part`.
fn received(peer: &PeerServer, part: &str) -> bool {
    peer.received().iter().any(|m| m.contains(part))
}

#[test]
fn caller_ids_token_info_and_the_token_file_through_npm_sockjs() {
    let Some(peer) = PeerServer::node("sockjs_server.js", &["--port", "0"]) else {
        return;
    };
    let auth = TradovateServer::start(TradovateOptions::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("tradewire-peer-dropin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("access-token.json");
    let config = quick(Config::new(peer.url("/sockjs/websocket")).preset(Preset::Tradovate))
        .credentials(credentials())
        .auth_url(auth.auth_url())
        .token_file(path.to_str().unwrap());
    let client = Client::connect(config).unwrap();
    assert!(eventually(SOON, || peer.command(r#"{"cmd":"count"}"#) == "COUNT 1"));
    // The server's part: open, then accept the authorize (id 0).
    write(&peer, "o");
    assert!(eventually(SOON, || received(&peer, "authorize\n0\n\n")));
    write(&peer, r#"a[{"s":200,"i":0}]"#);
    expect_kind(&client, "authenticated", SOON);

    let info = client.token_info().expect("the token answer");
    assert_eq!(info.user_id, Some(7));
    assert_eq!(info.fields["orgName"], "tradewire-test");
    assert!(eventually(SOON, || received(
        &peer,
        "user/syncrequest\n1\n\n{\"users\":[7]}"
    )));

    assert_eq!(
        client
            .send_request_with_id("account/list", None, 500)
            .unwrap(),
        500
    );
    assert!(eventually(SOON, || received(&peer, "account/list\n500\n")));
    write(&peer, r#"a[{"s":200,"i":500,"d":[{"id":101}]}]"#);
    let (ev, seen) = wait_for(&client, SOON, |e| {
        matches!(e, Event::Response { id: 500, .. })
    });
    match ev {
        Some(Event::Response { status, data, .. }) => {
            assert_eq!(status, 200);
            assert_eq!(data.as_deref(), Some(r#"[{"id":101}]"#));
        }
        other => panic!("{other:?} after {seen:?}"),
    }
    let next = client.send_request("account/list", None).unwrap();
    assert!(next > 500, "{next}");
    client.close();

    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(stored["userId"], 7);
    assert!(stored["retrievedAt"].is_u64() && stored["accessToken"].is_string());
    let _ = std::fs::remove_dir_all(&dir);
}
