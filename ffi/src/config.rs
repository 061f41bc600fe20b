//! `tw_client_config`: the configuration a client runs on, read-only, as JSON (the core's
//! `Client::config()`).

use std::ffi::c_char;
use std::ptr;

use crate::client::{client_ref, tw_client};
use crate::error::guard_value;
use crate::strings::into_c_string;

/// The configuration the client runs on as a JSON object: every default applied, the same
/// object as Python's `client.config`. preset, url (secrets redacted), protocol, host, port,
/// connect_timeout (seconds), verify_tls, document 004's rejectUnauthorized and
/// connectTimeout (milliseconds), heartbeat_interval, heartbeat_timeout, reconnect, backoff,
/// backoff_initial, backoff_max, backoff_factor, jitter, max_reconnect_attempts (null: no
/// limit), account_id, types, queue_capacity, overflow, history, max_message_size,
/// fatal_close_codes, request_id_field, ping_type, inline_reads, busy_poll. No token, credentials or
/// headers are in it. A copy: changing it changes nothing.
///
/// Ownership: returns a new string owned by the caller; free it with `tw_string_free`.
/// Threads: any thread, at any time.
/// Errors: NULL, with `tw_last_error()` set, when `client` is NULL.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn tw_client_config(client: *mut tw_client) -> *mut c_char {
    guard_value(ptr::null_mut(), || {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_config") }?;
        Ok(into_c_string(c.inner.config().to_json().to_string()))
    })
}
