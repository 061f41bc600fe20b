//! Stopping without closing: `tw_client_disconnect` (`tw_client_start` connects again).

use std::ffi::c_char;

use crate::client::{client_ref, tw_client};
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
