//! SSO sessions: `SSO#{sha256(cookie)}` items in the Codes table, with the session as the
//! document, the refresh token families issued within it as a string set, and a TTL at its
//! expiry. Ending a session marks the item `endedBy` (the end's own mark) instead of deleting
//! it, so that the SDK's retry of an end that got through finds its mark and answers what the
//! session held again, rather than nothing (and a logout would then revoke nothing).

use async_trait::async_trait;
use std::collections::HashMap;
use uuid::Uuid;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::item::*;
use super::keys::sso_session_key;
use super::{condition_failed, sdk_error, DynamoStore};
use crate::model::SsoSession;
use crate::ports::{SsoSessions, StoreError};

/// The string set of the refresh token family ids issued within the session.
const REFRESH_TOKENS: &str = "refreshTokens";
/// The mark of the end that ended the session.
const ENDED_BY: &str = "endedBy";

#[async_trait]
impl SsoSessions for DynamoStore {
    /// A put that never overwrites: the cookie is 256 random bits, so an existing item means a
    /// bug, unless it is this very item: the SDK's retry of a put that got through.
    async fn create(&self, session: &SsoSession) -> Result<(), StoreError> {
        let document = SsoSession {
            refresh_token_ids: Vec::new(),
            ..session.clone()
        };
        let mut item = owned_by(
            doc_item(sso_session_key(&session.id_hash), &document)?,
            session.user_id,
        );
        item.insert(
            TTL.to_owned(),
            AttributeValue::N((session.expires_at_millis / 1000 + 1).to_string()),
        );
        if !session.refresh_token_ids.is_empty() {
            item.insert(
                REFRESH_TOKENS.to_owned(),
                id_set(&session.refresh_token_ids),
            );
        }
        self.put_new_code_item(item, "create SSO session").await
    }

    async fn find(&self, id_hash: &str) -> Result<Option<SsoSession>, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(sso_session_key(id_hash))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("get SSO session", e))?
            .item;
        match item {
            Some(item) if !item.contains_key(ENDED_BY) => read_session(&item).map(Some),
            _ => Ok(None),
        }
    }

    /// A set's `ADD`: the SDK's retry adds nothing more.
    async fn add_refresh_token(
        &self,
        id_hash: &str,
        refresh_token_id: Uuid,
    ) -> Result<(), StoreError> {
        let added = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(sso_session_key(id_hash))))
            .update_expression("ADD #tokens :id")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(#ended)")
            .expression_attribute_names("#tokens", REFRESH_TOKENS)
            .expression_attribute_names("#ended", ENDED_BY)
            .expression_attribute_values(":id", id_set(&[refresh_token_id]))
            .send()
            .await;
        match added {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StoreError::new(
                "add refresh token to SSO session",
                "the session has ended",
            )),
            Err(e) => Err(sdk_error("add refresh token to SSO session", e)),
        }
    }

    /// Marks the session ended, once: of concurrent ends exactly one gets what it held.
    async fn end(&self, id_hash: &str) -> Result<Option<SsoSession>, StoreError> {
        let mark = AttributeValue::S(Uuid::new_v4().to_string());
        let ended = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(sso_session_key(id_hash))))
            .update_expression("SET #ended = :mark")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(#ended) OR #ended = :mark)",
            )
            .expression_attribute_names("#ended", ENDED_BY)
            .expression_attribute_values(":mark", mark)
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match ended {
            Ok(output) => match output.attributes {
                Some(item) => read_session(&item).map(Some),
                None => Ok(None),
            },
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(sdk_error("end SSO session", e)),
        }
    }
}

fn id_set(ids: &[Uuid]) -> AttributeValue {
    AttributeValue::Ss(ids.iter().map(Uuid::to_string).collect())
}

/// The session's document with the refresh token families of its set.
fn read_session(item: &HashMap<String, AttributeValue>) -> Result<SsoSession, StoreError> {
    let mut session: SsoSession = read_doc(item, "read SSO session")?;
    session.refresh_token_ids = item
        .get(REFRESH_TOKENS)
        .and_then(|v| v.as_ss().ok())
        .map(|ids| {
            ids.iter()
                .filter_map(|id| Uuid::parse_str(id).ok())
                .collect()
        })
        .unwrap_or_default();
    Ok(session)
}
