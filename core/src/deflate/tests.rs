use super::codec::InflateError;
use super::*;

fn ok(values: &[&str]) -> Option<Params> {
    accept(values, true).unwrap()
}

#[test]
fn no_answer_means_no_extension() {
    assert_eq!(ok(&[]), None);
    assert_eq!(ok(&[""]), None);
}

#[test]
fn the_servers_choices_are_taken() {
    assert_eq!(ok(&["permessage-deflate"]), Some(Params::default()));
    let p = ok(&[
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=\"8\"",
    ])
    .unwrap();
    assert!(p.server_no_context_takeover && p.client_no_context_takeover);
    assert_eq!(
        (p.server_max_window_bits, p.client_max_window_bits),
        (10, 8)
    );
    let p = ok(&["Permessage-Deflate;Client_Max_Window_Bits=15"]).unwrap();
    assert_eq!(p.client_max_window_bits, 15);
}

#[test]
fn what_we_did_not_offer_or_understand_fails_the_connection() {
    for bad in [
        "x-webkit-deflate-frame",
        "permessage-deflate, permessage-deflate",
        "permessage-deflate; foo",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=+9",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "; server_no_context_takeover",
    ] {
        assert!(accept(&[bad], true).is_err(), "{bad}");
    }
    let e = accept(&["permessage-deflate"], false).unwrap_err();
    assert!(e.contains("did not offer"), "{e}");
    assert!(accept(&["permessage-deflate", "permessage-deflate"], true).is_err());
}

fn round_trip(p: &Params, messages: &[&[u8]]) -> Vec<Vec<u8>> {
    let (mut d, mut i) = (Deflater::new(p), Inflater::new(p));
    messages
        .iter()
        .map(|m| {
            let wire = d.compress(m).unwrap();
            assert!(!wire.ends_with(&[0, 0, 0xff, 0xff]));
            let mut out = Vec::new();
            i.push(&wire, &mut out, 1 << 20).unwrap();
            i.finish(&mut out, 1 << 20).unwrap();
            out
        })
        .collect()
}

#[test]
fn messages_survive_compression_with_and_without_context_takeover() {
    let big = vec![b'x'; 100_000];
    let msgs: Vec<&[u8]> = vec![b"{\"type\":\"trade\"}", b"", b"{\"type\":\"trade\"}", &big];
    for p in [
        Params::default(),
        Params {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 8,
            client_max_window_bits: 8,
        },
    ] {
        let got = round_trip(&p, &msgs);
        let want: Vec<Vec<u8>> = msgs.iter().map(|m| m.to_vec()).collect();
        assert_eq!(got, want, "{p:?}");
    }
}

#[test]
fn context_takeover_makes_a_repeated_message_shorter() {
    let m = b"{\"type\":\"quote\",\"symbol\":\"ESZ6\",\"bid\":6012.25,\"ask\":6012.5}";
    let mut keep = Deflater::new(&Params::default());
    let first = keep.compress(m).unwrap();
    let second = keep.compress(m).unwrap();
    assert!(
        second.len() < first.len(),
        "{} {}",
        second.len(),
        first.len()
    );
    let mut reset = Deflater::new(&Params {
        client_no_context_takeover: true,
        ..Params::default()
    });
    assert_eq!(reset.compress(m).unwrap(), reset.compress(m).unwrap());
}

#[test]
fn a_message_split_across_frames_inflates_whole() {
    let p = Params::default();
    let text = "abc".repeat(5000);
    let wire = Deflater::new(&p).compress(text.as_bytes()).unwrap();
    let mut i = Inflater::new(&p);
    let mut out = Vec::new();
    for chunk in wire.chunks(7) {
        i.push(chunk, &mut out, 1 << 20).unwrap();
    }
    i.finish(&mut out, 1 << 20).unwrap();
    assert_eq!(out, text.as_bytes());
}

#[test]
fn a_compression_bomb_is_refused_before_it_is_allocated() {
    let p = Params::default();
    let bomb = Deflater::new(&p).compress(&vec![0u8; 8 << 20]).unwrap();
    assert!(bomb.len() < 20 << 10, "{}", bomb.len());
    let mut out = Vec::new();
    let e = Inflater::new(&p)
        .push(&bomb, &mut out, 1 << 20)
        .unwrap_err();
    assert!(matches!(e, InflateError::TooLarge { size } if size > 1 << 20));
    assert!(out.capacity() <= (1 << 20) + 1, "{}", out.capacity());
}

#[test]
fn garbage_is_not_deflate_data() {
    let mut out = Vec::new();
    let e = Inflater::new(&Params::default())
        .push(&[0xff, 0xff, 0xff, 0xff], &mut out, 1 << 20)
        .unwrap_err();
    assert!(matches!(e, InflateError::Corrupt(_)), "{e:?}");
}

#[test]
fn an_empty_message_is_one_byte_and_an_empty_payload_inflates_to_nothing() {
    let p = Params::default();
    let mut d = Deflater::new(&p);
    d.compress(b"x").unwrap();
    assert_eq!(d.compress(b"").unwrap(), [0x00]);
    let mut i = Inflater::new(&p);
    let mut out = Vec::new();
    i.push(&[], &mut out, 100).unwrap();
    i.finish(&mut out, 100).unwrap();
    assert!(out.is_empty());
}

