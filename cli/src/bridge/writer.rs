//! The writer thread of one connection: takes the client's events in batches, packs each
//! batch into one pipeline of `XADD`s, and keeps one batch in flight while it packs the
//! next. A batch is dropped only when Redis acknowledged all of it; after a lost connection
//! every unacknowledged batch is sent again (same keys: duplicates are detectable). While
//! Redis is away this thread takes no event, so the client's overflow policy applies
//! (`block`: the WebSocket is not read and TCP pushes back on the server).

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tradewire::{Client, ErrorKind, Event};

use super::entry::{self, Key, Keyer, Scratch, Target};
use super::redis_link::{Problem, RedisLink};
use super::state::Shared;
use super::stream_name::StreamTemplate;
use super::target::RedisTarget;
use crate::exit;

/// At most this many events per pipeline.
const BATCH: usize = 2048;
/// How often an idle writer looks at the stop flag.
const TICK: Duration = Duration::from_millis(100);
/// After Ctrl-C, how long the writer keeps trying to reach Redis with what it holds.
const FLUSH_LIMIT: Duration = Duration::from_secs(10);

/// What one writer needs.
pub struct Writer {
    /// The WebSocket client (started).
    pub client: Arc<Client>,
    /// Where entries go.
    pub template: StreamTemplate,
    /// `MAXLEN ~ N`.
    pub maxlen: Option<u64>,
    /// The bridge instance id.
    pub instance: String,
    /// This connection's number (1, 2, ...).
    pub connection: usize,
    /// `[n] ` with several connections, for stderr lines.
    pub label: String,
    /// `--count`: stop after this many messages.
    pub count: Option<u64>,
    /// `--quiet`: no lifecycle lines.
    pub quiet: bool,
    /// Counters for the status line.
    pub shared: Arc<Shared>,
    /// The Redis server.
    pub target: RedisTarget,
}

/// A pipeline being packed or in flight.
#[derive(Default)]
struct Batch {
    buf: Vec<u8>,
    /// Commands (replies to read): an event may go to several streams.
    commands: usize,
    /// Events in it.
    events: u64,
}

impl Batch {
    fn clear(&mut self) {
        self.buf.clear();
        self.commands = 0;
        self.events = 0;
    }
}

/// Why the writer stops taking events.
enum End {
    /// Ctrl-C (or another connection ended): close the client, write what it had queued.
    Stop,
    /// The event that ends the run was taken; exit with this code once it is written.
    Exit(i32),
}

/// Packs events: numbering, stream names, the lifecycle fan-out.
struct Packer {
    keyer: Keyer,
    scratch: Scratch,
    name: String,
    /// Streams written so far (only with per-event placeholders): lifecycle entries go to
    /// each of them, so that every consumer sees every gap.
    seen: Vec<String>,
    seen_set: HashSet<String>,
    messages: u64,
    auth_rejected: bool,
}

impl Writer {
    /// Runs until the feed gives up, `--count` is reached, `stop` is set, or Redis refuses
    /// for good; returns the exit code. `stop` also ends the other writers (set here when
    /// this one ends).
    pub fn run(self, stop: &AtomicBool) -> i32 {
        let mut link = RedisLink::new(self.target.clone(), self.label.clone());
        let code = self.pump(&mut link, stop);
        stop.store(true, Ordering::SeqCst);
        code
    }

    fn pump(&self, link: &mut RedisLink, stop: &AtomicBool) -> i32 {
        let mut packer = Packer {
            keyer: Keyer::default(),
            scratch: Scratch::default(),
            name: String::new(),
            seen: Vec::new(),
            seen_set: HashSet::new(),
            messages: 0,
            auth_rejected: false,
        };
        let mut inflight = Batch::default();
        let mut next = Batch::default();
        match link.ensure(&self.shared, stop, None) {
            Ok(true) => {}
            Ok(false) => {
                // Stopped before Redis was ever reached: what the client queued is lost.
                self.client.close();
                self.drain(&mut next, &mut packer);
                if next.events == 0 {
                    return exit::OK;
                }
                eprintln!(
                    "tradewire: {}error: Redis was never reachable; {} not written",
                    self.label,
                    crate::output::plural(next.events, "event")
                );
                return exit::FAILURE;
            }
            Err(p) => return self.fatal(&p),
        }
        loop {
            let end = if stop.load(Ordering::SeqCst) {
                Some(End::Stop)
            } else {
                // With a batch in flight, take only what is queued: its replies come next.
                let wait = if inflight.events > 0 {
                    Duration::ZERO
                } else {
                    TICK
                };
                self.fill(&mut next, &mut packer, wait)
            };
            if inflight.events > 0 {
                if let Err(p) = link.replies(inflight.commands) {
                    if let Err(code) = self.recover(link, &mut [&mut inflight, &mut next], p, stop)
                    {
                        return code;
                    }
                }
                self.acked(&mut inflight);
            }
            if next.events > 0 {
                match link.send(&next.buf) {
                    Ok(()) => std::mem::swap(&mut inflight, &mut next),
                    Err(p) => {
                        if let Err(code) = self.recover(link, &mut [&mut next], p, stop) {
                            return code;
                        }
                        self.acked(&mut next);
                    }
                }
            }
            let Some(end) = end else { continue };
            // The run ends: the queued events (after a stop), then everything acknowledged.
            let code = match end {
                End::Exit(code) => code,
                End::Stop => {
                    self.client.close();
                    self.drain(&mut next, &mut packer);
                    exit::OK
                }
            };
            return self.finish(link, &mut [&mut inflight, &mut next], code);
        }
    }

