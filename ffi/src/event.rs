//! `tw_event`: one item of the event stream, and its accessors.

use std::cell::Cell;
use std::ffi::{c_char, CStr};
use std::ptr;
use tradewire_core::Event;

use crate::error::{guard_infallible, guard_value, Failure};
use crate::strings::{into_c_string, LazyCStr};

/// An event: a message from the server or a lifecycle event (connected, disconnected,
/// reconnecting, ...). Opaque; read it with the `tw_event_*` accessors.
///
/// An event from `tw_client_next_event` or `tw_event_clone` belongs to the caller, who frees
/// it with `tw_event_free`. An event passed to a callback is lent for the duration of the
/// call only. An event may be read from several threads at once; it is freed once.
pub struct tw_event {
    event: Event,
    /// The type, account and payload as NUL-terminated copies, made when the event is
    /// wrapped: every consumer reads at least one of them, and making them eagerly needs no
    /// lock or once-cell on the read path (a visible cost per event, docs/BENCHMARKS.md).
    fields: Fields,
    /// The frame's text (message, error), or a gap's key (`tw_event_gap`): one per kind.
    raw: LazyCStr,
    /// The account as JSON text, made on first use (few consumers ask for it).
    account_json: LazyCStr,
}

/// NUL-terminated copies of a message's type, account and payload in one buffer, reused
/// from event to event (no `malloc` per event for a consumer that frees what it takes).
#[derive(Default)]
struct Fields {
    buf: Vec<u8>,
    msg_type: Option<usize>,
    account_id: Option<usize>,
    data: Option<usize>,
}

impl Fields {
    /// Refills the buffer with `event`'s fields.
    fn fill(&mut self, event: &Event) {
        let (t, a) = match event.as_message() {
            Some(m) => (m.msg_type(), m.account_id()),
            None => (None, None),
        };
        let d = event.data_json();
        let buf = &mut self.buf;
        buf.clear();
        buf.reserve([t, a, d].iter().flatten().map(|s| s.len() + 1).sum());
        let mut put = |s: Option<&str>| {
            s.map(|s| {
                let at = buf.len();
                buf.extend_from_slice(s.as_bytes());
                buf.push(0);
                at
            })
        };
        (self.msg_type, self.account_id, self.data) = (put(t), put(a), put(d));
    }

    fn ptr(&self, at: Option<usize>) -> *const c_char {
        match at {
            Some(i) => self.buf[i..].as_ptr().cast(),
            None => ptr::null(),
        }
    }
}

/// The largest field buffer kept for reuse after an event is freed.
const SPARE_BUFFER_MAX: usize = 64 * 1024;

thread_local! {
    /// The last event this thread freed, kept for the next `tw_client_next_event` here: a
    /// consumer that takes and frees events in a loop allocates no `tw_event` per event.
    static SPARE: Cell<Option<Box<tw_event>>> = const { Cell::new(None) };
}

impl tw_event {
    /// Wraps a core event.
    pub fn new(event: Event) -> tw_event {
        let mut fields = Fields::default();
        fields.fill(&event);
        tw_event {
            event,
            fields,
            raw: LazyCStr::default(),
            account_json: LazyCStr::default(),
        }
    }

    /// The event on the heap for the C side (reusing this thread's spare allocation and
    /// its field buffer).
    pub fn into_raw(event: Event) -> *mut tw_event {
        let boxed = match SPARE.try_with(Cell::take).ok().flatten() {
            Some(mut spare) => {
                spare.fields.fill(&event);
                spare.event = event;
                spare
            }
            None => Box::new(tw_event::new(event)),
        };
        Box::into_raw(boxed)
    }

