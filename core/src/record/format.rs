//! The recording's line format: one JSON object per line, UTF-8, `\n`-terminated. Pure.
//!
//! Every line has `kind` and `at_us` (microseconds since the Unix epoch: for frames the time
//! of the socket read that completed them, for the others the time the client noticed).
//! The kinds:
//!
//! - `start`: `{"kind":"start","at_us":..,"format":1,"version":"0.x.y"}`, the first line
//!   of every file (rotation starts a new file with its own).
//! - `open`: `{"kind":"open","at_us":..,"epoch":2,"url":"ws://host/feed?token=<redacted>"}`:
//!   connection `epoch` was established (the URL redacted).
//! - `recv` / `sent`: `{"kind":"recv","at_us":..,"epoch":2,"text":"..."}` a text frame
//!   received from (sent to) the server; a binary frame has `"binary":"<base64>"` instead of
//!   `text`. Secrets are scrubbed (`<redacted>`); a login frame sent is recorded as
//!   `{"kind":"sent",..,"text":"<redacted login frame>","login":true}`.
//! - `end`: `{"kind":"end","at_us":..,"epoch":2,"how":"close","code":1000,"reason":".."}`:
//!   how connection `epoch` ended. `how` is `close` (the server sent a close frame with
//!   `code` and `reason`), `dropped` (the socket ended without a close frame, code 1006),
//!   `silent` (the server went silent and the client declared it dead), `violation` (the
//!   server broke the protocol: `code` 1002, 1007 or 1009, the offending frame is not
//!   recorded) or `client` (the client ended it: close, reconnect, disconnect, a refused
//!   login, a Tradovate shutdown).
//! - `skipped`: `{"kind":"skipped","at_us":..,"count":12}`: the disk did not keep up and
//!   `count` records were left out here (the stream itself was not slowed).

use serde::{Deserialize, Serialize};

/// The version of the line format written in `start` lines.
pub const FORMAT: u32 = 1;

/// What replaces a login frame in the recording.
pub const LOGIN_REDACTED: &str = "<redacted login frame>";

/// How a recorded connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// The server sent a close frame.
    Close,
    /// The socket ended without a close frame.
    Dropped,
    /// The server went silent (half-open); the client gave up on it.
    Silent,
    /// The server broke the protocol (the code says how); the client closed.
    Violation,
    /// The client ended the connection.
    Client,
}

/// One line of a recording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Record {
    /// The first line of a file.
    Start {
        /// Microseconds since the Unix epoch.
        at_us: u64,
        /// [`FORMAT`].
        format: u32,
        /// The tradewire version that wrote it.
        version: String,
    },
    /// A connection was established.
    Open {
        /// Microseconds since the Unix epoch.
        at_us: u64,
        /// The connection's epoch.
        epoch: u64,
        /// The URL, redacted.
        url: String,
    },
    /// A data frame received from the server.
    Recv(Frame),
    /// A data frame sent to the server.
    Sent(Frame),
    /// A connection ended.
    End {
        /// Microseconds since the Unix epoch.
        at_us: u64,
        /// The connection's epoch.
        epoch: u64,
        /// How it ended.
        how: How,
        /// The close code (1006 when dropped, the client's code when it ended it).
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// Records left out because the writer could not keep up.
    Skipped {
        /// Microseconds since the Unix epoch.
        at_us: u64,
        /// How many.
        count: u64,
    },
}

/// A recorded data frame: exactly one of `text` and `binary`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frame {
    /// Microseconds since the Unix epoch.
    pub at_us: u64,
    /// The connection's epoch.
    pub epoch: u64,
    /// A text frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A binary frame, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
    /// A login frame, replaced by [`LOGIN_REDACTED`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub login: bool,
}

/// A frame's payload, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

impl Frame {
    /// A frame record of `payload`.
    pub fn new(at_us: u64, epoch: u64, payload: &Payload) -> Frame {
        Frame::of(at_us, epoch, payload.clone())
    }

    /// A frame record of `payload`, taking it (a text is not copied).
    pub fn of(at_us: u64, epoch: u64, payload: Payload) -> Frame {
        let (text, binary) = match payload {
            Payload::Text(t) => (Some(t), None),
            Payload::Binary(b) => (None, Some(crate::base64::encode(&b))),
        };
        Frame {
            at_us,
            epoch,
            text,
            binary,
            login: false,
        }
    }

    /// The payload, or why the record is not a valid frame.
    pub fn payload(&self) -> Result<Payload, String> {
        match (&self.text, &self.binary) {
            (Some(t), None) => Ok(Payload::Text(t.clone())),
            (None, Some(b)) => crate::base64::decode(b)
                .map(Payload::Binary)
                .ok_or_else(|| "`binary` is not valid base64".to_string()),
            _ => Err("a frame needs exactly one of `text` and `binary`".into()),
        }
    }
}

impl Record {
    /// The line of this record, without its `\n`.
    pub fn encode(&self) -> String {
        let mut line = String::new();
        self.encode_into(&mut line);
        line
    }

    /// Appends the line of this record to `out`. Frames, nearly every line of a recording,
    /// are written directly (the text escaped eight bytes at a time, as serde_json would
    /// write it: a unit test holds the two equal); the rare other lines go through serde.
    pub fn encode_into(&self, out: &mut String) {
        let (kind, f) = match self {
            Record::Recv(f) => ("recv", f),
            Record::Sent(f) => ("sent", f),
            // Serializing these types cannot fail (string keys, no maps of other keys).
            other => {
                out.push_str(&serde_json::to_string(other).unwrap_or_default());
                return;
            }
        };
        out.push_str("{\"kind\":\"");
        out.push_str(kind);
        out.push_str("\",\"at_us\":");
        crate::json_string::push_u64(out, f.at_us);
        out.push_str(",\"epoch\":");
        crate::json_string::push_u64(out, f.epoch);
        if let Some(t) = &f.text {
            out.push_str(",\"text\":");
            crate::json_string::push_str(out, t);
        }
        if let Some(b) = &f.binary {
            out.push_str(",\"binary\":");
            crate::json_string::push_str(out, b);
        }
        if f.login {
            out.push_str(",\"login\":true");
        }
        out.push('}');
    }

