//! DynamoDB: the Directory table and the Codes table.
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
//! | Directory | `IDENTITY#{tenant}#{type}#{value}`   | `IDENTITY` | `userId`: one user per identity, and a copy of the user |
//! | Directory | `EMAILTEMPLATE#{id}`                 | `EMAILTEMPLATE` | email template                 |
//! | Directory | `MESSAGETEMPLATE#{id}`               | `MESSAGETEMPLATE` | SMS template                 |
//! | Codes     | `RATE#{send-email|send-sms}#{userId}#{window}` | `RATE` | sends counted in a window, `ttl` |
//! | Directory | `LOGIN#{userId}#{instant}#{sessionId}` | `LOGIN` | one login: time, IP, application  |
//! | Codes     | `REFRESHTOKEN#{sha256(token)}`       | `REFRESHTOKEN` | refresh token, `ttl`          |
//! | Codes     | `TWOFACTOR#…`, `CHANGEPASSWORD#…`, `IDENTITYVERIFICATION#…`, `REGISTRATIONVERIFICATION#…`, `TRUST#…` (sha256 of the id) | … | `userId`, `expiresAt`, `ttl` |
//! | Codes     | `CODE#{sha256(code)}`                | `CODE`     | pending code (hashes only), its `applicationId`, one-time codes compared (`attempts`), `deliveredTo`, `usedBy` once used, `ttl` |
//! | Codes     | `LATESTCODE#{userId}`                | `LATESTCODE` | `codeHash` of the user's newest code, one-time codes compared against the user per hour `compared{window}` |
//!
//! A code is valid while its item exists, has not expired and has no `usedBy`: a new start deletes
//! the code the user's `LATESTCODE` pointer named, in the same transaction that writes the new
//! one. A login marks the code `usedBy` its attempt id rather than deleting it, so that the SDK's
//! retry of that very write finds its own mark and succeeds again instead of finding nothing.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, KeySchemaElement,
    KeyType, KeysAndAttributes, Put, ReturnValue, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::login_id::IdentityKey;
use crate::model::{
    ApiKey, Application, EmailTemplate, MessageTemplate, PendingCode, SigningKey, Tenant, User,
};
use crate::ports::{
    rate_window, AttemptLimits, Challenge, CodeStore, CompletedLogin, Completion, Consumed,
    Directory, IdentityMatch, LoginRecord, Presented, RateLimiter, Records, Sessions, StoreError,
    Wanted,
};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const DOC: &str = "doc";
pub const TTL: &str = "ttl";
/// The user item's revision: a fresh random id at every write.
const REVISION: &str = "revision";
/// The code item's string set of the identities it was delivered to (`{type}#{value}`).
const DELIVERED_TO: &str = "deliveredTo";

