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
//! | Directory | `USER#{id}`                          | `USER`     | user with its identities            |
//! | Directory | `IDENTITY#{tenant}#{type}#{value}`   | `IDENTITY` | `userId`: one user per identity, and a copy of the user |
//! | Directory | `EMAILTEMPLATE#{id}`                 | `EMAILTEMPLATE` | email template                 |
//! | Directory | `MESSAGETEMPLATE#{id}`               | `MESSAGETEMPLATE` | SMS template                 |
//! | Codes     | `RATE#{send-email|send-sms}#{userId}#{window}` | `RATE` | sends counted in a window, `ttl` |
//! | Directory | `LOGIN#{userId}#{instant}#{sessionId}` | `LOGIN` | one login: time, IP, application  |
//! | Codes     | `REFRESHTOKEN#{sha256(token)}`       | `REFRESHTOKEN` | refresh token, `ttl`          |
//! | Codes     | `TWOFACTOR#…`, `CHANGEPASSWORD#…`, `TRUST#…` (sha256 of the id) | … | `userId`, `expiresAt`, `ttl` |
//! | Codes     | `CODE#{sha256(code)}`                | `CODE`     | pending code (hashes only), `usedBy` once used, `ttl` |
//! | Codes     | `LATESTCODE#{userId}`                | `LATESTCODE` | `codeHash` of the user's newest code, its wrong `attempts`, the user's wrong attempts per hour `failed{window}` |
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
    Directory, IdentityMatch, LoginRecord, RateLimiter, Records, Sessions, StoreError, Wanted,
};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const DOC: &str = "doc";
pub const TTL: &str = "ttl";

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

/// The attribute of a user's `LATESTCODE` item that counts wrong one-time codes in `window`.
fn failed_attempts_attribute(window: i64) -> String {
    format!("failed{window}")
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
        Ok(Records {
            api_key: doc(&items, wanted.api_key.map(api_key_key))?,
            tenant: doc(&items, wanted.tenant.map(tenant_key))?,
            application: doc(&items, wanted.application.map(application_key))?,
            user: doc(&items, wanted.user.map(user_key))?,
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
        self.get_doc(&self.tables.directory, user_key(id), "get user")
            .await
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
        // Point the user at the new code, reset the code's attempts, and learn which code it
        // replaces.
        let previous = self
            .client
            .update_item()
            .table_name(table)
            .set_key(Some(key_map(latest_code_key(code.user_id))))
            .update_expression("SET codeHash = :new, #ttl = :ttl REMOVE attempts")
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
        code_hash: &str,
        one_time_code_hash: Option<&str>,
        attempt_id: &str,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<Consumed, StoreError> {
        let table = &self.tables.codes;
        let mut condition = "attribute_exists(pk) AND expiresAt > :now \
             AND (attribute_not_exists(usedBy) OR usedBy = :attempt)"
            .to_owned();
        let mut mark = self
            .client
            .update_item()
            .table_name(table)
            .set_key(Some(key_map(code_key(code_hash))))
            .update_expression("SET usedBy = :attempt")
            .expression_attribute_values(":now", AttributeValue::N(now_millis.to_string()))
            .expression_attribute_values(":attempt", AttributeValue::S(attempt_id.to_owned()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            );
        match one_time_code_hash {
            Some(otc) => {
                condition.push_str(" AND (attribute_not_exists(otcHash) OR otcHash = :otc)");
                mark = mark.expression_attribute_values(":otc", AttributeValue::S(otc.to_owned()));
            }
            None => condition.push_str(" AND attribute_not_exists(otcHash)"),
        }
        let failed = match mark.condition_expression(condition).send().await {
            Ok(output) => {
                return match output.attributes {
                    Some(item) => {
                        read_doc(&item, "consume code").map(|c| Consumed::Code(Box::new(c)))
                    }
                    None => Ok(Consumed::NotFound),
                }
            }
            Err(e) => e,
        };
        let Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(check)) =
            failed.as_service_error()
        else {
            return Err(sdk_error("consume code", failed));
        };
        let Some(item) = check.item() else {
            return Ok(Consumed::NotFound);
        };
        let expires = item
            .get("expiresAt")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok());
        if expires.is_none_or(|e| e <= now_millis) || item.contains_key("usedBy") {
            return Ok(Consumed::NotFound);
        }
        // The code is live and unused, so the one-time code was wrong or missing: count it
        // against the code and its user, on the user's pointer, in one write. The condition
        // skips codes a newer start has superseded.
        let pending: PendingCode = read_doc(item, "consume code")?;
        let window = rate_window(now_millis, limits.per_user_window_seconds);
        let counted = self
            .client
            .update_item()
            .table_name(table)
            .set_key(Some(key_map(latest_code_key(pending.user_id))))
            .update_expression("ADD attempts :one, #failed :one REMOVE #before")
            .condition_expression("codeHash = :code")
            .expression_attribute_names("#failed", failed_attempts_attribute(window))
            .expression_attribute_names("#before", failed_attempts_attribute(window - 1))
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":code", AttributeValue::S(code_hash.to_owned()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        let counts = match counted {
            Ok(output) => output.attributes.unwrap_or_default(),
            // The pointer names another code: this one is superseded (a start that failed after
            // moving the pointer left it behind). Guesses against it are not counted, so it goes.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                self.client
                    .delete_item()
                    .table_name(table)
                    .set_key(Some(key_map(code_key(code_hash))))
                    .condition_expression("attribute_not_exists(usedBy)")
                    .send()
                    .await
                    .ok();
                return Ok(Consumed::NotFound);
            }
            Err(e) => return Err(sdk_error("count wrong one-time code", e)),
        };
        let count = |name: &str| {
            counts
                .get(name)
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(0)
        };
        if count("attempts") >= limits.per_code {
            self.client
                .delete_item()
                .table_name(table)
                .set_key(Some(key_map(code_key(code_hash))))
                .send()
                .await
                .map_err(|e| sdk_error("invalidate code", e))?;
        }
        if count(&failed_attempts_attribute(window)) > limits.per_user {
            return Ok(Consumed::AttemptBudgetSpent);
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
            .map(|item| read_doc(&item, "get code"))
            .transpose()
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
    /// refresh token, on the condition that the user's budget of wrong attempts is not spent.
    /// Every write is a plain put of this login's items and the transaction carries the attempt
    /// id as its idempotency token, so a retry writes nothing new.
    async fn complete_login(
        &self,
        login: &CompletedLogin,
        limits: AttemptLimits,
        now_millis: i64,
    ) -> Result<Completion, StoreError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::new("complete login", e);
        let put = |table: &str, item| {
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(build)
        };
        let window = rate_window(now_millis, limits.per_user_window_seconds);
        let budget_check = ConditionCheck::builder()
            .table_name(&self.tables.codes)
            .set_key(Some(key_map(latest_code_key(login.user.id))))
            .condition_expression("attribute_not_exists(#failed) OR #failed < :budget")
            .expression_attribute_names("#failed", failed_attempts_attribute(window))
            .expression_attribute_values(":budget", AttributeValue::N(limits.per_user.to_string()))
            .build()
            .map_err(build)?;
        let mut writes = vec![
            TransactWriteItem::builder()
                .condition_check(budget_check)
                .build(),
            put(
                &self.tables.directory,
                doc_item(user_key(login.user.id), &login.user)?,
            )?,
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
            // The budget check is the first item; any other cancellation is a failure to report.
            Err(e) if first_check_failed(&e) => Ok(Completion::AttemptBudgetSpent),
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
