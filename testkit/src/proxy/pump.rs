//! One direction of a proxied connection: copies bytes according to the mode.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::ProxyMode;
use crate::sync::lock;

/// Read timeout: how quickly a pump notices mode changes and resets.
const READ_POLL: Duration = Duration::from_millis(5);
/// A blocked write gives up after this long and is retried later.
const WRITE_TIMEOUT: Duration = Duration::from_millis(20);

/// Shared by both pumps of a connection.
pub(crate) struct Link {
    /// The proxy's current mode.
    pub(crate) mode: Arc<Mutex<ProxyMode>>,
    /// Set to end the connection at once (reset or proxy shutdown).
    pub(crate) dead: Arc<AtomicBool>,
    /// Pumps that have finished (the connection is over at 2).
    pub(crate) ended: Arc<AtomicUsize>,
}

/// Copies `src` to `dst` until EOF (forwarded as a half-close) or until the
/// link dies. Paused bytes are held, blackholed bytes are discarded, and a
/// trickle forwards at most `bytes` per `every`.
pub(crate) fn pump(src: TcpStream, dst: TcpStream, link: Link, label: String) {
    if let Err(e) = src
        .set_read_timeout(Some(READ_POLL))
        .and_then(|()| dst.set_write_timeout(Some(WRITE_TIMEOUT)))
    {
        log::debug!("{label}: socket setup failed: {e}");
        link.dead.store(true, Ordering::SeqCst);
    }
    let mut pump = Pump {
        src,
        dst,
        pending: Vec::new(),
        eof: false,
        trickle_clock: Instant::now(),
    };
    if let Err(e) = pump.run(&link) {
        log::debug!("{label}: {e}");
        // Propagate the failure to the other direction.
        link.dead.store(true, Ordering::SeqCst);
        let _ = pump.src.shutdown(Shutdown::Both);
        let _ = pump.dst.shutdown(Shutdown::Both);
    }
    link.ended.fetch_add(1, Ordering::SeqCst);
}

struct Pump {
    src: TcpStream,
    dst: TcpStream,
    pending: Vec<u8>,
    eof: bool,
    trickle_clock: Instant,
}

impl Pump {
    fn run(&mut self, link: &Link) -> Result<(), String> {
        let mut buf = vec![0u8; 16 * 1024];
        while !link.dead.load(Ordering::SeqCst) {
            if self.eof {
                std::thread::sleep(READ_POLL);
            } else {
                match self.src.read(&mut buf) {
                    Ok(0) => self.eof = true,
                    Ok(n) => {
                        if *lock(&link.mode) != ProxyMode::Blackhole {
                            self.pending.extend_from_slice(&buf[..n]);
                        }
                    }
                    Err(e) if is_retry(e.kind()) => {}
                    Err(e) => return Err(format!("read failed: {e}")),
                }
            }
            let mode = lock(&link.mode).clone();
            match mode {
                ProxyMode::Pass => self.forward(usize::MAX)?,
                ProxyMode::Pause => {}
                ProxyMode::Blackhole => self.pending.clear(),
                ProxyMode::Trickle { bytes, every } => self.trickle(bytes, every)?,
            }
            let forwarding = matches!(mode, ProxyMode::Pass | ProxyMode::Trickle { .. });
            if self.eof && self.pending.is_empty() && forwarding {
                let _ = self.dst.shutdown(Shutdown::Write);
                return Ok(());
            }
        }
        Ok(())
    }

    /// Forwards up to `bytes` for every whole `every` elapsed.
    fn trickle(&mut self, bytes: usize, every: Duration) -> Result<(), String> {
        let now = Instant::now();
        if self.pending.is_empty() {
            self.trickle_clock = now;
            return Ok(());
        }
        let every_ns = every.as_nanos().max(1);
        let periods = now.duration_since(self.trickle_clock).as_nanos() / every_ns;
        if periods == 0 {
            return Ok(());
        }
        let periods = u32::try_from(periods).unwrap_or(u32::MAX);
        self.trickle_clock += every.saturating_mul(periods);
        if self.trickle_clock > now {
            self.trickle_clock = now;
        }
        self.forward(bytes.saturating_mul(periods as usize))
    }

    /// Writes up to `limit` pending bytes; a blocked write leaves the rest.
    fn forward(&mut self, limit: usize) -> Result<(), String> {
        let target = self.pending.len().min(limit);
        let mut written = 0;
        while written < target {
            match self.dst.write(&self.pending[written..target]) {
                Ok(0) => return Err("peer stopped accepting data".into()),
                Ok(n) => written += n,
                Err(e) if is_retry(e.kind()) => break,
                Err(e) => return Err(format!("write failed: {e}")),
            }
        }
        self.pending.drain(..written);
        Ok(())
    }
}

fn is_retry(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
    )
}
