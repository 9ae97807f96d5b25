//! The hard delete's sweep: every item of the user in both tables, found by the sparse `byUser`
//! index (keys only) and deleted with `BatchWriteItem`, until a query finds nothing new.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use uuid::Uuid;

use crate::aws::dynamo::item::{BY_USER, PK, SK, USER_ID};
use crate::aws::dynamo::{build_error, condition_failed, retry, sdk_error, DynamoStore};
use crate::ports::StoreError;

type Key = HashMap<String, AttributeValue>;

/// How many queries of one table a sweep makes at most: the index is eventually consistent, so
/// a query may still name items just deleted (which count as found already) or miss items
/// written a moment ago (which the next query finds).
const ROUNDS: u32 = 8;
/// `BatchWriteItem` takes 25 requests at most.
const BATCH: usize = 25;

fn text(key: &Key, name: &str) -> String {
    key.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

impl DynamoStore {
    /// Deletes every item of `user_id` in both tables. The user item is not touched (the delete's
    /// transaction removed it under its revision condition, and an index that lags must not
    /// delete a user created again with that id); an identity item is deleted only while it is
    /// still the user's (the address may belong to someone else by now).
    pub(in crate::aws::dynamo) async fn sweep_user(&self, user_id: Uuid) -> Result<(), StoreError> {
        let tables = [self.tables.directory.clone(), self.tables.codes.clone()];
        for table in &tables {
            self.sweep_table(table, user_id).await?;
        }
        Ok(())
    }

    async fn sweep_table(&self, table: &str, user_id: Uuid) -> Result<(), StoreError> {
        let mut seen: HashSet<(String, String)> = HashSet::new();
        for _ in 0..ROUNDS {
            let fresh: Vec<Key> = self
                .keys_of_user(table, user_id)
                .await?
                .into_iter()
                .filter(|key| seen.insert((text(key, PK), text(key, SK))))
                .collect();
            if fresh.is_empty() {
                return Ok(());
            }
            let mut batch = Vec::new();
            for key in fresh {
                let pk = text(&key, PK);
                if pk.starts_with("USER#") {
                    continue;
                }
                if pk.starts_with("IDENTITY#") {
                    self.delete_identity_if_mine(table, key, user_id).await?;
                } else {
                    batch.push(key);
                }
            }
            self.batch_delete(table, batch).await?;
        }
        Err(StoreError::new(
            "delete user",
            "items of the user kept appearing while they were deleted",
        ))
    }

    /// The keys of the user's items in `table`, every page of the index.
    async fn keys_of_user(&self, table: &str, user_id: Uuid) -> Result<Vec<Key>, StoreError> {
        let mut keys = Vec::new();
        let mut start: Option<Key> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(table)
                .index_name(BY_USER)
                .key_condition_expression("#user = :user")
                .expression_attribute_names("#user", USER_ID)
                .expression_attribute_values(":user", AttributeValue::S(user_id.to_string()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("find the user's items", e))?;
            keys.extend(page.items.unwrap_or_default().into_iter().map(|item| {
                item.into_iter()
                    .filter(|(name, _)| name == PK || name == SK)
                    .collect::<Key>()
            }));
            match page.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(keys),
            }
        }
    }

    async fn delete_identity_if_mine(
        &self,
        table: &str,
        key: Key,
        user_id: Uuid,
    ) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(table)
            .set_key(Some(key))
            .condition_expression("#user = :user")
            .expression_attribute_names("#user", USER_ID)
            .expression_attribute_values(":user", AttributeValue::S(user_id.to_string()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            // Gone already, or someone else's now.
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error("delete the user's identity", e)),
        }
    }

    /// Deletes `keys` from `table`, 25 a call, sending again what DynamoDB left unprocessed.
    async fn batch_delete(&self, table: &str, keys: Vec<Key>) -> Result<(), StoreError> {
        for chunk in keys.chunks(BATCH) {
            let pending = chunk
                .iter()
                .map(|key| {
                    let delete = DeleteRequest::builder()
                        .set_key(Some(key.clone()))
                        .build()
                        .map_err(build_error("delete the user's items"))?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            retry::until_processed("delete the user's items", pending, |pending| async {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(table, pending)
                    .send()
                    .await
                    .map_err(|e| sdk_error("delete the user's items", e))?;
                let left = output
                    .unprocessed_items
                    .and_then(|mut u| u.remove(table))
                    .filter(|writes| !writes.is_empty());
                Ok((Vec::<()>::new(), left))
            })
            .await?;
        }
        Ok(())
    }
}
