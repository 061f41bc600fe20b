//! Strings across the boundary: reading C strings (NULL and UTF-8 checked), handing out
//! strings the caller frees with `tw_string_free`, and NUL-terminated views kept inside an
//! event.
//!
//! Layering: this module builds on `error` (and so on `result`); neither imports it.

use std::ffi::{c_char, CStr, CString};
use std::sync::OnceLock;

use crate::error::{guard_infallible, to_cstring_lossy, Failure};

/// Reads a C string argument: `TW_ERR_INVALID_ARGUMENT` when it is NULL or not UTF-8.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that stays valid for `'a`.
pub unsafe fn str_arg<'a>(
    ptr: *const c_char,
    function: &str,
    name: &str,
) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(function, name));
    }
    // SAFETY: the caller promises a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::invalid(format!(
            "{function}: `{name}` is not valid UTF-8 (invalid byte at offset {}); pass UTF-8 text",
            e.valid_up_to()
        ))
    })
}

/// Like [`str_arg`], but NULL is allowed and means `None`.
///
/// # Safety
/// As for [`str_arg`].
pub unsafe fn opt_str_arg<'a>(
    ptr: *const c_char,
    function: &str,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { str_arg(ptr, function, name) }.map(Some)
    }
}

/// Hands a string to C; the caller frees it with `tw_string_free`.
pub fn into_c_string(text: String) -> *mut c_char {
    to_cstring_lossy(text).into_raw()
}

/// A NUL-terminated copy of some bytes, made the first time C asks for it and kept until the
/// owner is dropped. The bytes may contain NUL themselves (a C reader then sees a prefix; the
/// accessor that returns a length sees everything).
#[derive(Debug, Default)]
pub struct LazyCStr(OnceLock<Box<[u8]>>);

impl LazyCStr {
    /// The NUL-terminated copy of `bytes`, made on first use.
    pub fn get(&self, bytes: &[u8]) -> *const c_char {
        self.0
            .get_or_init(|| {
                let mut v = Vec::with_capacity(bytes.len() + 1);
                v.extend_from_slice(bytes);
                v.push(0);
                v.into_boxed_slice()
            })
            .as_ptr()
            .cast()
    }
}

/// Frees a string returned by a tradewire function that says "free with tw_string_free"
/// (`tw_client_status_json`, `tw_event_to_json`, the response of `tw_client_request`).
/// `tw_string_free(NULL)` does nothing.
///
/// Ownership: takes ownership of `s`; do not use it afterwards. Never pass a string the
/// library lends (event accessors, `tw_last_error`, `tw_version`) or one from `malloc`.
/// Threads: any thread.
/// Errors: none.
///
/// # Safety
/// `s` must be NULL or a string returned by this library and not freed yet.
#[no_mangle]
pub unsafe extern "C" fn tw_string_free(s: *mut c_char) {
    guard_infallible((), || {
        if !s.is_null() {
            // SAFETY: the caller promises `s` came from `CString::into_raw` in this library.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utf8_and_rejects_null_and_invalid_bytes() {
        let ok = c"héllo";
        assert_eq!(unsafe { str_arg(ok.as_ptr(), "f", "x") }.unwrap(), "héllo");
        let null = unsafe { str_arg(std::ptr::null(), "f", "x") }.unwrap_err();
        assert_eq!(null.message, "f: `x` is NULL");
        let bad = c"ab\xffcd";
        let err = unsafe { str_arg(bad.as_ptr(), "f", "x") }.unwrap_err();
        assert!(err.message.contains("not valid UTF-8"), "{}", err.message);
        assert!(err.message.contains("offset 2"), "{}", err.message);
        assert_eq!(
            unsafe { opt_str_arg(std::ptr::null(), "f", "x") }.unwrap(),
            None
        );
    }

    #[test]
    fn strings_round_trip_through_tw_string_free() {
        let s = into_c_string("x\0y".into());
        assert_eq!(unsafe { CStr::from_ptr(s) }.to_str().unwrap(), "x\\0y");
        unsafe { tw_string_free(s) };
        unsafe { tw_string_free(std::ptr::null_mut()) };
    }

    #[test]
    fn lazy_copies_are_terminated_and_stable() {
        let lazy = LazyCStr::default();
        let a = lazy.get(b"abc");
        let b = lazy.get(b"ignored the second time");
        assert_eq!(a, b);
        assert_eq!(unsafe { CStr::from_ptr(a) }.to_bytes(), b"abc");
    }
}
