//! The Codes table in memory: pending codes and their counted attempts ([`PendingCodes`],
//! [`CodeStore`]) and what a login writes ([`Sessions`]).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use uuid::Uuid;

use super::authorization_codes::MemoryAuthorizationCode;
use super::lock;
use crate::codes;
use crate::login_id::IdentityKey;
use crate::model::{LoginRecord, PendingCode, StoredRefreshToken};
use crate::ports::{
    AttemptLimits, Challenge, CodeStore, CompletedLogin, Completion, Consumed, DeliveryMark,
    LoginAhead, PendingCodes, Presented, PriorLogins, RevocationScope, Sessions, StoreError,
    WrittenAhead,
};

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
    /// Login records by session id (a retried attempt records once, as DynamoDB's idempotency
    /// token makes it); keyed so that recording stays constant-time however many there are.
    pub logins: Mutex<HashMap<Uuid, LoginRecord>>,
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
        // As in DynamoDB: the superseded code stays, invalid because the pointer moved on.
        lock(&self.codes).insert(code.code_hash.clone(), code.clone());
        lock(&self.latest).insert(code.user_id, code.code_hash.clone());
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
        let newest = |code: &PendingCode| {
            lock(&self.latest).get(&code.user_id).map(String::as_str) == Some(presented.code_hash)
        };
        let matches = match presented.one_time_code_hash {
            None => expected.is_none() && newest(code),
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
                if !newest(code) {
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
    ) -> Result<DeliveryMark, StoreError> {
        let mut mark = DeliveryMark::default();
        if let Some(code) = lock(&self.codes).get_mut(code_hash) {
            if !code.delivered_to.contains(identity) {
                code.delivered_to.push(identity.clone());
                mark.added_identity = true;
            }
            if let Some(fallback) = fallback_code_hash {
                mark.set_fallback = code.fallback_code_hash.is_none();
                code.fallback_code_hash = Some(fallback.to_owned());
            }
        }
        Ok(mark)
    }
    async fn unmark_delivered(
        &self,
        code_hash: &str,
        identity: &IdentityKey,
        mark: DeliveryMark,
    ) -> Result<(), StoreError> {
        if let Some(code) = lock(&self.codes).get_mut(code_hash) {
            if mark.added_identity {
                code.delivered_to.retain(|delivered| delivered != identity);
            }
            if mark.set_fallback {
                code.fallback_code_hash = None;
            }
        }
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
            .entry(login.record.session_id)
            .or_insert_with(|| login.record.clone());
        Ok(Completion::Recorded)
    }
    async fn undo_login(&self, login: &CompletedLogin) -> Result<(), StoreError> {
        if let Some(token) = &login.refresh_token {
            lock(&self.refresh_tokens).remove(&token.id);
        }
        lock(&self.logins).remove(&login.record.session_id);
        Ok(())
    }
    /// The memory store keeps no last logins: the record and the token only.
    async fn record_login_ahead(&self, ahead: &LoginAhead) -> Result<WrittenAhead, StoreError> {
        if let Some(token) = &ahead.refresh_token {
            lock(&self.refresh_tokens).insert(token.id, token.clone());
        }
        lock(&self.logins).insert(ahead.record.session_id, ahead.record.clone());
        Ok(WrittenAhead::State(PriorLogins::default()))
    }
    async fn undo_login_ahead(
        &self,
        ahead: &LoginAhead,
        _written: &WrittenAhead,
    ) -> Result<(), StoreError> {
        if let Some(token) = &ahead.refresh_token {
            lock(&self.refresh_tokens).remove(&token.id);
        }
        lock(&self.logins).remove(&ahead.record.session_id);
        Ok(())
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
