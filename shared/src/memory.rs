//! In-memory implementations of the ports, for unit tests and benchmarks. They follow the same
//! rules as the DynamoDB adapter (one user per identity, a new code supersedes the old one) but
//! prove nothing about DynamoDB: the integration tests do that.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use uuid::Uuid;

use crate::codes;
use crate::login_id::IdentityKey;
use crate::model::{
    ApiKey, Application, EmailTemplate, MessageTemplate, PendingCode, Published, SigningKey,
    StoredAuthorizationCode, StoredRefreshToken, Tenant, User,
};
use crate::ports::{
    AttemptLimits, AuthorizationCodes, Challenge, CodeStore, CompletedLogin, Completion, Consumed,
    Directory, Email, IdentityMatch, Mailer, PendingCodes, Presented, RateLimiter, Redemption,
    RefreshRecords, RefreshTokens, RevocationScope, Rotation, Sessions, Sms, SmsSender, StoreError,
    SuppressionReason, Suppressions,
};
use crate::session::RefreshTokenNames;
use crate::system::{Clock, OsRandom, Random, SystemClock};

#[derive(Default)]
pub struct MemoryDirectory {
    pub api_keys: Mutex<HashMap<String, ApiKey>>,
    pub tenants: Mutex<HashMap<Uuid, Tenant>>,
    pub applications: Mutex<HashMap<Uuid, Application>>,
    pub signing_keys: Mutex<HashMap<Uuid, SigningKey>>,
    pub users: Mutex<HashMap<Uuid, User>>,
    pub identities: Mutex<HashMap<(Uuid, IdentityKey), Uuid>>,
    pub email_templates: Mutex<HashMap<Uuid, EmailTemplate>>,
    pub message_templates: Mutex<HashMap<Uuid, MessageTemplate>>,
    pub published: Mutex<Published>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MemoryDirectory {
    pub fn add_api_key(&self, raw_key: &str, key: ApiKey) {
        lock(&self.api_keys).insert(codes::hash_secret(raw_key), key);
    }
    pub fn add_tenant(&self, tenant: Tenant) {
        lock(&self.tenants).insert(tenant.id, tenant);
    }
    pub fn add_application(&self, application: Application) {
        lock(&self.applications).insert(application.id, application);
    }
    pub fn add_signing_key(&self, key: SigningKey) {
        lock(&self.signing_keys).insert(key.id, key);
    }
    pub fn add_user(&self, user: User) {
        let mut identities = lock(&self.identities);
        for identity in &user.identities {
            let key = IdentityKey {
                kind: identity.kind,
                value: identity.value.clone(),
            };
            identities.insert((user.tenant_id, key), user.id);
        }
        lock(&self.users).insert(user.id, user);
    }
}

#[async_trait]
impl Directory for MemoryDirectory {
    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        Ok(lock(&self.api_keys).get(key_hash).cloned())
    }
    async fn tenant(&self, id: Uuid) -> Result<Option<Tenant>, StoreError> {
        Ok(lock(&self.tenants).get(&id).cloned())
    }
    async fn application(&self, id: Uuid) -> Result<Option<Application>, StoreError> {
        Ok(lock(&self.applications).get(&id).cloned())
    }
    async fn signing_key(&self, id: Uuid) -> Result<Option<SigningKey>, StoreError> {
        Ok(lock(&self.signing_keys).get(&id).cloned())
    }
    async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        Ok(lock(&self.users).get(&id).cloned())
    }
    async fn email_template(&self, id: Uuid) -> Result<Option<EmailTemplate>, StoreError> {
        Ok(lock(&self.email_templates).get(&id).cloned())
    }
    async fn message_template(&self, id: Uuid) -> Result<Option<MessageTemplate>, StoreError> {
        Ok(lock(&self.message_templates).get(&id).cloned())
    }
    async fn published(&self) -> Result<Published, StoreError> {
        Ok(lock(&self.published).clone())
    }
    async fn find_identity(
        &self,
        tenant: Uuid,
        candidates: &[IdentityKey],
    ) -> Result<Option<IdentityMatch>, StoreError> {
        let identities = lock(&self.identities);
        let users = lock(&self.users);
        Ok(candidates.iter().find_map(|c| {
            identities
                .get(&(tenant, c.clone()))
                .map(|user_id| IdentityMatch {
                    identity: c.clone(),
                    user_id: *user_id,
                    user: users.get(user_id).cloned(),
                })
        }))
    }
}

