//! Counting one-time code comparisons before they are made: one conditional write against the
//! code (its own count, or the fallback's apart) and one against the user's budget for the
//! window, each surviving the SDK's retry.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use uuid::Uuid;

use super::super::item::*;
use super::super::keys::*;
use super::super::{
    carries_mark, condition_failed, item_on_failure, sdk_error, write_mark, DynamoStore,
    NOT_YET_COUNTED, WRITE_MARK,
};
use super::{live_code, with_application, FALLBACK_HASH, ONE_TIME_CODE_HASH};
use crate::model::PendingCode;
use crate::ports::{rate_window, AttemptLimits, Presented, StoreError};

/// A code's one-time-code comparison, counted: what the code item said once counted.
pub(super) struct CountedAttempt {
    /// The code as the count left it.
    pub(super) pending: PendingCode,
    pub(super) one_time_code_hash: Option<String>,
    /// Comparisons counted against this code, this one included.
    pub(super) attempts: u32,
}

pub(super) enum UserCount {
    Counted,
    BudgetSpent,
    /// The user's pointer names a newer code: this one is superseded.
    Superseded,
}

impl DynamoStore {
    /// Counts one comparison against the code, if it is live and has comparisons left.
    pub(super) async fn count_attempt_on_code(
        &self,
        presented: &Presented<'_>,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<Option<CountedAttempt>, StoreError> {
        let mark = write_mark();
        let counted = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(code_key(presented.code_hash))))
            .update_expression("ADD #attempts :one SET #mark = :mark")
            .condition_expression(format!(
                "{} AND attribute_not_exists(usedBy) \
                 AND (attribute_not_exists(#attempts) OR #attempts < :max) AND {NOT_YET_COUNTED}",
                live_code(presented.application_id)
            ))
            .set_expression_attribute_values(with_application(presented.application_id))
            .expression_attribute_names("#mark", WRITE_MARK)
            .expression_attribute_values(":mark", mark.clone())
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .expression_attribute_names("#attempts", attempts_attribute(presented))
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":max", AttributeValue::N(limits.per_code.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now_millis.to_string()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let item = match counted {
            Ok(output) => output.attributes.unwrap_or_default(),
            // The SDK's retry of a count that got through: the item as that count left it.
            Err(e) if carries_mark(item_on_failure(&e), &mark) => {
                item_on_failure(&e).cloned().unwrap_or_default()
            }
            Err(e) if condition_failed(&e) => return Ok(None),
            Err(e) => return Err(sdk_error("count one-time code", e)),
        };
        let pending = read_pending(&item, "count one-time code")?;
        Ok(Some(CountedAttempt {
            one_time_code_hash: item
                .get(compared_hash(presented))
                .and_then(|v| v.as_s().ok())
                .cloned(),
            attempts: number(&item, attempts_attribute(presented)).unwrap_or(u32::MAX),
            pending,
        }))
    }

    /// Counts one comparison against the user's budget for the window, on the pointer that names
    /// the user's newest code (which must still be this one).
    pub(super) async fn count_attempt_on_user(
        &self,
        user_id: Uuid,
        code_hash: &str,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<UserCount, StoreError> {
        let window = rate_window(now_millis, limits.per_user_window_seconds);
        let mark = write_mark();
        let counted = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(latest_code_key(user_id))))
            .update_expression("ADD #count :one SET #mark = :mark REMOVE #before")
            .condition_expression(format!(
                "codeHash = :code AND (attribute_not_exists(#count) OR #count < :budget) \
                 AND {NOT_YET_COUNTED}"
            ))
            .expression_attribute_names("#mark", WRITE_MARK)
            .expression_attribute_values(":mark", mark.clone())
            .expression_attribute_names("#count", compared_attribute(window))
            .expression_attribute_names("#before", compared_attribute(window - 1))
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":code", AttributeValue::S(code_hash.to_owned()))
            .expression_attribute_values(":budget", AttributeValue::N(limits.per_user.to_string()))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        let failed = match counted {
            Ok(_) => return Ok(UserCount::Counted),
            Err(e) => e,
        };
        if !condition_failed(&failed) {
            return Err(sdk_error("count one-time code for user", failed));
        }
        let found = item_on_failure(&failed);
        if carries_mark(found, &mark) {
            // The SDK's retry of a count that got through.
            return Ok(UserCount::Counted);
        }
        let points_here = found
            .and_then(|item| item.get("codeHash"))
            .and_then(|v| v.as_s().ok())
            .is_some_and(|hash| hash == code_hash);
        Ok(if points_here {
            UserCount::BudgetSpent
        } else {
            UserCount::Superseded
        })
    }
}

/// The attribute a presented one-time code is compared with: the FormField code's, or the
/// fallback send recorded when it emailed a link's code.
fn compared_hash(presented: &Presented<'_>) -> &'static str {
    match presented.fallback {
        true => FALLBACK_HASH,
        false => ONE_TIME_CODE_HASH,
    }
}

/// Where the comparisons are counted. Fallbacks count apart, and running out of them only ends
/// the fallback: whoever knows a user's login id could otherwise void the link in their mail.
fn attempts_attribute(presented: &Presented<'_>) -> &'static str {
    match presented.fallback {
        true => "fbAttempts",
        false => "attempts",
    }
}
