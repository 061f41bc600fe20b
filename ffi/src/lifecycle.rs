//! Stopping without closing: `tw_client_disconnect` (`tw_client_start` connects again);
//! waiting until live: `tw_client_wait_live`.

use std::ffi::c_char;
use std::time::Duration;

use crate::client::{client_ref, tw_client, TW_NO_TIMEOUT};
use crate::error::guard_result;
use crate::result::tw_result;
use crate::strings::opt_str_arg;

/// Closes the connection with `code` and `reason` (NULL: none), waits briefly for the
/// server's close, and stops reconnecting; the client stays usable: `tw_client_start`
/// connects again (the next epoch), as does `tw_client_reconnect`.
///
/// The `disconnected` event has `"by_client":true` in its JSON, and the status says
/// `"state":"disconnected"` when this returns. Without a live connection (connecting,
/// waiting to reconnect, gave up) the client just stops, with no event. Valid codes:
/// 1000–1003, 1007–1014, 3000–4999; a reason is at most 123 bytes of UTF-8.
///
/// Ownership: `client` and `reason` stay the caller's.
/// Threads: any thread (also the callback thread).
/// Errors: `TW_ERR_USAGE` for a code or reason that cannot be sent (nothing is closed),
/// `TW_ERR_NOT_CONNECTED` if never started, `TW_ERR_CLOSED` after `tw_client_close`,
/// `TW_ERR_INVALID_ARGUMENT` for NULL `client` or a reason that is not UTF-8.
///
/// # Safety
/// `client` must be NULL or a live client; `reason` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tw_client_disconnect(
    client: *mut tw_client,
    code: u16,
    reason: *const c_char,
) -> tw_result {
    guard_result(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_disconnect") }?;
        // SAFETY: forwarded from the caller.
        let reason = unsafe { opt_str_arg(reason, "tw_client_disconnect", "reason") }?;
        c.inner.disconnect(code, reason.unwrap_or(""))?;
        Ok(tw_result::TW_OK)
    })
}

/// Waits until the connection is live — connected, and for presets that log in (Tradovate)
/// logged in — for at most `timeout_ms` milliseconds (`0`: only look; `TW_NO_TIMEOUT`: no
/// limit). Returns `TW_OK` at once when it already is.
///
/// When a connection attempt fails first, returns that attempt's error, and
/// `tw_last_error_reason()` says why: `"connection_refused"`, `"timed_out"`, `"dns"`,
/// `"tls"`, `"handshake"` (`TW_ERR_CONNECT`) or `"auth"` (`TW_ERR_AUTH`); `tw_last_error()`
/// says it in words. The client keeps reconnecting in the background (unless the failure is
/// fatal: then a `gave_up` event follows), so calling this again waits for the next
/// attempt. A failure that happened before the call and that no wait has returned yet is
/// returned at once (so `tw_client_start` then `tw_client_wait_live` reports the first
/// attempt's failure whenever it came).
///
/// Ownership: `client` stays the caller's.
/// Threads: any thread, several at once (from the callback thread too, though the callbacks
/// wait while it blocks).
/// Errors: `TW_ERR_CONNECT` / `TW_ERR_AUTH` (a failed attempt, with a reason),
/// `TW_ERR_TIMEOUT` (reason `"timed_out"`) when `timeout_ms` passes first, `TW_ERR_USAGE`
/// if never started, `TW_ERR_CLOSED` after `tw_client_close` or after a `gave_up` event
/// (with the reason of the last failure), `TW_ERR_NOT_CONNECTED` after
/// `tw_client_disconnect`, `TW_ERR_INVALID_ARGUMENT` for a NULL `client`.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn tw_client_wait_live(client: *mut tw_client, timeout_ms: u32) -> tw_result {
    guard_result(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_wait_live") }?;
        let timeout = if timeout_ms == TW_NO_TIMEOUT {
            Duration::MAX
        } else {
            Duration::from_millis(u64::from(timeout_ms))
        };
        c.inner.wait_live(timeout)?;
        Ok(tw_result::TW_OK)
    })
}
