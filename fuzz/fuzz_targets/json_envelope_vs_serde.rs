//! The JSON envelope scanner against serde_json's `Value` on the same text.
//! The body is `tradewire::fuzzing::json_envelope_vs_serde`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/json_envelope_vs_serde/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::json_envelope_vs_serde, data));
