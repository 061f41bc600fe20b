//! Turning events into text: one JSON line per message (stdout) and one sentence per
//! connection change (stderr). Pure functions, no I/O.

use std::time::{Duration, SystemTime};

use tradewire::{AccountValue, ErrorKind, Event, Message};

/// The parts of a message that go into its JSON line. `tradewire::Message` has no public
/// constructor, so the formatting works on this view (which tests can build).
#[derive(Debug, Clone, Copy)]
pub struct MessageFields<'a> {
    /// The message type.
    pub msg_type: Option<&'a str>,
    /// The account id, with the JSON type the server gave it.
    pub account_id: Option<AccountValue<'a>>,
    /// The payload JSON, `None` when the frame was not JSON.
    pub data_json: Option<&'a str>,
    /// The frame's text (`None` for a binary frame).
    pub text: Option<&'a str>,
    /// The frame's bytes when it was a binary frame.
    pub binary: Option<&'a [u8]>,
    /// When the client read it.
    pub received_at: SystemTime,
    /// The connection number.
    pub epoch: u64,
}

impl<'a> From<&'a Message> for MessageFields<'a> {
    fn from(m: &'a Message) -> Self {
        MessageFields {
            msg_type: m.msg_type(),
            account_id: m.account_value(),
            data_json: m.data_json(),
            text: m.raw(),
            binary: m.is_binary().then(|| m.raw_bytes()),
            received_at: m.received_at(),
            epoch: m.epoch(),
        }
    }
}

/// One message as a single JSON line (no trailing newline); see [`fields_line`].
pub fn message_line(m: &Message) -> String {
    fields_line(&MessageFields::from(m))
}

/// One message as a single JSON line (no trailing newline):
///
/// `{"type":..,"account_id":..,"data":..,"raw":..,"received_at":..,"epoch":n}`
///
/// * `type` and `account_id` are `null` when the message had none; the account keeps the
///   JSON type the server gave it: `123` stays a number (with all its digits, beyond 64 bits
///   too), `"123"` stays a string;
/// * `data` is the payload JSON exactly as the server wrote it (the `data` field, or the whole
///   message when it has none: numbers keep their digits), or `null` when the frame was not
///   JSON;
/// * `raw` is the frame's text when it was not JSON, else `null`;
/// * a binary frame has `data` and `raw` `null` and its bytes in `binary` (base64);
/// * `received_at` is ISO-8601 UTC with milliseconds; `epoch` is the connection number.
pub fn fields_line(m: &MessageFields<'_>) -> String {
    let size = m.text.map_or(0, str::len) + m.binary.map_or(0, |b| b.len() * 4 / 3);
    let mut out = String::with_capacity(size + 128);
    out.push_str("{\"type\":");
    push_opt_str(&mut out, m.msg_type);
    out.push_str(",\"account_id\":");
    match m.account_id {
        Some(AccountValue::Integer(digits)) if is_json_integer(digits) => out.push_str(digits),
        other => push_opt_str(&mut out, other.map(|a| a.as_str())),
    }
    out.push_str(",\"data\":");
    match m.data_json {
        Some(d) => push_json_one_line(&mut out, d),
        None => out.push_str("null"),
    }
    out.push_str(",\"raw\":");
    match (m.data_json, m.text) {
        (None, Some(raw)) => push_str(&mut out, raw),
        _ => out.push_str("null"),
    }
    if let Some(bytes) = m.binary {
        out.push_str(",\"binary\":");
        push_str(&mut out, &tradewire::base64::encode(bytes));
    }
    out.push_str(",\"received_at\":\"");
    out.push_str(&tradewire::time::iso8601(m.received_at));
    out.push_str("\",\"epoch\":");
    out.push_str(&m.epoch.to_string());
    out.push('}');
    out
}

fn push_str(out: &mut String, s: &str) {
    // Serializing a &str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "null".into()));
}

fn push_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.push_str("null"),
    }
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

