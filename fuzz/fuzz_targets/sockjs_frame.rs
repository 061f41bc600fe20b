//! The SockJS frame decoder must never panic, whatever the server sends.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(tradewire::tradovate::sockjs::Frame::Messages(items)) = tradewire::tradovate::sockjs::decode(text) {
            for item in items {
                if let tradewire::tradovate::sockjs::Item::Json(t) = item {
                    let _ = tradewire::envelope::parse(t, &tradewire::envelope::Pointers::default());
                }
            }
        }
    }
});
