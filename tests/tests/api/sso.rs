//! The SSO session store against DynamoDB: stored by the cookie's hash with a TTL, found until it
//! ends or expires, and every write surviving the SDK's retry of a lost response.

use aws_sdk_dynamodb::types::AttributeValue;
use passwordless::aws::dynamo::{DynamoStore, Tables};
use passwordless::aws::lambda_sdk_config;
use passwordless::codes::hash_secret;
use passwordless::model::Tenant;
use passwordless::oauth2::sso;
use passwordless::ports::SsoSessions;
use passwordless::system::OsRandom;
use uuid::Uuid;

use crate::fault_injection::{faulty, Fault, Faults};
use crate::helpers::*;

const TENANT: &str = "78e6c1d4-1b67-4b84-9a3c-e7a6d9b0c4a1";

fn tenant(seconds: u32) -> Tenant {
    serde_json::from_value(serde_json::json!({
        "id": TENANT,
        "ssoConfiguration": {"deviceTrustTimeToLiveInSeconds": seconds},
    }))
    .unwrap()
}

/// The value of a `fusionauth.sso` Set-Cookie.
pub fn sso_cookie_value(set_cookie: &str) -> &str {
    set_cookie
        .strip_prefix("fusionauth.sso=")
        .and_then(|rest| rest.split(';').next())
        .expect("a fusionauth.sso cookie")
}

/// The app's tables through a client whose calls `faults` can disturb.
fn faulty_store(app: &TestApp, faults: &Faults) -> DynamoStore {
    let sdk = lambda_sdk_config().unwrap();
    DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&faulty(&sdk, faults)),
        Tables::clone(&app.wiring.tables),
    )
}

#[tokio::test]
async fn a_session_is_stored_by_the_hash_of_its_cookie_with_a_ttl_and_found_until_it_ends() {
    let app = TestApp::spawn().await;
    let user = Uuid::new_v4();
    let now = 1_700_000_000_000;
    let (cookie, session) =
        sso::start_session(&app.store, &OsRandom, &tenant(3600), user, now, now)
            .await
            .unwrap();
    let secret = sso_cookie_value(&cookie);

    let items = app.code_items().await;
    let item = items
        .iter()
        .find(|i| i["pk"].as_s().is_ok_and(|pk| pk.starts_with("SSO#")))
        .expect("the session's item");
    assert_eq!(
        item["pk"],
        AttributeValue::S(format!("SSO#{}", hash_secret(secret)))
    );
    assert_eq!(
        item["ttl"],
        AttributeValue::N(((now + 3_600_000) / 1000 + 1).to_string())
    );
    let everything = format!("{items:?}");
    assert!(!everything.contains(secret), "the cookie is never stored");

    let found = sso::current_session(&app.store, Some(secret), session.tenant_id, now + 1)
        .await
        .unwrap();
    assert_eq!(found.as_ref(), Some(&session));
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    for id in [a, b, a] {
        app.store
            .add_refresh_token(&session.id_hash, id)
            .await
            .unwrap();
    }
    let mut ended = app.store.end(&session.id_hash).await.unwrap().unwrap();
    ended.refresh_token_ids.sort();
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(ended.refresh_token_ids, both);
    assert_eq!(app.store.end(&session.id_hash).await.unwrap(), None);
    assert_eq!(app.store.find(&session.id_hash).await.unwrap(), None);
    assert!(
        app.store
            .add_refresh_token(&session.id_hash, Uuid::new_v4())
            .await
            .is_err(),
        "an ended session takes no refresh token"
    );
    let expired = sso::current_session(&app.store, Some(secret), session.tenant_id, now)
        .await
        .unwrap();
    assert_eq!(expired, None);
}

#[tokio::test]
async fn every_sso_session_write_survives_a_lost_response() {
    let app = TestApp::spawn().await;
    let faults = Faults::default();
    let store = faulty_store(&app, &faults);

    faults.next("PutItem", Fault::LoseResponse, 1);
    let (_, session) = sso::start_session(&store, &OsRandom, &tenant(60), Uuid::new_v4(), 0, 0)
        .await
        .expect("the retried create finds its own item");
    assert_eq!(faults.injected("PutItem", Fault::LoseResponse), 1);

    let family = Uuid::new_v4();
    faults.next("UpdateItem", Fault::LoseResponse, 1);
    store
        .add_refresh_token(&session.id_hash, family)
        .await
        .unwrap();
    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);

    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let ended = store.end(&session.id_hash).await.unwrap();
    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 2);
    assert_eq!(
        ended.map(|s| s.refresh_token_ids),
        Some(vec![family]),
        "the retried end still answers what the session held"
    );
    assert_eq!(store.end(&session.id_hash).await.unwrap(), None);
}
