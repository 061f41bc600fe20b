//! `tw_client_ready_fd`: the readiness file descriptor, for C programs that run their own
//! `poll`/`epoll` loop and take events without blocking.

use std::ffi::c_int;

use crate::client::{client_ref, tw_client};
use crate::error::{guard_result, Failure};
use crate::result::tw_result;

/// Stores in `*out_fd` a file descriptor that becomes readable when events may be queued,
/// for a program that waits in its own `poll`/`epoll`/`select` loop and takes events with
/// `tw_client_next_events(client, 0, ...)` (or `tw_client_next_event` with `0`), which never
/// wait.
///
/// The rule: wait on the fd (for `POLLIN`) only after a take with timeout 0 returned
/// `TW_TIMEOUT`. That take armed the fd: the I/O thread writes it when it queues the next
/// event, and when the stream ends (the next take then returns `TW_CLOSED`). Each take
/// empties the fd before it looks at the queue, so no wake-up is lost and the fd is not left
/// readable. After a batch that filled `capacity`, take again before waiting (more may be
/// queued). A wake-up may find nothing (`TW_TIMEOUT` again): wait again. The fd starts
/// readable. Level-triggered and edge-triggered `epoll` both work.
///
/// The fd is made on the first call (an eventfd, non-blocking, close-on-exec); every call
/// returns the same one. Until the first call nothing of it costs anything.
///
/// Ownership: the fd is the client's: never close or read it; it is closed by
/// `tw_client_free` (remove it from your `epoll` set before).
/// Threads: any thread.
/// Errors: `TW_ERR_INVALID_ARGUMENT` if `client` or `out_fd` is NULL, `TW_ERR_IO` if the fd
/// cannot be made (Linux only: elsewhere always).
///
/// # Safety
/// `client` must be NULL or a live client; `out_fd` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_ready_fd(
    client: *mut tw_client,
    out_fd: *mut c_int,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_ready_fd";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        if out_fd.is_null() {
            return Err(Failure::null(F, "out_fd"));
        }
        let fd = c.inner.ready_fd()?;
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { *out_fd = fd };
        Ok(tw_result::TW_OK)
    })
}
