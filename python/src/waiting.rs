//! Waiting for events and for the connection with the GIL released, and returning to Python
//! to run its signal handlers (Ctrl-C) while waiting.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyList;
use tradewire::{Client, ErrorCategory, Event};

use crate::errors::{self, detached, seconds};
use crate::event::PyEvent;
use crate::logging;

/// Longest wait on the event queue without checking for signals (Ctrl-C) in `recv` and
/// iteration. A thread that runs the connection itself (inline reads, the default) waits in
/// the poller instead, which a signal interrupts: it wakes for nothing else than the
/// connection's own timers.
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// What waiting for the next event gave.
pub(crate) enum Next {
    Event(Event),
    Timeout,
    /// The end of the stream: the core's `Closed` error, worded for the end it is.
    Closed(tradewire::Error),
}

/// An event taken, the end of the stream, or nothing yet; any other error (a callback is
/// set: core's rule) is raised.
pub(crate) fn next_or_closed(taken: tradewire::Result<Option<Event>>) -> PyResult<Option<Next>> {
    match taken {
        Ok(Some(e)) => Ok(Some(Next::Event(e))),
        Ok(None) => Ok(None),
        Err(e) if e.kind() == ErrorCategory::Closed => Ok(Some(Next::Closed(e))),
        Err(e) => Err(errors::to_py(e)),
    }
}

/// The next wait of a loop that checks for signals between waits: at most [`WAIT_SLICE`],
/// none once `deadline` has passed.
pub(crate) fn next_slice(deadline: Option<Instant>) -> Option<Duration> {
    match deadline {
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            (!left.is_zero()).then(|| left.min(WAIT_SLICE))
        }
        None => Some(WAIT_SLICE),
    }
}

/// When a wait of `timeout` seconds (None: no limit) ends.
pub(crate) fn deadline_of(timeout: Option<f64>) -> PyResult<Option<Instant>> {
    Ok(match timeout {
        Some(t) => Instant::now().checked_add(seconds("timeout", t)?),
        None => None,
    })
}

/// Waits (GIL released) until `deadline` (None: no limit) for one event. Returns to Python
/// to run its signal handlers whenever a signal interrupted the wait (a Ctrl-C raises
/// `KeyboardInterrupt` here), and after each [`WAIT_SLICE`] spent waiting on the queue.
pub(crate) fn wait_one(
    py: Python<'_>,
    client: &Client,
    deadline: Option<Instant>,
) -> PyResult<tradewire::Result<Option<Event>>> {
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(Ok(None));
        }
        // Before waiting, when no event is at stake (it runs Python code, and with it the
        // handler of a pending signal).
        logging::refresh_before_wait(py)?;
        match detached(py, || client.recv_interruptible(deadline, WAIT_SLICE))? {
            Ok(None) => py.check_signals()?,
            other => return Ok(other),
        }
    }
}

/// Converts one event of a batch; after a failed conversion the batch stops (the events
/// after it stay queued) and the error is raised.
pub(crate) fn take_into<'py>(
    py: Python<'py>,
    event: Event,
    batch: &mut Vec<Bound<'py, PyEvent>>,
    failed: &mut Option<PyErr>,
) -> ControlFlow<()> {
    match PyEvent::into_py(py, event) {
        Ok(e) => {
            batch.push(e);
            ControlFlow::Continue(())
        }
        Err(err) => {
            *failed = Some(err);
            ControlFlow::Break(())
        }
    }
}

/// Room for the first events of a batch. Most wake-ups of a paced stream bring one event, so
/// a batch starts small (a 1,024-event batch would cost an 8 KiB allocation per call) and
/// grows by doubling when a backlog is taken.
const FIRST_ROOM: usize = 16;

/// An empty batch for up to `max` events.
pub(crate) fn batch_for<'py>(max: usize) -> Vec<Bound<'py, PyEvent>> {
    Vec::with_capacity(max.min(FIRST_ROOM))
}

/// Runs a take that hands events to a function (up to `max`), converting each into a Python
/// event: the batch as a list, with what the take returned. A failed conversion stops the
/// batch and is raised (the events after it stay queued).
pub(crate) fn collect<'py, R>(
    py: Python<'py>,
    max: usize,
    take: impl FnOnce(&mut dyn FnMut(Event) -> ControlFlow<()>) -> tradewire::Result<R>,
) -> PyResult<(Bound<'py, PyList>, R)> {
    let mut batch = batch_for(max);
    let mut failed = None;
    let done = take(&mut |e| take_into(py, e, &mut batch, &mut failed)).map_err(errors::to_py)?;
    Ok((finish(py, batch, failed)?, done))
}

/// The converted batch as a list, or the conversion's error.
pub(crate) fn finish<'py>(
    py: Python<'py>,
    batch: Vec<Bound<'py, PyEvent>>,
    failed: Option<PyErr>,
) -> PyResult<Bound<'py, PyList>> {
    match failed {
        Some(err) => Err(err),
        None => PyList::new(py, batch),
    }
}
