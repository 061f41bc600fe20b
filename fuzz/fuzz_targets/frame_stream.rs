//! The RFC 6455 frame reader fed as a byte stream in reads of any size.
//! The body is `tradewire::fuzzing::frame_stream`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/frame_stream/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::frame_stream, data));
