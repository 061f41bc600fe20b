//! Subscriptions that survive reconnects: `tw_client_subscribe`, `tw_client_subscribe_request`,
//! `tw_client_unsubscribe`, `tw_client_subscriptions` (the core's registry).

use std::ffi::c_char;
use std::ptr;

use tradewire_core::Subscription;

use crate::client::{client_ref, tw_client};
use crate::error::{guard_result, guard_value};
use crate::result::tw_result;
use crate::strings::{into_c_string, opt_str_arg, str_arg};

/// Records a subscription under `key` (NULL: the message itself is the key): `message` is
/// sent now if the connection is live, and again after every later (re)connect and login,
/// in the order subscriptions were made, after the `on_connect` messages; the first
/// application message of a new connection goes out after all of them. Subscribing a key
/// again replaces its entry in place (the same message is not sent twice while live).
/// `unsubscribe` (NULL: none) is sent by `tw_client_unsubscribe` while live. Works before
/// `tw_client_start` and across `tw_client_disconnect`/`tw_client_connect`; the registry
/// ends with `tw_client_close`. Messages sent with `tw_client_send_text` are never replayed.
///
/// Ownership: `message`, `key` and `unsubscribe` stay the caller's (copied).
/// Threads: any thread.
/// Errors: `TW_ERR_CLOSED` after close; the write's error when the live connection could
/// not take the message (the entry stays recorded); `TW_ERR_INVALID_ARGUMENT` for NULL
/// `client` or `message`, or non-UTF-8 text.
///
/// # Safety
/// `client` must be NULL or a live client; the strings NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tw_client_subscribe(
    client: *mut tw_client,
    message: *const c_char,
    key: *const c_char,
    unsubscribe: *const c_char,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_subscribe";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        // SAFETY: forwarded from the caller.
        let message = unsafe { str_arg(message, F, "message") }?;
        // SAFETY: forwarded from the caller.
        let key = unsafe { opt_str_arg(key, F, "key") }?;
        // SAFETY: forwarded from the caller.
        let unsubscribe = unsafe { opt_str_arg(unsubscribe, F, "unsubscribe") }?;
        let mut s = Subscription::message(message);
        if let Some(k) = key {
            s = s.key(k);
        }
        if let Some(u) = unsubscribe {
            s = s.unsubscribe(u);
        }
        c.inner.subscribe(s)?;
        Ok(tw_result::TW_OK)
    })
}

/// Tradovate: records a subscription sent as a request to `endpoint` with `body_json` (NULL:
/// no body), with a fresh id after every login and `user/syncrequest`; its answer is
/// checked, and a refusal arrives as an `error` event of kind `subscription_failed` naming
/// the endpoint (not retried). `unsubscribe_endpoint` (NULL: none) is requested, with the
/// same body, by `tw_client_unsubscribe` while live. `key` NULL: the endpoint, a space and
/// the body.
///
/// Ownership: the strings stay the caller's (copied).
/// Threads: any thread.
/// Errors: `TW_ERR_USAGE` on presets other than tradovate or for a bad endpoint, otherwise as
/// `tw_client_subscribe`.
///
/// # Safety
/// `client` must be NULL or a live client; the strings NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tw_client_subscribe_request(
    client: *mut tw_client,
    endpoint: *const c_char,
    body_json: *const c_char,
    unsubscribe_endpoint: *const c_char,
    key: *const c_char,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_subscribe_request";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        // SAFETY: forwarded from the caller.
        let endpoint = unsafe { str_arg(endpoint, F, "endpoint") }?;
        // SAFETY: forwarded from the caller.
        let body = unsafe { opt_str_arg(body_json, F, "body_json") }?;
        // SAFETY: forwarded from the caller.
        let unsub = unsafe { opt_str_arg(unsubscribe_endpoint, F, "unsubscribe_endpoint") }?;
        // SAFETY: forwarded from the caller.
        let key = unsafe { opt_str_arg(key, F, "key") }?;
        let mut s = Subscription::request(endpoint, body);
        if let Some(u) = unsub {
            s = s.unsubscribe_endpoint(u);
        }
        if let Some(k) = key {
            s = s.key(k);
        }
        c.inner.subscribe(s)?;
        Ok(tw_result::TW_OK)
    })
}

/// Forgets the subscription with `key` (it is not replayed any more) and, if it has an
/// unsubscribe message and the live connection had the subscription, sends that message.
/// `*out_removed` (may be NULL) is set to whether a subscription had the key.
///
/// Ownership: `key` stays the caller's.
/// Threads: any thread.
/// Errors: `TW_ERR_CLOSED` after close; `TW_ERR_INVALID_ARGUMENT` for NULL `client` or `key`,
/// or non-UTF-8 text.
///
/// # Safety
/// `client` must be NULL or a live client; `key` NULL or NUL-terminated; `out_removed` NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_unsubscribe(
    client: *mut tw_client,
    key: *const c_char,
    out_removed: *mut bool,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_unsubscribe";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        // SAFETY: forwarded from the caller.
        let key = unsafe { str_arg(key, F, "key") }?;
        let removed = c.inner.unsubscribe(key)?;
        if !out_removed.is_null() {
            // SAFETY: checked non-NULL; the caller promises it is writable.
            unsafe { *out_removed = removed };
        }
        Ok(tw_result::TW_OK)
    })
}

/// The live set of subscriptions, in replay order, as a JSON array of objects (the same as
/// Python's `subscriptions()`): `{"key","message","unsubscribe"}`, or for requests
/// `{"key","endpoint","body","unsubscribe_endpoint"}` (absent parts `null`).
///
/// Ownership: returns a new string owned by the caller; free it with `tw_string_free`.
/// Threads: any thread.
/// Errors: NULL, with `tw_last_error()` set, when `client` is NULL.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn tw_client_subscriptions(client: *mut tw_client) -> *mut c_char {
    guard_value(ptr::null_mut(), || {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_subscriptions") }?;
        let list: Vec<_> = c
            .inner
            .subscriptions()
            .iter()
            .map(|s| s.to_json())
            .collect();
        Ok(into_c_string(serde_json::Value::Array(list).to_string()))
    })
}
