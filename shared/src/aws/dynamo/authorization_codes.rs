//! Authorization codes: `AUTHCODE#{sha256(code)}` items in the Codes table, written by the landing
//! page's click and used up by `/oauth2/token` with one conditional write.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::item::*;
use super::keys::authorization_code_key;
use super::{sdk_error, DynamoStore};
use crate::model::StoredAuthorizationCode;
use crate::ports::{AuthorizationCodes, StoreError};

#[async_trait]
impl AuthorizationCodes for DynamoStore {
    /// A put that never overwrites: codes are 256 random bits, so an existing item means a bug.
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
        self.client
            .put_item()
            .table_name(&self.tables.codes)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| sdk_error("save authorization code", e))?;
        Ok(())
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
