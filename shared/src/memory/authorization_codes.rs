//! OAuth authorization codes in memory, kept by the [`MemoryCodeStore`] as the Codes table
//! keeps them: saved, redeemed once, a second redemption marking the code reused.

use async_trait::async_trait;
use uuid::Uuid;

use super::codes::MemoryCodeStore;
use super::lock;
use crate::model::StoredAuthorizationCode;
use crate::ports::{AuthorizationCodes, Redemption, StoreError};

#[async_trait]
impl AuthorizationCodes for MemoryCodeStore {
    async fn save_issuing(
        &self,
        code: &StoredAuthorizationCode,
        issued_refresh_token: Option<Uuid>,
    ) -> Result<(), StoreError> {
        lock(&self.authorization_codes).insert(
            code.code_hash.clone(),
            MemoryAuthorizationCode {
                code: code.clone(),
                used_by: None,
                issued_refresh_token,
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
}

/// An authorization code as [`AuthorizationCodes`] keeps it.
#[derive(Debug)]
pub struct MemoryAuthorizationCode {
    pub code: StoredAuthorizationCode,
    pub used_by: Option<String>,
    pub issued_refresh_token: Option<Uuid>,
    pub reused: bool,
}
