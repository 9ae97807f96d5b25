//! Every conditional write survives the SDK's retry (DESIGN: "a retried request must not turn a
//! success into a failure or issue two sessions"): for each one, the write is applied at moto and
//! its response lost, the SDK sends the very same request again, and the client still sees the
//! success, with nothing counted twice. The login's own writes (using the code, the session
//! transaction) are in `retries`.

use std::collections::HashMap;

use api_gateway_events::Event;
use aws_sdk_dynamodb::types::AttributeValue;
use passwordless::codes::hash_secret;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::brute_force::{attempt, phone_code};
use crate::fault_injection::{spawn_with_faults, spawn_with_faults_and, Fault};
use crate::helpers::*;

type Item = HashMap<String, AttributeValue>;

/// The example kickstart whose web application rotates its refresh tokens, and whose tenant
/// revokes a family on reuse: the harshest answer a lost rotation could meet.
fn rotating_kickstart() -> String {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["applications"][0]["jwtConfiguration"] =
        json!({"refreshTokenUsagePolicy": "OneTimeUse"});
    kickstart["tenants"][0]["jwtConfiguration"]["refreshTokenRevocationPolicy"] =
        json!({"onOneTimeTokenReuse": true});
    kickstart.to_string()
}

fn item_with_pk<'a>(items: &'a [Item], pk: &str) -> &'a Item {
    items
        .iter()
        .find(|i| i["pk"].as_s().is_ok_and(|p| p == pk))
        .unwrap_or_else(|| panic!("no item {pk}"))
}

fn number(item: &Item, name: &str) -> i64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_lost_response_to_a_refresh_rotation_hands_out_the_new_token_and_keeps_the_session() {
    let (app, faults) = spawn_with_faults_and(&rotating_kickstart()).await;
    let login = app.log_in("richard@piedpiper.com", WEB_APP).await;
    let first = login["refreshToken"].as_str().unwrap();

    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let rotated = app.refresh(json!({"refreshToken": first})).await;

    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let second = rotated.json()["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let families = app.refresh_token_items().await;
    assert_eq!(families.len(), 1, "the family is still there");
    assert_eq!(
        families[0]["tokenHash"].as_s().unwrap(),
        &hash_secret(&second),
        "the stored token is the one the client got"
    );
    let next = app.refresh(json!({"refreshToken": second})).await;
    assert_eq!(next.status, 200, "{}", next.body);
}

#[tokio::test]
async fn a_lost_response_to_sliding_a_reusable_tokens_expiry_still_exchanges() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["applications"][0]["jwtConfiguration"] =
        json!({"refreshTokenExpirationPolicy": "SlidingWindow"});
    let (app, faults) = spawn_with_faults_and(&kickstart.to_string()).await;
    let login = app.log_in("richard@piedpiper.com", WEB_APP).await;
    let token = login["refreshToken"].as_str().unwrap();
    // The window slides from each use: a later use moves the expiry.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let refreshed = app.refresh(json!({"refreshToken": token})).await;

    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(refreshed.json()["refreshToken"], token);
}

const REDIRECT: &str = "https://piedpiper.com/oauth/callback";
const VERIFIER: &str = "a-code-verifier-of-at-least-43-characters-0123456789";

fn landing(method: &str, code: &str) -> Event {
    Event::new(method, &format!("/oauth2/passwordless/{code}"))
        .without_header("content-type")
        .user_agent("Mozilla/5.0 integration-tests")
        .request_id(&Uuid::new_v4().to_string())
}

/// A magic link started for the web application with PKCE, opened: the code and the page's CSRF
/// value.
async fn opened_link(app: &TestApp) -> (String, String) {
    use base64::Engine;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(VERIFIER.as_bytes()));
    let started = app
        .start_code(
            json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com",
            "state": {"redirect_uri": REDIRECT, "state": "s-1", "scope": "openid offline_access",
                      "code_challenge": challenge, "code_challenge_method": "S256"}}),
        )
        .await;
    let code = started["code"].as_str().unwrap().to_owned();
    let page = app.landing_event(landing("GET", &code).to_json()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries the CSRF value")
        .to_owned();
    (code, csrf)
}

async fn click(app: &TestApp, code: &str, csrf: &str) -> TestResponse {
    let event = landing("POST", code)
        .header("content-type", "application/x-www-form-urlencoded")
        .cookie(&format!("passwordless_csrf={csrf}"))
        .body(&format!("csrf={csrf}"));
    app.landing_event(event.to_json()).await
}