pub fn tenant_key(id: Uuid) -> (String, &'static str) {
    (format!("TENANT#{id}"), "TENANT")
}
pub fn application_key(id: Uuid) -> (String, &'static str) {
    (format!("APPLICATION#{id}"), "APPLICATION")
}
pub fn api_key_key(key_hash: &str) -> (String, &'static str) {
    (format!("APIKEY#{key_hash}"), "APIKEY")
}
pub fn signing_key_key(id: Uuid) -> (String, &'static str) {
    (format!("SIGNINGKEY#{id}"), "SIGNINGKEY")
}
pub fn user_key(id: Uuid) -> (String, &'static str) {
    (format!("USER#{id}"), "USER")
}
pub fn identity_key(tenant: Uuid, identity: &IdentityKey) -> (String, &'static str) {
    (
        format!(
            "IDENTITY#{tenant}#{}#{}",
            identity.kind.as_str(),
            identity.value
        ),
        "IDENTITY",
    )
}
pub fn email_template_key(id: Uuid) -> (String, &'static str) {
    (format!("EMAILTEMPLATE#{id}"), "EMAILTEMPLATE")
}
pub fn message_template_key(id: Uuid) -> (String, &'static str) {
    (format!("MESSAGETEMPLATE#{id}"), "MESSAGETEMPLATE")
}
pub fn rate_key(key: &str, window: i64) -> (String, &'static str) {
    (format!("RATE#{key}#{window}"), "RATE")
}
pub fn refresh_token_key(token_hash: &str) -> (String, &'static str) {
    (format!("REFRESHTOKEN#{token_hash}"), "REFRESHTOKEN")
}
pub fn challenge_key(kind: Challenge, id_hash: &str) -> (String, &'static str) {
    match kind {
        Challenge::TwoFactor => (format!("TWOFACTOR#{id_hash}"), "TWOFACTOR"),
        Challenge::ChangePassword => (format!("CHANGEPASSWORD#{id_hash}"), "CHANGEPASSWORD"),
        Challenge::IdentityVerification => (
            format!("IDENTITYVERIFICATION#{id_hash}"),
            "IDENTITYVERIFICATION",
        ),
        Challenge::RegistrationVerification => (
            format!("REGISTRATIONVERIFICATION#{id_hash}"),
            "REGISTRATIONVERIFICATION",
        ),
    }
}
pub fn trust_key(trust_hash: &str) -> (String, &'static str) {
    (format!("TRUST#{trust_hash}"), "TRUST")
}
pub fn login_record_key(record: &LoginRecord) -> (String, &'static str) {
    (
        format!(
            "LOGIN#{}#{}#{}",
            record.user_id, record.instant, record.session_id
        ),
        "LOGIN",
    )
}
pub fn code_key(code_hash: &str) -> (String, &'static str) {
    (format!("CODE#{code_hash}"), "CODE")
}
pub fn latest_code_key(user_id: Uuid) -> (String, &'static str) {
    (format!("LATESTCODE#{user_id}"), "LATESTCODE")
}

/// The attribute of a user's `LATESTCODE` item that counts one-time codes compared in `window`.
fn compared_attribute(window: i64) -> String {
    format!("compared{window}")
}

