//! Codes: the pending code items, the user's pointer to the newest one, and the one-time codes
//! compared against each, counted before they are compared (the counting is in the `attempts`
//! module).

mod attempts;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use uuid::Uuid;

use async_trait::async_trait;

use super::item::*;
use super::keys::*;
use super::{condition_failed, sdk_error, DynamoStore};
use crate::login_id::IdentityKey;
use crate::model::PendingCode;
use crate::ports::{
    AttemptLimits, CodeStore, Consumed, CountedCode, DeliveryMark, PendingCodes, Presented, Staged,
    StoreError,
};
use attempts::UserCount;

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
    /// Points the user at the new code. The pointer outlives the code by a budget window, so
    /// that the user's count of one-time codes compared survives until the window that counted
    /// them is over. A plain `SET`: a retry, or a concurrent start's, leaves one code named.
    /// Answers the code it named before, if any.
    async fn point_at(
        &self,
        code: &PendingCode,
        limits: AttemptLimits,
    ) -> Result<Option<String>, StoreError> {
        let pointer_ttl = expires_seconds(code) + i64::from(limits.per_user_window_seconds);
        self.client
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
            .map(|output| {
                output
                    .attributes
                    .and_then(|mut old| old.remove("codeHash"))
                    .and_then(|v| v.as_s().ok().cloned())
            })
            .map_err(|e| sdk_error("point at new code", e))
    }

    /// Points the user back at `previous` (or at no code) while the pointer still names `code`,
    /// whose item was not written: a failed start leaves the user's earlier code valid.
    async fn point_back(
        &self,
        code: &PendingCode,
        previous: Option<&str>,
    ) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(latest_code_key(code.user_id))))
            .condition_expression("codeHash = :new")
            .expression_attribute_values(":new", AttributeValue::S(code.code_hash.clone()));
        let request = match previous {
            Some(old) => request
                .update_expression("SET codeHash = :old")
                .expression_attribute_values(":old", AttributeValue::S(old.to_owned())),
            None => request.update_expression("REMOVE codeHash"),
        };
        match request.send().await {
            Ok(_) => Ok(()),
            // A newer start moved the pointer meanwhile: it is that start's now.
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error("point back at earlier code", e)),
        }
    }

    async fn put_code(&self, code: &PendingCode) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.tables.codes)
            .set_item(Some(code_item(code)?))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("write code", e))
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
    /// Two plain writes in one round trip, no transaction: the code item and the user's pointer
    /// to it. The code it supersedes stays until its TTL, invalid because the pointer no longer
    /// names it (every use of a code checks the pointer). Of concurrent starts, the code the
    /// pointer names last is the valid one; the others answered codes that are superseded, as if
    /// that start had come right after them.
    /// If the code's write fails where the pointer's went through, the pointer is put back:
    /// the start answers 500 and the user's earlier code still works.
    async fn save_pending(
        &self,
        code: &PendingCode,
        limits: AttemptLimits,
    ) -> Result<(), StoreError> {
        match tokio::join!(self.put_code(code), self.point_at(code, limits)) {
            (Ok(()), Ok(_)) => Ok(()),
            (Err(failed), Ok(previous)) => {
                // A retried pointer write answers this code itself: the earlier one is unknown.
                let previous = previous.filter(|old| *old != code.code_hash);
                if let Err(error) = self.point_back(code, previous.as_deref()).await {
                    tracing::error!(user_id = %code.user_id, error = %error,
                        "a failed start left the user's pointer at a code never written");
                }
                Err(failed)
            }
            (_, Err(failed)) => Err(failed),
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
        if presented.one_time_code_hash.is_none() {
            // Nothing to compare: the code alone, if it is a link's code (no one-time code).
            // Whether it is still its user's newest the login checks in its read of the user
            // ([`Wanted::newest_code`]); a superseded code is used up all the same.
            return self
                .use_code(
                    &presented,
                    "attribute_not_exists(otcHash)",
                    None,
                    attempt_id,
                    now_millis,
                )
                .await;
        }
        // Count the comparison before making it, against the code and then against its user:
        // each count is one conditional write, so of any number of concurrent attempts at most
        // `limits` get past them.
        let counted = match self
            .begin_consume(presented, attempt_id, now_millis, limits)
            .await?
        {
            Staged::Done(consumed) => return Ok(consumed),
            Staged::Counted(counted) => counted,
        };
        if let Some(refused) = self
            .count_on_user(presented, &counted, now_millis, limits)
            .await?
        {
            return Ok(refused);
        }
        self.finish_consume(presented, &counted, attempt_id, now_millis, limits)
            .await
    }

    async fn begin_consume(
        &self,
        presented: Presented<'_>,
        attempt_id: &str,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<Staged, StoreError> {
        let Some(one_time_code_hash) = presented.one_time_code_hash else {
            return self
                .consume(presented, attempt_id, now_millis, limits)
                .await
                .map(Staged::Done);
        };
        let Some(reserved) = self
            .count_attempt_on_code(&presented, now_millis, limits)
            .await?
        else {
            return Ok(Staged::Done(Consumed::NotFound));
        };
        let matches = match (presented.fallback, reserved.one_time_code_hash.as_deref()) {
            (_, Some(expected)) => crate::codes::same_secret(expected, one_time_code_hash),
            // A link's code takes any one-time code beside it; a fallback needs its own.
            (false, None) => true,
            (true, None) => false,
        };
        Ok(Staged::Counted(CountedCode {
            pending: Box::new(reserved.pending),
            matches,
            attempts: reserved.attempts,
        }))
    }

    async fn count_on_user(
        &self,
        presented: Presented<'_>,
        counted: &CountedCode,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<Option<Consumed>, StoreError> {
        let user = counted.pending.user_id;
        Ok(
            match self
                .count_attempt_on_user(user, presented.code_hash, now_millis, limits)
                .await?
            {
                UserCount::Counted => None,
                UserCount::BudgetSpent => Some(Consumed::AttemptBudgetSpent),
                UserCount::Superseded => Some(Consumed::NotFound),
            },
        )
    }

    async fn finish_consume(
        &self,
        presented: Presented<'_>,
        counted: &CountedCode,
        attempt_id: &str,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<Consumed, StoreError> {
        let condition = match presented.fallback {
            true => "fbHash = :otc",
            false => "(attribute_not_exists(otcHash) OR otcHash = :otc)",
        };
        if counted.matches {
            return self
                .use_code(
                    &presented,
                    condition,
                    presented.one_time_code_hash,
                    attempt_id,
                    now_millis,
                )
                .await;
        }
        if counted.attempts >= limits.per_code && !presented.fallback {
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
    ) -> Result<DeliveryMark, StoreError> {
        // A set: two sends to one address are one delivery, and concurrent sends both count. The
        // fallback is the same value for every send of the code (one address), so a retried or
        // repeated write changes nothing. The old values say what this write added.
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
        let identity_text = identity_text(identity);
        let marked = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(code_key(code_hash))))
            .update_expression(update)
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#delivered", DELIVERED_TO)
            .set_expression_attribute_values(fallback)
            .expression_attribute_values(
                ":identity",
                AttributeValue::Ss(vec![identity_text.clone()]),
            )
            // The whole item as it was (not UPDATED_OLD, which may leave out a set the ADD did
            // not change): whether the identity and the fallback were there before.
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match marked {
            Ok(output) => {
                let old = output.attributes.unwrap_or_default();
                let delivered_before = old
                    .get(DELIVERED_TO)
                    .and_then(|v| v.as_ss().ok())
                    .is_some_and(|set| set.contains(&identity_text));
                Ok(DeliveryMark {
                    added_identity: !delivered_before,
                    set_fallback: fallback_code_hash.is_some() && !old.contains_key(FALLBACK_HASH),
                })
            }
            // The code is gone (its TTL, or its user deleted): nothing left to verify with it.
            Err(e) if condition_failed(&e) => Ok(DeliveryMark::default()),
            Err(e) => Err(sdk_error("record delivery", e)),
        }
    }

    async fn unmark_delivered(
        &self,
        code_hash: &str,
        identity: &IdentityKey,
        mark: DeliveryMark,
    ) -> Result<(), StoreError> {
        let mut actions = Vec::new();
        if mark.added_identity {
            actions.push("DELETE #delivered :identity".to_owned());
        }
        if mark.set_fallback {
            actions.push(format!("REMOVE {FALLBACK_HASH}"));
        }
        if actions.is_empty() {
            return Ok(());
        }
        let mut request = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(code_key(code_hash))))
            .update_expression(actions.join(" "))
            .condition_expression("attribute_exists(pk)");
        if mark.added_identity {
            request = request
                .expression_attribute_names("#delivered", DELIVERED_TO)
                .expression_attribute_values(
                    ":identity",
                    AttributeValue::Ss(vec![identity_text(identity)]),
                );
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error("undo delivery record", e)),
        }
    }
}
