//! Unit tests of the frame reader: frames in any pieces, fragments, limits, protocol
//! violations and close payloads.

use super::*;

/// A server frame (unmasked).
pub(super) fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | opcode];
    match payload.len() {
        n if n < 126 => f.push(n as u8),
        n if n <= 0xffff => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

/// A stream that hands out its bytes in pieces of `piece`, then would block.
pub(super) struct Trickle {
    data: Vec<u8>,
    pos: usize,
    piece: usize,
    eof: bool,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.data.len() {
            return if self.eof {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = buf.len().min(self.piece).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

pub(super) fn stream(frames: &[Vec<u8>], piece: usize) -> Trickle {
    Trickle {
        data: frames.concat(),
        pos: 0,
        piece,
        eof: false,
    }
}

/// Everything the reader gives until it would block, as owned descriptions.
pub(super) fn read_all(r: &mut Reader, s: &mut Trickle) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    loop {
        match r.next(s) {
            Ok(Some(i)) => out.push(match i {
                Incoming::Text(t) => format!("T:{t}"),
                Incoming::Binary(b) => format!("B:{}", b.len()),
                Incoming::Ping(p) => format!("ping:{}", p.len()),
                Incoming::Pong(p) => format!("pong:{}", p.len()),
                Incoming::Close(c) => format!("close:{c:?}"),
            }),
            Ok(None) => return Ok(out),
            Err(e) => return Err(e.to_string()),
        }
    }
}

pub(super) fn reader() -> Reader {
    Reader::new(256, 1 << 20, 1 << 20, Vec::new())
}

#[test]
fn headers() {
    assert_eq!(parse_header(&[0x81]), None);
    let h = parse_header(&[0x81, 5]).unwrap();
    assert!(h.fin && h.opcode == 1 && h.len == 5 && h.header_len == 2);
    let h = parse_header(&[0x02, 126, 1, 0]).unwrap();
    assert!(!h.fin && h.opcode == 2 && h.len == 256 && h.header_len == 4);
    assert_eq!(parse_header(&[0x82, 127, 0, 0, 0, 0, 0, 1]), None);
    let h = parse_header(&[0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0]).unwrap();
    assert_eq!((h.len, h.header_len), (1 << 32, 10));
    let h = parse_header(&[0xc1, 0x81, 1, 2, 3, 4]).unwrap();
    assert!(h.masked && h.rsv == 0x40 && h.header_len == 6);
}

#[test]
fn frames_in_any_pieces() {
    let big = "x".repeat(70_000);
    let frames = [
        frame(true, 1, b"hello"),
        frame(true, 2, &[0u8; 300]),
        frame(true, 9, b"p"),
        frame(true, 1, big.as_bytes()),
        frame(true, 10, b""),
        frame(true, 8, b"\x03\xe8bye"),
    ];
    for piece in [1, 7, 100, 4096, usize::MAX] {
        let mut r = reader();
        let mut s = stream(&frames, piece);
        let mut got = Vec::new();
        for _ in 0..200_000 {
            got.extend(read_all(&mut r, &mut s).unwrap());
            if s.pos == s.data.len() && !r.has_buffered() {
                break;
            }
        }
        let want = [
            "T:hello".to_string(),
            "B:300".into(),
            "ping:1".into(),
            format!("T:{big}"),
            "pong:0".into(),
            "close:Some((1000, \"bye\"))".into(),
        ];
        assert_eq!(got, want, "pieces of {piece}");
        // The buffer went back to its resting size after the large frame.
        assert_eq!(r.buf.len(), 256);
    }
}

#[test]
fn the_buffer_starts_small_and_grows_when_a_read_fills_it() {
    let mut r = Reader::new(16384, 1 << 20, 1 << 20, Vec::new());
    assert_eq!(r.buf.len(), START_SIZE);
    let mut s = stream(&[frame(true, 9, b"")], usize::MAX);
    assert_eq!(read_all(&mut r, &mut s).unwrap(), ["ping:0"]);
    assert_eq!(r.buf.len(), START_SIZE);
    let many: Vec<Vec<u8>> = (0..100).map(|_| frame(true, 1, &[b'a'; 100])).collect();
    let mut s = stream(&many, usize::MAX);
    assert_eq!(read_all(&mut r, &mut s).unwrap().len(), 100);
    assert_eq!(r.buf.len(), 16384);
}

#[test]
fn handshake_leftovers_come_first() {
    let mut r = Reader::new(256, 1 << 20, 1 << 20, frame(true, 1, b"early"));
    let mut s = stream(&[frame(true, 1, b"later")], usize::MAX);
    assert_eq!(read_all(&mut r, &mut s).unwrap(), ["T:early", "T:later"]);
}

#[test]
fn fragments_with_control_frames_between() {
    let frames = [
        frame(false, 1, "caf".as_bytes()),
        frame(true, 9, b"in between"),
        frame(false, 0, &"é".as_bytes()[..1]),
        frame(true, 0, &"é!".as_bytes()[1..]),
        frame(false, 2, &[1, 2]),
        frame(true, 0, &[3]),
    ];
    let mut r = reader();
    let mut s = stream(&frames, 3);
    let mut got = Vec::new();
    for _ in 0..100 {
        got.extend(read_all(&mut r, &mut s).unwrap());
    }
    assert_eq!(got, ["ping:10", "T:café!", "B:3"]);
}

#[test]
fn protocol_violations() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0xc1, 0], "reserved bits"),
        (vec![0x83, 0], "reserved opcode 3"),
        (vec![0x8b, 0], "reserved opcode 11"),
        (vec![0x81, 0x80, 0, 0, 0, 0], "masked"),
        (vec![0x09, 0], "fragmented a control frame"),
        (frame(true, 9, &[0; 126]), "126 bytes"),
        (frame(true, 0, b"x"), "no message to continue"),
        (
            [frame(false, 1, b"a"), frame(true, 1, b"b")].concat(),
            "new message",
        ),
        (frame(true, 8, &[3]), "one-byte"),
        (frame(true, 8, &1005u16.to_be_bytes()), "1005"),
        (frame(true, 8, &999u16.to_be_bytes()), "999"),
        (frame(true, 8, &5000u16.to_be_bytes()), "5000"),
        (frame(true, 1, &[0xff]), "UTF-8"),
        (
            frame(true, 8, &[0x03, 0xe8, 0xff]),
            "close reason is not valid UTF-8",
        ),
    ];
    for (bytes, want) in cases {
        let mut r = reader();
        let mut s = Trickle {
            data: bytes.clone(),
            pos: 0,
            piece: usize::MAX,
            eof: false,
        };
        let err = read_all(&mut r, &mut s).unwrap_err();
        assert!(err.contains(want), "{bytes:?}: {err}");
    }
}