/// The Directory items that map each identity of `user` to the user, each with a copy of it.
pub fn identity_items(user: &User) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
    user.identities
        .iter()
        .map(|identity| {
            let key = IdentityKey {
                kind: identity.kind,
                value: identity.value.clone(),
            };
            let mut item = doc_item(identity_key(user.tenant_id, &key), user)?;
            item.insert("userId".to_owned(), AttributeValue::S(user.id.to_string()));
            Ok(item)
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
    let mut item = doc_item(user_key(user.id), user)?;
    item.insert(REVISION.to_owned(), AttributeValue::S(revision.to_owned()));
    Ok(item)
}

/// A user item's document, with the revision it was read at.
fn read_user(
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

fn read_doc<T: DeserializeOwned>(
    item: &HashMap<String, AttributeValue>,
    operation: &'static str,
) -> Result<T, StoreError> {
    let json = item
        .get(DOC)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::new(operation, "item has no document"))?;
    serde_json::from_str(json).map_err(|e| StoreError::new(operation, e))
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

/// Both ports over one client: the Directory table for [`Directory`], the Codes table for
/// [`CodeStore`].
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    async fn get_doc<T: DeserializeOwned>(
        &self,
        table: &str,
        key: (String, &'static str),
        operation: &'static str,
    ) -> Result<Option<T>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(operation, e))?;
        output
            .item
            .as_ref()
            .map(|item| read_doc(item, operation))
            .transpose()
    }

    /// Creates both tables (on demand) and turns on TTL for the Codes table. Tables that exist
    /// already are left as they are, so this can run at every `make dev`.
    pub async fn create_tables(&self) -> Result<(), StoreError> {
        for table in [&self.tables.directory, &self.tables.codes] {
            let created = self
                .client
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(PK)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(build_error("create_table"))?,
                )
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(SK)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(build_error("create_table"))?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(PK)
                        .key_type(KeyType::Hash)
                        .build()
                        .map_err(build_error("create_table"))?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(SK)
                        .key_type(KeyType::Range)
                        .build()
                        .map_err(build_error("create_table"))?,
                )
                .send()
                .await;
            match created {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_in_use_exception()) => {}
                Err(e) => return Err(sdk_error("create_table", e)),
            }
        }
        self.client
            .update_time_to_live()
            .table_name(&self.tables.codes)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL)
                    .enabled(true)
                    .build()
                    .map_err(build_error("update_time_to_live"))?,
            )
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                // Enabling TTL twice is refused; the table already has it.
                let message = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e));
                if message.contains("already enabled") {
                    Ok(())
                } else {
                    Err(sdk_error("update_time_to_live", e))
                }
            })
    }

    /// Reads items of the Directory table by key, in one or more `BatchGetItem` calls.
    pub async fn batch_get_directory(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(build_error("batch_get_item"))?,
            );
            // DynamoDB may leave keys unprocessed under load: ask again for those only.
            for _ in 0..5 {
                let Some(request) = pending.take() else { break };
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.tables.directory, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error("batch_get_item", e))?;
                if let Some(mut responses) = output.responses {
                    found.extend(responses.remove(&self.tables.directory).unwrap_or_default());
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.tables.directory))
                    .filter(|k| !k.keys.is_empty());
            }
            if pending.is_some() {
                return Err(StoreError::new(
                    "batch_get_item",
                    "keys left unprocessed after retries",
                ));
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl Directory for DynamoStore {
    async fn records(&self, wanted: &Wanted<'_>) -> Result<Records, StoreError> {
        let identities = wanted.identity.unwrap_or_default();
        let keys: Vec<_> = [
            wanted.api_key.map(api_key_key),
            wanted.tenant.map(tenant_key),
            wanted.application.map(application_key),
            wanted.user.map(user_key),
        ]
        .into_iter()
        .flatten()
        .chain(identities.1.iter().map(|c| identity_key(identities.0, c)))
        .collect();
        if keys.is_empty() {
            return Ok(Records::default());
        }
        let items = self
            .batch_get_directory(keys.into_iter().map(key_map).collect())
            .await?;
        fn doc<T: DeserializeOwned>(
            items: &[HashMap<String, AttributeValue>],
            key: Option<(String, &'static str)>,
        ) -> Result<Option<T>, StoreError> {
            const OPERATION: &str = "batch_get_item";
            let Some((pk, _)) = key else { return Ok(None) };
            items
                .iter()
                .find(|item| item.get(PK).and_then(|v| v.as_s().ok()) == Some(&pk))
                .map(|found| read_doc(found, OPERATION))
                .transpose()
        }
        let user = wanted.user.map(user_key).and_then(|(pk, _)| {
            items
                .iter()
                .find(|item| item.get(PK).and_then(|v| v.as_s().ok()) == Some(&pk))
        });
        Ok(Records {
            api_key: doc(&items, wanted.api_key.map(api_key_key))?,
            tenant: doc(&items, wanted.tenant.map(tenant_key))?,
            application: doc(&items, wanted.application.map(application_key))?,
            user: user
                .map(|item| read_user(item, "batch_get_item"))
                .transpose()?,
            identity: first_identity(&items, identities.0, identities.1),
        })
    }

    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        self.get_doc(&self.tables.directory, api_key_key(key_hash), "get api key")
            .await
    }

    async fn tenant(&self, id: Uuid) -> Result<Option<Tenant>, StoreError> {
        self.get_doc(&self.tables.directory, tenant_key(id), "get tenant")
            .await
    }

    async fn application(&self, id: Uuid) -> Result<Option<Application>, StoreError> {
        self.get_doc(
            &self.tables.directory,
            application_key(id),
            "get application",
        )
        .await
    }

    async fn signing_key(&self, id: Uuid) -> Result<Option<SigningKey>, StoreError> {
        self.get_doc(
            &self.tables.directory,
            signing_key_key(id),
            "get signing key",
        )
        .await
    }

    async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.directory)
            .set_key(Some(key_map(user_key(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("get user", e))?;
        output
            .item
            .as_ref()
            .map(|item| read_user(item, "get user"))
            .transpose()
    }

    async fn email_template(&self, id: Uuid) -> Result<Option<EmailTemplate>, StoreError> {
        self.get_doc(
            &self.tables.directory,
            email_template_key(id),
            "get email template",
        )
        .await
    }

    async fn message_template(&self, id: Uuid) -> Result<Option<MessageTemplate>, StoreError> {
        self.get_doc(
            &self.tables.directory,
            message_template_key(id),
            "get message template",
        )
        .await
    }

    async fn find_identity(
        &self,
        tenant: Uuid,
        candidates: &[IdentityKey],
    ) -> Result<Option<IdentityMatch>, StoreError> {
        if candidates.is_empty() {
            return Ok(None);
        }
        let keys: Vec<_> = candidates
            .iter()
            .map(|c| key_map(identity_key(tenant, c)))
            .collect();
        let items = self.batch_get_directory(keys).await?;
        Ok(first_identity(&items, tenant, candidates))
    }
}

/// The first of `candidates` (in their order) that `items` holds an identity of, in `tenant`.
fn first_identity(
    items: &[HashMap<String, AttributeValue>],
    tenant: Uuid,
    candidates: &[IdentityKey],
) -> Option<IdentityMatch> {
    let owner = |candidate: &IdentityKey| {
        let (pk, _) = identity_key(tenant, candidate);
        items
            .iter()
            .find(|item| item.get(PK).and_then(|v| v.as_s().ok()) == Some(&pk))
    };
    candidates.iter().find_map(|candidate| {
        let item = owner(candidate)?;
        let user_id = item.get("userId")?.as_s().ok()?.parse::<Uuid>().ok()?;
        // Items written before identities carried the user have no copy: send reads it then.
        let user = read_doc::<User>(item, "read identity").ok();
        Some(IdentityMatch {
            identity: candidate.clone(),
            user_id,
            user,
        })
    })
}

/// Whether a transaction was cancelled because its pointer check failed (a concurrent start moved
/// the pointer), as opposed to a conflict or throttling, which are failures to report.
fn pointer_moved<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> bool {
    match error.as_service_error() {
        Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            cancelled
                .cancellation_reasons()
                .iter()
                .any(|reason| reason.code() == Some("ConditionalCheckFailed"))
        }
        _ => false,
    }
}

/// Whether a transaction was cancelled because its first item's condition failed.
fn first_check_failed<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> bool {
    match error.as_service_error() {
        Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            cancelled
                .cancellation_reasons()
                .first()
                .is_some_and(|reason| reason.code() == Some("ConditionalCheckFailed"))
        }
        _ => false,
    }
}

