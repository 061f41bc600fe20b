//! permessage-deflate (RFC 7692): what the client offers in its handshake, what it accepts in
//! the server's answer, and (in `codec`) the compressor and decompressor of one connection.
//!
//! The offer is the one browsers and Python `websockets` make:
//! `permessage-deflate; client_max_window_bits`. The server's answer is checked strictly: an
//! extension we did not offer, a parameter we do not know, a repeated parameter or a value
//! out of range fails the connection (RFC 6455 §9.1, RFC 7692 §5).

mod codec;

pub(crate) use codec::{Deflater, InflateError, Inflater};

/// How messages are compressed on the wire (`compression`; `None` turns it off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// permessage-deflate (RFC 7692), when the server accepts it.
    Deflate,
}

impl Compression {
    /// The name in configurations.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Deflate => "deflate",
        }
    }
}

/// The `Sec-WebSocket-Extensions` header value the client sends.
pub(crate) const OFFER: &str = "permessage-deflate; client_max_window_bits";

/// What the server agreed to (RFC 7692 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// We reset our compressor after every message.
    pub client_no_context_takeover: bool,
    /// The server's window, 8..=15.
    pub server_max_window_bits: u8,
    /// Our window, 8..=15 (zlib compresses with at least 9 bits, so 8 is compressed with 9).
    pub client_max_window_bits: u8,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

/// Reads the server's `Sec-WebSocket-Extensions` answer (all its header lines, in order).
/// `Ok(None)`: no extension. `offered`: whether we offered permessage-deflate at all. Pure.
pub(crate) fn accept(values: &[&str], offered: bool) -> Result<Option<Params>, String> {
    let mut found = None;
    for item in values.iter().flat_map(|v| v.split(',')) {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        if name.is_empty() {
            if item.trim().is_empty() {
                continue;
            }
            return Err(format!("an empty extension name in `{}`", item.trim()));
        }
        if !name.eq_ignore_ascii_case("permessage-deflate") || !offered {
            return Err(format!(
                "the extension `{name}`, which the client did not offer"
            ));
        }
        if found.is_some() {
            return Err("permessage-deflate twice".into());
        }
        found = Some(params(parts)?);
    }
    Ok(found)
}

/// The parameters of the server's permessage-deflate answer.
fn params<'a>(parts: impl Iterator<Item = &'a str>) -> Result<Params, String> {
    let mut p = Params::default();
    let mut seen: Vec<String> = Vec::new();
    for part in parts {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim(), Some(unquote(v.trim()))),
            None => (part, None),
        };
        let key = key.to_ascii_lowercase();
        if seen.contains(&key) {
            return Err(format!("the parameter `{key}` twice"));
        }
        match (key.as_str(), value) {
            ("server_no_context_takeover", None) => p.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => p.client_no_context_takeover = true,
            ("server_max_window_bits", Some(v)) => p.server_max_window_bits = bits(&key, v)?,
            ("client_max_window_bits", Some(v)) => p.client_max_window_bits = bits(&key, v)?,
            ("server_no_context_takeover" | "client_no_context_takeover", Some(v)) => {
                return Err(format!("the parameter `{key}` with a value (`{v}`)"))
            }
            ("server_max_window_bits" | "client_max_window_bits", None) => {
                return Err(format!("the parameter `{key}` without a value"))
            }
            _ => return Err(format!("the unknown parameter `{part}`")),
        }
        seen.push(key);
    }
    Ok(p)
}

/// A window size parameter: 8 to 15, digits only (RFC 7692 §7.1.2).
fn bits(key: &str, v: &str) -> Result<u8, String> {
    match v.parse::<u8>() {
        Ok(n @ 8..=15) if v.bytes().all(|b| b.is_ascii_digit()) && !v.starts_with('0') => Ok(n),
        _ => Err(format!("`{key}={v}` (it must be 8 to 15)")),
    }
}

/// A quoted-string value without its quotes.
fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

#[cfg(test)]
mod tests;
