//! The close codes and reasons an application may send (RFC 6455 §7.4), checked before a
//! close frame is built.

use crate::error::{Error, Result};

/// The longest close reason, in bytes: a control frame carries at most 125 bytes, two of
/// them the code.
pub(crate) const MAX_CLOSE_REASON: usize = 123;

/// Checks a close code and reason that the application asked to send.
///
/// Valid codes are those an endpoint may put in a close frame: 1000–1003 and 1007–1014 (the
/// registered ones), 3000–3999 (libraries and frameworks) and 4000–4999 (applications).
/// 1004, 1005, 1006 and 1015 are reserved (never sent on the wire), the rest of 1000–2999
/// is reserved for the protocol, and codes outside 1000–4999 do not exist.
pub(crate) fn check_close(code: u16, reason: &str) -> Result<()> {
    if let Some(why) = invalid_code(code) {
        return Err(Error::usage(format!(
            "close code {code} cannot be sent: {why}; use 1000 (normal closure), 1001 (going away), another registered code (1002, 1003, 1007-1014), or 3000-4999"
        )));
    }
    if reason.len() > MAX_CLOSE_REASON {
        return Err(Error::usage(format!(
            "the close reason is {} bytes, over the limit of {MAX_CLOSE_REASON} bytes (a close frame carries at most 125 bytes, two of them the code); shorten it",
            reason.len()
        )));
    }
    Ok(())
}

/// Why a close code may not be sent, if it may not. Pure.
fn invalid_code(code: u16) -> Option<&'static str> {
    match code {
        1000..=1003 | 1007..=1014 | 3000..=4999 => None,
        1004 | 1015 => Some("it is reserved"),
        1005 | 1006 => Some("it is reserved for reporting a close without a code or without a close frame, never sent"),
        1016..=2999 => Some("1016-2999 are reserved for the WebSocket protocol"),
        _ => Some("close codes are 1000-4999"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes_pass_and_reserved_ones_do_not() {
        for ok in [
            1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 3999, 4000, 4999,
        ] {
            assert!(invalid_code(ok).is_none(), "{ok}");
        }
        for bad in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            assert!(invalid_code(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn a_reason_over_123_bytes_is_refused_with_its_length() {
        assert!(check_close(1000, &"a".repeat(123)).is_ok());
        let e = check_close(1000, &"é".repeat(62)).unwrap_err().to_string();
        assert!(e.contains("124 bytes"), "{e}");
    }
}
