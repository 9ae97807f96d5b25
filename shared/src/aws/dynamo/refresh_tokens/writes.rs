//! The writes of an exchange to a family: the one made beside the reads ([`write_presented`]),
//! its undoing when the checks refuse ([`put_back`]), and the rotation and slide made after a
//! read when that write could not be made ([`rotate`], [`extend`]).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::super::item::*;
use super::super::keys::*;
use super::super::{condition_failed, item_on_failure, sdk_error, DynamoStore};
use super::{
    read_family, ttl, EXPIRES_AT, GRACE_SEAL, ROTATED, ROTATED_AT, ROTATIONS, START, TOKEN_HASH,
};
use crate::model::StoredRefreshToken;
use crate::ports::{
    NewExpiry, NextToken, PresentedWrite, PresentedWritten, Rotation, StoreError,
    ROTATIONS_REMEMBERED,
};

fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn slot(rotations: u64) -> String {
    format!("{ROTATED}{}", rotations % ROTATIONS_REMEMBERED)
}

/// One update's expressions as they are put together: only what they use is named, as DynamoDB
/// refuses unused names and values.
#[derive(Default)]
struct Update {
    conditions: Vec<&'static str>,
    sets: Vec<&'static str>,
    removes: Vec<&'static str>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Update {
    fn name(&mut self, placeholder: &str, attribute: impl Into<String>) -> &mut Self {
        self.names.insert(placeholder.to_owned(), attribute.into());
        self
    }
    fn value(&mut self, placeholder: &str, value: AttributeValue) -> &mut Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }
    /// Sets `#placeholder` to `value`, or removes it when there is none.
    fn set_or_remove(
        &mut self,
        set: &'static str,
        remove: &'static str,
        value: Option<(&str, AttributeValue)>,
    ) {
        match value {
            Some((placeholder, value)) => {
                self.sets.push(set);
                self.value(placeholder, value);
            }
            None => self.removes.push(remove),
        }
    }
    /// Rotation number `rotation` of the family (current hash `:presented`, named `#hash`):
    /// `next` becomes current, the replaced hash goes to the rotation's ring slot, the count and
    /// the time are set, and the grace seal is kept, or removed without a grace period.
    fn rotate_to(&mut self, next: &NextToken, rotation: u64) {
        self.sets.extend([
            "#hash = :next",
            "#slot = :presented",
            "#rotations = :rotations",
            "#at = :at",
        ]);
        self.name("#rotations", ROTATIONS)
            .name("#slot", slot(rotation))
            .name("#at", ROTATED_AT)
            .name("#seal", GRACE_SEAL)
            .value(":rotations", number(rotation + 1))
            .value(":next", AttributeValue::S(next.hash.clone()))
            .value(":at", number(next.rotated_at_millis));
        self.set_or_remove(
            "#seal = :seal",
            "#seal",
            next.grace_seal
                .as_ref()
                .map(|sealed| (":seal", AttributeValue::S(sealed.clone()))),
        );
    }
    /// The family's `UpdateItem` with this update and its conditions.
    fn request(
        self,
        store: &DynamoStore,
        family: uuid::Uuid,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        store
            .client
            .update_item()
            .table_name(&store.tables.codes)
            .set_key(Some(key_map(refresh_token_key(family))))
            .condition_expression(self.conditions.join(" AND "))
            .update_expression(self.expression())
            .set_expression_attribute_names(Some(self.names))
            .set_expression_attribute_values(Some(self.values))
    }
    fn expression(&self) -> String {
        let mut expression = String::new();
        if !self.sets.is_empty() {
            expression = format!("SET {}", self.sets.join(", "));
        }
        if !self.removes.is_empty() {
            expression = format!("{expression} REMOVE {}", self.removes.join(", "));
        }
        expression
    }
}

