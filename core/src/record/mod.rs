//! Recording of a live stream (`record = path`): every data frame received and sent with
//! its receive time, and every connection boundary, written as JSON lines (see [`mod@format`])
//! by a writer thread, scrubbed of secrets, rotated by size. [`reader`] reads a recording
//! back (the testkit's replay server and `tradewire mock-server --replay` use it).
//!
//! The I/O thread never waits for the disk: records go through a bounded channel with
//! `try_send`; when it is full the record is counted, not written, and a `skipped` line with
//! the count takes its place as soon as there is room. Without `record`, nothing here runs:
//! the engine holds `None` and checks it once per frame.

pub mod format;
pub mod reader;
pub mod writer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::SystemTime;

use crossbeam_channel::{Sender, TrySendError};

use self::format::{micros, How, Payload, Record};
use crate::error::{Error, Result};

/// Records that may wait for the writer before new ones are skipped.
pub const QUEUE: usize = 8192;

/// What the I/O thread hands to the writer.
pub(crate) enum Msg {
    /// A data frame, not yet scrubbed nor encoded (that is the writer's work).
    Frame {
        sent: bool,
        at_us: u64,
        epoch: u64,
        payload: Payload,
    },
    /// A boundary or skipped record.
    Line(Record),
    /// Flush and stop.
    Stop,
}

/// The I/O thread's end of a recording, for one connection: cheap to clone, never blocks.
#[derive(Clone)]
pub(crate) struct Tap {
    tx: Sender<Msg>,
    skipped: Arc<AtomicU64>,
    epoch: u64,
}

impl Tap {
    fn put(&self, msg: Msg) {
        if self.skipped.load(Ordering::Relaxed) > 0 {
            let count = self.skipped.swap(0, Ordering::Relaxed);
            let at_us = micros(SystemTime::now());
            if self
                .tx
                .try_send(Msg::Line(Record::Skipped { at_us, count }))
                .is_err()
            {
                self.skipped.fetch_add(count + 1, Ordering::Relaxed);
                return;
            }
        }
        match self.tx.try_send(msg) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// A data frame received at `at` (the socket read that completed it).
    pub fn received(&self, at: SystemTime, payload: Payload) {
        let at_us = micros(at);
        self.put(Msg::Frame {
            sent: false,
            at_us,
            epoch: self.epoch,
            payload,
        });
    }

    /// A data frame written to the socket now.
    pub fn sent(&self, payload: Payload) {
        let at_us = micros(SystemTime::now());
        self.put(Msg::Frame {
            sent: true,
            at_us,
            epoch: self.epoch,
            payload,
        });
    }
}

/// The engine's recording: the writer thread, joined when the engine ends.
pub(crate) struct Recorder {
    tap: Tap,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    /// Opens `path` (appending) and starts the writer thread. `auth` is the configured
    /// login message, recorded as a login frame.
    pub fn start(path: PathBuf, max_bytes: u64, auth: Option<String>) -> Result<Recorder> {
        let sink = writer::Sink::open(path.clone(), max_bytes).map_err(|e| {
            Error::config("record", format!("could not open {}: {e}", path.display()))
        })?;
        Recorder::with_queue(sink, auth, QUEUE)
    }

    fn with_queue(sink: writer::Sink, auth: Option<String>, queue: usize) -> Result<Recorder> {
        let (tx, rx) = crossbeam_channel::bounded(queue);
        let thread = std::thread::Builder::new()
            .name("tradewire-record".into())
            .spawn(move || writer::run(rx, sink, auth))
            .map_err(|e| Error::io(format!("could not start the recording thread: {e}")))?;
        Ok(Recorder {
            tap: Tap {
                tx,
                skipped: Arc::default(),
                epoch: 0,
            },
            thread: Some(thread),
        })
    }

    /// Connection `epoch` is open: its `open` record, and the tap its frames go through.
    pub fn open(&self, epoch: u64, url: &str) -> Tap {
        let at_us = micros(SystemTime::now());
        let tap = Tap {
            epoch,
            ..self.tap.clone()
        };
        tap.put(Msg::Line(Record::Open {
            at_us,
            epoch,
            url: url.into(),
        }));
        tap
    }

    /// Connection `epoch` ended.
    pub fn end(&self, epoch: u64, how: How, code: u16, reason: &str) {
        let at_us = micros(SystemTime::now());
        let reason = reason.to_string();
        self.tap.put(Msg::Line(Record::End {
            at_us,
            epoch,
            how,
            code,
            reason,
        }));
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Closing: waiting for the disk is fine now; nothing skipped goes unsaid.
        let count = self.tap.skipped.swap(0, Ordering::Relaxed);
        if count > 0 {
            let at_us = micros(SystemTime::now());
            let _ = self
                .tap
                .tx
                .send(Msg::Line(Record::Skipped { at_us, count }));
        }
        let _ = self.tap.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tw-record-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("rec.jsonl")
    }

    #[test]
    fn a_full_queue_skips_and_says_how_many_in_order() {
        let path = temp("skip");
        let sink = writer::Sink::open(path.clone(), 1 << 20).unwrap();
        // A queue the writer cannot drain: the writer thread is not started yet.
        let (tx, rx) = crossbeam_channel::bounded(2);
        let tap = Tap {
            tx,
            skipped: Arc::default(),
            epoch: 1,
        };
        for i in 0..5 {
            tap.received(SystemTime::now(), Payload::Text(format!("m{i}")));
        }
        assert_eq!(tap.skipped.load(Ordering::Relaxed), 3);
        let writer = std::thread::spawn(move || writer::run(rx, sink, None));
        // Room again: the skipped line goes first, then the frame.
        while tap.skipped.load(Ordering::Relaxed) > 0 {
            tap.received(SystemTime::now(), Payload::Text("next".into()));
            std::thread::yield_now();
        }
        tap.tx.send(Msg::Stop).unwrap();
        writer.join().unwrap();
        let rec = reader::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let texts: Vec<String> = rec.connections[0]
            .frames
            .iter()
            .map(|f| match &f.payload {
                Payload::Text(t) => t.clone(),
                Payload::Binary(_) => unreachable!(),
            })
            .collect();
        assert_eq!(&texts[..3], ["m0", "m1", "next"]);
        assert!(rec.skipped >= 3, "{}", rec.skipped);
    }

    #[test]
    fn rotation_keeps_the_older_files_and_the_reader_reads_them_in_order() {
        let path = temp("rotate");
        let rec = Recorder::start(path.clone(), 400, None).unwrap();
        let tap = rec.open(1, "ws://h/");
        for i in 0..40 {
            tap.received(
                SystemTime::now(),
                Payload::Text(format!("message number {i:03}")),
            );
        }
        rec.end(1, How::Dropped, 1006, "");
        drop(tap);
        drop(rec);
        assert!(writer::rotated(&path, 1).exists());
        for n in 0..=writer::KEEP {
            let p = writer::rotated(&path, n);
            if p.exists() {
                assert!(
                    std::fs::metadata(&p).unwrap().len() <= 400,
                    "{}",
                    p.display()
                );
            }
        }
        let set = reader::read(&path).unwrap();
        let c = set.connections.last().unwrap();
        assert_eq!(c.end.as_ref().unwrap().how, How::Dropped);
        let Payload::Text(last) = &c.frames.last().unwrap().payload else {
            panic!()
        };
        assert_eq!(last, "message number 039");
    }
}
