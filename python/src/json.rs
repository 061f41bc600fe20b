//! JSON text to Python objects (a serde visitor that builds them directly, no intermediate
//! tree) and Python objects to JSON values.

use std::fmt;
use std::sync::Mutex;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDelta, PyDict, PyFloat, PyInt, PyList, PyNone, PyString, PyTuple};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::errors::config_error;

/// Deepest nesting `to_json` follows (a self-referencing list would recurse forever).
const MAX_DEPTH: usize = 128;

/// Parses JSON text into Python objects: dicts, lists, str, int, float, bool and None, equal
/// to what `json.loads` gives (same types and values) for every document it accepts.
///
/// The fast path is serde_json driving a visitor that builds the objects directly. It gives
/// up on what it cannot read exactly: nesting deeper than serde_json's 128 levels, numbers
/// that may be integers beyond 64 bits (serde_json reads them as floats), `-0`, numbers out
/// of float range, `NaN`/`Infinity`, lone surrogate escapes, and invalid JSON. Those
/// documents go to [`crate::json_exact`], which reads any depth without recursion and says
/// where and why a document is invalid.
pub fn to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    // One lock per document, not per key. `try_lock`: a conversion can run Python code
    // (a garbage collection finalizer) that converts another document; that one goes uncached.
    let mut guard = KEYS.try_lock().ok();
    let keys = guard.as_deref_mut();
    let mut de = serde_json::Deserializer::from_str(text);
    let fast = Seed { py, keys }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match fast {
        Ok(value) => Ok(value),
        Err(_) => {
            drop(guard);
            crate::json_exact::to_py(py, text)
        }
    }
}

/// The smallest magnitude at which serde_json may have read an integer literal as a float
/// (2^63: an integer beyond `i64`/`u64` comes to the visitor as an `f64`).
const MAYBE_BIG_INT: f64 = 9_223_372_036_854_775_808.0;

/// One JSON value (a member of a payload) as a Python object: integers and plain strings
/// directly, anything else through [`to_py`].
pub fn value_to_py<'py>(py: Python<'py>, raw: &str) -> PyResult<Bound<'py, PyAny>> {
    let b = raw.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if !digits.is_empty() && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit) {
        // At most 18 digits always fits an i64; longer ones go to to_py (big ints).
        if let Ok(i) = raw.parse::<i64>() {
            return Ok(PyInt::new(py, i).into_any());
        }
    }
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        if !inner.contains('\\') {
            return Ok(PyString::new(py, inner).into_any());
        }
    }
    to_py(py, raw)
}

/// A short string that repeats (a message type) as a cached, interned Python string.
pub fn cached_str<'py>(py: Python<'py>, s: &str) -> Bound<'py, PyString> {
    match KEYS.try_lock() {
        Ok(mut cache) => cache.get(py, s),
        Err(_) => PyString::new(py, s),
    }
}

/// Builds one Python value from the deserializer.
struct Seed<'k, 'py> {
    py: Python<'py>,
    keys: Option<&'k mut KeyCache>,
}

impl<'k, 'py> Seed<'k, 'py> {
    fn reborrow(&mut self) -> Seed<'_, 'py> {
        Seed {
            py: self.py,
            keys: self.keys.as_deref_mut(),
        }
    }
}

fn py_err<E: de::Error>(e: PyErr) -> E {
    E::custom(e)
}

impl<'de, 'py> DeserializeSeed<'de> for Seed<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'py> Visitor<'de> for Seed<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.py, v).to_owned().into_any())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.py, v).into_any())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.py, v).into_any())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // A float this large may have been an integer literal beyond 64 bits, and a negative
        // zero may have been `-0` (an int for json.loads): the exact reader decides.
        if v.abs() >= MAYBE_BIG_INT || (v == 0.0 && v.is_sign_negative()) {
            return Err(E::custom("left to the exact reader"));
        }
        Ok(PyFloat::new(self.py, v).into_any())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.py, v).into_any())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(PyNone::get(self.py).to_owned().into_any())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(self.reborrow())? {
            items.push(item);
        }
        Ok(PyList::new(self.py, items).map_err(py_err)?.into_any())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.py);
        while let Some(key) = map.next_key_seed(KeySeed {
            py: self.py,
            keys: self.keys.as_deref_mut(),
        })? {
            let value = map.next_value_seed(self.reborrow())?;
            dict.set_item(key, value).map_err(py_err)?;
        }
        Ok(dict.into_any())
    }
}

/// Builds a dict key, through the key cache.
struct KeySeed<'k, 'py> {
    py: Python<'py>,
    keys: Option<&'k mut KeyCache>,
}

impl<'de, 'py> DeserializeSeed<'de> for KeySeed<'_, 'py> {
    type Value = Bound<'py, PyString>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'py> Visitor<'de> for KeySeed<'_, 'py> {
    type Value = Bound<'py, PyString>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(match self.keys {
            Some(cache) => cache.get(self.py, v),
            None => PyString::new(self.py, v),
        })
    }
}

/// Recently seen dict keys as interned Python strings: the keys of a stream repeat, and a
/// cached key costs a hash and a compare instead of a new string (whose own hash Python would
/// compute again on insertion).
struct KeyCache {
    slots: Vec<Option<(Box<str>, Py<PyString>)>>,
}

const KEY_SLOTS: usize = 1024;
const MAX_CACHED_KEY: usize = 64;

