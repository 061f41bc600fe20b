//! Fault soak: server kill/restart cycles during a sequence-numbered stream.
//!
//! Each cycle: the client is live and receiving; the server stops (every connection dropped,
//! the port refused) for a random outage; the server comes back; the client reconnects. The
//! stream keeps counting across outages. Checked:
//!
//! * within each epoch the delivered sequence numbers rise by exactly 1 (no gap, no reorder),
//!   and no number is ever delivered twice (across epochs too);
//! * the client is live again soon after the server's return: the time from `restart()`
//!   returning (or from the moment the client's last scheduled attempt fell due, if that is
//!   later) to the `Connected` event — the *reconnect overhead* beyond the backoff schedule;
//! * the client's threads (`tradewire*`), file descriptors and RSS return to their baseline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use tradewire::{Client, Config, Event, Preset};
use tradewire_testkit::{events, DaemonServer};

use crate::measure::{fd_count, mib, ms, rss_kib, threads_named, Rng, Stats};

/// What the consumer thread tells the controller.
enum Note {
    Connected { epoch: u64, at: Instant },
    Disconnected { epoch: u64 },
    Reconnecting { at: Instant, delay: Duration },
}

pub struct Options {
    pub cycles: u32,
    pub rate: f64,
    pub max_outage: Duration,
    pub seed: u64,
    /// Reconnect overhead allowed beyond the schedule (the guarantee: 250 ms).
    pub overhead_bound: Duration,
}

pub struct Outcome {
    pub ok: bool,
    pub lines: Vec<String>,
}

fn seq_of(m: &tradewire::Message) -> Option<u64> {
    m.data::<serde_json::Value>()?.get("seq")?.as_u64()
}

