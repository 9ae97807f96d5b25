//! Authorization codes: `AUTHCODE#{sha256(code)}` items in the Codes table, written by the landing
//! page's click and used up by `/oauth2/token` with one conditional write.

use async_trait::async_trait;
use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::item::*;
use super::keys::authorization_code_key;
use super::{condition_failed, sdk_error, DynamoStore};
use crate::model::StoredAuthorizationCode;
use crate::ports::{AuthorizationCodes, StoreError};

#[async_trait]
impl AuthorizationCodes for DynamoStore {
    /// A put that never overwrites: codes are 256 random bits, so an existing item means a bug,
    /// unless it is this very item: the SDK's retry of a put that got through.
    async fn save(&self, code: &StoredAuthorizationCode) -> Result<(), StoreError> {
        let mut item = doc_item(authorization_code_key(&code.code_hash), code)?;
        item.insert(
            "expiresAt".to_owned(),
            AttributeValue::N(code.expires_at_millis.to_string()),
        );
        item.insert(
            TTL.to_owned(),
            AttributeValue::N((code.expires_at_millis / 1000 + 1).to_string()),
        );
        let saved = self
            .client
            .put_item()
            .table_name(&self.tables.codes)
            .set_item(Some(item.clone()))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match saved {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) && existing_item(&e) == Some(&item) => Ok(()),
            Err(e) => Err(sdk_error("save authorization code", e)),
        }
    }

    /// Uses the code up, once ([`DynamoStore::use_once`]).
    async fn redeem(
        &self,
        code_hash: &str,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<Option<StoredAuthorizationCode>, StoreError> {
        self.use_once(
            authorization_code_key(code_hash),
            None,
            Default::default(),
            attempt_id,
            now_millis,
            "redeem authorization code",
        )
        .await?
        .map(|item| read_doc(&item, "redeem authorization code"))
        .transpose()
    }
}

/// The item a conditional put found in its way.
fn existing_item<R>(error: &SdkError<PutItemError, R>) -> Option<&HashMap<String, AttributeValue>> {
    match error.as_service_error() {
        Some(PutItemError::ConditionalCheckFailedException(failed)) => failed.item.as_ref(),
        _ => None,
    }
}
