//! Tests of the error type: categories, reasons, sources and scrubbing.
use super::*;

#[test]
fn config_error_lists_every_problem_with_its_field() {
    let e = Error::invalid_config(vec![
        FieldError {
            field: "url".into(),
            message: "is required".into(),
        },
        FieldError {
            field: "jitter".into(),
            message: "must be between 0 and 1".into(),
        },
    ]);
    let s = e.to_string();
    assert!(s.contains("2 problems"));
    assert!(s.contains("url: is required"));
    assert!(s.contains("jitter: must be between 0 and 1"));
    assert_eq!(e.kind(), ErrorCategory::Config);
    assert_eq!(e.problems().len(), 2);
}

#[test]
fn every_category_has_its_stable_name_and_message() {
    let cases = [
        (
            Error::connect("m".into()),
            "connect",
            "connection failed: m",
        ),
        (
            Error::new(ErrorCategory::Auth, "m"),
            "auth",
            "authentication failed: m",
        ),
        (
            Error::not_connected("m".into()),
            "not_connected",
            "not connected: m",
        ),
        (Error::request("m".into()), "request", "request failed: m"),
        (Error::timeout("m".into()), "timeout", "timed out: m"),
        (Error::closed(), "closed", CLOSED),
        (Error::usage("m".into()), "usage", "m"),
        (Error::io("m".into()), "io", "I/O error: m"),
        (
            Error::config("url", "is required"),
            "config",
            "invalid configuration: url: is required",
        ),
    ];
    for (e, name, text) in cases {
        assert_eq!(e.kind().as_str(), name);
        assert_eq!(e.kind().to_string(), name);
        assert_eq!(e.to_string(), text);
        assert!(e.problems().is_empty() == (name != "config"), "{e:?}");
    }
}

#[test]
fn attempt_failures_keep_their_reason_and_auth_keeps_its_category() {
    let names = [
        (ConnectReason::ConnectionRefused, "connection_refused"),
        (ConnectReason::TimedOut, "timed_out"),
        (ConnectReason::Dns, "dns"),
        (ConnectReason::Tls, "tls"),
        (ConnectReason::Handshake, "handshake"),
        (ConnectReason::Auth, "auth"),
    ];
    for (r, name) in names {
        assert_eq!(r.as_str(), name);
        assert_eq!(r.to_string(), name);
        let e = Error::attempt_failed("m".into(), Some(r));
        assert_eq!(e.reason(), Some(r));
        let want = if r == ConnectReason::Auth {
            ErrorCategory::Auth
        } else {
            ErrorCategory::Connect
        };
        assert_eq!(e.kind(), want);
        assert!(format!("{e:?}").contains("reason"), "{e:?}");
    }
    let other = Error::attempt_failed("m".into(), None);
    assert_eq!(other.kind(), ErrorCategory::Connect);
    assert_eq!(other.reason(), None);
    assert_eq!(Error::closed().reason(), None);
    // The reason is part of equality.
    assert_ne!(
        other,
        Error::attempt_failed("m".into(), Some(ConnectReason::Dns))
    );
}

#[test]
fn the_end_of_the_stream_says_which_end_it_is() {
    let gave_up = Error::stream_ended(true);
    let closed = Error::stream_ended(false);
    assert_eq!(gave_up.kind(), ErrorCategory::Closed);
    assert_eq!(closed.kind(), ErrorCategory::Closed);
    assert!(gave_up.to_string().contains("reconnect()"), "{gave_up}");
    assert!(closed.to_string().contains("is closed"), "{closed}");
    assert_ne!(gave_up, closed);
}

#[test]
fn errors_cross_threads_and_stay_small() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Error>();
    // Boxed: a `Result<(), Error>` is one pointer.
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
}

#[test]
fn the_source_is_the_underlying_error_itself() {
    let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
    let e = Error::io(format!("could not create a poller: {io}")).with_source(io);
    let source = std::error::Error::source(&e).expect("a source");
    let io = source
        .downcast_ref::<std::io::Error>()
        .expect("the io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
    assert!(format!("{e:?}").contains("source"), "{e:?}");
    // The source is not part of equality.
    assert_eq!(e, Error::io(e.0.message.clone()));
    let copy = e.clone();
    assert!(std::error::Error::source(&copy).is_some());
}

/// An error with a chain of two links, for the tests below.
#[derive(Debug)]
struct Outer(String, Inner);
#[derive(Debug)]
struct Inner(String);
impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Display for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl StdError for Outer {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.1)
    }
}
impl StdError for Inner {}

/// Every text of every link of an error's `source()` chain.
fn chain_texts(e: &Error) -> Vec<String> {
    let mut out = vec![e.to_string(), format!("{e:?}")];
    let mut link = std::error::Error::source(e);
    while let Some(l) = link {
        out.push(l.to_string());
        out.push(format!("{l:?}"));
        link = l.source();
    }
    out
}

#[test]
fn no_link_of_the_source_chain_shows_a_secret() {
    let secret = "err-chain-secret+/=1";
    crate::redact::register(secret);
    let cause = Outer(
        "the outer link".into(),
        Inner(format!("the inner link quotes {secret}\r\nINFO forged")),
    );
    let e = Error::request("it failed".into()).with_source(cause);
    let texts = chain_texts(&e);
    assert_eq!(texts.len(), 6, "{texts:?}");
    for t in &texts {
        for form in crate::redact::forms(secret) {
            assert!(!t.contains(&form), "{t}");
        }
        assert!(!t.contains('\r') && !t.contains('\n'), "{t:?}");
    }
    assert!(
        texts[4].contains("the inner link quotes <redacted>"),
        "{texts:?}"
    );
    // A clean chain is kept as it is (downcasting works).
    let clean =
        Error::request("it failed".into()).with_source(Outer("a".into(), Inner("b".into())));
    let source = std::error::Error::source(&clean).unwrap();
    assert!(source.downcast_ref::<Outer>().is_some());
}
