//! The one JSON form of an [`Event`]: what the CLI prints, what C's `tw_event_to_json`
//! returns and what Python's `Event.to_json()` / `to_dict()` give.
//!
//! One object on one line, `"kind"` first, then the fields of its kind, every one of them
//! present (`null` when absent):
//!
//! | kind | fields |
//! |---|---|
//! | `message` | `type`, `account_id`, `data`, `raw`, `binary`, `received_at`, `server_time`, `epoch` |
//! | `connected` | `epoch`, `url`, `is_connected` (`true`) |
//! | `authenticated` | `epoch` |
//! | `disconnected` | `epoch`, `code`, `reason`, `error`, `by_client`, `is_connected` (`false`) |
//! | `reconnecting` | `attempt`, `delay` (seconds, a number), `reason` |
//! | `gave_up` | `reason` |
//! | `error` | `error` (its kind, e.g. `invalid_json`), `message`, `raw`, `epoch` |
//! | `lagged` | `dropped` |
//! | `response` | `id`, `status`, `data` |
//! | `lagging` | `lag` (`feed` or `consumer`), `seconds` |
//! | `caught_up` | `lag`, `seconds` |
//!
//! A message's `account_id` keeps the JSON type the server gave it (`123` or `"123"`, every
//! digit); `data` is the payload exactly as the server wrote it (numbers keep their digits,
//! any depth), only put on one line when the server pretty-printed it; `raw` is the frame's
//! text when it was not JSON (the metis preset then also gives it as `data`, a string);
//! `binary` is a binary frame's bytes in base64; `received_at` and `server_time` (the
//! message's own timestamp, with `time_pointer`) are ISO-8601 UTC with microseconds. The
//! text is written directly, nothing is parsed into a tree: serde's data model cannot hold
//! the server's number text, and serde_json reads at most 128 levels.

use crate::event::{AccountValue, Event, Message};
use crate::json_string::push_str;

impl Event {
    /// The event as one line of JSON (see the table in the module documentation).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tradewire::Event;
    /// let ev = Event::Reconnecting { attempt: 2, delay: Duration::from_millis(1500), reason: "refused".into() };
    /// assert_eq!(ev.to_json(), r#"{"kind":"reconnecting","attempt":2,"delay":1.5,"reason":"refused"}"#);
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(match self {
            Event::Message(m) => m.raw_bytes().len() * 4 / 3 + 160,
            _ => 128,
        });
        self.write_json(&mut out);
        out
    }

    /// Appends [`Event::to_json`]'s text to `out` (reusing its allocation).
    pub fn write_json(&self, out: &mut String) {
        match self {
            Event::Message(m) => return m.write_json(out),
            _ => push_kind(out, self.kind()),
        }
        match self {
            Event::Connected { epoch, url } => {
                push_u64(out, "epoch", *epoch);
                push_field(out, "url", Some(url));
                push_key(out, "is_connected");
                out.push_str("true");
            }
            Event::Authenticated { epoch } => push_u64(out, "epoch", *epoch),
            Event::Disconnected {
                epoch,
                code,
                reason,
                error,
                by_client,
            } => {
                push_u64(out, "epoch", *epoch);
                push_key(out, "code");
                match code {
                    Some(c) => out.push_str(&c.to_string()),
                    None => out.push_str("null"),
                }
                push_field(out, "reason", Some(reason));
                push_field(out, "error", error.as_deref());
                push_key(out, "by_client");
                out.push_str(if *by_client { "true" } else { "false" });
                push_key(out, "is_connected");
                out.push_str("false");
            }
            Event::Reconnecting {
                attempt,
                delay,
                reason,
            } => {
                push_u64(out, "attempt", u64::from(*attempt));
                push_key(out, "delay");
                out.push_str(&seconds(delay.as_secs_f64()));
                push_field(out, "reason", Some(reason));
            }
            Event::GaveUp { reason } => push_field(out, "reason", Some(reason)),
            Event::Error(e) => {
                push_field(out, "error", Some(e.kind.as_str()));
                push_field(out, "message", Some(&e.message));
                push_field(out, "raw", e.raw.as_deref());
                push_u64(out, "epoch", e.epoch);
            }
            Event::Lagged { dropped } => push_u64(out, "dropped", *dropped),
            Event::Response { id, status, data } => {
                push_u64(out, "id", *id);
                push_u64(out, "status", u64::from(*status));
                push_key(out, "data");
                match data.as_deref() {
                    Some(d) if is_json(d) => push_json_one_line(out, d),
                    // Not JSON (an event built by hand): kept as a string.
                    other => push_opt_str(out, other),
                }
            }
            Event::Lagging { lag, seconds: s } | Event::CaughtUp { lag, seconds: s } => {
                push_field(out, "lag", Some(lag.name()));
                push_key(out, "seconds");
                out.push_str(&seconds(*s));
            }
            Event::Gap {
                key,
                expected,
                received,
                missing,
                epoch,
            } => {
                push_field(out, "key", key.as_deref());
                push_u64(out, "expected", *expected);
                push_u64(out, "received", *received);
                push_u64(out, "missing", *missing);
                push_u64(out, "epoch", *epoch);
            }
            Event::Message(_) => {}
        }
        out.push('}');
    }
}

