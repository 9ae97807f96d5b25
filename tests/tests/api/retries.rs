//! Retries never hurt: a write that succeeded but whose response was lost is retried by the SDK
//! into the same single login; a client that retries after a timeout gets no second session; and
//! a login whose final write fails leaves a used code and nothing else, so the user starts again.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

use crate::fault_injection::{spawn_with_faults, Fault};
use crate::helpers::*;

type Item = HashMap<String, AttributeValue>;

fn with_prefix<'a>(items: &'a [Item], prefix: &str) -> Vec<&'a Item> {
    items
        .iter()
        .filter(|i| i["pk"].as_s().is_ok_and(|pk| pk.starts_with(prefix)))
        .collect()
}

async fn richards_code(app: &TestApp) -> String {
    app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
        .await["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_lost_response_to_the_write_that_uses_the_code_is_retried_into_one_login() {
    let (app, faults) = spawn_with_faults().await;
    let code = richards_code(&app).await;

    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let login = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;

    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(login.json()["refreshToken"].is_string());
    let codes = app.code_items().await;
    assert_eq!(with_prefix(&codes, "REFRESHTOKEN#").len(), 1);
    assert_eq!(with_prefix(&app.directory_items().await, "LOGIN#").len(), 1);
    let again = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;
    assert_eq!(again.status, 404, "the code is used up");
}

#[tokio::test]
async fn a_lost_response_to_the_login_transaction_is_retried_without_a_second_session() {
    let (app, faults) = spawn_with_faults().await;
    let code = richards_code(&app).await;

    faults.next("TransactWriteItems", Fault::LoseResponse, 1);
    let login = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;

    assert_eq!(
        faults.injected("TransactWriteItems", Fault::LoseResponse),
        1
    );
    assert_eq!(login.status, 200, "{}", login.body);
    let token = login.json()["refreshToken"].as_str().unwrap().to_owned();
    let codes = app.code_items().await;
    let stored = with_prefix(&codes, "REFRESHTOKEN#");
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0]["tokenHash"].as_s().unwrap(),
        &passwordless::codes::hash_secret(&token),
        "the one stored token is the one the client got"
    );
    assert_eq!(
        stored[0]["pk"].as_s().unwrap(),
        &format!(
            "REFRESHTOKEN#{}",
            login.json()["refreshTokenId"].as_str().unwrap()
        )
    );
    assert_eq!(with_prefix(&app.directory_items().await, "LOGIN#").len(), 1);
}

#[tokio::test]
async fn a_client_retrying_after_a_timeout_gets_404_and_no_second_session() {
    let app = TestApp::spawn().await;
    let code = richards_code(&app).await;

    // The first attempt completed, but its client gave up waiting and asks again.
    let first = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;
    let retry = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;

    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(retry.status, 404);
    assert_eq!(
        with_prefix(&app.code_items().await, "REFRESHTOKEN#").len(),
        1
    );
    assert_eq!(with_prefix(&app.directory_items().await, "LOGIN#").len(), 1);
}

#[tokio::test]
async fn when_the_session_write_fails_after_the_code_was_used_the_user_can_start_again() {
    let (app, faults) = spawn_with_faults().await;
    let code = richards_code(&app).await;

    faults.always("TransactWriteItems", Fault::Throttle);
    let failed = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;
    faults.clear();

    assert_eq!(failed.status, 500);
    assert_eq!(failed.error_codes(), ["[InternalError]"]);
    assert!(faults.injected("TransactWriteItems", Fault::Throttle) >= 1);
    assert!(with_prefix(&app.code_items().await, "REFRESHTOKEN#").is_empty());
    assert!(with_prefix(&app.directory_items().await, "LOGIN#").is_empty());
    let reused = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;
    assert_eq!(reused.status, 404, "the code was used by the failed login");

    let fresh = richards_code(&app).await;
    let login = app
        .login(json!({"code": fresh, "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(
        with_prefix(&app.code_items().await, "REFRESHTOKEN#").len(),
        1
    );
}
