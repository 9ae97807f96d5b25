//! The [`UserStore`] writes: each change of a user and its identity items is one
//! `TransactWriteItems`, whose conditions keep an identity to one user of a tenant and a user
//! from being changed by two writers at once. Import is in `import`, the hard delete's sweep of
//! everything else of the user in `sweep`.

mod import;
mod sweep;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use uuid::Uuid;

use super::item::*;
use super::keys::*;
use super::{build_error, cancellation_reasons, sdk_error, DynamoStore};
use crate::login_id::{IdentityKey, IdentityType};
use crate::model::User;
use crate::ports::{StoreError, UserStore, UserWrite};

/// The condition of a write of an identity item: nobody has it, or this user (`:me`) has.
const FREE_OR_MINE: &str = "attribute_not_exists(pk) OR userId = :me";
/// The condition of a new item: its key is free.
const NEW: &str = "attribute_not_exists(pk)";

/// How often a transaction cancelled only by another transaction on its items is tried again.
const CONFLICT_TRIES: u32 = 5;

/// What a user transaction came to.
pub(super) enum Transacted {
    Written,
    /// Cancelled: these parts (by index) failed their condition.
    Refused(Vec<usize>),
}

/// A `Put` part of a transaction, with its condition (`:me` names `user`).
fn put(
    table: &str,
    item: HashMap<String, AttributeValue>,
    condition: &str,
    me: Option<Uuid>,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition);
    let put = match me {
        Some(user) => put.expression_attribute_values(":me", AttributeValue::S(user.to_string())),
        None => put,
    };
    Ok(TransactWriteItem::builder()
        .put(put.build().map_err(build_error("write user"))?)
        .build())
}

/// A `Delete` part of a transaction, on the condition that the item is free or the user's.
fn delete_mine(
    table: &str,
    key: (String, &'static str),
    user: Uuid,
) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key_map(key)))
        .condition_expression(FREE_OR_MINE)
        .expression_attribute_values(":me", AttributeValue::S(user.to_string()))
        .build()
        .map_err(build_error("write user"))?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// The user item's write on the condition that it is still the revision `current` was read at
/// (or already the one this write gives it: the SDK's retry of a write that got through).
fn user_put(
    table: &str,
    current: &User,
    next: &User,
    new_revision: &str,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(user_item(next, new_revision)?))
        .expression_attribute_names("#revision", REVISION)
        .expression_attribute_values(":new", AttributeValue::S(new_revision.to_owned()));
    let put = match &current.revision {
        Some(read) => put
            .condition_expression("#revision = :read OR #revision = :new")
            .expression_attribute_values(":read", AttributeValue::S(read.clone())),
        None => put.condition_expression(
            "attribute_exists(pk) AND (attribute_not_exists(#revision) OR #revision = :new)",
        ),
    };
    Ok(TransactWriteItem::builder()
        .put(put.build().map_err(build_error("write user"))?)
        .build())
}

/// The user item's delete on the condition that it is still the revision `user` was read at.
fn user_delete(table: &str, user: &User) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key_map(user_key(user.id))))
        .expression_attribute_names("#revision", REVISION);
    let delete = match &user.revision {
        Some(read) => delete
            .condition_expression("#revision = :read")
            .expression_attribute_values(":read", AttributeValue::S(read.clone())),
        None => {
            delete.condition_expression("attribute_exists(pk) AND attribute_not_exists(#revision)")
        }
    };
    Ok(TransactWriteItem::builder()
        .delete(delete.build().map_err(build_error("delete user"))?)
        .build())
}

/// The identities of `user`, each with its tenant (the identity item's key).
fn identity_keys(user: &User) -> Vec<(Uuid, IdentityKey, IdentityType)> {
    user.identity_keys()
        .into_iter()
        .map(|key| (user.tenant_id, key.clone(), key.kind))
        .collect()
}

/// A fresh revision: every write of a user names itself.
pub(super) fn new_revision() -> String {
    Uuid::new_v4().to_string()
}

/// The parts of a new user's transaction: the user item, then one identity item per identity,
/// each on the condition that its key is free.
pub(super) fn creation_writes(
    table: &str,
    user: &User,
    revision: &str,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    let mut writes = vec![put(table, user_item(user, revision)?, NEW, None)?];
    for item in identity_items(user)? {
        writes.push(put(table, item, NEW, None)?);
    }
    // Last: the refusals are read by index from the user item on.
    writes.push(user_state_revision(table, user.id, revision)?);
    Ok(writes)
}

/// What a refused creation of `user` came to, its parts from `first` on: the id is taken
/// (`Conflict`) or these identities are.
pub(super) fn creation_refusal(user: &User, first: usize, failed: &[usize]) -> UserWrite {
    if failed.contains(&first) {
        return UserWrite::Conflict;
    }
    UserWrite::Taken(
        user.identities
            .iter()
            .enumerate()
            .filter(|(i, _)| failed.contains(&(first + 1 + i)))
            .map(|(_, identity)| identity.kind)
            .collect(),
    )
}

