//! What a login writes: the user, its identity items, the login record and the refresh token in
//! one transaction; the two-factor, change-password and verification ids; trust lookups.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use uuid::Uuid;

use super::item::*;
use super::keys::*;
use super::{cancellation_reasons, sdk_error, DynamoStore};
use crate::ports::{Challenge, CompletedLogin, Completion, Sessions, StoreError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

/// Whether a transaction was cancelled because its first item's condition failed.
fn first_check_failed<R>(error: &SdkError<TransactWriteItemsError, R>) -> bool {
    cancellation_reasons(error)
        .and_then(|reasons| reasons.first())
        .is_some_and(|reason| reason.code() == Some("ConditionalCheckFailed"))
}

#[async_trait]
impl Sessions for DynamoStore {
    /// One transaction: the updated user and its identity items, the login record and the
    /// refresh token, on the condition that the user item is still the revision the login read
    /// (a lock or a deactivation written meanwhile is never undone). Every write is a plain put
    /// of this login's items and the transaction carries the attempt id as its idempotency
    /// token, so a retry writes nothing new.
    async fn complete_login(&self, login: &CompletedLogin) -> Result<Completion, StoreError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::new("complete login", e);
        let put = |table: &str, item| {
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(build)
        };
        let mut user = user_item(&login.user, &login.new_revision)?;
        let mut user_put = Put::builder()
            .table_name(&self.tables.directory)
            .set_item(Some(std::mem::take(&mut user)));
        // Our own revision is there already when this is the SDK's retry of a write that got
        // through: writing the same again is harmless.
        user_put = user_put
            .expression_attribute_names("#revision", REVISION)
            .expression_attribute_values(":new", AttributeValue::S(login.new_revision.clone()));
        user_put = match &login.user.revision {
            Some(read) => user_put
                .condition_expression("#revision = :read OR #revision = :new")
                .expression_attribute_values(":read", AttributeValue::S(read.clone())),
            None => user_put.condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(#revision) OR #revision = :new)",
            ),
        };
        let mut writes = vec![
            TransactWriteItem::builder()
                .put(user_put.build().map_err(build)?)
                .build(),
            put(&self.tables.directory, login_record_item(&login.record)?)?,
        ];
        for item in identity_items(&login.user)? {
            writes.push(put(&self.tables.directory, item)?);
        }
        if let Some(token) = &login.refresh_token {
            writes.push(put(
                &self.tables.codes,
                super::refresh_tokens::refresh_token_item(token)?,
            )?);
        }
        let written = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .client_request_token(&login.attempt_id)
            .send()
            .await;
        match written {
            Ok(_) => Ok(Completion::Recorded),
            // The user's revision check is the first item; any other cancellation is a failure
            // to report.
            Err(e) if first_check_failed(&e) => Ok(Completion::UserChanged),
            Err(e) => Err(sdk_error("complete login", e)),
        }
    }

    async fn save_challenge(
        &self,
        kind: Challenge,
        id_hash: &str,
        user_id: Uuid,
        expires_at_millis: i64,
    ) -> Result<(), StoreError> {
        let mut item = owned_by(key_map(challenge_key(kind, id_hash)), user_id);
        item.insert(
            "expiresAt".to_owned(),
            AttributeValue::N(expires_at_millis.to_string()),
        );
        item.insert(
            TTL.to_owned(),
            AttributeValue::N((expires_at_millis / 1000 + 1).to_string()),
        );
        self.client
            .put_item()
            .table_name(&self.tables.codes)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("save challenge", e))
    }

    async fn is_trusted(
        &self,
        trust_hash: &str,
        user_id: Uuid,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(trust_key(trust_hash))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("get trust", e))?
            .item;
        Ok(item.is_some_and(|item| {
            let owner = item.get(USER_ID).and_then(|v| v.as_s().ok()).cloned();
            let expires = item
                .get("expiresAt")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<i64>().ok());
            owner == Some(user_id.to_string()) && expires.is_some_and(|e| e > now_millis)
        }))
    }
}
