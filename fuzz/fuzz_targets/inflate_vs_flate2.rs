//! The permessage-deflate inflater against flate2's plain raw-deflate decoder.
//! The body is `tradewire::fuzzing::inflate_vs_flate2`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/inflate_vs_flate2/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::inflate_vs_flate2, data));
