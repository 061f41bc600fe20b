//! `tw_client`: the connection handle and every function that acts on it.

use std::ffi::{c_char, c_void};
use std::ops::ControlFlow;
use std::ptr;
use std::time::Duration;

use tradewire_core::{Client, Config, ErrorCategory};

use crate::error::{guard_infallible, guard_result, guard_value, Failure};
use crate::event::tw_event;
use crate::result::tw_result;
use crate::strings::{into_c_string, opt_str_arg, str_arg};

/// `timeout_ms` value for `tw_client_next_event` that waits without a time limit (until an
/// event arrives or the client is closed).
pub const TW_NO_TIMEOUT: u32 = 0xFFFF_FFFF;

/// A connection to a trading event stream that stays up by itself (reconnects with backoff,
/// re-subscribes, filters by account). Opaque.
///
/// Created by `tw_client_new`, freed by `tw_client_free`. Every function taking a
/// `tw_client *` may be called from any thread, concurrently, until `tw_client_free`; in
/// particular `tw_client_close` from one thread wakes another blocked in
/// `tw_client_next_event`.
pub struct tw_client {
    pub(crate) inner: Client,
}

/// An event callback: receives each event on the library's callback thread
/// (`tradewire-cb`), in order, one at a time.
///
/// `event` is lent for the duration of the call: read it with the `tw_event_*` accessors,
/// copy what you need (or `tw_event_clone` it), never free it. `user_data` is the pointer
/// given to `tw_client_set_callback` or `tw_client_add_listener`. The callback may call
/// `tw_client_send_text`, `tw_client_status_json`, `tw_client_reconnect`,
/// `tw_client_add_listener`, `tw_client_remove_listener` and `tw_client_close` on its
/// client, but not `tw_client_free`. It should return promptly: `tw_client_close` waits for
/// a call in progress.
pub type tw_event_callback =
    Option<unsafe extern "C" fn(event: *const tw_event, user_data: *mut c_void)>;

/// Borrows the client behind a C pointer.
///
/// # Safety
/// `client` must be NULL or a live client.
pub(crate) unsafe fn client_ref<'a>(
    client: *const tw_client,
    function: &str,
) -> Result<&'a tw_client, Failure> {
    // SAFETY: the caller promises NULL or a live client.
    unsafe { client.as_ref() }.ok_or_else(|| Failure::null(function, "client"))
}

/// Creates a client from a JSON configuration, without connecting (call `tw_client_start`).
///
/// `config_json` is a JSON object with the fields of the configuration schema shared by all
/// languages, for example
/// `{"url": "ws://localhost:8765", "preset": "daemon", "account_id": 123}` (durations in
/// seconds; `preset` one of json, daemon, agent, breakout, tradovate, raw, metis). Every
/// problem in it is reported at once.
///
/// Ownership: `config_json` stays the caller's (it is read, not kept). Returns a new client
/// owned by the caller; free it with `tw_client_free`.
/// Threads: any thread.
/// Errors: returns NULL; `tw_last_error()` says why (every invalid field, by name) and
/// `tw_last_error_code()` is `TW_ERR_CONFIG` for a bad configuration,
/// `TW_ERR_INVALID_ARGUMENT` for NULL or non-UTF-8 input.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tw_client_new(config_json: *const c_char) -> *mut tw_client {
    guard_value(ptr::null_mut(), || {
        // SAFETY: forwarded from the caller.
        let json = unsafe { str_arg(config_json, "tw_client_new", "config_json") }?;
        let config = Config::from_json(json)?;
        let inner = Client::new(config)?;
        Ok(Box::into_raw(Box::new(tw_client { inner })))
    })
}

