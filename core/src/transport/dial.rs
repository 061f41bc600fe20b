//! Reaching a host: the DNS lookup (on a helper thread, awaited under the deadline) and the
//! non-blocking TCP connect, both interruptible. Used for the venue and for a proxy.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rustix::net::{AddressFamily, SocketFlags, SocketType};

use super::connect::{reason_of_io, Failure, Interrupt};
use super::{Reactor, Socket};
use crate::error::ConnectReason;

/// DNS helper threads still running (a stalled `getaddrinfo` cannot be cancelled).
pub(crate) static DNS_THREADS: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn resolve(
    host: &str,
    port: u16,
    deadline: Instant,
    reactor: &mut Reactor,
    check: &mut dyn FnMut() -> Option<Interrupt>,
) -> Result<Vec<SocketAddr>, Failure> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = crossbeam_channel::bounded(1);
    let poller = reactor.poller.clone();
    let name = host.to_string();
    DNS_THREADS.fetch_add(1, Ordering::SeqCst);
    let spawned = std::thread::Builder::new()
        .name("tradewire-dns".into())
        .spawn(move || {
            let result = (name.as_str(), port)
                .to_socket_addrs()
                .map(|it| it.collect::<Vec<_>>());
            let _ = tx.send(result);
            let _ = poller.notify();
            DNS_THREADS.fetch_sub(1, Ordering::SeqCst);
        });
    if let Err(e) = spawned {
        DNS_THREADS.fetch_sub(1, Ordering::SeqCst);
        return Err(Failure::retry(format!(
            "could not start the DNS lookup thread: {e}"
        )));
    }
    loop {
        match rx.try_recv() {
            Ok(Ok(addrs)) if !addrs.is_empty() => return Ok(addrs),
            Ok(Ok(_)) => {
                return Err(Failure::because(
                    Some(ConnectReason::Dns),
                    format!("the DNS lookup of {host} returned no address"),
                ))
            }
            Ok(Err(e)) => {
                return Err(Failure::because(
                    Some(ConnectReason::Dns),
                    format!("the DNS lookup of {host} failed: {e}"),
                ))
            }
            Err(_) => {}
        }
        if let Some(i) = check() {
            return Err(Failure::Interrupted(i));
        }
        if Instant::now() >= deadline {
            return Err(Failure::deadline());
        }
        reactor
            .wait(Some(deadline))
            .map_err(|e| Failure::retry(format!("poll failed: {e}")))?;
    }
}

pub(crate) fn tcp_connect(
    addr: SocketAddr,
    deadline: Instant,
    reactor: &mut Reactor,
    check: &mut dyn FnMut() -> Option<Interrupt>,
) -> Result<Socket, Failure> {
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|e| Failure::retry(format!("could not create a socket: {e}")))?;
    let pending = match rustix::net::connect(&fd, &addr) {
        Ok(()) => false,
        Err(e) if e == rustix::io::Errno::INPROGRESS => true,
        Err(e) => return Err(io_failure(&io::Error::from(e))),
    };
    let tcp = TcpStream::from(fd);
    let socket = Socket::register(tcp, reactor.poller.clone()).map_err(|e| {
        Failure::retry(format!(
            "could not register the socket with the poller: {e}"
        ))
    })?;
    if pending {
        socket
            .want(false, true)
            .map_err(|e| Failure::retry(format!("poll setup failed: {e}")))?;
        loop {
            if let Some(i) = check() {
                return Err(Failure::Interrupted(i));
            }
            if Instant::now() >= deadline {
                return Err(Failure::deadline());
            }
            let ready = reactor
                .wait(Some(deadline))
                .map_err(|e| Failure::retry(format!("poll failed: {e}")))?;
            if ready {
                break;
            }
        }
    }
    match socket.tcp().take_error() {
        Ok(None) => {}
        Ok(Some(e)) | Err(e) => return Err(io_failure(&e)),
    }
    // A refused connect can also show up only as a failed peer lookup.
    if let Err(e) = socket.tcp().peer_addr() {
        return Err(io_failure(&e));
    }
    socket
        .want(false, false)
        .map_err(|e| Failure::retry(format!("poll setup failed: {e}")))?;
    Ok(socket)
}

/// A failed TCP connect, classified by its error kind.
fn io_failure(e: &io::Error) -> Failure {
    Failure::because(reason_of_io(e.kind()), e.to_string())
}
