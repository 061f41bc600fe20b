//! The writer thread: scrubs each record of secrets, encodes it as a line, writes it and
//! rotates the file by size. Rotation naming and scrubbing are pure functions.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::format::{micros, Frame, Payload, Record, FORMAT, LOGIN_REDACTED};
use super::Msg;

/// Rotated files kept besides the current one (`FILE.1` newest ... `FILE.9` oldest).
pub const KEEP: usize = 9;

/// The name of the `n`th rotated file of `path` (`n` = 0: `path` itself). Pure.
pub fn rotated(path: &Path, n: usize) -> PathBuf {
    if n == 0 {
        return path.to_path_buf();
    }
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// The renames that rotate `path`, in the order they are done: the oldest kept file first
/// (overwriting the one past [`KEEP`]), the current file last. Pure.
pub fn renames(path: &Path) -> Vec<(PathBuf, PathBuf)> {
    (0..KEEP)
        .rev()
        .map(|n| (rotated(path, n), rotated(path, n + 1)))
        .collect()
}

/// Whether a sent text is a login frame: Tradovate's `authorize` request or the configured
/// `auth_message`. Pure.
pub fn is_login(text: &str, auth_message: Option<&str>) -> bool {
    text.starts_with("authorize\n") || auth_message.is_some_and(|m| m == text)
}

/// A frame as it goes into the file: login frames replaced, every known secret scrubbed
/// (in binary frames too, when they hold UTF-8). Pure but for the registry of secrets.
pub fn clean_frame(
    at_us: u64,
    epoch: u64,
    sent: bool,
    payload: Payload,
    auth: Option<&str>,
) -> Frame {
    let scrub = |t: String| match crate::redact::scrub(&t) {
        std::borrow::Cow::Borrowed(_) => t,
        std::borrow::Cow::Owned(o) => o,
    };
    let payload = match payload {
        Payload::Text(t) if sent && is_login(&t, auth) => {
            let mut f = Frame::new(at_us, epoch, &Payload::Text(LOGIN_REDACTED.into()));
            f.login = true;
            return f;
        }
        Payload::Text(t) => Payload::Text(scrub(t)),
        Payload::Binary(b) => match String::from_utf8(b) {
            Ok(t) => {
                let clean = scrub(t);
                Payload::Binary(clean.into_bytes())
            }
            Err(e) => Payload::Binary(e.into_bytes()),
        },
    };
    Frame::of(at_us, epoch, payload)
}

/// The open recording file and its rotation state.
pub(crate) struct Sink {
    path: PathBuf,
    max_bytes: u64,
    out: Option<BufWriter<File>>,
    written: u64,
    warned: bool,
}

impl Sink {
    /// Opens (appends to) `path` and writes its `start` line.
    pub fn open(path: PathBuf, max_bytes: u64) -> std::io::Result<Sink> {
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let written = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut sink = Sink {
            path,
            max_bytes,
            out: Some(BufWriter::with_capacity(64 << 10, file)),
            written,
            warned: false,
        };
        sink.start();
        Ok(sink)
    }

    fn start(&mut self) {
        let line = Record::Start {
            at_us: micros(std::time::SystemTime::now()),
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").into(),
        }
        .encode();
        self.put(&line);
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        if let Some(mut out) = self.out.take() {
            out.flush()?;
        }
        for (from, to) in renames(&self.path) {
            if from.exists() {
                std::fs::rename(&from, &to)?;
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.out = Some(BufWriter::with_capacity(64 << 10, file));
        self.written = 0;
        self.start();
        Ok(())
    }

    fn put(&mut self, line: &str) {
        let Some(out) = self.out.as_mut() else { return };
        let r = out
            .write_all(line.as_bytes())
            .and_then(|()| out.write_all(b"\n"));
        match r {
            Ok(()) => self.written += line.len() as u64 + 1,
            Err(e) => self.warn(&e),
        }
    }

    fn warn(&mut self, e: &std::io::Error) {
        if !self.warned {
            self.warned = true;
            tw_warn!(
                "tradewire: could not write the recording {}: {e}",
                self.path.display()
            );
        }
    }

    /// Writes one line, rotating first when it would take the file past its size.
    pub fn write(&mut self, line: &str) {
        if self.written > 0 && self.written + line.len() as u64 + 1 > self.max_bytes {
            if let Err(e) = self.rotate() {
                self.warn(&e);
            }
        }
        self.put(line);
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) {
        if let Some(Err(e)) = self.out.as_mut().map(|o| o.flush()) {
            self.warn(&e);
        }
    }
}

/// How long written lines may wait in the buffer before they are flushed to the file.
const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// How long the thread pauses after a busy round, so that records arriving meanwhile are
/// taken in one go: without it the I/O thread woke it (a futex call) for nearly every
/// frame of a fast feed, and it flushed (a write call) for nearly every frame too.
const GATHER: Duration = Duration::from_millis(1);

/// The writer thread's loop: until `Msg::Stop` (or every sender gone), writes every record.
/// Idle, it sleeps until a record comes (no wake-up); busy, it takes what came in rounds
/// [`GATHER`] apart. The file is flushed at most [`FLUSH_EVERY`] after a line was written,
/// and at the end.
pub(crate) fn run(rx: Receiver<Msg>, mut sink: Sink, auth: Option<String>) {
    let auth = auth.as_deref();
    // One line buffer for the thread's life: no allocation per record once it has grown.
    let mut text = String::new();
    let mut line = |msg: Msg, sink: &mut Sink| -> bool {
        let record = match msg {
            Msg::Stop => return false,
            Msg::Frame {
                sent,
                at_us,
                epoch,
                payload,
            } => {
                let f = clean_frame(at_us, epoch, sent, payload, auth);
                if sent {
                    Record::Sent(f)
                } else {
                    Record::Recv(f)
                }
            }
            Msg::Line(r) => scrub_record(r),
        };
        text.clear();
        record.encode_into(&mut text);
        sink.write(&text);
        true
    };
    // When the oldest line not yet flushed was written.
    let mut unflushed: Option<Instant> = None;
    loop {
        let first = match unflushed {
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(since) => rx.recv_timeout(FLUSH_EVERY.saturating_sub(since.elapsed())),
        };
        let msg = match first {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => {
                sink.flush();
                unflushed = None;
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if !line(msg, &mut sink) {
            break;
        }
        let mut more = true;
        let mut stop = false;
        while more && !stop {
            more = false;
            while let Ok(msg) = rx.try_recv() {
                more = true;
                if !line(msg, &mut sink) {
                    stop = true;
                    break;
                }
            }
            let since = *unflushed.get_or_insert_with(Instant::now);
            if since.elapsed() >= FLUSH_EVERY {
                sink.flush();
                unflushed = None;
            }
            if more && !stop {
                // Busy: let the next records gather instead of being woken for each.
                std::thread::sleep(GATHER);
            }
        }
        if stop {
            break;
        }
    }
    sink.flush();
}

/// The texts of a boundary record (URL, close reason) scrubbed of secrets.
fn scrub_record(r: Record) -> Record {
    let clean = |t: String| crate::redact::untrusted(&t, 512);
    match r {
        Record::Open { at_us, epoch, url } => Record::Open {
            at_us,
            epoch,
            url: clean(url),
        },
        Record::End {
            at_us,
            epoch,
            how,
            code,
            reason,
        } => Record::End {
            at_us,
            epoch,
            how,
            code,
            reason: clean(reason),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_names_and_order() {
        let p = Path::new("/tmp/feed.jsonl");
        assert_eq!(rotated(p, 0), p);
        assert_eq!(rotated(p, 3), Path::new("/tmp/feed.jsonl.3"));
        let r = renames(p);
        assert_eq!(r.len(), KEEP);
        assert_eq!(r[0], (rotated(p, KEEP - 1), rotated(p, KEEP)));
        assert_eq!(r[KEEP - 1], (p.to_path_buf(), rotated(p, 1)));
    }

    #[test]
    fn login_frames_are_replaced_and_secrets_scrubbed() {
        crate::redact::register("canary-record-secret-1234");
        let f = clean_frame(
            1,
            1,
            true,
            Payload::Text("authorize\n0\n\nabc".into()),
            None,
        );
        assert!(f.login);
        assert_eq!(f.text.as_deref(), Some(LOGIN_REDACTED));
        let f = clean_frame(
            1,
            1,
            true,
            Payload::Text("{\"auth\":\"x\"}".into()),
            Some("{\"auth\":\"x\"}"),
        );
        assert!(f.login);
        // A login frame the server echoes is scrubbed, not replaced.
        let f = clean_frame(
            1,
            1,
            false,
            Payload::Text("authorize\n0\n\ncanary-record-secret-1234".into()),
            None,
        );
        assert!(!f.login);
        assert!(!f.text.unwrap().contains("canary-record"));
        let f = clean_frame(
            1,
            1,
            false,
            Payload::Binary(b"x canary-record-secret-1234".to_vec()),
            None,
        );
        let b = crate::base64::decode(&f.binary.unwrap()).unwrap();
        assert!(!String::from_utf8(b).unwrap().contains("canary-record"));
        let f = clean_frame(1, 1, false, Payload::Binary(vec![0xff, 0]), None);
        assert_eq!(f.binary.as_deref(), Some("/wA="));
    }
}