/// Found by fuzzing (inflate_vs_flate2): an empty payload after a compressed message was
/// inflated without the `00` that completes its empty block, which left the decompressor
/// inside a stored block and garbled the next message.
#[test]
fn an_empty_payload_after_a_message_inflates_to_nothing_and_the_next_one_is_intact() {
    let p = Params::default();
    let mut d = Deflater::new(&p);
    let mut i = Inflater::new(&p);
    let mut inflate = |payload: &[u8]| {
        let mut out = Vec::new();
        i.push(payload, &mut out, 1000).unwrap();
        i.finish(&mut out, 1000).unwrap();
        out
    };
    assert_eq!(inflate(&d.compress(b"first").unwrap()), b"first");
    assert_eq!(inflate(&[]), b"");
    assert_eq!(inflate(&d.compress(b"second").unwrap()), b"second");
}

/// "Hello" in one fixed Huffman block with BFINAL set, then the `00` of an empty stored block:
/// the example of RFC 7692 §7.2.3.4.
const HELLO_FINAL: [u8; 8] = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];

/// One message through `i`, cut into two frames at `at` (and into one frame per byte when
/// `at` is `None`).
fn inflate_cut(
    i: &mut Inflater,
    payload: &[u8],
    at: Option<usize>,
) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    match at {
        Some(at) => {
            i.push(&payload[..at], &mut out, 1000)?;
            i.push(&payload[at..], &mut out, 1000)?;
        }
        None => {
            for b in payload {
                i.push(std::slice::from_ref(b), &mut out, 1000)?;
            }
        }
    }
    i.finish(&mut out, 1000)?;
    Ok(out)
}

/// Every way of cutting `payload` into frames: at each point, and one byte per frame.
fn cuts(payload: &[u8]) -> impl Iterator<Item = Option<usize>> {
    (0..=payload.len()).map(Some).chain([None])
}

#[test]
fn a_final_block_ends_a_message_in_any_frames_and_the_next_message_starts_a_new_stream() {
    for p in [
        Params::default(),
        Params {
            server_no_context_takeover: true,
            ..Params::default()
        },
    ] {
        // As the RFC's example, and without the `00` (the stored block's header bits packed
        // into the final block's last byte, or not sent).
        for payload in [&HELLO_FINAL[..], &HELLO_FINAL[..7]] {
            for at in cuts(payload) {
                let mut i = Inflater::new(&p);
                assert_eq!(
                    inflate_cut(&mut i, payload, at).as_deref(),
                    Ok(&b"Hello"[..]),
                    "{payload:02x?} cut at {at:?}"
                );
                // The next message is a new deflate stream, in any frames too.
                let next = Deflater::new(&p).compress(b"world").unwrap();
                assert_eq!(
                    inflate_cut(&mut i, &next, at.map(|a| a.min(next.len()))).unwrap(),
                    b"world"
                );
                assert_eq!(inflate_cut(&mut i, &HELLO_FINAL, None).unwrap(), b"Hello");
            }
        }
    }
}

/// Found by fuzzing (`fuzz/regressions/inflate/found-52fed8df13e2`): bytes after the end of
/// a deflate stream inflated to nothing in four frames and were refused in one. They are
/// refused in any frames now.
#[test]
fn data_after_the_end_of_the_deflate_stream_is_refused_in_any_frames() {
    let with = |extra: &[u8]| [&HELLO_FINAL[..7], extra].concat();
    let bad: Vec<Vec<u8>> = vec![
        // An empty fixed block with BFINAL set, then what is not an empty stored block.
        vec![0x03, 0xdc, 0xd4, 0xfa, 0x4b],
        with(b"x"),
        with(&[0x00, 0x00]),
        with(&[0x01]),
        with(&[0x00, 0x00, 0x00, 0xff, 0xff]),
        // A second deflate stream after the first.
        with(&Deflater::new(&Params::default()).compress(b"more").unwrap()),
        // The final block cut short: its end of block code lies in the appended marker.
        vec![0x03],
    ];
    for payload in &bad {
        for at in cuts(payload) {
            let got = inflate_cut(&mut Inflater::new(&Params::default()), payload, at);
            assert!(
                matches!(got, Err(InflateError::Corrupt(_))),
                "{payload:02x?} cut at {at:?}: {got:?}"
            );
        }
    }
}

#[test]
fn after_a_final_block_a_reference_into_earlier_messages_fails_instead_of_reading_other_bytes() {
    let p = Params::default();
    let mut d = Deflater::new(&p);
    d.compress(b"Hello, Hello, Hello").unwrap();
    // Refers back to the message before: the inflater no longer has that window.
    let again = d.compress(b"Hello, Hello, Hello").unwrap();
    assert!(again.len() < 10, "{again:02x?}");
    let mut i = Inflater::new(&p);
    assert_eq!(
        inflate_cut(&mut i, &HELLO_FINAL, Some(3)).unwrap(),
        b"Hello"
    );
    let got = inflate_cut(&mut i, &again, Some(1));
    assert!(matches!(got, Err(InflateError::Corrupt(_))), "{got:?}");
}
