//! Listeners from C: `tw_client_add_listener` / `tw_client_remove_listener` and the kind
//! bits (`TW_KIND_*`). The registry and its rules are the core's (`Client::on`).

use std::ffi::c_void;

use tradewire_core::{KindSet, ListenerId};

use crate::client::{client_ref, tw_client, tw_event_callback, UserData};
use crate::error::{guard_result, Failure};
use crate::event::tw_event;
use crate::result::tw_result;

/// Kind bit of `message` events (for `tw_client_add_listener`).
pub const TW_KIND_MESSAGE: u32 = 1 << 0;
/// Kind bit of `connected` events.
pub const TW_KIND_CONNECTED: u32 = 1 << 1;
/// Kind bit of `authenticated` events.
pub const TW_KIND_AUTHENTICATED: u32 = 1 << 2;
/// Kind bit of `disconnected` events.
pub const TW_KIND_DISCONNECTED: u32 = 1 << 3;
/// Kind bit of `reconnecting` events.
pub const TW_KIND_RECONNECTING: u32 = 1 << 4;
/// Kind bit of `gave_up` events.
pub const TW_KIND_GAVE_UP: u32 = 1 << 5;
/// Kind bit of `error` events.
pub const TW_KIND_ERROR: u32 = 1 << 6;
/// Kind bit of `lagged` events.
pub const TW_KIND_LAGGED: u32 = 1 << 7;
/// Kind bit of `response` events.
pub const TW_KIND_RESPONSE: u32 = 1 << 8;
/// Kind bit of `lagging` events (a lag crossed `lag_warning`).
pub const TW_KIND_LAGGING: u32 = 1 << 9;
/// Kind bit of `caught_up` events (a lag fell below half of `lag_warning` again).
pub const TW_KIND_CAUGHT_UP: u32 = 1 << 10;
/// Kind bit of `gap` events (the feed skipped sequence numbers; config `sequence`).
pub const TW_KIND_GAP: u32 = 1 << 11;
/// Every kind of event.
pub const TW_KIND_ALL: u32 = 0xFFF;
/// Document 004's `connection-change`: `connected` and `disconnected` events
/// (`TW_KIND_CONNECTED | TW_KIND_DISCONNECTED`; `tw_event_is_connected` tells them apart).
pub const TW_KIND_CONNECTION_CHANGE: u32 = TW_KIND_CONNECTED | TW_KIND_DISCONNECTED;

/// Calls `callback` for each event whose kind is in `kinds` (an OR of `TW_KIND_*` bits), on
/// the library's callback thread (`tradewire-cb`), in event order. Several listeners may
/// coexist: each event goes to every listener that asked for its kind, in registration
/// order. May be called before or after `tw_client_start`, from any thread, including from
/// inside a listener (the new one is called from the next event on).
///
/// The rule with reading: the first listener (this or `tw_client_set_callback`) hands the
/// event stream to the listeners for the rest of the client's life: `tw_client_next_event`
/// and `tw_client_next_events` then fail with `TW_ERR_USAGE`, even after every listener is
/// removed. Events of kinds no listener asked for are passed over.
///
/// Ownership: `user_data` stays the caller's; it is passed back to each call and must stay
/// valid until `tw_client_remove_listener` for this listener, `tw_client_close` or
/// `tw_client_free` returns. The event is lent for the call (see `tw_event_callback`).
/// `*out_id` (written on `TW_OK` when `out_id` is not NULL) identifies the listener for
/// `tw_client_remove_listener`; ids are never reused within a client.
/// Threads: any thread. The callback runs on the library's callback thread.
/// Errors: `TW_ERR_INVALID_ARGUMENT` for a NULL client or callback or a bit in `kinds` that
/// is no `TW_KIND_*`, `TW_ERR_USAGE` for `kinds` = 0, `TW_ERR_CLOSED` after
/// `tw_client_close`, `TW_ERR_IO` if the callback thread cannot be created.
///
/// # Safety
/// `client` must be NULL or a live client; `callback` must be safe to call from another
/// thread with `user_data`; `out_id` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_add_listener(
    client: *mut tw_client,
    kinds: u32,
    callback: tw_event_callback,
    user_data: *mut c_void,
    out_id: *mut u64,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_add_listener";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        let Some(callback) = callback else {
            return Err(Failure::null(F, "callback"));
        };
        let kinds = KindSet::from_bits(kinds).ok_or_else(|| {
            Failure::invalid(format!(
                "{F}: `kinds` ({kinds:#x}) has bits that are no TW_KIND_* (all kinds: TW_KIND_ALL = {TW_KIND_ALL:#x})"
            ))
        })?;
        let user_data = UserData(user_data);
        let id = c.inner.on(kinds, move |event| {
            let event = tw_event::new(event.clone());
            // SAFETY: the caller of tw_client_add_listener promised the callback may be
            // called from this thread with this user data; the event outlives the call.
            unsafe { callback(&event, user_data.get()) };
        })?;
        if !out_id.is_null() {
            // SAFETY: checked non-NULL; the caller promises it is writable.
            unsafe { *out_id = id.as_u64() };
        }
        Ok(tw_result::TW_OK)
    })
}