    /// Frees an event from [`tw_event::into_raw`]: what it holds is freed now, its
    /// allocation (and its field buffer's memory) is kept as this thread's spare.
    ///
    /// # Safety
    /// `event` must come from `into_raw` and not be used afterwards.
    unsafe fn free_raw(event: *mut tw_event) {
        // SAFETY: forwarded from the caller.
        let mut boxed = unsafe { Box::from_raw(event) };
        boxed.event = Event::Lagged { dropped: 0 };
        boxed.raw = LazyCStr::default();
        boxed.account_json = LazyCStr::default();
        // A buffer grown by one large message is not kept for the small ones after it.
        if boxed.fields.buf.capacity() > SPARE_BUFFER_MAX {
            boxed.fields.buf = Vec::new();
        }
        let _ = SPARE.try_with(move |spare| spare.set(Some(boxed)));
    }

    /// The core event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The kind as a static NUL-terminated string.
    fn kind(&self) -> &'static CStr {
        match self.event.kind() {
            "message" => c"message",
            "connected" => c"connected",
            "authenticated" => c"authenticated",
            "disconnected" => c"disconnected",
            "reconnecting" => c"reconnecting",
            "gave_up" => c"gave_up",
            "error" => c"error",
            "lagged" => c"lagged",
            "response" => c"response",
            "lagging" => c"lagging",
            "caught_up" => c"caught_up",
            "gap" => c"gap",
            _ => c"unknown",
        }
    }

    fn raw_text(&self) -> Option<&str> {
        match &self.event {
            Event::Message(m) => m.raw(),
            Event::Error(e) => e.raw.as_deref(),
            _ => None,
        }
    }

    fn raw_bytes(&self) -> Option<&[u8]> {
        match &self.event {
            Event::Message(m) => Some(m.raw_bytes()),
            _ => self.raw_text().map(str::as_bytes),
        }
    }

    fn epoch(&self) -> u64 {
        self.event.epoch().unwrap_or(0)
    }

    /// The event as one JSON object: core's JSON form ([`Event::to_json`]).
    pub fn to_json(&self) -> String {
        self.event.to_json()
    }
}

/// Borrows the event behind a C pointer.
///
/// # Safety
/// `ev` must be NULL or a live event.
unsafe fn event_ref<'a>(ev: *const tw_event, function: &str) -> Result<&'a tw_event, Failure> {
    // SAFETY: the caller promises NULL or a live event.
    unsafe { ev.as_ref() }.ok_or_else(|| Failure::null(function, "event"))
}

/// The event's kind: `"message"`, `"connected"`, `"authenticated"`, `"disconnected"`,
/// `"reconnecting"`, `"gave_up"`, `"error"`, `"lagged"`, `"response"`, `"lagging"` or
/// `"caught_up"` (`"unknown"` for a kind newer than this binding).
///
/// Ownership: a static string; never free it.
/// Threads: any thread.
/// Errors: NULL when `event` is NULL (`tw_last_error()` says so).
///
/// # Safety
/// `event` must be NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn tw_event_kind(event: *const tw_event) -> *const c_char {
    guard_value(ptr::null(), || {
        // SAFETY: forwarded from the caller.
        Ok(unsafe { event_ref(event, "tw_event_kind") }?
            .kind()
            .as_ptr())
    })
}

/// The message type (`/type` by default) of a `message` event, or NULL when the event is not
/// a message or the message has no type.
///
/// Ownership: borrowed from the event; valid until `tw_event_free(event)` (for a callback's
/// event: until the callback returns). Never free it.
/// Threads: any thread.
/// Errors: NULL, with `tw_last_error()` set, when `event` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn tw_event_type(event: *const tw_event) -> *const c_char {
    guard_value(ptr::null(), || {
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, "tw_event_type") }?;
        let fields = &ev.fields;
        Ok(fields.ptr(fields.msg_type))
    })
}

/// The account of a `message` event in canonical text form (`"123"`), or NULL when the
/// event is not a message or the message names no account.
///
/// Ownership: borrowed from the event; valid until `tw_event_free(event)` (for a callback's
/// event: until the callback returns). Never free it.
/// Threads: any thread.
/// Errors: NULL, with `tw_last_error()` set, when `event` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn tw_event_account_id(event: *const tw_event) -> *const c_char {
    guard_value(ptr::null(), || {
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, "tw_event_account_id") }?;
        let fields = &ev.fields;
        Ok(fields.ptr(fields.account_id))
    })
}