/// `1 message`, `2 messages`: a count with its noun.
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A connection change or problem in plain words, or `None` for a message.
pub fn lifecycle_line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Message(_) => return None,
        Event::Connected { epoch, url } => {
            format!("connected to {url} (connection {epoch}): live")
        }
        Event::Authenticated { epoch } => format!("authenticated (connection {epoch})"),
        Event::Disconnected {
            epoch,
            code,
            reason,
            error: _,
        } => match code {
            Some(c) => format!("disconnected (connection {epoch}, close code {c}): {reason}"),
            None => format!("disconnected (connection {epoch}): {reason}"),
        },
        Event::Reconnecting {
            attempt,
            delay,
            reason,
        } => format!(
            "reconnecting in {} (attempt {attempt}): {reason}",
            seconds(*delay)
        ),
        Event::GaveUp { reason } => {
            // The core's reason may already say "gave up after ...": say it once.
            let what = if reason.starts_with("gave up") {
                reason.clone()
            } else {
                format!("gave up: {reason}")
            };
            format!(
                "{what} (check that the server is up and the URL right, or allow more attempts with --max-reconnects N)"
            )
        }
        Event::Error(e) if e.kind == ErrorKind::Auth => format!("login refused: {}", e.message),
        Event::Error(e) if e.kind == ErrorKind::Connect => {
            format!("could not connect: {}", e.message)
        }
        Event::Error(e) => {
            let mut s = format!("bad input ({}): {}", e.kind.as_str(), e.message);
            if let Some(raw) = &e.raw {
                s.push_str(" — received: ");
                s.push_str(&shorten(raw, 80));
            }
            s
        }
        Event::Lagged { dropped } => {
            format!("lagged: {dropped} events were dropped because they were not read fast enough")
        }
        Event::Response { id, status, .. } => {
            format!("late response to request {id} (status {status}); nobody was waiting for it")
        }
        other => other.kind().to_string(),
    })
}

