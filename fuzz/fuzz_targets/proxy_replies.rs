//! A proxy's replies: HTTP CONNECT and SOCKS5.
//! The body is `tradewire::fuzzing::proxy_replies`, which the corpus replay test
//! (`core/tests/fuzz_corpus.rs`) runs on stable over `fuzz/corpus/proxy_replies/`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tradewire_fuzz::run(tradewire::fuzzing::proxy_replies, data));
