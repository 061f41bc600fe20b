//! Requests without waiting: `tw_client_send_request`.

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