/// A code's one-time-code comparison, counted: what the code item said once counted.
struct CountedAttempt {
    user_id: Uuid,
    one_time_code_hash: Option<String>,
    /// Comparisons counted against this code, this one included.
    attempts: u32,
}

enum UserCount {
    Counted,
    BudgetSpent,
    /// The user's pointer names a newer code: this one is superseded.
    Superseded,
}

/// The condition every use of a code shares: it exists, has not expired and, when the login
/// names an application, was started for it (`:app`). Codes written before the application was
/// kept beside the document have no `applicationId` and match any.
fn live_code(application_id: Option<Uuid>) -> &'static str {
    match application_id {
        Some(_) => {
            "attribute_exists(pk) AND expiresAt > :now \
             AND (attribute_not_exists(applicationId) OR applicationId = :app)"
        }
        None => "attribute_exists(pk) AND expiresAt > :now",
    }
}

impl DynamoStore {
    /// Marks the code used by `attempt_id` if it is live and `condition` holds; the code as it
    /// now is, else `NotFound`.
    async fn use_code(
        &self,
        presented: &Presented<'_>,
        condition: &str,
        one_time_code_hash: Option<&str>,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<Consumed, StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(code_key(presented.code_hash))))
            .update_expression("SET usedBy = :attempt")
            // Used by this very attempt: the SDK's retry of this write must succeed again.
            .condition_expression(format!(
                "{} AND (attribute_not_exists(usedBy) OR usedBy = :attempt) AND {condition}",
                live_code(presented.application_id)
            ))
            .set_expression_attribute_values(with_application(presented.application_id))
            .expression_attribute_values(":now", AttributeValue::N(now_millis.to_string()))
            .expression_attribute_values(":attempt", AttributeValue::S(attempt_id.to_owned()))
            .return_values(ReturnValue::AllNew);
        if let Some(otc) = one_time_code_hash {
            update = update.expression_attribute_values(":otc", AttributeValue::S(otc.to_owned()));
        }
        match update.send().await {
            Ok(output) => match output.attributes {
                Some(item) => {
                    read_pending(&item, "consume code").map(|c| Consumed::Code(Box::new(c)))
                }
                None => Ok(Consumed::NotFound),
            },
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(Consumed::NotFound)
            }
            Err(e) => Err(sdk_error("consume code", e)),
        }
    }

    /// Counts one comparison against the code, if it is live and has comparisons left.
    async fn count_attempt_on_code(
        &self,
        presented: &Presented<'_>,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<Option<CountedAttempt>, StoreError> {
        let counted = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(code_key(presented.code_hash))))
            .update_expression("ADD attempts :one")
            .condition_expression(format!(
                "{} AND attribute_not_exists(usedBy) \
                 AND (attribute_not_exists(attempts) OR attempts < :max)",
                live_code(presented.application_id)
            ))
            .set_expression_attribute_values(with_application(presented.application_id))
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":max", AttributeValue::N(limits.per_code.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now_millis.to_string()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let item = match counted {
            Ok(output) => output.attributes.unwrap_or_default(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(sdk_error("count one-time code", e)),
        };
        let pending: PendingCode = read_doc(&item, "count one-time code")?;
        Ok(Some(CountedAttempt {
            user_id: pending.user_id,
            one_time_code_hash: item.get("otcHash").and_then(|v| v.as_s().ok()).cloned(),
            attempts: number(&item, "attempts").unwrap_or(u32::MAX),
        }))
    }

    /// Counts one comparison against the user's budget for the window, on the pointer that names
    /// the user's newest code (which must still be this one).
    async fn count_attempt_on_user(
        &self,
        user_id: Uuid,
        code_hash: &str,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<UserCount, StoreError> {
        let window = rate_window(now_millis, limits.per_user_window_seconds);
        let counted = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(latest_code_key(user_id))))
            .update_expression("ADD #count :one REMOVE #before")
            .condition_expression(
                "codeHash = :code AND (attribute_not_exists(#count) OR #count < :budget)",
            )
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
        let Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(check)) =
            failed.as_service_error()
        else {
            return Err(sdk_error("count one-time code for user", failed));
        };
        let points_here = check
            .item()
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

