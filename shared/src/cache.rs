//! A warm Lambda keeps tenants, applications, API keys, signing keys and templates for a short, configured
//! time, so that a warm start costs no round trip for them. Misses are not cached: a key created
//! a second ago works at once. Users and identities are never cached.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use uuid::Uuid;

use crate::login_id::IdentityKey;
use crate::model::{ApiKey, Application, EmailTemplate, MessageTemplate, SigningKey, Tenant, User};
use crate::ports::{Directory, IdentityMatch, StoreError};

struct TtlMap<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K, ttl: Duration) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(key, (Instant::now(), value));
        }
    }
}

pub struct CachedDirectory {
    inner: Arc<dyn Directory>,
    ttl: Duration,
    api_keys: TtlMap<String, ApiKey>,
    tenants: TtlMap<Uuid, Tenant>,
    applications: TtlMap<Uuid, Application>,
    signing_keys: TtlMap<Uuid, SigningKey>,
    email_templates: TtlMap<Uuid, EmailTemplate>,
    message_templates: TtlMap<Uuid, MessageTemplate>,
}

impl CachedDirectory {
    pub fn new(inner: Arc<dyn Directory>, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            api_keys: TtlMap::new(),
            tenants: TtlMap::new(),
            applications: TtlMap::new(),
            signing_keys: TtlMap::new(),
            email_templates: TtlMap::new(),
            message_templates: TtlMap::new(),
        }
    }
}

macro_rules! cached {
    ($self:ident, $map:ident, $key:expr, $load:expr) => {{
        if $self.ttl.is_zero() {
            return $load.await;
        }
        if let Some(hit) = $self.$map.get(&$key, $self.ttl) {
            return Ok(Some(hit));
        }
        let loaded = $load.await?;
        if let Some(value) = &loaded {
            $self.$map.put($key, value.clone());
        }
        Ok(loaded)
    }};
}

#[async_trait]
impl Directory for CachedDirectory {
    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        cached!(
            self,
            api_keys,
            key_hash.to_owned(),
            self.inner.api_key(key_hash)
        )
    }
    async fn tenant(&self, id: Uuid) -> Result<Option<Tenant>, StoreError> {
        cached!(self, tenants, id, self.inner.tenant(id))
    }
    async fn application(&self, id: Uuid) -> Result<Option<Application>, StoreError> {
        cached!(self, applications, id, self.inner.application(id))
    }
    async fn signing_key(&self, id: Uuid) -> Result<Option<SigningKey>, StoreError> {
        cached!(self, signing_keys, id, self.inner.signing_key(id))
    }
    async fn email_template(&self, id: Uuid) -> Result<Option<EmailTemplate>, StoreError> {
        cached!(self, email_templates, id, self.inner.email_template(id))
    }
    async fn message_template(&self, id: Uuid) -> Result<Option<MessageTemplate>, StoreError> {
        cached!(self, message_templates, id, self.inner.message_template(id))
    }
    async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.inner.user(id).await
    }
    async fn find_identity(
        &self,
        tenant: Uuid,
        candidates: &[IdentityKey],
    ) -> Result<Option<IdentityMatch>, StoreError> {
        self.inner.find_identity(tenant, candidates).await
    }
}
