//! The send rate limits: one conditional counter per key and window.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::item::{key_map, TTL, USER_ID};
use super::keys::rate_key;
use super::{
    carries_mark, condition_failed, item_on_failure, sdk_error, write_mark, DynamoStore,
    NOT_YET_COUNTED, WRITE_MARK,
};
use crate::ports::{rate_window, RateLimiter, StoreError};

#[async_trait]
impl RateLimiter for DynamoStore {
    /// One conditional `UpdateItem` per event: the count and the check are one atomic step, so
    /// concurrent sends cannot overshoot the limit. The write carries its own mark: the SDK's
    /// retry of a count that got through finds it and answers as the first did, counting once.
    async fn try_acquire(
        &self,
        key: &str,
        owner: Option<uuid::Uuid>,
        limit: u32,
        period_seconds: u32,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let window = rate_window(now_millis, period_seconds);
        let expires = (window + 1) * i64::from(period_seconds.max(1));
        let mark = write_mark();
        let update = self.client.update_item();
        let update = match owner {
            Some(user) => update
                .update_expression("ADD #count :one SET #ttl = :ttl, #mark = :mark, #user = :user")
                .expression_attribute_names("#user", USER_ID)
                .expression_attribute_values(":user", AttributeValue::S(user.to_string())),
            None => update.update_expression("ADD #count :one SET #ttl = :ttl, #mark = :mark"),
        };
        let counted = update
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(rate_key(key, window))))
            .condition_expression(format!(
                "(attribute_not_exists(#count) OR #count < :limit) AND {NOT_YET_COUNTED}"
            ))
            .expression_attribute_names("#mark", WRITE_MARK)
            .expression_attribute_values(":mark", mark.clone())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            .expression_attribute_values(":ttl", AttributeValue::N(expires.to_string()))
            .send()
            .await;
        match counted {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(carries_mark(item_on_failure(&e), &mark)),
            Err(e) => Err(sdk_error("count send", e)),
        }
    }
}