/// The Codes table in memory: codes with their counted attempts, the per-user pointer, the
/// comparisons counted per user and window, and what logins write. One value implements
/// [`CodeStore`] and [`Sessions`], as the DynamoDB store does.
#[derive(Default)]
pub struct MemoryCodeStore {
    pub codes: Mutex<HashMap<String, PendingCode>>,
    /// One-time codes compared per code.
    pub attempts: Mutex<HashMap<String, u32>>,
    /// Per user: the newest code's hash.
    pub latest: Mutex<HashMap<Uuid, String>>,
    /// One-time codes compared per user and window.
    pub compared: Mutex<HashMap<(Uuid, i64), u32>>,
    /// Codes used, by the attempt that used them.
    pub used: Mutex<HashMap<String, String>>,
    /// Completed logins by attempt id: a retried attempt records once, as DynamoDB's idempotency
    /// token makes it; keyed so that recording stays constant-time however many there are.
    pub logins: Mutex<HashMap<String, CompletedLogin>>,
    pub challenges: Mutex<HashMap<String, (Uuid, i64)>>,
    pub trusts: Mutex<HashMap<String, (Uuid, i64)>>,
    /// Authorization codes by hash, with the attempt that used each.
    pub authorization_codes: Mutex<HashMap<String, MemoryAuthorizationCode>>,
    /// Refresh token families by id, and revocations by scope (at or before the instant).
    pub refresh_tokens: Mutex<HashMap<Uuid, StoredRefreshToken>>,
    pub revocations: Mutex<HashMap<RevocationScope, i64>>,
}

/// The sessions side of [`MemoryCodeStore`].
pub type MemorySessions = MemoryCodeStore;

#[async_trait]
impl PendingCodes for MemoryCodeStore {
    async fn save_pending(
        &self,
        code: &PendingCode,
        _limits: AttemptLimits,
    ) -> Result<(), StoreError> {
        let mut codes = lock(&self.codes);
        if let Some(old) = lock(&self.latest).insert(code.user_id, code.code_hash.clone()) {
            codes.remove(&old);
        }
        codes.insert(code.code_hash.clone(), code.clone());
        Ok(())
    }
}