impl Message {
    /// The message as one line of JSON, as `Event::Message(m).to_json()` writes it:
    ///
    /// `{"kind":"message","type":..,"account_id":..,"data":..,"raw":..,"binary":..,"received_at":"..","server_time":..,"epoch":n}`
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.raw_bytes().len() * 4 / 3 + 160);
        self.write_json(&mut out);
        out
    }

    /// Appends [`Message::to_json`]'s text to `out` (reusing its allocation).
    pub fn write_json(&self, out: &mut String) {
        push_kind(out, "message");
        push_field(out, "type", self.msg_type());
        push_key(out, "account_id");
        match self.account_value() {
            Some(AccountValue::Integer(digits)) if is_json_integer(digits) => out.push_str(digits),
            other => push_opt_str(out, other.map(|a| a.as_str())),
        }
        let data = self.data_json();
        push_key(out, "data");
        match data {
            Some(d) => push_json_one_line(out, d),
            None => out.push_str("null"),
        }
        push_key(out, "raw");
        match (data, self.raw()) {
            (None, Some(text)) => push_str(out, text),
            (Some(_), Some(text)) if self.data_is_the_text() => push_str(out, text),
            _ => out.push_str("null"),
        }
        push_key(out, "binary");
        if self.is_binary() {
            push_str(out, &crate::base64::encode(self.raw_bytes()));
        } else {
            out.push_str("null");
        }
        push_key(out, "received_at");
        out.push('"');
        crate::time::push_iso8601_micros(out, self.received_at());
        out.push('"');
        push_key(out, "server_time");
        match self.server_time() {
            Some(t) => {
                out.push('"');
                crate::time::push_iso8601_micros(out, t);
                out.push('"');
            }
            None => out.push_str("null"),
        }
        push_u64(out, "epoch", self.epoch());
        out.push('}');
    }
}

/// `{"kind":"message"` (kinds are plain ASCII names: nothing to escape).
fn push_kind(out: &mut String, kind: &str) {
    out.push_str("{\"kind\":\"");
    out.push_str(kind);
    out.push('"');
}

/// `,"key":` (keys are plain ASCII names: nothing to escape).
fn push_key(out: &mut String, key: &str) {
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":");
}

fn push_field(out: &mut String, key: &str, value: Option<&str>) {
    push_key(out, key);
    push_opt_str(out, value);
}

fn push_u64(out: &mut String, key: &str, value: u64) {
    push_key(out, key);
    crate::json_string::push_u64(out, value);
}

fn push_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.push_str("null"),
    }
}

/// A number of seconds as JSON (`1.5`, `0.25`, `3.0`).
fn seconds(s: f64) -> String {
    serde_json::Number::from_f64(s).map_or_else(|| "null".into(), |n| n.to_string())
}

/// Whether `text` is one JSON value, for a response built outside the client. serde_json
/// reads 128 levels at most: deeper data is kept, as a string.
fn is_json(text: &str) -> bool {
    serde_json::from_str::<&serde_json::value::RawValue>(text).is_ok()
}

