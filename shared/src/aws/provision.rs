//! Writes a validated [`Kickstart`] into the Directory table. Loading is idempotent: every item is
//! written whole under a stable key, and a user's identities are rewritten in the same
//! transaction as the user, dropping the ones the user no longer has.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use super::dynamo::{
    api_key_key, application_key, doc_item, email_template_key, identity_items, identity_key,
    key_map, message_template_key, published_key, signing_key_key, tenant_key, user_item,
    user_state_revision, DynamoStore, PK,
};
use crate::kickstart::{Kickstart, KickstartError};
use crate::model::{Published, User};
use crate::ports::{Directory, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("refused: {0}")]
    Invalid(#[from] KickstartError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub keys: usize,
    pub tenants: usize,
    pub applications: usize,
    pub api_keys: usize,
    pub users: usize,
    pub templates: usize,
}

/// Checks what the file refers to outside itself, and that no identity belongs to another user
/// already stored; then writes everything.
/// What the Directory publishes once `kickstart` is loaded: the keys already published, with this
/// file's keys added (or replaced, by id); the default tenant stays the first file's.
async fn published(store: &DynamoStore, kickstart: &Kickstart) -> Result<Published, StoreError> {
    let mut published = store.published().await?;
    let new = kickstart.published();
    published
        .keys
        .retain(|old| new.keys.iter().all(|k| k.id != old.id));
    published.keys.extend(new.keys);
    published
        .id_token_signers
        .retain(|old| new.id_token_signers.iter().all(|s| s.owner != old.owner));
    published.id_token_signers.extend(new.id_token_signers);
    published.default_tenant_id = published.default_tenant_id.or(new.default_tenant_id);
    for tenant in new.tenant_ids {
        if !published.tenant_ids.contains(&tenant) {
            published.tenant_ids.push(tenant);
        }
    }
    Ok(published)
}

pub async fn load(store: &DynamoStore, kickstart: &Kickstart) -> Result<LoadReport, LoadError> {
    check_against_table(store, kickstart).await?;
    let table = store.tables().directory.clone();
    let mut items = Vec::new();
    for template in &kickstart.email_templates {
        items.push(doc_item(email_template_key(template.id), template)?);
    }
    for template in &kickstart.message_templates {
        items.push(doc_item(message_template_key(template.id), template)?);
    }
    for key in &kickstart.keys {
        items.push(doc_item(signing_key_key(key.id), key)?);
        if let Some(kid) = &key.kid {
            items.push(doc_item(
                signing_key_key(crate::model::kid_alias(kid)),
                key,
            )?);
        }
    }
    for tenant in &kickstart.tenants {
        items.push(doc_item(tenant_key(tenant.id), tenant)?);
    }
    for application in &kickstart.applications {
        items.push(doc_item(application_key(application.id), application)?);
    }
    for (hash, key) in &kickstart.api_keys {
        items.push(doc_item(api_key_key(hash), key)?);
    }
    items.push(doc_item(
        published_key(),
        &published(store, kickstart).await?,
    )?);
    for item in items {
        store
            .client()
            .put_item()
            .table_name(&table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| {
                StoreError::new("put item", aws_sdk_dynamodb::error::DisplayErrorContext(e))
            })?;
    }
    for user in &kickstart.users {
        write_user(store, user).await?;
    }
    Ok(LoadReport {
        keys: kickstart.keys.len(),
        tenants: kickstart.tenants.len(),
        applications: kickstart.applications.len(),
        api_keys: kickstart.api_keys.len(),
        users: kickstart.users.len(),
        templates: kickstart.email_templates.len() + kickstart.message_templates.len(),
    })
}

async fn check_against_table(store: &DynamoStore, kickstart: &Kickstart) -> Result<(), LoadError> {
    let refs = kickstart.external_references();
    for (object, id) in &refs.tenants {
        if store.tenant(*id).await?.is_none() {
            return Err(KickstartError::new(object, "tenantId", format!("no tenant {id}")).into());
        }
    }
    for (object, id) in &refs.keys {
        if store.signing_key(*id).await?.is_none() {
            return Err(KickstartError::new(
                object,
                "jwtConfiguration.accessTokenKeyId",
                format!("no key {id}"),
            )
            .into());
        }
    }
    for (object, id) in &refs.applications {
        if store.application(*id).await?.is_none() {
            return Err(KickstartError::new(
                object,
                "registrations.applicationId",
                format!("no application {id}"),
            )
            .into());
        }
    }
    let wanted: Vec<_> = kickstart.identities().collect();
    let keys = wanted
        .iter()
        .map(|(tenant, _, identity)| key_map(identity_key(*tenant, identity)))
        .collect();
    let owners: HashMap<String, String> = store
        .batch_get_directory(keys)
        .await?
        .into_iter()
        .filter_map(|item| {
            let pk = item.get(PK)?.as_s().ok()?.clone();
            let user = item.get("userId")?.as_s().ok()?.clone();
            Some((pk, user))
        })
        .collect();
    for (tenant, user_id, identity) in &wanted {
        let (pk, _) = identity_key(*tenant, identity);
        if let Some(owner) = owners.get(&pk).filter(|o| **o != user_id.to_string()) {
            return Err(KickstartError::new(
                &format!("users[{user_id}]"),
                identity.kind.as_str(),
                format!("{:?} already belongs to user {owner}", identity.value),
            )
            .into());
        }
    }
    Ok(())
}

/// The revision a loaded user gets: the SHA-256 of its document.
fn revision_of(user: &User) -> Result<String, StoreError> {
    let document = serde_json::to_string(user).map_err(|e| StoreError::new("serialize", e))?;
    Ok(format!("load-{}", crate::codes::hash_secret(&document)))
}

async fn write_user(store: &DynamoStore, user: &User) -> Result<(), LoadError> {
    let table = &store.tables().directory;
    let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::new("write user", e);
    let previous = store.user(user.id).await?;
    let current = user.identity_keys();
    let revision = revision_of(user)?;
    let mut writes = vec![
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(table)
                    // The revision names the content: a login that read the user before this
                    // load changed it cannot write its copy back over it, and loading the same
                    // file twice leaves the same item.
                    .set_item(Some(user_item(user, &revision)?))
                    .build()
                    .map_err(build)?,
            )
            .build(),
        user_state_revision(table, user.id, &revision)?,
    ];
    for item in identity_items(user)? {
        writes.push(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(pk) OR userId = :user")
                        .expression_attribute_values(
                            ":user",
                            AttributeValue::S(user.id.to_string()),
                        )
                        .build()
                        .map_err(build)?,
                )
                .build(),
        );
    }
    for stale in previous
        .iter()
        .flat_map(|p| p.identity_keys().into_iter().map(move |i| (p.tenant_id, i)))
        .filter(|(tenant, i)| *tenant != user.tenant_id || !current.contains(i))
    {
        writes.push(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(table)
                        .set_key(Some(key_map(identity_key(stale.0, &stale.1))))
                        .build()
                        .map_err(build)?,
                )
                .build(),
        );
    }
    store
        .client()
        .transact_write_items()
        .set_transact_items(Some(writes))
        .send()
        .await
        .map_err(|e| {
            StoreError::new(
                "write user",
                aws_sdk_dynamodb::error::DisplayErrorContext(e),
            )
        })?;
    Ok(())
}
