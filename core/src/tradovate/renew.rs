//! The access token's life on the I/O thread: loaded from the token file at start, requested
//! on a helper thread when none is usable, renewed ahead of expiry while connected, forgotten
//! when the server refuses it. The engine sees it only as a [`Login`].

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::Receiver;

use super::http::{renew_token, request_token, AuthError};
use super::token::{TokenDetails, TokenInfo};
use super::token_file;
use crate::config::Settings;
use crate::dialect::{Login, Readiness};
use crate::status::Counters;
use crate::transport::Poller;

/// How long to wait after a failed renewal before trying again.
const RENEW_RETRY: Duration = Duration::from_secs(30);

/// A token request or renewal running on a helper thread.
struct AuthJob {
    rx: Receiver<Result<TokenInfo, AuthError>>,
    cancel: Arc<AtomicBool>,
}

impl Drop for AuthJob {
    fn drop(&mut self) {
        // A job nobody waits for any more stops before its next network action.
        self.cancel.store(true, Ordering::SeqCst);
    }
}

/// Token helper threads still running (an HTTP request in flight cannot be cancelled; it
/// ends within its timeout).
pub(crate) static AUTH_THREADS: AtomicUsize = AtomicUsize::new(0);

/// The Tradovate access token of one client.
pub(crate) struct Tokens {
    s: Arc<Settings>,
    counters: Arc<Counters>,
    /// Woken when a helper thread has an answer.
    poller: Arc<Poller>,
    /// The token file was read (once, on the I/O thread's first attempt).
    loaded: bool,
    /// The access token in use.
    token: Option<TokenInfo>,
    job: Option<AuthJob>,
    /// No renewal attempt before this time (after a failed one).
    renew_not_before: Option<Instant>,
}

impl Tokens {
    pub fn new(s: Arc<Settings>, counters: Arc<Counters>, poller: Arc<Poller>) -> Tokens {
        Tokens {
            s,
            counters,
            poller,
            loaded: false,
            token: None,
            job: None,
            renew_not_before: None,
        }
    }

    /// Loads the token file once (a static token needs none).
    fn load_token_file(&mut self) {
        self.loaded = true;
        if self.s.static_token.is_some() {
            return;
        }
        if let Some(path) = &self.s.token_file {
            let user = self.s.credentials.as_ref().map(|c| c.name.as_str());
            if let Some(t) = token_file::load(path, user, SystemTime::now(), self.s.token_margin) {
                self.set_token(t, false);
            }
        }
    }

    fn set_token(&mut self, t: TokenInfo, save: bool) {
        crate::redact::register(&t.access_token);
        if let Some(md) = &t.md_access_token {
            crate::redact::register(md);
        }
        self.counters.token_expiry_ms.store(
            crate::time::unix_millis(t.expires_at).max(1),
            Ordering::Relaxed,
        );
        self.publish(Some(t.details()));
        if save {
            if let Some(path) = &self.s.token_file {
                match token_file::save(path, &t) {
                    Ok(()) => {
                        tw_debug!("tradewire: saved the access token to {}", path.display())
                    }
                    Err(e) => tw_warn!(
                        "tradewire: could not save the access token to {}: {e}",
                        path.display()
                    ),
                }
            }
        }
        self.token = Some(t);
    }

    /// What `Client::token_info` shows: the token in use, without its secrets.
    fn publish(&self, details: Option<TokenDetails>) {
        let mut slot = match self.counters.token_details.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = details;
    }

    /// Starts a token request (or a renewal of `renew`) on a helper thread.
    fn spawn(&self, renew: Option<String>) -> Option<AuthJob> {
        let s = self.s.clone();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let poller = self.poller.clone();
        AUTH_THREADS.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name("tradewire-auth".into())
            .spawn(move || {
                let _ = tx.send(obtain(&s, renew, &flag));
                let _ = poller.notify();
                AUTH_THREADS.fetch_sub(1, Ordering::SeqCst);
            });
        match spawned {
            Ok(_) => Some(AuthJob { rx, cancel }),
            Err(e) => {
                AUTH_THREADS.fetch_sub(1, Ordering::SeqCst);
                tw_error!("tradewire: could not start the token thread: {e}");
                None
            }
        }
    }
}

