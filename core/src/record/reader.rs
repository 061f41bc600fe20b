//! Reads a recording back: its connections, each with its timed frames and its end.
//!
//! ```
//! use tradewire::record::reader::parse;
//! let text = concat!(
//!     r#"{"kind":"open","at_us":1000,"epoch":1,"url":"ws://h/"}"#, "\n",
//!     r#"{"kind":"recv","at_us":1500,"epoch":1,"text":"{\"type\":\"tick\"}"}"#, "\n",
//!     r#"{"kind":"end","at_us":2000,"epoch":1,"how":"dropped","code":1006,"reason":""}"#, "\n",
//! );
//! let rec = parse(text).unwrap();
//! assert_eq!(rec.connections.len(), 1);
//! assert_eq!(rec.connections[0].received().count(), 1);
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use super::format::{How, Payload, Record};
use super::writer::{rotated, KEEP};

/// A recording read back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recording {
    /// The connections, in the order they were opened.
    pub connections: Vec<Connection>,
    /// Records the writer had to leave out (the sum of the `skipped` lines).
    pub skipped: u64,
    /// The epochs of the connections of the latest `start` line on (a client started again
    /// on the same file numbers its connections from 1 again): an epoch is looked up here,
    /// not searched for, so a recording of many connections reads in linear time.
    epochs: BTreeSet<u64>,
}

/// One recorded connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connection {
    /// Its epoch in the recording client.
    pub epoch: u64,
    /// The redacted URL (`None` when the `open` line was in a file rotated away).
    pub url: Option<String>,
    /// When it opened (microseconds since the Unix epoch); the first frame's time when the
    /// `open` line is missing.
    pub opened_us: u64,
    /// Its data frames, both ways, in order.
    pub frames: Vec<Timed>,
    /// How it ended (`None`: the recording stops before its end).
    pub end: Option<Ending>,
}

/// A recorded data frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timed {
    /// Microseconds since the Unix epoch.
    pub at_us: u64,
    /// Sent by the client (`false`: received from the server).
    pub sent: bool,
    /// Its payload.
    pub payload: Payload,
}

/// How a recorded connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ending {
    /// Microseconds since the Unix epoch.
    pub at_us: u64,
    /// How.
    pub how: How,
    /// The close code.
    pub code: u16,
    /// The close reason.
    pub reason: String,
}

impl Connection {
    /// The frames the server sent, in order.
    pub fn received(&self) -> impl Iterator<Item = &Timed> {
        self.frames.iter().filter(|f| !f.sent)
    }
}

impl Recording {
    /// Starts a new session at `at` (an index into `connections`).
    fn new_session(&mut self, at: usize) {
        self.epochs = self.connections[at..].iter().map(|c| c.epoch).collect();
    }

    /// Adds a connection to the current session.
    fn push(&mut self, c: Connection) {
        self.epochs.insert(c.epoch);
        self.connections.push(c);
    }

    /// The connection of `epoch`: the last one opened, or a new one when its `open` line
    /// is missing (rotated away).
    fn connection(
        &mut self,
        epoch: u64,
        at_us: u64,
        line_no: usize,
    ) -> Result<&mut Connection, String> {
        let known = self.connections.last().is_some_and(|c| c.epoch == epoch);
        if !known {
            if self.epochs.contains(&epoch) {
                return Err(format!(
                    "line {line_no}: a record of connection {epoch} after a later connection opened"
                ));
            }
            self.push(Connection {
                epoch,
                opened_us: at_us,
                ..Connection::default()
            });
        }
        let c = self.connections.last_mut().ok_or("unreachable")?;
        if c.end.is_some() {
            return Err(format!(
                "line {line_no}: a record of connection {epoch} after its end"
            ));
        }
        Ok(c)
    }

    /// Adds one record (line `line_no`, for errors).
    fn add(&mut self, r: Record, line_no: usize) -> Result<(), String> {
        match r {
            // A new file: rotation (the same client goes on) or a client started again. Only
            // a connection that goes on keeps the session open.
            Record::Start { .. } => {
                let open = self.connections.last().is_some_and(|c| c.end.is_none());
                self.new_session(self.connections.len() - usize::from(open));
            }
            Record::Skipped { count, .. } => self.skipped += count,
            Record::Open { at_us, epoch, url } => {
                if self.epochs.contains(&epoch) {
                    return Err(format!("line {line_no}: connection {epoch} opened twice"));
                }
                self.push(Connection {
                    epoch,
                    url: Some(url),
                    opened_us: at_us,
                    ..Connection::default()
                })
            }
            Record::Recv(f) => {
                let payload = f.payload().map_err(|e| format!("line {line_no}: {e}"))?;
                let c = self.connection(f.epoch, f.at_us, line_no)?;
                c.frames.push(Timed {
                    at_us: f.at_us,
                    sent: false,
                    payload,
                });
            }
            Record::Sent(f) => {
                let payload = f.payload().map_err(|e| format!("line {line_no}: {e}"))?;
                let c = self.connection(f.epoch, f.at_us, line_no)?;
                c.frames.push(Timed {
                    at_us: f.at_us,
                    sent: true,
                    payload,
                });
            }
            Record::End {
                at_us,
                epoch,
                how,
                code,
                reason,
            } => {
                let c = self.connection(epoch, at_us, line_no)?;
                c.end = Some(Ending {
                    at_us,
                    how,
                    code,
                    reason,
                });
            }
        }
        Ok(())
    }