/// Payload JSON is a slice of what the server sent: copied as is when it is on one line,
/// with its whitespace between tokens removed when the server pretty-printed it (a JSON line
/// must not break). Nothing is parsed into numbers, so every number keeps its digits, and
/// any depth is fine.
fn push_json_one_line(out: &mut String, json: &str) {
    if !json.contains(['\n', '\r']) {
        out.push_str(json);
        return;
    }
    out.reserve(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            // JSON strings hold no raw line breaks: everything in them is copied.
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
}

/// Whether `s` is an integer as JSON writes it (`0`, `-12`, `123`, of any length; no leading
/// zeros): an account the server sent as a number is written as one.
fn is_json_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ErrorEvent, ErrorKind};
    use serde_json::{json, Value};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    use tungstenite::Bytes;

    fn at() -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(1_737_125_115_123_456)
    }

    fn parsed(frame: &str) -> Message {
        crate::event::parsed_message(frame, at(), 3)
    }

    fn value(line: &str) -> Value {
        assert!(!line.contains('\n'), "{line}");
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    #[test]
    fn a_json_message() {
        let m = parsed(
            r#"{"type":"GatewayUserTrade","account_id":123,"data":{"profitAndLoss":-45.5}}"#,
        );
        let line = r#"{"kind":"message","type":"GatewayUserTrade","account_id":123,"data":{"profitAndLoss":-45.5},"raw":null,"binary":null,"received_at":"2025-01-17T14:45:15.123456Z","server_time":null,"epoch":3}"#;
        assert_eq!(m.to_json(), line);
        assert_eq!(Event::Message(m).to_json(), line);
    }

    #[test]
    fn a_message_with_its_server_time() {
        let sent = UNIX_EPOCH + Duration::from_millis(1_737_125_115_100);
        let m = parsed(r#"{"type":"SIGNAL","ts":1737125115100,"data":{}}"#)
            .with_server_time(Some(sent));
        let line = m.to_json();
        assert!(
            line.ends_with(r#""received_at":"2025-01-17T14:45:15.123456Z","server_time":"2025-01-17T14:45:15.100000Z","epoch":3}"#),
            "{line}"
        );
        value(&line);
    }

    #[test]
    fn the_account_keeps_its_type_and_digits() {
        let big = "123456789012345678901234567890";
        for (frame, account) in [
            (
                format!(r#"{{"type":"t","account_id":{big}}}"#),
                big.to_string(),
            ),
            (
                r#"{"type":"t","account_id":"123"}"#.into(),
                r#""123""#.into(),
            ),
            (
                r#"{"type":"t","account_id":"007"}"#.into(),
                r#""007""#.into(),
            ),
            (
                r#"{"type":"t","account_id":"A\u0042\"C"}"#.into(),
                r#""AB\"C""#.into(),
            ),
            (r#"{"type":"t"}"#.into(), "null".into()),
        ] {
            let line = parsed(&frame).to_json();
            assert!(
                line.contains(&format!(r#","account_id":{account},"data":"#)),
                "{line}"
            );
            value(&line);
        }
    }

    #[test]
    fn the_payload_is_the_servers_text_on_one_line() {
        let big = "123456789012345678901234567890";
        let payload = format!(r#"{{"id":{big},"f":[0.1,1e400,5e-324],"s":"\ud800"}}"#);
        let line = parsed(&format!(r#"{{"type":"t","data":{payload}}}"#)).to_json();
        assert!(
            line.contains(&format!(r#""data":{payload},"raw":null,"#)),
            "{line}"
        );
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        let line = parsed(&format!(r#"{{"type":"t","data":{deep}}}"#)).to_json();
        assert!(line.contains(&format!(r#""data":{deep},"#)));
        // Pretty-printed by the server: on one line, digits and strings kept.
        let m = parsed(
            "{\n \"type\": \"t\",\n \"data\": {\n  \"id\": 1e400,\n  \"s\": \"a \\\" b\"\n }\n}",
        );
        let line = m.to_json();
        assert!(
            line.contains(r#""data":{"id":1e400,"s":"a \" b"},"#),
            "{line}"
        );
    }

    #[test]
    fn text_that_is_not_json_and_binary_frames() {
        let m = Message::text("not json\nat all", None, None, None, at(), 1);
        let v = value(&m.to_json());
        assert_eq!(
            v,
            json!({"kind":"message","type":null,"account_id":null,"data":null,
                   "raw":"not json\nat all","binary":null,
                   "received_at":"2025-01-17T14:45:15.123456Z","server_time":null,"epoch":1})
        );
        let b = Message::binary(Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]), at(), 2);
        let v = value(&b.to_json());
        assert_eq!(v["binary"], "3q2+7w==");
        assert_eq!(
            (&v["raw"], &v["data"], &v["epoch"]),
            (&Value::Null, &Value::Null, &json!(2))
        );
    }

    #[test]
    fn lifecycle_events() {
        let cases = [
            (
                Event::Connected {
                    epoch: 1,
                    url: "ws://h/?token=<redacted>".into(),
                },
                r#"{"kind":"connected","epoch":1,"url":"ws://h/?token=<redacted>","is_connected":true}"#,
            ),
            (
                Event::Authenticated { epoch: 2 },
                r#"{"kind":"authenticated","epoch":2}"#,
            ),
            (
                Event::Disconnected {
                    epoch: 3,
                    code: Some(1001),
                    reason: "going away".into(),
                    error: None,
                    by_client: false,
                },
                r#"{"kind":"disconnected","epoch":3,"code":1001,"reason":"going away","error":null,"by_client":false,"is_connected":false}"#,
            ),
            (
                Event::Disconnected {
                    epoch: 4,
                    code: None,
                    reason: "abnormal".into(),
                    error: Some("reset \"by\" peer".into()),
                    by_client: true,
                },
                r#"{"kind":"disconnected","epoch":4,"code":null,"reason":"abnormal","error":"reset \"by\" peer","by_client":true,"is_connected":false}"#,
            ),
            (
                Event::Reconnecting {
                    attempt: 2,
                    delay: Duration::from_millis(1500),
                    reason: "refused".into(),
                },
                r#"{"kind":"reconnecting","attempt":2,"delay":1.5,"reason":"refused"}"#,
            ),
            (
                Event::Reconnecting {
                    attempt: 1,
                    delay: Duration::ZERO,
                    reason: "r".into(),
                },
                r#"{"kind":"reconnecting","attempt":1,"delay":0.0,"reason":"r"}"#,
            ),
            (
                Event::GaveUp {
                    reason: "too many".into(),
                },
                r#"{"kind":"gave_up","reason":"too many"}"#,
            ),
            (
                Event::Error(ErrorEvent::new(
                    ErrorKind::InvalidJson,
                    "bad",
                    Some("{x"),
                    5,
                )),
                r#"{"kind":"error","error":"invalid_json","message":"bad","raw":"{x","epoch":5}"#,
            ),
            (
                Event::Lagged { dropped: 9 },
                r#"{"kind":"lagged","dropped":9}"#,
            ),
            (
                Event::Lagging {
                    lag: crate::Lag::Feed,
                    seconds: 3.25,
                },
                r#"{"kind":"lagging","lag":"feed","seconds":3.25}"#,
            ),
            (
                Event::CaughtUp {
                    lag: crate::Lag::Consumer,
                    seconds: 0.5,
                },
                r#"{"kind":"caught_up","lag":"consumer","seconds":0.5}"#,
            ),
            (
                Event::Response {
                    id: 4,
                    status: 200,
                    data: Some(r#"{"z":1,"a":12345678901234567890}"#.into()),
                },
                r#"{"kind":"response","id":4,"status":200,"data":{"z":1,"a":12345678901234567890}}"#,
            ),
            (
                Event::Response {
                    id: 5,
                    status: 404,
                    data: None,
                },
                r#"{"kind":"response","id":5,"status":404,"data":null}"#,
            ),
            (
                Event::Response {
                    id: 6,
                    status: 500,
                    data: Some("not json".into()),
                },
                r#"{"kind":"response","id":6,"status":500,"data":"not json"}"#,
            ),
        ];
        for (event, line) in cases {
            assert_eq!(event.to_json(), line);
            assert_eq!(value(line)["kind"], event.kind());
            let mut reused = String::from("kept:");
            event.write_json(&mut reused);
            assert_eq!(reused, format!("kept:{line}"));
        }
    }

    #[test]
    fn integers() {
        for yes in [
            "0",
            "123",
            "-7",
            "9223372036854775807",
            "99999999999999999999",
        ] {
            assert!(is_json_integer(yes), "{yes}");
        }
        for no in ["", "-", "007", "1.5", "ACC-1", "+1"] {
            assert!(!is_json_integer(no), "{no}");
        }
    }

    #[test]
    fn json_is_kept_on_one_line() {
        let mut s = String::new();
        push_json_one_line(&mut s, "{\"a\": 1}");
        assert_eq!(s, "{\"a\": 1}");
        let mut s = String::new();
        push_json_one_line(&mut s, "{\n  \"a\": [1,\r\n 2]\n}");
        assert_eq!(s, "{\"a\":[1,2]}");
        // Digits, strings (with their spaces and escaped quotes) and depth are kept.
        let pretty = "{\n \"big\": 123456789012345678901234567890,\n \"f\": 1e400,\n \"s\": \"a \\\" b\\\\\",\n \"t\": \" \\ud800 \"\n}";
        let mut s = String::new();
        push_json_one_line(&mut s, pretty);
        assert_eq!(
            s,
            "{\"big\":123456789012345678901234567890,\"f\":1e400,\"s\":\"a \\\" b\\\\\",\"t\":\" \\ud800 \"}"
        );
        let deep = format!("{}\n1{}", "[ ".repeat(10_000), " ]".repeat(10_000));
        let mut s = String::new();
        push_json_one_line(&mut s, &deep);
        assert_eq!(s, format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)));
    }
}
