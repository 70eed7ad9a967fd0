//! People in the browser: an organisation registers itself and verifies its address through
//! a mailed link; people sign in with a password (argon2id) into a session kept in the
//! database, sign out (here or everywhere), and reset a forgotten password through a mailed
//! link; anyone may subscribe an address to the notice board. API tokens stay for machines.
//!
//! Sign-in is rate limited per account or address: after
//! [`SIGN_IN_LIMIT`](tenderflow_store::sessions::SIGN_IN_LIMIT) failures in
//! [`SIGN_IN_WINDOW_MS`](tenderflow_store::sessions::SIGN_IN_WINDOW_MS) further attempts are
//! refused, right password or not, until the window has passed.

use crate::{App, AppError, Caller, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
pub use tenderflow_store::claims::{ClaimDecision, RegistrationClaim};
use tenderflow_store::sessions::{SIGN_IN_LIMIT, SIGN_IN_WINDOW_MS};
use tenderflow_store::{Account, Registration, Session, StoreError};

/// Whether two secrets (tokens, form keys) are equal, in time that does not depend on where
/// they differ.
pub use tenderflow_store::sessions::constant_time_eq;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;
/// Longest password accepted (characters).
pub const MAX_PASSWORD: usize = 128;

/// What an organisation fills in to register.
#[derive(Debug, Clone)]
pub struct RegistrationForm {
    /// The organisation's name.
    pub name: String,
    /// Unified social credit code or other registration number.
    pub registration_number: String,
    /// Contact person.
    pub contact_person: String,
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
    /// `zh-CN` or `en`.
    pub locale: String,
    /// Announcements of new tenders by mail.
    pub announcements: bool,
}

/// A session just started: the cookie to set (shown once) and the session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The cookie's value.
    pub cookie: String,
    /// The session.
    pub session: Session,
}

/// Checks a new password: `invalid_password` unless it has 10–128 characters.
pub fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(AppError::invalid(
            "invalid_password",
            format!("a password has {MIN_PASSWORD}–{MAX_PASSWORD} characters"),
        ));
    }
    Ok(())
}

/// The argon2 work a server does at once: each hash holds about 19 MiB for its duration, so
/// hashing is bounded to one per CPU, with a short queue whose waiters give up after a
/// while. A request that finds the queue full, or waits too long, is refused
/// [`AppError::Busy`] and costs the server nothing more.
///
/// The hashes run on threads of their own, one per permit, never on tokio's blocking pool:
/// the allocator keeps a freed 19 MiB block in the arena of the thread that used it, so
/// hashes spread over the pool's many threads would each leave one behind (64 anonymous
/// sign-ins kept 318 MiB that way). On a fixed set of threads the memory is bounded by it.
#[derive(Debug)]
pub struct PasswordWork {
    permits: tokio::sync::Semaphore,
    /// Requests holding or waiting for a permit.
    admitted: std::sync::atomic::AtomicUsize,
    /// At most this many hold or wait.
    max_admitted: usize,
    wait: std::time::Duration,
    /// The hashing threads' queue (they end when it is dropped).
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

/// Work for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

impl Default for PasswordWork {
    /// One hash per CPU at once, four per CPU queued, each waiting at most 5 s.
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self::new(cpus, 4 * cpus, std::time::Duration::from_secs(5))
    }
}

