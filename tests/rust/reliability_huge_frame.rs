//! A frame header that claims 2^40 bytes is refused at once with close code 1009, without
//! allocating the claimed size, and the client reconnects.

use std::time::{Duration, Instant};

use tradewire::{Client, Config, ErrorKind, Event, Preset};
use tradewire_testkit::{frames, DaemonServer};

use crate::support::{expect_kind, isolated, quick, rss_kib, wait_for, SOON};

/// The header alone: FIN + text opcode, the 64-bit length marker, the length.
fn header_claiming(len: u64) -> Vec<u8> {
    let mut h = vec![0x80 | frames::OP_TEXT, 127];
    h.extend_from_slice(&len.to_be_bytes());
    h
}

#[test]
fn a_frame_claiming_a_terabyte_is_refused_with_1009_without_allocating_it() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(quick(Config::new(server.url()).preset(Preset::Daemon))).unwrap();
    expect_kind(&client, "connected", SOON);
    let rss0 = rss_kib();
    let t0 = Instant::now();
    server.send_raw(&header_claiming(1 << 40));
    let (ev, seen) = wait_for(&client, SOON, |e| matches!(e, Event::Disconnected { .. }));
    let took = t0.elapsed();
    let rss1 = rss_kib();
    let Some(Event::Disconnected { code, .. }) = ev else {
        panic!("no disconnect: {seen:?}")
    };
    assert_eq!(code, Some(1009), "{seen:?}");
    let error = seen.iter().find_map(|e| match e {
        Event::Error(err) => Some(err),
        _ => None,
    });
    let error = error.unwrap_or_else(|| panic!("an Error event says why: {seen:?}"));
    assert_eq!(error.kind, ErrorKind::MessageTooLarge);
    assert!(
        error.message.contains("max_message_size"),
        "{}",
        error.message
    );
    eprintln!("huge frame: 1009 after {took:?}; RSS {rss0} -> {rss1} KiB");
    // "Promptly": generous for a busy machine; measured figures are in docs/RELIABILITY.md.
    assert!(took < Duration::from_secs(5));
    if isolated() {
        assert!(rss1 < rss0 + 8 * 1024, "RSS {rss0} -> {rss1} KiB");
    }
    // The connection was closed by the client, not the process: it comes back.
    expect_kind(&client, "connected", SOON);
}
