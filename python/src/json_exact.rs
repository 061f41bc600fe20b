//! The exact JSON reader: Python objects equal to what `json.loads` gives, for the documents
//! the fast reader (`json::to_py`, serde_json) cannot read that way. It is the slow path, used
//! only when the fast one gives up, so it is written for fidelity rather than speed:
//!
//! - integers of any size (a Python `int`, not a float, beyond 64 bits);
//! - numbers out of `float` range (`1e400` is `inf`, as `float("1e400")` is) and `-0` (an
//!   `int`);
//! - `NaN`, `Infinity` and `-Infinity`, which `json.loads` accepts;
//! - lone surrogate escapes (`"\ud800"` is a `str` holding that code point);
//! - any depth: one loop with an explicit stack, no recursion, so no document can overflow
//!   the thread's stack (deeper than serde_json's 128 levels, deeper than `json.loads` goes).
//!
//! Errors are `ValueError`s that say what is wrong and where (line, column, character offset);
//! an integer longer than Python's `sys.get_int_max_str_digits()` is refused by `int()` itself,
//! as `json.loads` refuses it.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyNone, PyString};

/// Parses a whole JSON document (with whitespace around it) as `json.loads` would.
pub fn to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    Reader {
        py,
        text,
        b: text.as_bytes(),
        i: 0,
    }
    .document()
}

/// An open container and, for an object, the key whose value is being read.
enum Open<'py> {
    List(Bound<'py, PyList>),
    Dict(Bound<'py, PyDict>, Bound<'py, PyString>),
}

/// One escape sequence of a string: the code point it stands for, the position after it, and
/// whether it is a lone surrogate.
struct Escape {
    point: u32,
    next: usize,
    lone: bool,
}

struct Reader<'py, 't> {
    py: Python<'py>,
    text: &'t str,
    b: &'t [u8],
    i: usize,
}

