//! Proxies: which one a connection goes through (the `proxy` field, else the environment
//! variables curl and Python requests read) and how to open a tunnel through it (HTTP
//! CONNECT, SOCKS5). The parsing, choosing and message building are pure (`spec`, `choose`,
//! `wire`); `tunnel` does the I/O on the connection's non-blocking socket, under the
//! connect deadline.

mod choose;
mod spec;
pub(crate) mod tunnel;
mod wire;

pub(crate) use choose::{choose, http_url_host};
pub(crate) use spec::{Proxy, ProxyKind};
