//! The directory in memory: API keys, tenants, applications, signing keys, users and their
//! identities, templates and what was published, loaded by hand or from a kickstart file.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use uuid::Uuid;

use super::lock;
use crate::codes;
use crate::login_id::IdentityKey;
use crate::model::{
    ApiKey, Application, EmailTemplate, MessageTemplate, Published, SigningKey, Tenant, User,
};
use crate::ports::{Directory, IdentityMatch, StoreError};

#[derive(Default)]
pub struct MemoryDirectory {
    pub api_keys: Mutex<HashMap<String, ApiKey>>,
    pub tenants: Mutex<HashMap<Uuid, Tenant>>,
    pub applications: Mutex<HashMap<Uuid, Application>>,
    pub signing_keys: Mutex<HashMap<Uuid, SigningKey>>,
    pub users: Mutex<HashMap<Uuid, User>>,
    pub identities: Mutex<HashMap<(Uuid, IdentityKey), Uuid>>,
    pub email_templates: Mutex<HashMap<Uuid, EmailTemplate>>,
    pub message_templates: Mutex<HashMap<Uuid, MessageTemplate>>,
    pub published: Mutex<Published>,
}

impl MemoryDirectory {
    pub fn add_api_key(&self, raw_key: &str, key: ApiKey) {
        lock(&self.api_keys).insert(codes::hash_secret(raw_key), key);
    }
    pub fn add_tenant(&self, tenant: Tenant) {
        lock(&self.tenants).insert(tenant.id, tenant);
    }
    pub fn add_application(&self, application: Application) {
        lock(&self.applications).insert(application.id, application);
    }
    pub fn add_signing_key(&self, key: SigningKey) {
        lock(&self.signing_keys).insert(key.id, key);
    }
    pub fn add_user(&self, user: User) {
        let mut identities = lock(&self.identities);
        for identity in &user.identities {
            let key = IdentityKey {
                kind: identity.kind,
                value: identity.value.clone(),
            };
            identities.insert((user.tenant_id, key), user.id);
        }
        lock(&self.users).insert(user.id, user);
    }
}

#[async_trait]
impl Directory for MemoryDirectory {
    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        Ok(lock(&self.api_keys).get(key_hash).cloned())
    }
    async fn tenant(&self, id: Uuid) -> Result<Option<Tenant>, StoreError> {
        Ok(lock(&self.tenants).get(&id).cloned())
    }
    async fn application(&self, id: Uuid) -> Result<Option<Application>, StoreError> {
        Ok(lock(&self.applications).get(&id).cloned())
    }
    async fn signing_key(&self, id: Uuid) -> Result<Option<SigningKey>, StoreError> {
        Ok(lock(&self.signing_keys).get(&id).cloned())
    }
    async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        Ok(lock(&self.users).get(&id).cloned())
    }
    async fn email_template(&self, id: Uuid) -> Result<Option<EmailTemplate>, StoreError> {
        Ok(lock(&self.email_templates).get(&id).cloned())
    }
    async fn message_template(&self, id: Uuid) -> Result<Option<MessageTemplate>, StoreError> {
        Ok(lock(&self.message_templates).get(&id).cloned())
    }
    async fn published(&self) -> Result<Published, StoreError> {
        Ok(lock(&self.published).clone())
    }
    async fn find_identity(
        &self,
        tenant: Uuid,
        candidates: &[IdentityKey],
    ) -> Result<Option<IdentityMatch>, StoreError> {
        let identities = lock(&self.identities);
        let users = lock(&self.users);
        Ok(candidates.iter().find_map(|c| {
            identities
                .get(&(tenant, c.clone()))
                .map(|user_id| IdentityMatch {
                    identity: c.clone(),
                    user_id: *user_id,
                    user: users.get(user_id).cloned(),
                })
        }))
    }
}

impl MemoryDirectory {
    /// A directory holding everything `kickstart` provisions.
    pub fn from_kickstart(kickstart: crate::kickstart::Kickstart) -> Self {
        let directory = Self::default();
        *lock(&directory.published) = kickstart.published();
        kickstart
            .keys
            .into_iter()
            .for_each(|k| directory.add_signing_key(k));
        kickstart
            .tenants
            .into_iter()
            .for_each(|t| directory.add_tenant(t));
        kickstart
            .applications
            .into_iter()
            .for_each(|a| directory.add_application(a));
        lock(&directory.api_keys).extend(kickstart.api_keys);
        kickstart
            .users
            .into_iter()
            .for_each(|u| directory.add_user(u));
        lock(&directory.email_templates)
            .extend(kickstart.email_templates.into_iter().map(|t| (t.id, t)));
        lock(&directory.message_templates)
            .extend(kickstart.message_templates.into_iter().map(|t| (t.id, t)));
        directory
    }
}
