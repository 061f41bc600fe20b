//! Rust `log` records of tradewire to Python's `logging`, under the `tradewire` logger.
//!
//! The core logs from its I/O thread, which must never wait for the GIL (a Python thread
//! holding the GIL may be waiting for that very thread). So [`Bridge::log`] only formats the
//! record and puts it in a bounded queue (dropping it, counted, when the queue is full); a
//! forwarder thread (`tradewire-log`) takes records from the queue and hands them to Python's
//! `logging` with the GIL. Records below the effective level of the `tradewire` logger are not
//! even formatted: that level is cached here and refreshed when a client is created or
//! started, with every batch forwarded, when a `recv` is about to wait (at most once a
//! second), and by the forwarder every [`REFRESH`] otherwise.
//!
//! The forwarder runs while a client is open: it starts with the first client and stops
//! (after handing on what is queued) when the last one is closed or dropped, so no thread of
//! tradewire's outlives the last client; records logged with no client open wait in the
//! queue for the next client, or for the interpreter's exit.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};
use log::{Level, LevelFilter, Log, Metadata};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Records waiting for the forwarder.
const QUEUE_CAPACITY: usize = 10_000;
/// Records handed to Python per GIL acquisition.
const BATCH: usize = 256;
/// How often the forwarder refreshes the cached level when idle (each wake-up costs an idle
/// process: docs/BENCHMARKS.md, idle wake-ups).
const REFRESH: Duration = Duration::from_secs(30);
/// The shortest time between two refreshes by a `recv` about to wait.
const WAITED_REFRESH: Duration = Duration::from_secs(1);

struct Record {
    level: Level,
    target: String,
    message: String,
    file: Option<String>,
    line: Option<u32>,
    thread: Option<String>,
    time: SystemTime,
}

struct Queue {
    tx: Sender<Record>,
    rx: Receiver<Record>,
}

static QUEUE: OnceLock<Queue> = OnceLock::new();
static DROPPED: AtomicU64 = AtomicU64::new(0);
static STOPPED: AtomicBool = AtomicBool::new(false);
static FORWARDER: Mutex<Option<(Sender<()>, JoinHandle<()>)>> = Mutex::new(None);
/// Clients open (created and not yet closed or dropped).
static CLIENTS: AtomicUsize = AtomicUsize::new(0);
/// Milliseconds since the Unix epoch of the last refresh after a wait.
static LAST_WAITED_REFRESH: AtomicU64 = AtomicU64::new(0);

fn queue() -> &'static Queue {
    QUEUE.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::bounded(QUEUE_CAPACITY);
        Queue { tx, rx }
    })
}

/// The `log` implementation: formats and queues records of tradewire's crates.
struct Bridge;

static BRIDGE: Bridge = Bridge;