    /// Reads line number `line_no` (from 1) of a recording; the error says which line and
    /// what is wrong with it.
    pub fn decode(line: &str, line_no: usize) -> Result<Record, String> {
        let r: Record = serde_json::from_str(line)
            .map_err(|e| format!("line {line_no}: not a recording record: {e}"))?;
        match &r {
            Record::Recv(f) | Record::Sent(f) => {
                f.payload().map_err(|e| format!("line {line_no}: {e}"))?;
            }
            Record::Start { format, .. } if *format > FORMAT => {
                return Err(format!(
                    "line {line_no}: recording format {format} is newer than this tradewire reads ({FORMAT})"
                ))
            }
            _ => {}
        }
        Ok(r)
    }

    /// The time of the record.
    pub fn at_us(&self) -> u64 {
        match self {
            Record::Start { at_us, .. }
            | Record::Open { at_us, .. }
            | Record::End { at_us, .. }
            | Record::Skipped { at_us, .. } => *at_us,
            Record::Recv(f) | Record::Sent(f) => f.at_us,
        }
    }
}

/// Microseconds since the Unix epoch of `t` (0 before it).
pub fn micros(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_written_as_serde_would_write_them() {
        let all: String = (0u8..0x80).map(char::from).collect();
        let texts = [
            "",
            "{\"a\":1}\n",
            "caf\u{e9} \u{2603} \"q\" \\",
            &all,
            LOGIN_REDACTED,
        ];
        for (i, t) in texts.iter().enumerate() {
            let mut login = Frame::new(9, 2, &Payload::Text((*t).into()));
            login.login = true;
            for r in [
                Record::Recv(Frame::new(u64::MAX, i as u64, &Payload::Text((*t).into()))),
                Record::Sent(Frame::new(0, 1, &Payload::Binary(t.as_bytes().to_vec()))),
                Record::Sent(login),
            ] {
                let mut line = String::from("kept:");
                r.encode_into(&mut line);
                assert_eq!(line, format!("kept:{}", serde_json::to_string(&r).unwrap()));
                assert_eq!(Record::decode(&line[5..], 1).unwrap(), r);
            }
        }
    }

    #[test]
    fn every_kind_round_trips_through_its_line() {
        let records = [
            Record::Start {
                at_us: 1,
                format: FORMAT,
                version: "1.2.3".into(),
            },
            Record::Open {
                at_us: 2,
                epoch: 1,
                url: "ws://h/?token=<redacted>".into(),
            },
            Record::Recv(Frame::new(3, 1, &Payload::Text("{\"a\":1}\n".into()))),
            Record::Sent(Frame::new(4, 1, &Payload::Binary(vec![0, 255, 7]))),
            Record::End {
                at_us: 5,
                epoch: 1,
                how: How::Dropped,
                code: 1006,
                reason: String::new(),
            },
            Record::Skipped { at_us: 6, count: 9 },
        ];
        for r in records {
            let line = r.encode();
            assert!(!line.contains('\n'), "{line}");
            assert_eq!(Record::decode(&line, 1).unwrap(), r);
        }
    }

    #[test]
    fn the_documented_lines_read() {
        let r = Record::decode(r#"{"kind":"recv","at_us":7,"epoch":2,"text":"hi"}"#, 1).unwrap();
        assert_eq!(
            r,
            Record::Recv(Frame::new(7, 2, &Payload::Text("hi".into())))
        );
        let r = Record::decode(
            r#"{"kind":"end","at_us":8,"epoch":2,"how":"close","code":1000,"reason":"bye"}"#,
            1,
        )
        .unwrap();
        assert!(matches!(
            r,
            Record::End {
                how: How::Close,
                code: 1000,
                ..
            }
        ));
        let b =
            Record::decode(r#"{"kind":"sent","at_us":7,"epoch":2,"binary":"AP8H"}"#, 1).unwrap();
        let Record::Sent(f) = b else { panic!() };
        assert_eq!(f.payload().unwrap(), Payload::Binary(vec![0, 255, 7]));
    }

    #[test]
    fn bad_lines_are_refused_with_their_number_and_what_is_wrong() {
        let cases = [
            ("not json", "line 4: not a recording record"),
            (
                r#"{"kind":"teleport","at_us":1}"#,
                "line 4: not a recording record",
            ),
            (
                r#"{"kind":"recv","at_us":1,"epoch":1}"#,
                "line 4: a frame needs exactly one",
            ),
            (
                r#"{"kind":"recv","at_us":1,"epoch":1,"text":"a","binary":"AA=="}"#,
                "line 4: a frame needs exactly one",
            ),
            (
                r#"{"kind":"recv","at_us":1,"epoch":1,"binary":"!!"}"#,
                "line 4: `binary` is not valid base64",
            ),
            (
                r#"{"kind":"open","at_us":1,"url":"x"}"#,
                "missing field `epoch`",
            ),
            (
                r#"{"kind":"start","at_us":1,"format":99,"version":"x"}"#,
                "line 4: recording format 99",
            ),
        ];
        for (line, want) in cases {
            let err = Record::decode(line, 4).unwrap_err();
            assert!(err.contains(want), "{line}: {err}");
        }
    }
}
