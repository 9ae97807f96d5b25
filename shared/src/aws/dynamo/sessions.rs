//! What a login writes: the user, its identity items, the login record and the refresh token in
//! one transaction; the two-factor, change-password and verification ids; trust lookups.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use uuid::Uuid;

use super::item::*;
use super::keys::*;
use super::{cancellation_reasons, condition_failed, sdk_error, DynamoStore};
use crate::model::{LoginRecord, StoredRefreshToken};
use crate::ports::{
    Challenge, CompletedLogin, Completion, LastLogins, LoginAhead, PriorLogins, Sessions,
    StoreError, WrittenAhead,
};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

/// Whether a transaction was cancelled because its first item's condition failed.
fn first_check_failed<R>(error: &SdkError<TransactWriteItemsError, R>) -> bool {
    cancellation_reasons(error)
        .and_then(|reasons| reasons.first())
        .is_some_and(|reason| reason.code() == Some("ConditionalCheckFailed"))
}

/// A login's write of the user's state item ([`merge_user_state`]): its last logins, and with a
/// rewrite of the user item the revision that rewrite gives it.
struct StateWrite {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl StateWrite {
    fn of(logins: &LastLogins, new_revision: Option<&str>) -> Self {
        let mut names = HashMap::from([("#last".to_owned(), LAST_LOGIN.to_owned())]);
        let mut sets = vec!["#last = :at".to_owned()];
        if let Some(application) = logins.application_id {
            names.insert("#app".to_owned(), application_login(application));
            sets.push("#app = :at".to_owned());
        }
        if let Some(identity) = &logins.identity {
            names.insert("#id".to_owned(), identity_login(identity));
            sets.push("#id = :at".to_owned());
        }
        let at = AttributeValue::N(logins.at.to_string());
        let mut values = HashMap::from([(":at".to_owned(), at)]);
        names.insert("#revision".to_owned(), STATE_REVISION.to_owned());
        if let Some(revision) = new_revision {
            names.insert("#user".to_owned(), USER_ID.to_owned());
            sets.push("#revision = :new, #user = :user".to_owned());
            values.insert(":new".to_owned(), AttributeValue::S(revision.to_owned()));
            values.insert(
                ":user".to_owned(),
                AttributeValue::S(logins.user_id.to_string()),
            );
        }
        Self {
            expression: format!("SET {}", sets.join(", ")),
            names,
            values,
        }
    }
}

impl DynamoStore {
    /// The login record's and the refresh token's puts, each alone: plain puts of this login's
    /// own items, which a retry writes again unchanged.
    async fn put_login_items(
        &self,
        record: &LoginRecord,
        refresh_token: Option<&StoredRefreshToken>,
    ) -> Result<(), StoreError> {
        let record = self
            .client
            .put_item()
            .table_name(&self.tables.directory)
            .set_item(Some(login_record_item(record)?))
            .send();
        let token = async {
            match refresh_token {
                Some(token) => self
                    .client
                    .put_item()
                    .table_name(&self.tables.codes)
                    .set_item(Some(super::refresh_tokens::refresh_token_item(token)?))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk_error("put refresh token", e)),
                None => Ok(()),
            }
        };
        let (record, token) = tokio::join!(record, token);
        record.map_err(|e| sdk_error("put login record", e))?;
        token
    }