/// Removes a listener added by `tw_client_add_listener`. Once it returns the callback is
/// never called again for it and no call of it is running (so its `user_data` may be
/// freed), except when called from inside that very callback: then the call in progress
/// finishes, and nothing more. Since it waits for a call in progress, do not call it while
/// holding a lock that callback takes. Removing the last listener does not make
/// `tw_client_next_event` usable again.
///
/// Ownership: `client` stays the caller's.
/// Threads: any thread, including the callback thread.
/// Errors: `TW_ERR_INVALID_ARGUMENT` for a NULL client, or when the client has no listener
/// with this id (removed already, or by `tw_client_close`).
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn tw_client_remove_listener(client: *mut tw_client, id: u64) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_remove_listener";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        if !c.inner.off(ListenerId::from_u64(id)) {
            return Err(Failure::invalid(format!(
                "{F}: this client has no listener {id} (removed already, or by tw_client_close)"
            )));
        }
        Ok(tw_result::TW_OK)
    })
}

/// Stops calling listeners for the kinds in `kinds` (`TW_KIND_ALL`: every listener), as
/// document 004's `clearEventListeners(type)` does: each listener loses those kinds, and one
/// left with none is removed, as by `tw_client_remove_listener`. Stores how many were
/// removed in `*out_removed` (may be NULL).
///
/// Ownership: `client` stays the caller's.
/// Threads: any thread, including the callback thread.
/// Errors: `TW_ERR_INVALID_ARGUMENT` for a NULL client or bits that are no `TW_KIND_*`.
///
/// # Safety
/// `client` must be NULL or a live client; `out_removed` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tw_client_clear_listeners(
    client: *mut tw_client,
    kinds: u32,
    out_removed: *mut usize,
) -> tw_result {
    guard_result(|| {
        const F: &str = "tw_client_clear_listeners";
        // SAFETY: forwarded from the caller.
        let c = unsafe { client_ref(client, F) }?;
        let kinds = KindSet::from_bits(kinds).ok_or_else(|| {
            Failure::invalid(format!(
                "{F}: `kinds` ({kinds:#x}) has bits that are no TW_KIND_* (all kinds: TW_KIND_ALL = {TW_KIND_ALL:#x})"
            ))
        })?;
        let removed = c.inner.clear_listeners(kinds);
        if !out_removed.is_null() {
            // SAFETY: checked non-NULL; the caller promises it is writable.
            unsafe { *out_removed = removed };
        }
        Ok(tw_result::TW_OK)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{tw_client_close, tw_client_free, tw_client_new, tw_client_next_event};
    use crate::error::tw_last_error;
    use std::ffi::CStr;
    use std::ptr;
    use tradewire_core::Kind;

    fn last() -> String {
        unsafe { CStr::from_ptr(tw_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn the_kind_bits_are_the_cores() {
        let bits = [
            (TW_KIND_MESSAGE, Kind::Message),
            (TW_KIND_CONNECTED, Kind::Connected),
            (TW_KIND_AUTHENTICATED, Kind::Authenticated),
            (TW_KIND_DISCONNECTED, Kind::Disconnected),
            (TW_KIND_RECONNECTING, Kind::Reconnecting),
            (TW_KIND_GAVE_UP, Kind::GaveUp),
            (TW_KIND_ERROR, Kind::Error),
            (TW_KIND_LAGGED, Kind::Lagged),
            (TW_KIND_RESPONSE, Kind::Response),
            (TW_KIND_LAGGING, Kind::Lagging),
            (TW_KIND_CAUGHT_UP, Kind::CaughtUp),
            (TW_KIND_GAP, Kind::Gap),
        ];
        assert_eq!(bits.len(), Kind::ALL.len());
        for (bit, kind) in bits {
            assert_eq!(bit, kind.bit(), "{kind}");
        }
        assert_eq!(TW_KIND_ALL, KindSet::ALL.bits());
        assert_eq!(TW_KIND_CONNECTION_CHANGE, KindSet::CONNECTION_CHANGE.bits());
    }

    unsafe extern "C" fn ignore(_: *const tw_event, _: *mut c_void) {}

    #[test]
    fn arguments_are_checked_and_the_first_listener_takes_the_stream() {
        unsafe {
            let c = tw_client_new(c"{\"url\":\"ws://127.0.0.1:9\"}".as_ptr());
            assert!(!c.is_null(), "{}", last());
            let mut id = 0u64;
            assert_eq!(
                tw_client_add_listener(
                    ptr::null_mut(),
                    TW_KIND_ALL,
                    Some(ignore),
                    ptr::null_mut(),
                    &mut id
                ),
                tw_result::TW_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                tw_client_add_listener(c, TW_KIND_ALL, None, ptr::null_mut(), &mut id),
                tw_result::TW_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                tw_client_add_listener(c, 1 << 20, Some(ignore), ptr::null_mut(), &mut id),
                tw_result::TW_ERR_INVALID_ARGUMENT
            );
            assert!(last().contains("TW_KIND_"), "{}", last());
            assert_eq!(
                tw_client_add_listener(c, 0, Some(ignore), ptr::null_mut(), &mut id),
                tw_result::TW_ERR_USAGE
            );
            assert_eq!(id, 0, "not written on an error");
            assert_eq!(
                tw_client_add_listener(
                    c,
                    TW_KIND_MESSAGE | TW_KIND_ERROR,
                    Some(ignore),
                    ptr::null_mut(),
                    &mut id
                ),
                tw_result::TW_OK
            );
            assert_ne!(id, 0);
            // NULL out_id: a listener nobody will remove.
            assert_eq!(
                tw_client_add_listener(
                    c,
                    TW_KIND_ALL,
                    Some(ignore),
                    ptr::null_mut(),
                    ptr::null_mut()
                ),
                tw_result::TW_OK
            );
            let mut ev: *mut tw_event = ptr::null_mut();
            assert_eq!(tw_client_next_event(c, 0, &mut ev), tw_result::TW_ERR_USAGE);
            assert!(last().contains("listeners"), "{}", last());
            assert_eq!(tw_client_remove_listener(c, id), tw_result::TW_OK);
            assert_eq!(
                tw_client_remove_listener(c, id),
                tw_result::TW_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                tw_client_remove_listener(ptr::null_mut(), id),
                tw_result::TW_ERR_INVALID_ARGUMENT
            );
            assert_eq!(tw_client_close(c), tw_result::TW_OK);
            assert_eq!(
                tw_client_add_listener(c, TW_KIND_ALL, Some(ignore), ptr::null_mut(), &mut id),
                tw_result::TW_ERR_CLOSED
            );
            tw_client_free(c);
        }
    }
}
