//! Fault injection of `tradewire.testing`: a stream of numbered messages at a set rate
//! (`StreamHandle`) and the TCP fault proxy (`FaultProxy`: pass, pause, blackhole, trickle,
//! reset).

use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tradewire_testkit::{FaultProxy, ProxyMode, StreamHandle};

use super::*;
use crate::errors::{closed_error, detached, seconds};

/// A running `stream()`: stop it, or let it finish.
#[pyclass(frozen, name = "StreamHandle", module = "tradewire.testing")]
pub struct PyStream {
    pub(super) handle: Mutex<Option<StreamHandle>>,
    pub(super) final_sent: AtomicU64,
}

#[pymethods]
impl PyStream {
    /// Stops the stream; returns how many messages it sent.
    fn stop(&self, py: Python<'_>) -> PyResult<u64> {
        let handle = lock(&self.handle).take();
        if let Some(h) = handle {
            let n = detached(py, move || h.stop())?;
            self.final_sent.store(n, Ordering::SeqCst);
        }
        Ok(self.final_sent.load(Ordering::SeqCst))
    }

    /// Messages sent so far.
    #[getter]
    fn sent(&self) -> u64 {
        match lock(&self.handle).as_ref() {
            Some(h) => h.sent(),
            None => self.final_sent.load(Ordering::SeqCst),
        }
    }

    /// True once `count` messages were sent (or the stream was stopped).
    fn is_finished(&self) -> bool {
        lock(&self.handle).as_ref().is_none_or(|h| h.is_finished())
    }

    /// Waits until finished; False on timeout.
    #[pyo3(signature = (timeout=10.0))]
    fn wait_finished(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let t = seconds("timeout", timeout)?;
        let deadline = std::time::Instant::now().checked_add(t);
        loop {
            if self.is_finished() {
                return Ok(true);
            }
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Ok(false);
            }
            py.detach(|| std::thread::sleep(Duration::from_millis(5)));
            py.check_signals()?;
        }
    }
}

/// A TCP proxy on 127.0.0.1 in front of a server that injects network faults: pause,
/// blackhole (a silently dead path), trickle, reset.
#[pyclass(frozen, name = "FaultProxy", module = "tradewire.testing")]
pub struct PyFaultProxy {
    proxy: Mutex<Option<Arc<FaultProxy>>>,
    path: String,
}

impl PyFaultProxy {
    fn get(&self, py: Python<'_>) -> PyResult<Arc<FaultProxy>> {
        lock(&self.proxy)
            .clone()
            .ok_or_else(|| closed_error(py, "the proxy is closed"))
    }
}

#[pymethods]
impl PyFaultProxy {
    /// `upstream`: a server object (its path is kept in `url`), a port of 127.0.0.1, or
    /// "host:port".
    #[new]
    fn new(py: Python<'_>, upstream: &Bound<'_, PyAny>) -> PyResult<Self> {
        logging::ensure_forwarder(py);
        let (addr, path): (SocketAddr, String) = if let Ok(server) = upstream.cast::<PyWsServer>() {
            let s = server.get().get(py)?;
            let url = s.url();
            let path = url
                .splitn(4, '/')
                .nth(3)
                .map(|p| format!("/{p}"))
                .unwrap_or_default();
            (s.ws().addr(), path)
        } else if let Ok(port) = upstream.extract::<u16>() {
            (SocketAddr::from(([127, 0, 0, 1], port)), String::new())
        } else if let Ok(text) = upstream.extract::<String>() {
            let addr = text
                .parse()
                .map_err(|e| PyValueError::new_err(format!("bad address {text:?}: {e}")))?;
            (addr, String::new())
        } else {
            return Err(PyTypeError::new_err(
                "upstream must be a server, a port or 'host:port'",
            ));
        };
        let proxy = py
            .detach(|| FaultProxy::start(addr))
            .map_err(|e| io_err("could not start the proxy", e))?;
        Ok(PyFaultProxy {
            proxy: Mutex::new(Some(Arc::new(proxy))),
            path,
        })
    }

    /// `ws://127.0.0.1:PORT` plus the upstream server's path.
    #[getter]
    fn url(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("ws://{}{}", self.get(py)?.addr(), self.path))
    }

    /// The proxy's port.
    #[getter]
    fn port(&self, py: Python<'_>) -> PyResult<u16> {
        Ok(self.get(py)?.port())
    }

    /// The current mode: 'pass', 'pause', 'blackhole' or 'trickle'.
    #[getter]
    fn mode(&self, py: Python<'_>) -> PyResult<&'static str> {
        Ok(match self.get(py)?.mode() {
            ProxyMode::Pass => "pass",
            ProxyMode::Pause => "pause",
            ProxyMode::Blackhole => "blackhole",
            ProxyMode::Trickle { .. } => "trickle",
        })
    }

    /// 'pass' forwards; 'pause' holds bytes until 'pass'; 'blackhole' discards them with the
    /// sockets kept open; 'trickle' forwards `bytes` per `every` seconds each way.
    #[pyo3(signature = (mode, bytes=None, every=None))]
    fn set_mode(
        &self,
        py: Python<'_>,
        mode: &str,
        bytes: Option<usize>,
        every: Option<f64>,
    ) -> PyResult<()> {
        let mode = match mode {
            "pass" => ProxyMode::Pass,
            "pause" => ProxyMode::Pause,
            "blackhole" => ProxyMode::Blackhole,
            "trickle" => ProxyMode::Trickle {
                bytes: bytes.unwrap_or(1024),
                every: seconds("every", every.unwrap_or(0.1))?,
            },
            other => {
                return Err(PyValueError::new_err(format!(
                    "mode must be 'pass', 'pause', 'blackhole' or 'trickle', not {other:?}"
                )))
            }
        };
        let proxy = self.get(py)?;
        detached(py, move || proxy.set_mode(mode))
    }

    /// Resets every connection (TCP RST on both sides).
    fn reset_all(&self, py: Python<'_>) -> PyResult<()> {
        let proxy = self.get(py)?;
        detached(py, move || proxy.reset_all())
    }

    /// Connections the proxy carries.
    fn connection_count(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.get(py)?.connection_count())
    }

    /// Stops the proxy and closes its connections; idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let proxy = lock(&self.proxy).take();
        detached(py, move || drop(proxy))
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

impl Drop for PyFaultProxy {
    fn drop(&mut self) {
        if let Some(proxy) = lock(&self.proxy).take() {
            let _ = std::thread::Builder::new()
                .name("tw-proxy-close".into())
                .spawn(move || drop(proxy));
        }
    }
}
