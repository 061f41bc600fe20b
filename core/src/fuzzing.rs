//! The bodies of the fuzz targets, shared by `fuzz/fuzz_targets/*.rs` (cargo-fuzz, nightly)
//! and by the corpus replay test `core/tests/fuzz_corpus.rs` (stable, in the test command),
//! so that every input a fuzzer kept is replayed through exactly the code it was found with.
//!
//! Each target takes arbitrary bytes and panics only when it finds a bug: a panic in a
//! parser, a broken invariant (a payload outside its text, a message over its limit, a
//! result that depends on how the bytes were split into reads, a reader holding more memory
//! than its limits allow), or a difference from the second implementation of a
//! differential target (tungstenite's frame reader, flate2's plain raw-deflate decoder,
//! serde_json's `Value`) that is not one of the deliberate ones listed in
//! docs/RELIABILITY.md.
//!
//! Public with the `internals` feature only: its API may change in any release.

mod envelope;
mod frames;
mod inflate;
mod prefilter;
mod proxy;
mod text;

pub use envelope::json_envelope_vs_serde;
pub use frames::{frame_stream, frames_vs_tungstenite, read_messages, End, Limits, Msg};
pub use inflate::{inflate, inflate_vs_flate2};
pub use prefilter::account_prefilter;
pub use proxy::proxy_replies;
pub use text::{config_json, config_url, json_envelope, record_reader, sockjs_frame, token_answer};

/// A target's body: bytes in, a panic when it finds a bug.
pub type Body = fn(&[u8]);

/// Every target by name (the name of its `fuzz/fuzz_targets/<name>.rs` and of its corpus
/// directory `fuzz/corpus/<name>/`) with its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("frame_stream", frame_stream),
    ("frames_vs_tungstenite", frames_vs_tungstenite),
    ("inflate", inflate),
    ("inflate_vs_flate2", inflate_vs_flate2),
    ("sockjs_frame", sockjs_frame),
    ("json_envelope", json_envelope),
    ("json_envelope_vs_serde", json_envelope_vs_serde),
    ("account_prefilter", account_prefilter),
    ("token_answer", token_answer),
    ("proxy_replies", proxy_replies),
    ("record_reader", record_reader),
    ("config_json", config_json),
    ("config_url", config_url),
];

/// Runs the target `name` on `data`; `false` when there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match TARGETS.iter().find(|(n, _)| *n == name) {
        Some((_, body)) => {
            body(data);
            true
        }
        None => false,
    }
}

/// Reads a fuzzer's bytes as choices first (limits, read sizes), then the rest as the input
/// proper. Past the end every choice reads as 0, so every byte string is a valid input.
pub(crate) struct Choices<'a> {
    data: &'a [u8],
}

impl<'a> Choices<'a> {
    pub fn new(data: &'a [u8]) -> Choices<'a> {
        Choices { data }
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// Up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// Everything not read yet.
    pub fn rest(self) -> &'a [u8] {
        self.data
    }
}
