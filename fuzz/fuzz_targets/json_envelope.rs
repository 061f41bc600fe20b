//! The JSON envelope parser must never panic, and a payload range must lie in the text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tradewire::envelope::{parse, Pointer, Pointers};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let nested = Pointers {
            msg_type: Pointer::parse("/e").unwrap(),
            account: Pointer::parse("/d/entity/accountId").unwrap(),
            data: Pointer::parse("/d").unwrap(),
            time: Pointer::parse("/d/timestamp").unwrap(),
        };
        for p in [Pointers::default(), nested] {
            if let Ok(env) = parse(text, &p) {
                assert!(text.get(env.data.clone()).is_some());
                if let Some(raw) = env.time {
                    let _ = tradewire::time::server_time(raw);
                }
            }
        }
    }
});
