//! The configuration parser and validator must never panic on any input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = tradewire::Config::from_json(text) {
            let _ = config.validate();
            let _ = format!("{config:?}");
        }
    }
});
