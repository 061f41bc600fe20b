//! What the Tradovate token answer says is readable by the application (`token_info`), its
//! tokens left out; the credentials have the document's defaults; the token file is on by
//! default in the user's state directory and is in document 000's format, shared with its
//! client.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tradewire::{Client, Config, Credentials, Preset, Secret};
use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer};

use crate::support::{expect_kind, quick, SOON};
use crate::tradovate_session::config;

/// The members of document 000's `AccessTokenResponse`.
const ANSWER_MEMBERS: [&str; 14] = [
    "accessToken",
    "mdAccessToken",
    "expirationTime",
    "userStatus",
    "userId",
    "name",
    "hasLive",
    "hasSimPlus",
    "hasFunded",
    "hasMarketData",
    "outdatedLiquidationPolicy",
    "outdatedSentimentPolicy",
    "experience",
    "orgName",
];

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tradewire-scenario-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn token_info_shows_the_answer_without_its_tokens() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let client = Client::new(config(&server)).unwrap();
    assert!(client.token_info().is_none(), "no token before start");
    client.start().unwrap();
    expect_kind(&client, "authenticated", SOON);
    let info = client.token_info().expect("the token's details");
    assert_eq!(info.user_id, Some(7));
    assert_eq!(info.name.as_deref(), Some("trader"));
    assert_eq!(info.fields["orgName"], "tradewire-test");
    assert_eq!(info.fields["hasLive"], false);
    assert_eq!(info.fields["userStatus"], "Active");
    assert!(info.expires_at > SystemTime::now());
    for member in &ANSWER_MEMBERS[2..] {
        assert!(info.fields.contains_key(*member), "{member} missing");
    }
    let shown = info.to_json();
    assert!(shown.get("accessToken").is_none() && shown.get("mdAccessToken").is_none());
    assert!(shown["retrievedAt"].is_u64(), "{shown}");
    // The userId is what the application's own requests need.
    let body = format!(r#"{{"users":[{}]}}"#, info.user_id.unwrap());
    client
        .request("user/syncrequest", Some(&body), SOON)
        .unwrap();
    client.close();

    let fixed = Client::new(
        Config::for_preset(Preset::Tradovate)
            .url(server.ws_url())
            .token("static"),
    )
    .unwrap();
    assert!(fixed.token_info().is_none(), "a static token has no answer");
}

#[test]
fn credentials_without_app_version_or_cid_send_the_documents_defaults() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let bare = Credentials {
        name: "trader".into(),
        password: Secret::new("secret"),
        ..Credentials::default()
    };
    let client = Client::connect(config(&server).credentials(bare)).unwrap();
    expect_kind(&client, "authenticated", SOON);
    client.close();
    let sent = server.last_token_request().unwrap();
    assert_eq!(
        (&sent["appVersion"], &sent["cid"]),
        (&"1.0".into(), &0.into())
    );
    assert!(
        sent.get("password").is_none(),
        "the testkit keeps no password"
    );

    let json = serde_json::json!({
        "url": server.ws_url(), "preset": "tradovate", "auth_url": server.auth_url(),
        "token_file": false, "credentials": {"name": "trader", "password": "secret"},
    });
    let client = Client::connect(Config::from_value(json).unwrap()).unwrap();
    expect_kind(&client, "authenticated", SOON);
    client.close();
    let sent = server.last_token_request().unwrap();
    assert_eq!(
        (&sent["appVersion"], &sent["cid"]),
        (&"1.0".into(), &0.into())
    );
}

#[test]
fn the_token_file_is_the_documents_format_and_is_shared_with_its_client() {
    let dir = temp_dir("doc-token");
    let path = dir.join("access-token.json");
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    let file = path.to_str().unwrap();

    let first = Client::connect(config(&server).token_file(file)).unwrap();
    expect_kind(&first, "authenticated", SOON);
    first.close();
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // The whole answer as received, plus retrievedAt in Unix milliseconds.
    let members = stored.as_object().unwrap();
    for member in ANSWER_MEMBERS {
        assert!(members.contains_key(member), "{member} missing: {stored}");
    }
    assert_eq!(members.len(), ANSWER_MEMBERS.len() + 1, "{stored}");
    let retrieved = stored["retrievedAt"].as_u64().expect("retrievedAt in ms");
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(retrieved <= now_ms && now_ms - retrieved < 600_000);
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);

    // As the document's client writes it (JSON.stringify(info, null, 2)), retrieved earlier.
    let mut doc = stored.clone();
    doc["retrievedAt"] = Value::from(retrieved - 60_000);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let second = Client::connect(config(&server).token_file(file)).unwrap();
    expect_kind(&second, "authenticated", SOON);
    assert_eq!(server.token_requests(), 1, "the document's file was used");
    let info = second.token_info().unwrap();
    let ms = info
        .retrieved_at
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert_eq!(ms, retrieved - 60_000);
    assert_eq!(info.fields["orgName"], "tradewire-test");
    second.close();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Set in the process this test starts to run itself in.
const CHILD: &str = "TRADEWIRE_TEST_DEFAULT_TOKEN_FILE";

#[test]
fn the_token_file_is_on_by_default_in_the_users_state_directory() {
    let Some(state) = std::env::var_os(CHILD) else {
        // The state directory comes from XDG_STATE_HOME (else HOME): run this test again in
        // a process of its own with both pointing at a temporary directory, so that no test
        // writes into the real home and no variable changes under other threads.
        let dir = temp_dir("state-home");
        let status = Command::new(std::env::current_exe().unwrap())
            .args([
                "tradovate_token_info::the_token_file_is_on_by_default_in_the_users_state_directory",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, &dir)
            .env("XDG_STATE_HOME", &dir)
            .env("HOME", &dir)
            .status()
            .unwrap();
        assert!(status.success(), "the test in its own process: {status}");
        let kept: Vec<_> = std::fs::read_dir(dir.join("tradewire"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(kept[0].starts_with("tradovate-127.0.0.1_") && kept[0].ends_with("-trader.json"));
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    // No token_file given.
    let config = || {
        quick(Config::new(server.ws_url()).preset(Preset::Tradovate))
            .credentials(crate::tradovate_session::credentials())
            .auth_url(server.auth_url())
    };
    let first = Client::connect(config()).unwrap();
    expect_kind(&first, "authenticated", SOON);
    first.close();
    let dir = Path::new(&state).join("tradewire");
    let path = dir.join(format!(
        "tradovate-127.0.0.1_{}-trader.json",
        server.http_port()
    ));
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(stored["userId"], 7);
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700);
    }
    let second = Client::connect(config()).unwrap();
    expect_kind(&second, "authenticated", SOON);
    assert_eq!(server.token_requests(), 1, "the default file was used");
    second.close();
    // Turned off: nothing read, a new token requested.
    let third = Client::connect(config().no_token_file()).unwrap();
    expect_kind(&third, "authenticated", SOON);
    assert_eq!(server.token_requests(), 2);
    third.close();
}
