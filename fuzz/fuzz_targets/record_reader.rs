//! The recording reader.
//! The body is `tradewire::fuzzing::record_reader`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/record_reader/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::record_reader, data));
