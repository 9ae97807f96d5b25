//! API keys (issue 7, property 10): start refuses a missing, unknown, revoked, tenant-mismatched
//! or endpoint-restricted key with 401 and writes nothing; a key is looked up by its SHA-256, so
//! a key wrong only in its last character is refused exactly like a random one.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use passwordless::aws::dynamo::{api_key_key, key_map};
use passwordless::codes::hash_secret;
use passwordless::login_id::IdentityKey;
use passwordless::model::{
    ApiKey, Application, EmailTemplate, MessageTemplate, SigningKey, Tenant, User,
};
use passwordless::ports::{Directory, IdentityMatch, StoreError};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

const OTHER_TENANT: &str = "7a1e0000-0000-4000-8000-000000000002";
const GET_ONLY_KEY: &str = "start-by-get-only-key-0123456789abcdef";
const USERS_ONLY_KEY: &str = "users-api-only-key-0123456789abcdef";

/// The example kickstart plus two keys whose `permissions.endpoints` do not allow
/// `POST /api/passwordless/start`.
fn kickstart_with_restricted_keys() -> String {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let keys = kickstart["apiKeys"].as_array_mut().unwrap();
    keys.push(
        json!({"id": "5e6f7a8b-3333-4c3f-9d55-2a8f1d7e6b01", "key": GET_ONLY_KEY,
        "permissions": {"endpoints": {"/api/passwordless/start": ["GET"]}}}),
    );
    keys.push(
        json!({"id": "5e6f7a8b-4444-4c3f-9d55-2a8f1d7e6b01", "key": USERS_ONLY_KEY,
        "permissions": {"endpoints": {"/api/user": ["POST", "GET"]}}}),
    );
    kickstart.to_string()
}

fn richard() -> Value {
    json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"})
}

/// Status, headers and body.
fn wire(response: &TestResponse) -> (u16, Vec<(String, String)>, String) {
    let headers = response
        .headers
        .iter()
        .map(|(n, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (n.as_str().to_owned(), value)
        })
        .collect();
    (response.status, headers, response.body.clone())
}

#[tokio::test]
async fn missing_unknown_revoked_tenant_mismatched_and_endpoint_restricted_keys_get_401_and_nothing_is_written(
) {
    let app = TestApp::spawn_with(&kickstart_with_restricted_keys()).await;
    // Revoke the global key as an operator would: delete its item.
    app.store
        .client()
        .delete_item()
        .table_name(&app.store.tables().directory)
        .set_key(Some(key_map(api_key_key(&hash_secret(GLOBAL_KEY)))))
        .send()
        .await
        .expect("the key is deleted");

    let cases: [(&str, Vec<(&str, &str)>); 6] = [
        ("missing", vec![]),
        (
            "unknown",
            vec![("authorization", "no-such-key-0123456789abcdef0123")],
        ),
        ("revoked", vec![("authorization", GLOBAL_KEY)]),
        (
            "locked to another tenant than the header's",
            vec![
                ("authorization", LOCKED_KEY),
                ("x-fusionauth-tenantid", OTHER_TENANT),
            ],
        ),
        ("allowed GET only", vec![("authorization", GET_ONLY_KEY)]),
        (
            "allowed other endpoints only",
            vec![("authorization", USERS_ONLY_KEY)],
        ),
    ];
    for (case, headers) in cases {
        let response = app
            .start(event(
                "/api/passwordless/start",
                &headers,
                &richard().to_string(),
            ))
            .await;
        assert_eq!(response.status, 401, "{case}: {}", response.body);
        assert_eq!(response.body, "", "{case}");
    }
    assert!(
        app.code_items().await.is_empty(),
        "a refused start wrote to the Codes table"
    );

    // The same request with a key that may call start goes through: the 401s were the keys'.
    let allowed = app.start(start_event(Some(LOCKED_KEY), richard())).await;
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert!(!app.code_items().await.is_empty());
}

/// The real Directory, recording which API key hashes it is asked for.
struct RecordingDirectory {
    inner: Arc<dyn Directory>,
    key_lookups: Mutex<Vec<String>>,
}

#[async_trait]
impl Directory for RecordingDirectory {
    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        self.key_lookups.lock().unwrap().push(key_hash.to_owned());
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
    async fn published(&self) -> Result<passwordless::model::Published, StoreError> {
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

/// Why a near miss learns nothing: the presented key is never compared with the stored one, byte
/// by byte or otherwise. It is hashed, and the hash is the item's key: one lookup that finds the
/// item or not. A key right in all but its last character has a hash as unrelated to the real
/// key's as a random key's is, so the lookup, its cost and the answer are those of a random key.
#[tokio::test]
async fn a_key_wrong_only_in_its_last_character_is_refused_exactly_like_a_random_key() {
    let mut app = TestApp::spawn().await;
    let recording = Arc::new(RecordingDirectory {
        inner: app.start_fn.services.directory.clone(),
        key_lookups: Mutex::new(Vec::new()),
    });
    app.start_fn.services.directory = recording.clone();

    let last = GLOBAL_KEY.chars().last().unwrap();
    let near_miss = format!(
        "{}{}",
        &GLOBAL_KEY[..GLOBAL_KEY.len() - 1],
        if last == 'f' { 'e' } else { 'f' }
    );
    let random = "q7Zr1mX0pLk4Vb8Nw2Hs6Jd9Tc3Yf5Ga1Ue0Io7Kl2M";
    let near = app.start(start_event(Some(&near_miss), richard())).await;
    let rand = app.start(start_event(Some(random), richard())).await;
    assert_eq!(near.status, 401);
    assert_eq!(wire(&near), wire(&rand));
    assert!(app.code_items().await.is_empty());

    let lookups = recording.key_lookups.lock().unwrap().clone();
    assert_eq!(lookups, [hash_secret(&near_miss), hash_secret(random)]);
    let stored = hash_secret(GLOBAL_KEY);
    let common_prefix =
        |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    assert!(
        common_prefix(&lookups[0], &stored) < 8,
        "the near miss's hash shares a long prefix with the real key's: {} / {stored}",
        lookups[0]
    );
}
