//! Paced background broadcasting ([`WsServer::stream`](super::WsServer::stream)).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use super::core::{Cmd, Core};
use crate::wait;

/// At this rate and above, messages go out in bursts of about a millisecond's worth.
const BURST_RATE: f64 = 1000.0;
const BURST_SLACK: Duration = Duration::from_millis(1);

/// A running [`WsServer::stream`](super::WsServer::stream); dropping it stops
/// and joins the thread.
pub struct StreamHandle {
    stop: Option<Sender<()>>,
    sent: Arc<AtomicU64>,
    finished: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StreamHandle {
    pub(crate) fn start(
        core: Arc<Core>,
        rate_per_sec: f64,
        count: Option<u64>,
        make: impl FnMut(u64) -> String + Send + 'static,
    ) -> StreamHandle {
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let sent = Arc::new(AtomicU64::new(0));
        let finished = Arc::new(AtomicBool::new(false));
        let pacer = Pacer {
            core,
            rate: rate_per_sec,
            count,
            sent: sent.clone(),
            stopped,
        };
        let done = finished.clone();
        let spawned = std::thread::Builder::new()
            .name("tw-stream".into())
            .spawn(move || {
                pacer.run(make);
                done.store(true, Ordering::SeqCst);
            });
        let thread = match spawned {
            Ok(thread) => Some(thread),
            Err(e) => {
                log::warn!("could not start the stream thread: {e}");
                finished.store(true, Ordering::SeqCst);
                None
            }
        };
        StreamHandle {
            stop: Some(stop),
            sent,
            finished,
            thread,
        }
    }

    /// Stops the stream and returns how many messages it broadcast.
    pub fn stop(mut self) -> u64 {
        self.halt();
        self.sent()
    }

    /// Messages broadcast so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// True once the stream has sent `count` messages (or its server stopped).
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// Waits until [`is_finished`](Self::is_finished); false on timeout.
    pub fn wait_finished(&self, timeout: Duration) -> bool {
        wait::until(timeout, || self.is_finished().then_some(())).is_some()
    }

    fn halt(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        self.halt();
    }
}

struct Pacer {
    core: Arc<Core>,
    rate: f64,
    count: Option<u64>,
    sent: Arc<AtomicU64>,
    stopped: Receiver<()>,
}

impl Pacer {
    fn run(self, mut make: impl FnMut(u64) -> String) {
        let paced = self.rate.is_finite() && self.rate > 0.0;
        let slack = if self.rate >= BURST_RATE {
            BURST_SLACK
        } else {
            Duration::ZERO
        };
        let start = Instant::now();
        let mut seq: u64 = 1;
        while self.count.is_none_or(|count| seq <= count) && !self.core.is_shutdown() {
            if paced {
                // Deadline of message `seq`, measured from the start: no drift.
                let due = start + Duration::from_secs_f64((seq - 1) as f64 / self.rate);
                let now = Instant::now();
                if due > now + slack {
                    match self.stopped.recv_timeout(due - now) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                } else if self.stopped.try_recv() != Err(TryRecvError::Empty) {
                    return;
                }
            } else if self.stopped.try_recv() != Err(TryRecvError::Empty) {
                return;
            }
            let text = make(seq);
            self.core.broadcast(Cmd::Text(text.into()));
            self.sent.store(seq, Ordering::SeqCst);
            seq += 1;
        }
    }
}