/// `2.0 s`, `250 ms`.
pub fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// A latency: `0.42 ms`, `12.3 ms`, `1.20 s`.
pub fn latency(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// `s` on one line, cut to about `max` characters with an ellipsis.
pub fn shorten(s: &str, max: usize) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn fields<'a>() -> MessageFields<'a> {
        MessageFields {
            msg_type: None,
            account_id: None,
            data_json: None,
            text: None,
            binary: None,
            received_at: std::time::UNIX_EPOCH + Duration::from_millis(1_737_125_115_123),
            epoch: 1,
        }
    }

    fn parsed(f: &MessageFields<'_>) -> Value {
        let line = fields_line(f);
        assert!(!line.contains('\n'), "{line}");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    #[test]
    fn json_message() {
        let text = r#"{"type":"GatewayUserTrade","account_id":123,"data":{"profitAndLoss":-45.5}}"#;
        let f = MessageFields {
            msg_type: Some("GatewayUserTrade"),
            account_id: Some(AccountValue::Integer("123")),
            data_json: Some(r#"{"profitAndLoss":-45.5}"#),
            text: Some(text),
            epoch: 3,
            ..fields()
        };
        assert_eq!(
            fields_line(&f),
            r#"{"type":"GatewayUserTrade","account_id":123,"data":{"profitAndLoss":-45.5},"raw":null,"received_at":"2025-01-17T14:45:15.123Z","epoch":3}"#
        );
    }

    #[test]
    fn text_account_null_type_and_raw_fallback() {
        let v = parsed(&MessageFields {
            account_id: Some(AccountValue::String("ACC-\"1\"")),
            text: Some("not json\nat all"),
            ..fields()
        });
        assert_eq!(v["type"], Value::Null);
        assert_eq!(v["account_id"], "ACC-\"1\"");
        assert_eq!(v["data"], Value::Null);
        assert_eq!(v["raw"], "not json\nat all");
        assert!(v.get("binary").is_none());
        let v = parsed(&MessageFields {
            account_id: Some(AccountValue::String("007")),
            ..fields()
        });
        assert_eq!(v["account_id"], "007");
        // A string of digits stays a string, a number (of any size) stays a number.
        let line = fields_line(&MessageFields {
            account_id: Some(AccountValue::String("123")),
            ..fields()
        });
        assert!(line.contains(r#""account_id":"123","#), "{line}");
        let line = fields_line(&MessageFields {
            account_id: Some(AccountValue::Integer("123456789012345678901234567890")),
            ..fields()
        });
        assert!(
            line.contains(r#""account_id":123456789012345678901234567890,"#),
            "{line}"
        );
    }

    #[test]
    fn pretty_printed_payload_stays_on_one_line() {
        let v = parsed(&MessageFields {
            msg_type: Some("t"),
            data_json: Some("{\n  \"a\": 1\n}"),
            text: Some("{\"type\":\"t\",\"data\":{\n  \"a\": 1\n}}"),
            ..fields()
        });
        assert_eq!(v["data"]["a"], 1);
        assert_eq!(v["raw"], Value::Null);
    }

    #[test]
    fn binary_frame() {
        let v = parsed(&MessageFields {
            binary: Some(&[0xde, 0xad, 0xbe, 0xef]),
            ..fields()
        });
        assert_eq!(v["binary"], "3q2+7w==");
        assert_eq!(v["raw"], Value::Null);
        assert_eq!(v["data"], Value::Null);
        assert_eq!(v["epoch"], 1);
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

    #[test]
    fn lifecycle_in_words() {
        let connected = Event::Connected {
            epoch: 2,
            url: "ws://h/?token=<redacted>".into(),
        };
        assert_eq!(
            lifecycle_line(&connected).unwrap(),
            "connected to ws://h/?token=<redacted> (connection 2): live"
        );
        let reconnecting = Event::Reconnecting {
            attempt: 3,
            delay: Duration::from_secs(4),
            reason: "connection refused".into(),
        };
        assert_eq!(
            lifecycle_line(&reconnecting).unwrap(),
            "reconnecting in 4.0 s (attempt 3): connection refused"
        );
        let closed = Event::Disconnected {
            epoch: 1,
            code: Some(1008),
            reason: "Invalid token".into(),
            error: None,
        };
        assert_eq!(
            lifecycle_line(&closed).unwrap(),
            "disconnected (connection 1, close code 1008): Invalid token"
        );
        let gave_up = Event::GaveUp {
            reason: "too many".into(),
        };
        assert!(lifecycle_line(&gave_up)
            .unwrap()
            .starts_with("gave up: too many ("));
        assert!(lifecycle_line(&Event::Lagged { dropped: 5 })
            .unwrap()
            .starts_with("lagged: 5 events"));
    }

    #[test]
    fn durations() {
        assert_eq!(seconds(Duration::from_millis(250)), "250 ms");
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
        assert_eq!(latency(Duration::from_micros(420)), "0.42 ms");
        assert_eq!(latency(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(latency(Duration::from_millis(1200)), "1.20 s");
    }

    #[test]
    fn shortening() {
        assert_eq!(shorten("abc", 5), "abc");
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("a\nb", 5), "a b");
    }

    #[test]
    fn counts_auth_refusals_and_giving_up_in_plain_words() {
        assert_eq!(plural(1, "message"), "1 message");
        assert_eq!(plural(10, "message"), "10 messages");
        let auth = Event::Error(tradewire::ErrorEvent {
            kind: ErrorKind::Auth,
            message: "HTTP 401".into(),
            raw: None,
            epoch: 0,
        });
        assert_eq!(
            lifecycle_line(&auth).as_deref(),
            Some("login refused: HTTP 401")
        );
        let gave_up = Event::GaveUp {
            reason: "10 attempts failed".into(),
        };
        let line = lifecycle_line(&gave_up).unwrap_or_default();
        assert!(line.contains("--max-reconnects"), "{line}");
        let gave_up = Event::GaveUp {
            reason: "gave up after 3 reconnect attempts; last error: refused".into(),
        };
        let line = lifecycle_line(&gave_up).unwrap_or_default();
        assert!(
            line.starts_with("gave up after 3 reconnect attempts; last error: refused ("),
            "{line}"
        );
        assert_eq!(line.matches("gave up").count(), 1, "{line}");
    }
}
