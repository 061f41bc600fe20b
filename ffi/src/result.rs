//! `tw_result`: the fixed set of result codes every fallible function returns.
//!
//! The values are part of the ABI: they are never renumbered and a retired code is never
//! reused. Non-negative codes are outcomes a program expects (`TW_OK`, `TW_TIMEOUT`,
//! `TW_CLOSED`); negative codes are errors, explained in words by `tw_last_error()`.
//!
//! The bottom layer of the binding: it imports nothing from the other modules
//! (`error` builds on it, `strings` on both; `tw_result_name` lives in `error`, with the
//! other functions that explain a failure).

use std::ffi::CStr;

use tradewire_core::ErrorCategory;

/// Result code of a tradewire C function. Zero and positive values are normal outcomes,
/// negative values are errors (`tw_last_error()` explains the last one in words).
///
/// The numeric values are stable: they are never renumbered and never reused.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum tw_result {
    /// Success.
    TW_OK = 0,
    /// `tw_client_next_event`, `tw_client_next_events`: no event arrived within the timeout
    /// (not an error).
    TW_TIMEOUT = 1,
    /// `tw_client_next_event`, `tw_client_next_events`: the event stream has ended and every
    /// queued event has been taken (not an error): after `tw_client_close` no event will ever
    /// come; after a `gave_up` event none comes until `tw_client_reconnect` starts a new
    /// stream.
    TW_CLOSED = 2,
    /// A pointer argument was NULL, a string was not valid UTF-8, or a value was out of range.
    TW_ERR_INVALID_ARGUMENT = -1,
    /// The configuration JSON is malformed or invalid (the message lists every problem).
    TW_ERR_CONFIG = -2,
    /// A connection could not be established.
    TW_ERR_CONNECT = -3,
    /// The server refused the credentials.
    TW_ERR_AUTH = -4,
    /// The client is not connected (not started, or between connections): nothing was sent.
    TW_ERR_NOT_CONNECTED = -5,
    /// A request did not get a usable response.
    TW_ERR_REQUEST = -6,
    /// An operation (such as a request) did not complete in time.
    TW_ERR_TIMEOUT = -7,
    /// The client is closed: it cannot send, start or reconnect any more.
    TW_ERR_CLOSED = -8,
    /// The call is not allowed in the client's state or preset (for example starting twice,
    /// a second callback, or a request on a preset without request/response correlation).
    TW_ERR_USAGE = -9,
    /// An operating system error outside a connection (threads, pollers).
    TW_ERR_IO = -10,
    /// An internal error (a panic) was caught at the boundary. Please report it.
    TW_ERR_PANIC = -11,
    /// An error this version of the C binding does not know how to classify.
    TW_ERR_UNKNOWN = -12,
}

impl tw_result {
    /// The code's name as a static NUL-terminated string (`"TW_ERR_CONFIG"`).
    pub fn name(self) -> &'static CStr {
        match self {
            tw_result::TW_OK => c"TW_OK",
            tw_result::TW_TIMEOUT => c"TW_TIMEOUT",
            tw_result::TW_CLOSED => c"TW_CLOSED",
            tw_result::TW_ERR_INVALID_ARGUMENT => c"TW_ERR_INVALID_ARGUMENT",
            tw_result::TW_ERR_CONFIG => c"TW_ERR_CONFIG",
            tw_result::TW_ERR_CONNECT => c"TW_ERR_CONNECT",
            tw_result::TW_ERR_AUTH => c"TW_ERR_AUTH",
            tw_result::TW_ERR_NOT_CONNECTED => c"TW_ERR_NOT_CONNECTED",
            tw_result::TW_ERR_REQUEST => c"TW_ERR_REQUEST",
            tw_result::TW_ERR_TIMEOUT => c"TW_ERR_TIMEOUT",
            tw_result::TW_ERR_CLOSED => c"TW_ERR_CLOSED",
            tw_result::TW_ERR_USAGE => c"TW_ERR_USAGE",
            tw_result::TW_ERR_IO => c"TW_ERR_IO",
            tw_result::TW_ERR_PANIC => c"TW_ERR_PANIC",
            tw_result::TW_ERR_UNKNOWN => c"TW_ERR_UNKNOWN",
        }
    }
}

/// Every code, in the order of their values' declaration.
const ALL: [tw_result; 15] = [
    tw_result::TW_OK,
    tw_result::TW_TIMEOUT,
    tw_result::TW_CLOSED,
    tw_result::TW_ERR_INVALID_ARGUMENT,
    tw_result::TW_ERR_CONFIG,
    tw_result::TW_ERR_CONNECT,
    tw_result::TW_ERR_AUTH,
    tw_result::TW_ERR_NOT_CONNECTED,
    tw_result::TW_ERR_REQUEST,
    tw_result::TW_ERR_TIMEOUT,
    tw_result::TW_ERR_CLOSED,
    tw_result::TW_ERR_USAGE,
    tw_result::TW_ERR_IO,
    tw_result::TW_ERR_PANIC,
    tw_result::TW_ERR_UNKNOWN,
];

