//! The parsers of text: SockJS frames, the JSON envelope and its pointers, the Tradovate
//! token answer, the recording format, and the configuration in its JSON and URL forms.

use std::time::{Duration, UNIX_EPOCH};

use super::Choices;
use crate::config::Config;
use crate::envelope::{parse, Pointer, Pointers};
use crate::tradovate::sockjs::{decode, Frame, Item};
use crate::tradovate::token::TokenInfo;

/// A SockJS frame: never a panic; every JSON item of an `a` frame is one JSON value.
pub fn sockjs_frame(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(Frame::Messages(items)) = decode(text) {
        for item in items {
            if let Item::Json(t) = item {
                assert!(
                    serde_json::from_str::<&serde_json::value::RawValue>(t).is_ok(),
                    "{t:?}"
                );
                let _ = parse(t, &Pointers::default());
            }
        }
    }
}

/// The message of an envelope target's input and the pointers to read it with: the
/// defaults, Tradovate's (nested), and six pointers the input's first line chooses (separated
/// by spaces; a missing or invalid one keeps the default).
pub(super) fn pointer_sets(text: &str) -> (&str, [Pointers; 3]) {
    let (head, message) = text.split_once('\n').unwrap_or(("", text));
    let mut given = head.split(' ').map(|p| Pointer::parse(p).ok());
    let mut next = |default: Pointer| given.next().flatten().unwrap_or(default);
    let d = Pointers::default();
    let chosen = Pointers {
        msg_type: next(d.msg_type.clone()),
        account: next(d.account.clone()),
        data: next(d.data.clone()),
        time: next(d.time.clone()),
        sequence: next(d.sequence.clone()),
        sequence_key: next(d.sequence_key.clone()),
    };
    let nested = Pointers {
        msg_type: Pointer::parse("/e").unwrap_or_default(),
        account: Pointer::parse("/d/entity/accountId").unwrap_or_default(),
        data: Pointer::parse("/d").unwrap_or_default(),
        time: Pointer::parse("/d/timestamp").unwrap_or_default(),
        sequence: Pointer::parse("/seq").unwrap_or_default(),
        sequence_key: Pointer::parse("/d/symbol").unwrap_or_default(),
    };
    (message, [d, nested, chosen])
}

/// The envelope with pointers the input chooses (its first line: six pointers separated by
/// spaces) on the rest: never a panic; what it finds lies in the text and is JSON there.
pub fn json_envelope(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (message, sets) = pointer_sets(text);
    for p in sets {
        let Ok(env) = parse(message, &p) else {
            continue;
        };
        let payload = message
            .get(env.data.clone())
            .expect("the payload range lies in the text");
        // NaN and Infinity standing alone are read as json.loads reads them (deliberate).
        let json = |t: &str| serde_json::from_str::<&serde_json::value::RawValue>(t).is_ok();
        let masked = crate::envelope::mask_non_finite(payload);
        assert!(
            json(payload) || masked.as_deref().is_some_and(json),
            "the payload {payload:?} is not one JSON value"
        );
        for raw in [env.time, env.sequence, env.sequence_key]
            .into_iter()
            .flatten()
        {
            let masked = crate::envelope::mask_non_finite(raw);
            assert!(
                json(raw) || masked.as_deref().is_some_and(json),
                "{raw:?} is not one JSON value"
            );
        }
        if let Some(raw) = env.time {
            let _ = crate::time::server_time(raw);
        }
        let _ = env.account.as_filter();
    }
}

/// The answer of the Tradovate token endpoint, read as `tradovate/http.rs` reads it: never a
/// panic; the penalty wait within its bounds; the tokens in no `Debug` output and in no
/// detail shown to the application.
pub fn token_answer(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Some(text) = v.get("errorText").and_then(|t| t.as_str()) {
        let shown = crate::redact::untrusted(text, 200);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
    }
    if let Some(wait) = v.get("p-time").and_then(|t| t.as_f64()) {
        let _ = Duration::from_secs_f64(wait.clamp(0.0, 3600.0));
    }
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let Ok(info) = TokenInfo::from_response(&v, now) else {
        return;
    };
    let margin = Duration::from_secs(300);
    let _ = info.is_valid(now, margin);
    let _ = info.renew_at(margin);
    let _ = info.renew_at(Duration::MAX);
    let details = info.details();
    assert!(details
        .fields
        .keys()
        .all(|k| !k.to_ascii_lowercase().ends_with("token")));
    // The access token is in no Debug output: the output is the same whatever it is.
    let mut other = info.clone();
    other.access_token = "\u{0}".into();
    assert_eq!(
        format!("{info:?}"),
        format!("{other:?}"),
        "the access token shows in Debug"
    );
    let stored = crate::tradovate::token_file::stored(&info);
    let back = TokenInfo::from_response(&stored, now).expect("a stored token reads back");
    assert_eq!(back.access_token, info.access_token);
}