/// Starts connecting in the background (one I/O thread) and returns at once. Progress
/// arrives as events: `connected`, `disconnected`, `reconnecting`, ...
///
/// Ownership: `client` stays the caller's.
/// Threads: any thread.
/// After `tw_client_disconnect` (or a `gave_up` event) it connects again: a new connection
/// with the next epoch, the on-connect messages and the login, as the first time.
///
/// Errors: `TW_ERR_USAGE` if already started and not stopped (connecting, live, waiting to
/// reconnect), `TW_ERR_CLOSED` after `tw_client_close`,
/// `TW_ERR_IO` if the thread cannot be created, `TW_ERR_INVALID_ARGUMENT` for NULL.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn tw_client_start(client: *mut tw_client) -> tw_result {
    guard_result(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_start") }?;
        c.inner.start()?;
        Ok(tw_result::TW_OK)
    })
}

/// Waits up to `timeout_ms` milliseconds for the next event (`0`: do not wait;
/// `TW_NO_TIMEOUT`: no time limit).
///
/// Returns `TW_OK` and stores a new event in `*out_event`; `TW_TIMEOUT` when none arrived in
/// time; `TW_CLOSED` once the event stream has ended and every event queued before its end
/// has been taken: after `tw_client_close` (a call blocked here when another thread calls
/// `tw_client_close` returns promptly, with the remaining events and then `TW_CLOSED`), and
/// after a `gave_up` event, until `tw_client_reconnect` starts a new stream.
///
/// Ownership: on `TW_OK` the caller owns `*out_event` and frees it with `tw_event_free`;
/// `*out_event` is written only on `TW_OK`.
/// Threads: any thread; normally one consumer thread. Not once a listener was added.
/// Errors: `TW_ERR_INVALID_ARGUMENT` if `client` or `out_event` is NULL, `TW_ERR_USAGE` if a
/// listener or callback was ever added (events go to the listeners; this stays so after
/// they are removed and after `tw_client_close`) or the client was never started (call
/// `tw_client_start` first; no event would ever come).
///
/// # Safety
/// `client` must be NULL or a live client; `out_event` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_next_event(
    client: *mut tw_client,
    timeout_ms: u32,
    out_event: *mut *mut tw_event,
) -> tw_result {
    guard_result(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_next_event") }?;
        if out_event.is_null() {
            return Err(Failure::null("tw_client_next_event", "out_event"));
        }
        // A callback set on the client makes the core refuse (TW_ERR_USAGE): the rule lives
        // in core. An event already queued is taken without computing a deadline (a clock read per
        // call was a visible cost per event in the benchmarks, docs/BENCHMARKS.md). Waits go
        // through the client, not its channel: with inline reads this thread reads.
        let next = match c.inner.try_recv() {
            Ok(None) if timeout_ms == TW_NO_TIMEOUT => c.inner.recv().map(Some),
            Ok(None) => c
                .inner
                .recv_timeout(Duration::from_millis(u64::from(timeout_ms))),
            queued => queued,
        };
        let event = match next {
            Ok(Some(event)) => event,
            Ok(None) => return Ok(tw_result::TW_TIMEOUT),
            Err(e) if e.kind() == ErrorCategory::Closed => return Ok(tw_result::TW_CLOSED),
            Err(other) => return Err(other.into()),
        };
        let boxed = tw_event::into_raw(event);
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { *out_event = boxed };
        Ok(tw_result::TW_OK)
    })
}

