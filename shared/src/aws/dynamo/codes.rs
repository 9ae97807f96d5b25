//! Codes: the pending code items, the user's pointer to the newest one, and the one-time codes
//! compared against each, counted before they are compared (the counting is in the `attempts`
//! module).

mod attempts;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem};

use super::item::*;
use super::keys::*;
use super::{build_error, cancellation_reasons, condition_failed, sdk_error, DynamoStore};
use crate::login_id::IdentityKey;
use crate::model::PendingCode;
use crate::ports::{AttemptLimits, CodeStore, Consumed, PendingCodes, Presented, StoreError};
use attempts::UserCount;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

/// Whether a transaction was cancelled because its pointer check failed (a concurrent start moved
/// the pointer), as opposed to a conflict or throttling, which are failures to report.
fn pointer_moved<R>(error: &SdkError<TransactWriteItemsError, R>) -> bool {
    cancellation_reasons(error).is_some_and(|reasons| {
        reasons
            .iter()
            .any(|reason| reason.code() == Some("ConditionalCheckFailed"))
    })
}

/// The condition every use of a code shares: it exists, has not expired and, when the login
/// names an application, was started for it (`:app`). Codes written before the application was
/// kept beside the document have no `applicationId` and match any.
fn live_code(application_id: Option<Uuid>) -> String {
    match application_id {
        Some(_) => format!("attribute_exists(pk) AND expiresAt > :now AND {OF_THE_APPLICATION}"),
        None => "attribute_exists(pk) AND expiresAt > :now".to_owned(),
    }
}

/// A code of the login's application (`:app`), or of before codes kept theirs.
const OF_THE_APPLICATION: &str = "(attribute_not_exists(applicationId) OR applicationId = :app)";

impl DynamoStore {
    /// Marks the code used by `attempt_id` if it is live, of the login's application, and
    /// `condition` holds; the code as it now is, else `NotFound`.
    async fn use_code(
        &self,
        presented: &Presented<'_>,
        condition: &str,
        one_time_code_hash: Option<&str>,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<Consumed, StoreError> {
        let mut values = with_application(presented.application_id).unwrap_or_default();
        if let Some(otc) = one_time_code_hash {
            values.insert(":otc".to_owned(), AttributeValue::S(otc.to_owned()));
        }
        let condition = match presented.application_id {
            Some(_) => format!("{OF_THE_APPLICATION} AND {condition}"),
            None => condition.to_owned(),
        };
        let used = self
            .use_once(
                code_key(presented.code_hash),
                Some(&condition),
                values,
                attempt_id,
                now_millis,
                "consume code",
            )
            .await?;
        match used {
            Some(item) => read_pending(&item, "consume code").map(|c| Consumed::Code(Box::new(c))),
            None => Ok(Consumed::NotFound),
        }
    }
}

const ONE_TIME_CODE_HASH: &str = "otcHash";
const FALLBACK_HASH: &str = "fbHash";

/// The `:app` value [`live_code`] names, when it names one. Set first: the builder's
/// `set_expression_attribute_values` replaces the whole map.
fn with_application(application_id: Option<Uuid>) -> Option<HashMap<String, AttributeValue>> {
    application_id.map(|id| HashMap::from([(":app".to_owned(), AttributeValue::S(id.to_string()))]))
}

impl DynamoStore {
    /// Points the user at the new code; answers the code it replaces. The pointer outlives the
    /// code by a budget window, so that the user's count of one-time codes compared survives
    /// until the window that counted them is over.
    async fn point_at(
        &self,
        code: &PendingCode,
        limits: AttemptLimits,
    ) -> Result<Option<String>, StoreError> {
        let pointer_ttl = expires_seconds(code) + i64::from(limits.per_user_window_seconds);
        Ok(self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(latest_code_key(code.user_id))))
            .update_expression("SET codeHash = :new, #ttl = :ttl, #user = :user")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_names("#user", USER_ID)
            .expression_attribute_values(":user", AttributeValue::S(code.user_id.to_string()))
            .expression_attribute_values(":new", AttributeValue::S(code.code_hash.clone()))
            .expression_attribute_values(":ttl", AttributeValue::N(pointer_ttl.to_string()))
            .return_values(ReturnValue::UpdatedOld)
            .send()
            .await
            .map_err(|e| sdk_error("point at new code", e))?
            .attributes
            .and_then(|mut a| a.remove("codeHash"))
            .and_then(|v| v.as_s().ok().cloned()))
    }

    /// The start's transaction: put the code, check the pointer still names it, delete the code
    /// it supersedes.
    fn code_writes(
        &self,
        code: &PendingCode,
        superseded: Option<&str>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let table = &self.tables.codes;
        let mut writes = vec![
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(code_item(code)?))
                        .build()
                        .map_err(build_error("put code"))?,
                )
                .build(),
            // A start that raced ahead of this one has already moved the pointer: then this code
            // is superseded before it exists, and is never written.
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(table)
                        .set_key(Some(key_map(latest_code_key(code.user_id))))
                        .condition_expression("codeHash = :new")
                        .expression_attribute_values(
                            ":new",
                            AttributeValue::S(code.code_hash.clone()),
                        )
                        .build()
                        .map_err(build_error("check pointer"))?,
                )
                .build(),
        ];
        if let Some(old) = superseded {
            writes.push(
                TransactWriteItem::builder()
                    .delete(
                        Delete::builder()
                            .table_name(table)
                            .set_key(Some(key_map(code_key(old))))
                            .build()
                            .map_err(build_error("delete superseded code"))?,
                    )
                    .build(),
            );
        }
        Ok(writes)
    }
}

