//! Passwordless sign-up on the hosted pages (issue 25): an unknown address on an application open
//! to sign-ups gets a sign-up email with its link and one-time code, and the user with its
//! registration exists only once that link or code is used; with registration off (or the
//! address's domain not allowed) nothing is sent or created; the pages are the same either way.
//! Through the authorize, authorize-wait and landing functions' handlers, each with its own
//! role, against DynamoDB and SES on moto.

use passwordless::login_id::{IdentityKey, IdentityType};
use passwordless::model::User;
use passwordless::ports::Directory;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::hosted::*;
use crate::oauth2::{claims, csrf_of, exchange, redirected, REDIRECT, VERIFIER};

const NEW_ADDRESS: &str = "Dinesh@PiedPiper.com";
const NEW_CANONICAL: &str = "dinesh@piedpiper.com";
/// A user of the tenant with no registration for the web app.
const LAURIE: &str = "laurie@raviga.com";

/// The reference kickstart with the web app's `registrationConfiguration` set to
/// `registration`, its `user` role a default one.
fn kickstart(registration: Value) -> String {
    let mut file: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let app = file["applications"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["id"] == WEB_APP)
        .unwrap();
    app["registrationConfiguration"] = registration;
    app["roles"] = json!([
        {"name": "user", "isDefault": true},
        {"name": "community_helper"},
        {"name": "admin"}
    ]);
    file.to_string()
}

async fn spawn(registration: Value) -> TestApp {
    TestApp::spawn_with(&kickstart(registration)).await
}

fn open() -> Value {
    json!({"enabled": true})
}

/// The user of the tenant with this email address, read afresh (admin credentials).
async fn user_by_email(app: &TestApp, email: &str) -> Option<User> {
    let address = [IdentityKey {
        kind: IdentityType::Email,
        value: email.to_owned(),
    }];
    let found = app
        .store
        .find_identity(TENANT.parse().unwrap(), &address)
        .await
        .unwrap()?;
    app.store.user(found.user_id).await.unwrap()
}

/// Whether any item of the Directory table mentions the address (a user, an identity).
async fn directory_mentions(app: &TestApp, needle: &str) -> bool {
    format!("{:?}", app.directory_items().await).contains(needle)
}

/// The email a pending login's start sent: its subject, its text, the link's code and the
/// one-time code a sign-up's email asks to type.
struct SignUpEmail {
    subject: String,
    body: String,
    code: String,
    one_time_code: String,
}

async fn sign_up_email_of(pending: &str) -> SignUpEmail {
    let hash = passwordless::codes::hash_secret(pending);
    let emails = emails_containing(&hash).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    let body = emails[0]["body"]
        .as_str()
        .expect("an email body")
        .to_owned();
    let between = |before: &str, after: &str| {
        body.split(before)
            .nth(1)
            .and_then(|rest| rest.split(after).next())
            .unwrap_or_else(|| panic!("no {before}…{after} in {body}"))
            .to_owned()
    };
    SignUpEmail {
        subject: emails[0]["subject"].as_str().unwrap_or_default().to_owned(),
        code: between("/oauth2/passwordless/", "?"),
        one_time_code: between("where you signed up: <strong>", "</strong>"),
        body,
    }
}

/// The page with its CSRF value and match code blanked.
fn blanked(page: &TestResponse) -> String {
    let csrf = csrf_of(page, "authorize_wait_csrf");
    let match_code = match_code_of(page);
    page.body
        .replace(&csrf, "CSRF")
        .replace(&format!("\"{match_code}\""), "\"NN\"")
        .replace(&format!(">{match_code}<"), ">NN<")
}

