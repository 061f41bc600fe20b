//! The frame reader with permessage-deflate negotiated: compressed messages whole and in
//! fragments, context takeover, the limit while inflating, and RSV1 where it is not allowed.

use super::tests::{frame, read_all, stream};
use super::*;
use crate::deflate::Deflater;

/// A compressed server frame: RSV1 on a message's first frame.
fn compressed(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = frame(fin, opcode, payload);
    f[0] |= RSV1;
    f
}

fn deflating(max: usize) -> Reader {
    Reader::new(256, 1 << 20, max, Vec::new()).with_deflate(Some(Params::default()))
}

#[test]
fn compressed_messages_inflate_with_the_window_kept_between_them() {
    let mut d = Deflater::new(&Params::default());
    let m = r#"{"type":"trade","account_id":7,"price":101.25}"#;
    let (a, b) = (
        d.compress(m.as_bytes()).unwrap(),
        d.compress(m.as_bytes()).unwrap(),
    );
    assert!(b.len() < a.len());
    let frames = [
        compressed(true, 1, &a),
        frame(true, 1, b"plain"),
        compressed(true, 1, &b),
        compressed(true, 2, &d.compress(&[1, 2, 3]).unwrap()),
    ];
    for piece in [1, 3, usize::MAX] {
        let mut r = deflating(1 << 20);
        let got = read_all(&mut r, &mut stream(&frames, piece)).unwrap();
        assert_eq!(
            got,
            [
                format!("T:{m}"),
                "T:plain".into(),
                format!("T:{m}"),
                "B:3".into()
            ]
        );
    }
}

#[test]
fn a_compressed_message_in_fragments_with_a_ping_between() {
    let text = "é".repeat(3000);
    let wire = Deflater::new(&Params::default())
        .compress(text.as_bytes())
        .unwrap();
    let (x, y) = wire.split_at(wire.len() / 2);
    let frames = [
        compressed(false, 1, x),
        frame(true, 9, b"p"),
        frame(true, 0, y),
    ];
    let mut r = deflating(1 << 20);
    let got = read_all(&mut r, &mut stream(&frames, 5)).unwrap();
    assert_eq!(got, ["ping:1".to_string(), format!("T:{text}")]);
}

#[test]
fn a_message_that_inflates_past_the_limit_is_too_large() {
    let wire = Deflater::new(&Params::default())
        .compress(&[b'a'; 10_000])
        .unwrap();
    assert!(wire.len() < 150);
    let e = read_all(
        &mut deflating(1000),
        &mut stream(&[compressed(true, 1, &wire)], usize::MAX),
    )
    .unwrap_err();
    assert!(e.contains("over the limit of 1000 bytes"), "{e}");
    let (x, y) = wire.split_at(10);
    let frames = [compressed(false, 2, x), frame(true, 0, y)];
    let e = read_all(&mut deflating(1000), &mut stream(&frames, usize::MAX)).unwrap_err();
    assert!(e.contains("over the limit"), "{e}");
}

#[test]
fn rsv1_without_the_extension_or_out_of_place_is_a_protocol_error() {
    let wire = Deflater::new(&Params::default()).compress(b"hi").unwrap();
    let e = read_all(
        &mut tests::reader(),
        &mut stream(&[compressed(true, 1, &wire)], 9),
    )
    .unwrap_err();
    assert!(e.contains("reserved bits"), "{e}");
    let on_continuation = [frame(false, 1, b"a"), compressed(true, 0, b"b")];
    let on_ping = [compressed(true, 9, b"")];
    let rsv2 = [vec![0xa1, 0]];
    for frames in [&on_continuation[..], &on_ping[..], &rsv2[..]] {
        let e = read_all(&mut deflating(100), &mut stream(frames, 9)).unwrap_err();
        assert!(e.contains("reserved bits"), "{e}");
    }
    let e = read_all(
        &mut deflating(100),
        &mut stream(&[compressed(true, 1, &[0xff; 8])], 9),
    )
    .unwrap_err();
    assert!(e.contains("does not inflate"), "{e}");
}
