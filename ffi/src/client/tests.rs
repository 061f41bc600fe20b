//! Unit tests of `tw_client`: arguments checked, NULL handled, rules from core (a callback
//! excludes reading; an unstarted client refuses to wait) reported with their codes.

use super::*;
use crate::error::{tw_last_error, tw_last_error_code};
use std::ffi::CStr;

fn last() -> String {
    unsafe { CStr::from_ptr(tw_last_error()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn bad_config_gives_null_and_names_every_field() {
    std::thread::spawn(|| unsafe {
        let c = tw_client_new(c"{\"url\": 5, \"jitter\": \"x\"}".as_ptr());
        assert!(c.is_null());
        assert_eq!(tw_last_error_code(), tw_result::TW_ERR_CONFIG);
        let msg = last();
        assert!(msg.contains("url") && msg.contains("jitter"), "{msg}");

        assert!(tw_client_new(c"not json".as_ptr()).is_null());
        assert!(last().contains("not valid JSON"), "{}", last());

        assert!(tw_client_new(ptr::null()).is_null());
        assert_eq!(tw_last_error_code(), tw_result::TW_ERR_INVALID_ARGUMENT);

        assert!(tw_client_new(c"{\"url\":\"ws://h\xff\"}".as_ptr()).is_null());
        assert!(last().contains("UTF-8"), "{}", last());
    })
    .join()
    .unwrap();
}

#[test]
fn null_clients_are_invalid_arguments_and_free_null_is_a_no_op() {
    unsafe {
        let null = ptr::null_mut();
        assert_eq!(tw_client_start(null), tw_result::TW_ERR_INVALID_ARGUMENT);
        assert_eq!(tw_client_close(null), tw_result::TW_ERR_INVALID_ARGUMENT);
        assert_eq!(
            tw_client_reconnect(null),
            tw_result::TW_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            tw_client_send_text(null, c"x".as_ptr()),
            tw_result::TW_ERR_INVALID_ARGUMENT
        );
        let mut ev = ptr::null_mut();
        assert_eq!(
            tw_client_next_event(null, 0, &mut ev),
            tw_result::TW_ERR_INVALID_ARGUMENT
        );
        assert!(tw_client_status_json(null).is_null());
        tw_client_free(null);
    }
}

#[test]
fn next_events_checks_its_arguments_and_ends_with_the_stream() {
    unsafe {
        let c = tw_client_new(c"{\"url\":\"ws://127.0.0.1:9\"}".as_ptr());
        assert!(!c.is_null(), "{}", last());
        let mut slots: [*mut tw_event; 4] = [ptr::null_mut(); 4];
        let mut count = 99;
        let next = |c, slots: &mut [*mut tw_event; 4], cap, count: *mut usize| {
            tw_client_next_events(c, 0, slots.as_mut_ptr(), cap, count)
        };
        for (client, cap, count_ptr) in [
            (ptr::null_mut(), 4, &mut count as *mut usize),
            (c, 4, ptr::null_mut()),
            (c, 0, &mut count as *mut usize),
        ] {
            assert_eq!(
                next(client, &mut slots, cap, count_ptr),
                tw_result::TW_ERR_INVALID_ARGUMENT
            );
        }
        assert!(last().contains("capacity"), "{}", last());
        assert_eq!(
            tw_client_next_events(c, 0, ptr::null_mut(), 4, &mut count),
            tw_result::TW_ERR_INVALID_ARGUMENT
        );
        assert_eq!(count, 99, "not written on an error");
        // Never started: waiting is a usage error, even without a wait (core's rule).
        assert_eq!(next(c, &mut slots, 4, &mut count), tw_result::TW_ERR_USAGE);
        assert!(last().contains("tw_client_start"), "{}", last());
        assert_eq!(count, 99);
        assert!(slots.iter().all(|s| s.is_null()));
        tw_client_close(c);
        count = 99;
        assert_eq!(
            tw_client_next_events(c, TW_NO_TIMEOUT, slots.as_mut_ptr(), 4, &mut count),
            tw_result::TW_CLOSED
        );
        assert_eq!(count, 0);
        tw_client_free(c);
    }
}

unsafe extern "C" fn ignore(_: *const tw_event, _: *mut c_void) {}

#[test]
fn with_a_callback_reading_is_a_usage_error_from_core() {
    unsafe {
        let c = tw_client_new(c"{\"url\":\"ws://127.0.0.1:9\"}".as_ptr());
        assert_eq!(
            tw_client_set_callback(c, Some(ignore), ptr::null_mut()),
            tw_result::TW_OK
        );
        let mut ev: *mut tw_event = ptr::null_mut();
        assert_eq!(tw_client_next_event(c, 0, &mut ev), tw_result::TW_ERR_USAGE);
        assert!(last().contains("callback"), "{}", last());
        let mut slots: [*mut tw_event; 2] = [ptr::null_mut(); 2];
        let mut count = 7;
        assert_eq!(
            tw_client_next_events(c, 0, slots.as_mut_ptr(), 2, &mut count),
            tw_result::TW_ERR_USAGE
        );
        assert_eq!(count, 7);
        tw_client_free(c);
    }
}

#[test]
fn an_unstarted_client_refuses_to_wait_and_to_send_and_closes() {
    unsafe {
        let c = tw_client_new(c"{\"url\":\"ws://127.0.0.1:9\"}".as_ptr());
        assert!(!c.is_null(), "{}", last());
        let mut ev: *mut tw_event = ptr::null_mut();
        // Never started: waiting is a usage error that says to start it.
        assert_eq!(tw_client_next_event(c, 0, &mut ev), tw_result::TW_ERR_USAGE);
        assert!(last().contains("tw_client_start"), "{}", last());
        assert!(ev.is_null());
        assert_eq!(
            tw_client_send_text(c, c"hi".as_ptr()),
            tw_result::TW_ERR_NOT_CONNECTED
        );
        assert_eq!(
            tw_client_next_event(c, 0, ptr::null_mut()),
            tw_result::TW_ERR_INVALID_ARGUMENT
        );
        let status = tw_client_status_json(c);
        let v: serde_json::Value =
            serde_json::from_str(CStr::from_ptr(status).to_str().unwrap()).unwrap();
        crate::strings::tw_string_free(status);
        assert_eq!(v["state"], "idle");
        assert_eq!(tw_client_close(c), tw_result::TW_OK);
        assert_eq!(tw_client_close(c), tw_result::TW_OK);
        assert_eq!(
            tw_client_next_event(c, TW_NO_TIMEOUT, &mut ev),
            tw_result::TW_CLOSED
        );
        assert_eq!(tw_client_start(c), tw_result::TW_ERR_CLOSED);
        tw_client_free(c);
    }
}