/// A rotation (or a slide) beside the reads. Its old values, returned on success and on failure
/// alike, are the family the checks run on: the read beside it may have seen it before or after.
pub(super) async fn write_presented(
    store: &DynamoStore,
    write: &PresentedWrite,
) -> Result<PresentedWritten, StoreError> {
    let mut update = Update::default();
    update
        .conditions
        .extend(["#hash = :presented", "#expires > :now"]);
    update
        .name("#hash", TOKEN_HASH)
        .name("#expires", EXPIRES_AT)
        .value(
            ":presented",
            AttributeValue::S(write.presented_hash.clone()),
        )
        .value(":now", number(write.now_millis));
    let slid = match write.expiry {
        NewExpiry::Kept => None,
        NewExpiry::Slid(expires) => Some(expires),
        NewExpiry::SlidWithinMaximum {
            expires_at_millis,
            started_since,
        } => {
            // A family without the attribute (stored before it was kept) fails too: the read path
            // caps its expiry and writes the attribute.
            update.conditions.push("#start >= :since");
            update
                .name("#start", START)
                .value(":since", number(started_since));
            Some(expires_at_millis)
        }
    };
    if let Some(expires) = slid {
        update.sets.extend(["#expires = :expires", "#ttl = :ttl"]);
        update
            .name("#ttl", TTL)
            .value(":expires", number(expires))
            .value(":ttl", ttl(expires));
    }
    if let Some(next) = &write.next {
        // A token from before the number was carried has random bytes for it: the count tells.
        update.conditions.push(if write.rotation == 0 {
            "(attribute_not_exists(#rotations) OR #rotations = :rotation)"
        } else {
            "#rotations = :rotation"
        });
        update.value(":rotation", number(write.rotation));
        update.rotate_to(next, u64::from(write.rotation));
    }
    if update.sets.is_empty() {
        return Err(StoreError::new(
            "write refresh token",
            "a fixed expiry and no rotation: nothing to write",
        ));
    }
    let written = update
        .request(store, write.id)
        .return_values(ReturnValue::AllOld)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match written {
        Ok(output) => {
            let before = output.attributes.ok_or_else(|| {
                StoreError::new("write refresh token", "no old values for a written family")
            })?;
            Ok(PresentedWritten::Written(Box::new(read_family(
                &before,
                "write refresh token",
            )?)))
        }
        Err(e) if condition_failed(&e) => {
            let now = item_on_failure(&e)
                .map(|item| read_family(item, "write refresh token"))
                .transpose()?;
            match (now, &write.next) {
                // Our own rotation, whose response was lost: the SDK's retry finds it done.
                (Some(mut family), Some(next)) if family.token_hash == next.hash => {
                    family.token_hash.clone_from(&write.presented_hash);
                    family.rotations = u64::from(write.rotation);
                    family.rotated_at_millis = None;
                    family.grace_seal = None;
                    Ok(PresentedWritten::Written(Box::new(family)))
                }
                (now, _) => Ok(PresentedWritten::NotWritten(now.map(Box::new))),
            }
        }
        Err(e) => Err(sdk_error("write refresh token", e)),
    }
}

/// Puts back what [`write_presented`] answered, while the family is still as it left it.
pub(super) async fn put_back(
    store: &DynamoStore,
    before: &StoredRefreshToken,
    written_hash: &str,
) -> Result<(), StoreError> {
    let mut update = Update::default();
    update.conditions.push("#hash = :written");
    update.sets.extend([
        "#hash = :old",
        "#expires = :expires",
        "#ttl = :ttl",
        "#rotations = :rotations",
    ]);
    update
        .name("#hash", TOKEN_HASH)
        .name("#expires", EXPIRES_AT)
        .name("#ttl", TTL)
        .name("#rotations", ROTATIONS)
        .name("#slot", slot(before.rotations))
        .name("#at", ROTATED_AT)
        .name("#seal", GRACE_SEAL)
        .value(":written", AttributeValue::S(written_hash.to_owned()))
        .value(":old", AttributeValue::S(before.token_hash.clone()))
        .value(":expires", number(before.expires_at_millis))
        .value(":ttl", ttl(before.expires_at_millis))
        .value(":rotations", number(before.rotations));
    // The ring's slots fill in order and are never emptied: the slot the write took is the
    // list's entry at its index, or was empty.
    let slot_index = usize::try_from(before.rotations % ROTATIONS_REMEMBERED).ok();
    let slot_value = slot_index
        .and_then(|index| before.rotated.get(index))
        .map(|hash| (":slot", AttributeValue::S(hash.clone())));
    update.set_or_remove("#slot = :slot", "#slot", slot_value);
    update.set_or_remove(
        "#at = :at",
        "#at",
        before.rotated_at_millis.map(|at| (":at", number(at))),
    );
    update.set_or_remove(
        "#seal = :seal",
        "#seal",
        before
            .grace_seal
            .as_ref()
            .map(|sealed| (":seal", AttributeValue::S(sealed.clone()))),
    );
    let put = update.request(store, before.id).send().await;
    match put {
        Ok(_) => Ok(()),
        // Moved on since (deleted, revoked, or this very put-back retried by the SDK): nothing
        // of ours to undo.
        Err(e) if condition_failed(&e) => Ok(()),
        Err(e) => Err(sdk_error("put back refresh token", e)),
    }
}

