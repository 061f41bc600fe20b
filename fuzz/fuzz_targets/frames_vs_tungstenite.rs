//! The frame reader against tungstenite's reader on the same bytes.
//! The body is `tradewire::fuzzing::frames_vs_tungstenite`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/frames_vs_tungstenite/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::frames_vs_tungstenite, data));
