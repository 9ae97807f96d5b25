//! Authorization codes: `AUTHCODE#{sha256(code)}` items in the Codes table, written by the landing
//! page's click and used up by `/oauth2/token` with one conditional write. The item names the
//! refresh token family its exchange issues from the start; presenting the code again marks it
//! and revokes that family (RFC 6749 4.1.2).

use async_trait::async_trait;
use uuid::Uuid;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::item::*;
use super::keys::authorization_code_key;
use super::{condition_failed, sdk_error, DynamoStore};
use crate::model::StoredAuthorizationCode;
use crate::ports::{AuthorizationCodes, Redemption, StoreError};

/// The refresh token family the code's exchange issued (RFC 6749 4.1.2: revoked on reuse).
const ISSUED_REFRESH_TOKEN: &str = "issuedRefreshToken";
/// When the code was last presented after it was used.
const REUSED_AT: &str = "reusedAt";

#[async_trait]
impl AuthorizationCodes for DynamoStore {
    /// A put that never overwrites: codes are 256 random bits, so an existing item means a bug,
    /// unless it is this very item: the SDK's retry of a put that got through.
    async fn save_issuing(
        &self,
        code: &StoredAuthorizationCode,
        issued_refresh_token: Option<Uuid>,
    ) -> Result<(), StoreError> {
        let mut item = owned_by(
            doc_item(authorization_code_key(&code.code_hash), code)?,
            code.user_id,
        );
        item.insert(
            "expiresAt".to_owned(),
            AttributeValue::N(code.expires_at_millis.to_string()),
        );
        item.insert(
            TTL.to_owned(),
            AttributeValue::N((code.expires_at_millis / 1000 + 1).to_string()),
        );
        if let Some(family) = issued_refresh_token {
            item.insert(
                ISSUED_REFRESH_TOKEN.to_owned(),
                AttributeValue::S(family.to_string()),
            );
        }
        self.put_new_code_item(item, "save authorization code")
            .await
    }

    /// Uses the code up, once ([`DynamoStore::use_once`]); a code used already is marked as
    /// presented again (`reusedAt`) and tells which refresh token family its exchange recorded.
    async fn redeem(
        &self,
        code_hash: &str,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<Redemption, StoreError> {
        let used = self
            .use_once(
                authorization_code_key(code_hash),
                None,
                Default::default(),
                attempt_id,
                now_millis,
                "redeem authorization code",
            )
            .await?;
        if let Some(item) = used {
            return read_doc(&item, "redeem authorization code").map(Redemption::Redeemed);
        }
        let reused = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(authorization_code_key(code_hash))))
            .update_expression("SET #reused = :now")
            .condition_expression("attribute_exists(usedBy) AND usedBy <> :attempt")
            .expression_attribute_names("#reused", REUSED_AT)
            .expression_attribute_values(":now", AttributeValue::N(now_millis.to_string()))
            .expression_attribute_values(":attempt", AttributeValue::S(attempt_id.to_owned()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match reused {
            Ok(output) => Ok(Redemption::Reused {
                issued_refresh_token: output
                    .attributes
                    .as_ref()
                    .and_then(|item| item.get(ISSUED_REFRESH_TOKEN))
                    .and_then(|v| v.as_s().ok())
                    .and_then(|id| Uuid::parse_str(id).ok()),
            }),
            Err(e) if condition_failed(&e) => Ok(Redemption::NotFound),
            Err(e) => Err(sdk_error("mark authorization code reused", e)),
        }
    }
}
