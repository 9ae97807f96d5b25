//! DynamoDB: the Directory table and the Codes table, one module per concern: [`keys`] (what
//! each item is keyed by), [`item`] (documents in and out of items), [`directory`] (the
//! [`Directory`](crate::ports::Directory) reads), [`codes`] (codes and their attempt counts),
//! [`rate_limits`], [`sessions`] (what a login writes), [`users`] (the User API's writes and the
//! hard delete) and `admin` (`create_tables`).
//!
//! Both tables have generic string keys `pk`/`sk`, so new entity types need no migration. Each
//! entity is stored as its JSON document in `doc`.
//!
//! | table     | pk                                   | sk         | holds                               |
//! |-----------|--------------------------------------|------------|-------------------------------------|
//! | Directory | `TENANT#{id}`                        | `TENANT`   | tenant                              |
//! | Directory | `APPLICATION#{id}`                   | `APPLICATION` | application                      |
//! | Directory | `APIKEY#{sha256(key)}`               | `APIKEY`   | API key without the key             |
//! | Directory | `SIGNINGKEY#{id}`                    | `SIGNINGKEY` | signing key                       |
//! | Directory | `USER#{id}`                          | `USER`     | user with its identities, `revision` |
//! | Directory | `USERSTATE#{id}`                     | `USERSTATE` | the user's login state: `revision` (the user item's, copied by every writer of it), `lastLogin`, `app{applicationId}`, `id{type}#{value}` (last logins, epoch ms) |
//! | Directory | `IDENTITY#{tenant}#{type}#{value}`   | `IDENTITY` | `userId` only: one user per identity (no copy of the user: whoever needs it reads it) |
//! | Directory | `EMAILTEMPLATE#{id}`                 | `EMAILTEMPLATE` | email template                 |
//! | Directory | `MESSAGETEMPLATE#{id}`               | `MESSAGETEMPLATE` | SMS template                 |
//! | Directory | `SUPPRESSED#{sha256(address)}`       | `SUPPRESSED` | an address that bounced or complained: `reason`, `at` |
//! | Codes     | `RATE#{send-email|send-sms}#{userId}#{window}` | `RATE` | sends counted in a window, `writeMark` (the last count's own mark), `ttl` |
//! | Codes     | `RATE#sms-prefix#{tenant}#{+prefix}#{window}`, `RATE#sms-day#{tenant}#{shard}#{day}` (shards 0–3, [`crate::sms_guard::DAILY_SHARDS`]) | `RATE` | the SMS guard's counts, `ttl` |
//! | Directory | `LOGIN#{userId}#{instant}#{sessionId}` | `LOGIN` | one login: time, IP, application; `ttl` the retention after it ([`item::login_record_item`]) |
//! | Codes     | `REFRESHTOKEN#{id}`                  | `REFRESHTOKEN` | refresh token family: `tokenHash` (sha256 of the current token), `rotated0`…`rotated31` (a ring of the last hashes it replaced), `rotations`, `lastRotatedAt` and with a grace period `graceSeal` (the current token sealed under the one it replaced), `expiresAt`, `tenantId`, `ttl` |
//! | Codes     | `REVOKED#USER#{userId}`, `REVOKED#APPLICATION#{id}` | `REVOKED` | `all`, `app{applicationId}`: tokens started at or before are revoked |
//! | Directory | `PUBLISHED`                          | `PUBLISHED` | public keys and the default tenant (what anyone may read) |
//! | Codes     | `TWOFACTOR#…`, `CHANGEPASSWORD#…`, `IDENTITYVERIFICATION#…`, `REGISTRATIONVERIFICATION#…`, `TRUST#…` (sha256 of the id) | … | `userId`, `expiresAt`, `ttl` |
//! | Codes     | `CODE#{sha256(code)}`                | `CODE`     | pending code (hashes only: `otcHash` for FormField, `fbHash` the fallback, set by send once it emailed a link's code), its `applicationId`, one-time codes compared (`attempts`, fallbacks `fbAttempts`), `deliveredTo`, `usedBy` once used, `ttl` |
//! | Codes     | `AUTHCODE#{sha256(code)}`            | `AUTHCODE` | authorization code: client, redirect URI, PKCE challenge, the tokens sealed under the code, `expiresAt`, `usedBy` once used, `ttl` |
//! | Codes     | `LATESTCODE#{userId}`                | `LATESTCODE` | `codeHash` of the user's newest code, one-time codes compared against the user per hour `compared{window}` |
//! | Codes     | `SSO#{sha256(cookie)}`                | `SSO`      | SSO session: tenant, user, `authenticatedAt`, expiry (the document), `refreshTokens` (string set of the families issued within it), `endedBy` once ended, `ttl` |
//!
//! Every item that belongs to one user (the rows above naming a user, and the rate windows of
//! one user) carries the user's id as a top-level `userId` string: both tables' sparse global
//! secondary index `byUser` (keys only) finds them all for a hard delete ([`users`]).
//!
//! A code is valid while its item exists, has not expired, has no `usedBy` and the user's
//! `LATESTCODE` pointer names it: a new start writes its code and moves the pointer at once (two
//! plain writes, no transaction) and deletes nothing; the superseded code stays until its TTL. A
//! login marks the code `usedBy` its attempt id rather than deleting it, so that the SDK's retry
//! of that very write finds its own mark and succeeds again instead of finding nothing.