/// The code's expiry in epoch seconds, rounded up: its `ttl`.
fn expires_seconds(code: &PendingCode) -> i64 {
    (code.expires_at_millis + 999) / 1000
}

/// The code item, with top-level copies of what login's conditions check.
fn code_item(code: &PendingCode) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let mut item = owned_by(doc_item(code_key(&code.code_hash), code)?, code.user_id);
    item.insert(
        TTL.to_owned(),
        AttributeValue::N(expires_seconds(code).to_string()),
    );
    item.insert(
        "expiresAt".to_owned(),
        AttributeValue::N(code.expires_at_millis.to_string()),
    );
    if let Some(otc) = &code.one_time_code_hash {
        item.insert(
            ONE_TIME_CODE_HASH.to_owned(),
            AttributeValue::S(otc.clone()),
        );
    }
    if let Some(fallback) = &code.fallback_code_hash {
        item.insert(
            FALLBACK_HASH.to_owned(),
            AttributeValue::S(fallback.clone()),
        );
    }
    item.insert(
        "applicationId".to_owned(),
        AttributeValue::S(code.application_id.to_string()),
    );
    Ok(item)
}

#[async_trait]
impl PendingCodes for DynamoStore {
    async fn save_pending(
        &self,
        code: &PendingCode,
        limits: AttemptLimits,
    ) -> Result<(), StoreError> {
        let previous = self.point_at(code, limits).await?;
        let superseded = previous.as_deref().filter(|old| *old != code.code_hash);
        let written = self
            .client
            .transact_write_items()
            .set_transact_items(Some(self.code_writes(code, superseded)?))
            .send()
            .await;
        match written {
            Ok(_) => Ok(()),
            Err(e) if pointer_moved(&e) => {
                // Superseded by a concurrent start: the code we answer with is already invalid,
                // exactly as if that start had come right after this one. The code this start
                // replaced must still go.
                if let Some(old) = superseded {
                    self.client
                        .delete_item()
                        .table_name(&self.tables.codes)
                        .set_key(Some(key_map(code_key(old))))
                        .send()
                        .await
                        .map_err(|e| sdk_error("delete superseded code", e))?;
                }
                Ok(())
            }
            Err(e) => Err(sdk_error("write code", e)),
        }
    }
}