/// A numeric attribute of an item.
fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<u32> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// The `:app` value [`live_code`] names, when it names one. Set first: the builder's
/// `set_expression_attribute_values` replaces the whole map.
fn with_application(application_id: Option<Uuid>) -> Option<HashMap<String, AttributeValue>> {
    application_id.map(|id| HashMap::from([(":app".to_owned(), AttributeValue::S(id.to_string()))]))
}

/// A code item's document with what the item keeps beside it: where it was delivered.
fn read_pending(
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
fn identity_text(identity: &IdentityKey) -> String {
    format!("{}#{}", identity.kind.as_str(), identity.value)
}

fn parse_identity(text: &str) -> Option<IdentityKey> {
    let (kind, value) = text.split_once('#')?;
    Some(IdentityKey {
        kind: crate::login_id::IdentityType::parse(kind)?,
        value: value.to_owned(),
    })
}

#[async_trait]
impl CodeStore for DynamoStore {
    async fn save_pending(&self, code: &PendingCode) -> Result<(), StoreError> {
        let table = &self.tables.codes;
        let expires_seconds = (code.expires_at_millis + 999) / 1000;
        let ttl = AttributeValue::N(expires_seconds.to_string());
        // The pointer outlives the code by a budget window, so that the user's count of wrong
        // attempts survives until the window that counted them is over.
        let pointer_ttl =
            expires_seconds + i64::from(crate::login::ATTEMPT_LIMITS.per_user_window_seconds);
        // Point the user at the new code and learn which code it replaces.
        let previous = self
            .client
            .update_item()
            .table_name(table)
            .set_key(Some(key_map(latest_code_key(code.user_id))))
            .update_expression("SET codeHash = :new, #ttl = :ttl")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":new", AttributeValue::S(code.code_hash.clone()))
            .expression_attribute_values(":ttl", AttributeValue::N(pointer_ttl.to_string()))
            .return_values(ReturnValue::UpdatedOld)
            .send()
            .await
            .map_err(|e| sdk_error("point at new code", e))?
            .attributes
            .and_then(|mut a| a.remove("codeHash"))
            .and_then(|v| v.as_s().ok().cloned());

        let mut item = doc_item(code_key(&code.code_hash), code)?;
        item.insert(TTL.to_owned(), ttl);
        // Top-level copies of what login's conditional delete checks.
        item.insert(
            "expiresAt".to_owned(),
            AttributeValue::N(code.expires_at_millis.to_string()),
        );
        if let Some(otc) = &code.one_time_code_hash {
            item.insert("otcHash".to_owned(), AttributeValue::S(otc.clone()));
        }
        item.insert(
            "applicationId".to_owned(),
            AttributeValue::S(code.application_id.to_string()),
        );
        let mut writes = vec![
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(item))
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
        let superseded = previous.as_deref().filter(|old| *old != code.code_hash);
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
        let written = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
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
                        .table_name(table)
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
        let matches = reserved
            .one_time_code_hash
            .as_deref()
            .is_none_or(|expected| crate::codes::same_secret(expected, one_time_code_hash));
        if matches {
            return self
                .use_code(
                    &presented,
                    "(attribute_not_exists(otcHash) OR otcHash = :otc)",
                    Some(one_time_code_hash),
                    attempt_id,
                    now_millis,
                )
                .await;
        }
        if reserved.attempts >= limits.per_code {
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

    async fn mark_delivered(
        &self,
        code_hash: &str,
        identity: &IdentityKey,
    ) -> Result<(), StoreError> {
        // A set: two sends to one address are one delivery, and concurrent sends both count.
        self.client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(code_key(code_hash))))
            .update_expression("ADD #delivered :identity")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#delivered", DELIVERED_TO)
            .expression_attribute_values(
                ":identity",
                AttributeValue::Ss(vec![identity_text(identity)]),
            )
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception())
                {
                    // Superseded while it was being sent: nothing left to verify with it.
                    Ok(())
                } else {
                    Err(sdk_error("record delivery", e))
                }
            })
    }
}
#[async_trait]
impl RateLimiter for DynamoStore {
    /// One conditional `UpdateItem` per event: the count and the check are one atomic step, so
    /// concurrent sends cannot overshoot the limit.
    async fn try_acquire(
        &self,
        key: &str,
        limit: u32,
        period_seconds: u32,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let window = rate_window(now_millis, period_seconds);
        let expires = (window + 1) * i64::from(period_seconds.max(1));
        let counted = self
            .client
            .update_item()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(rate_key(key, window))))
            .update_expression("ADD #count :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            .expression_attribute_values(":ttl", AttributeValue::N(expires.to_string()))
            .send()
            .await;
        match counted {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk_error("count send", e)),
        }
    }
}

#[async_trait]
impl Sessions for DynamoStore {
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
            put(
                &self.tables.directory,
                doc_item(login_record_key(&login.record), &login.record)?,
            )?,
        ];
        for item in identity_items(&login.user)? {
            writes.push(put(&self.tables.directory, item)?);
        }
        if let Some(token) = &login.refresh_token {
            let mut item = doc_item(refresh_token_key(&token.token_hash), token)?;
            item.insert(
                TTL.to_owned(),
                AttributeValue::N((token.expires_at_millis / 1000 + 1).to_string()),
            );
            writes.push(put(&self.tables.codes, item)?);
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
        let mut item = key_map(challenge_key(kind, id_hash));
        item.insert("userId".to_owned(), AttributeValue::S(user_id.to_string()));
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
            let owner = item.get("userId").and_then(|v| v.as_s().ok()).cloned();
            let expires = item
                .get("expiresAt")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<i64>().ok());
            owner == Some(user_id.to_string()) && expires.is_some_and(|e| e > now_millis)
        }))
    }
}
