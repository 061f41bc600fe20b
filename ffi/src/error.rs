//! The binding's error type, the thread-local last error, the guards that keep panics
//! from crossing the C boundary, and the C functions that explain a failure
//! (`tw_last_error`, `tw_last_error_code`, `tw_last_error_reason`, `tw_result_name`).
//!
//! Layering: this module builds on `result` only; `strings` builds on it.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::result::tw_result;

/// A `CString` from any text: a NUL byte inside (which C cannot represent) becomes `\0`.
/// Here, below `strings`, because an error message needs it too.
pub fn to_cstring_lossy(text: String) -> CString {
    match CString::new(text) {
        Ok(c) => c,
        Err(e) => {
            let text = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\\0");
            // No NUL is left, so this cannot fail; fall back to empty rather than panic.
            CString::new(text).unwrap_or_default()
        }
    }
}

/// Why a C call failed: the code it returns and the words `tw_last_error()` gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The code returned to C (always negative).
    pub code: tw_result,
    /// What failed and, where possible, what to do about it.
    pub message: String,
    /// Why a connection attempt failed, when the failure is one (`tw_last_error_reason`).
    pub reason: Option<&'static CStr>,
}

impl Failure {
    /// A failure with the given code and message.
    pub fn new(code: tw_result, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            reason: None,
        }
    }

    /// `TW_ERR_INVALID_ARGUMENT` with a message.
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(tw_result::TW_ERR_INVALID_ARGUMENT, message)
    }

    /// The NULL-pointer failure for argument `name` of `function`.
    pub fn null(function: &str, name: &str) -> Failure {
        Failure::invalid(format!("{function}: `{name}` is NULL"))
    }
}

impl From<tradewire_core::Error> for Failure {
    fn from(e: tradewire_core::Error) -> Failure {
        let mut f = Failure::new(tw_result::from_error(&e), e.to_string());
        f.reason = e.reason().map(reason_name);
        f
    }
}

/// The stable name of a connection failure's reason, as a static C string (the same names
/// as `ConnectReason::as_str`).
pub fn reason_name(reason: tradewire_core::ConnectReason) -> &'static CStr {
    use tradewire_core::ConnectReason as R;
    match reason {
        R::ConnectionRefused => c"connection_refused",
        R::TimedOut => c"timed_out",
        R::Dns => c"dns",
        R::Tls => c"tls",
        R::Handshake => c"handshake",
        R::Auth => c"auth",
        // A reason this version of the binding does not name.
        _ => c"other",
    }
}

/// The last failure reported on this thread.
struct LastError {
    code: tw_result,
    message: CString,
    reason: Option<&'static CStr>,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// Records `failure` as this thread's last error and returns its code.
pub fn set_last_error(failure: Failure) -> tw_result {
    let code = failure.code;
    let reason = failure.reason;
    let message = to_cstring_lossy(failure.message);
    // `try_with`: during thread teardown the slot may be gone; the code still tells the story.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(LastError {
                code,
                message,
                reason,
            });
        }
    });
    code
}

/// Clears this thread's last error: the call that just returned succeeded.
pub fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            if slot.is_some() {
                *slot = None;
            }
        }
    });
}

/// Runs `f`, turning an error or a panic into a negative code (recorded as the last error);
/// a success clears the last error.
pub fn guard_result(f: impl FnOnce() -> Result<tw_result, Failure>) -> tw_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(code)) => {
            clear_last_error();
            code
        }
        Ok(Err(failure)) => set_last_error(failure),
        Err(panic) => set_last_error(panic_failure(panic.as_ref())),
    }
}

/// Runs `f`, returning `on_failure` after an error or a panic (recorded as the last error);
/// a success clears the last error.
pub fn guard_value<T>(on_failure: T, f: impl FnOnce() -> Result<T, Failure>) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => {
            clear_last_error();
            value
        }
        Ok(Err(failure)) => {
            set_last_error(failure);
            on_failure
        }
        Err(panic) => {
            set_last_error(panic_failure(panic.as_ref()));
            on_failure
        }
    }
}