/// Gives the admission back however the work ends (including a dropped request).
struct Admitted<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl PasswordWork {
    /// `at_once` hashes at a time (at least one) on as many threads, `queued` more waiting
    /// up to `wait`.
    pub fn new(at_once: usize, queued: usize, wait: std::time::Duration) -> Self {
        let at_once = at_once.max(1);
        let (jobs, inbox) = std::sync::mpsc::channel::<Job>();
        let inbox = std::sync::Arc::new(std::sync::Mutex::new(inbox));
        for i in 0..at_once {
            let inbox = inbox.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let job = match inbox.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A job that panics answers nobody (its caller sees a failure);
                            // the thread lives on.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "a password hashing thread could not start");
            }
        }
        Self {
            permits: tokio::sync::Semaphore::new(at_once),
            admitted: std::sync::atomic::AtomicUsize::new(0),
            max_admitted: at_once + queued,
            wait,
            jobs: std::sync::Mutex::new(jobs),
        }
    }

    fn busy(&self) -> AppError {
        AppError::Busy {
            code: "busy",
            retry_after_secs: self.wait.as_secs().clamp(1, 60),
        }
    }

    /// Runs `work` off the async threads once a permit is free.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        use std::sync::atomic::Ordering;
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.max_admitted {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            return Err(self.busy());
        }
        let _admitted = Admitted(&self.admitted);
        let _permit = match tokio::time::timeout(self.wait, self.permits.acquire()).await {
            Ok(Ok(p)) => p,
            _ => return Err(self.busy()),
        };
        let (done, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        let sent = self
            .jobs
            .lock()
            .map_err(|_| AppError::invalid("password_hash_failed", "the hashing threads stopped"))?
            .send(job);
        if sent.is_err() {
            return Err(AppError::invalid(
                "password_hash_failed",
                "the hashing threads stopped",
            ));
        }
        answer
            .await
            .map_err(|_| AppError::invalid("password_hash_failed", "a hashing thread failed"))
    }

    /// The argon2id hash (PHC string) of a password, with a fresh salt.
    async fn hash(&self, password: String) -> Result<String> {
        let mut salt = [0u8; 16];
        getrandom::getrandom(&mut salt).map_err(|e| {
            AppError::from(tenderflow_store::StoreError::from(
                tenderflow_store::CryptoError::NoRandomness(e),
            ))
        })?;
        self.run(move || {
            let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
            argon2::Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| e.to_string())
        })
        .await?
        .map_err(|e| AppError::invalid("password_hash_failed", e))
    }

    /// Whether `password` matches `phc` (false for a malformed hash).
    async fn verify(&self, password: String, phc: String) -> Result<bool> {
        self.run(move || {
            PasswordHash::new(&phc).is_ok_and(|h| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
        })
        .await
    }
}

/// A hash no password matches, checked when the account does not exist so that a wrong
/// account and a wrong password take the same time.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let salt = SaltString::encode_b64(b"tenderflow-dummy")
                .unwrap_or_else(|_| SaltString::from_b64("dGVuZGVyZmxvdw").expect("a valid salt"));
            argon2::Argon2::default()
                .hash_password(b"no password matches this", &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
        .clone()
}

fn sign_in_failed() -> AppError {
    AppError::invalid(
        "sign_in_failed",
        "the account or password is not right (or the account is disabled)",
    )
}

