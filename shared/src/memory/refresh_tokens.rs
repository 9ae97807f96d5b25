//! Refresh token families in memory: found with their revocations, written beside that read
//! (and put back), rotated, extended, deleted and revoked by scope.

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::codes::MemoryCodeStore;
use super::lock;
use crate::model::StoredRefreshToken;
use crate::ports::{
    Directory, NewExpiry, NextToken, PresentedWrite, PresentedWritten, RefreshRecords,
    RefreshTokens, RevocationScope, Rotation, StoreError, ROTATIONS_REMEMBERED,
};
use crate::session::RefreshTokenNames;

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
    async fn application_revoked_before(
        &self,
        application: Uuid,
    ) -> Result<Option<i64>, StoreError> {
        Ok(lock(&self.codes.revocations)
            .get(&RevocationScope::Application(application))
            .copied())
    }
    async fn write_presented(
        &self,
        write: &PresentedWrite,
    ) -> Result<PresentedWritten, StoreError> {
        let mut tokens = lock(&self.codes.refresh_tokens);
        let Some(family) = tokens.get_mut(&write.id) else {
            return Ok(PresentedWritten::NotWritten(None));
        };
        // The DynamoDB store's conditions, one by one.
        let (expires, started_late_enough) = match write.expiry {
            NewExpiry::Kept => (family.expires_at_millis, true),
            NewExpiry::Slid(expires) => (expires, true),
            NewExpiry::SlidWithinMaximum {
                expires_at_millis,
                started_since,
            } => (expires_at_millis, family.start_instant >= started_since),
        };
        let writable = family.token_hash == write.presented_hash
            && family.expires_at_millis > write.now_millis
            && started_late_enough
            && (write.next.is_none() || family.rotations == u64::from(write.rotation));
        if !writable {
            return Ok(PresentedWritten::NotWritten(Some(Box::new(family.clone()))));
        }
        let before = family.clone();
        family.expires_at_millis = expires;
        if let Some(next) = &write.next {
            replace(family, next);
        }
        Ok(PresentedWritten::Written(Box::new(before)))
    }
    async fn put_back(
        &self,
        before: &StoredRefreshToken,
        written_hash: &str,
    ) -> Result<(), StoreError> {
        let mut tokens = lock(&self.codes.refresh_tokens);
        if let Some(family) = tokens
            .get_mut(&before.id)
            .filter(|family| family.token_hash == written_hash)
        {
            family.clone_from(before);
        }
        Ok(())
    }
    async fn rotate(
        &self,
        read: &StoredRefreshToken,
        next: &NextToken,
        expires_at_millis: i64,
    ) -> Result<Rotation, StoreError> {
        let mut tokens = lock(&self.codes.refresh_tokens);
        match tokens.get_mut(&read.id) {
            Some(family) if family.token_hash == next.hash => Ok(Rotation::Rotated),
            Some(family) if family.token_hash == read.token_hash => {
                replace(family, next);
                family.expires_at_millis = expires_at_millis;
                Ok(Rotation::Rotated)
            }
            other => Ok(Rotation::NotCurrent(other.cloned().map(Box::new))),
        }
    }
    async fn extend(
        &self,
        read: &StoredRefreshToken,
        expires_at_millis: i64,
    ) -> Result<bool, StoreError> {
        let mut tokens = lock(&self.codes.refresh_tokens);
        match tokens.get_mut(&read.id) {
            Some(family) if family.token_hash == read.token_hash => {
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

/// The family's current token replaced by `next`: the replaced hash into the same last few slots
/// as the DynamoDB store's ring.
fn replace(family: &mut StoredRefreshToken, next: &NextToken) {
    let replaced = std::mem::replace(&mut family.token_hash, next.hash.clone());
    let slot = (family.rotations % ROTATIONS_REMEMBERED) as usize;
    match family.rotated.get_mut(slot) {
        Some(old) => *old = replaced,
        None => family.rotated.push(replaced),
    }
    family.rotations += 1;
    family.rotated_at_millis = Some(next.rotated_at_millis);
    family.grace_seal.clone_from(&next.grace_seal);
}