/// Runs `f`, a function that cannot fail (`tw_version`, `tw_result_name`, the `*_free`
/// functions): it leaves the last error as it is, so that it can be called between a
/// failing call and `tw_last_error()`; a panic (a bug) is recorded and gives `on_panic`.
pub fn guard_infallible<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(panic) => {
            set_last_error(panic_failure(panic.as_ref()));
            on_panic
        }
    }
}

/// The failure reported for a caught panic.
pub fn panic_failure(panic: &(dyn std::any::Any + Send)) -> Failure {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Failure::new(
        tw_result::TW_ERR_PANIC,
        format!("internal error in libtradewire (caught a panic: {what}); please report it"),
    )
}

/// The message of the last failure of a tradewire call on the calling thread, or an empty
/// string when the last call that can fail succeeded (or none was made yet).
///
/// The next successful call on the same thread clears it (every function that can fail,
/// including `tw_client_next_event` returning `TW_TIMEOUT` or `TW_CLOSED`); the functions
/// that cannot fail (`tw_version`, `tw_result_name`, `tw_string_free`, `tw_event_free`,
/// `tw_client_free`, and `tw_last_error`/`tw_last_error_code` themselves) leave it as it is.
/// Read it right after a call that reported a failure (a negative `tw_result`, or NULL from
/// a function that returns a pointer).
///
/// Ownership: the library owns the string; it stays valid until the next `tw_` call on the
/// same thread. Copy it to keep it. Never NULL, never free it.
/// Threads: any thread; each thread has its own last error.
/// Errors: none.
#[no_mangle]
pub extern "C" fn tw_last_error() -> *const c_char {
    // No panic can happen here (no borrow can fail, no allocation); caught all the same, and
    // not recorded: a failure to read the last error must not replace it.
    catch_unwind(read_last_error_message).unwrap_or(c"".as_ptr())
}

fn read_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| match slot.try_borrow() {
            Ok(slot) => slot
                .as_ref()
                .map(|e| e.message.as_ptr())
                .unwrap_or(c"".as_ptr()),
            Err(_) => c"".as_ptr(),
        })
        .unwrap_or(c"".as_ptr())
}

/// The code of the last failure of a tradewire call on the calling thread (`TW_OK` when the
/// last call that can fail succeeded, or none was made yet; cleared like `tw_last_error`).
/// Useful after a function that returns NULL, such as `tw_client_new`.
///
/// Ownership: nothing to free. Threads: any thread; each thread has its own last error.
/// Errors: none.
#[no_mangle]
pub extern "C" fn tw_last_error_code() -> tw_result {
    catch_unwind(read_last_error_code).unwrap_or(tw_result::TW_ERR_PANIC)
}

fn read_last_error_code() -> tw_result {
    LAST_ERROR
        .try_with(|slot| match slot.try_borrow() {
            Ok(slot) => slot.as_ref().map(|e| e.code).unwrap_or(tw_result::TW_OK),
            Err(_) => tw_result::TW_OK,
        })
        .unwrap_or(tw_result::TW_OK)
}

/// Why the last failure on the calling thread happened, when it was a connection attempt
/// (mostly from `tw_client_wait_live`): `"connection_refused"`, `"timed_out"`, `"dns"`,
/// `"tls"`, `"handshake"` or `"auth"`; NULL for any other failure, and when the last call
/// that can fail succeeded. Cleared like `tw_last_error`. Compare with `strcmp`.
///
/// Ownership: the string is static (never free it; it stays valid for ever).
/// Threads: any thread; each thread has its own last error.
/// Errors: none.
#[no_mangle]
pub extern "C" fn tw_last_error_reason() -> *const c_char {
    catch_unwind(read_last_error_reason).unwrap_or(std::ptr::null())
}

fn read_last_error_reason() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| match slot.try_borrow() {
            Ok(slot) => slot
                .as_ref()
                .and_then(|e| e.reason)
                .map_or(std::ptr::null(), CStr::as_ptr),
            Err(_) => std::ptr::null(),
        })
        .unwrap_or(std::ptr::null())
}

