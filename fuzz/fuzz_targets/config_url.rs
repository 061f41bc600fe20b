//! The configuration's URL forms (WebSocket, document 004, proxy, NO_PROXY).
//! The body is `tradewire::fuzzing::config_url`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/config_url/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::config_url, data));