impl Log for Bridge {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level() && metadata.target().starts_with("tradewire")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Core scrubs its own lines; this catches any other tradewire crate's too.
        let message = tradewire::redact::scrub(&record.args().to_string()).into_owned();
        let message = message
            .strip_prefix("tradewire: ")
            .map(str::to_string)
            .unwrap_or(message);
        let rec = Record {
            level: record.level(),
            target: record.target().to_string(),
            message,
            file: record.file().map(str::to_string),
            line: record.line(),
            thread: std::thread::current().name().map(str::to_string),
            time: SystemTime::now(),
        };
        if queue().tx.try_send(rec).is_err() {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn flush(&self) {}
}

/// Installs the bridge as the process's `log` logger (once) with the level of Python's
/// `tradewire` logger.
pub fn install(py: Python<'_>) -> PyResult<()> {
    if log::set_logger(&BRIDGE).is_err() {
        // Another logger was installed first (tradewire embedded in a Rust program that
        // set its own): leave it in charge.
        return Ok(());
    }
    refresh_level(py)
}

/// Caches the effective level of Python's `tradewire` logger.
pub fn refresh_level(py: Python<'_>) -> PyResult<()> {
    let level: i64 = py
        .import("logging")?
        .call_method1("getLogger", ("tradewire",))?
        .call_method0("getEffectiveLevel")?
        .extract()?;
    log::set_max_level(filter_for(level));
    Ok(())
}

/// Python level (`logging.DEBUG`...) to the most verbose Rust level it lets through.
fn filter_for(python_level: i64) -> LevelFilter {
    match python_level {
        i64::MIN..=5 => LevelFilter::Trace,
        6..=10 => LevelFilter::Debug,
        11..=20 => LevelFilter::Info,
        21..=30 => LevelFilter::Warn,
        31..=40 => LevelFilter::Error,
        _ => LevelFilter::Off,
    }
}

fn python_level(level: Level) -> i64 {
    match level {
        Level::Error => 40,
        Level::Warn => 30,
        Level::Info => 20,
        Level::Debug => 10,
        Level::Trace => 5,
    }
}

/// `tradewire::engine` -> `tradewire.engine`, `tradewire_testkit::server` -> `tradewire.testkit.server`.
fn logger_name(target: &str) -> String {
    let target = match target.strip_prefix("tradewire_testkit") {
        Some(rest) => format!("tradewire.testkit{rest}"),
        None => target.to_string(),
    };
    target.replace("::", ".")
}

/// A client was created: the forwarder runs while any is open.
pub fn client_opened(py: Python<'_>) {
    CLIENTS.fetch_add(1, Ordering::SeqCst);
    ensure_forwarder(py);
}

/// A client was closed or dropped (once per client): the last one stops the forwarder,
/// which hands on what is queued first. Call it without the GIL (it joins the forwarder,
/// which may be waiting for the GIL).
pub fn client_closed() {
    if CLIENTS.fetch_sub(1, Ordering::SeqCst) != 1 {
        return;
    }
    let mut slot = FORWARDER.lock().unwrap_or_else(|p| p.into_inner());
    // A client created meanwhile keeps it.
    if CLIENTS.load(Ordering::SeqCst) > 0 {
        return;
    }
    if let Some((stop, handle)) = slot.take() {
        drop(stop);
        drop(slot);
        let _ = handle.join();
    }
}

/// Refreshes the cached level when a `recv` is about to wait, at most once per
/// [`WAITED_REFRESH`] (a level set while nothing was logged takes effect then). Runs Python
/// code, so a pending signal's handler may run in it: its exception (`KeyboardInterrupt`,
/// anything not an `Exception`) is raised, never swallowed.
pub fn refresh_before_wait(py: Python<'_>) -> PyResult<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let last = LAST_WAITED_REFRESH.load(Ordering::Relaxed);
    if now.saturating_sub(last) < WAITED_REFRESH.as_millis() as u64 {
        return Ok(());
    }
    LAST_WAITED_REFRESH.store(now, Ordering::Relaxed);
    match refresh_level(py) {
        Err(e) if !e.is_instance_of::<pyo3::exceptions::PyException>(py) => Err(e),
        _ => Ok(()),
    }
}

/// Starts the forwarder thread unless it runs (or the interpreter is shutting down).
pub fn ensure_forwarder(py: Python<'_>) {
    if STOPPED.load(Ordering::SeqCst) {
        return;
    }
    let _ = refresh_level(py);
    let mut slot = FORWARDER.lock().unwrap_or_else(|p| p.into_inner());
    if slot.is_some() || CLIENTS.load(Ordering::SeqCst) == 0 {
        return;
    }
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
    let spawned = std::thread::Builder::new()
        .name("tradewire-log".into())
        .spawn(move || forward(stop_rx));
    match spawned {
        Ok(handle) => *slot = Some((stop_tx, handle)),
        Err(e) => eprintln!("tradewire: could not start the log thread: {e}"),
    }
}

fn forward(stop: Receiver<()>) {
    let rx = &queue().rx;
    loop {
        let first = crossbeam_channel::select! {
            recv(stop) -> _ => {
                // The last client went: hand on what it logged, then end.
                let rest: Vec<Record> = rx.try_iter().collect();
                if !rest.is_empty() && !STOPPED.load(Ordering::SeqCst) {
                    let _ = Python::try_attach(|py| emit(py, rest));
                }
                return;
            }
            recv(rx) -> r => r.ok(),
            default(REFRESH) => None,
        };
        let mut batch = Vec::new();
        if let Some(r) = first {
            batch.push(r);
            batch.extend(rx.try_iter().take(BATCH - 1));
        }
        if STOPPED.load(Ordering::SeqCst) {
            return;
        }
        let attached = Python::try_attach(|py| {
            emit(py, batch);
            let _ = refresh_level(py);
        });
        if attached.is_none() {
            return; // the interpreter is going away
        }
    }
}

/// Hands records to Python's `logging`.
fn emit(py: Python<'_>, batch: Vec<Record>) {
    let dropped = DROPPED.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        let _ = emit_one(
            py,
            &Record {
                level: Level::Warn,
                target: "tradewire".into(),
                message: format!("{dropped} log records were dropped (the log queue was full)"),
                file: None,
                line: None,
                thread: None,
                time: SystemTime::now(),
            },
        );
    }
    for rec in &batch {
        if let Err(e) = emit_one(py, rec) {
            e.write_unraisable(py, None);
        }
    }
}

fn emit_one(py: Python<'_>, rec: &Record) -> PyResult<()> {
    let name = logger_name(&rec.target);
    let level = python_level(rec.level);
    let logger = py
        .import("logging")?
        .call_method1("getLogger", (name.as_str(),))?;
    if !logger.call_method1("isEnabledFor", (level,))?.is_truthy()? {
        return Ok(());
    }
    let record = logger.call_method1(
        "makeRecord",
        (
            name.as_str(),
            level,
            rec.file.as_deref().unwrap_or("(rust)"),
            rec.line.unwrap_or(0),
            rec.message.as_str(),
            PyTuple::empty(py),
            py.None(),
        ),
    )?;
    let created = rec
        .time
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64();
    record.setattr("created", created)?;
    record.setattr("msecs", (created.fract() * 1000.0).floor())?;
    if let Some(thread) = &rec.thread {
        record.setattr("threadName", thread.as_str())?;
    }
    logger.call_method1("handle", (record,))?;
    Ok(())
}

/// Stops the forwarder (joining it with the GIL released) and hands the records still queued
/// to Python. Called at interpreter exit; records logged afterwards are discarded.
pub fn shutdown(py: Python<'_>) {
    STOPPED.store(true, Ordering::SeqCst);
    let forwarder = FORWARDER.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some((stop, handle)) = forwarder {
        drop(stop);
        py.detach(move || {
            let _ = handle.join();
        });
    }
    let batch: Vec<Record> = match QUEUE.get() {
        Some(q) => q.rx.try_iter().collect(),
        None => Vec::new(),
    };
    emit(py, batch);
}

/// Logs a Python exception raised by a user callback under the `tradewire` logger, with its
/// traceback; falls back to `sys.unraisablehook` if logging itself fails.
pub fn callback_error(py: Python<'_>, what: &str, err: PyErr) {
    let logged = (|| -> PyResult<()> {
        let logger = py
            .import("logging")?
            .call_method1("getLogger", ("tradewire",))?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("exc_info", err.value(py))?;
        logger.call_method("error", ("%s; the stream goes on", what), Some(&kwargs))?;
        Ok(())
    })();
    if let Err(e) = logged {
        e.write_unraisable(py, None);
        err.write_unraisable(py, None);
    }
}
