//! Access tokens on the I/O thread: the token file, requests and renewals on a helper
//! thread, and the token a login uses.

use super::*;

/// A token request or renewal running on a helper thread.
pub(crate) struct AuthJob {
    rx: Receiver<std::result::Result<TokenInfo, AuthError>>,
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
pub(crate) static AUTH_THREADS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

impl Engine {
    /// Loads the token file once at start (tradovate).
    pub(super) fn load_token_file(&mut self) {
        if !self.dialect.needs_auth() || self.s.static_token.is_some() {
            return;
        }
        if let Some(path) = &self.s.token_file {
            let user = self.s.credentials.as_ref().map(|c| c.name.as_str());
            if let Some(t) = token_file::load(path, user, SystemTime::now(), self.s.token_margin) {
                self.set_token(t, false);
            }
        }
    }

    pub(super) fn set_token(&mut self, t: TokenInfo, save: bool) {
        crate::redact::register(&t.access_token);
        if let Some(md) = &t.md_access_token {
            crate::redact::register(md);
        }
        self.counters.token_expiry_ms.store(
            crate::time::unix_millis(t.expires_at).max(1),
            Ordering::Relaxed,
        );
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

    /// The token to log in with.
    pub(super) fn login_token(&self) -> Option<String> {
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

    /// Starts a token request (or a renewal of the current token) on a helper thread.
    pub(super) fn spawn_auth(&self, renew: Option<String>) -> Option<AuthJob> {
        let s = self.s.clone();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let poller = self.reactor.poller.clone();
        AUTH_THREADS.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name("tradewire-auth".into())
            .spawn(move || {
                let timeout = s.connect_timeout.max(Duration::from_secs(5));
                let fresh = |flag: &AtomicBool| match (&s.auth_url, &s.credentials) {
                    (Some(url), Some(c)) => request_token(url, c, timeout, flag),
                    _ => Err(AuthError::Rejected(
                        "no credentials are configured to request a new access token".into(),
                    )),
                };
                let result = match (renew, &s.renew_url) {
                    (Some(token), Some(url)) => match renew_token(url, &token, timeout) {
                        Err(AuthError::Rejected(why)) if s.credentials.is_some() => {
                            tw_info!("tradewire: {why}; requesting a new access token instead");
                            fresh(&flag)
                        }
                        other => other,
                    },
                    _ => fresh(&flag),
                };
                let _ = tx.send(result);
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

    /// Makes sure a usable token is at hand before connecting (tradovate).
    pub(super) fn ensure_token(&mut self) -> TokenOutcome {
        if self.s.static_token.is_some() {
            return TokenOutcome::Ready;
        }
        if self
            .token
            .as_ref()
            .is_some_and(|t| t.is_valid(SystemTime::now(), self.s.token_margin))
        {
            return TokenOutcome::Ready;
        }
        if self.s.credentials.is_none() {
            return TokenOutcome::Fatal(
                "no valid access token: the token file has none (or it expired) and no credentials are configured".into(),
            );
        }
        self.counters.set_state(State::Authenticating);
        let job = match self.auth_job.take() {
            Some(j) => j,
            None => match self.spawn_auth(None) {
                Some(j) => j,
                None => return TokenOutcome::Retry("could not start the token request".into()),
            },
        };
        loop {
            match job.rx.try_recv() {
                Ok(Ok(t)) => {
                    tw_info!(
                        "tradewire: obtained an access token (expires {})",
                        crate::time::iso8601(t.expires_at)
                    );
                    self.set_token(t, true);
                    return TokenOutcome::Ready;
                }
                Ok(Err(AuthError::Rejected(m))) | Ok(Err(AuthError::Captcha(m))) => {
                    return TokenOutcome::Fatal(m)
                }
                Ok(Err(AuthError::Network(m))) => return TokenOutcome::Retry(m),
                Ok(Err(AuthError::Cancelled)) => {
                    return TokenOutcome::Interrupted(Interrupt::Close)
                }
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    return TokenOutcome::Retry("the token request ended without an answer".into())
                }
                Err(crossbeam_channel::TryRecvError::Empty) => {}
            }
            if let Some(i) = offline_commands(&self.cmds, &mut self.delivery, "logging in") {
                return TokenOutcome::Interrupted(i);
            }
            self.offline_wait(None);
        }
    }

    /// Renews the token ahead of expiry while connected, and takes the result of a renewal.
    pub(super) fn tend_token(&mut self) -> Option<Instant> {
        if let Some(job) = &self.auth_job {
            match job.rx.try_recv() {
                Ok(Ok(t)) => {
                    tw_info!(
                        "tradewire: renewed the access token (expires {})",
                        crate::time::iso8601(t.expires_at)
                    );
                    self.auth_job = None;
                    self.set_token(t, true);
                }
                Ok(Err(e)) => {
                    tw_warn!("tradewire: token renewal failed ({e:?}); retrying in 30 s");
                    self.auth_job = None;
                    self.renew_not_before = Some(Instant::now() + Duration::from_secs(30));
                }
                Err(crossbeam_channel::TryRecvError::Disconnected) => self.auth_job = None,
                Err(crossbeam_channel::TryRecvError::Empty) => return None,
            }
        }
        let t = self.token.as_ref()?;
        let now = SystemTime::now();
        let due = t.renew_at(self.s.token_margin);
        let wait = due.duration_since(now).unwrap_or_default();
        let mut at = Instant::now() + wait;
        if let Some(nb) = self.renew_not_before {
            at = at.max(nb);
        }
        if Instant::now() >= at {
            self.renew_not_before = None;
            let current = t.access_token.clone();
            self.auth_job = self.spawn_auth(Some(current));
            return None;
        }
        Some(at)
    }
}
