//! Tradovate access tokens: rejected credentials are not retried at full speed, the
//! p-ticket penalty is honoured, a captcha is a clear fatal error, and the token file is
//! reused across runs (0600, atomic, corrupt or foreign files ignored).

use std::time::Duration;

use tradewire::{Client, Event};
use tradewire_testkit::tradovate::{TradovateOptions, TradovateServer};

use crate::support::{expect_kind, SOON};
use crate::tradovate_session::config;

#[test]
fn rejected_credentials_give_up_without_retrying() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    server.reject_credentials(true);
    let client = Client::connect(config(&server)).unwrap();
    let Event::Error(e) = expect_kind(&client, "error", SOON) else {
        unreachable!()
    };
    assert_eq!(e.kind, tradewire::ErrorKind::Auth);
    assert!(
        e.message.contains("Incorrect username or password"),
        "{}",
        e.message
    );
    assert!(
        !e.message.contains("secret"),
        "no password in errors: {}",
        e.message
    );
    expect_kind(&client, "gave_up", SOON);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.token_requests(), 1);

    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    server.reject_with_http_401(true);
    let client = Client::connect(config(&server)).unwrap();
    let Event::GaveUp { reason } = expect_kind(&client, "gave_up", SOON) else {
        unreachable!()
    };
    assert!(reason.contains("401"), "{reason}");
}

#[test]
fn penalty_ticket_is_honoured() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    server.penalty(Some((1.0, false)));
    let t0 = std::time::Instant::now();
    let client = Client::connect(config(&server)).unwrap();
    expect_kind(&client, "authenticated", SOON);
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "waited p-time before retrying"
    );
    assert_eq!(server.token_requests(), 2);
}

#[test]
fn captcha_is_a_clear_fatal_error() {
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();
    server.penalty(Some((1.0, true)));
    let client = Client::connect(config(&server)).unwrap();
    let Event::GaveUp { reason } = expect_kind(&client, "gave_up", SOON) else {
        unreachable!()
    };
    assert!(reason.contains("captcha"), "{reason}");
}

#[test]
fn token_file_is_reused_private_and_atomic() {
    let dir = std::env::temp_dir().join(format!("tradewire-scenario-token-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token.json");
    let server = TradovateServer::start(TradovateOptions::default()).unwrap();

    let first = Client::connect(config(&server).token_file(path.to_str().unwrap())).unwrap();
    expect_kind(&first, "authenticated", SOON);
    first.close();
    assert_eq!(server.token_requests(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file left behind"
    );

    let second = Client::connect(config(&server).token_file(path.to_str().unwrap())).unwrap();
    expect_kind(&second, "authenticated", SOON);
    assert_eq!(server.token_requests(), 1, "the saved token was used");
    second.close();

    std::fs::write(&path, "{ corrupt").unwrap();
    let third = Client::connect(config(&server).token_file(path.to_str().unwrap())).unwrap();
    expect_kind(&third, "authenticated", SOON);
    assert_eq!(server.token_requests(), 2, "a corrupt file is ignored");
    let _ = std::fs::remove_dir_all(&dir);
}
