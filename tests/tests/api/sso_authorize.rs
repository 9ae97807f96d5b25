//! `/oauth2/authorize` answered from the browser's SSO session, through the authorize function's
//! handler with its own role: a code at once, tokens with the session's `sid` and the original
//! `auth_time`, refresh tokens that the logout revokes; `prompt=login`, `max_age` and
//! `prompt=none`; no code for a user who may no longer log in.

use passwordless::model::Tenant;
use passwordless::oauth2::sso;
use passwordless::ports::{Directory, SsoSessions};
use passwordless::system::OsRandom;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::hosted::{authorize_get, browser_event, request_query};
use crate::oauth2::{claims, exchange, id_claims, redirected, REDIRECT, VERIFIER, WEB_SECRET};
use crate::sso::sso_cookie_value;

const RICHARD_ID: &str = "00000000-0000-0001-0000-000000000001";

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A browser signed in to the example tenant as Richard `ago_seconds` ago: its cookie value and
/// the session.
async fn signed_in(app: &TestApp, ago_seconds: i64) -> (String, passwordless::model::SsoSession) {
    let tenant: Tenant = app
        .store
        .tenant(TENANT.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let now = now_millis();
    let (set_cookie, session) = sso::start_session(
        &app.store,
        &OsRandom,
        &tenant,
        RICHARD_ID.parse().unwrap(),
        now - ago_seconds * 1000,
        now,
    )
    .await
    .unwrap();
    (sso_cookie_value(&set_cookie).to_owned(), session)
}

async fn authorize_with(app: &TestApp, query: &str, cookie: &str) -> TestResponse {
    app.authorize_event(
        browser_event("GET", "/oauth2/authorize")
            .query(query)
            .cookie(&format!("fusionauth.sso={cookie}"))
            .to_json(),
    )
    .await
}

fn is_login_page(response: &TestResponse) -> bool {
    response.status == 200 && response.body.contains("name=\"loginId\"")
}

#[tokio::test]
async fn a_live_session_answers_at_once_with_tokens_of_its_sid_and_auth_time_that_logout_revokes() {
    let app = TestApp::spawn().await;
    let (cookie, session) = signed_in(&app, 120).await;
    let query = request_query(&[("state", "s/1 ä"), ("nonce", "n-42")]);

    let answered = authorize_with(&app, &query, &cookie).await;

    let params = redirected(&answered, REDIRECT);
    assert_eq!(params["state"], "s/1 ä");
    assert_eq!(params["iss"], "piedpiper.com");
    assert!(answered
        .header("set-cookie")
        .is_none_or(|c| !c.contains("loginId")));
    let tokens = exchange(&app, &params["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let tokens = tokens.json();
    let id_token = id_claims(tokens["id_token"].as_str().unwrap(), WEB_APP, WEB_SECRET);
    assert_eq!(id_token["sub"], RICHARD_ID);
    assert_eq!(id_token["sid"], session.id.to_string());
    assert_eq!(id_token["nonce"], "n-42");
    assert_eq!(
        id_token["auth_time"],
        json!(session.authenticated_at_millis / 1000),
        "the session's login, not now"
    );
    let access = claims(tokens["access_token"].as_str().unwrap(), WEB_APP);
    assert_eq!(access["sid"], session.id.to_string());
    // The shortcut's access token carries the request's scope: userinfo answers it.
    let userinfo = app
        .userinfo_event(
            api_gateway_events::Event::get("/oauth2/userinfo")
                .without_header("content-type")
                .header(
                    "authorization",
                    &format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
                )
                .to_json(),
        )
        .await;
    assert_eq!(userinfo.status, 200, "{}", userinfo.body);
    assert_eq!(userinfo.json(), json!({"sub": RICHARD_ID}));
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let recorded = app.store.find(&session.id_hash).await.unwrap().unwrap();
    assert_eq!(
        recorded.refresh_token_ids,
        vec![tokens["refresh_token_id"]
            .as_str()
            .unwrap()
            .parse::<Uuid>()
            .unwrap()]
    );
    assert_eq!(
        app.refresh(json!({"refreshToken": refresh_token}))
            .await
            .status,
        200
    );

    // The relying party logs out with the id token it got: the session's tokens go with it.
    let logout = app
        .logout_event(
            browser_event("GET", "/oauth2/logout")
                .query(&format!(
                    "id_token_hint={}",
                    tokens["id_token"].as_str().unwrap()
                ))
                .cookie(&format!("fusionauth.sso={cookie}"))
                .to_json(),
        )
        .await;
    assert_eq!(logout.status, 200, "no logoutURL: the signed-out page");
    assert_ne!(
        app.refresh(json!({"refreshToken": refresh_token}))
            .await
            .status,
        200
    );
    let again = authorize_with(&app, &query, &cookie).await;
    assert!(is_login_page(&again), "{}", again.status);
}

#[tokio::test]
async fn prompt_login_and_max_age_ask_again_and_prompt_none_answers_only_from_a_session() {
    let app = TestApp::spawn().await;
    let (cookie, _) = signed_in(&app, 600).await;
    for extra in [
        [("prompt", "login")],
        [("max_age", "0")],
        [("max_age", "300")],
    ] {
        let response = authorize_with(&app, &request_query(&extra), &cookie).await;
        assert!(is_login_page(&response), "{extra:?}: {}", response.status);
    }
    let fresh_enough = authorize_with(&app, &request_query(&[("max_age", "3600")]), &cookie).await;
    assert!(redirected(&fresh_enough, REDIRECT).contains_key("code"));
    let silent = authorize_with(&app, &request_query(&[("prompt", "none")]), &cookie).await;
    assert!(redirected(&silent, REDIRECT).contains_key("code"));

    let too_old = authorize_with(
        &app,
        &request_query(&[("prompt", "none"), ("max_age", "60"), ("state", "st")]),
        &cookie,
    )
    .await;
    let params = redirected(&too_old, REDIRECT);
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["state"], "st");
    assert_eq!(params["iss"], "piedpiper.com");
    assert!(!params.contains_key("code"));

    for cookie in [None, Some("a".repeat(43)), Some("not a session".to_owned())] {
        let query = request_query(&[("prompt", "none"), ("state", "x")]);
        let response = match &cookie {
            Some(cookie) => authorize_with(&app, &query, cookie).await,
            None => authorize_get(&app, &query).await,
        };
        let params = redirected(&response, REDIRECT);
        assert_eq!(params["error"], "login_required", "{cookie:?}");
        assert_eq!(params["state"], "x");
        assert_eq!(params["iss"], "piedpiper.com");
    }
}

#[tokio::test]
async fn an_ended_expired_or_other_tenants_session_answers_nothing() {
    let app = TestApp::spawn().await;
    let none = request_query(&[("prompt", "none")]);

    let (ended, session) = signed_in(&app, 0).await;
    app.store.end(&session.id_hash).await.unwrap();
    let mut other_tenant: Tenant = app
        .store
        .tenant(TENANT.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    other_tenant.id = Uuid::new_v4();
    let now = now_millis();
    let (foreign, _) = sso::start_session(
        &app.store,
        &OsRandom,
        &other_tenant,
        RICHARD_ID.parse().unwrap(),
        now,
        now,
    )
    .await
    .unwrap();
    let mut short: Tenant = app
        .store
        .tenant(TENANT.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    short.sso_configuration.device_trust_time_to_live_in_seconds = Some(1);
    let (expired, _) = sso::start_session(
        &app.store,
        &OsRandom,
        &short,
        RICHARD_ID.parse().unwrap(),
        now - 5_000,
        now - 5_000,
    )
    .await
    .unwrap();
    for cookie in [
        ended,
        sso_cookie_value(&foreign).to_owned(),
        sso_cookie_value(&expired).to_owned(),
    ] {
        let response = authorize_with(&app, &none, &cookie).await;
        assert_eq!(redirected(&response, REDIRECT)["error"], "login_required");
    }
}

#[tokio::test]
async fn a_user_who_may_no_longer_log_in_gets_no_code_from_a_session() {
    let none = request_query(&[("prompt", "none")]);
    for (field, value) in [
        ("locked", json!(true)),
        ("active", json!(false)),
        ("expiry", json!(1)),
    ] {
        let mut app = TestApp::spawn().await;
        let (cookie, _) = signed_in(&app, 0).await;
        assert!(
            redirected(&authorize_with(&app, &none, &cookie).await, REDIRECT).contains_key("code")
        );
        let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
        kickstart["users"][0][field] = value;
        app.reload(&kickstart.to_string()).await;
        let refused = authorize_with(&app, &none, &cookie).await;
        assert_eq!(
            redirected(&refused, REDIRECT)["error"],
            "login_required",
            "{field}"
        );
        let page = authorize_with(&app, &request_query(&[]), &cookie).await;
        assert!(is_login_page(&page), "{field}: {}", page.status);
    }

    // Registration required, and Richard not registered to the application.
    let mut app = TestApp::spawn().await;
    let (cookie, _) = signed_in(&app, 0).await;
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["applications"][0]["oauthConfiguration"]["requireRegistration"] = json!(true);
    kickstart["users"][0]["registrations"] = json!([]);
    app.reload(&kickstart.to_string()).await;
    let refused = authorize_with(&app, &none, &cookie).await;
    assert_eq!(redirected(&refused, REDIRECT)["error"], "login_required");
}

#[tokio::test]
async fn a_hosted_login_signs_the_browser_in_for_every_application_of_the_tenant_until_logout() {
    use crate::hosted::{begin, cookie_value, email_of, set_cookie, type_code};
    use crate::oauth2::{ADMIN_APP, ADMIN_REDIRECT};
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[]), "jared@piedpiper.com").await;
    let (_, one_time_code) = email_of(&began.pending).await;
    let done = type_code(&app, &began.pending, &one_time_code).await;
    let first = redirected(&done, REDIRECT);
    let cookie = cookie_value(set_cookie(&done, "fusionauth.sso").expect("an SSO cookie"));
    let session = app
        .store
        .find(&passwordless::codes::hash_secret(&cookie))
        .await
        .unwrap()
        .expect("the session");
    let tokens = exchange(&app, &first["code"], VERIFIER, REDIRECT)
        .await
        .json();
    let id_token = id_claims(tokens["id_token"].as_str().unwrap(), WEB_APP, WEB_SECRET);
    assert_eq!(
        id_token["sid"],
        session.id.to_string(),
        "the login's id token names its session"
    );

    // The admin console, another application of the tenant: a code at once, no page, no email.
    let admin = format!(
        "client_id={ADMIN_APP}&redirect_uri={}&response_type=code&scope=openid&prompt=none&state=a",
        ADMIN_REDIRECT
            .replace(':', "%3A")
            .replace('/', "%2F")
            .replace('?', "%3F")
            .replace('=', "%3D")
    );
    let answered = authorize_with(&app, &admin, &cookie).await;
    let params = redirected(&answered, ADMIN_REDIRECT);
    assert!(params.contains_key("code"), "{params:?}");
    assert_eq!(params["state"], "a");

    // Signed out (confirmed without a hint): the next silent request needs a login.
    let page = app
        .logout_event(
            browser_event("GET", "/oauth2/logout")
                .cookie(&format!("fusionauth.sso={cookie}"))
                .to_json(),
        )
        .await;
    let csrf = crate::oauth2::csrf_of(&page, "passwordless_logout_csrf");
    let confirmed = app
        .logout_event(
            browser_event("POST", "/oauth2/logout")
                .header("content-type", "application/x-www-form-urlencoded")
                .cookie(&format!(
                    "fusionauth.sso={cookie}; passwordless_logout_csrf={csrf}"
                ))
                .body(&format!("csrf={csrf}"))
                .to_json(),
        )
        .await;
    assert_eq!(
        confirmed.status, 200,
        "the signed-out page: {}",
        confirmed.body
    );
    let after = authorize_with(&app, &admin, &cookie).await;
    assert_eq!(
        redirected(&after, ADMIN_REDIRECT)["error"],
        "login_required"
    );
}
