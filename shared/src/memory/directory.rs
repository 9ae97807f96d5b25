//! The directory in memory: API keys, tenants, applications, signing keys, users and their
//! identities, templates and what was published, loaded by hand or from a kickstart file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use uuid::Uuid;

use super::{lock, MemoryCodeStore, MemorySuppressions};
use crate::codes;
use crate::login_id::IdentityKey;
use crate::model::{
    ApiKey, Application, EmailTemplate, MessageTemplate, Published, SigningKey, Tenant, User,
};
use crate::ports::{Directory, IdentityMatch, Records, StoreError, Wanted};

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
    /// What [`Directory::records`] reads beside the directory, as DynamoDB reads it in the same
    /// batch: the code store's pointers and the suppression list ([`MemoryDirectory::linked`]).
    pub codes: Option<Arc<MemoryCodeStore>>,
    pub suppressions: Option<Arc<MemorySuppressions>>,
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

impl MemoryDirectory {
    /// This directory, answering [`Wanted::newest_code`] from `codes` and [`Wanted::suppressed`]
    /// from `suppressions`.
    pub fn linked(
        mut self,
        codes: Arc<MemoryCodeStore>,
        suppressions: Arc<MemorySuppressions>,
    ) -> Self {
        self.codes = Some(codes);
        self.suppressions = Some(suppressions);
        self
    }
}

#[async_trait]
impl Directory for MemoryDirectory {
    async fn records(&self, wanted: &Wanted<'_>) -> Result<Records, StoreError> {
        let unlinked = || StoreError::new("records", "the directory is not linked to codes");
        let newest_code = match (wanted.newest_code, &self.codes) {
            (None, _) => None,
            (Some(user), Some(codes)) => lock(&codes.latest).get(&user).cloned(),
            (Some(_), None) => return Err(unlinked()),
        };
        let suppressed = match (wanted.suppressed, &self.suppressions) {
            (None, _) => false,
            (Some(hash), Some(list)) => lock(&list.suppressed).contains_key(hash),
            (Some(_), None) => return Err(unlinked()),
        };
        Ok(Records {
            newest_code,
            suppressed,
            ..crate::ports::read_each(self, wanted).await?
        })
    }
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
        Ok(candidates.iter().find_map(|c| {
            identities
                .get(&(tenant, c.clone()))
                .map(|user_id| IdentityMatch {
                    identity: c.clone(),
                    user_id: *user_id,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{PendingCodes, SuppressionReason, Suppressions};

    #[tokio::test]
    async fn records_read_the_users_newest_code_and_the_suppression_list_beside_the_directory() {
        let codes = Arc::new(MemoryCodeStore::default());
        let list = Arc::new(MemorySuppressions::default());
        let directory = MemoryDirectory::default().linked(codes.clone(), list.clone());
        let user = Uuid::from_u128(7);
        let wanted = Wanted {
            newest_code: Some(user),
            suppressed: Some("hash-of-an-address"),
            ..Wanted::default()
        };
        let before = directory.records(&wanted).await.unwrap();
        assert_eq!((before.newest_code, before.suppressed), (None, false));

        let code = crate::model::PendingCode {
            code_hash: "the-newest".into(),
            one_time_code_hash: None,
            sealed_one_time_code: None,
            fallback_code_hash: None,
            user_id: user,
            tenant_id: user,
            application_id: user,
            identity_type: crate::login_id::IdentityType::Email,
            identity_value: "a@b.example".into(),
            strategy: crate::model::LoginStrategy::ClickableLink,
            state: None,
            created_at_millis: 0,
            expires_at_millis: 1,
            user: None,
            delivered_to: Vec::new(),
            sign_up: false,
        };
        codes
            .save_pending(&code, crate::login::ATTEMPT_LIMITS)
            .await
            .unwrap();
        list.suppress("hash-of-an-address", SuppressionReason::Bounce, 0)
            .await
            .unwrap();
        let after = directory.records(&wanted).await.unwrap();
        assert_eq!(after.newest_code.as_deref(), Some("the-newest"));
        assert!(after.suppressed);
    }

    #[tokio::test]
    async fn an_unlinked_directory_refuses_to_answer_for_codes_rather_than_answer_wrongly() {
        let wanted = Wanted {
            newest_code: Some(Uuid::from_u128(7)),
            ..Wanted::default()
        };
        assert!(MemoryDirectory::default().records(&wanted).await.is_err());
    }
}
