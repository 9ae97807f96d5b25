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
use crate::model::{
    ApiKey, Application, EmailTemplate, MessageTemplate, Published, SigningKey, Tenant, User,
};
use crate::ports::{Directory, IdentityMatch, Records, StoreError, Wanted};

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
    published: TtlMap<(), Published>,
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
            published: TtlMap::new(),
        }
    }
}

macro_rules! cached {
    ($self:ident, $map:ident, $key:expr, $load:expr) => {{
        let key = $key;
        if let Some(hit) = $self.hit(&$self.$map, Some(key.clone())) {
            return Ok(Some(hit));
        }
        let loaded = $load.await?;
        $self.keep(&$self.$map, Some(key), &loaded);
        Ok(loaded)
    }};
}

impl CachedDirectory {
    fn hit<K: Eq + Hash, V: Clone>(&self, map: &TtlMap<K, V>, key: Option<K>) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        map.get(&key?, self.ttl)
    }

    fn keep<K: Eq + Hash, V: Clone>(&self, map: &TtlMap<K, V>, key: Option<K>, found: &Option<V>) {
        if let (false, Some(key), Some(value)) = (self.ttl.is_zero(), key, found) {
            map.put(key, value.clone());
        }
    }
}

#[async_trait]
impl Directory for CachedDirectory {
    /// What the cache holds is taken from it; the rest is read in one call.
    async fn records(&self, wanted: &Wanted<'_>) -> Result<Records, StoreError> {
        let cached = Records {
            api_key: self.hit(&self.api_keys, wanted.api_key.map(str::to_owned)),
            tenant: self.hit(&self.tenants, wanted.tenant),
            application: self.hit(&self.applications, wanted.application),
            ..Records::default()
        };
        let missing = Wanted {
            api_key: wanted.api_key.filter(|_| cached.api_key.is_none()),
            tenant: wanted.tenant.filter(|_| cached.tenant.is_none()),
            application: wanted.application.filter(|_| cached.application.is_none()),
            ..*wanted
        };
        let read = self.inner.records(&missing).await?;
        self.keep(
            &self.api_keys,
            missing.api_key.map(str::to_owned),
            &read.api_key,
        );
        self.keep(&self.tenants, missing.tenant, &read.tenant);
        self.keep(&self.applications, missing.application, &read.application);
        Ok(Records {
            api_key: cached.api_key.or(read.api_key),
            tenant: cached.tenant.or(read.tenant),
            application: cached.application.or(read.application),
            ..read
        })
    }
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
    /// Kept like a tenant: the JWKS of a warm container costs no round trip.
    async fn published(&self) -> Result<Published, StoreError> {
        if let Some(hit) = self.hit(&self.published, Some(())) {
            return Ok(hit);
        }
        let loaded = self.inner.published().await?;
        self.keep(&self.published, Some(()), &Some(loaded.clone()));
        Ok(loaded)
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
    async fn users(&self, ids: &[Uuid]) -> Result<Vec<User>, StoreError> {
        self.inner.users(ids).await
    }
    async fn find_identity(
        &self,
        tenant: Uuid,
        candidates: &[IdentityKey],
    ) -> Result<Option<IdentityMatch>, StoreError> {
        self.inner.find_identity(tenant, candidates).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryDirectory;

    const TENANT: Uuid = Uuid::from_u128(0xb0000000_0000_4000_8000_000000000001);
    const APPLICATION: Uuid = Uuid::from_u128(0xb0000000_0000_4000_8000_0000000000a1);
    const USER: Uuid = Uuid::from_u128(0xb0000000_0000_4000_8000_0000000000b1);

    /// Whether one `records` call asked for the API key, tenant, application, user and identity.
    type Asked = (bool, bool, bool, bool, bool);

    /// The directory behind the cache, noting what each `records` call asked for.
    struct Recording {
        inner: MemoryDirectory,
        asked: Mutex<Vec<Asked>>,
    }

    #[async_trait]
    impl Directory for Recording {
        async fn records(&self, wanted: &Wanted<'_>) -> Result<Records, StoreError> {
            if let Ok(mut asked) = self.asked.lock() {
                asked.push((
                    wanted.api_key.is_some(),
                    wanted.tenant.is_some(),
                    wanted.application.is_some(),
                    wanted.user.is_some(),
                    wanted.identity.is_some(),
                ));
            }
            self.inner.records(wanted).await
        }
        async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
            self.inner.api_key(key_hash).await
        }
        async fn tenant(&self, id: Uuid) -> Result<Option<Tenant>, StoreError> {
            self.inner.tenant(id).await
        }
        async fn application(&self, id: Uuid) -> Result<Option<Application>, StoreError> {
            self.inner.application(id).await
        }
        async fn signing_key(&self, id: Uuid) -> Result<Option<SigningKey>, StoreError> {
            self.inner.signing_key(id).await
        }
        async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
            self.inner.user(id).await
        }
        async fn email_template(&self, id: Uuid) -> Result<Option<EmailTemplate>, StoreError> {
            self.inner.email_template(id).await
        }
        async fn message_template(&self, id: Uuid) -> Result<Option<MessageTemplate>, StoreError> {
            self.inner.message_template(id).await
        }
        async fn published(&self) -> Result<Published, StoreError> {
            self.inner.published().await
        }
        async fn find_identity(
            &self,
            tenant: Uuid,
            candidates: &[IdentityKey],
        ) -> Result<Option<IdentityMatch>, StoreError> {
            self.inner.find_identity(tenant, candidates).await
        }
    }

