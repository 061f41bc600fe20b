//! TLS helpers: a self-signed certificate for `wss://` servers, and a
//! listener that never answers (a stalled TLS or WebSocket server).

mod cert;
mod silent;

pub use self::cert::self_signed_identity;
pub(crate) use self::cert::try_self_signed_identity;
pub use self::silent::SilentListener;
