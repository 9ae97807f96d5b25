//! The review's findings, each through the HTTP edge: oversized login ids are a 400, never a
//! DynamoDB key error; the anonymous legacy send answers a known user that cannot be mailed, and a
//! failing mail service, as it answers an unknown login id; two-factor secrets are never echoed;
//! a login never writes back a user that changed since it was read.

use passwordless::ports::{Directory, Sessions};
use serde_json::{json, Value};

use crate::fault_injection::{spawn_with_faults, Fault};
use crate::helpers::*;

#[tokio::test]
async fn a_login_id_over_255_characters_is_400_too_long_on_start_and_on_the_legacy_send() {
    let app = TestApp::spawn().await;
    let long = format!("{}@piedpiper.com", "r".repeat(3000));
    let start = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": long}),
        ))
        .await;
    assert_eq!(start.status, 400, "{}", start.body);
    assert_eq!(start.error_codes(), ["[tooLong]loginId"]);
    let send = app
        .send(json!({"applicationId": WEB_APP, "loginId": long}))
        .await;
    assert_eq!(send.status, 400, "{}", send.body);
    assert_eq!(send.error_codes(), ["[tooLong]loginId"]);

    // At the limit, in multi-byte characters: a plain unknown user, not a key error.
    let at_limit = "é".repeat(255);
    let start = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": at_limit}),
        ))
        .await;
    assert_eq!(start.status, 404, "{}", start.body);
}

/// The answer of a legacy send, as a client can compare it: status, body, content type.
async fn legacy_send(app: &TestApp, login_id: &str) -> (u16, String, Option<String>) {
    let response = app
        .send(json!({"applicationId": WEB_APP, "loginId": login_id}))
        .await;
    let content_type = response.header("content-type").map(str::to_owned);
    (response.status, response.body, content_type)
}

#[tokio::test]
async fn the_legacy_send_answers_a_user_without_an_email_address_as_it_answers_an_unknown_one() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["users"].as_array_mut().unwrap().push(json!({
        "id": "00000000-0000-0001-0000-0000000000aa",
        "tenantId": TENANT,
        "username": "nomail",
        "registrations": [{"applicationId": WEB_APP}]
    }));
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let unknown = legacy_send(&app, "nobody-here").await;
    assert_eq!(unknown.0, 200);
    assert_eq!(legacy_send(&app, "nomail").await, unknown);
}

#[tokio::test]
async fn the_legacy_send_answers_a_failing_mail_service_as_it_answers_an_unknown_login_id() {
    let (app, faults) = spawn_with_faults().await;
    faults.always("SendEmail", Fault::Reject);
    let known = legacy_send(&app, "richard@piedpiper.com").await;
    assert!(
        faults.injected("SendEmail", Fault::Reject) >= 1,
        "the fault happened"
    );
    let unknown = legacy_send(&app, "nobody@piedpiper.com").await;
    assert_eq!(unknown.0, 200);
    assert_eq!(known, unknown);
}

#[tokio::test]
async fn a_two_factor_secret_from_the_kickstart_is_never_echoed_nor_stored() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let gilfoyle = kickstart["users"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|u| u["username"] == "gilfoyle")
        .unwrap();
    gilfoyle["twoFactor"]["methods"][0]["secret"] = json!("JBSWY3DPEHPK3PXPSECRET");
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "gilfoyle"}))
        .await;
    let challenged = app
        .login(json!({"code": started["code"], "applicationId": WEB_APP}))
        .await;
    assert_eq!(challenged.status, 242, "{}", challenged.body);
    assert_eq!(challenged.json()["methods"][0]["id"], "35VW");
    assert!(!challenged.body.contains("JBSWY3DPEHPK3PXPSECRET"));
    let stored = format!("{:?}", app.directory_items().await);
    assert!(!stored.contains("JBSWY3DPEHPK3PXPSECRET"));
}

#[tokio::test]
async fn a_login_never_writes_back_a_user_that_was_locked_after_it_read_them() {
    let mut app = TestApp::spawn().await;
    let richard = "00000000-0000-0001-0000-000000000001".parse().unwrap();
    // What a login read...
    let read = app.store.user(richard).await.unwrap().unwrap();
    assert!(read.revision.is_some());
    // ...then an operator locks the user...
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["users"][0]["locked"] = json!(true);
    app.reload(&kickstart.to_string()).await;
    // ...and the login's write of what it read is refused, leaving the lock in place.
    let mut logged_in = read.clone();
    logged_in.last_login_instant = Some(1);
    let completion = app
        .store
        .complete_login(&passwordless::ports::CompletedLogin {
            attempt_id: uuid::Uuid::new_v4().to_string(),
            new_revision: uuid::Uuid::new_v4().to_string(),
            user: logged_in,
            refresh_token: None,
            record: passwordless::model::LoginRecord {
                user_id: richard,
                application_id: None,
                instant: 1,
                ip_address: None,
                session_id: uuid::Uuid::new_v4(),
            },
        })
        .await
        .unwrap();
    assert_eq!(completion, passwordless::ports::Completion::UserChanged);
    let now = app.store.user(richard).await.unwrap().unwrap();
    assert!(now.locked, "the lock survived");
    assert_eq!(now.last_login_instant, None);

    // Through the edge, the login sees the lock.
    let started = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "richard"}),
        ))
        .await;
    let code = started.json()["code"].as_str().unwrap().to_owned();
    let login = app.login(json!({"code": code})).await;
    assert_eq!(login.status, 423);
}
