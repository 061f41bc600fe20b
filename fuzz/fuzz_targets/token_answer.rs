//! The Tradovate token endpoint's answer.
//! The body is `tradewire::fuzzing::token_answer`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/token_answer/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::token_answer, data));