    /// Deletes a login's record and refresh token: plain deletes, which a retry repeats harmlessly.
    async fn delete_login_items(
        &self,
        record: &LoginRecord,
        refresh_token: Option<&StoredRefreshToken>,
    ) -> Result<(), StoreError> {
        let record = self
            .client
            .delete_item()
            .table_name(&self.tables.directory)
            .set_key(Some(key_map(login_record_key(record))))
            .send();
        let token = async {
            match refresh_token {
                Some(token) => self
                    .client
                    .delete_item()
                    .table_name(&self.tables.codes)
                    .set_key(Some(key_map(refresh_token_key(token.id))))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk_error("undo refresh token", e)),
                None => Ok(()),
            }
        };
        let (record, token) = tokio::join!(record, token);
        record.map_err(|e| sdk_error("undo login record", e))?;
        token
    }

    /// Sets the last logins of a login written ahead of its read, on the one condition that the
    /// state item exists, and answers what they were (`UPDATED_OLD`).
    async fn update_state_ahead(&self, logins: &LastLogins) -> Result<WrittenAhead, StoreError> {
        let state = StateWrite::of(logins, None);
        let updated = self
            .client
            .update_item()
            .table_name(&self.tables.directory)
            .set_key(Some(key_map(user_state_key(logins.user_id))))
            .update_expression(state.expression)
            .set_expression_attribute_names(Some(state.names))
            .set_expression_attribute_values(Some(state.values))
            .condition_expression("attribute_exists(#revision)")
            .return_values(ReturnValue::UpdatedOld)
            .send()
            .await;
        match updated {
            Ok(output) => {
                let old = output.attributes.unwrap_or_default();
                let instant = |name: Option<String>| {
                    name.and_then(|name| old.get(&name)?.as_n().ok()?.parse::<i64>().ok())
                };
                Ok(WrittenAhead::State(PriorLogins {
                    user: instant(Some(LAST_LOGIN.to_owned())),
                    application: instant(logins.application_id.map(application_login)),
                    identity: instant(logins.identity.as_ref().map(identity_login)),
                }))
            }
            Err(e) if condition_failed(&e) => Ok(WrittenAhead::NoStateItem),
            Err(e) => Err(sdk_error("record login on user state", e)),
        }
    }

    /// Puts the last logins back as `prior` found them, unless a later login set its own since.
    async fn put_back_last_logins(
        &self,
        logins: &LastLogins,
        prior: &PriorLogins,
    ) -> Result<(), StoreError> {
        let attributes = [
            Some((LAST_LOGIN.to_owned(), prior.user)),
            logins
                .application_id
                .map(|id| (application_login(id), prior.application)),
            logins
                .identity
                .as_ref()
                .map(|identity| (identity_login(identity), prior.identity)),
        ];
        let mut names = HashMap::new();
        let mut values =
            HashMap::from([(":at".to_owned(), AttributeValue::N(logins.at.to_string()))]);
        let (mut sets, mut removes) = (Vec::new(), Vec::new());
        for (n, (name, before)) in attributes.into_iter().flatten().enumerate() {
            names.insert(format!("#a{n}"), name);
            match before {
                Some(before) => {
                    values.insert(format!(":b{n}"), AttributeValue::N(before.to_string()));
                    sets.push(format!("#a{n} = :b{n}"));
                }
                None => removes.push(format!("#a{n}")),
            }
        }
        let mut expression = String::new();
        if !sets.is_empty() {
            expression.push_str(&format!("SET {} ", sets.join(", ")));
        }
        if !removes.is_empty() {
            expression.push_str(&format!("REMOVE {}", removes.join(", ")));
        }
        let put_back = self
            .client
            .update_item()
            .table_name(&self.tables.directory)
            .set_key(Some(key_map(user_state_key(logins.user_id))))
            .update_expression(expression.trim_end())
            .condition_expression("#a0 = :at")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match put_back {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error("undo login on user state", e)),
        }
    }

    /// Sets the state item's last logins on the condition that it is still at the revision the
    /// login read: `None` when it was not (the user changed), with whether there was a state
    /// item at all.
    async fn update_state(
        &self,
        login: &CompletedLogin,
        read: &str,
    ) -> Result<StateUpdate, StoreError> {
        let state = StateWrite::of(&login.last_logins(), None);
        let updated = self
            .client
            .update_item()
            .table_name(&self.tables.directory)
            .set_key(Some(key_map(user_state_key(login.user.id))))
            .update_expression(state.expression)
            .set_expression_attribute_names(Some(state.names))
            .set_expression_attribute_values(Some(state.values))
            .condition_expression("#revision = :read")
            .expression_attribute_values(":read", AttributeValue::S(read.to_owned()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match updated {
            Ok(_) => Ok(StateUpdate::Written),
            Err(e) if condition_failed(&e) => Ok(match super::item_on_failure(&e) {
                Some(_) => StateUpdate::UserChanged,
                None => StateUpdate::NoStateItem,
            }),
            Err(e) => Err(sdk_error("record login on user state", e)),
        }
    }
}

/// What a login's conditional write of the state item came to.
enum StateUpdate {
    Written,
    UserChanged,
    /// A user written before state items were: the login writes the user item once.
    NoStateItem,
}

#[async_trait]
impl Sessions for DynamoStore {
    /// One wave of plain writes: the state item's last logins on the condition that it is at the
    /// revision the login read, the login record, the refresh token. The user item is not
    /// written. When the condition fails the record and the token go again, and nothing of the
    /// login stays.
    async fn record_login(&self, login: &CompletedLogin) -> Result<Completion, StoreError> {
        let Some(read) = login.user.revision.as_deref() else {
            return self.complete_login(login).await;
        };
        let (state, items) = tokio::join!(
            self.update_state(login, read),
            self.put_login_items(&login.record, login.refresh_token.as_ref())
        );
        let state = match (state, items) {
            (Ok(StateUpdate::Written), Ok(())) => return Ok(Completion::Recorded),
            (Ok(state), Ok(())) => state,
            (Err(e), _) | (_, Err(e)) => {
                // Whatever of the wave got through stays harmless: a record and a token of a
                // login that answered an error; the state's last login of an attempt the
                // caller retries.
                return Err(e);
            }
        };
        match state {
            StateUpdate::NoStateItem => self.complete_login(login).await,
            _ => {
                self.undo_login(login).await?;
                Ok(Completion::UserChanged)
            }
        }
    }

    async fn undo_login(&self, login: &CompletedLogin) -> Result<(), StoreError> {
        self.delete_login_items(&login.record, login.refresh_token.as_ref())
            .await
    }

    async fn record_login_ahead(&self, ahead: &LoginAhead) -> Result<WrittenAhead, StoreError> {
        let (state, items) = tokio::join!(
            self.update_state_ahead(&ahead.last_logins),
            self.put_login_items(&ahead.record, ahead.refresh_token.as_ref())
        );
        // On an error, whatever of the wave got through stays harmless, as in `record_login`.
        items?;
        state
    }

    async fn undo_login_ahead(
        &self,
        ahead: &LoginAhead,
        written: &WrittenAhead,
    ) -> Result<(), StoreError> {
        let items = self.delete_login_items(&ahead.record, ahead.refresh_token.as_ref());
        let state = async {
            match written {
                WrittenAhead::State(prior) => {
                    self.put_back_last_logins(&ahead.last_logins, prior).await
                }
                WrittenAhead::NoStateItem => Ok(()),
            }
        };
        let (items, state) = tokio::join!(items, state);
        items.and(state)
    }
    /// One transaction: the updated user and its identity items, the login record and the
    /// refresh token, on the condition that the user item is still the revision the login read
    /// (a lock or a deactivation written meanwhile is never undone). Every write is a plain put
    /// of this login's items and the transaction carries the attempt id as its idempotency
    /// token, so a retry writes nothing new.
    async fn complete_login(&self, login: &CompletedLogin) -> Result<Completion, StoreError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::new("complete login", e);
        let put = |table: &str, item| {
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(build)
        };
        let mut user = user_item(&login.user, &login.new_revision)?;
        let mut user_put = Put::builder()
            .table_name(&self.tables.directory)
            .set_item(Some(std::mem::take(&mut user)));
        // Our own revision is there already when this is the SDK's retry of a write that got
        // through: writing the same again is harmless.
        user_put = user_put
            .expression_attribute_names("#revision", REVISION)
            .expression_attribute_values(":new", AttributeValue::S(login.new_revision.clone()));
        user_put = match &login.user.revision {
            Some(read) => user_put
                .condition_expression("#revision = :read OR #revision = :new")
                .expression_attribute_values(":read", AttributeValue::S(read.clone())),
            None => user_put.condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(#revision) OR #revision = :new)",
            ),
        };
        let mut writes = vec![
            TransactWriteItem::builder()
                .put(user_put.build().map_err(build)?)
                .build(),
            TransactWriteItem::builder()
                .update({
                    let state = StateWrite::of(&login.last_logins(), Some(&login.new_revision));
                    Update::builder()
                        .table_name(&self.tables.directory)
                        .set_key(Some(key_map(user_state_key(login.user.id))))
                        .update_expression(state.expression)
                        .set_expression_attribute_names(Some(state.names))
                        .set_expression_attribute_values(Some(state.values))
                        .build()
                        .map_err(build)?
                })
                .build(),
            put(&self.tables.directory, login_record_item(&login.record)?)?,
        ];
        for item in identity_items(&login.user)? {
            writes.push(put(&self.tables.directory, item)?);
        }
        if let Some(token) = &login.refresh_token {
            writes.push(put(
                &self.tables.codes,
                super::refresh_tokens::refresh_token_item(token)?,
            )?);
        }
        let written = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .client_request_token(&login.attempt_id)
            .send()
            .await;
        match written {
            Ok(_) => Ok(Completion::Recorded),
            // The user's revision check is the first item; any other cancellation is a failure
            // to report.
            Err(e) if first_check_failed(&e) => Ok(Completion::UserChanged),
            Err(e) => Err(sdk_error("complete login", e)),
        }
    }

    async fn save_challenge(
        &self,
        kind: Challenge,
        id_hash: &str,
        user_id: Uuid,
        expires_at_millis: i64,
    ) -> Result<(), StoreError> {
        let mut item = owned_by(key_map(challenge_key(kind, id_hash)), user_id);
        item.insert(
            "expiresAt".to_owned(),
            AttributeValue::N(expires_at_millis.to_string()),
        );
        item.insert(
            TTL.to_owned(),
            AttributeValue::N((expires_at_millis / 1000 + 1).to_string()),
        );
        self.client
            .put_item()
            .table_name(&self.tables.codes)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("save challenge", e))
    }

    async fn is_trusted(
        &self,
        trust_hash: &str,
        user_id: Uuid,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(trust_key(trust_hash))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("get trust", e))?
            .item;
        Ok(item.is_some_and(|item| {
            let owner = item.get(USER_ID).and_then(|v| v.as_s().ok()).cloned();
            let expires = item
                .get("expiresAt")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<i64>().ok());
            owner == Some(user_id.to_string()) && expires.is_some_and(|e| e > now_millis)
        }))
    }
}