/// The access token's roles once the redirect's authorization code is exchanged.
async fn roles_after(app: &TestApp, done: &TestResponse) -> Value {
    let query = redirected(done, REDIRECT);
    let tokens = exchange(app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let access = tokens.json()["access_token"].as_str().unwrap().to_owned();
    claims(&access, WEB_APP)["roles"].clone()
}

#[tokio::test]
async fn a_new_address_gets_a_sign_up_email_and_its_link_creates_the_registered_verified_user() {
    let app = spawn(open()).await;
    let began = begin(&app, &request_query(&[("state", "s")]), NEW_ADDRESS).await;
    let email = sign_up_email_of(&began.pending).await;
    assert_eq!(email.subject, "Finish signing up for Pied Piper web");
    assert!(email.body.contains("Finish signing up"), "{}", email.body);
    assert!(!email.one_time_code.is_empty());
    // Nothing is created before the link is used, however often it is opened.
    for _ in 0..2 {
        let page = open_link(&app, &email.code, Some(&began.pending)).await;
        assert_eq!(page.status, 200, "{}", page.body);
    }
    assert!(!directory_mentions(&app, NEW_CANONICAL).await);
    assert!(user_by_email(&app, NEW_CANONICAL).await.is_none());

    let page = open_link(&app, &email.code, Some(&began.pending)).await;
    let done = post_link(&app, &email.code, &page, Some(&began.pending), &[]).await;
    assert_eq!(redirected(&done, REDIRECT)["state"], "s");
    let user = user_by_email(&app, NEW_CANONICAL)
        .await
        .expect("the user exists once the link is used");
    assert!(user.active && user.verified);
    assert!(user.insert_instant.is_some());
    let identity = &user.identities[0];
    assert_eq!(identity.value, NEW_CANONICAL);
    assert!(identity.verified);
    assert_eq!(identity.verified_reason.as_deref(), Some("Implicit"));
    assert_eq!(user.registrations.len(), 1);
    assert_eq!(user.registrations[0].application_id.to_string(), WEB_APP);
    assert_eq!(user.registrations[0].roles, ["user"]);
    assert!(
        user.last_login_instant.is_some(),
        "the login is recorded on it"
    );
    assert_eq!(roles_after(&app, &done).await, json!(["user"]));
}

#[tokio::test]
async fn the_one_time_code_of_a_sign_up_typed_on_the_waiting_page_creates_the_user() {
    let app = spawn(open()).await;
    let began = begin(&app, &request_query(&[("state", "t")]), NEW_ADDRESS).await;
    let email = sign_up_email_of(&began.pending).await;
    assert!(user_by_email(&app, NEW_CANONICAL).await.is_none());
    let done = type_code(&app, &began.pending, &email.one_time_code).await;
    assert_eq!(redirected(&done, REDIRECT)["state"], "t");
    let user = user_by_email(&app, NEW_CANONICAL).await.expect("the user");
    assert_eq!(user.registrations[0].roles, ["user"]);
    assert_eq!(roles_after(&app, &done).await, json!(["user"]));
}

#[tokio::test]
async fn a_wrong_code_a_used_link_and_the_login_api_create_nobody() {
    let app = spawn(open()).await;
    let began = begin(&app, &request_query(&[]), NEW_ADDRESS).await;
    let email = sign_up_email_of(&began.pending).await;
    let wrong = if email.one_time_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    let refused = type_code(&app, &began.pending, wrong).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    // The code is bound to the browser's pending login: the login API does not take it.
    let api = app
        .login(json!({"code": email.code, "applicationId": WEB_APP}))
        .await;
    assert_eq!(api.status, 404, "{}", api.body);
    assert!(!directory_mentions(&app, NEW_CANONICAL).await);
    // The link was used up by that login call: it signs nobody up any more.
    let page = open_link(&app, &email.code, Some(&began.pending)).await;
    assert!(page.body.contains("data-page=\"expired\""), "{}", page.body);
    assert!(user_by_email(&app, NEW_CANONICAL).await.is_none());
}

#[tokio::test]
async fn a_second_sign_up_of_an_address_taken_meanwhile_logs_in_as_the_first_user() {
    let app = spawn(open()).await;
    let first = begin(&app, &request_query(&[]), NEW_ADDRESS).await;
    let second = begin(&app, &request_query(&[]), NEW_ADDRESS).await;
    let first_email = sign_up_email_of(&first.pending).await;
    let second_email = sign_up_email_of(&second.pending).await;
    type_code(&app, &first.pending, &first_email.one_time_code).await;
    let user = user_by_email(&app, NEW_CANONICAL).await.expect("the user");
    let done = type_code(&app, &second.pending, &second_email.one_time_code).await;
    let query = redirected(&done, REDIRECT);
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    let access = tokens.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&access, WEB_APP)["sub"], user.id.to_string());
    let users = app
        .directory_items()
        .await
        .into_iter()
        .filter(|i| i["pk"].as_s().is_ok_and(|pk| pk.starts_with("USER#")))
        .filter(|i| format!("{i:?}").contains(NEW_CANONICAL))
        .count();
    assert_eq!(users, 1, "one user for the address");
}

#[tokio::test]
async fn known_and_unknown_addresses_get_the_same_page_where_sign_up_is_open() {
    let app = spawn(open()).await;
    let known = begin(&app, &request_query(&[]), RICHARD).await;
    let unknown = begin(&app, &request_query(&[]), NEW_ADDRESS).await;
    let known_page = waiting_page(&app, Some(&known.pending)).await;
    let unknown_page = waiting_page(&app, Some(&unknown.pending)).await;
    assert_eq!(known_page.status, unknown_page.status);
    assert_eq!(blanked(&known_page), blanked(&unknown_page));
    let without_value = |b: &Began| {
        set_cookie(&b.response, "fusionauth.pending")
            .unwrap()
            .replacen(&b.pending, "V", 1)
    };
    assert_eq!(without_value(&known), without_value(&unknown));
    // The known address gets its login email, the unknown one a sign-up.
    let login_email = &emails_containing(&passwordless::codes::hash_secret(&known.pending)).await;
    assert!(login_email[0]["subject"]
        .as_str()
        .unwrap()
        .starts_with("Log in to"));
    assert!(sign_up_email_of(&unknown.pending)
        .await
        .subject
        .starts_with("Finish signing up"));
}

