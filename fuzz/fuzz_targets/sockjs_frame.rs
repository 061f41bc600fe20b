//! The SockJS frame decoder (Tradovate).
//! The body is `tradewire::fuzzing::sockjs_frame`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/sockjs_frame/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::sockjs_frame, data));