impl App {
    /// Registers an organisation as a bidder and queues its verification mail. It signs in
    /// once the mailed link has been opened.
    ///
    /// The answer is the same whether or not the address or registration number is taken
    /// (the owner of a taken one is mailed instead); an address the mailer could not send
    /// to is `invalid_email`.
    pub async fn register(&self, form: RegistrationForm) -> Result<()> {
        if !tenderflow_notify::deliverable(&form.email) {
            return Err(AppError::invalid(
                "invalid_email",
                format!(
                    "`{}` is not an address mail can be sent to",
                    form.email.trim()
                ),
            ));
        }
        check_password(&form.password)?;
        let registration = Registration {
            name: form.name,
            registration_number: form.registration_number,
            contact_person: form.contact_person,
            email: form.email,
            locale: form.locale,
            password_hash: self.passwords.hash(form.password).await?,
            announcements: form.announcements,
        };
        match self.store.register(&registration).await {
            Ok(_) | Err(StoreError::AlreadyRegistered { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The claims of registration numbers other accounts hold, pending first (staff and
    /// administrators).
    pub async fn registration_claims(&self, caller: &Caller) -> Result<Vec<RegistrationClaim>> {
        caller.require(&[tenderflow_core::Role::STAFF, tenderflow_core::Role::ADMIN])?;
        Ok(self.store.registration_claims().await?)
    }

    /// Decides a pending claim, with the reason (`note_required` without one): approving
    /// gives the claimant a new account with the number (its address still to verify) and
    /// takes the number from its holder; `claim_not_pending` for a claim decided already or
    /// whose address has been registered since.
    pub async fn decide_registration_claim(
        &self,
        caller: &Caller,
        id: &str,
        decision: ClaimDecision,
        note: &str,
    ) -> Result<RegistrationClaim> {
        caller.require(&[tenderflow_core::Role::STAFF, tenderflow_core::Role::ADMIN])?;
        crate::views::check_id("the claim", id)?;
        let note = note.trim();
        if note.is_empty() || note.chars().count() > 2000 {
            return Err(AppError::invalid(
                "note_required",
                "a decision gives its reason (1–2000 characters)",
            ));
        }
        match self
            .store
            .decide_claim(id, decision, caller.actor.id.as_str(), note)
            .await
        {
            Err(StoreError::InvalidAccount { message, .. }) => {
                Err(AppError::not_now("claim_not_pending", message))
            }
            other => Ok(other?),
        }
    }

    /// Verifies an address through its mailed link: `link_invalid` when the link is unknown,
    /// used or expired.
    pub async fn verify_email(&self, token: &str) -> Result<Account> {
        self.store
            .verify_email(token)
            .await?
            .ok_or_else(link_invalid)
    }

    /// Sends a new verification link to an unverified address (the answer never says whether
    /// the address is registered).
    pub async fn resend_verification(&self, email: &str) -> Result<()> {
        Ok(self.store.resend_verification(email).await?)
    }

    /// Signs in with an account id or email address and a password: a new session (never
    /// one the browser already had: no session fixation). `too_many_attempts` after too many
    /// failures, `email_not_verified` before the mailed link was opened, `sign_in_failed`
    /// otherwise (the same for an unknown account and a wrong password).
    pub async fn sign_in(&self, login: &str, password: &str) -> Result<SignedIn> {
        let login = login.trim().to_lowercase();
        if login.is_empty() || login.len() > 254 {
            return Err(sign_in_failed());
        }
        let creds = self.store.credentials(&login).await?;
        // Counted per account, whichever of its id or address is typed; an unknown login
        // is counted by what was typed.
        let key = match &creds {
            Some(c) => format!("account:{}", c.id),
            None => format!("login:{login}"),
        };
        let attempt = self.store.claim_sign_in_attempt(&key).await?;
        if attempt.count > SIGN_IN_LIMIT {
            self.store.release_sign_in_attempt(&attempt).await?;
            return Err(AppError::not_now(
                "too_many_attempts",
                format!(
                    "too many failed sign-ins for this account; try again in {} minutes",
                    SIGN_IN_WINDOW_MS / 60_000
                ),
            ));
        }
        let phc = creds
            .as_ref()
            .and_then(|c| c.password_hash.clone())
            .unwrap_or_else(dummy_hash);
        let matches = match self.passwords.verify(password.to_owned(), phc).await {
            Ok(m) => m,
            Err(e) => {
                // Not checked: the attempt does not count.
                self.store.release_sign_in_attempt(&attempt).await?;
                return Err(e);
            }
        };
        // A failed check keeps its claimed attempt as a failure.
        let creds = match creds {
            Some(c) if matches && c.disabled_ms.is_none() => c,
            _ => return Err(sign_in_failed()),
        };
        self.store.clear_sign_in_failures(&key).await?;
        if creds.email_verified_ms.is_none() {
            return Err(AppError::not_now(
                "email_not_verified",
                "open the link we mailed to confirm the address first (or ask for a new one)",
            ));
        }
        let (cookie, session) = self.store.create_session(&creds.id).await?;
        Ok(SignedIn { cookie, session })
    }

    /// The signed-in caller of a session cookie and its CSRF token, if the session is live.
    pub async fn session(&self, cookie: &str) -> Result<Option<(Caller, String)>> {
        Ok(self
            .store
            .session(cookie)
            .await?
            .and_then(|s| Caller::of(s.account).map(|c| (c, s.csrf))))
    }

    /// Signs out of one session.
    pub async fn sign_out(&self, cookie: &str) -> Result<()> {
        Ok(self.store.end_session(cookie).await?)
    }

    /// Signs the caller out of every session; returns how many ended.
    pub async fn sign_out_everywhere(&self, caller: &Caller) -> Result<u64> {
        Ok(self.store.end_sessions(&caller.account.id).await?)
    }

    /// Queues a password-reset link to a verified address (the answer never says whether the
    /// address is registered).
    pub async fn request_password_reset(&self, email: &str) -> Result<()> {
        Ok(self.store.request_password_reset(email).await?)
    }

    /// Sets a new password through a mailed link and signs the account out everywhere.
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<String> {
        check_password(password)?;
        let phc = self.passwords.hash(password.to_owned()).await?;
        self.store
            .reset_password(token, &phc)
            .await?
            .ok_or_else(link_invalid)
    }

    /// Sets an account's password (administrators, for staff who sign in to the pages) and
    /// ends its sessions.
    pub async fn set_password(&self, account: &str, password: &str) -> Result<()> {
        check_password(password)?;
        let phc = self.passwords.hash(password.to_owned()).await?;
        Ok(self.store.set_password_hash(account, &phc).await?)
    }

    /// The caller's account page facts and preferences.
    pub async fn profile(&self, caller: &Caller) -> Result<tenderflow_store::Profile> {
        self.store
            .profile(&caller.account.id)
            .await?
            .ok_or_else(|| AppError::NotFound("your account is gone".into()))
    }

    /// Sets the caller's announcement opt-in and language.
    pub async fn set_preferences(
        &self,
        caller: &Caller,
        announcements: bool,
        locale: &str,
    ) -> Result<()> {
        Ok(self
            .store
            .set_preferences(&caller.account.id, announcements, locale)
            .await?)
    }

    /// Subscribes an address to announcements of open tenders (confirmed by a mailed link).
    pub async fn subscribe(&self, email: &str, locale: &str) -> Result<()> {
        if !tenderflow_notify::deliverable(email) {
            return Err(AppError::invalid(
                "invalid_email",
                format!("`{}` is not an address mail can be sent to", email.trim()),
            ));
        }
        match self.store.subscribe(email, locale).await {
            Err(StoreError::InvalidAccount { message, .. }) => {
                Err(AppError::invalid("invalid_email", message))
            }
            other => Ok(other?),
        }
    }

    /// Confirms a subscription through its mailed link.
    pub async fn confirm_subscription(&self, token: &str) -> Result<String> {
        self.store
            .confirm_subscription(token)
            .await?
            .ok_or_else(link_invalid)
    }

    /// Ends a subscription through the link every announcement carries.
    pub async fn unsubscribe(&self, email: &str, token: &str) -> Result<()> {
        if self.store.unsubscribe(email, token).await? {
            Ok(())
        } else {
            Err(link_invalid())
        }
    }
}

fn link_invalid() -> AppError {
    AppError::invalid(
        "link_invalid",
        "this link is unknown, was used already or has expired",
    )
}

#[cfg(test)]
mod tests {
    use super::{AppError, PasswordWork};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    #[tokio::test]
    async fn password_work_is_bounded_and_refuses_beyond_its_queue() {
        let work = Arc::new(PasswordWork::new(1, 1, Duration::from_millis(200)));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let w = work.clone();
        let first = tokio::spawn(async move {
            w.run(move || {
                let _ = started.send(());
                let _ = hold.recv();
                1
            })
            .await
        });
        running.await.expect("the first runs");
        let w = work.clone();
        let second = tokio::spawn(async move { w.run(|| 2).await });
        while work.admitted.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }
        // The queue is full: refused at once, without waiting.
        assert!(matches!(work.run(|| 3).await, Err(AppError::Busy { .. })));
        // The queued one gives up after its wait.
        assert!(matches!(
            second.await.expect("task"),
            Err(AppError::Busy {
                retry_after_secs: 1,
                ..
            })
        ));
        release.send(()).expect("release");
        assert_eq!(first.await.expect("task").expect("first"), 1);
        assert_eq!(work.run(|| 4).await.expect("free again"), 4);
        assert_eq!(work.admitted.load(Ordering::Acquire), 0);
    }
}
