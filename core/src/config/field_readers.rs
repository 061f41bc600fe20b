//! Fields whose reading is more than a type: their readers, named by the declarations in
//! `fields.rs` (`read: with(preset, ...)`).

use serde_json::Value;

use super::reader::{self, Reader};
use super::Config;
use crate::preset::Preset;

/// `preset`: one of the preset names.
pub(super) fn preset(r: &mut Reader, c: &mut Config, key: &str, v: Value) {
    let name: Option<String> = r.get(key, v, "a preset name");
    if let Some(n) = name {
        match Preset::from_name(&n) {
            Some(p) => c.preset = Some(p),
            None => r.push(
                key,
                format!("unknown preset {n:?}; expected one of json, daemon, agent, breakout, tradovate, raw, metis"),
            ),
        }
    }
}

/// `token_file`: a path; `false`, `null` or `""` for no file.
pub(super) fn token_file(r: &mut Reader, c: &mut Config, key: &str, v: Value) {
    c.token_file = match v {
        Value::Null | Value::Bool(false) => Some(None),
        Value::String(s) => Some((!s.is_empty()).then_some(s)),
        other => {
            r.push(
                key,
                format!(
                    "expected a file path, or false (or null) for none, got {}",
                    reader::kind_of(&other)
                ),
            );
            None
        }
    };
}

/// Document 004's `protocol`.
pub(super) fn protocol(r: &mut Reader, c: &mut Config, key: &str, v: Value) {
    c.metis.any = true;
    c.metis.protocol = r.get(key, v, "\"ws\" or \"wss\"");
}

/// Document 004's `host`.
pub(super) fn host(r: &mut Reader, c: &mut Config, key: &str, v: Value) {
    c.metis.any = true;
    c.metis.host = r.get(key, v, "a host name, optionally with :port");
}

/// Document 004's `port` (0 means "the scheme's default").
pub(super) fn port(r: &mut Reader, c: &mut Config, key: &str, v: Value) {
    c.metis.any = true;
    c.metis.port = r
        .get::<u16>(key, v, "a port number (1-65535)")
        .filter(|p| *p != 0);
}

/// Document 004's `rejectUnauthorized`: `verify_tls` by another name.
pub(super) fn reject_unauthorized(r: &mut Reader, c: &mut Config, key: &str, v: Value) {
    c.verify_tls = r.get(key, v, "true or false");
}

/// Document 004's `connectTimeout`, in milliseconds.
pub(super) fn connect_timeout_ms(r: &mut Reader, c: &mut Config, key: &str, v: Value) {
    c.metis.connect_timeout_ms = r.get(key, v, "milliseconds (1000-60000)");
}