/// The account of a `message` event as JSON text, with the type the server gave it: `123`
/// for a number (every digit, beyond 64 bits too), `"123"` for a string (quoted, with JSON
/// escapes). NULL when the event is not a message or the message names no account.
/// `tw_event_account_id` gives the same account as plain text (`123` for both), and the
/// account filter treats `123` and `"123"` as the same account.
///
/// Ownership: borrowed from the event; valid until `tw_event_free(event)` (for a callback's
/// event: until the callback returns). Never free it.
/// Threads: any thread.
/// Errors: NULL, with `tw_last_error()` set, when `event` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn tw_event_account_id_json(event: *const tw_event) -> *const c_char {
    guard_value(ptr::null(), || {
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, "tw_event_account_id_json") }?;
        Ok(
            match ev.event.as_message().and_then(|m| m.account_id_json()) {
                Some(json) => ev.account_json.get(json.as_bytes()),
                None => ptr::null(),
            },
        )
    })
}

/// The payload as JSON text: for a `message`, its data (`/data` by default, or the whole
/// object when it has no data field; the metis preset: the whole message, and for a text
/// frame that is not JSON its text as a JSON string); for a `response`, the response data.
/// NULL when there is none (other kinds, or a message that was not JSON).
///
/// Ownership: borrowed from the event; valid until `tw_event_free(event)` (for a callback's
/// event: until the callback returns). Never free it.
/// Threads: any thread.
/// Errors: NULL, with `tw_last_error()` set, when `event` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn tw_event_data_json(event: *const tw_event) -> *const c_char {
    guard_value(ptr::null(), || {
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, "tw_event_data_json") }?;
        let fields = &ev.fields;
        Ok(fields.ptr(fields.data))
    })
}

/// The text exactly as received: for a `message`, the whole text frame; for an `error`
/// event, the offending frame (cut to 1 KiB). NULL for a binary frame and for other kinds.
/// A text frame may itself contain NUL characters: `tw_event_raw_bytes` gives the length.
///
/// Ownership: borrowed from the event; valid until `tw_event_free(event)` (for a callback's
/// event: until the callback returns). Never free it.
/// Threads: any thread.
/// Errors: NULL, with `tw_last_error()` set, when `event` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn tw_event_raw(event: *const tw_event) -> *const c_char {
    guard_value(ptr::null(), || {
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, "tw_event_raw") }?;
        Ok(match ev.raw_text() {
            Some(r) => ev.raw.get(r.as_bytes()),
            None => ptr::null(),
        })
    })
}

/// The frame's bytes exactly as received, text or binary, with their length in `*len`
/// (`message` events; the offending frame of an `error` event). NULL when there are none.
///
/// Ownership: borrowed from the event; valid until `tw_event_free(event)` (for a callback's
/// event: until the callback returns). Never free it. `len` is the caller's; it is written
/// only when the function returns non-NULL.
/// Threads: any thread.
/// Errors: NULL, with `tw_last_error()` set, when `event` or `len` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event; `len` must be NULL or point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn tw_event_raw_bytes(event: *const tw_event, len: *mut usize) -> *const u8 {
    guard_value(ptr::null(), || {
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, "tw_event_raw_bytes") }?;
        if len.is_null() {
            return Err(Failure::null("tw_event_raw_bytes", "len"));
        }
        Ok(match ev.raw_bytes() {
            Some(bytes) => {
                // SAFETY: checked non-NULL; the caller promises it is writable.
                unsafe { *len = bytes.len() };
                bytes.as_ptr()
            }
            None => ptr::null(),
        })
    })
}