/// The `code` of a redirect to [`REDIRECT`].
fn authorization_code(response: &TestResponse) -> String {
    assert_eq!(response.status, 303, "{}", response.body);
    let location = response.headers["location"].to_str().unwrap();
    location
        .strip_prefix(REDIRECT)
        .unwrap()
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("code="))
        .expect("a code")
        .to_owned()
}

async fn redeem(app: &TestApp, code: &str) -> TestResponse {
    let body = format!(
        "grant_type=authorization_code&code={code}&client_id={WEB_APP}\
         &redirect_uri=https%3A%2F%2Fpiedpiper.com%2Foauth%2Fcallback&code_verifier={VERIFIER}"
    );
    let event = Event::post("/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(&body)
        .request_id(&Uuid::new_v4().to_string());
    app.token_event(event.to_json()).await
}

#[tokio::test]
async fn a_lost_response_to_saving_an_authorization_code_still_redirects_with_a_code_that_works() {
    let (app, faults) = spawn_with_faults().await;
    let (code, csrf) = opened_link(&app).await;

    faults.next("PutItem", Fault::LoseResponse, 1);
    let clicked = click(&app, &code, &csrf).await;

    assert_eq!(faults.injected("PutItem", Fault::LoseResponse), 1);
    let authorization = authorization_code(&clicked);
    let tokens = redeem(&app, &authorization).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(tokens.json()["access_token"].is_string());
}

#[tokio::test]
async fn a_lost_response_to_redeeming_an_authorization_code_still_answers_the_tokens() {
    let (app, faults) = spawn_with_faults().await;
    let (code, csrf) = opened_link(&app).await;
    let authorization = authorization_code(&click(&app, &code, &csrf).await);

    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let tokens = redeem(&app, &authorization).await;

    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(tokens.json()["refresh_token"].is_string());
}

#[tokio::test]
async fn a_lost_response_to_counting_a_send_counts_it_once() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["tenants"][0]["rateLimitConfiguration"]["sendPasswordless"] =
        json!({"enabled": true, "limit": 2, "timePeriodInSeconds": 600});
    let (app, faults) = spawn_with_faults_and(&kickstart.to_string()).await;
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
        .await;
    let code = started["code"].as_str().unwrap();

    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let sent = app.send(json!({"code": code})).await;

    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);
    assert_eq!(sent.status, 200, "{}", sent.body);
    let items = app.code_items().await;
    let counter = items
        .iter()
        .find(|i| {
            i["pk"]
                .as_s()
                .is_ok_and(|pk| pk.starts_with("RATE#send-email#"))
        })
        .expect("the send counter");
    assert_eq!(number(counter, "count"), 1, "one send, counted once");
    assert_eq!(app.send(json!({"code": code})).await.status, 200);
    assert_eq!(app.send(json!({"code": code})).await.status, 429);
    assert_eq!(emails_containing(code).await.len(), 2);
}

#[tokio::test]
async fn a_lost_response_to_recording_a_delivery_still_answers_the_send() {
    let (app, faults) = spawn_with_faults().await;
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
        .await;
    let code = started["code"].as_str().unwrap();

    // The send's first UpdateItem counts it; the second records the delivery.
    faults.next("UpdateItem", Fault::Pass, 1);
    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let sent = app.send(json!({"code": code})).await;

    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(emails_containing(code).await.len(), 1);
    let items = app.code_items().await;
    let stored = item_with_pk(&items, &format!("CODE#{}", hash_secret(code)));
    assert!(stored.contains_key("deliveredTo"), "{stored:?}");
}

#[tokio::test]
async fn a_lost_response_to_writing_a_new_code_still_starts_a_code_that_logs_in() {
    let (app, faults) = spawn_with_faults().await;
    let earlier = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
        .await;

    // The new code's write (a PutItem beside the pointer's UpdateItem: no transaction).
    faults.next("PutItem", Fault::LoseResponse, 1);
    let started = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "richard"}),
        ))
        .await;

    assert_eq!(faults.injected("PutItem", Fault::LoseResponse), 1);
    assert_eq!(started.status, 200, "{}", started.body);
    let code = started.json()["code"].as_str().unwrap().to_owned();
    let login = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let superseded = app
        .login(json!({"code": earlier["code"], "applicationId": WEB_APP}))
        .await;
    assert_eq!(superseded.status, 404, "a new start still supersedes");
}