/// The name of a result code (`"TW_ERR_CONFIG"`), or `"TW_UNKNOWN_RESULT"` for a value that is
/// not a code.
///
/// Ownership: the returned string is static (never free it). Threads: any thread.
/// Errors: none.
#[no_mangle]
pub extern "C" fn tw_result_name(code: i32) -> *const c_char {
    guard_infallible(c"TW_UNKNOWN_RESULT".as_ptr(), || {
        tw_result::from_value(code)
            .map(|r| r.name())
            .unwrap_or(c"TW_UNKNOWN_RESULT")
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last() -> String {
        unsafe { CStr::from_ptr(tw_last_error()) }
            .to_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn empty_until_something_fails_then_cleared_by_the_next_success() {
        std::thread::spawn(|| {
            assert_eq!(last(), "");
            assert_eq!(tw_last_error_code(), tw_result::TW_OK);
            let code = guard_result(|| Err(Failure::invalid("bad thing")));
            assert_eq!(code, tw_result::TW_ERR_INVALID_ARGUMENT);
            assert_eq!(last(), "bad thing");
            // Reading it, and calls that cannot fail, keep it.
            assert_eq!(last(), "bad thing");
            guard_infallible((), || ());
            assert_eq!(tw_last_error_code(), tw_result::TW_ERR_INVALID_ARGUMENT);
            // A success clears it: a guarded result (TW_TIMEOUT is a success too) ...
            assert_eq!(
                guard_result(|| Ok(tw_result::TW_TIMEOUT)),
                tw_result::TW_TIMEOUT
            );
            assert_eq!(last(), "");
            assert_eq!(tw_last_error_code(), tw_result::TW_OK);
            // ... and a guarded value.
            guard_value(0, || Err(Failure::invalid("again")));
            assert_eq!(last(), "again");
            assert_eq!(guard_value(0, || Ok(5)), 5);
            assert_eq!(last(), "");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_panic_becomes_err_panic_with_its_message() {
        std::thread::spawn(|| {
            let code = guard_result(|| panic!("boom"));
            assert_eq!(code, tw_result::TW_ERR_PANIC);
            assert!(last().contains("boom"), "{}", last());
            let v = guard_value(7, || -> Result<i32, Failure> { panic!("again") });
            assert_eq!(v, 7);
            assert!(last().contains("again"));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn the_reason_of_a_connection_failure_is_kept_until_the_next_success() {
        std::thread::spawn(|| {
            assert!(tw_last_error_reason().is_null());
            let client =
                tradewire_core::Client::new(tradewire_core::Config::new("ws://127.0.0.1:9"))
                    .unwrap();
            // Not started: a usage error, no reason.
            let e = client
                .wait_live(std::time::Duration::ZERO)
                .map_err(Failure::from)
                .unwrap_err();
            assert_eq!(e.reason, None);
            let mut f = Failure::new(tw_result::TW_ERR_CONNECT, "refused");
            f.reason = Some(reason_name(
                tradewire_core::ConnectReason::ConnectionRefused,
            ));
            assert_eq!(guard_result(|| Err(f)), tw_result::TW_ERR_CONNECT);
            let reason = unsafe { CStr::from_ptr(tw_last_error_reason()) };
            assert_eq!(reason.to_str().unwrap(), "connection_refused");
            guard_result(|| Ok(tw_result::TW_OK));
            assert!(tw_last_error_reason().is_null());
            for r in [
                tradewire_core::ConnectReason::TimedOut,
                tradewire_core::ConnectReason::Dns,
                tradewire_core::ConnectReason::Tls,
                tradewire_core::ConnectReason::Handshake,
                tradewire_core::ConnectReason::Auth,
            ] {
                assert_eq!(reason_name(r).to_str().unwrap(), r.as_str());
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    fn result_names_by_value() {
        let name = |v: i32| {
            unsafe { CStr::from_ptr(tw_result_name(v)) }
                .to_str()
                .unwrap()
        };
        assert_eq!(name(0), "TW_OK");
        assert_eq!(name(-2), "TW_ERR_CONFIG");
        assert_eq!(name(-12), "TW_ERR_UNKNOWN");
        assert_eq!(name(12345), "TW_UNKNOWN_RESULT");
    }

    #[test]
    fn messages_with_nul_bytes_are_kept_readable() {
        std::thread::spawn(|| {
            set_last_error(Failure::invalid("a\0b"));
            assert_eq!(last(), "a\\0b");
        })
        .join()
        .unwrap();
    }
}
