//! Pending browser logins: `PENDINGLOGIN#{sha256(cookie)}` items in the Codes table (with TTL).
//! The request and the code's hashes are the item's document, written once; what changes, the
//! status and the count of wrong answers, are attributes of their own, each change one
//! conditional write that leaves the writing attempt's mark (`writeMark`), so that the SDK's
//! retry of a write that got through finds its mark instead of applying twice.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::item::*;
use super::keys::pending_login_key;
use super::{condition_failed, sdk_error, DynamoStore};
use crate::model::{PendingLogin, PendingLoginStatus};
use crate::ports::{PendingLogins, StoreError};

const STATUS: &str = "status";
const WRONG_TRIES: &str = "wrongTries";
const EXPIRES_AT: &str = "expiresAt";
const MARK: &str = "writeMark";

/// The document with the item's own status and count.
fn read(item: &HashMap<String, AttributeValue>) -> Result<PendingLogin, StoreError> {
    let mut login: PendingLogin = read_doc(item, "read pending login")?;
    if let Some(status) = item
        .get(STATUS)
        .and_then(|v| v.as_s().ok())
        .and_then(|s| PendingLoginStatus::parse(s))
    {
        login.status = status;
    }
    login.wrong_tries = number(item, WRONG_TRIES).unwrap_or(0);
    Ok(login)
}

fn mark_of(item: Option<&HashMap<String, AttributeValue>>) -> Option<&str> {
    item?.get(MARK)?.as_s().ok().map(String::as_str)
}

#[async_trait]
impl PendingLogins for DynamoStore {
    /// A put that never overwrites (the cookie is 256 random bits), unless it is this very
    /// item: the SDK's retry of a put that got through.
    async fn create(&self, login: &PendingLogin) -> Result<(), StoreError> {
        let mut item = doc_item(pending_login_key(&login.id_hash), login)?;
        item.insert(
            STATUS.to_owned(),
            AttributeValue::S(login.status.as_str().to_owned()),
        );
        item.insert(
            WRONG_TRIES.to_owned(),
            AttributeValue::N(login.wrong_tries.to_string()),
        );
        item.insert(
            EXPIRES_AT.to_owned(),
            AttributeValue::N(login.expires_at_millis.to_string()),
        );
        item.insert(
            TTL.to_owned(),
            AttributeValue::N((login.expires_at_millis / 1000 + 1).to_string()),
        );
        self.put_new_code_item(item, "create pending login").await
    }

    async fn find(
        &self,
        id_hash: &str,
        now_millis: i64,
    ) -> Result<Option<PendingLogin>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(pending_login_key(id_hash))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("read pending login", e))?;
        match found.item {
            Some(item) => {
                let login = read(&item)?;
                Ok((login.expires_at_millis > now_millis).then_some(login))
            }
            None => Ok(None),
        }
    }

    async fn transition(
        &self,
        id_hash: &str,
        from: PendingLoginStatus,
        to: PendingLoginStatus,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let moved = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(pending_login_key(id_hash))))
            .update_expression("SET #status = :to, #mark = :attempt")
            .condition_expression(
                "attribute_exists(pk) AND #expires > :now \
                 AND (#status = :from OR (#status = :to AND #mark = :attempt))",
            )
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#mark", MARK)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":from", AttributeValue::S(from.as_str().to_owned()))
            .expression_attribute_values(":to", AttributeValue::S(to.as_str().to_owned()))
            .expression_attribute_values(":attempt", AttributeValue::S(attempt_id.to_owned()))
            .expression_attribute_values(":now", AttributeValue::N(now_millis.to_string()))
            .send()
            .await;
        match moved {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error("move pending login", e)),
        }
    }

    async fn count_wrong(
        &self,
        id_hash: &str,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<Option<u32>, StoreError> {
        let counted = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(pending_login_key(id_hash))))
            .update_expression("SET #wrong = #wrong + :one, #mark = :attempt")
            .condition_expression(
                "attribute_exists(pk) AND #expires > :now AND #status = :waiting \
                 AND (attribute_not_exists(#mark) OR #mark <> :attempt)",
            )
            .expression_attribute_names("#wrong", WRONG_TRIES)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#mark", MARK)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(
                ":waiting",
                AttributeValue::S(PendingLoginStatus::Waiting.as_str().to_owned()),
            )
            .expression_attribute_values(":attempt", AttributeValue::S(attempt_id.to_owned()))
            .expression_attribute_values(":now", AttributeValue::N(now_millis.to_string()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match counted {
            Ok(output) => Ok(output
                .attributes
                .as_ref()
                .and_then(|item| number(item, WRONG_TRIES))),
            Err(e) if condition_failed(&e) => {
                // This attempt's own count, applied before a lost response, stands.
                let old = e.as_service_error().and_then(|s| match s {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(f) => f.item.as_ref(),
                    _ => None,
                });
                Ok((mark_of(old) == Some(attempt_id))
                    .then(|| old.and_then(|item| number(item, WRONG_TRIES)))
                    .flatten())
            }
            Err(e) => Err(sdk_error("count a wrong answer", e)),
        }
    }
}
