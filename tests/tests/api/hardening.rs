//! The review's findings, each through the HTTP edge: oversized login ids are a 400, never a
//! DynamoDB key error, and every field of every JSON body and form has its cap
//! (`passwordless::limits`), over which it is a 4xx naming the field; the anonymous legacy send answers a known user that cannot be mailed, and a
//! failing mail service, as it answers an unknown login id; two-factor secrets are never echoed;
//! a login never writes back a user that changed since it was read.

use api_gateway_events::Event;
use passwordless::limits::{self, Cap};
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

/// One character over `cap`.
fn over(cap: &Cap) -> String {
    "x".repeat(cap.max + 1)
}

/// `body` with `cap`'s field one character over its cap (a dotted field inside its object).
fn with_over(body: Value, cap: &Cap) -> Value {
    let mut body = body;
    let mut place = &mut body;
    for name in cap.field.split('.') {
        place = &mut place[name];
    }
    *place = json!(over(cap));
    body
}

fn assert_too_long(response: &TestResponse, field: &str) {
    assert_eq!(response.status, 400, "{field}: {}", response.body);
    assert_eq!(
        response.error_codes(),
        [format!("[tooLong]{field}")],
        "{field}: {}",
        response.body
    );
}

#[tokio::test]
async fn every_field_of_every_json_body_over_its_cap_is_400_too_long_naming_the_field() {
    let app = TestApp::spawn().await;
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"}))
        .await;
    let code = started["code"].as_str().unwrap();
    for cap in limits::START {
        let body = json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"});
        let response = app
            .start(start_event(Some(GLOBAL_KEY), with_over(body, cap)))
            .await;
        assert_too_long(&response, cap.field);
    }
    for cap in limits::SEND {
        let body = if cap.field == "code" {
            json!({"code": code})
        } else {
            json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"})
        };
        assert_too_long(&app.send(with_over(body, cap)).await, cap.field);
    }
    for cap in limits::LOGIN {
        let body = json!({"code": code, "applicationId": WEB_APP});
        assert_too_long(&app.login(with_over(body, cap)).await, cap.field);
    }
    for cap in limits::REFRESH {
        assert_too_long(&app.refresh(with_over(json!({}), cap)).await, cap.field);
    }
    let long_cookie = Event::post("/api/jwt/refresh")
        .cookie(&format!(
            "refresh_token={}",
            "x".repeat(limits::OPAQUE_TOKEN + 1)
        ))
        .body("{}");
    assert_too_long(
        &app.refresh_event(long_cookie.to_json()).await,
        "refreshToken",
    );
    for cap in limits::REVOKE {
        let query = format!("{}={}", cap.field, over(cap));
        let response = app.revoke(Some(GLOBAL_KEY), "", &query).await;
        assert_too_long(&response, cap.field);
    }
    // Nothing of the code was used by any of it.
    let login = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
}

fn form_post(path: &str, body: &str) -> Value {
    Event::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .user_agent("Mozilla/5.0 integration-tests")
        .body(body)
        .to_json()
}

#[tokio::test]
async fn every_field_of_every_html_form_over_its_cap_is_the_pages_400() {
    let app = TestApp::spawn().await;
    let started = app
        .start_code(
            json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com",
                           "loginStrategy": "ClickableLink",
                           "state": {"redirect_uri": "https://piedpiper.com/oauth/callback",
                                     "code_challenge_method": "S256",
                                     // RFC 7636's example challenge.
                                     "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}}),
        )
        .await;
    let link = format!("/oauth2/passwordless/{}", started["code"].as_str().unwrap());
    let unread = Cap {
        field: "somethingElse",
        max: limits::UNREAD_FORM_FIELD,
    };
    for path in [link.as_str(), "/oauth2/passwordless"] {
        for cap in limits::LANDING_FORMS.iter().chain([&unread]) {
            let body = format!("csrf=v&{}={}", cap.field, over(cap));
            let response = app.landing_event(form_post(path, &body)).await;
            assert_eq!(response.status, 400, "{path} {}", cap.field);
            assert!(
                response.body.contains("This request could not be read"),
                "{path} {}: {}",
                cap.field,
                response.body
            );
        }
    }
    // The fallback page's own form, with its CSRF value: a 3,000-character login id is refused
    // by its cap, before anything reads it.
    let page = Event::new("GET", "/oauth2/passwordless")
        .query(&format!("client_id={WEB_APP}"))
        .without_header("content-type")
        .user_agent("Mozilla/5.0 integration-tests");
    let page = app.landing_event(page.to_json()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries its CSRF value");
    let long_id = format!("{}@piedpiper.com", "r".repeat(3000));
    let post = Event::post("/oauth2/passwordless")
        .header("content-type", "application/x-www-form-urlencoded")
        .cookie(&format!("passwordless_entry_csrf={csrf}"))
        .user_agent("Mozilla/5.0 integration-tests")
        .body(&format!(
            "csrf={csrf}&client_id={WEB_APP}&loginId={long_id}&oneTimeCode=123456"
        ));
    let refused = app.landing_event(post.to_json()).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("This request could not be read"),
        "{}",
        refused.body
    );

    // The link still works: an over-long post used nothing.
    let opened = Event::new("GET", &link)
        .without_header("content-type")
        .user_agent("Mozilla/5.0 integration-tests");
    let opened = app.landing_event(opened.to_json()).await;
    assert_eq!(opened.status, 200, "{}", opened.body);
}

#[tokio::test]
async fn every_field_of_the_token_form_over_its_cap_is_invalid_request_and_a_long_jwt_is_401() {
    let app = TestApp::spawn().await;
    for cap in limits::TOKEN_FORM {
        let body = match cap.field {
            "grant_type" => format!("grant_type={}", over(cap)),
            field => format!("grant_type=authorization_code&{field}={}", over(cap)),
        };
        let response = app.token_event(form_post("/oauth2/token", &body)).await;
        assert_eq!(response.status, 400, "{}: {}", cap.field, response.body);
        assert_eq!(response.json()["error"], "invalid_request", "{}", cap.field);
        assert_eq!(
            response.json()["error_description"],
            format!("{} is too long", cap.field)
        );
    }
    let long_jwt = format!("Bearer {}", "x".repeat(limits::JWT + 1));
    assert_eq!(app.validate(&long_jwt).await.status, 401);
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
