//! The secret canaries, for the recording (`record = path`): a token in the query, a token
//! in the login message (`auth_message`), a server that echoes the token back in a message
//! and a close reason, an application that sends it: no form of the secret reaches the file
//! (every line of it, every rotated file), and the login frame is marked as such.

use std::time::Duration;

use tradewire::record::format::LOGIN_REDACTED;
use tradewire::{Client, Config, Preset};
use tradewire_testkit::canary::{assert_no_leak, forms};
use tradewire_testkit::{ServerOptions, TokenCheck, WsServer};

use crate::record_replay::temp_file;
use crate::support::{expect_kind, quick, SOON};

const QUERY_TOKEN: &str = "rec+Que/ry=6%&!' q";
const LOGIN_TOKEN: &str = "rec+Log/in=7%&!' l";

/// Every line of the recording at `path` and its rotated files.
fn lines(path: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for n in 0..=10 {
        let p = tradewire::record::writer::rotated(path, n);
        if let Ok(text) = std::fs::read_to_string(&p) {
            out.extend(text.lines().map(String::from));
        }
    }
    out
}

/// The server's hostile echo: the token raw and JSON-escaped in a message.
fn echo(server: &WsServer, token: &str) {
    let escaped = serde_json::to_string(token).unwrap();
    server.broadcast(&format!(
        r#"{{"type":"echo","data":{{"token":{escaped},"raw":"{token}"}}}}"#
    ));
}

#[test]
fn no_form_of_a_token_reaches_the_recording() {
    let path = temp_file("canary-query");
    let server = WsServer::start(ServerOptions {
        token: TokenCheck::Required(QUERY_TOKEN.into()),
        ..ServerOptions::default()
    })
    .unwrap();
    let config = quick(Config::new(format!("{}/", server.url())).preset(Preset::Json))
        .token(QUERY_TOKEN)
        .token_query_param("token")
        .record(path.to_string_lossy())
        .record_max_bytes(600);
    let client = Client::connect(config).unwrap();
    expect_kind(&client, "connected", SOON);
    echo(&server, QUERY_TOKEN);
    expect_kind(&client, "message", SOON);
    let _ = client.send_text(format!("my token is {QUERY_TOKEN}"));
    assert!(server
        .wait_for_received(|m| m.starts_with("my token"), SOON)
        .is_some());
    server.close_all(4002, &format!("bad token {QUERY_TOKEN}"));
    expect_kind(&client, "disconnected", SOON);
    client.close();
    let all = lines(&path);
    assert!(all.len() > 4, "{all:#?}");
    assert!(
        all.iter().any(|l| l.contains("token=<redacted>")),
        "{all:#?}"
    );
    assert_no_leak(&all, &forms(QUERY_TOKEN));

    // The login message: recorded as a login frame, its token nowhere.
    let path = temp_file("canary-login");
    let server = WsServer::start(ServerOptions::default()).unwrap();
    let config = quick(Config::new(format!("{}/", server.url())).preset(Preset::Json))
        .token(LOGIN_TOKEN)
        .auth_message(r#"{"op":"login","key":"{token}"}"#)
        .record(path.to_string_lossy());
    let client = Client::connect(config).unwrap();
    expect_kind(&client, "connected", SOON);
    assert!(server
        .wait_for_received(|m| m.contains("login"), SOON)
        .is_some());
    echo(&server, LOGIN_TOKEN);
    expect_kind(&client, "message", SOON);
    std::thread::sleep(Duration::from_millis(50));
    client.close();
    let all = lines(&path);
    assert!(
        all.iter()
            .any(|l| l.contains(LOGIN_REDACTED) && l.contains(r#""login":true"#)),
        "{all:#?}"
    );
    assert_no_leak(&all, &forms(LOGIN_TOKEN));
}
