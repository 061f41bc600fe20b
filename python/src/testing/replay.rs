//! `tradewire.testing.ReplayServer`: the testkit's replay server, serving a recording made
//! with `record=` back to a client (one recorded connection per client connection, at the
//! recorded pace divided by `speed`, each ending as it ended).

use std::path::PathBuf;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tradewire_testkit::ReplayServer;

use super::lock;
use crate::errors::{closed_error, detached, seconds};
use crate::logging;
use std::sync::{Arc, Mutex};

/// Serves a recording (`record=` / `tradewire listen --record`) on 127.0.0.1.
#[pyclass(frozen, name = "ReplayServer", module = "tradewire.testing")]
pub struct PyReplayServer {
    server: Mutex<Option<Arc<ReplayServer>>>,
}

impl Drop for PyReplayServer {
    fn drop(&mut self) {
        // Joining may take a moment: not on the thread that drops the Python object.
        if let Some(server) = lock(&self.server).take() {
            let _ = std::thread::Builder::new()
                .name("tw-replay-close".into())
                .spawn(move || drop(server));
        }
    }
}

impl PyReplayServer {
    fn get(&self, py: Python<'_>) -> PyResult<Arc<ReplayServer>> {
        lock(&self.server)
            .clone()
            .ok_or_else(|| closed_error(py, "the replay server is closed"))
    }
}

#[pymethods]
impl PyReplayServer {
    /// `path`: the recording (its rotated files are read too). `speed`: 1.0 the recorded
    /// pace, 10.0 ten times faster, None as fast as possible.
    #[new]
    #[pyo3(signature = (path, speed=1.0))]
    fn new(py: Python<'_>, path: PathBuf, speed: Option<f64>) -> PyResult<Self> {
        logging::ensure_forwarder(py);
        if speed.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
            return Err(PyValueError::new_err(
                "speed must be above 0, or None for as fast as possible",
            ));
        }
        let server = py
            .detach(|| ReplayServer::from_file(&path, speed))
            .map_err(PyValueError::new_err)?;
        Ok(PyReplayServer {
            server: Mutex::new(Some(Arc::new(server))),
        })
    }

    /// `ws://127.0.0.1:PORT/`.
    #[getter]
    fn url(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.get(py)?.url())
    }

    /// The listening port.
    #[getter]
    fn port(&self, py: Python<'_>) -> PyResult<u16> {
        Ok(self.get(py)?.port())
    }

    /// Recorded connections in the recording.
    #[getter]
    fn total(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.get(py)?.total())
    }

    /// Recorded connections played to their end.
    #[getter]
    fn ended(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.get(py)?.ended())
    }

    /// Every text frame the clients sent, in order.
    fn received(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        Ok(self.get(py)?.received())
    }

    /// Waits until every recorded connection was played to its end; False on timeout.
    #[pyo3(signature = (timeout=10.0))]
    fn wait_finished(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let t: Duration = seconds("timeout", timeout)?;
        let s = self.get(py)?;
        detached(py, move || s.wait_finished(t))
    }

    /// Stops the server and joins its threads; idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let server = lock(&self.server).take();
        detached(py, move || drop(server))
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}