#[tokio::test]
async fn a_lost_response_to_counting_a_one_time_code_against_its_code_counts_it_once() {
    let (app, faults) = spawn_with_faults().await;
    let (code, otc, wrong) = phone_code(&app).await;

    // The comparison's first write counts it against the code.
    faults.next("UpdateItem", Fault::LoseResponse, 1);
    assert_eq!(app.login(attempt(&code, &wrong)).await.status, 404);
    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);
    let items = app.code_items().await;
    let stored = item_with_pk(&items, &format!("CODE#{}", hash_secret(&code)));
    assert_eq!(number(stored, "attempts"), 1, "{stored:?}");

    // Four wrong ones in all leave the fifth comparison, the right one, its login.
    for _ in 0..3 {
        assert_eq!(app.login(attempt(&code, &wrong)).await.status, 404);
    }
    let login = app.login(attempt(&code, &otc)).await;
    assert_eq!(login.status, 200, "{}", login.body);
}

#[tokio::test]
async fn a_lost_response_to_counting_a_one_time_code_against_its_user_counts_it_once() {
    let (app, faults) = spawn_with_faults().await;
    let (code, otc, wrong) = phone_code(&app).await;

    // The comparison's second write counts it against the user's hourly budget.
    faults.next("UpdateItem", Fault::Pass, 1);
    faults.next("UpdateItem", Fault::LoseResponse, 1);
    assert_eq!(app.login(attempt(&code, &wrong)).await.status, 404);

    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);
    let items = app.code_items().await;
    let pointer = items
        .iter()
        .find(|i| i["pk"].as_s().is_ok_and(|pk| pk.starts_with("LATESTCODE#")))
        .expect("the user's pointer");
    let compared: i64 = pointer
        .keys()
        .filter(|name| name.starts_with("compared"))
        .map(|name| number(pointer, name))
        .sum();
    assert_eq!(compared, 1, "one comparison, counted once: {pointer:?}");
    let login = app.login(attempt(&code, &otc)).await;
    assert_eq!(login.status, 200, "{}", login.body);
}

#[tokio::test]
async fn a_lost_response_to_loading_a_user_is_retried_into_the_same_user() {
    use passwordless::aws::dynamo::DynamoStore;
    let app = TestApp::spawn().await;
    let faults = crate::fault_injection::Faults::default();
    let admin = passwordless::aws::lambda_sdk_config().unwrap();
    let sdk = crate::fault_injection::faulty(&admin, &faults);
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        app.store.tables().clone(),
    );
    let before = app.directory_items().await.len();

    // Loading the kickstart again: each user is one transaction, its identities conditional.
    faults.next("TransactWriteItems", Fault::LoseResponse, 1);
    let parsed = passwordless::kickstart::parse(EXAMPLE_KICKSTART).unwrap();
    let loaded = passwordless::aws::provision::load(&store, &parsed).await;

    assert_eq!(
        faults.injected("TransactWriteItems", Fault::LoseResponse),
        1
    );
    assert!(loaded.is_ok(), "{loaded:?}");
    assert_eq!(app.directory_items().await.len(), before, "nothing twice");
    let login = app.log_in("richard@piedpiper.com", WEB_APP).await;
    assert!(login["token"].is_string());
}

#[tokio::test]
async fn a_lost_response_to_spending_a_code_on_its_last_wrong_one_time_code_still_spends_it() {
    let (app, faults) = spawn_with_faults().await;
    let (code, otc, wrong) = phone_code(&app).await;
    for _ in 0..4 {
        assert_eq!(app.login(attempt(&code, &wrong)).await.status, 404);
    }

    // The fifth wrong one counts against the code and the user, then marks the code spent.
    faults.next("UpdateItem", Fault::Pass, 2);
    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let last = app.login(attempt(&code, &wrong)).await;
    assert_eq!((last.status, last.body.as_str()), (404, ""));
    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);
    let items = app.code_items().await;
    let stored = item_with_pk(&items, &format!("CODE#{}", hash_secret(&code)));
    assert_eq!(
        stored
            .get("usedBy")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("attempts"),
        "{stored:?}"
    );
    let right = app.login(attempt(&code, &otc)).await;
    assert_eq!(right.status, 404, "the spent code logs nobody in");
}
