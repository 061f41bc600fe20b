//! Proxies: which one a connection goes through (the `proxy` field, else the environment
//! variables curl and Python requests read) and the bytes of a tunnel through it (HTTP
//! CONNECT, SOCKS5). All pure (`spec`, `choose`, `wire`); `transport::tunnel` does the I/O on
//! the connection's non-blocking socket, under the connect deadline.

pub(crate) mod choose;
pub(crate) mod spec;
pub(crate) mod wire;

pub(crate) use choose::{choose, http_url_host};
pub(crate) use spec::{bracketed, Proxy, ProxyKind};