impl tw_result {
    /// The result code for a core error: its category's code.
    pub fn from_error(e: &tradewire_core::Error) -> tw_result {
        tw_result::from_category(e.kind())
    }

    /// The result code of an error category (`TW_ERR_UNKNOWN` for a category this version
    /// of the binding does not know).
    pub fn from_category(kind: ErrorCategory) -> tw_result {
        match kind {
            ErrorCategory::Config => tw_result::TW_ERR_CONFIG,
            ErrorCategory::Connect => tw_result::TW_ERR_CONNECT,
            ErrorCategory::Auth => tw_result::TW_ERR_AUTH,
            ErrorCategory::NotConnected => tw_result::TW_ERR_NOT_CONNECTED,
            ErrorCategory::Request => tw_result::TW_ERR_REQUEST,
            ErrorCategory::Timeout => tw_result::TW_ERR_TIMEOUT,
            ErrorCategory::Closed => tw_result::TW_ERR_CLOSED,
            ErrorCategory::Usage => tw_result::TW_ERR_USAGE,
            ErrorCategory::Io => tw_result::TW_ERR_IO,
            _ => tw_result::TW_ERR_UNKNOWN,
        }
    }
}

impl tw_result {
    /// The code with this value, if there is one.
    pub fn from_value(value: i32) -> Option<tw_result> {
        ALL.iter().copied().find(|r| *r as i32 == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_the_documented_ones() {
        // These numbers are ABI: changing one breaks every compiled C program.
        let expected = [
            ("TW_OK", 0),
            ("TW_TIMEOUT", 1),
            ("TW_CLOSED", 2),
            ("TW_ERR_INVALID_ARGUMENT", -1),
            ("TW_ERR_CONFIG", -2),
            ("TW_ERR_CONNECT", -3),
            ("TW_ERR_AUTH", -4),
            ("TW_ERR_NOT_CONNECTED", -5),
            ("TW_ERR_REQUEST", -6),
            ("TW_ERR_TIMEOUT", -7),
            ("TW_ERR_CLOSED", -8),
            ("TW_ERR_USAGE", -9),
            ("TW_ERR_IO", -10),
            ("TW_ERR_PANIC", -11),
            ("TW_ERR_UNKNOWN", -12),
        ];
        assert_eq!(expected.len(), ALL.len());
        for (code, (name, value)) in ALL.iter().zip(expected) {
            assert_eq!(*code as i32, value);
            assert_eq!(code.name().to_str().unwrap(), name);
            assert_eq!(tw_result::from_value(value), Some(*code));
        }
        assert_eq!(tw_result::from_value(12345), None);
    }

    #[test]
    fn error_categories_map_to_their_codes() {
        let expected = [
            (ErrorCategory::Config, tw_result::TW_ERR_CONFIG),
            (ErrorCategory::Connect, tw_result::TW_ERR_CONNECT),
            (ErrorCategory::Auth, tw_result::TW_ERR_AUTH),
            (ErrorCategory::NotConnected, tw_result::TW_ERR_NOT_CONNECTED),
            (ErrorCategory::Request, tw_result::TW_ERR_REQUEST),
            (ErrorCategory::Timeout, tw_result::TW_ERR_TIMEOUT),
            (ErrorCategory::Closed, tw_result::TW_ERR_CLOSED),
            (ErrorCategory::Usage, tw_result::TW_ERR_USAGE),
            (ErrorCategory::Io, tw_result::TW_ERR_IO),
        ];
        for (kind, code) in expected {
            assert_eq!(tw_result::from_category(kind), code, "{kind}");
            // The code's name is the category's, in the C style.
            let name = code.name().to_str().unwrap();
            assert_eq!(name, format!("TW_ERR_{}", kind.as_str().to_uppercase()));
        }
    }

    #[test]
    fn core_errors_map_to_their_codes() {
        let config = tradewire_core::Config::from_json("[").unwrap_err();
        assert_eq!(tw_result::from_error(&config), tw_result::TW_ERR_CONFIG);
        let client =
            tradewire_core::Client::new(tradewire_core::Config::new("ws://127.0.0.1:9")).unwrap();
        let not_connected = client.send_text("x").unwrap_err();
        assert_eq!(
            tw_result::from_error(&not_connected),
            tw_result::TW_ERR_NOT_CONNECTED
        );
        client.close();
        let closed = client.start().unwrap_err();
        assert_eq!(tw_result::from_error(&closed), tw_result::TW_ERR_CLOSED);
    }
}
