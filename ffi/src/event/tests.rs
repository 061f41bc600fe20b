use super::*;
use std::time::Duration;

fn s(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string())
}

#[test]
fn lifecycle_events_have_kinds_epochs_and_json() {
    let ev = tw_event::new(Event::Disconnected {
        epoch: 3,
        code: Some(1001),
        reason: "going away".into(),
        error: None,
        by_client: false,
    });
    let p: *const tw_event = &ev;
    unsafe {
        assert_eq!(s(tw_event_kind(p)).unwrap(), "disconnected");
        assert_eq!(tw_event_epoch(p), 3);
        assert_eq!(s(tw_event_type(p)), None);
        assert_eq!(s(tw_event_data_json(p)), None);
        assert_eq!(s(tw_event_raw(p)), None);
        let json = tw_event_to_json(p);
        let v: serde_json::Value = serde_json::from_str(&s(json).unwrap()).unwrap();
        crate::strings::tw_string_free(json);
        assert_eq!(
            v,
            serde_json::json!({"kind":"disconnected","epoch":3,"code":1001,"reason":"going away","error":null,"by_client":false,"is_connected":false})
        );
    }
    unsafe {
        assert_eq!(tw_event_is_connected(p), 0);
        let connected = tw_event::new(Event::Connected {
            epoch: 1,
            url: "ws://h".into(),
        });
        assert_eq!(tw_event_is_connected(&connected), 1);
        let lagged = tw_event::new(Event::Lagged { dropped: 1 });
        assert_eq!(tw_event_is_connected(&lagged), -1);
        assert_eq!(tw_event_is_connected(std::ptr::null()), -1);
    }
    let rec = tw_event::new(Event::Reconnecting {
        attempt: 2,
        delay: Duration::from_millis(1500),
        reason: "refused".into(),
    });
    let v: serde_json::Value = serde_json::from_str(&rec.to_json()).unwrap();
    assert_eq!(v["delay"], 1.5);
    assert_eq!(v["attempt"], 2);
    let lagged = tw_event::new(Event::Lagged { dropped: 9 });
    assert_eq!(lagged.to_json(), r#"{"kind":"lagged","dropped":9}"#);
}

#[test]
fn lag_events_say_which_lag_and_how_far() {
    let ev = tw_event::new(Event::Lagging {
        lag: tradewire_core::Lag::Consumer,
        seconds: 4.5,
    });
    let p: *const tw_event = &ev;
    let mut seconds = 0.0;
    unsafe {
        assert_eq!(s(tw_event_kind(p)).unwrap(), "lagging");
        assert_eq!(s(tw_event_lag(p, &mut seconds)).unwrap(), "consumer");
    }
    assert_eq!(seconds, 4.5);
    let other = tw_event::new(Event::Lagged { dropped: 1 });
    let mut untouched = 7.0;
    unsafe {
        assert!(tw_event_lag(&other, &mut untouched).is_null());
    }
    assert_eq!(untouched, 7.0);
}

#[test]
fn gap_events_give_their_numbers_and_key() {
    let ev = tw_event::new(Event::Gap {
        key: Some("BTC-USD".into()),
        expected: 7,
        received: 10,
        missing: 3,
        epoch: 2,
    });
    let p: *const tw_event = &ev;
    let (mut e, mut r, mut m) = (0u64, 0u64, 0u64);
    unsafe {
        assert_eq!(s(tw_event_kind(p)).unwrap(), "gap");
        assert_eq!(
            s(tw_event_gap(p, &mut e, &mut r, &mut m)).unwrap(),
            "BTC-USD"
        );
        assert_eq!(tw_event_epoch(p), 2);
        // Out-parameters may be NULL.
        assert!(!tw_event_gap(p, ptr::null_mut(), ptr::null_mut(), ptr::null_mut()).is_null());
    }
    assert_eq!((e, r, m), (7, 10, 3));
    let keyless = tw_event::new(Event::Gap {
        key: None,
        expected: 1,
        received: 2,
        missing: 1,
        epoch: 1,
    });
    unsafe {
        assert_eq!(
            s(tw_event_gap(
                &keyless,
                &mut e,
                ptr::null_mut(),
                ptr::null_mut()
            ))
            .unwrap(),
            ""
        );
        assert!(tw_event_gap(
            &tw_event::new(Event::Lagged { dropped: 1 }),
            &mut e,
            &mut r,
            &mut m
        )
        .is_null());
    }
    assert_eq!(
        keyless.to_json(),
        r#"{"kind":"gap","key":null,"expected":1,"received":2,"missing":1,"epoch":1}"#
    );
}

#[test]
fn null_events_are_reported_not_dereferenced() {
    std::thread::spawn(|| unsafe {
        assert!(tw_event_kind(ptr::null()).is_null());
        assert!(s(crate::error::tw_last_error())
            .unwrap()
            .contains("`event` is NULL"));
        assert!(tw_event_to_json(ptr::null()).is_null());
        assert!(tw_event_clone(ptr::null()).is_null());
        assert_eq!(tw_event_epoch(ptr::null()), 0);
        tw_event_free(ptr::null_mut());
    })
    .join()
    .unwrap();
}

#[test]
fn every_core_kind_has_a_static_name() {
    for ev in [
        Event::Connected {
            epoch: 1,
            url: "ws://x".into(),
        },
        Event::Authenticated { epoch: 1 },
        Event::GaveUp { reason: "r".into() },
        Event::Lagged { dropped: 1 },
        Event::Response {
            id: 1,
            status: 200,
            data: Some(r#"{"a":[1,2]}"#.into()),
        },
        Event::Lagging {
            lag: tradewire_core::Lag::Feed,
            seconds: 3.0,
        },
        Event::CaughtUp {
            lag: tradewire_core::Lag::Feed,
            seconds: 0.1,
        },
        Event::Gap {
            key: None,
            expected: 1,
            received: 3,
            missing: 2,
            epoch: 1,
        },
    ] {
        let core = ev.kind();
        let wrapped = tw_event::new(ev);
        assert_eq!(wrapped.kind().to_str().unwrap(), core);
    }
}

#[test]
fn a_freed_event_is_reused_with_fresh_strings() {
    let response = |id: u64, data: &str| Event::Response {
        id,
        status: 200,
        data: Some(data.into()),
    };
    let first = tw_event::into_raw(response(1, r#"{"a":"a longer payload than the next"}"#));
    assert_eq!(
        s(unsafe { tw_event_data_json(first) }).unwrap(),
        r#"{"a":"a longer payload than the next"}"#
    );
    unsafe { tw_event_free(first) };
    let second = tw_event::into_raw(response(2, "[2]"));
    // The same allocation, but nothing of the first event shows through.
    assert_eq!(second, first);
    assert_eq!(s(unsafe { tw_event_data_json(second) }).unwrap(), "[2]");
    assert_eq!(s(unsafe { tw_event_raw(second) }), None);
    let third = tw_event::into_raw(response(3, "3"));
    assert_ne!(third, second);
    assert_eq!(s(unsafe { tw_event_data_json(third) }).unwrap(), "3");
    unsafe {
        tw_event_free(second);
        tw_event_free(third);
    }
}

#[test]
fn a_large_field_buffer_is_not_kept_for_the_next_event() {
    let big = format!("\"{}\"", "x".repeat(SPARE_BUFFER_MAX));
    let response = |data: &str| Event::Response {
        id: 1,
        status: 200,
        data: Some(data.into()),
    };
    let first = tw_event::into_raw(response(&big));
    assert_eq!(s(unsafe { tw_event_data_json(first) }).unwrap(), big);
    unsafe { tw_event_free(first) };
    let second = tw_event::into_raw(response("1"));
    assert_eq!(second, first);
    assert!(unsafe { &*second }.fields.buf.capacity() < SPARE_BUFFER_MAX);
    assert_eq!(s(unsafe { tw_event_data_json(second) }).unwrap(), "1");
    unsafe { tw_event_free(second) };
}

#[test]
fn responses_embed_their_data_verbatim() {
    let ev = tw_event::new(Event::Response {
        id: 4,
        status: 200,
        data: Some(r#"{"z":1,"a":12345678901234567890}"#.into()),
    });
    assert_eq!(
        ev.to_json(),
        r#"{"kind":"response","id":4,"status":200,"data":{"z":1,"a":12345678901234567890}}"#
    );
    let p: *const tw_event = &ev;
    assert_eq!(
        s(unsafe { tw_event_data_json(p) }).unwrap(),
        r#"{"z":1,"a":12345678901234567890}"#
    );
}