/// The connection number (epoch, from 1) the event belongs to: for `message`, `connected`,
/// `authenticated`, `disconnected` and `error` events; 0 for other kinds. Messages between
/// `connected` and `disconnected` of epoch n came over connection n.
///
/// Ownership: nothing to free. Threads: any thread.
/// Errors: 0, with `tw_last_error()` set, when `event` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn tw_event_epoch(event: *const tw_event) -> u64 {
    guard_value(0, || {
        // SAFETY: forwarded from the caller.
        Ok(unsafe { event_ref(event, "tw_event_epoch") }?.epoch())
    })
}

/// Document 004's `isConnected` of a `connection-change` (`TW_KIND_CONNECTION_CHANGE`): 1
/// for a `connected` event, 0 for a `disconnected` event, -1 for every other kind.
///
/// Ownership: nothing to free. Threads: any thread.
/// Errors: -1, with `tw_last_error()` set, when `event` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn tw_event_is_connected(event: *const tw_event) -> i32 {
    guard_value(-1, || {
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, "tw_event_is_connected") }?;
        Ok(ev.event.is_connected().map_or(-1, i32::from))
    })
}

/// The message's own timestamp by the server's clock, in Unix seconds, read at the
/// `time_pointer` configuration field (breakout: the message's `ts`): writes it to
/// `*unix_seconds` and returns true. Returns false, leaving `*unix_seconds` as it was, when
/// the event is not a message, the message has no such field, or its value is not a time
/// (epoch seconds, milliseconds, microseconds or nanoseconds, or an ISO-8601 string).
/// `feed_latency` in `tw_client_status_json` is `received_at − server_time` of the latest one.
///
/// Ownership: nothing to free; `unix_seconds` stays the caller's.
/// Threads: any thread.
/// Errors: false, with `tw_last_error()` set, when `event` or `unix_seconds` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event; `unix_seconds` NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn tw_event_server_time(
    event: *const tw_event,
    unix_seconds: *mut f64,
) -> bool {
    guard_value(false, || {
        const NAME: &str = "tw_event_server_time";
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, NAME) }?;
        if unix_seconds.is_null() {
            return Err(Failure::null(NAME, "unix_seconds"));
        }
        let Some(t) = ev.event.as_message().and_then(|m| m.server_time()) else {
            return Ok(false);
        };
        let secs = t
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        // SAFETY: not NULL, and the caller promises it is valid for one write.
        unsafe { *unix_seconds = secs };
        Ok(true)
    })
}

/// Which lag a `lagging` or `caught_up` event is about: `"feed"` (`feed_lag`: the feed is
/// late) or `"consumer"` (`consumer_lag`: the application is late), with how far behind in
/// seconds written to `*seconds`. NULL, leaving `*seconds` as it was, for other kinds.
///
/// Ownership: a static string; never free it. `seconds` stays the caller's.
/// Threads: any thread.
/// Errors: NULL, with `tw_last_error()` set, when `event` or `seconds` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event; `seconds` NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn tw_event_lag(event: *const tw_event, seconds: *mut f64) -> *const c_char {
    guard_value(ptr::null(), || {
        const NAME: &str = "tw_event_lag";
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, NAME) }?;
        if seconds.is_null() {
            return Err(Failure::null(NAME, "seconds"));
        }
        let (Event::Lagging { lag, seconds: s } | Event::CaughtUp { lag, seconds: s }) = &ev.event
        else {
            return Ok(ptr::null());
        };
        // SAFETY: not NULL, and the caller promises it is valid for one write.
        unsafe { *seconds = *s };
        let name: &'static CStr = match lag {
            tradewire_core::Lag::Feed => c"feed",
            tradewire_core::Lag::Consumer => c"consumer",
        };
        Ok(name.as_ptr())
    })
}

