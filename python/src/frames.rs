//! What Python values become on the wire: a frame to send, a request's JSON text.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::json;

/// str, bytes, dict or list as the text (or bytes) of a frame.
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

/// A frame from str (text), bytes or bytearray (binary), dict, list or tuple (JSON text);
/// `what` names the call in the TypeError for anything else.
pub fn frame_of(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Frame> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Frame::Text(s.to_cow()?.into_owned()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Frame::Binary(b.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Frame::Binary(b.to_vec()));
    }
    if obj.is_instance_of::<PyDict>()
        || obj.is_instance_of::<PyList>()
        || obj.is_instance_of::<PyTuple>()
    {
        return json::to_json_text(obj).map(Frame::Text);
    }
    Err(PyTypeError::new_err(format!(
        "{what} takes str, bytes, dict or list, not {}",
        obj.get_type().name()?
    )))
}

/// JSON text from str (as is), dict or list (serialized); bytes are a TypeError naming `what`.
pub fn json_text(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    match frame_of(obj, what)? {
        Frame::Text(t) => Ok(t),
        Frame::Binary(_) => Err(PyTypeError::new_err(format!(
            "{what} takes str, dict or list, not bytes"
        ))),
    }
}

/// A request's body as JSON text: str as is, dict or list serialized; None or absent: none.
pub fn request_body(body: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    body.filter(|b| !b.is_none())
        .map(|b| json_text(b, "request() body"))
        .transpose()
}
