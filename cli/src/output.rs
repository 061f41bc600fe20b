//! Turning events into text: one JSON line per message (stdout, the event's JSON form from
//! core) and one sentence per connection change (stderr). Pure functions, no I/O.

use std::time::Duration;

use tradewire::{ErrorKind, Event, Message};

/// One message as a single JSON line (no trailing newline): the event's JSON form as core
/// defines it ([`Message::to_json`]; the same text as C's `tw_event_to_json` and Python's
/// `Event.to_json()`), for example
///
/// `{"kind":"message","type":"Trade","account_id":123,"data":{"px":1},"raw":null,"binary":null,"received_at":"2025-01-17T14:45:15.123456Z","server_time":null,"epoch":1}`
pub fn message_line(m: &Message) -> String {
    m.to_json()
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
            ..
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
        Event::Lagging { lag, seconds } => format!(
            "lagging: the {} is {seconds:.1} s behind (over lag_warning)",
            match lag {
                tradewire::Lag::Feed => "feed",
                tradewire::Lag::Consumer => "output",
            }
        ),
        Event::CaughtUp { lag, seconds } => format!(
            "caught up: the {} is {seconds:.1} s behind again",
            match lag {
                tradewire::Lag::Feed => "feed",
                tradewire::Lag::Consumer => "output",
            }
        ),
        Event::Gap {
            key,
            expected,
            received,
            missing,
            ..
        } => format!(
            "gap{}: expected {expected}, received {received} ({missing} missing)",
            match key {
                Some(k) => format!(" in {}", shorten(k, 40)),
                None => String::new(),
            }
        ),
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
            by_client: false,
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