    fn cached(ttl: Duration) -> (Arc<Recording>, CachedDirectory) {
        let kickstart = crate::kickstart::parse(include_str!("../../bench/kickstart.json"))
            .expect("the bench kickstart parses");
        let recording = Arc::new(Recording {
            inner: MemoryDirectory::from_kickstart(kickstart),
            asked: Mutex::new(Vec::new()),
        });
        let cache = CachedDirectory::new(recording.clone(), ttl);
        (recording, cache)
    }

    fn asked(recording: &Recording) -> Vec<Asked> {
        recording
            .asked
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }

    const ALL: Wanted<'static> = Wanted {
        api_key: None,
        tenant: Some(TENANT),
        application: Some(APPLICATION),
        user: Some(USER),
        identity: None,
        newest_code: None,
        suppressed: None,
    };

    #[tokio::test]
    async fn a_cold_cache_reads_what_is_wanted_at_once_and_a_warm_one_only_the_user() {
        let (recording, cache) = cached(Duration::from_secs(60));
        let cold = cache.records(&ALL).await.expect("read");
        let warm = cache.records(&ALL).await.expect("read");
        for records in [&cold, &warm] {
            assert_eq!(records.tenant.as_ref().map(|t| t.id), Some(TENANT));
            assert_eq!(
                records.application.as_ref().map(|a| a.id),
                Some(APPLICATION)
            );
            assert_eq!(records.user.as_ref().map(|u| u.id), Some(USER));
        }
        assert_eq!(
            asked(&recording),
            [
                (false, true, true, true, false),
                (false, false, false, true, false)
            ]
        );
    }

    #[tokio::test]
    async fn a_record_that_does_not_exist_is_none_and_is_asked_for_again() {
        let (recording, cache) = cached(Duration::from_secs(60));
        let missing = Wanted {
            application: Some(Uuid::from_u128(404)),
            ..ALL
        };
        for _ in 0..2 {
            let records = cache.records(&missing).await.expect("read");
            assert!(records.application.is_none());
            assert!(records.tenant.is_some());
        }
        assert_eq!(
            asked(&recording),
            [
                (false, true, true, true, false),
                (false, false, true, true, false)
            ]
        );
    }

    #[tokio::test]
    async fn with_no_cache_every_record_is_read_every_time() {
        let (recording, cache) = cached(Duration::ZERO);
        for _ in 0..2 {
            cache.records(&ALL).await.expect("read");
        }
        assert_eq!(
            asked(&recording),
            [
                (false, true, true, true, false),
                (false, true, true, true, false)
            ]
        );
    }

    #[tokio::test]
    async fn an_identity_is_looked_up_every_time_beside_the_uncached_tenant() {
        let (recording, cache) = cached(Duration::from_secs(60));
        let candidates = [IdentityKey {
            kind: crate::login_id::IdentityType::Email,
            value: "ada@bench.example.com".to_owned(),
        }];
        let wanted = Wanted {
            tenant: Some(TENANT),
            identity: Some((TENANT, &candidates)),
            ..Wanted::default()
        };
        for _ in 0..2 {
            let records = cache.records(&wanted).await.expect("read");
            assert_eq!(records.tenant.as_ref().map(|t| t.id), Some(TENANT));
            assert_eq!(records.identity.map(|found| found.user_id), Some(USER));
        }
        assert_eq!(
            asked(&recording),
            [
                (false, true, false, false, true),
                (false, false, false, false, true)
            ]
        );
    }
}