/// Waits up to `timeout_ms` milliseconds for one event (`0`: do not wait; `TW_NO_TIMEOUT`:
/// no time limit), then takes the events already queued, up to `capacity` in all: one call
/// per batch instead of one per event, the way to keep up with a fast feed.
///
/// Returns `TW_OK` with `*out_count` (at least 1) new events stored in `events_out[0]` to
/// `events_out[*out_count - 1]`, in order; `TW_TIMEOUT` (`*out_count` = 0) when none arrived
/// in time; `TW_CLOSED` (`*out_count` = 0) as `tw_client_next_event`, once the stream has
/// ended and every event queued before its end has been taken.
///
/// Ownership: `events_out` is the caller's array of `capacity` pointers. On `TW_OK` the
/// caller owns each of the `*out_count` events written there and frees each with
/// `tw_event_free`; the slots after them are not written. `*out_count` is written on `TW_OK`,
/// `TW_TIMEOUT` and `TW_CLOSED`; on an error nothing is written.
/// Threads: any thread; normally one consumer thread. Not once a listener was added.
/// Errors: `TW_ERR_INVALID_ARGUMENT` if `client`, `events_out` or `out_count` is NULL or
/// `capacity` is 0, `TW_ERR_USAGE` if a listener or callback was ever added (events go to
/// the listeners) or the client was never started (call `tw_client_start` first; no event
/// would ever come).
///
/// # Safety
/// `client` must be NULL or a live client; `events_out` NULL or writable for `capacity`
/// pointers; `out_count` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_next_events(
    client: *mut tw_client,
    timeout_ms: u32,
    events_out: *mut *mut tw_event,
    capacity: usize,
    out_count: *mut usize,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_next_events";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        if events_out.is_null() {
            return Err(Failure::null(F, "events_out"));
        }
        if out_count.is_null() {
            return Err(Failure::null(F, "out_count"));
        }
        if capacity == 0 {
            return Err(Failure::invalid(format!(
                "{F}: `capacity` is 0; pass the number of slots in `events_out` (at least 1)"
            )));
        }
        let timeout =
            (timeout_ms != TW_NO_TIMEOUT).then(|| Duration::from_millis(u64::from(timeout_ms)));
        let mut count = 0;
        let taken = c.inner.recv_batch_with(capacity, timeout, |event| {
            // SAFETY: the core hands over at most `capacity` events, and the caller promised
            // `capacity` writable slots.
            unsafe { *events_out.add(count) = tw_event::into_raw(event) };
            count += 1;
            ControlFlow::Continue(())
        });
        let code = match taken {
            Ok(0) => tw_result::TW_TIMEOUT,
            Ok(_) => tw_result::TW_OK,
            Err(e) if e.kind() == ErrorCategory::Closed => tw_result::TW_CLOSED,
            Err(other) => return Err(other.into()),
        };
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { *out_count = count };
        Ok(code)
    })
}

/// Sends a text frame now. Nothing is queued for later: when the connection is not live the
/// call fails, so a message (an order) is never sent twice after a reconnect.
///
/// Ownership: `text` stays the caller's (copied before return).
/// Threads: any thread.
/// Errors: `TW_ERR_NOT_CONNECTED` when not started or not live, `TW_ERR_CLOSED` after
/// `tw_client_close`, `TW_ERR_INVALID_ARGUMENT` for NULL or non-UTF-8 text.
///
/// # Safety
/// `client` must be NULL or a live client; `text` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tw_client_send_text(
    client: *mut tw_client,
    text: *const c_char,
) -> tw_result {
    guard_result(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_send_text") }?;
        // SAFETY: forwarded from the caller.
        let text = unsafe { str_arg(text, "tw_client_send_text", "text") }?;
        c.inner.send_text(text)?;
        Ok(tw_result::TW_OK)
    })
}

/// Sends a binary frame of `len` bytes now (see `tw_client_send_text`). `data` may be NULL
/// when `len` is 0.
///
/// Ownership: `data` stays the caller's (copied before return).
/// Threads: any thread.
/// Errors: as `tw_client_send_text`; `TW_ERR_INVALID_ARGUMENT` if `data` is NULL and `len`
/// is not 0.
///
/// # Safety
/// `client` must be NULL or a live client; `data` NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn tw_client_send_binary(
    client: *mut tw_client,
    data: *const u8,
    len: usize,
) -> tw_result {
    guard_result(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_send_binary") }?;
        let bytes: &[u8] = if len == 0 {
            &[]
        } else if data.is_null() {
            return Err(Failure::null("tw_client_send_binary", "data"));
        } else {
            // SAFETY: non-NULL; the caller promises `len` readable bytes.
            unsafe { std::slice::from_raw_parts(data, len) }
        };
        c.inner.send_binary(bytes.to_vec())?;
        Ok(tw_result::TW_OK)
    })
}

