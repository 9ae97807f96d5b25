//! The send rate limits: one conditional counter per key and window.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{key_map, TTL};
use super::keys::rate_key;
use super::{condition_failed, sdk_error, DynamoStore};
use crate::ports::{rate_window, RateLimiter, StoreError};

#[async_trait]
impl RateLimiter for DynamoStore {
    /// One conditional `UpdateItem` per event: the count and the check are one atomic step, so
    /// concurrent sends cannot overshoot the limit.
    async fn try_acquire(
        &self,
        key: &str,
        limit: u32,
        period_seconds: u32,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let window = rate_window(now_millis, period_seconds);
        let expires = (window + 1) * i64::from(period_seconds.max(1));
        let counted = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(rate_key(key, window))))
            .update_expression("ADD #count :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            .expression_attribute_values(":ttl", AttributeValue::N(expires.to_string()))
            .send()
            .await;
        match counted {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error("count send", e)),
        }
    }
}
