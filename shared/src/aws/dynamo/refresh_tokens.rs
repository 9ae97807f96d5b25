//! Refresh tokens: one item per login (the family) in the Codes table, with the hash of its
//! current token, the hashes it replaced and its expiry beside the document, so that rotation is
//! one conditional update; and revocations by user, user and application, or application, each
//! one small item that an exchange reads in the same round trip as the token and its user (the
//! application's eventually consistent, and kept a while per container:
//! [`crate::refresh::ApplicationRevocations`]). The exchange's write to the family goes in that
//! round trip too ([`writes`]).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use uuid::Uuid;

use super::item::*;
use super::keys::*;
use super::{build_error, retry, sdk_error, DynamoStore};
use crate::model::StoredRefreshToken;
use crate::ports::{
    NextToken, PresentedWrite, PresentedWritten, RefreshRecords, RefreshTokens, RevocationScope,
    Rotation, StoreError, ROTATIONS_REMEMBERED,
};
use crate::session::RefreshTokenNames;

mod writes;

/// The family's current token hash, the hashes it replaced, its expiry and its tenant: what
/// conditions and updates touch, beside the document.
pub(super) const TOKEN_HASH: &str = "tokenHash";
/// The replaced hashes, a ring of [`ROTATIONS_REMEMBERED`] slots `rotated0`, `rotated1`, …:
/// rotation `n` writes slot `n % ROTATIONS_REMEMBERED`, so the item never grows past them.
const ROTATED: &str = "rotated";
/// How many rotations the family had: the next slot.
const ROTATIONS: &str = "rotations";
/// When the family was last rotated (epoch millis), and with a grace period the current token
/// sealed under the one that rotation replaced.
const ROTATED_AT: &str = "lastRotatedAt";
const GRACE_SEAL: &str = "graceSeal";
const EXPIRES_AT: &str = "expiresAt";
/// When the family started (epoch millis, also in the document): what an exchange's write beside
/// its reads conditions a slid expiry on, so that it never passes the maximum lifetime.
const START: &str = "startInstant";
const TENANT_ID: &str = "tenantId";
/// A revocation item's attribute: every token started at or before it is revoked.
const ALL: &str = "all";

fn application_attribute(application: Uuid) -> String {
    format!("app{}", application.simple())
}

/// The item a login writes for its refresh token.
pub fn refresh_token_item(
    token: &StoredRefreshToken,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let mut item = owned_by(doc_item(refresh_token_key(token.id), token)?, token.user_id);
    item.insert(
        TOKEN_HASH.to_owned(),
        AttributeValue::S(token.token_hash.clone()),
    );
    item.insert(
        TENANT_ID.to_owned(),
        AttributeValue::S(token.tenant_id.to_string()),
    );
    item.insert(
        EXPIRES_AT.to_owned(),
        AttributeValue::N(token.expires_at_millis.to_string()),
    );
    item.insert(
        START.to_owned(),
        AttributeValue::N(token.start_instant.to_string()),
    );
    item.insert(TTL.to_owned(), ttl(token.expires_at_millis));
    Ok(item)
}

fn ttl(expires_at_millis: i64) -> AttributeValue {
    AttributeValue::N((expires_at_millis / 1000 + 1).to_string())
}

/// A family's document with what its item keeps beside it.
fn read_family(
    item: &HashMap<String, AttributeValue>,
    operation: &'static str,
) -> Result<StoredRefreshToken, StoreError> {
    let mut token: StoredRefreshToken = read_doc(item, operation)?;
    if let Some(hash) = item.get(TOKEN_HASH).and_then(|v| v.as_s().ok()) {
        token.token_hash = hash.clone();
    }
    if let Some(expires) = item
        .get(EXPIRES_AT)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
    {
        token.expires_at_millis = expires;
    }
    token.rotated = (0..ROTATIONS_REMEMBERED)
        .filter_map(|slot| item.get(&format!("{ROTATED}{slot}")))
        .filter_map(|v| v.as_s().ok().cloned())
        .collect();
    token.rotations = item
        .get(ROTATIONS)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    token.rotated_at_millis = millis(Some(item), ROTATED_AT);
    token.grace_seal = item.get(GRACE_SEAL).and_then(|v| v.as_s().ok()).cloned();
    Ok(token)
}

fn millis(item: Option<&HashMap<String, AttributeValue>>, name: &str) -> Option<i64> {
    item?.get(name)?.as_n().ok()?.parse().ok()
}

fn pk_of(item: &HashMap<String, AttributeValue>) -> Option<&String> {
    item.get(PK).and_then(|v| v.as_s().ok())
}