static KEYS: Mutex<KeyCache> = Mutex::new(KeyCache { slots: Vec::new() });

impl KeyCache {
    fn get<'py>(&mut self, py: Python<'py>, key: &str) -> Bound<'py, PyString> {
        if key.len() > MAX_CACHED_KEY {
            return PyString::new(py, key);
        }
        if self.slots.is_empty() {
            self.slots.resize_with(KEY_SLOTS, || None);
        }
        let slot = &mut self.slots[key_hash(key.as_bytes()) % KEY_SLOTS];
        if let Some((k, s)) = slot {
            if same(k.as_bytes(), key.as_bytes()) {
                return s.bind(py).clone();
            }
        }
        let s = PyString::intern(py, key);
        *slot = Some((key.into(), s.clone().unbind()));
        s
    }
}

/// The slot of a key: its length and its first and last (up to) eight bytes, mixed. Every
/// key of a payload goes through here, so it reads two words instead of every byte (an
/// FNV-1a loop over the bytes was a visible cost per event); a collision only costs a miss.
fn key_hash(b: &[u8]) -> usize {
    let word = |s: &[u8]| {
        let mut w = [0u8; 8];
        w[..s.len()].copy_from_slice(s);
        u64::from_le_bytes(w)
    };
    let n = b.len();
    let head = word(&b[..n.min(8)]);
    let tail = word(&b[n.saturating_sub(8)..]);
    let mut h = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= head.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= tail.rotate_left(29).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    (h ^ (h >> 29) ^ (h >> 47)) as usize
}

/// Whether two short byte strings are equal, without a call to `memcmp`.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Converts a Python value to JSON: None, bool, int, float, str, dict (string keys), list and
/// tuple, and `datetime.timedelta` as seconds. Anything else is a `TypeError`.
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_json_at(obj, 0)
}

fn to_json_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "nested deeper than {MAX_DEPTH} levels (or a circular reference)"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast_exact::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyValueError::new_err(format!(
            "the integer {} does not fit in 64 bits",
            obj.repr()?
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return float(f.value());
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            map.insert(dict_key(&k)?, to_json_at(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        let mut items = Vec::with_capacity(l.len());
        for item in l.iter() {
            items.push(to_json_at(&item, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        let mut items = Vec::with_capacity(t.len());
        for item in t.iter() {
            items.push(to_json_at(&item, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    if obj.is_instance_of::<PyDelta>() {
        let seconds: f64 = obj.call_method0("total_seconds")?.extract()?;
        return float(seconds);
    }
    Err(PyTypeError::new_err(format!(
        "an object of type {} cannot be converted to JSON",
        type_name(obj)
    )))
}

/// Serializes a Python value to JSON text, keeping the order of dict keys (what `json.dumps`
/// does, without spaces). Accepts the same types as [`to_json`].
pub fn to_json_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let mut out = Vec::with_capacity(128);
    write_json(obj, &mut out, 0)?;
    String::from_utf8(out).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn write_json(obj: &Bound<'_, PyAny>, out: &mut Vec<u8>, depth: usize) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "nested deeper than {MAX_DEPTH} levels (or a circular reference)"
        )));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        out.push(b'{');
        for (i, (k, v)) in d.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_scalar(&Value::String(dict_key(&k)?), out)?;
            out.push(b':');
            write_json(&v, out, depth + 1)?;
        }
        out.push(b'}');
        return Ok(());
    }
    let items: Option<Vec<Bound<'_, PyAny>>> = if let Ok(l) = obj.cast::<PyList>() {
        Some(l.iter().collect())
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        Some(t.iter().collect())
    } else {
        None
    };
    if let Some(items) = items {
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_json(item, out, depth + 1)?;
        }
        out.push(b']');
        return Ok(());
    }
    // Scalars (and timedelta) go through the Value conversion.
    write_scalar(&to_json_at(obj, depth)?, out)
}

fn write_scalar(v: &Value, out: &mut Vec<u8>) -> PyResult<()> {
    serde_json::to_writer(out, v).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A dict key as JSON object key: str, or int written in decimal.
fn dict_key(k: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = k.cast::<PyString>() {
        Ok(s.to_cow()?.into_owned())
    } else if k.is_instance_of::<PyInt>() && !k.is_instance_of::<PyBool>() {
        Ok(k.str()?.to_cow()?.into_owned())
    } else {
        Err(PyTypeError::new_err(format!(
            "dict keys must be str or int, not {}",
            type_name(k)
        )))
    }
}

fn float(f: f64) -> PyResult<Value> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| PyValueError::new_err(format!("{f} cannot be represented in JSON")))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// The keyword arguments as one JSON object; a value that has no JSON form is a
/// `ConfigError` naming its argument.
pub(crate) fn config_value(
    py: Python<'_>,
    url: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Value> {
    let mut map = Map::new();
    if let Some(url) = url.filter(|u| !u.is_none()) {
        let v = to_json(url).map_err(|e| config_error(py, "url", &e.value(py).to_string()))?;
        map.insert("url".into(), v);
    }
    if let Some(kwargs) = kwargs {
        for (k, v) in kwargs.iter() {
            let key: String = k.extract()?;
            let value =
                to_json(&v).map_err(|e| config_error(py, &key, &e.value(py).to_string()))?;
            map.insert(key, value);
        }
    }
    Ok(Value::Object(map))
}