#[async_trait]
impl CodeStore for DynamoStore {
    async fn consume(
        &self,
        presented: Presented<'_>,
        attempt_id: &str,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<Consumed, StoreError> {
        let Some(one_time_code_hash) = presented.one_time_code_hash else {
            // Nothing to compare: the code alone, if it is a link's code (no one-time code).
            return self
                .use_code(
                    &presented,
                    "attribute_not_exists(otcHash)",
                    None,
                    attempt_id,
                    now_millis,
                )
                .await;
        };
        // Count the comparison before making it, against the code and then against its user:
        // each count is one conditional write, so of any number of concurrent attempts at most
        // `limits` get past them.
        let Some(reserved) = self
            .count_attempt_on_code(&presented, now_millis, limits)
            .await?
        else {
            return Ok(Consumed::NotFound);
        };
        match self
            .count_attempt_on_user(reserved.user_id, presented.code_hash, now_millis, limits)
            .await?
        {
            UserCount::Counted => {}
            UserCount::BudgetSpent => return Ok(Consumed::AttemptBudgetSpent),
            UserCount::Superseded => return Ok(Consumed::NotFound),
        }
        let matches = match (presented.fallback, reserved.one_time_code_hash.as_deref()) {
            (_, Some(expected)) => crate::codes::same_secret(expected, one_time_code_hash),
            // A link's code takes any one-time code beside it; a fallback needs its own.
            (false, None) => true,
            (true, None) => false,
        };
        let condition = match presented.fallback {
            true => "fbHash = :otc",
            false => "(attribute_not_exists(otcHash) OR otcHash = :otc)",
        };
        if matches {
            return self
                .use_code(
                    &presented,
                    condition,
                    Some(one_time_code_hash),
                    attempt_id,
                    now_millis,
                )
                .await;
        }
        if reserved.attempts >= limits.per_code && !presented.fallback {
            // The last comparison this code had, and wrong: it is used up, kept with its count
            // (TTL removes it) unless a right one among the last few already used it.
            self.client
                .update_item()
                .table_name(&self.tables.codes)
                .set_key(Some(key_map(code_key(presented.code_hash))))
                .update_expression("SET usedBy = :spent")
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(usedBy)")
                .expression_attribute_values(":spent", AttributeValue::S("attempts".to_owned()))
                .send()
                .await
                .ok();
        }
        Ok(Consumed::NotFound)
    }

    async fn pending(&self, code_hash: &str) -> Result<Option<PendingCode>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(code_key(code_hash))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("get code", e))?;
        output
            .item
            .filter(|item| !item.contains_key("usedBy"))
            .map(|item| read_pending(&item, "get code"))
            .transpose()
    }

    async fn newest(&self, user_id: Uuid) -> Result<Option<String>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(latest_code_key(user_id))))
            .consistent_read(true)
            .projection_expression("codeHash")
            .send()
            .await
            .map_err(|e| sdk_error("get newest code", e))?;
        Ok(output
            .item
            .and_then(|mut item| item.remove("codeHash"))
            .and_then(|v| v.as_s().ok().cloned()))
    }

    async fn mark_delivered(
        &self,
        code_hash: &str,
        identity: &IdentityKey,
        fallback_code_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        // A set: two sends to one address are one delivery, and concurrent sends both count. The
        // fallback is the same value for every send of the code (one address), so a retried or
        // repeated write changes nothing.
        let (update, fallback) = match fallback_code_hash {
            Some(hash) => (
                format!("ADD #delivered :identity SET {FALLBACK_HASH} = :fallback"),
                Some(HashMap::from([(
                    ":fallback".to_owned(),
                    AttributeValue::S(hash.to_owned()),
                )])),
            ),
            None => ("ADD #delivered :identity".to_owned(), None),
        };
        self.client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(code_key(code_hash))))
            .update_expression(update)
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#delivered", DELIVERED_TO)
            .set_expression_attribute_values(fallback)
            .expression_attribute_values(
                ":identity",
                AttributeValue::Ss(vec![identity_text(identity)]),
            )
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if condition_failed(&e) {
                    // Superseded while it was being sent: nothing left to verify with it.
                    Ok(())
                } else {
                    Err(sdk_error("record delivery", e))
                }
            })
    }
}
