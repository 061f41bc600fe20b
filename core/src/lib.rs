//! # tradewire
//!
//! An embeddable client core for real-time trading event streams over WebSocket. It
//! connects (ws/wss), logs in, keeps the connection alive, notices a dead one, reconnects
//! with backoff, re-subscribes, filters events to one account, and hands every event to the
//! application through a bounded channel, never losing one silently.
//!
//! ```no_run
//! use tradewire::{Client, Config, Event, Preset};
//!
//! let client = Client::connect(Config::new("ws://localhost:8765").preset(Preset::Daemon).account_id(123))?;
//! for event in client.events() {
//!     match event {
//!         Event::Message(m) => log::info!("{} {}", m.msg_type().unwrap_or("?"), m.data_json().unwrap_or("")),
//!         Event::Disconnected { reason, .. } => log::warn!("disconnected: {reason}"),
//!         other => log::warn!("{}", other.kind()),
//!     }
//! }
//! # Ok::<(), tradewire::Error>(())
//! ```
//!
//! ## Threads
//! A client uses one I/O thread for its whole life (named `tradewire-io`), whatever the
//! number of reconnects, plus a short-lived `tradewire-dns` thread per connection attempt to
//! a host name (IP addresses need none).
//!
//! ## Internals
//! The modules that only the fuzzers, benches, soak runs and scenario tests use (`envelope`,
//! `tradovate`, `url`, `time`, `base64`, `backoff`, `config`, `filter`, `preset`) are public
//! only with the `internals` feature, and their API may change in any release. So is
//! `fuzzing`: the bodies of the fuzz targets (`fuzz/`), which the corpus replay test runs.
//! [`redact`] is public: an application may scrub its own log lines with it.
//!
//! ## Defaults and limits
//! Messages up to 16 MiB (`max_message_size`), frames up to the same (`max_frame_size`), 8 MiB
//! of unsent data (`max_write_buffer`), a 16 KiB read buffer (`read_buffer_size`), an event
//! queue of 65 536 (`queue_capacity`) with the `block` overflow policy.

#![deny(missing_docs)]

/// A module public only with the `internals` feature (fuzzers, benches, soak runs, the
/// scenario tests): its API may change in any release. Applications use the types
/// re-exported at the crate root.
macro_rules! internal_mod {
    ($name:ident) => {
        #[cfg(feature = "internals")]
        pub mod $name;
        #[cfg(not(feature = "internals"))]
        #[allow(dead_code)]
        mod $name;
    };
}

// First: its logging macros are used by every module below.
#[macro_use]
pub mod redact;
internal_mod!(backoff);
internal_mod!(base64);
mod client;
mod close_code;
internal_mod!(config);
mod deflate;
pub(crate) mod delivery;
mod dialect;
mod engine;
internal_mod!(envelope);
mod error;
mod event;
mod event_json;
internal_mod!(filter);
mod frames;
#[cfg(feature = "internals")]
pub mod fuzzing;
mod history;
mod json_string;
mod lag;
mod ready;
mod request_id;
mod sequence;
internal_mod!(preset);
mod proxy;
pub mod record;
mod status;
mod streams;
mod subscriptions;
mod suggest;
internal_mod!(time);
mod token_details;
internal_mod!(tradovate);
mod transport;
internal_mod!(url);

pub use backoff::BackoffKind;
pub use client::{diagnostics, Client, Kind, KindSet, ListenerId, LoopBatch};
pub use config::{Config, ConfigView, Credentials, Secret};
/// The receiver [`Client::events`] returns (crossbeam's), so applications need not name the crate.
pub use crossbeam_channel::Receiver;
pub use deflate::Compression;
pub use delivery::Overflow;
pub use error::{ConnectReason, Error, ErrorCategory, FieldError, Result};
pub use event::{AccountValue, ErrorEvent, ErrorKind, Event, Message};
pub use filter::AccountId;
pub use lag::Lag;
pub use preset::Preset;
pub use sequence::{OnGap, SequenceCounts, SequenceScope, SequenceStatus};
pub use status::{State, Status};
pub use subscriptions::{Subscribed, Subscription, Wire};
pub use suggest::suggest;
pub use token_details::TokenDetails;

/// Appends a time as ISO-8601 UTC with microseconds (`2025-01-17T14:45:15.123456Z`), the
/// form of every time in an event's JSON projection ([`Event::to_json`]), so that a
/// consumer of both sees one format (the CLI's Redis bridge writes `received_at` with it).
///
/// ```
/// let mut s = String::new();
/// tradewire::push_timestamp(&mut s, std::time::UNIX_EPOCH);
/// assert_eq!(s, "1970-01-01T00:00:00.000000Z");
/// ```
pub fn push_timestamp(out: &mut String, t: std::time::SystemTime) {
    time::push_iso8601_micros(out, t);
}

/// The library's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