#[async_trait]
impl RefreshTokens for DynamoStore {
    /// One `BatchGetItem` over both tables, strongly consistent: the family and the user's
    /// revocations (Codes), the user (Directory).
    async fn find(&self, names: &RefreshTokenNames) -> Result<RefreshRecords, StoreError> {
        let family_key = refresh_token_key(names.id);
        let user_revocations = user_revocation_key(names.user_id);
        let codes_keys = [family_key.clone(), user_revocations.clone()];
        let wanted = [
            (self.tables.codes.clone(), codes_keys.map(key_map).to_vec()),
            (
                self.tables.directory.clone(),
                vec![key_map(user_key(names.user_id))],
            ),
        ];
        let mut requests = HashMap::new();
        for (table, keys) in wanted {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(build_error("find refresh token"))?;
            requests.insert(table, request);
        }
        // DynamoDB may leave keys unprocessed under load: ask again for those only.
        let items = retry::until_processed("find refresh token", requests, |requests| async {
            let output = self
                .client
                .batch_get_item()
                .set_request_items(Some(requests))
                .send()
                .await
                .map_err(|e| sdk_error("find refresh token", e))?;
            let found: Vec<_> = output
                .responses
                .unwrap_or_default()
                .into_values()
                .flatten()
                .collect();
            // Asked again strongly consistent, whatever the answer echoes: a stale family would
            // refuse the token its last rotation issued.
            let left: HashMap<_, _> = output
                .unprocessed_keys
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, left)| !left.keys.is_empty())
                .map(|(table, mut left)| {
                    left.consistent_read = Some(true);
                    (table, left)
                })
                .collect();
            Ok((found, (!left.is_empty()).then_some(left)))
        })
        .await?;
        let item = |key: &(String, &'static str)| items.iter().find(|i| pk_of(i) == Some(&key.0));
        let token = item(&family_key)
            .map(|i| read_family(i, "find refresh token"))
            .transpose()?;
        let user = item(&user_key(names.user_id))
            .map(|i| read_user(i, "find refresh token"))
            .transpose()?;
        let by_user = item(&user_revocations);
        let revoked_before = [
            millis(by_user, ALL),
            millis(by_user, &application_attribute(names.application_id)),
        ]
        .into_iter()
        .flatten()
        .max();
        Ok(RefreshRecords {
            token,
            user,
            revoked_before,
        })
    }

    /// One eventually consistent read (half a read unit, and a partition serves twice as many
    /// of them as of strongly consistent ones), by `BatchGetItem`: what the functions that
    /// refresh are granted on the revocations already.
    async fn application_revoked_before(
        &self,
        application: Uuid,
    ) -> Result<Option<i64>, StoreError> {
        let key = application_revocation_key(application);
        let request = KeysAndAttributes::builder()
            .keys(key_map(key))
            .consistent_read(false)
            .build()
            .map_err(build_error("find application revocation"))?;
        let table = &self.tables.codes;
        let items =
            retry::until_processed("find application revocation", request, |request| async {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error("find application revocation", e))?;
                let found = output
                    .responses
                    .and_then(|mut r| r.remove(table))
                    .unwrap_or_default();
                let left = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(table))
                    .filter(|k| !k.keys.is_empty());
                Ok((found, left))
            })
            .await?;
        Ok(millis(items.first(), ALL))
    }

    async fn write_presented(
        &self,
        write: &PresentedWrite,
    ) -> Result<PresentedWritten, StoreError> {
        writes::write_presented(self, write).await
    }

    async fn put_back(
        &self,
        before: &StoredRefreshToken,
        written_hash: &str,
    ) -> Result<(), StoreError> {
        writes::put_back(self, before, written_hash).await
    }

    async fn rotate(
        &self,
        family: &StoredRefreshToken,
        next: &NextToken,
        expires_at_millis: i64,
    ) -> Result<Rotation, StoreError> {
        writes::rotate(self, family, next, expires_at_millis).await
    }

    async fn extend(
        &self,
        family: &StoredRefreshToken,
        expires_at_millis: i64,
    ) -> Result<bool, StoreError> {
        writes::extend(self, family, expires_at_millis).await
    }

    async fn token(&self, id: Uuid) -> Result<Option<StoredRefreshToken>, StoreError> {
        self.get_read(
            &self.tables.codes,
            refresh_token_key(id),
            "get refresh token",
            read_family,
        )
        .await
    }

    async fn delete(&self, id: Uuid) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(refresh_token_key(id))))
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("delete refresh token", e))
    }

    async fn revoke_all(&self, scope: RevocationScope, at_millis: i64) -> Result<(), StoreError> {
        let (key, attribute, owner) = match scope {
            RevocationScope::User(user) => (user_revocation_key(user), ALL.to_owned(), Some(user)),
            RevocationScope::UserApplication(user, app) => (
                user_revocation_key(user),
                application_attribute(app),
                Some(user),
            ),
            RevocationScope::Application(app) => {
                (application_revocation_key(app), ALL.to_owned(), None)
            }
        };
        let update = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(key)))
            .expression_attribute_names("#at", attribute)
            .expression_attribute_values(":at", AttributeValue::N(at_millis.to_string()));
        // A user's revocations are the user's: a hard delete removes them with the rest.
        let update = match owner {
            Some(user) => update
                .update_expression("SET #at = :at, #user = :user")
                .expression_attribute_names("#user", USER_ID)
                .expression_attribute_values(":user", AttributeValue::S(user.to_string())),
            None => update.update_expression("SET #at = :at"),
        };
        update
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("revoke refresh tokens", e))
    }
}
