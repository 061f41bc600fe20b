//! The JSON envelope scanner with its JSON pointers.
//! The body is `tradewire::fuzzing::json_envelope`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/json_envelope/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::json_envelope, data));