#[tokio::test]
async fn with_registration_off_or_a_domain_not_allowed_nothing_is_sent_or_created_and_the_page_is_the_same(
) {
    for registration in [
        json!({"enabled": false}),
        json!({"enabled": true, "allowedEmailDomains": ["hooli.com"]}),
    ] {
        let app = spawn(registration.clone()).await;
        let known = begin(&app, &request_query(&[]), RICHARD).await;
        let unknown = begin(&app, &request_query(&[]), NEW_ADDRESS).await;
        assert_eq!(
            blanked(&waiting_page(&app, Some(&known.pending)).await),
            blanked(&waiting_page(&app, Some(&unknown.pending)).await),
            "{registration}"
        );
        let hash = passwordless::codes::hash_secret(&unknown.pending);
        assert!(emails_containing(&hash).await.is_empty(), "{registration}");
        // A code typed for it is refused like any wrong code, and creates nobody.
        let typed = type_code(&app, &unknown.pending, "123456").await;
        assert_eq!(typed.status, 400, "{registration}: {}", typed.body);
        assert!(
            !directory_mentions(&app, NEW_CANONICAL).await,
            "{registration}"
        );
    }
}

#[tokio::test]
async fn an_allowed_domain_signs_up_in_any_case() {
    let app = spawn(json!({"enabled": true, "allowedEmailDomains": ["piedpiper.COM"]})).await;
    let began = begin(&app, &request_query(&[]), NEW_ADDRESS).await;
    let email = sign_up_email_of(&began.pending).await;
    type_code(&app, &began.pending, &email.one_time_code).await;
    assert!(user_by_email(&app, NEW_CANONICAL).await.is_some());
}

#[tokio::test]
async fn a_tenant_user_without_a_registration_is_registered_by_a_hosted_login_where_registration_is_open(
) {
    for (registration, roles) in [
        (open(), Some(json!(["user"]))),
        (json!({"enabled": false}), None),
        (
            json!({"enabled": true, "allowedEmailDomains": ["piedpiper.com"]}),
            None,
        ),
    ] {
        let app = spawn(registration.clone()).await;
        let began = begin(&app, &request_query(&[]), LAURIE).await;
        let (_, one_time_code) = email_of(&began.pending).await;
        let done = type_code(&app, &began.pending, &one_time_code).await;
        let query = redirected(&done, REDIRECT);
        assert!(query.contains_key("code"), "{registration}: {query:?}");
        let user = user_by_email(&app, LAURIE).await.unwrap();
        let registered: Vec<Vec<String>> = user
            .registrations
            .iter()
            .filter(|r| r.application_id.to_string() == WEB_APP)
            .map(|r| r.roles.clone())
            .collect();
        match &roles {
            Some(roles) => {
                assert_eq!(json!(registered), json!([roles]), "{registration}");
                let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
                let access = tokens.json()["access_token"].as_str().unwrap().to_owned();
                assert_eq!(&claims(&access, WEB_APP)["roles"], roles);
            }
            None => assert!(registered.is_empty(), "{registration}: {registered:?}"),
        }
    }
}

#[tokio::test]
async fn an_authorization_answered_from_the_sso_session_registers_the_user_where_registration_is_open(
) {
    for (registration, roles) in [
        (open(), Some(json!(["user"]))),
        (json!({"enabled": false}), None),
    ] {
        let app = spawn(registration.clone()).await;
        let laurie = user_by_email(&app, LAURIE).await.unwrap();
        let tenant = app
            .store
            .tenant(TENANT.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let (set_cookie, _) = passwordless::oauth2::sso::start_session(
            &app.store,
            &passwordless::system::OsRandom,
            &tenant,
            laurie.id,
            now - 60_000,
            now,
        )
        .await
        .unwrap();
        let answered = app
            .authorize_event(
                browser_event("GET", "/oauth2/authorize")
                    .query(&request_query(&[("state", "sso")]))
                    .cookie(&format!(
                        "fusionauth.sso={}",
                        crate::sso::sso_cookie_value(&set_cookie)
                    ))
                    .to_json(),
            )
            .await;
        let query = redirected(&answered, REDIRECT);
        assert_eq!(query["state"], "sso", "{registration}");
        let after = user_by_email(&app, LAURIE).await.unwrap();
        let registered: Vec<Vec<String>> = after
            .registrations
            .iter()
            .filter(|r| r.application_id.to_string() == WEB_APP)
            .map(|r| r.roles.clone())
            .collect();
        match &roles {
            Some(roles) => {
                assert_eq!(json!(registered), json!([roles]), "{registration}");
                let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
                let access = tokens.json()["access_token"].as_str().unwrap().to_owned();
                assert_eq!(&claims(&access, WEB_APP)["roles"], roles);
            }
            None => assert!(registered.is_empty(), "{registration}: {registered:?}"),
        }
    }
}
