//! The demo's terminal: headings, events and a status line on stderr, the summary on
//! stdout, kept from garbling each other.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tradewire::{Client, Status};

use super::lock;
use crate::output::latency;

/// stderr (headings, events, status line) and stdout (the summary), kept from garbling each
/// other: on a terminal the status line is redrawn in place with `\r` below the other lines.
pub(super) struct Console {
    tty: bool,
    status: Mutex<Option<String>>,
}

impl Console {
    pub(super) fn new() -> Console {
        Console {
            tty: std::io::stderr().is_terminal(),
            status: Mutex::new(None),
        }
    }

    /// A line on stderr.
    pub(super) fn line(&self, text: &str) {
        let status = lock(&self.status);
        let mut err = std::io::stderr().lock();
        if self.tty && status.is_some() {
            let _ = write!(err, "\r\x1b[K");
        }
        let _ = writeln!(err, "{text}");
        if let (true, Some(s)) = (self.tty, status.as_ref()) {
            let _ = write!(err, "{s}");
        }
        let _ = err.flush();
    }

    /// The live status: redrawn in place on a terminal, a plain line otherwise.
    pub(super) fn status(&self, text: String) {
        let mut status = lock(&self.status);
        let mut err = std::io::stderr().lock();
        if self.tty {
            let text = fit(text, terminal_width());
            let _ = write!(err, "\r\x1b[K{text}");
            *status = Some(text);
        } else {
            let _ = writeln!(err, "{text}");
        }
        let _ = err.flush();
    }

    /// Removes the status line (before the summary).
    pub(super) fn clear_status(&self) {
        let mut status = lock(&self.status);
        if self.tty && status.take().is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }

    pub(super) fn heading(&self, text: &str) {
        self.line("");
        self.line(&format!("==> {text}"));
    }

    pub(super) fn note(&self, text: &str) {
        self.line(&format!("    {text}"));
    }
}

/// The width of the terminal on stderr, if it can be told.
pub(super) fn terminal_width() -> Option<usize> {
    let size = rustix::termios::tcgetwinsize(std::io::stderr()).ok()?;
    (size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// `text` cut to fit in `width` columns (one left free so the cursor does not wrap).
pub(super) fn fit(text: String, width: Option<usize>) -> String {
    match width {
        Some(w) if text.chars().count() >= w => text.chars().take(w.saturating_sub(1)).collect(),
        _ => text,
    }
}

/// Refreshes the status line a few times per second (once per second when stderr is not a
/// terminal).
pub(super) fn spawn_status(
    client: &Arc<Client>,
    console: &Arc<Console>,
    stop: &Arc<AtomicBool>,
    started: Instant,
) -> JoinHandle<()> {
    let client = client.clone();
    let console = console.clone();
    let stop = stop.clone();
    let every = if console.tty {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(1)
    };
    std::thread::spawn(move || {
        let mut last = (Instant::now(), 0u64);
        let mut next = Instant::now() + every;
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
            let now = Instant::now();
            if now < next {
                continue;
            }
            next = now + every;
            let s = client.status();
            let dt = now.duration_since(last.0).as_secs_f64().max(1e-3);
            let rate = s.events_delivered.saturating_sub(last.1) as f64 / dt;
            last = (now, s.events_delivered);
            console.status(status_line(&s, rate, now.duration_since(started)));
        }
    })
}

/// `[  3.2 s] live        412 ev/s | reconnects 0 | errors 0 | delivered 1303 | filtered 640 | rtt 0.31 ms`
/// (most telling first: a narrow terminal cuts the end).
pub(super) fn status_line(s: &Status, rate: f64, elapsed: Duration) -> String {
    let rtt = s
        .last_heartbeat_latency
        .map(latency)
        .unwrap_or_else(|| "-".into());
    format!(
        "[{:5.1} s] {:<10} {:>5.0} ev/s | reconnects {} | errors {} | delivered {} | filtered {} | rtt {}",
        elapsed.as_secs_f64(),
        s.state.name(),
        rate,
        s.reconnects,
        s.errors,
        s.events_delivered,
        s.filtered,
        rtt
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_fit_the_terminal() {
        assert_eq!(fit("abcdef".into(), Some(4)), "abc");
        assert_eq!(fit("abc".into(), Some(4)), "abc");
        assert_eq!(fit("abcdef".into(), None), "abcdef");
    }
}