    /// Takes up to a batch of events (waiting up to `wait` for the first) and packs them.
    fn fill(&self, batch: &mut Batch, p: &mut Packer, wait: Duration) -> Option<End> {
        let mut end = None;
        let taken = self.client.recv_batch_with(BATCH, Some(wait), |event| {
            end = self.pack(batch, p, &event);
            if end.is_some() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if let Err(e) = taken {
            if e.kind() != tradewire::ErrorCategory::Closed {
                eprintln!("tradewire: {}error: {e}", self.label);
            }
            return Some(end.unwrap_or(End::Exit(exit::FAILURE)));
        }
        end
    }

    /// After `close()`: every event still queued, packed.
    fn drain(&self, batch: &mut Batch, p: &mut Packer) {
        while let Ok(n) = self
            .client
            .recv_batch_with(BATCH, Some(Duration::ZERO), |event| {
                self.pack(batch, p, &event);
                ControlFlow::Continue(())
            })
        {
            if n == 0 {
                break;
            }
        }
    }

    /// Packs one event into `batch`; `Some` when it ends the run.
    fn pack(&self, batch: &mut Batch, p: &mut Packer, event: &Event) -> Option<End> {
        let (epoch, seq) = p.keyer.next(event);
        let key = Key {
            instance: &self.instance,
            connection: self.connection,
            epoch,
            seq,
        };
        entry::prepare(&mut p.scratch, event, key);
        let message = event.as_message();
        batch.events += 1;
        self.shared.unacked.fetch_add(1, Ordering::Relaxed);
        if let Some(stream) = self.template.fixed() {
            let to = Target {
                stream,
                maxlen: self.maxlen,
            };
            entry::write_xadd(&mut batch.buf, to, event, key, &p.scratch);
            batch.commands += 1;
        } else if let Some(m) = message {
            self.template
                .render_into(&mut p.name, m.account_id(), m.msg_type());
            if !p.seen_set.contains(p.name.as_str()) {
                p.seen_set.insert(p.name.clone());
                p.seen.push(p.name.clone());
            }
            let to = Target {
                stream: &p.name,
                maxlen: self.maxlen,
            };
            entry::write_xadd(&mut batch.buf, to, event, key, &p.scratch);
            batch.commands += 1;
        } else {
            // A lifecycle entry: into every stream used so far, and the one whose
            // placeholders are all absent (`_`).
            self.template.render_into(&mut p.name, None, None);
            if !p.seen_set.contains(p.name.as_str()) {
                p.seen_set.insert(p.name.clone());
                p.seen.push(p.name.clone());
            }
            for stream in &p.seen {
                let to = Target {
                    stream,
                    maxlen: self.maxlen,
                };
                entry::write_xadd(&mut batch.buf, to, event, key, &p.scratch);
                batch.commands += 1;
            }
        }
        self.report(event, p)
    }

    /// Lifecycle lines on stderr, and whether `event` ends the run.
    fn report(&self, event: &Event, p: &mut Packer) -> Option<End> {
        match event {
            Event::Message(_) => {
                p.messages += 1;
                p.auth_rejected = false;
                return match self.count {
                    Some(n) if p.messages >= n => Some(End::Exit(exit::OK)),
                    _ => None,
                };
            }
            Event::Error(e) if e.kind == ErrorKind::Auth => p.auth_rejected = true,
            Event::Disconnected {
                code: Some(1008), ..
            } => p.auth_rejected = true,
            _ => {}
        }
        let always = matches!(
            event,
            Event::Error(_) | Event::GaveUp { .. } | Event::Lagged { .. } | Event::Gap { .. }
        );
        if let Some(line) = crate::output::lifecycle_line(event) {
            if always || !self.quiet {
                eprintln!("tradewire: {}feed: {line}", self.label);
            }
        }
        match event {
            Event::GaveUp { .. } if p.auth_rejected => Some(End::Exit(exit::AUTH)),
            Event::GaveUp { .. } => Some(End::Exit(exit::GAVE_UP)),
            _ => None,
        }
    }

    fn acked(&self, batch: &mut Batch) {
        self.shared
            .written
            .fetch_add(batch.events, Ordering::Relaxed);
        self.shared
            .unacked
            .fetch_sub(batch.events, Ordering::Relaxed);
        batch.clear();
    }

    /// After `problem`: reconnects (with backoff) and sends `batches` again, in order, until
    /// Redis acknowledges them all. Takes no event meanwhile. `Err(exit code)` when Redis
    /// refuses for good, or `stop` is set and [`FLUSH_LIMIT`] passed.
    fn recover(
        &self,
        link: &mut RedisLink,
        batches: &mut [&mut Batch],
        mut problem: Problem,
        stop: &AtomicBool,
    ) -> Result<(), i32> {
        let never = AtomicBool::new(false);
        let mut stopped_at: Option<Instant> = None;
        loop {
            let why = match problem {
                Problem::Lost(why) => why,
                other => return Err(self.fatal(&other)),
            };
            let unacked: u64 = batches.iter().map(|b| b.events).sum();
            link.lost(&self.shared, &why, unacked);
            // While stopping, the attempts go on until the flush limit instead.
            let (flag, deadline) = if stop.load(Ordering::SeqCst) {
                let since = *stopped_at.get_or_insert_with(Instant::now);
                (&never, Some(since + FLUSH_LIMIT))
            } else {
                (stop, None)
            };
            problem = match link.ensure(&self.shared, flag, deadline) {
                Ok(true) => match self.resend(link, batches) {
                    Ok(()) => return Ok(()),
                    Err(p) => p,
                },
                Ok(false) if deadline.is_some() => {
                    eprintln!(
                        "tradewire: {}error: Redis is unreachable; {} not written",
                        self.label,
                        crate::output::plural(unacked, "event")
                    );
                    return Err(exit::FAILURE);
                }
                Ok(false) => Problem::Lost(why),
                Err(p) => return Err(self.fatal(&p)),
            };
        }
    }

    fn resend(&self, link: &mut RedisLink, batches: &mut [&mut Batch]) -> Result<(), Problem> {
        let mut commands = 0;
        for b in batches.iter().filter(|b| b.events > 0) {
            link.send(&b.buf)?;
            commands += b.commands;
        }
        link.replies(commands)?;
        for b in batches.iter_mut() {
            self.acked(b);
        }
        Ok(())
    }

    /// Sends what is left and reads every reply; returns `code` unless that fails.
    fn finish(&self, link: &mut RedisLink, batches: &mut [&mut Batch], code: i32) -> i32 {
        let (first, rest) = batches.split_at_mut(1);
        // The first batch is in flight (already sent): its replies come first.
        let mut result = if first[0].events > 0 {
            link.replies(first[0].commands)
        } else {
            Ok(())
        };
        if result.is_ok() {
            self.acked(first[0]);
            result = self.resend(link, rest);
        }
        match result {
            Ok(()) => code,
            Err(p) => {
                let stopping = AtomicBool::new(true);
                match self.recover(link, batches, p, &stopping) {
                    Ok(()) => code,
                    Err(c) => c,
                }
            }
        }
    }

    /// Reports a refusal that retrying cannot fix; returns its exit code.
    fn fatal(&self, p: &Problem) -> i32 {
        match p {
            Problem::Auth(why) => {
                eprintln!(
                    "tradewire: {}error: Redis refused the credentials ({why}); check the user and password in --to",
                    self.label
                );
                exit::AUTH
            }
            Problem::Refused(why) => {
                eprintln!(
                    "tradewire: {}error: Redis refused the write ({why}); check the stream name (it must not be a key of another type), Redis's maxmemory and the user's ACL",
                    self.label
                );
                exit::FAILURE
            }
            Problem::Lost(why) => {
                eprintln!("tradewire: {}error: Redis: {why}", self.label);
                exit::FAILURE
            }
        }
    }
}
