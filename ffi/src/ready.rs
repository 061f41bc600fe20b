//! `tw_client_ready_fd`: the readiness file descriptor, for C programs that run their own
//! `poll`/`epoll` loop and take events without blocking; `tw_client_io_fd`,
//! `tw_client_read_events` and `tw_client_stop_reading`, for such a loop that reads the
//! socket on its own thread.

use std::ffi::c_int;
use std::ops::ControlFlow;

use tradewire_core::ErrorCategory;

use crate::client::{client_ref, tw_client};
use crate::error::{guard_result, Failure};
use crate::event::tw_event;
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

/// Stores in `*out_fd` the connection's poller fd, for a program whose own loop reads the
/// socket on its thread with `tw_client_read_events`: watch it for `POLLIN`, as well as the
/// readiness fd, while `tw_client_read_events` says the connection is lent to you
/// (`*out_lent`), and only then (the I/O thread reads the socket otherwise). It is the same
/// fd for the client's whole life, across reconnects.
///
/// Ownership: the fd is the client's: never close or read it; it is closed by
/// `tw_client_free` (remove it from your `epoll` set before).
/// Threads: any thread.
/// Errors: `TW_ERR_INVALID_ARGUMENT` if `client` or `out_fd` is NULL, `TW_ERR_IO` where the
/// poller is not epoll (Linux only).
///
/// # Safety
/// `client` must be NULL or a live client; `out_fd` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_io_fd(client: *mut tw_client, out_fd: *mut c_int) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_io_fd";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        if out_fd.is_null() {
            return Err(Failure::null(F, "out_fd"));
        }
        let fd = c.inner.io_fd()?;
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { *out_fd = fd };
        Ok(tw_result::TW_OK)
    })
}

/// For a program whose own `poll`/`epoll` loop reads the socket on its thread (no hand-over
/// from the I/O thread per event): takes the queued events, up to `capacity`; if none, first
/// runs the connection without waiting when the I/O thread has lent it (reads what has
/// arrived, delivers it, runs due commands), or asks the I/O thread for it. Never waits.
///
/// Returns `TW_OK` with `*out_count` (at least 1) events in `events_out`, as
/// `tw_client_next_events`; `TW_TIMEOUT` (`*out_count` = 0) when none: then wait on the
/// readiness fd (`tw_client_ready_fd`) and, if `*out_lent` is true, on `tw_client_io_fd`
/// too, and call again when either is readable; `TW_CLOSED` as `tw_client_next_events`.
/// `*out_lent` is written with `*out_count`. When the loop stops waiting for events for a
/// while, call `tw_client_stop_reading` so that the I/O thread reads meanwhile. Without
/// `inline_reads` this is `tw_client_next_events(client, 0, ...)` (`*out_lent` is false).
///
/// Ownership: as `tw_client_next_events`.
/// Threads: the loop's thread; not once a listener was added.
/// Errors: `TW_ERR_INVALID_ARGUMENT` if a pointer is NULL or `capacity` is 0, `TW_ERR_USAGE`
/// as `tw_client_next_events`.
///
/// # Safety
/// `client` must be NULL or a live client; `events_out` NULL or writable for `capacity`
/// pointers; `out_count` and `out_lent` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_read_events(
    client: *mut tw_client,
    events_out: *mut *mut tw_event,
    capacity: usize,
    out_count: *mut usize,
    out_lent: *mut bool,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_read_events";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        for (null, name) in [
            (events_out.is_null(), "events_out"),
            (out_count.is_null(), "out_count"),
            (out_lent.is_null(), "out_lent"),
        ] {
            if null {
                return Err(Failure::null(F, name));
            }
        }
        if capacity == 0 {
            return Err(Failure::invalid(format!(
                "{F}: `capacity` is 0; pass the number of slots in `events_out` (at least 1)"
            )));
        }
        let mut count = 0;
        let read = c.inner.read_batch_with(capacity, |event| {
            // SAFETY: the core hands over at most `capacity` events, and the caller promised
            // `capacity` writable slots.
            unsafe { *events_out.add(count) = tw_event::into_raw(event) };
            count += 1;
            ControlFlow::Continue(())
        });
        let (code, lent) = match read {
            Ok(b) if b.taken == 0 => (tw_result::TW_TIMEOUT, b.lent),
            Ok(b) => (tw_result::TW_OK, b.lent),
            Err(e) if e.kind() == ErrorCategory::Closed => (tw_result::TW_CLOSED, false),
            Err(other) => return Err(other.into()),
        };
        // SAFETY: checked non-NULL; the caller promises they are writable.
        unsafe {
            *out_count = count;
            *out_lent = lent;
        }
        Ok(code)
    })
}

/// The loop stops waiting for events for a while (it stops watching `tw_client_io_fd`): the
/// I/O thread takes the connection back and reads into the queue meanwhile (answering pings,
/// applying the overflow policy). The next `tw_client_read_events` asks for it again.
///
/// Ownership: nothing changes hands.
/// Threads: any thread.
/// Errors: `TW_ERR_INVALID_ARGUMENT` if `client` is NULL.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn tw_client_stop_reading(client: *mut tw_client) -> tw_result {
    guard_result(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_stop_reading") }?;
        c.inner.stop_reading();
        Ok(tw_result::TW_OK)
    })
}
