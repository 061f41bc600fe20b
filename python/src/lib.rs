//! The `tradewire._native` extension module: Python bindings of the `tradewire` core.
//!
//! Thin by design: behaviour lives in the core; this crate converts arguments and results,
//! releases the GIL around everything that can wait, maps errors to exceptions and forwards
//! log records to Python's `logging`. The Python package around it is `python/tradewire/`.

use pyo3::prelude::*;

mod client;
mod errors;
mod event;
mod frames;
mod json;
mod json_exact;
mod listeners;
mod logging;
mod subscriptions;
mod testing;
mod waiting;

/// Stops background work before the interpreter finalizes (registered with `atexit`):
/// closes clients that have callbacks and flushes log records.
#[pyfunction]
fn _shutdown(py: Python<'_>) {
    listeners::shutdown(py);
    logging::shutdown(py);
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install(m.py())?;
    errors::register(m)?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<event::PyEvent>()?;
    testing::register(m)?;
    m.add_function(wrap_pyfunction!(_shutdown, m)?)?;
    m.add("__version__", tradewire::VERSION)?;
    Ok(())
}
