//! The account filter's shortcut against serde_json's `Value` on the same text.
//! The body is `tradewire::fuzzing::account_prefilter`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/account_prefilter/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::account_prefilter, data));
