//! Raw WebSocket frame builders for [`WsServer::send_raw`](crate::WsServer::send_raw).
//!
//! Frames from a server are unmasked. Nothing is validated, so these can build
//! frames a client must reject: invalid UTF-8 in text, reserved opcodes,
//! fragmented or oversized control frames.
//!
//! ```
//! use tradewire_testkit::frames;
//!
//! assert_eq!(frames::text_frame(b"hi"), vec![0x81, 2, b'h', b'i']);
//! let bad_utf8 = frames::text_frame(&[0xff, 0xfe]);
//! let fragment = frames::frame(0x1, false, b"part");
//! # let _ = (bad_utf8, fragment);
//! ```

/// Opcode of a continuation frame.
pub const OP_CONTINUATION: u8 = 0x0;
/// Opcode of a text frame.
pub const OP_TEXT: u8 = 0x1;
/// Opcode of a binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Opcode of a close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
pub const OP_PING: u8 = 0x9;
/// Opcode of a pong frame.
pub const OP_PONG: u8 = 0xA;

/// A final, unmasked text frame carrying `payload` as is (it may be invalid UTF-8).
pub fn text_frame(payload: &[u8]) -> Vec<u8> {
    frame(OP_TEXT, true, payload)
}

/// A final, unmasked binary frame.
pub fn binary_frame(payload: &[u8]) -> Vec<u8> {
    frame(OP_BINARY, true, payload)
}

/// An unmasked frame with the low four bits of `opcode`, the FIN bit set as
/// given, and the shortest length encoding for `payload`.
pub fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(if fin { 0x80 } else { 0 } | (opcode & 0x0F));
    let len = payload.len();
    if len < 126 {
        out.push(len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

/// A close frame with `code` and `reason` (the reason is not length-checked).
pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    frame(OP_CLOSE, true, &payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_encodings() {
        assert_eq!(&frame(OP_TEXT, true, &[0; 125])[..2], &[0x81, 125]);
        assert_eq!(
            &frame(OP_BINARY, true, &[0; 126])[..4],
            &[0x82, 126, 0, 126]
        );
        assert_eq!(
            &frame(OP_BINARY, false, &[0; 65_536])[..10],
            &[0x02, 127, 0, 0, 0, 0, 0, 1, 0, 0]
        );
        assert_eq!(frame(OP_PING, true, b"").len(), 2);
    }

    #[test]
    fn close_frame_layout() {
        assert_eq!(
            close_frame(1000, "ok"),
            vec![0x88, 4, 0x03, 0xE8, b'o', b'k']
        );
    }
}
