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