/// Sends a request and waits up to `timeout_ms` for its response (presets with
/// request/response correlation: tradovate). `body_json` is the JSON body, or NULL for none.
///
/// Returns `TW_OK` and stores the response payload (JSON text) in `*out_json`.
///
/// Ownership: `endpoint` and `body_json` stay the caller's. On `TW_OK` the caller owns
/// `*out_json` and frees it with `tw_string_free`; `*out_json` is written only on `TW_OK`.
/// Threads: any thread; several requests may wait at once.
/// Errors: `TW_ERR_USAGE` on a preset without requests (json, daemon, agent, breakout, raw, metis:
/// use `tw_client_send_text`), `TW_ERR_TIMEOUT` when no response came in time,
/// `TW_ERR_REQUEST` when the server answered with an error or the connection dropped (the
/// outcome is then unknown), `TW_ERR_NOT_CONNECTED`, `TW_ERR_CLOSED`,
/// `TW_ERR_INVALID_ARGUMENT` for NULL `client`, `endpoint` or `out_json`, or non-UTF-8 text.
///
/// # Safety
/// `client` must be NULL or a live client; `endpoint` and `body_json` NULL or NUL-terminated
/// strings; `out_json` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_request(
    client: *mut tw_client,
    endpoint: *const c_char,
    body_json: *const c_char,
    timeout_ms: u32,
    out_json: *mut *mut c_char,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_request";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        // SAFETY: forwarded from the caller.
        let endpoint = unsafe { str_arg(endpoint, F, "endpoint") }?;
        // SAFETY: forwarded from the caller.
        let body = unsafe { opt_str_arg(body_json, F, "body_json") }?;
        if out_json.is_null() {
            return Err(Failure::null(F, "out_json"));
        }
        let response =
            c.inner
                .request(endpoint, body, Duration::from_millis(u64::from(timeout_ms)))?;
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { *out_json = into_c_string(response) };
        Ok(tw_result::TW_OK)
    })
}

/// The client's state and counters as a JSON object, exactly as the core computes them (the
/// same object as Python's `status()`): state (idle, connecting, authenticating, live,
/// closing, backoff, disconnected, gave_up, closed), connected, authenticated, reconnecting, reconnect_attempts,
/// epoch, messages_received, bytes_received, events_delivered, filtered, dropped, errors,
/// reconnects, last_message_age and last_heartbeat_latency (seconds, or null: the round
/// trip of the ping its pong answers), heartbeat_latency_max and heartbeat_latency_median
/// (of the recent ones), token_expires_at (ISO-8601, or null), feed_latency (seconds, or
/// null: the latest message's received_at − server_time, negative when the server's clock
/// runs ahead), feed_lag (now − the server time of the latest message read) and consumer_lag
/// (how long the latest event taken waited between read and delivery), seconds or null,
/// subscriptions (entries of the registry, `tw_client_subscribe`) and subscriptions_replayed
/// (subscription frames re-sent on new connections).
///
/// Ownership: returns a new string owned by the caller; free it with `tw_string_free`.
/// Threads: any thread, at any time.
/// Errors: NULL, with `tw_last_error()` set, when `client` is NULL.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn tw_client_status_json(client: *mut tw_client) -> *mut c_char {
    guard_value(ptr::null_mut(), || {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_status_json") }?;
        Ok(into_c_string(c.inner.status().to_json().to_string()))
    })
}

