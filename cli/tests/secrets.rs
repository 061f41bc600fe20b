//! The CLI's part of the secret-canary suite (the rest is in tests/rust/secrets.rs): `tradewire
//! listen` against servers that echo the request (the token in a header and a query
//! parameter) and a token endpoint that echoes the password, at TRACE level, every crate's
//! log lines included; stdout and stderr must hold no 8-character run of any form of any
//! secret, and no raw control character a server sent.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tradewire_testkit::canary::{assert_no_leak, HttpScript};

const BEARER: &str = "tok+Bear/er=3%&!' z";
const QUERY_TOKEN: &str = "qry+Que/ry=4%&!' q";
const PASSWORD: &str = "pw+Pass/wd=1%&!' x";
const SEC: &str = "sec+Sec/ret=2%&!' y";
const FORGERY: &str = "\r\nINFO tradewire: forged line\x1b[2J";

/// Runs the CLI to completion (killed after a generous bound) and returns stdout + stderr.
fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tradewire"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("TRADEWIRE_LOG", "trace");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the tradewire binary starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn check(outputs: &[String], secrets: &[&str]) {
    let secrets: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
    assert_no_leak(outputs.iter(), &secrets);
    for o in outputs {
        assert!(
            !o.contains('\x1b') && !o.contains("\nINFO tradewire: forged"),
            "server text reached the output unescaped: {o}"
        );
    }
}

#[test]
fn listen_never_prints_a_secret() {
    let mut outputs = Vec::new();
    for status in [401u16, 500] {
        let server =
            HttpScript::start(move |req, _| (status, format!("you sent:\n{req}{FORGERY}")))
                .unwrap();
        let query = format!("api_token={QUERY_TOKEN}");
        let (code, stdout, stderr) = run(
            &[
                "listen",
                &format!("{}/ws", server.ws_url()),
                "--token-env",
                "CANARY_TOKEN",
                "--query",
                &query,
                "--max-reconnects",
                "1",
            ],
            &[("CANARY_TOKEN", BEARER)],
        );
        assert_ne!(code, Some(0), "{stderr}");
        assert!(server.requests() >= 1, "the server was reached: {stderr}");
        assert!(stderr.contains("<redacted>"), "{stderr}");
        outputs.push(stdout);
        outputs.push(stderr);
    }
    check(&outputs, &[BEARER, QUERY_TOKEN]);
}

#[test]
fn listen_tradovate_with_an_echoing_token_endpoint() {
    let server = HttpScript::start(|req, _| {
        let body = req.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
        (
            200,
            serde_json::json!({ "errorText": format!("bad login {body}{FORGERY}") }).to_string(),
        )
    })
    .unwrap();
    let config = serde_json::json!({
        "url": "ws://127.0.0.1:9/v1/websocket",
        "preset": "tradovate",
        "auth_url": server.http_url() + "/auth/accesstokenrequest",
        "token_file": null,
        "credentials": {"name": "trader", "password": PASSWORD, "appId": "app", "appVersion": "1", "sec": SEC, "cid": 1},
    });
    let dir = std::env::temp_dir().join(format!("tradewire-cli-canary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let (code, stdout, stderr) = run(&["listen", "--config", path.to_str().unwrap()], &[]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_ne!(code, Some(0), "{stderr}");
    assert!(
        server.requests() >= 1,
        "the token endpoint was asked: {stderr}"
    );
    assert!(stderr.contains("refused"), "{stderr}");
    check(&[stdout, stderr], &[PASSWORD, SEC]);
}

#[test]
fn listen_through_a_proxy_that_echoes_the_credentials() {
    const PROXY_PASSWORD: &str = "prx+Pass/wd=5%&!' p";
    // A "proxy" that refuses CONNECT with 407 and echoes the request (its Basic credentials).
    let proxy = HttpScript::start(|req, _| (407, format!("you sent:\n{req}{FORGERY}"))).unwrap();
    let encoded = tradewire_testkit::canary::percent_encode_all(PROXY_PASSWORD);
    let proxy_url = format!("http://desk:{encoded}@127.0.0.1:{}", proxy.port());
    let (code, stdout, stderr) = run(
        &[
            "listen",
            "ws://127.0.0.1:9/feed",
            "--proxy",
            &proxy_url,
            "--max-reconnects",
            "1",
        ],
        &[],
    );
    assert_ne!(code, Some(0), "{stderr}");
    assert!(proxy.requests() >= 1, "the proxy was asked: {stderr}");
    assert!(stderr.contains("407"), "{stderr}");
    assert!(stderr.contains("<redacted>"), "{stderr}");
    check(&[stdout, stderr], &[PROXY_PASSWORD, &encoded]);
}
