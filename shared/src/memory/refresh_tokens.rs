//! Refresh token families in memory: found with their revocations, rotated, extended, deleted
//! and revoked by scope.

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::codes::MemoryCodeStore;
use super::lock;
use crate::model::StoredRefreshToken;
use crate::ports::{
    Directory, RefreshRecords, RefreshTokens, RevocationScope, Rotation, StoreError,
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