/// Delivers every event to `callback` on a library thread (`tradewire-cb`) instead of
/// through `tw_client_next_event`: a listener for every kind (see `tw_client_add_listener`,
/// whose rule with reading applies) that cannot be removed. May be set once, before or
/// after `tw_client_start`. After `tw_client_close` returns, the callback is not called again.
///
/// Ownership: `user_data` stays the caller's; it is passed back to each call and must stay
/// valid until `tw_client_close` (or `tw_client_free`) returns. See `tw_event_callback` for
/// the event's lifetime.
/// Threads: any thread. The callback itself runs on the library's callback thread.
/// Errors: `TW_ERR_USAGE` if a callback is already set, `TW_ERR_CLOSED` after close,
/// `TW_ERR_IO` if the thread cannot be created, `TW_ERR_INVALID_ARGUMENT` for a NULL client
/// or callback.
///
/// # Safety
/// `client` must be NULL or a live client; `callback` must be safe to call from another
/// thread with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn tw_client_set_callback(
    client: *mut tw_client,
    callback: tw_event_callback,
    user_data: *mut c_void,
) -> tw_result {
    guard_result(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_set_callback") }?;
        let Some(callback) = callback else {
            return Err(Failure::null("tw_client_set_callback", "callback"));
        };
        let user_data = UserData(user_data);
        c.inner.set_callback(move |event| {
            let event = tw_event::new(event);
            // SAFETY: the caller of tw_client_set_callback promised the callback may be
            // called from this thread with this user data; the event outlives the call.
            unsafe { callback(&event, user_data.get()) };
        })?;
        Ok(tw_result::TW_OK)
    })
}

/// The application's callback context, moved to the callback thread.
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: the pointer is only handed back to the application's callback; the application
// promised (tw_client_set_callback's contract) that doing so from the callback thread is fine.
unsafe impl Send for UserData {}

impl UserData {
    /// The pointer (a method, so closures capture the `Send` wrapper, not the raw field).
    pub(crate) fn get(&self) -> *mut c_void {
        self.0
    }
}

/// Drops the current connection (if any) and connects again now, resetting the attempt
/// counter; after a `gave_up` event, starts trying again on a new event stream
/// (`tw_client_next_event` gives events again; those of the old stream not taken yet come
/// first).
///
/// Ownership: `client` stays the caller's.
/// Threads: any thread.
/// Errors: `TW_ERR_NOT_CONNECTED` if not started, `TW_ERR_CLOSED` after `tw_client_close`,
/// `TW_ERR_INVALID_ARGUMENT` for NULL.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn tw_client_reconnect(client: *mut tw_client) -> tw_result {
    guard_result(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_reconnect") }?;
        c.inner.reconnect()?;
        Ok(tw_result::TW_OK)
    })
}

/// Closes the connection, stops reconnecting and joins the library's threads; returns
/// promptly in every state. Idempotent. A `tw_client_next_event` blocked in another thread
/// returns the events queued before the close, then `TW_CLOSED`. No callback runs after it
/// returns. The client must still be freed with `tw_client_free`.
///
/// Ownership: `client` stays the caller's.
/// Threads: any thread, including the callback (which then is not waited for).
/// Errors: `TW_ERR_INVALID_ARGUMENT` for NULL.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn tw_client_close(client: *mut tw_client) -> tw_result {
    guard_result(|| {
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, "tw_client_close") }?;
        c.inner.close();
        Ok(tw_result::TW_OK)
    })
}

/// Closes the client if needed (see `tw_client_close`) and frees it.
/// `tw_client_free(NULL)` does nothing.
///
/// Ownership: takes ownership of `client`; do not use it afterwards. Events already taken
/// from it stay valid (free them with `tw_event_free`).
/// Threads: any thread except the client's callback, once no other thread uses the client.
/// Errors: none.
///
/// # Safety
/// `client` must be NULL or a client from `tw_client_new` not freed yet, used by no other
/// thread.
#[no_mangle]
pub unsafe extern "C" fn tw_client_free(client: *mut tw_client) {
    guard_infallible((), || {
        if !client.is_null() {
            // SAFETY: the caller promises the client came from `Box::into_raw` here and is
            // no longer in use; dropping it closes it.
            drop(unsafe { Box::from_raw(client) });
        }
    })
}

#[cfg(test)]
mod tests;