/// A recording: never a panic; every frame belongs to a connection, and a recording that
/// reads reads the same after its lines are read again one by one.
pub fn record_reader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rec) = crate::record::reader::parse(text) {
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        assert!(rec.connections.len() <= lines);
        let frames: usize = rec.connections.iter().map(|c| c.frames.len()).sum();
        assert!(frames <= lines);
        let _ = format!("{rec:?}");
    }
}

/// A JSON configuration (the C ABI's form, and document 004's `{protocol, host, port, ...}`
/// form): never a panic, and what reads also validates or says why not.
pub fn config_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::from_json(text) {
        let _ = config.validate();
        let _ = format!("{config:?}");
    }
}

/// The URL forms: a WebSocket URL (alone and as a configuration's `url`), document 004's
/// protocol/host/port, a proxy URL and a NO_PROXY list, and the redaction of each. The first
/// byte chooses the form, the rest is the text.
pub fn config_url(data: &[u8]) {
    let mut c = Choices::new(data);
    let form = c.byte();
    let Ok(text) = std::str::from_utf8(c.rest()) else {
        return;
    };
    match form % 4 {
        0 => {
            if let Ok(e) = crate::url::parse_ws_url(text) {
                assert!(e.path_and_query.starts_with('/'), "{e:?}");
            }
            // The redacted form does not depend on the password: the same with another one
            // in its place (text that is also elsewhere in the URL is shown there, as it
            // should be, so looking for the password in the output proves nothing).
            let redacted = crate::url::redact_url(text, &["token"]);
            if let Some(other) = with_other_password(text) {
                assert_eq!(
                    redacted,
                    crate::url::redact_url(&other, &["token"]),
                    "{text:?}"
                );
            }
            let _ = crate::url::secrets_in_url(text, &["token"]);
            let with = crate::url::with_query(text, &[("token".into(), "x y".into())]);
            let _ = crate::url::without_query_param(&with, "token");
            let _ = Config::new(text).validate();
        }
        1 => {
            let (protocol, rest) = text.split_once('\n').unwrap_or((text, ""));
            let (host, port) = rest.split_once('\n').unwrap_or((rest, ""));
            let _ = crate::url::metis_url(Some(protocol), Some(host), port.parse().ok());
            let _ = crate::url::metis_url(None, Some(host), None);
        }
        2 => {
            if let Ok(p) = crate::proxy::spec::parse_proxy_url(text) {
                // Neither the user nor the password shows: the text is the same with others.
                let mut other = p.clone();
                other.auth = p.auth.as_ref().map(|_| ("\u{0}".into(), "\u{0}".into()));
                assert_eq!(p.redacted(), other.redacted(), "the credentials show");
                assert_eq!(
                    format!("{p:?}"),
                    format!("{other:?}"),
                    "the credentials show"
                );
            }
        }
        _ => {
            let (list, host) = text.split_once('\n').unwrap_or((text, "example.com"));
            let _ = crate::proxy::choose::no_proxy_matches(list, host);
            let _ = crate::proxy::http_url_host(text);
        }
    }
}

/// `url` with its password (the raw text between the first `:` of its userinfo and the
/// userinfo's `@`, as `url::split_userinfo` finds them) replaced by another; `None` when it
/// has none.
fn with_other_password(url: &str) -> Option<String> {
    let from = url.find("://")? + 3;
    let rest = &url[from..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let at = authority.rfind('@')?;
    let colon = authority[..at].find(':')?;
    Some(format!("{}other{}", &url[..from + colon + 1], &rest[at..]))
}
