//! The permessage-deflate inflater on arbitrary compressed messages, alone and against
//! flate2's plain raw-deflate decoder.

use flate2::{Decompress, FlushDecompress, Status};

use super::Choices;
use crate::deflate::{InflateError, Inflater, Params};

/// What inflating one message gave.
#[derive(Debug, Eq)]
enum Outcome {
    Data(Vec<u8>),
    TooLarge,
    Corrupt,
}

/// The same bytes, or both refused. A message that is both over the limit and not deflate
/// data may be refused for either reason: which is found first depends on how much input
/// the decompressor is given per call (fragments; the flush marker pushed apart or not).
impl PartialEq for Outcome {
    fn eq(&self, other: &Outcome) -> bool {
        match (self, other) {
            (Outcome::Data(a), Outcome::Data(b)) => a == b,
            (Outcome::Data(_), _) | (_, Outcome::Data(_)) => false,
            _ => true,
        }
    }
}

/// The messages of an input: each a count of fragments, then each fragment's length (two
/// bytes) and bytes. `reset`: server_no_context_takeover; `max`: max_message_size.
fn choose(data: &[u8]) -> (bool, usize, Vec<Vec<&[u8]>>) {
    let mut c = Choices::new(data);
    let reset = c.byte() & 1 != 0;
    let max = usize::from(c.u16() >> 2);
    let mut messages = Vec::new();
    let mut rest = c;
    while !rest.data.is_empty() && messages.len() < 64 {
        let count = rest.byte() % 4 + 1;
        let fragments = (0..count)
            .map(|_| {
                let n = usize::from(rest.u16() % 1024);
                rest.take(n)
            })
            .collect();
        messages.push(fragments);
    }
    (reset, max, messages)
}

/// Inflates the messages in turn with one inflater, as the frame reader does, up to the
/// first one that fails. Panics if a message grows past `max`, or its buffer past `max + 1`.
fn ours(reset: bool, max: usize, messages: &[Vec<&[u8]>]) -> Vec<Outcome> {
    let mut inf = Inflater::new(&Params {
        server_no_context_takeover: reset,
        ..Params::default()
    });
    let mut out = Vec::new();
    for fragments in messages {
        let mut data = Vec::new();
        let done = fragments
            .iter()
            .try_for_each(|f| inf.push(f, &mut data, max))
            .and_then(|()| inf.finish(&mut data, max));
        assert!(
            data.capacity() <= max + 1,
            "the inflater allocated {} bytes for a limit of {max}",
            data.capacity()
        );
        let failed = done.is_err();
        out.push(match done {
            Ok(()) => {
                assert!(data.len() <= max);
                Outcome::Data(data)
            }
            Err(InflateError::TooLarge { .. }) => Outcome::TooLarge,
            Err(InflateError::Corrupt(_)) => Outcome::Corrupt,
        });
        if failed {
            break;
        }
    }
    out
}

/// The inflater on any compressed messages: never a panic, never past the limit, and the
/// same result whether a message came in fragments or in one frame.
pub fn inflate(data: &[u8]) {
    let (reset, max, messages) = choose(data);
    let split = ours(reset, max, &messages);
    let joined: Vec<Vec<u8>> = messages.iter().map(|m| m.concat()).collect();
    let whole: Vec<Vec<&[u8]>> = joined.iter().map(|m| vec![m.as_slice()]).collect();
    let whole = ours(reset, max, &whole);
    assert_eq!(
        split, whole,
        "fragmented messages inflate differently than whole ones"
    );
}

/// RFC 7692 §7.2.2 done with flate2's plain raw-deflate decoder: the payload with
/// `00 00 ff ff` appended, decompressed in one call per step until the input is used up.
/// An empty payload is the empty message (§7.2.3.6: its one byte `00` may be left out).
/// When the deflate stream ends (a block with BFINAL set, §7.2.3.4), what the decoder did not
/// use must be an empty stored block (§7.2.1: its `00` and the appended marker, or the marker
/// alone), or nothing; the next message is a new stream.
fn reference(reset: bool, max: usize, messages: &[Vec<u8>]) -> Vec<Outcome> {
    let allowed: [&[u8]; 3] = [&[], &[0, 0, 0xff, 0xff], &[0, 0, 0, 0xff, 0xff]];
    let mut d = Decompress::new(false);
    let mut out = Vec::new();
    for payload in messages {
        let mut input = if payload.is_empty() {
            vec![0]
        } else {
            payload.clone()
        };
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut data: Vec<u8> = Vec::with_capacity(max + 1);
        let mut pos = 0;
        let mut ended = false;
        let outcome = loop {
            let before = (d.total_in(), data.len());
            match d.decompress_vec(&input[pos..], &mut data, FlushDecompress::Sync) {
                Err(_) => break Outcome::Corrupt,
                Ok(status) => {
                    pos += (d.total_in() - before.0) as usize;
                    if data.len() > max {
                        break Outcome::TooLarge;
                    }
                    if status == Status::StreamEnd {
                        ended = true;
                        break if allowed.contains(&&input[pos..]) {
                            Outcome::Data(std::mem::take(&mut data))
                        } else {
                            Outcome::Corrupt
                        };
                    }
                    if pos == input.len() && data.len() < data.capacity() {
                        break Outcome::Data(std::mem::take(&mut data));
                    }
                    if (d.total_in(), data.len()) == before && data.len() < data.capacity() {
                        break Outcome::Corrupt;
                    }
                }
            }
        };
        let stop = !matches!(outcome, Outcome::Data(_));
        out.push(outcome);
        if stop {
            break;
        }
        if reset || ended {
            d.reset(false);
        }
    }
    out
}

/// The inflater against flate2's plain decoder on the same messages (one frame each): the
/// same bytes out, or both refuse, message by message.
pub fn inflate_vs_flate2(data: &[u8]) {
    let (reset, max, messages) = choose(data);
    let joined: Vec<Vec<u8>> = messages.iter().map(|m| m.concat()).collect();
    let whole: Vec<Vec<&[u8]>> = joined.iter().map(|m| vec![m.as_slice()]).collect();
    let ours = ours(reset, max, &whole);
    let theirs = reference(reset, max, &joined);
    assert_eq!(
        ours, theirs,
        "the inflater and flate2's plain decoder differ (max {max}, reset {reset})"
    );
}