/// A `gap` event (config `sequence`: the feed skipped sequence numbers): writes the number
/// that was due to `*expected`, the one that came to `*received` and how many are missing
/// (`received - expected`) to `*missing`, and returns the stream's key (the value at
/// `sequence_key`; `""` without one). Each out-parameter may be NULL (not written). NULL,
/// writing nothing, for other kinds.
///
/// Ownership: the key is borrowed from the event; valid until `tw_event_free(event)` (for a
/// callback's event: until the callback returns). Never free it.
/// Threads: any thread.
/// Errors: NULL, with `tw_last_error()` set, when `event` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event; each out-parameter NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn tw_event_gap(
    event: *const tw_event,
    expected: *mut u64,
    received: *mut u64,
    missing: *mut u64,
) -> *const c_char {
    guard_value(ptr::null(), || {
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, "tw_event_gap") }?;
        let Event::Gap {
            key,
            expected: e,
            received: r,
            missing: m,
            ..
        } = &ev.event
        else {
            return Ok(ptr::null());
        };
        for (out, value) in [(expected, e), (received, r), (missing, m)] {
            if !out.is_null() {
                // SAFETY: not NULL, and the caller promises it is valid for one write.
                unsafe { *out = *value };
            }
        }
        Ok(ev.raw.get(key.as_deref().unwrap_or("").as_bytes()))
    })
}

/// Describes any event as one line of JSON: the event's one JSON form, the same text as the
/// `tradewire listen` lines and Python's `Event.to_json()`. `"kind"` first, then the fields
/// of its kind, each present (`null` when absent): `message`: type, account_id (with the
/// JSON type the server gave it: `123` or `"123"`), data (the payload JSON embedded as the
/// server wrote it: numbers keep their digits, any depth; put on one line if the server
/// pretty-printed it), raw (the frame's text when it was not JSON), binary (a binary frame's
/// bytes in base64), received_at (ISO-8601 UTC with microseconds), server_time (the same
/// form, or null: see `tw_event_server_time`), epoch; `connected`:
/// epoch, url, is_connected (true); `authenticated`: epoch; `disconnected`: epoch, code,
/// reason, error, by_client, is_connected (false);
/// `reconnecting`: attempt, delay (seconds), reason; `gave_up`: reason; `error`: error (its
/// kind), message, raw, epoch; `lagged`: dropped; `response`: id, status, data.
/// Built only when asked: `tw_client_next_event` does not pay for it.
///
/// Ownership: returns a new string owned by the caller; free it with `tw_string_free`.
/// Threads: any thread.
/// Errors: NULL, with `tw_last_error()` set, when `event` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn tw_event_to_json(event: *const tw_event) -> *mut c_char {
    guard_value(ptr::null_mut(), || {
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, "tw_event_to_json") }?;
        Ok(into_c_string(ev.to_json()))
    })
}

/// Copies an event, for example to keep one that a callback lends beyond the call. Cheap:
/// the frame's bytes are shared, not copied.
///
/// Ownership: returns a new event owned by the caller; free it with `tw_event_free`.
/// `event` stays the caller's (or the callback's lender's).
/// Threads: any thread.
/// Errors: NULL, with `tw_last_error()` set, when `event` is NULL.
///
/// # Safety
/// `event` must be NULL or a live event.
#[no_mangle]
pub unsafe extern "C" fn tw_event_clone(event: *const tw_event) -> *mut tw_event {
    guard_value(ptr::null_mut(), || {
        // SAFETY: forwarded from the caller.
        let ev = unsafe { event_ref(event, "tw_event_clone") }?;
        Ok(tw_event::into_raw(ev.event.clone()))
    })
}

/// Frees an event and every string borrowed from it. `tw_event_free(NULL)` does nothing.
///
/// Ownership: takes ownership of `event`; do not use it (or strings borrowed from it)
/// afterwards. Never free an event lent to a callback.
/// Threads: any thread, once no other thread reads the event.
/// Errors: none.
///
/// # Safety
/// `event` must be NULL or an event returned by `tw_client_next_event` or `tw_event_clone`
/// and not freed yet.
#[no_mangle]
pub unsafe extern "C" fn tw_event_free(event: *mut tw_event) {
    guard_infallible((), || {
        if !event.is_null() {
            // SAFETY: the caller promises the event came from this library and is not used again.
            unsafe { tw_event::free_raw(event) };
        }
    })
}

#[cfg(test)]
mod tests;
