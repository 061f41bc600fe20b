//! Socket options that std does not expose on stable Rust.

use std::net::TcpStream;

/// Sets `SO_LINGER` to zero so that closing the socket's last descriptor sends
/// a TCP RST instead of a FIN. Best effort: failures are logged.
#[cfg(unix)]
pub(crate) fn set_linger_zero(stream: &TcpStream) {
    use std::os::unix::io::AsRawFd;

    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is owned by `stream` and open for the duration of
    // the call; the option value points to a properly sized `linger` struct.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        log::debug!(
            "setting SO_LINGER failed: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Without libc the socket is only shut down (FIN), not reset.
#[cfg(not(unix))]
pub(crate) fn set_linger_zero(stream: &TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
