//! `Settings`: a configuration with every default applied and every value checked, the
//! form the engine runs on.

use std::fmt;
use std::time::Duration;

use super::{Credentials, Secret};
use crate::backoff::Backoff;
use crate::delivery::Overflow;
use crate::envelope::Pointers;
use crate::filter::AccountId;
use crate::preset::Preset;
use crate::url::Endpoint;

/// A configuration with every default applied and every value checked.
#[derive(Clone)]
pub(crate) struct Settings {
    pub preset: Preset,
    pub url: String,
    pub redacted_url: String,
    pub endpoint: Endpoint,
    pub headers: Vec<(String, String)>,
    pub account: Option<AccountId>,
    pub types: Vec<String>,
    pub auth_message: Option<String>,
    pub on_connect: Vec<String>,
    pub strict_json: bool,
    /// Under `strict_json`, a message without a type is an error (the preset decides).
    pub type_required: bool,
    pub raw: bool,
    /// Document 004's messages (the metis preset): non-JSON text is its own data, binary
    /// frames holding UTF-8 JSON are read as JSON, other binary frames delivered as bytes.
    pub whole_message: bool,
    pub pointers: Pointers,
    pub ping_type: Option<String>,
    /// The member of a JSON request and its answer that carries the request id.
    pub request_id_field: String,
    pub server_heartbeat_type: Option<String>,
    pub ws_ping: bool,
    pub heartbeat_interval: Duration,
    pub heartbeat_timeout: Duration,
    pub connect_timeout: Duration,
    pub reconnect: bool,
    pub backoff: Backoff,
    /// Before the first connection, retry every this long (the preset decides: daemon 5 s).
    pub first_connect_retry: Option<Duration>,
    pub max_reconnect_attempts: Option<u32>,
    pub min_uptime: Duration,
    pub queue_capacity: usize,
    pub overflow: Overflow,
    pub history: usize,
    /// `record`: the recording file and its rotation size.
    pub record: Option<(std::path::PathBuf, u64)>,
    pub verify_tls: bool,
    /// permessage-deflate offered in the handshake (`None`: not offered).
    pub compression: Option<crate::deflate::Compression>,
    /// The proxy of the WebSocket connection (`None`: direct).
    pub proxy: Option<crate::proxy::Proxy>,
    /// Tradovate: the proxy of the token requests (chosen for `auth_url`'s host and scheme).
    pub auth_proxy: Option<crate::proxy::Proxy>,
    pub max_message_size: usize,
    pub max_frame_size: usize,
    pub max_write_buffer: usize,
    pub read_buffer_size: usize,
    pub inline_reads: bool,
    /// How long a receiver with inline reads polls without sleeping (zero: not at all).
    pub busy_poll: Duration,
    pub fatal_close_codes: Vec<u16>,
    pub superseded_reason: Option<String>,
    pub reconnect_when_superseded: bool,
    /// `lagging` / `caught_up` events around this lag (feed or consumer); `None`: none.
    pub lag_warning: Option<Duration>,
    /// Sequence checking (`None`: off; the pointers are in `pointers`).
    pub sequence: Option<SequenceCheck>,
    /// Tradovate: the access-token request URL.
    pub auth_url: Option<String>,
    /// Tradovate: the token renewal URL.
    pub renew_url: Option<String>,
    /// Tradovate: credentials (config or environment).
    pub credentials: Option<Credentials>,
    /// Tradovate: an access token given directly.
    pub static_token: Option<Secret>,
    /// Tradovate: where the token is kept between runs.
    pub token_file: Option<std::path::PathBuf>,
    /// Tradovate: market-data endpoint (authorize with mdAccessToken).
    pub market_data: bool,
    /// Tradovate: tokens are used only while now < expiry − margin.
    pub token_margin: Duration,
}

impl Settings {
    /// Replaces every known secret in `text` by `<redacted>` (see [`crate::redact`]).
    pub fn scrub(&self, text: &str) -> String {
        crate::redact::scrub(text).into_owned()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("preset", &self.preset)
            .field("url", &self.redacted_url)
            .finish_non_exhaustive()
    }
}

/// How sequence numbers are checked (config `sequence_scope`, `on_gap`, `drop_duplicates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SequenceCheck {
    pub scope: crate::sequence::SequenceScope,
    pub on_gap: crate::sequence::OnGap,
    pub drop_duplicates: bool,
}
