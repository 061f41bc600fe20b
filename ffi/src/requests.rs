//! Requests beside `tw_client_request`: without waiting (`tw_client_send_request`, with the
//! caller's id `tw_client_send_request_id`), on JSON feeds (`tw_client_request_json`), and
//! what Tradovate's token says about the user they are made for (`tw_client_token_info`).

use std::ffi::c_char;

use crate::client::{client_ref, tw_client};
use crate::error::{guard_result, Failure};
use crate::result::tw_result;
use crate::strings::{opt_str_arg, str_arg};

/// Sends a request without waiting for its response (presets with request/response
/// correlation: tradovate) and stores its id in `*out_id`; the response arrives as a
/// `response` event with that id (its JSON has `"id"`), in order with the other events.
///
/// Ownership: `endpoint` and `body_json` stay the caller's; `*out_id` is written only on
/// `TW_OK`.
/// Threads: any thread.
/// Errors: as `tw_client_request` before sending: `TW_ERR_USAGE` on a preset without
/// requests or a bad endpoint, `TW_ERR_NOT_CONNECTED` when not logged in, `TW_ERR_CLOSED`,
/// `TW_ERR_INVALID_ARGUMENT` for NULL `client`, `endpoint` or `out_id`, or non-UTF-8 text.
///
/// # Safety
/// `client` must be NULL or a live client; `endpoint` and `body_json` NULL or NUL-terminated
/// strings; `out_id` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_send_request(
    client: *mut tw_client,
    endpoint: *const c_char,
    body_json: *const c_char,
    out_id: *mut u64,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_send_request";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        // SAFETY: forwarded from the caller.
        let endpoint = unsafe { str_arg(endpoint, F, "endpoint") }?;
        // SAFETY: forwarded from the caller.
        let body = unsafe { opt_str_arg(body_json, F, "body_json") }?;
        if out_id.is_null() {
            return Err(Failure::null(F, "out_id"));
        }
        let id = c.inner.send_request(endpoint, body)?;
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { *out_id = id };
        Ok(tw_result::TW_OK)
    })
}

/// `tw_client_send_request` with the caller's id, as reference document 000's
/// `send(endpoint, body, requestId)`: the response arrives as a `response` event with `id`.
/// Ids the library chooses itself stay above every id used, so they never meet a caller's.
///
/// Ownership: `endpoint` and `body_json` stay the caller's.
/// Threads: any thread.
/// Errors: `TW_ERR_USAGE` when `id` is 0 (the login's) or a request with this id still waits
/// for its response on this connection; otherwise as `tw_client_send_request`.
///
/// # Safety
/// `client` must be NULL or a live client; `endpoint` and `body_json` NULL or NUL-terminated
/// strings.
#[no_mangle]
pub unsafe extern "C" fn tw_client_send_request_id(
    client: *mut tw_client,
    endpoint: *const c_char,
    body_json: *const c_char,
    id: u64,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_send_request_id";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        // SAFETY: forwarded from the caller.
        let endpoint = unsafe { str_arg(endpoint, F, "endpoint") }?;
        // SAFETY: forwarded from the caller.
        let body = unsafe { opt_str_arg(body_json, F, "body_json") }?;
        c.inner.send_request_with_id(endpoint, body, id)?;
        Ok(tw_result::TW_OK)
    })
}

/// Tradovate: what the access token in use came with, as JSON text without its tokens
/// (`{"userId":7,"name":...,"orgName":...,"hasLive":...,"expirationTime":...,
/// "retrievedAt":<Unix ms>}`; `userId` is what `user/syncrequest` and other requests need).
/// `*out_json` is NULL when there is none: before a token is obtained, after the server
/// refused it, with a static `token`, on other presets.
///
/// Ownership: on `TW_OK` the caller owns a non-NULL `*out_json` and frees it with
/// `tw_string_free`; `*out_json` is written only on `TW_OK`.
/// Threads: any thread.
/// Errors: `TW_ERR_INVALID_ARGUMENT` for NULL `client` or `out_json`.
///
/// # Safety
/// `client` must be NULL or a live client; `out_json` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_token_info(
    client: *mut tw_client,
    out_json: *mut *mut c_char,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_token_info";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        if out_json.is_null() {
            return Err(Failure::null(F, "out_json"));
        }
        let info = c
            .inner
            .token_info()
            .map(|i| crate::strings::into_c_string(i.to_json().to_string()))
            .unwrap_or(std::ptr::null_mut());
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { *out_json = info };
        Ok(tw_result::TW_OK)
    })
}

/// Sends a JSON request and waits up to `timeout_ms` for its answer, on every preset but
/// tradovate (use `tw_client_request` there). `message_json` is a JSON object whose
/// `request_id_field` member (default `"id"`; document 004: `"requestId"`) carries its id:
/// the caller's, or a fresh one written in. The message carrying the same id is the answer:
/// stored in `*out_json` (its whole text), not delivered as an event.
///
/// Ownership: `message_json` stays the caller's. On `TW_OK` the caller owns `*out_json` and
/// frees it with `tw_string_free`; `*out_json` is written only on `TW_OK`.
/// Threads: any thread; several requests may wait at once.
/// Errors: `TW_ERR_USAGE` on tradovate, for a message that is not a JSON object or whose
/// id already waits; `TW_ERR_TIMEOUT` when no answer came in time (a late answer is
/// delivered as a message); `TW_ERR_REQUEST` when the connection dropped first (the outcome
/// is unknown); `TW_ERR_NOT_CONNECTED`, `TW_ERR_CLOSED`, `TW_ERR_INVALID_ARGUMENT` for NULL
/// `client`, `message_json` or `out_json`, or non-UTF-8 text.
///
/// # Safety
/// `client` must be NULL or a live client; `message_json` NULL or a NUL-terminated string;
/// `out_json` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_request_json(
    client: *mut tw_client,
    message_json: *const c_char,
    timeout_ms: u32,
    out_json: *mut *mut c_char,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_request_json";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        // SAFETY: forwarded from the caller.
        let message = unsafe { str_arg(message_json, F, "message_json") }?;
        if out_json.is_null() {
            return Err(Failure::null(F, "out_json"));
        }
        let timeout = std::time::Duration::from_millis(u64::from(timeout_ms));
        let answer = c.inner.request_json(message, timeout)?;
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { *out_json = crate::strings::into_c_string(answer) };
        Ok(tw_result::TW_OK)
    })
}