#[test]
fn invalid_utf8_fails_at_the_fragment_that_has_it() {
    let frames = [frame(false, 1, b"ok"), frame(false, 0, &[0xff])];
    let mut r = reader();
    let mut s = stream(&frames, usize::MAX);
    assert!(read_all(&mut r, &mut s).unwrap_err().contains("UTF-8"));
    // A character split between fragments is fine until the message ends.
    let frames = [frame(false, 1, &[0xe2, 0x82]), frame(false, 0, &[0xac])];
    let mut r = reader();
    let mut s = stream(&frames, usize::MAX);
    assert!(read_all(&mut r, &mut s).unwrap().is_empty());
    let frames = [frame(false, 1, &[0xe2, 0x82]), frame(true, 0, b"")];
    let mut r = reader();
    let mut s = stream(&frames, usize::MAX);
    assert!(read_all(&mut r, &mut s).unwrap_err().contains("UTF-8"));
}

#[test]
fn limits() {
    let mut r = Reader::new(256, 100, 150, Vec::new());
    let mut s = stream(&[frame(true, 1, &[b'a'; 101])], usize::MAX);
    assert!(read_all(&mut r, &mut s).unwrap_err().contains("101 bytes"));
    // The length alone is enough: a header announcing 2^40 bytes fails before any payload.
    let mut r = Reader::new(256, 100, 150, Vec::new());
    let mut s = stream(&[vec![0x82, 127, 0, 0, 1, 0, 0, 0, 0, 0]], usize::MAX);
    assert!(read_all(&mut r, &mut s)
        .unwrap_err()
        .contains("1099511627776 bytes"));
    let mut r = Reader::new(256, 100, 150, Vec::new());
    let frames = [frame(false, 1, &[b'a'; 100]), frame(true, 0, &[b'a'; 51])];
    let mut s = stream(&frames, usize::MAX);
    assert!(read_all(&mut r, &mut s).unwrap_err().contains("151 bytes"));
}

#[test]
fn end_of_stream() {
    let mut r = reader();
    let mut s = stream(&[frame(true, 1, b"last")], usize::MAX);
    s.eof = true;
    assert_eq!(
        read_all(&mut r, &mut s).unwrap_err(),
        ReadError::Eof.to_string()
    );
}

#[test]
fn close_codes() {
    for ok in [1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999] {
        assert!(close_code_allowed(ok), "{ok}");
    }
    for bad in [
        0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535,
    ] {
        assert!(!close_code_allowed(bad), "{bad}");
    }
}

#[test]
fn the_plain_frame_path_stops_at_each_limit_where_the_general_parse_does() {
    // Whole messages of every length encoding, at and over each limit: the plain path takes
    // the ones within both limits, the general parse refuses the others with the same error
    // as before the plain path existed.
    let (max_frame, max_message) = (70_000, 300);
    for (len, ok) in [
        (0, true),
        (125, true),
        (126, true),
        (300, true),
        (301, false),
    ] {
        for opcode in [1u8, 2] {
            let mut r = Reader::new(256, max_frame, max_message, Vec::new());
            let mut s = stream(&[frame(true, opcode, &vec![b'a'; len])], usize::MAX);
            match read_all(&mut r, &mut s) {
                Ok(got) => {
                    let want = match opcode {
                        1 => format!("T:{}", "a".repeat(len)),
                        _ => format!("B:{len}"),
                    };
                    assert!(ok && got == [want], "{len}: {got:?}");
                }
                Err(e) => assert!(!ok && e.contains("301 bytes"), "{len}: {e}"),
            }
        }
    }
    // Over the frame limit with a 16-bit length; a 64-bit length is never the plain path.
    let mut r = Reader::new(256, 200, 300, Vec::new());
    let mut s = stream(&[frame(true, 1, &[b'a'; 250])], usize::MAX);
    assert!(read_all(&mut r, &mut s).unwrap_err().contains("250 bytes"));
    let mut long = vec![0x81, 127];
    long.extend_from_slice(&5u64.to_be_bytes());
    long.extend_from_slice(b"hello");
    let mut r = reader();
    let mut s = stream(&[long], usize::MAX);
    assert_eq!(read_all(&mut r, &mut s).unwrap().len(), 1);
}
