//! The permessage-deflate inflater on any compressed messages.
//! The body is `tradewire::fuzzing::inflate`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/inflate/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::inflate, data));