mod admin;
pub mod authorization_codes;
pub mod codes;
pub mod directory;
pub mod item;
pub mod keys;
pub mod pending_logins;
pub mod rate_limits;
pub mod refresh_tokens;
mod retry;
pub mod sessions;
pub mod sso_sessions;
pub mod suppressions;
pub mod users;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;

use crate::ports::StoreError;

pub use item::{
    doc_item, identity_items, key_map, owned_by, user_item, user_state_revision, BY_USER, DOC, PK,
    SK, TTL, USER_ID,
};
pub use keys::*;

/// Whether a write was refused because its condition did not hold: an answer, not a failure.
fn condition_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(
    error: &SdkError<E, R>,
) -> bool {
    error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}

/// The attribute a counting write leaves its own mark in (a fresh id per call), so that the
/// SDK's retry of a count that got through finds its mark instead of counting twice.
const WRITE_MARK: &str = "writeMark";

/// The condition that refuses a counting write already made: `#mark` is [`WRITE_MARK`].
const NOT_YET_COUNTED: &str = "(attribute_not_exists(#mark) OR #mark <> :mark)";

/// A fresh mark for one counting write; its retries carry the same.
fn write_mark() -> AttributeValue {
    AttributeValue::S(uuid::Uuid::new_v4().to_string())
}

/// The item an `UpdateItem` whose condition failed found (asked for with
/// `ReturnValuesOnConditionCheckFailure::AllOld`).
fn item_on_failure<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, R>,
) -> Option<&Item> {
    match error.as_service_error() {
        Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(failed)) => {
            failed.item.as_ref()
        }
        _ => None,
    }
}

/// Whether `item` carries `mark`: the write that failed its condition had already got through.
fn carries_mark(item: Option<&Item>, mark: &AttributeValue) -> bool {
    item.and_then(|i| i.get(WRITE_MARK)) == Some(mark)
}

fn sdk_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::new(
        operation,
        aws_sdk_dynamodb::error::DisplayErrorContext(error),
    )
}

/// Why a transaction was cancelled, item by item, when it was; `None` for any other failure.
fn cancellation_reasons<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> Option<&[aws_sdk_dynamodb::types::CancellationReason]> {
    match error.as_service_error() {
        Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            Some(cancelled.cancellation_reasons())
        }
        _ => None,
    }
}

fn build_error(
    operation: &'static str,
) -> impl Fn(aws_sdk_dynamodb::error::BuildError) -> StoreError {
    move |e| StoreError::new(operation, e)
}

/// The two table names, from `DIRECTORY_TABLE` and `CODES_TABLE`.
#[derive(Clone, Debug)]
pub struct Tables {
    pub directory: String,
    pub codes: String,
}

/// Both ports over one client: the Directory table for
/// [`Directory`](crate::ports::Directory), the Codes table for
/// [`CodeStore`](crate::ports::CodeStore).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
}

/// An item of the Codes table as DynamoDB answers it.
type Item = HashMap<String, AttributeValue>;

impl DynamoStore {
    /// Puts `item` in the Codes table where nothing is yet: its key is random, so an item already
    /// there is a bug, unless it is this very item (the SDK's retry of a put that got through),
    /// which succeeds again.
    async fn put_new_code_item(
        &self,
        item: HashMap<String, AttributeValue>,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.tables.codes)
            .set_item(Some(item.clone()))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed))
                    if failed.item.as_ref() == Some(&item) =>
                {
                    Ok(())
                }
                _ => Err(StoreError::new(operation, "the key is taken")),
            },
            Err(e) => Err(sdk_error(operation, e)),
        }
    }

    /// DESIGN's one-time use: marks the Codes item at `key` `usedBy` this attempt with one
    /// conditional write, if it exists, has not expired (`expiresAt`), any `condition` holds (its
    /// values in `values`; an `OR` in its own parentheses, as DynamoDB refuses redundant ones)
    /// and it is unused, or used by this very attempt, so that the SDK's
    /// retry of a write that got through finds its own mark and succeeds again. Of any number of
    /// concurrent attempts, exactly one gets the item as it now is; the others get `None`.
    async fn use_once(
        &self,
        key: (String, &'static str),
        condition: Option<&str>,
        values: Item,
        attempt_id: &str,
        now_millis: i64,
        operation: &'static str,
    ) -> Result<Option<Item>, StoreError> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(key)))
            .update_expression("SET usedBy = :attempt")
            .condition_expression(format!(
                "attribute_exists(pk) AND expiresAt > :now \
                 AND (attribute_not_exists(usedBy) OR usedBy = :attempt){}",
                condition.map(|c| format!(" AND {c}")).unwrap_or_default()
            ))
            .set_expression_attribute_values(Some(values))
            .expression_attribute_values(":now", AttributeValue::N(now_millis.to_string()))
            .expression_attribute_values(":attempt", AttributeValue::S(attempt_id.to_owned()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match updated {
            Ok(output) => Ok(output.attributes),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(sdk_error(operation, e)),
        }
    }

    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }
}
