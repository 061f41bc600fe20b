//! A thread that sends frames to a connection after a delay, so a delayed
//! response does not hold up the connection's heartbeats and events.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::server::core::{Cmd, ConnId, Core};

/// Frames for one connection, due at one instant.
pub(crate) struct Job {
    pub(crate) due: Instant,
    pub(crate) id: ConnId,
    pub(crate) texts: Vec<String>,
}

/// Owner side of the thread; dropping it stops and joins the thread (jobs
/// not yet due are discarded).
pub(crate) struct Delayer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Delayer {
    /// Starts the thread, which takes jobs from `jobs`.
    pub(crate) fn start(core: Arc<Core>, jobs: Receiver<Job>) -> std::io::Result<Delayer> {
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let thread = std::thread::Builder::new()
            .name("tw-tradovate-delay".into())
            .spawn(move || run(&core, &jobs, &stopped))?;
        Ok(Delayer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

fn run(core: &Core, jobs: &Receiver<Job>, stopped: &Receiver<()>) {
    // Kept sorted by due time; equal times keep their arrival order.
    let mut pending: Vec<Job> = Vec::new();
    loop {
        let wait = pending.first().map_or(Duration::from_secs(3600), |job| {
            job.due.saturating_duration_since(Instant::now())
        });
        crossbeam_channel::select! {
            recv(stopped) -> _ => return,
            recv(jobs) -> job => match job {
                Ok(job) => {
                    let at = pending.partition_point(|p| p.due <= job.due);
                    pending.insert(at, job);
                }
                Err(_) => return,
            },
            default(wait) => {}
        }
        let now = Instant::now();
        let due = pending.partition_point(|p| p.due <= now);
        for job in pending.drain(..due) {
            for text in job.texts {
                core.send_to(job.id, Cmd::Text(text.into()));
            }
        }
    }
}

impl Drop for Delayer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
