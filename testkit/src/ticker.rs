//! A background thread that runs a closure at a fixed interval until dropped.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

/// Runs a closure every `interval` (paced by deadline, so it does not drift)
/// on its own thread; dropping the ticker stops and joins the thread.
pub(crate) struct Ticker {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Starts the thread; the first call happens one `interval` from now.
    pub(crate) fn start(
        name: &str,
        interval: Duration,
        mut tick: impl FnMut() + Send + 'static,
    ) -> std::io::Result<Ticker> {
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let interval = interval.max(Duration::from_millis(1));
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let mut next = Instant::now() + interval;
                while sleep_until(&stopped, next) {
                    tick();
                    next += interval;
                    let now = Instant::now();
                    if next < now {
                        // Fell behind (e.g. a stopped debugger): skip missed ticks.
                        next = now + interval;
                    }
                }
            })?;
        Ok(Ticker {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// Sleeps until `deadline`; returns false if the ticker was stopped meanwhile.
fn sleep_until(stopped: &Receiver<()>, deadline: Instant) -> bool {
    let wait = deadline.saturating_duration_since(Instant::now());
    matches!(stopped.recv_timeout(wait), Err(RecvTimeoutError::Timeout))
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