    /// Reads more of a recording (the next file of a rotated set); `name` prefixes errors.
    fn extend(&mut self, text: &str, name: &str) -> Result<(), String> {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            Record::decode(line, i + 1)
                .and_then(|r| self.add(r, i + 1))
                .map_err(|e| format!("{name}{e}"))?;
        }
        Ok(())
    }
}

/// Reads a recording from its text. The error names the line and what is wrong with it.
pub fn parse(text: &str) -> Result<Recording, String> {
    let mut rec = Recording::default();
    rec.extend(text, "")?;
    Ok(rec)
}

/// Reads the recording at `path` with its rotated files (`path.9` ... `path.1`, then
/// `path`), oldest first. The error names the file, the line and what is wrong.
pub fn read(path: &Path) -> Result<Recording, String> {
    let mut rec = Recording::default();
    let mut any = false;
    for n in (0..=KEEP).rev() {
        let p = rotated(path, n);
        let text = match std::fs::read(&p) {
            Ok(bytes) => String::from_utf8(bytes)
                .map_err(|_| format!("{}: the recording is not UTF-8 text", p.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && n > 0 => continue,
            Err(e) => return Err(format!("could not read the recording {}: {e}", p.display())),
        };
        any = true;
        rec.extend(&text, &format!("{}: ", p.display()))?;
    }
    if !any {
        return Err(format!("no recording at {}", path.display()));
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_go_to_their_connection_with_their_end() {
        let text = [
            r#"{"kind":"start","at_us":1,"format":1,"version":"x"}"#,
            r#"{"kind":"open","at_us":1,"epoch":1,"url":"ws://h/"}"#,
            r#"{"kind":"sent","at_us":2,"epoch":1,"text":"sub"}"#,
            r#"{"kind":"recv","at_us":3,"epoch":1,"binary":"AQI="}"#,
            r#"{"kind":"skipped","at_us":3,"count":2}"#,
            r#"{"kind":"end","at_us":4,"epoch":1,"how":"close","code":1001,"reason":"restart"}"#,
            "",
            r#"{"kind":"open","at_us":5,"epoch":2,"url":"ws://h/"}"#,
            r#"{"kind":"recv","at_us":6,"epoch":2,"text":"x"}"#,
        ]
        .join("\n");
        let rec = parse(&text).unwrap();
        assert_eq!(rec.skipped, 2);
        assert_eq!(rec.connections.len(), 2);
        let c = &rec.connections[0];
        assert_eq!(c.frames.len(), 2);
        assert!(c.frames[0].sent);
        assert_eq!(
            c.received().next().unwrap().payload,
            Payload::Binary(vec![1, 2])
        );
        let end = c.end.as_ref().unwrap();
        assert_eq!(
            (end.how, end.code, end.reason.as_str()),
            (How::Close, 1001, "restart")
        );
        assert_eq!(rec.connections[1].end, None);
    }

    #[test]
    fn a_client_started_again_on_the_same_file_numbers_its_connections_from_1_again() {
        let one = [
            r#"{"kind":"start","at_us":1,"format":1,"version":"x"}"#,
            r#"{"kind":"open","at_us":1,"epoch":1,"url":"u"}"#,
            r#"{"kind":"end","at_us":2,"epoch":1,"how":"client","code":1000,"reason":""}"#,
            r#"{"kind":"open","at_us":3,"epoch":2,"url":"u"}"#,
            r#"{"kind":"end","at_us":4,"epoch":2,"how":"client","code":1000,"reason":""}"#,
        ];
        let text = [&one[..], &one[..]].concat().join("\n");
        let rec = parse(&text).unwrap();
        let epochs: Vec<u64> = rec.connections.iter().map(|c| c.epoch).collect();
        assert_eq!(epochs, [1, 2, 1, 2]);
        // Within one run, an epoch opened twice is still refused.
        let twice = [one[0], one[1], one[3], one[1]].join("\n");
        assert!(parse(&twice)
            .unwrap_err()
            .contains("line 4: connection 1 opened twice"));
    }

    #[test]
    fn a_connection_whose_open_was_rotated_away_starts_at_its_first_frame() {
        let rec = parse(r#"{"kind":"recv","at_us":9,"epoch":3,"text":"x"}"#).unwrap();
        assert_eq!(rec.connections[0].epoch, 3);
        assert_eq!(rec.connections[0].url, None);
        assert_eq!(rec.connections[0].opened_us, 9);
    }

    #[test]
    fn inconsistent_recordings_are_refused_with_the_line() {
        let cases = [
            (
                "{\"kind\":\"open\",\"at_us\":1,\"epoch\":1,\"url\":\"u\"}\n{\"kind\":\"open\",\"at_us\":1,\"epoch\":1,\"url\":\"u\"}",
                "line 2: connection 1 opened twice",
            ),
            (
                "{\"kind\":\"end\",\"at_us\":1,\"epoch\":1,\"how\":\"dropped\",\"code\":1006,\"reason\":\"\"}\n{\"kind\":\"recv\",\"at_us\":1,\"epoch\":1,\"text\":\"u\"}",
                "line 2: a record of connection 1 after its end",
            ),
            ("\n\n{\"kind\":\"recv\"}", "line 3: not a recording record"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }
}