pub fn run(o: &Options) -> Outcome {
    let mut lines = Vec::new();
    let mut ok = true;
    let server = DaemonServer::start().expect("start the daemon server");
    let client = Client::connect(
        Config::new(server.url())
            .preset(Preset::Daemon)
            .backoff_initial(Duration::from_millis(100))
            .backoff_max(Duration::from_secs(1))
            .backoff_factor(2.0)
            .jitter(0.1)
            .min_uptime(Duration::from_millis(200))
            .heartbeat_interval(Duration::from_secs(1))
            .heartbeat_timeout(Duration::from_secs(5)),
    )
    .expect("client");
    let stream = server.stream(o.rate, None, |seq| events::sequenced(seq, None));

    // Consumer: checks the sequence, forwards lifecycle events with their arrival time.
    let (notes_tx, notes) = crossbeam_channel::unbounded::<Note>();
    let violations = Arc::new(AtomicU64::new(0));
    let delivered = Arc::new(AtomicU64::new(0));
    let events_rx = client.events();
    let consumer = {
        let violations = violations.clone();
        let delivered = delivered.clone();
        std::thread::spawn(move || {
            let mut last_overall = 0u64;
            let mut last_in_epoch: Option<u64> = None;
            let mut epoch = 0;
            let mut first_violations = Vec::new();
            for ev in events_rx.iter() {
                let at = Instant::now();
                match &ev {
                    Event::Message(m) => {
                        let Some(seq) = seq_of(m) else { continue };
                        delivered.fetch_add(1, Ordering::Relaxed);
                        let bad = seq <= last_overall
                            || last_in_epoch.is_some_and(|prev| seq != prev + 1);
                        if bad {
                            violations.fetch_add(1, Ordering::Relaxed);
                            if first_violations.len() < 5 {
                                first_violations.push(format!(
                                    "epoch {epoch}: seq {seq} after {last_in_epoch:?} (overall last {last_overall})"
                                ));
                            }
                        }
                        last_overall = last_overall.max(seq);
                        last_in_epoch = Some(seq);
                    }
                    Event::Connected { epoch: e, .. } => {
                        epoch = *e;
                        last_in_epoch = None;
                        let _ = notes_tx.send(Note::Connected { epoch: *e, at });
                    }
                    Event::Disconnected { epoch: e, .. } => {
                        let _ = notes_tx.send(Note::Disconnected { epoch: *e });
                    }
                    Event::Reconnecting { delay, .. } => {
                        let _ = notes_tx.send(Note::Reconnecting { at, delay: *delay });
                    }
                    _ => {}
                }
            }
            first_violations
        })
    };

    let wait = |notes: &Receiver<Note>,
                what: &str,
                pred: &mut dyn FnMut(&Note) -> bool,
                reconnecting: &mut Vec<(Instant, Duration)>|
     -> Option<Instant> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match notes.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(n) => {
                    if let Note::Reconnecting { at, delay } = n {
                        reconnecting.push((at, delay));
                        continue;
                    }
                    let at = match &n {
                        Note::Connected { at, .. } => Some(*at),
                        _ => Some(Instant::now()),
                    };
                    if pred(&n) {
                        return at;
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    eprintln!("faults: no {what} within 30 s");
                    return None;
                }
            }
        }
    };

    let mut scratch = Vec::new();
    if wait(
        &notes,
        "first connection",
        &mut |n| matches!(n, Note::Connected { epoch: 1, .. }),
        &mut scratch,
    )
    .is_none()
    {
        return Outcome {
            ok: false,
            lines: vec!["faults: the client never connected".into()],
        };
    }
    let threads_baseline = threads_named("tradewire");
    let fds_baseline = fd_count();
    let mut rss_baseline = rss_kib();
    let mut rss_peak = rss_baseline;
    let mut rng = Rng::new(o.seed);
    let mut overheads = Vec::new();
    let mut since_restart = Vec::new();
    let mut over_bound = 0u32;
    let started = Instant::now();
    for cycle in 1..=o.cycles {
        let epoch = u64::from(cycle);
        // Live long enough to pass min_uptime and receive part of the stream.
        std::thread::sleep(Duration::from_millis(250));
        server.stop();
        let mut reconnecting: Vec<(Instant, Duration)> = Vec::new();
        if wait(
            &notes,
            "disconnect",
            &mut |n| matches!(n, Note::Disconnected { epoch: e } if *e == epoch),
            &mut reconnecting,
        )
        .is_none()
        {
            ok = false;
            break;
        }
        let outage = o.max_outage.mul_f64(rng.next_f64());
        std::thread::sleep(outage);
        if let Err(e) = server.restart() {
            lines.push(format!("faults: restart failed in cycle {cycle}: {e}"));
            ok = false;
            break;
        }
        let back = Instant::now();
        let Some(connected) = wait(
            &notes,
            "reconnect",
            &mut |n| matches!(n, Note::Connected { epoch: e, .. } if *e == epoch + 1),
            &mut reconnecting,
        ) else {
            ok = false;
            break;
        };
        // The attempt that succeeded was the one scheduled by the last Reconnecting event.
        let due = reconnecting
            .last()
            .map(|(at, delay)| *at + *delay)
            .unwrap_or(back);
        let from = back.max(due);
        let overhead = connected.saturating_duration_since(from);
        if overhead > o.overhead_bound {
            over_bound += 1;
        }
        overheads.push(overhead);
        since_restart.push(connected.saturating_duration_since(back));
        if cycle == 10.min(o.cycles) {
            // Warm-up done (allocator pools, server threads): the memory baseline.
            rss_baseline = rss_kib();
        }
        rss_peak = rss_peak.max(rss_kib());
    }
    let elapsed = started.elapsed();
    std::thread::sleep(Duration::from_millis(250));
    let threads_end = threads_named("tradewire");
    let fds_end = fd_count();
    let rss_end = rss_kib();
    let sent = stream.stop();
    client.close();
    let first_violations = consumer.join().unwrap_or_default();
    let violations = violations.load(Ordering::Relaxed);
    let st = client.status();

    let overhead = Stats::new(overheads.clone());
    lines.push(format!(
        "faults: {} cycles in {:.1} s; stream sent {sent}, delivered {} over {} connections",
        overheads.len(),
        elapsed.as_secs_f64(),
        delivered.load(Ordering::Relaxed),
        st.epoch
    ));
    lines.push(format!(
        "faults: sequence violations (gap, duplicate or reorder within an epoch): {violations}"
    ));
    for v in &first_violations {
        lines.push(format!("faults:   {v}"));
    }
    lines.push(format!(
        "faults: reconnect overhead beyond the schedule (Connected - max(restart returned, last attempt due)): {}",
        overhead.line()
    ));
    lines.push(format!(
        "faults: time from restart() returning to Connected (includes the rest of the backoff): {}",
        Stats::new(since_restart).line()
    ));
    lines.push(format!(
        "faults: cycles over the {} bound: {over_bound}",
        ms(o.overhead_bound)
    ));
    lines.push(format!(
        "faults: tradewire threads {threads_baseline} -> {threads_end}; fds {fds_baseline} -> {fds_end}; RSS after warm-up {} -> end {} (peak {}, growth {})",
        mib(rss_baseline as i64),
        mib(rss_end as i64),
        mib(rss_peak as i64),
        mib(rss_end as i64 - rss_baseline as i64)
    ));
    if violations > 0 || over_bound > 0 || overheads.len() < o.cycles as usize {
        ok = false;
    }
    if threads_end > threads_baseline || fds_end > fds_baseline + 2 {
        ok = false;
    }
    // Generous: the stream's own buffers vary; a leak per cycle would show as MBs here.
    if rss_end > rss_baseline + 16 * 1024 {
        ok = false;
    }
    Outcome { ok, lines }
}
