//! The [`Directory`] reads: single items by `GetItem`, several at once by `BatchGetItem`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use serde::de::DeserializeOwned;

use super::item::{key_map, read_doc, user_among, PK, SK};
use super::keys::*;
use super::{build_error, retry, sdk_error, DynamoStore};
use crate::login_id::IdentityKey;
use crate::model::{
    ApiKey, Application, EmailTemplate, MessageTemplate, Published, SigningKey, Tenant, User,
};
use crate::ports::{Directory, IdentityMatch, Records, StoreError, Wanted};

impl DynamoStore {
    async fn get_doc<T: DeserializeOwned>(
        &self,
        table: &str,
        key: (String, &'static str),
        operation: &'static str,
    ) -> Result<Option<T>, StoreError> {
        self.get_read(table, key, operation, read_doc).await
    }

    /// One item by key (strongly consistent), as `read` makes it into an entity.
    pub(super) async fn get_read<T>(
        &self,
        table: &str,
        key: (String, &'static str),
        operation: &'static str,
        read: fn(&HashMap<String, AttributeValue>, &'static str) -> Result<T, StoreError>,
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
            .map(|item| read(item, operation))
            .transpose()
    }

    /// Reads items of the Directory table by key, in one or more `BatchGetItem` calls.
    pub async fn batch_get_directory(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true)
                .build()
                .map_err(build_error("batch_get_item"))?;
            // DynamoDB may leave keys unprocessed under load: ask again for those only.
            let read = retry::until_processed("batch_get_item", request, |request| async {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.tables.directory, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error("batch_get_item", e))?;
                let items = output
                    .responses
                    .and_then(|mut r| r.remove(&self.tables.directory))
                    .unwrap_or_default();
                let left = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.tables.directory))
                    .filter(|k| !k.keys.is_empty());
                Ok((items, left))
            })
            .await?;
            found.extend(read);
        }
        Ok(found)
    }

    /// Reads items of several tables by key in one `BatchGetItem` (at most 100 keys in all),
    /// asking again for what DynamoDB left unprocessed.
    pub async fn batch_get_tables(
        &self,
        mut requests: HashMap<String, Vec<HashMap<String, AttributeValue>>>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        requests.retain(|_, keys| !keys.is_empty());
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        // DynamoDB may leave keys unprocessed under load: ask again for those only.
        retry::until_processed("batch_get_item", requests, |requests| async {
            let mut batch = self.client.batch_get_item();
            for (table, keys) in requests {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(build_error("batch_get_item"))?;
                batch = batch.request_items(table, request);
            }
            let output = batch
                .send()
                .await
                .map_err(|e| sdk_error("batch_get_item", e))?;
            let items = output.responses.unwrap_or_default().into_values().flatten();
            let left: HashMap<_, _> = output
                .unprocessed_keys
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, left)| !left.keys.is_empty())
                .map(|(table, left)| (table, left.keys))
                .collect();
            Ok((items.collect(), (!left.is_empty()).then_some(left)))
        })
        .await
    }
}

#[async_trait]
impl Directory for DynamoStore {
    /// One `BatchGetItem` over both tables: what is wanted of the Directory (the suppression
    /// list included) and, from the Codes table, the user's code pointer.
    async fn records(&self, wanted: &Wanted<'_>) -> Result<Records, StoreError> {
        let identities = wanted.identity.unwrap_or_default();
        let directory_keys: Vec<_> = [
            wanted.api_key.map(api_key_key),
            wanted.tenant.map(tenant_key),
            wanted.application.map(application_key),
            wanted.user.map(user_key),
            wanted.user.map(user_state_key),
            wanted.suppressed.map(suppressed_key),
        ]
        .into_iter()
        .flatten()
        .chain(identities.1.iter().map(|c| identity_key(identities.0, c)))
        .map(key_map)
        .collect();
        let codes_keys: Vec<_> = wanted
            .newest_code
            .map(latest_code_key)
            .into_iter()
            .map(key_map)
            .collect();
        let items = match (directory_keys.is_empty(), codes_keys.is_empty()) {
            (true, true) => return Ok(Records::default()),
            (false, true) => self.batch_get_directory(directory_keys).await?,
            _ => {
                self.batch_get_tables(HashMap::from([
                    (self.tables.directory.clone(), directory_keys),
                    (self.tables.codes.clone(), codes_keys),
                ]))
                .await?
            }
        };
        // The item of `key` among those read (the two tables' keys share no prefix), as `read`
        // makes it into an entity.
        fn found<T>(
            items: &[HashMap<String, AttributeValue>],
            key: Option<(String, &'static str)>,
            read: fn(&HashMap<String, AttributeValue>, &'static str) -> Result<T, StoreError>,
        ) -> Result<Option<T>, StoreError> {
            let Some((pk, _)) = key else { return Ok(None) };
            items
                .iter()
                .find(|item| item.get(PK).and_then(|v| v.as_s().ok()) == Some(&pk))
                .map(|item| read(item, "batch_get_item"))
                .transpose()
        }
        fn code_hash(
            item: &HashMap<String, AttributeValue>,
            _: &'static str,
        ) -> Result<Option<String>, StoreError> {
            Ok(item.get("codeHash").and_then(|v| v.as_s().ok()).cloned())
        }
        fn present(_: &HashMap<String, AttributeValue>, _: &'static str) -> Result<(), StoreError> {
            Ok(())
        }
        Ok(Records {
            api_key: found(&items, wanted.api_key.map(api_key_key), read_doc)?,
            tenant: found(&items, wanted.tenant.map(tenant_key), read_doc)?,
            application: found(&items, wanted.application.map(application_key), read_doc)?,
            user: match wanted.user {
                Some(id) => user_among(&items, id, "batch_get_item")?,
                None => None,
            },
            identity: first_identity(&items, identities.0, identities.1),
            newest_code: found(&items, wanted.newest_code.map(latest_code_key), code_hash)?
                .flatten(),
            suppressed: found(&items, wanted.suppressed.map(suppressed_key), present)?.is_some(),
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

    /// The user item and its state item in one `BatchGetItem`.
    async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let keys = vec![key_map(user_key(id)), key_map(user_state_key(id))];
        let items = self.batch_get_directory(keys).await?;
        user_among(&items, id, "get user")
    }

    /// One `BatchGetItem` (100 keys a call: 50 users with their state items), strongly
    /// consistent.
    async fn users(&self, ids: &[Uuid]) -> Result<Vec<User>, StoreError> {
        let keys = ids
            .iter()
            .flat_map(|id| [key_map(user_key(*id)), key_map(user_state_key(*id))])
            .collect();
        let items = self.batch_get_directory(keys).await?;
        let user_ids = items
            .iter()
            .filter(|item| {
                item.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str) == Some("USER")
            })
            .filter_map(|item| item.get(PK).and_then(|v| v.as_s().ok()))
            .filter_map(|pk| pk.strip_prefix("USER#")?.parse::<Uuid>().ok())
            .collect::<Vec<_>>();
        user_ids
            .into_iter()
            .filter_map(|id| user_among(&items, id, "batch_get_item").transpose())
            .collect()
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

    async fn published(&self) -> Result<Published, StoreError> {
        self.get_doc(&self.tables.directory, published_key(), "get published")
            .await
            .map(Option::unwrap_or_default)
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
        Some(IdentityMatch {
            identity: candidate.clone(),
            user_id,
        })
    })
}
