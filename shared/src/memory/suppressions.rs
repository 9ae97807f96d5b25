//! The suppression list in memory: addresses (by hash) that bounced or complained.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::ports::{StoreError, SuppressionReason, Suppressions};

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
