//! Completing a login verifies the identity the code was delivered to, and only that one: an email
//! sent for a username verifies the email address, an SMS the phone number, a code never sent
//! nothing. A 212 appears only where the tenant requires the login identity verified, with the
//! verification ids FusionAuth names; a 213 carries a registration verification id.

use passwordless::codes::hash_secret;
use serde_json::{json, Value};

use crate::helpers::*;

const ADMIN_APP: &str = "10000000-0000-0002-0000-000000000002";

fn identity<'a>(user: &'a Value, kind: &str) -> &'a Value {
    user["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} identity in {user}"))
}

/// The claims of a JWT, unverified: the login tests verify signatures; these read verification.
fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn started_and_sent(app: &TestApp, body: Value) -> Value {
    let started = app.start_code(body).await;
    let sent = app.send(json!({"code": started["code"]})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    started
}

#[tokio::test]
async fn a_code_started_with_a_username_and_sent_by_email_verifies_the_email_address() {
    let app = TestApp::spawn().await;
    let started = started_and_sent(
        &app,
        json!({"applicationId": WEB_APP, "loginId": "richard", "loginIdTypes": ["username"]}),
    )
    .await;
    let login = app
        .login(json!({"code": started["code"], "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let body = login.json();
    let email = identity(&body["user"], "email");
    assert_eq!(email["verified"], true);
    assert_eq!(email["verifiedReason"], "Implicit");
    let username = identity(&body["user"], "username");
    assert_eq!(username["verified"], false);
    assert_eq!(username["verifiedReason"], "Unverifiable");
    let phone = identity(&body["user"], "phoneNumber");
    assert_eq!(phone["verified"], false, "the SMS channel was not used");
    assert_eq!(phone["verifiedReason"], "Disabled");
    assert_eq!(
        claims(body["token"].as_str().unwrap())["email_verified"],
        true
    );
}

#[tokio::test]
async fn a_code_sent_by_sms_verifies_the_phone_number_and_not_the_email() {
    let app = TestApp::spawn().await;
    let started = started_and_sent(
        &app,
        json!({"applicationId": WEB_APP, "loginId": "303-555-1212",
               "loginIdTypes": ["phoneNumber"]}),
    )
    .await;
    let login = app
        .login(
            json!({"code": started["code"], "oneTimeCode": started["oneTimeCode"],
                      "applicationId": WEB_APP}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let body = login.json();
    let phone = identity(&body["user"], "phoneNumber");
    assert_eq!(phone["verified"], true);
    assert_eq!(phone["verifiedReason"], "Implicit");
    assert_eq!(identity(&body["user"], "email")["verified"], false);
    assert_eq!(
        claims(body["token"].as_str().unwrap())["email_verified"],
        false
    );
}

#[tokio::test]
async fn a_code_never_sent_verifies_nothing() {
    let app = TestApp::spawn().await;
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"}))
        .await;
    let login = app
        .login(json!({"code": started["code"], "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let body = login.json();
    assert_eq!(identity(&body["user"], "email")["verified"], false);
    assert_eq!(body["user"]["verified"], false);
    assert_eq!(
        claims(body["token"].as_str().unwrap())["email_verified"],
        false
    );
}

/// The reference kickstart with the first tenant's email verification settings replaced.
fn tenant_with(email_configuration: Value) -> String {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let email = &mut kickstart["tenants"][0]["emailConfiguration"];
    for (key, value) in email_configuration.as_object().unwrap() {
        email[key] = value.clone();
    }
    kickstart.to_string()
}

#[tokio::test]
async fn without_implicit_verification_212_appears_only_where_the_tenant_requires_it() {
    let lax = TestApp::spawn_with(&tenant_with(
        json!({"implicitEmailVerificationAllowed": false, "verifyEmail": false}),
    ))
    .await;
    let started = started_and_sent(
        &lax,
        json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"}),
    )
    .await;
    let login = lax
        .login(json!({"code": started["code"], "applicationId": WEB_APP}))
        .await;
    assert_eq!(
        login.status, 200,
        "verification is not required: {}",
        login.body
    );
    assert_eq!(identity(&login.json()["user"], "email")["verified"], false);

    let strict = TestApp::spawn_with(&tenant_with(
        json!({"implicitEmailVerificationAllowed": false, "verifyEmail": true}),
    ))
    .await;
    let started = started_and_sent(
        &strict,
        json!({"applicationId": WEB_APP, "loginId": "richard"}),
    )
    .await;
    let login = strict
        .login(json!({"code": started["code"], "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 212, "{}", login.body);
    let body = login.json();
    assert_eq!(
        identity(&body["user"], "email")["verifiedReason"],
        "Pending"
    );
    assert!(
        body["token"].is_string(),
        "212 is a login: it carries the JWT"
    );
    assert!(
        body.get("identityVerificationId").is_none() && body.get("emailVerificationId").is_none(),
        "the strategy is ClickableLink: no verification id"
    );
}

#[tokio::test]
async fn with_implicit_verification_a_sent_code_satisfies_a_tenant_that_requires_it() {
    let app = TestApp::spawn_with(&tenant_with(json!({"verifyEmail": true}))).await;
    let started = started_and_sent(
        &app,
        json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"}),
    )
    .await;
    let login = app
        .login(json!({"code": started["code"], "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);

    // Laurie's code is never sent: nothing verifies her address, and the tenant requires it
    // (212 comes before her 202: she is not registered).
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "laurie@raviga.com"}))
        .await;
    let login = app
        .login(json!({"code": started["code"], "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 212, "{}", login.body);
}

#[tokio::test]
async fn a_form_field_verification_strategy_puts_the_verification_ids_in_the_212() {
    let app = TestApp::spawn_with(&tenant_with(json!({
        "implicitEmailVerificationAllowed": false, "verifyEmail": true,
        "verificationStrategy": "FormField"
    })))
    .await;
    let started = started_and_sent(
        &app,
        json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"}),
    )
    .await;
    let login = app
        .login(json!({"code": started["code"], "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 212, "{}", login.body);
    let body = login.json();
    let id = body["identityVerificationId"].as_str().unwrap();
    assert!(id.len() >= 32, "{id}");
    assert_eq!(body["emailVerificationId"], id);
    let stored = format!("{:?}", app.code_items().await);
    assert!(
        !stored.contains(id),
        "the verification id is stored in plain text"
    );
    assert!(stored.contains(&format!("IDENTITYVERIFICATION#{}", hash_secret(id))));
}

#[tokio::test]
async fn a_213_carries_a_registration_verification_id_stored_only_as_a_hash() {
    let app = TestApp::spawn().await;
    let started = app
        .start_code(json!({"applicationId": ADMIN_APP, "loginId": "jared"}))
        .await;
    let login = app
        .login(json!({"code": started["code"], "applicationId": ADMIN_APP}))
        .await;
    assert_eq!(login.status, 213, "{}", login.body);
    let id = login.json()["registrationVerificationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored = format!("{:?}", app.code_items().await);
    assert!(!stored.contains(&id));
    assert!(stored.contains(&format!("REGISTRATIONVERIFICATION#{}", hash_secret(&id))));
}