/// Renews `renew` when given (falling back to a new request when the renewal is refused and
/// credentials are configured), else requests a new token. Runs on a helper thread.
fn obtain(
    s: &Settings,
    renew: Option<String>,
    cancel: &AtomicBool,
) -> Result<TokenInfo, AuthError> {
    let timeout = s.connect_timeout.max(Duration::from_secs(5));
    let fresh = || match (&s.auth_url, &s.credentials) {
        (Some(url), Some(c)) => request_token(url, c, timeout, s.auth_proxy.as_ref(), cancel),
        _ => Err(AuthError::Rejected(
            "no credentials are configured to request a new access token".into(),
        )),
    };
    match (renew, &s.renew_url) {
        (Some(token), Some(url)) => match renew_token(url, &token, timeout, s.auth_proxy.as_ref()) {
            Err(AuthError::Rejected(why)) if s.credentials.is_some() => {
                tw_info!("tradewire: {why}; requesting a new access token instead");
                fresh()
            }
            other => other,
        },
        _ => fresh(),
    }
}

impl Login for Tokens {
    fn poll_ready(&mut self) -> Readiness {
        if !self.loaded {
            self.load_token_file();
        }
        if self.s.static_token.is_some()
            || self
                .token
                .as_ref()
                .is_some_and(|t| t.is_valid(SystemTime::now(), self.s.token_margin))
        {
            return Readiness::Ready;
        }
        if self.s.credentials.is_none() {
            return Readiness::Fatal(
                "no valid access token: the token file has none (or it expired) and no credentials are configured".into(),
            );
        }
        let job = match self.job.take() {
            Some(j) => j,
            None => match self.spawn(None) {
                Some(j) => j,
                None => {
                    return Readiness::Retry("could not start the token request".into(), None)
                }
            },
        };
        match job.rx.try_recv() {
            Ok(Ok(t)) => {
                tw_info!(
                    "tradewire: obtained an access token (expires {})",
                    crate::time::iso8601(t.expires_at)
                );
                self.set_token(t, true);
                Readiness::Ready
            }
            Ok(Err(AuthError::Rejected(m))) | Ok(Err(AuthError::Captcha(m))) => Readiness::Fatal(m),
            Ok(Err(AuthError::Network(m))) => Readiness::Retry(m, None),
            Ok(Err(AuthError::Unreachable(m, reason))) => Readiness::Retry(m, Some(reason)),
            Ok(Err(AuthError::Cancelled)) => {
                Readiness::Retry("the token request was cancelled".into(), None)
            }
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                Readiness::Retry("the token request ended without an answer".into(), None)
            }
            Err(crossbeam_channel::TryRecvError::Empty) => {
                self.job = Some(job);
                Readiness::Waiting
            }
        }
    }

    fn token(&self) -> Option<String> {
        if let Some(t) = &self.s.static_token {
            return Some(t.expose().to_string());
        }
        let t = self.token.as_ref()?;
        if self.s.market_data {
            t.md_access_token
                .clone()
                .or_else(|| Some(t.access_token.clone()))
        } else {
            Some(t.access_token.clone())
        }
    }

    fn user_id(&self) -> Option<i64> {
        self.token.as_ref().and_then(|t| t.user_id)
    }

    fn tend(&mut self) -> Option<Instant> {
        if self.s.static_token.is_some() {
            return None;
        }
        if let Some(job) = &self.job {
            match job.rx.try_recv() {
                Ok(Ok(t)) => {
                    tw_info!(
                        "tradewire: renewed the access token (expires {})",
                        crate::time::iso8601(t.expires_at)
                    );
                    self.job = None;
                    self.set_token(t, true);
                }
                Ok(Err(e)) => {
                    tw_warn!("tradewire: token renewal failed ({e:?}); retrying in 30 s");
                    self.job = None;
                    self.renew_not_before = Some(Instant::now() + RENEW_RETRY);
                }
                Err(crossbeam_channel::TryRecvError::Disconnected) => self.job = None,
                Err(crossbeam_channel::TryRecvError::Empty) => return None,
            }
        }
        let t = self.token.as_ref()?;
        let due = t.renew_at(self.s.token_margin);
        let wait = due.duration_since(SystemTime::now()).unwrap_or_default();
        let mut at = Instant::now() + wait;
        if let Some(nb) = self.renew_not_before {
            at = at.max(nb);
        }
        if Instant::now() >= at {
            self.renew_not_before = None;
            let current = t.access_token.clone();
            self.job = self.spawn(Some(current));
            return None;
        }
        Some(at)
    }

    fn refused(&mut self) -> bool {
        if self.s.credentials.is_none() || self.token.take().is_none() {
            return false;
        }
        // The next attempt asks for a new token.
        self.counters.token_expiry_ms.store(0, Ordering::Relaxed);
        self.publish(None);
        true
    }

    fn cancel(&mut self) {
        self.job = None;
    }
}