impl DynamoStore {
    /// The revisions the user items of `ids` are at (absent users left out, users stored without
    /// one at `None`): whether a create
    /// refused for its id is the SDK's retry of that very create, which got through (the
    /// transaction's token makes DynamoDB answer such a retry as the first, for ten minutes;
    /// this holds beyond them, and where tokens are not honoured).
    pub(super) async fn stored_revisions(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Option<String>>, StoreError> {
        let keys = ids.iter().map(|id| key_map(user_key(*id))).collect();
        let mut revisions = HashMap::new();
        for item in self.batch_get_directory(keys).await? {
            let user = read_user(&item, "read written users")?;
            revisions.insert(user.id, user.revision);
        }
        Ok(revisions)
    }

    /// Runs one transaction. A transaction cancelled only because another transaction was
    /// writing the same items is tried again (with a fresh token: the SDK's own retries of one
    /// attempt carry the same, so a write that got through is not made twice).
    pub(super) async fn transact(
        &self,
        writes: Vec<TransactWriteItem>,
        operation: &'static str,
    ) -> Result<Transacted, StoreError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let written = self
                .client
                .transact_write_items()
                .set_transact_items(Some(writes.clone()))
                .client_request_token(Uuid::new_v4().to_string())
                .send()
                .await;
            let error = match written {
                Ok(_) => return Ok(Transacted::Written),
                Err(e) => e,
            };
            let codes: Vec<Option<&str>> = cancellation_reasons(&error)
                .map(|reasons| reasons.iter().map(|r| r.code()).collect())
                .unwrap_or_default();
            let refused: Vec<usize> = codes
                .iter()
                .enumerate()
                .filter(|(_, code)| **code == Some("ConditionalCheckFailed"))
                .map(|(i, _)| i)
                .collect();
            if !refused.is_empty() {
                return Ok(Transacted::Refused(refused));
            }
            let conflicted = codes.contains(&Some("TransactionConflict"));
            if !conflicted || tries >= CONFLICT_TRIES {
                return Err(sdk_error(operation, error));
            }
            tokio::time::sleep(super::retry::backoff(tries)).await;
        }
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn create(&self, user: &User) -> Result<UserWrite, StoreError> {
        let revision = new_revision();
        let writes = creation_writes(&self.tables.directory, user, &revision)?;
        let failed = match self.transact(writes, "create user").await? {
            Transacted::Written => return Ok(UserWrite::Written),
            Transacted::Refused(failed) => failed,
        };
        if failed.contains(&0)
            && self.stored_revisions(&[user.id]).await?.get(&user.id) == Some(&Some(revision))
        {
            return Ok(UserWrite::Written);
        }
        Ok(creation_refusal(user, 0, &failed))
    }

    async fn replace(&self, current: &User, next: &User) -> Result<UserWrite, StoreError> {
        if current.id != next.id {
            return Err(StoreError::new("replace user", "a user's id never changes"));
        }
        let table = &self.tables.directory;
        let revision = new_revision();
        let mut writes = vec![user_put(table, current, next, &revision)?];
        // Gained and kept identities alike: free, or this user's already.
        for item in identity_items(next)? {
            writes.push(put(table, item, FREE_OR_MINE, Some(next.id))?);
        }
        let kept = identity_keys(next);
        let lost: Vec<_> = identity_keys(current)
            .into_iter()
            .filter(|(tenant, key, _)| !kept.iter().any(|(t, k, _)| t == tenant && k == key))
            .collect();
        for (tenant, key, _) in &lost {
            writes.push(delete_mine(table, identity_key(*tenant, key), current.id)?);
        }
        // Unconditional and last: it never refuses, and the refusals are read by index.
        writes.push(user_state_revision(table, next.id, &revision)?);
        let failed = match self.transact(writes, "replace user").await? {
            Transacted::Written => return Ok(UserWrite::Written),
            Transacted::Refused(failed) => failed,
        };
        let identities = next.identities.len();
        // The user changed since it was read, or an identity it had was not its own any more:
        // either way what was read is not what is stored.
        if failed.iter().any(|&i| i == 0 || i > identities) {
            return Ok(UserWrite::Conflict);
        }
        Ok(creation_refusal(next, 0, &failed))
    }

    async fn delete(&self, user: &User) -> Result<UserWrite, StoreError> {
        let table = &self.tables.directory;
        let mut writes = vec![user_delete(table, user)?];
        for (tenant, key, _) in identity_keys(user) {
            writes.push(delete_mine(table, identity_key(tenant, &key), user.id)?);
        }
        // With the user: a login that read the user conditions its write of the state item on
        // the revision it read, which a deleted user no longer has.
        writes.push(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(table)
                        .set_key(Some(key_map(user_state_key(user.id))))
                        .build()
                        .map_err(build_error("delete user"))?,
                )
                .build(),
        );
        match self.transact(writes, "delete user").await? {
            Transacted::Written => {}
            // Changed since it was read; gone is what was asked (the SDK's retry of this very
            // delete, or another delete), and the sweep below finishes either.
            Transacted::Refused(failed) if failed.contains(&0) => {
                if !self.stored_revisions(&[user.id]).await?.is_empty() {
                    return Ok(UserWrite::Conflict);
                }
            }
            Transacted::Refused(_) => {
                return Err(StoreError::new(
                    "delete user",
                    "an identity item of the user belongs to another user",
                ))
            }
        }
        // The user is gone, so no login can complete for it (a login's write is conditioned on
        // the user's revision). What it left in both tables goes now; a sweep that fails
        // leaves orphans no one can use, and is an error for the caller to report.
        self.sweep_user(user.id).await?;
        Ok(UserWrite::Written)
    }

    async fn import(&self, users: &[User]) -> Result<Vec<UserWrite>, StoreError> {
        self.import_users(users).await
    }
}