impl<'py> Reader<'py, '_> {
    fn document(&mut self) -> PyResult<Bound<'py, PyAny>> {
        let mut stack: Vec<Open<'py>> = Vec::new();
        'value: loop {
            self.ws();
            let Some(mut value) = self.value_or_open(&mut stack)? else {
                continue 'value;
            };
            // A value is complete: it goes into the innermost open container, and each
            // container that closes after it is itself a complete value.
            loop {
                let Some(open) = stack.last() else {
                    self.ws();
                    if self.i != self.b.len() {
                        return Err(self.error("extra data after the JSON value"));
                    }
                    return Ok(value);
                };
                match open {
                    Open::List(list) => {
                        list.append(&value)?;
                        self.ws();
                        match self.peek() {
                            Some(b',') => {
                                self.i += 1;
                                continue 'value;
                            }
                            Some(b']') => self.i += 1,
                            _ => return Err(self.error("expecting ',' or ']' in an array")),
                        }
                    }
                    Open::Dict(dict, key) => {
                        dict.set_item(key, &value)?;
                        self.ws();
                        match self.peek() {
                            Some(b',') => {
                                self.i += 1;
                                self.ws();
                                let key = self.key()?;
                                if let Some(Open::Dict(_, k)) = stack.last_mut() {
                                    *k = key;
                                }
                                continue 'value;
                            }
                            Some(b'}') => self.i += 1,
                            _ => return Err(self.error("expecting ',' or '}' in an object")),
                        }
                    }
                }
                // The innermost container closed: it is the value to place next.
                value = match stack.pop() {
                    Some(Open::List(list)) => list.into_any(),
                    Some(Open::Dict(dict, _)) => dict.into_any(),
                    None => return Err(self.error("unbalanced containers")),
                };
            }
        }
    }

    /// The value at the current position, or `None` when it opens a container that is not
    /// empty: that container is pushed on `stack` and its first value is read next.
    fn value_or_open(&mut self, stack: &mut Vec<Open<'py>>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(Some(match self.peek() {
            Some(b'{') => {
                self.i += 1;
                self.ws();
                let dict = PyDict::new(self.py);
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    dict.into_any()
                } else {
                    let key = self.key()?;
                    stack.push(Open::Dict(dict, key));
                    return Ok(None);
                }
            }
            Some(b'[') => {
                self.i += 1;
                self.ws();
                let list = PyList::empty(self.py);
                if self.peek() == Some(b']') {
                    self.i += 1;
                    list.into_any()
                } else {
                    stack.push(Open::List(list));
                    return Ok(None);
                }
            }
            _ => self.scalar()?,
        }))
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// An object key and its colon.
    fn key(&mut self) -> PyResult<Bound<'py, PyString>> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expecting a property name enclosed in double quotes"));
        }
        let key = self.string()?;
        self.ws();
        if self.peek() != Some(b':') {
            return Err(self.error("expecting ':' after a property name"));
        }
        self.i += 1;
        Ok(key)
    }

    /// A string, number or literal at the current position.
    fn scalar(&mut self) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let rest = &self.b[self.i..];
        let literal = |word: &[u8]| rest.starts_with(word);
        Ok(match self.peek() {
            Some(b'"') => self.string()?.into_any(),
            Some(b'-' | b'0'..=b'9') if !literal(b"-Infinity") => self.number()?,
            _ if literal(b"null") => {
                self.i += 4;
                PyNone::get(py).to_owned().into_any()
            }
            _ if literal(b"true") => {
                self.i += 4;
                PyBool::new(py, true).to_owned().into_any()
            }
            _ if literal(b"false") => {
                self.i += 5;
                PyBool::new(py, false).to_owned().into_any()
            }
            _ if literal(b"NaN") => {
                self.i += 3;
                PyFloat::new(py, f64::NAN).into_any()
            }
            _ if literal(b"Infinity") => {
                self.i += 8;
                PyFloat::new(py, f64::INFINITY).into_any()
            }
            _ if literal(b"-Infinity") => {
                self.i += 9;
                PyFloat::new(py, f64::NEG_INFINITY).into_any()
            }
            _ => return Err(self.error("expecting a value")),
        })
    }

    /// An RFC 8259 number: an `int` when it has no fraction and no exponent (any size), else
    /// a `float` rounded as Python's `float()` rounds (`inf` beyond its range).
    fn number(&mut self) -> PyResult<Bound<'py, PyAny>> {
        let start = self.i;
        let b = self.b;
        let digits = |mut j: usize| {
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            j
        };
        let mut j = start + usize::from(b[start] == b'-');
        match b.get(j) {
            Some(b'0') => j += 1,
            Some(b'1'..=b'9') => j = digits(j + 1),
            _ => {
                self.i = j;
                return Err(self.error("expecting a digit"));
            }
        }
        let mut integer = true;
        if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
            integer = false;
            j = digits(j + 1);
        }
        if let Some(b'e' | b'E') = b.get(j) {
            let mut k = j + 1;
            if let Some(b'+' | b'-') = b.get(k) {
                k += 1;
            }
            if b.get(k).is_some_and(u8::is_ascii_digit) {
                integer = false;
                j = digits(k);
            }
        }
        // What json.loads does with `1.` or `1e`: the number ends before the dot, and the dot
        // is then unexpected (reported by the caller as extra data or a missing separator).
        self.i = j;
        let literal = &self.text[start..j];
        if integer {
            if literal.len() <= 18 {
                if let Ok(i) = literal.parse::<i64>() {
                    return Ok(PyInt::new(self.py, i).into_any());
                }
            }
            // Python's own conversion: exact at any size, and refused past
            // sys.get_int_max_str_digits() with Python's message, as json.loads refuses it.
            return self.py.get_type::<PyInt>().call1((literal,));
        }
        match literal.parse::<f64>() {
            Ok(f) => Ok(PyFloat::new(self.py, f).into_any()),
            Err(e) => Err(self.error(&format!("the number {literal} cannot be read: {e}"))),
        }
    }

    /// A string at `"`: its text, with escapes decoded as `json.loads` decodes them (a
    /// surrogate pair is one character, a lone surrogate stays a code point of its own).
    fn string(&mut self) -> PyResult<Bound<'py, PyString>> {
        let start = self.i + 1;
        let mut j = start;
        // The plain case: no escape.
        loop {
            match self.b.get(j) {
                Some(b'"') => {
                    self.i = j + 1;
                    return Ok(PyString::new(self.py, &self.text[start..j]));
                }
                Some(b'\\') => return self.escaped_string(start, j),
                Some(c) if *c < 0x20 => {
                    self.i = j;
                    return Err(self.error("invalid control character in a string"));
                }
                Some(_) => j += 1,
                None => {
                    self.i = start - 1;
                    return Err(self.error("unterminated string"));
                }
            }
        }
    }

    /// The rest of a string whose text starts at `start` (after its quote), from its first
    /// escape at `j`: read as code points, so that a lone surrogate can be kept.
    fn escaped_string(&mut self, start: usize, mut j: usize) -> PyResult<Bound<'py, PyString>> {
        let mut points: Vec<u32> = self.text[start..j].chars().map(u32::from).collect();
        let mut lone = false;
        loop {
            match self.b.get(j) {
                Some(b'"') => {
                    self.i = j + 1;
                    break;
                }
                Some(b'\\') => {
                    let escape = self.escape(j)?;
                    lone |= escape.lone;
                    points.push(escape.point);
                    j = escape.next;
                }
                Some(c) if *c < 0x20 => {
                    self.i = j;
                    return Err(self.error("invalid control character in a string"));
                }
                Some(_) => {
                    // A run of plain characters up to the next quote, escape or control.
                    let run_end = self.b[j..]
                        .iter()
                        .position(|c| *c == b'"' || *c == b'\\' || *c < 0x20)
                        .map_or(self.b.len(), |n| j + n);
                    points.extend(self.text[j..run_end].chars().map(u32::from));
                    j = run_end;
                }
                None => {
                    self.i = start - 1;
                    return Err(self.error("unterminated string"));
                }
            }
        }
        self.string_of_points(&points, lone)
    }

    /// The escape at `j` (its backslash): the code point it stands for and where the string
    /// goes on. A `\uXXXX` high surrogate followed by a `\uXXXX` low one is one character.
    fn escape(&mut self, j: usize) -> PyResult<Escape> {
        let simple = |point: u32| Escape {
            point,
            next: j + 2,
            lone: false,
        };
        Ok(match self.b.get(j + 1) {
            Some(b'"') => simple(u32::from('"')),
            Some(b'\\') => simple(u32::from('\\')),
            Some(b'/') => simple(u32::from('/')),
            Some(b'b') => simple(0x08),
            Some(b'f') => simple(0x0c),
            Some(b'n') => simple(u32::from('\n')),
            Some(b'r') => simple(u32::from('\r')),
            Some(b't') => simple(u32::from('\t')),
            Some(b'u') => {
                let Some(high) = self.hex4(j + 2) else {
                    self.i = j;
                    return Err(self.error("invalid \\uXXXX escape"));
                };
                let low = (self.b.get(j + 6..j + 8) == Some(b"\\u"))
                    .then(|| self.hex4(j + 8))
                    .flatten();
                match low {
                    Some(low)
                        if (0xD800..0xDC00).contains(&high) && (0xDC00..0xE000).contains(&low) =>
                    {
                        Escape {
                            point: 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00),
                            next: j + 12,
                            lone: false,
                        }
                    }
                    _ => Escape {
                        point: high,
                        next: j + 6,
                        lone: (0xD800..0xE000).contains(&high),
                    },
                }
            }
            _ => {
                self.i = j;
                return Err(self.error("invalid escape"));
            }
        })
    }

    /// A Python `str` of the code points `points`; `lone` when one of them is a lone
    /// surrogate, which a Rust string cannot hold but Python's UTF-32 decoder can build.
    fn string_of_points(&self, points: &[u32], lone: bool) -> PyResult<Bound<'py, PyString>> {
        if !lone {
            let s: String = points.iter().filter_map(|p| char::from_u32(*p)).collect();
            return Ok(PyString::new(self.py, &s));
        }
        let bytes: Vec<u8> = points.iter().flat_map(|p| p.to_le_bytes()).collect();
        let s =
            PyBytes::new(self.py, &bytes).call_method1("decode", ("utf-32-le", "surrogatepass"))?;
        Ok(s.cast_into::<PyString>()?)
    }

    /// Four hex digits at `at`.
    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.b.get(at..at + 4)?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    }

    /// `invalid JSON: <what> at line L column C (char N)`, positions as `json.loads` counts
    /// them (characters, from 1 for lines and columns, from 0 for the offset).
    fn error(&self, what: &str) -> PyErr {
        let at = self.i.min(self.b.len());
        let before = self.text.get(..at).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
        let column = before[line_start..].chars().count() + 1;
        let offset = before.chars().count();
        PyValueError::new_err(format!(
            "invalid JSON: {what} at line {line} column {column} (char {offset})"
        ))
    }
}
