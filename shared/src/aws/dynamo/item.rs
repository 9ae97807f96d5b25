//! Entities in and out of items: each is its JSON document in `doc`, beside the keys and the few
//! attributes a condition or an update needs at the top level.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::keys::{identity_key, login_record_key, user_key, user_state_key};
use crate::login_id::IdentityKey;
use crate::model::{LoginRecord, PendingCode, User};
use crate::ports::StoreError;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const DOC: &str = "doc";
pub const TTL: &str = "ttl";
/// The user item's revision: a fresh random id at every write.
pub(super) const REVISION: &str = "revision";
/// The user an item belongs to, on every item that does: the `byUser` index's key, by which a
/// hard delete finds everything of the user in both tables.
pub const USER_ID: &str = "userId";
/// The sparse global secondary index of both tables on [`USER_ID`] (keys only).
pub const BY_USER: &str = "byUser";
/// The code item's string set of the identities it was delivered to (`{type}#{value}`).
pub(super) const DELIVERED_TO: &str = "deliveredTo";

/// The Directory items that map each identity of `user` to the user, each with a copy of it.
pub fn identity_items(user: &User) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
    user.identities
        .iter()
        .map(|identity| {
            let key = IdentityKey {
                kind: identity.kind,
                value: identity.value.clone(),
            };
            // The key and the owner only: a copy of the user here would make every write of
            // the user (a login's included) write it again, once per identity.
            Ok(owned_by(
                key_map(identity_key(user.tenant_id, &key)),
                user.id,
            ))
        })
        .collect()
}

