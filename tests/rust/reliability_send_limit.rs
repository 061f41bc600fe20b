//! A message larger than `max_write_buffer` cannot be sent; the error must say so, naming
//! the setting, rather than blaming a server that is not reading.

use std::time::Duration;

use tradewire::{Client, Config, ErrorCategory, Preset};
use tradewire_testkit::DaemonServer;

use crate::support::{expect_kind, quick, SOON};

#[test]
fn a_message_over_max_write_buffer_is_refused_as_too_large() {
    let server = DaemonServer::start().unwrap();
    let client = Client::connect(
        quick(Config::new(server.url()).preset(Preset::Raw)).max_write_buffer(64 << 10),
    )
    .unwrap();
    expect_kind(&client, "connected", SOON);
    let err = client.send_text("x".repeat(100 << 10)).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorCategory::Usage, "{err:?}");
    assert!(text.contains("max_write_buffer"), "{text}");
    assert!(!text.contains("not reading"), "{text}");
    // The connection is still usable for messages that fit.
    client.send_text("small").unwrap();
    assert!(server
        .wait_for_received(|m| m == "small", Duration::from_secs(5))
        .is_some());
}