/// The condition on the current hash also pins the rotation count read with it: each count
/// has its own current hash. A failed condition returns the item as it is, so that the SDK's
/// retry of a rotation that got through recognises its own next hash. It writes the family's
/// start, which a family stored before it was kept lacks: its next exchange is one round trip.
pub(super) async fn rotate(
    store: &DynamoStore,
    family: &StoredRefreshToken,
    next: &NextToken,
    expires_at_millis: i64,
) -> Result<Rotation, StoreError> {
    let presented_hash = family.token_hash.as_str();
    let next_hash = next.hash.as_str();
    let mut update = Update::default();
    update.conditions.push("#hash = :presented");
    update
        .sets
        .extend(["#expires = :expires", "#ttl = :ttl", "#start = :start"]);
    update
        .name("#hash", TOKEN_HASH)
        .name("#expires", EXPIRES_AT)
        .name("#ttl", TTL)
        .name("#start", START)
        .value(":presented", AttributeValue::S(presented_hash.to_owned()))
        .value(":expires", number(expires_at_millis))
        .value(":ttl", ttl(expires_at_millis))
        .value(":start", number(family.start_instant));
    update.rotate_to(next, family.rotations);
    let rotated = update
        .request(store, family.id)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match rotated {
        Ok(_) => Ok(Rotation::Rotated),
        Err(e) if condition_failed(&e) => {
            let now = item_on_failure(&e)
                .map(|item| read_family(item, "rotate refresh token"))
                .transpose()?;
            match now {
                // Our own write, whose response was lost: the SDK's retry finds it done.
                Some(family) if family.token_hash == next_hash => Ok(Rotation::Rotated),
                now => Ok(Rotation::NotCurrent(now.map(Box::new))),
            }
        }
        Err(e) => Err(sdk_error("rotate refresh token", e)),
    }
}

/// Slides the expiry while the token read is current, and writes the family's start like
/// [`rotate`].
pub(super) async fn extend(
    store: &DynamoStore,
    family: &StoredRefreshToken,
    expires_at_millis: i64,
) -> Result<bool, StoreError> {
    let extended = store
        .client
        .update_item()
        .table_name(&store.tables.codes)
        .set_key(Some(key_map(refresh_token_key(family.id))))
        .condition_expression("#hash = :presented")
        .update_expression("SET #expires = :expires, #ttl = :ttl, #start = :start")
        .expression_attribute_names("#hash", TOKEN_HASH)
        .expression_attribute_names("#expires", EXPIRES_AT)
        .expression_attribute_names("#ttl", TTL)
        .expression_attribute_names("#start", START)
        .expression_attribute_values(":presented", AttributeValue::S(family.token_hash.clone()))
        .expression_attribute_values(":expires", number(expires_at_millis))
        .expression_attribute_values(":ttl", ttl(expires_at_millis))
        .expression_attribute_values(":start", number(family.start_instant))
        .send()
        .await;
    match extended {
        Ok(_) => Ok(true),
        Err(e) if condition_failed(&e) => Ok(false),
        Err(e) => Err(sdk_error("extend refresh token", e)),
    }
}