#[async_trait]
impl CodeStore for MemoryCodeStore {
    async fn consume(
        &self,
        presented: Presented<'_>,
        attempt_id: &str,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<Consumed, StoreError> {
        // One lock order for every step, so that the steps are as atomic as DynamoDB's writes.
        let codes = lock(&self.codes);
        let mut used = lock(&self.used);
        let Some(code) = codes.get(presented.code_hash).filter(|c| {
            c.expires_at_millis > now_millis
                && presented
                    .application_id
                    .is_none_or(|app| app == c.application_id)
        }) else {
            return Ok(Consumed::NotFound);
        };
        if let Some(by) = used.get(presented.code_hash) {
            return Ok(if by == attempt_id {
                Consumed::Code(Box::new(code.clone()))
            } else {
                Consumed::NotFound
            });
        }
        let expected = match (presented.fallback, code.fallback_code_hash.as_deref()) {
            (false, _) => code.one_time_code_hash.as_deref(),
            (true, Some(fallback)) => Some(fallback),
            // A code never emailed as a link has no fallback to compare with.
            (true, None) => return Ok(Consumed::NotFound),
        };
        let matches = match presented.one_time_code_hash {
            None => expected.is_none(),
            Some(given) => {
                let mut attempts = lock(&self.attempts);
                // Fallbacks count apart, and running out of them only ends the fallback.
                let counter = match presented.fallback {
                    true => format!("{}#fallback", presented.code_hash),
                    false => presented.code_hash.to_owned(),
                };
                let count = attempts.entry(counter).or_default();
                if *count >= limits.per_code {
                    return Ok(Consumed::NotFound);
                }
                *count += 1;
                let spent = *count >= limits.per_code;
                if lock(&self.latest).get(&code.user_id).map(String::as_str)
                    != Some(presented.code_hash)
                {
                    return Ok(Consumed::NotFound);
                }
                let window = crate::ports::rate_window(now_millis, limits.per_user_window_seconds);
                let mut compared = lock(&self.compared);
                let budget = compared.entry((code.user_id, window)).or_default();
                if *budget >= limits.per_user {
                    return Ok(Consumed::AttemptBudgetSpent);
                }
                *budget += 1;
                let matches = expected.is_none_or(|expected| codes::same_secret(expected, given));
                if !matches && spent && !presented.fallback {
                    used.insert(presented.code_hash.to_owned(), "attempts".to_owned());
                }
                matches
            }
        };
        if !matches {
            return Ok(Consumed::NotFound);
        }
        used.insert(presented.code_hash.to_owned(), attempt_id.to_owned());
        Ok(Consumed::Code(Box::new(code.clone())))
    }
    async fn pending(&self, code_hash: &str) -> Result<Option<PendingCode>, StoreError> {
        if lock(&self.used).contains_key(code_hash) {
            return Ok(None);
        }
        Ok(lock(&self.codes).get(code_hash).cloned())
    }
    async fn newest(&self, user_id: Uuid) -> Result<Option<String>, StoreError> {
        Ok(lock(&self.latest).get(&user_id).cloned())
    }
    async fn mark_delivered(
        &self,
        code_hash: &str,
        identity: &IdentityKey,
        fallback_code_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        if let Some(code) = lock(&self.codes).get_mut(code_hash) {
            if !code.delivered_to.contains(identity) {
                code.delivered_to.push(identity.clone());
            }
            if let Some(fallback) = fallback_code_hash {
                code.fallback_code_hash = Some(fallback.to_owned());
            }
        }
        Ok(())
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct FixedClock(pub AtomicI64);

impl FixedClock {
    pub fn at(millis: i64) -> Self {
        Self(AtomicI64::new(millis))
    }
    pub fn advance_millis(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Fills buffers with one repeated byte: a predictable stand-in for the CSPRNG in benchmarks.
#[derive(Debug, Default)]
pub struct SameByteRandom(pub u8);

impl Random for SameByteRandom {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(self.0);
    }
}

/// Counts in memory, by key and window.
#[derive(Default)]
pub struct MemoryRateLimiter {
    pub counts: Mutex<HashMap<(String, i64), u32>>,
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn try_acquire(
        &self,
        key: &str,
        limit: u32,
        period_seconds: u32,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let window = crate::ports::rate_window(now_millis, period_seconds);
        let mut counts = lock(&self.counts);
        let count = counts.entry((key.to_owned(), window)).or_default();
        if *count >= limit {
            return Ok(false);
        }
        *count += 1;
        Ok(true)
    }
}

/// The suppression list in memory: address hash → reason.
#[derive(Default)]
pub struct MemorySuppressions {
    pub suppressed: Mutex<HashMap<String, SuppressionReason>>,
}

#[async_trait]
impl Suppressions for MemorySuppressions {
    async fn is_suppressed(&self, address_hash: &str) -> Result<bool, StoreError> {
        Ok(lock(&self.suppressed).contains_key(address_hash))
    }

    async fn suppress(
        &self,
        address_hash: &str,
        reason: SuppressionReason,
        _at_millis: i64,
    ) -> Result<(), StoreError> {
        lock(&self.suppressed).insert(address_hash.to_owned(), reason);
        Ok(())
    }
}

/// Keeps what was sent, for tests and benchmarks to read.
#[derive(Default)]
pub struct Outbox {
    pub emails: Mutex<Vec<Email>>,
    pub sms: Mutex<Vec<Sms>>,
}

#[async_trait]
impl Mailer for Outbox {
    async fn send_email(&self, email: &Email) -> Result<(), StoreError> {
        lock(&self.emails).push(email.clone());
        Ok(())
    }
}

#[async_trait]
impl SmsSender for Outbox {
    async fn send_sms(&self, sms: &Sms) -> Result<(), StoreError> {
        lock(&self.sms).push(sms.clone());
        Ok(())
    }
}

#[async_trait]
impl Sessions for MemoryCodeStore {
    async fn complete_login(&self, login: &CompletedLogin) -> Result<Completion, StoreError> {
        if let Some(token) = &login.refresh_token {
            lock(&self.refresh_tokens).insert(token.id, token.clone());
        }
        lock(&self.logins)
            .entry(login.attempt_id.clone())
            .or_insert_with(|| login.clone());
        Ok(Completion::Recorded)
    }
    async fn save_challenge(
        &self,
        _kind: Challenge,
        id_hash: &str,
        user_id: Uuid,
        expires_at_millis: i64,
    ) -> Result<(), StoreError> {
        lock(&self.challenges).insert(id_hash.to_owned(), (user_id, expires_at_millis));
        Ok(())
    }
    async fn is_trusted(
        &self,
        trust_hash: &str,
        user_id: Uuid,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        Ok(lock(&self.trusts)
            .get(trust_hash)
            .is_some_and(|(owner, expires)| *owner == user_id && *expires > now_millis))
    }
}

#[async_trait]
impl AuthorizationCodes for MemoryCodeStore {
    async fn save(&self, code: &StoredAuthorizationCode) -> Result<(), StoreError> {
        lock(&self.authorization_codes).insert(
            code.code_hash.clone(),
            MemoryAuthorizationCode {
                code: code.clone(),
                used_by: None,
                issued_refresh_token: None,
                reused: false,
            },
        );
        Ok(())
    }
    async fn redeem(
        &self,
        code_hash: &str,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<Redemption, StoreError> {
        let mut codes = lock(&self.authorization_codes);
        let Some(entry) = codes.get_mut(code_hash) else {
            return Ok(Redemption::NotFound);
        };
        match entry.used_by.as_deref() {
            Some(by) if by != attempt_id => {
                entry.reused = true;
                Ok(Redemption::Reused {
                    issued_refresh_token: entry.issued_refresh_token,
                })
            }
            _ if entry.code.expires_at_millis <= now_millis => Ok(Redemption::NotFound),
            _ => {
                entry.used_by = Some(attempt_id.to_owned());
                Ok(Redemption::Redeemed(entry.code.clone()))
            }
        }
    }

    async fn record_issued(
        &self,
        code_hash: &str,
        attempt_id: &str,
        refresh_token_id: Uuid,
    ) -> Result<bool, StoreError> {
        let mut codes = lock(&self.authorization_codes);
        match codes.get_mut(code_hash) {
            Some(entry) if entry.used_by.as_deref() == Some(attempt_id) && !entry.reused => {
                entry.issued_refresh_token = Some(refresh_token_id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// An authorization code as [`AuthorizationCodes`] keeps it.
#[derive(Debug)]
pub struct MemoryAuthorizationCode {
    pub code: StoredAuthorizationCode,
    pub used_by: Option<String>,
    pub issued_refresh_token: Option<Uuid>,
    pub reused: bool,
}

/// Refresh tokens in memory: the families and revocations of a [`MemoryCodeStore`], the users of
/// a directory.
pub struct MemoryRefreshTokens {
    pub codes: Arc<MemoryCodeStore>,
    pub directory: Arc<dyn Directory>,
}

#[async_trait]
impl RefreshTokens for MemoryRefreshTokens {
    async fn find(&self, names: &RefreshTokenNames) -> Result<RefreshRecords, StoreError> {
        let revoked_before = {
            let revocations = lock(&self.codes.revocations);
            [
                RevocationScope::User(names.user_id),
                RevocationScope::UserApplication(names.user_id, names.application_id),
                RevocationScope::Application(names.application_id),
            ]
            .iter()
            .filter_map(|scope| revocations.get(scope).copied())
            .max()
        };
        let token = lock(&self.codes.refresh_tokens).get(&names.id).cloned();
        Ok(RefreshRecords {
            token,
            user: self.directory.user(names.user_id).await?,
            revoked_before,
        })
    }
    async fn rotate(
        &self,
        read: &StoredRefreshToken,
        next: &crate::ports::NextToken,
    ) -> Result<Rotation, StoreError> {
        let mut tokens = lock(&self.codes.refresh_tokens);
        match tokens.get_mut(&read.id) {
            Some(family) if family.token_hash == next.hash => Ok(Rotation::Rotated),
            Some(family) if family.token_hash == read.token_hash => {
                let replaced = std::mem::replace(&mut family.token_hash, next.hash.clone());
                // The same last few as the DynamoDB store's ring of slots.
                let slot = (family.rotations % crate::ports::ROTATIONS_REMEMBERED) as usize;
                match family.rotated.get_mut(slot) {
                    Some(old) => *old = replaced,
                    None => family.rotated.push(replaced),
                }
                family.rotations += 1;
                family.expires_at_millis = next.expires_at_millis;
                family.rotated_at_millis = Some(next.rotated_at_millis);
                family.grace_seal = next.grace_seal.clone();
                Ok(Rotation::Rotated)
            }
            other => Ok(Rotation::NotCurrent(other.cloned().map(Box::new))),
        }
    }
    async fn extend(
        &self,
        id: Uuid,
        presented_hash: &str,
        expires_at_millis: i64,
    ) -> Result<bool, StoreError> {
        let mut tokens = lock(&self.codes.refresh_tokens);
        match tokens.get_mut(&id) {
            Some(family) if family.token_hash == presented_hash => {
                family.expires_at_millis = expires_at_millis;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn token(&self, id: Uuid) -> Result<Option<StoredRefreshToken>, StoreError> {
        Ok(lock(&self.codes.refresh_tokens).get(&id).cloned())
    }
    async fn delete(&self, id: Uuid) -> Result<(), StoreError> {
        lock(&self.codes.refresh_tokens).remove(&id);
        Ok(())
    }
    async fn revoke_all(&self, scope: RevocationScope, at_millis: i64) -> Result<(), StoreError> {
        lock(&self.codes.revocations).insert(scope, at_millis);
        Ok(())
    }
}

impl MemoryDirectory {
    /// A directory holding everything `kickstart` provisions.
    pub fn from_kickstart(kickstart: crate::kickstart::Kickstart) -> Self {
        let directory = Self::default();
        *lock(&directory.published) = kickstart.published();
        kickstart
            .keys
            .into_iter()
            .for_each(|k| directory.add_signing_key(k));
        kickstart
            .tenants
            .into_iter()
            .for_each(|t| directory.add_tenant(t));
        kickstart
            .applications
            .into_iter()
            .for_each(|a| directory.add_application(a));
        lock(&directory.api_keys).extend(kickstart.api_keys);
        kickstart
            .users
            .into_iter()
            .for_each(|u| directory.add_user(u));
        lock(&directory.email_templates)
            .extend(kickstart.email_templates.into_iter().map(|t| (t.id, t)));
        lock(&directory.message_templates)
            .extend(kickstart.message_templates.into_iter().map(|t| (t.id, t)));
        directory
    }
}

/// The three functions' services in memory, wired as the functions wire the real ones: one
/// directory loaded from `kickstart`, one code store for codes and sessions, one [`Outbox`] for
/// email and SMS, the wall clock and the OS random source. Tests and benchmarks replace what
/// they need (`world.login.clock = …`).
pub struct MemoryServices {
    pub start: crate::start::StartServices,
    pub send: crate::send::SendServices,
    pub login: crate::login::LoginServices,
    pub refresh: crate::refresh::RefreshServices,
    pub codes: Arc<MemoryCodeStore>,
    pub outbox: Arc<Outbox>,
}

pub fn services(kickstart: crate::kickstart::Kickstart) -> MemoryServices {
    let directory: Arc<dyn Directory> = Arc::new(MemoryDirectory::from_kickstart(kickstart));
    let codes = Arc::new(MemoryCodeStore::default());
    let outbox = Arc::new(Outbox::default());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let random: Arc<dyn Random> = Arc::new(OsRandom);
    let signer = Arc::new(crate::tokens::Signer::default());
    MemoryServices {
        start: crate::start::StartServices {
            directory: directory.clone(),
            codes: codes.clone(),
            clock: clock.clone(),
            random: random.clone(),
        },
        send: crate::send::SendServices {
            directory: directory.clone(),
            codes: codes.clone(),
            rate_limiter: Arc::new(MemoryRateLimiter::default()),
            suppressions: Arc::new(MemorySuppressions::default()),
            mailer: outbox.clone(),
            sms: outbox.clone(),
            clock: clock.clone(),
            random: random.clone(),
            settings: Arc::new(crate::send::DeliverySettings::default()),
        },
        login: crate::login::LoginServices {
            directory: directory.clone(),
            codes: codes.clone(),
            sessions: codes.clone(),
            signer: signer.clone(),
            clock: clock.clone(),
            random: random.clone(),
        },
        refresh: crate::refresh::RefreshServices {
            tokens: Arc::new(MemoryRefreshTokens {
                codes: codes.clone(),
                directory: directory.clone(),
            }),
            directory,
            signer,
            clock,
            random,
        },
        codes,
        outbox,
    }
}
