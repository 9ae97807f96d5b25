//! The suppression list: one `SUPPRESSED#{sha256(address)}` item per address in the Directory
//! table (kept with the directory: it outlives codes and the stack's Codes table).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::item::key_map;
use super::keys::suppressed_key;
use super::{sdk_error, DynamoStore};
use crate::ports::{StoreError, SuppressionReason, Suppressions};

#[async_trait]
impl Suppressions for DynamoStore {
    async fn is_suppressed(&self, address_hash: &str) -> Result<bool, StoreError> {
        let read = self
            .client
            .get_item()
            .table_name(&self.tables.directory)
            .set_key(Some(key_map(suppressed_key(address_hash))))
            .projection_expression("pk")
            .send()
            .await
            .map_err(|e| sdk_error("read suppression", e))?;
        Ok(read.item.is_some())
    }

    async fn suppress(
        &self,
        address_hash: &str,
        reason: SuppressionReason,
        at_millis: i64,
    ) -> Result<(), StoreError> {
        let mut item = key_map(suppressed_key(address_hash));
        item.insert("reason".into(), AttributeValue::S(reason.as_str().into()));
        item.insert("at".into(), AttributeValue::N(at_millis.to_string()));
        self.client
            .put_item()
            .table_name(&self.tables.directory)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error("suppress address", e))?;
        Ok(())
    }
}