pub fn key_map((pk, sk): (String, &'static str)) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(pk)),
        (SK.to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

/// The user item: the user's document and `revision`, which names this write of it. Whoever
/// rewrites a user it read makes that conditional on the revision it read.
pub fn user_item(
    user: &User,
    revision: &str,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let mut item = owned_by(doc_item(user_key(user.id), user)?, user.id);
    item.insert(REVISION.to_owned(), AttributeValue::S(revision.to_owned()));
    Ok(item)
}

/// `item` marked as the user's ([`USER_ID`]), so that deleting the user deletes it.
pub fn owned_by(
    mut item: HashMap<String, AttributeValue>,
    user_id: uuid::Uuid,
) -> HashMap<String, AttributeValue> {
    item.insert(USER_ID.to_owned(), AttributeValue::S(user_id.to_string()));
    item
}

/// The state item's copy of the user item's revision: a login's write of the state item is
/// conditioned on it, so a login never records itself on a user that changed since it read it.
pub(super) const STATE_REVISION: &str = "revision";
/// The state item's instant of the user's last login (epoch ms).
pub(super) const LAST_LOGIN: &str = "lastLogin";

/// The state item's attribute of the last login to one application.
pub(super) fn application_login(application_id: uuid::Uuid) -> String {
    format!("app{application_id}")
}

/// The state item's attribute of the last login with one identity.
pub(super) fn identity_login(identity: &IdentityKey) -> String {
    format!("id{}", identity_text(identity))
}

/// The user (its state merged in, [`merge_user_state`]) among `items` read in one call.
pub(super) fn user_among(
    items: &[HashMap<String, AttributeValue>],
    id: uuid::Uuid,
    operation: &'static str,
) -> Result<Option<User>, StoreError> {
    let with_pk = |pk: &str| {
        items
            .iter()
            .find(|item| item.get(PK).and_then(|v| v.as_s().ok()).map(String::as_str) == Some(pk))
    };
    let Some(item) = with_pk(&user_key(id).0) else {
        return Ok(None);
    };
    let mut user = read_user(item, operation)?;
    if let Some(state) = with_pk(&user_state_key(id).0) {
        merge_user_state(&mut user, state);
    }
    Ok(Some(user))
}

/// The last logins the user's state item keeps (a login writes them there, not in the user's
/// document, so that its write units do not grow with the user): the user's, each
/// registration's and each identity's. The revision stays the user item's.
pub(super) fn merge_user_state(user: &mut User, state: &HashMap<String, AttributeValue>) {
    let instant = |name: &str| {
        state
            .get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
    };
    if let Some(at) = instant(LAST_LOGIN) {
        user.last_login_instant = Some(at);
    }
    for registration in &mut user.registrations {
        if let Some(at) = instant(&application_login(registration.application_id)) {
            registration.last_login_instant = Some(at);
        }
    }
    for identity in &mut user.identities {
        let key = IdentityKey {
            kind: identity.kind,
            value: identity.value.clone(),
        };
        if let Some(at) = instant(&identity_login(&key)) {
            identity.last_login_instant = Some(at);
        }
    }
}

/// The write every writer of the user item makes beside it, in the same transaction: the state
/// item's copy of the revision (an update, which keeps the last logins; it creates the item,
/// owned by the user, for a user that has none yet).
pub fn user_state_revision(
    table: &str,
    user_id: uuid::Uuid,
    revision: &str,
) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
    let update = aws_sdk_dynamodb::types::Update::builder()
        .table_name(table)
        .set_key(Some(key_map(user_state_key(user_id))))
        .update_expression("SET #revision = :revision, #user = :user")
        .expression_attribute_names("#revision", STATE_REVISION)
        .expression_attribute_names("#user", USER_ID)
        .expression_attribute_values(":revision", AttributeValue::S(revision.to_owned()))
        .expression_attribute_values(":user", AttributeValue::S(user_id.to_string()))
        .build()
        .map_err(|e| StoreError::new("write user state", e))?;
    Ok(aws_sdk_dynamodb::types::TransactWriteItem::builder()
        .update(update)
        .build())
}

/// A user item's document, with the revision it was read at.
pub(super) fn read_user(
    item: &HashMap<String, AttributeValue>,
    operation: &'static str,
) -> Result<User, StoreError> {
    let mut user: User = read_doc(item, operation)?;
    user.revision = item.get(REVISION).and_then(|v| v.as_s().ok()).cloned();
    Ok(user)
}

/// An item holding `value` as its JSON document, under `key`.
pub fn doc_item<T: Serialize>(
    key: (String, &'static str),
    value: &T,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let json = serde_json::to_string(value).map_err(|e| StoreError::new("serialize", e))?;
    let mut item = key_map(key);
    item.insert(DOC.to_owned(), AttributeValue::S(json));
    Ok(item)
}

pub(super) fn read_doc<T: DeserializeOwned>(
    item: &HashMap<String, AttributeValue>,
    operation: &'static str,
) -> Result<T, StoreError> {
    let json = item
        .get(DOC)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::new(operation, "item has no document"))?;
    serde_json::from_str(json).map_err(|e| StoreError::new(operation, e))
}

/// A numeric attribute of an item.
pub(super) fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<u32> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// A code item's document with what the item keeps beside it: where it was delivered.
pub(super) fn read_pending(
    item: &HashMap<String, AttributeValue>,
    operation: &'static str,
) -> Result<PendingCode, StoreError> {
    let mut pending: PendingCode = read_doc(item, operation)?;
    pending.delivered_to = item
        .get(DELIVERED_TO)
        .and_then(|v| v.as_ss().ok())
        .map(|set| set.iter().filter_map(|s| parse_identity(s)).collect())
        .unwrap_or_default();
    Ok(pending)
}

/// `{type}#{value}`: an identity a code was delivered to, as the code item's string set holds it.
pub(super) fn identity_text(identity: &IdentityKey) -> String {
    format!("{}#{}", identity.kind.as_str(), identity.value)
}

pub(super) fn parse_identity(text: &str) -> Option<IdentityKey> {
    let (kind, value) = text.split_once('#')?;
    Some(IdentityKey {
        kind: crate::login_id::IdentityType::parse(kind)?,
        value: value.to_owned(),
    })
}

/// FusionAuth's login record retention: 365 days.
const DEFAULT_LOGIN_RECORD_RETENTION_DAYS: i64 = 365;

/// How long login records are kept, in days: `LOGIN_RECORD_RETENTION_DAYS` (template.yaml's
/// `LoginRecordRetentionDays`), read once per container; [`DEFAULT_LOGIN_RECORD_RETENTION_DAYS`]
/// when unset or not a positive number of days.
fn login_record_retention_days() -> i64 {
    static DAYS: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *DAYS.get_or_init(|| {
        retention_days(std::env::var("LOGIN_RECORD_RETENTION_DAYS").ok().as_deref())
    })
}

fn retention_days(setting: Option<&str>) -> i64 {
    setting
        .and_then(|days| days.trim().parse::<i64>().ok())
        .filter(|days| *days > 0)
        .unwrap_or(DEFAULT_LOGIN_RECORD_RETENTION_DAYS)
}

/// The Directory item of one login, the user's (a hard delete removes it), with a `ttl` the
/// retention after the login: DynamoDB deletes it then, at no write cost.
pub fn login_record_item(
    record: &LoginRecord,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let mut item = owned_by(doc_item(login_record_key(record), record)?, record.user_id);
    let expires = record.instant / 1000 + login_record_retention_days() * 86_400;
    item.insert(TTL.to_owned(), AttributeValue::N(expires.to_string()));
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_record_expires_a_year_after_the_login_unless_configured_otherwise() {
        let record = LoginRecord {
            user_id: uuid::Uuid::from_u128(1),
            application_id: None,
            instant: 1_795_870_800_123,
            ip_address: None,
            session_id: uuid::Uuid::from_u128(2),
        };
        let item = login_record_item(&record).unwrap();
        assert_eq!(
            item.get(TTL)
                .and_then(|v| v.as_n().ok())
                .map(String::as_str),
            Some((1_795_870_800 + 365 * 86_400).to_string().as_str())
        );
        assert_eq!(
            item.get(USER_ID)
                .and_then(|v| v.as_s().ok())
                .map(String::as_str),
            Some("00000000-0000-0000-0000-000000000001")
        );
        assert_eq!(retention_days(Some("30")), 30);
        for unset in [None, Some(""), Some("0"), Some("-5"), Some("a year")] {
            assert_eq!(retention_days(unset), 365, "{unset:?}");
        }
    }
}
