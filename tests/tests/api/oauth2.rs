//! The magic link's landing page and `/oauth2/token` (issue 16), through the landing and token
//! functions' handlers, each with its own role, against DynamoDB on moto: opening a link changes
//! nothing, only the page's own post completes the login and redirects with an authorization
//! code, and the code is exchanged once, with its PKCE verifier, for signed tokens.

use api_gateway_events::Event;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::*;

pub(crate) const ADMIN_APP: &str = "10000000-0000-0002-0000-000000000002";
pub(crate) const REDIRECT: &str = "https://piedpiper.com/oauth/callback";
pub(crate) const ADMIN_REDIRECT: &str = "https://admin.piedpiper.com/callback?from=email";
pub(crate) const ADMIN_SECRET: &str = "pied-piper-admin-client-secret-0123456789";
pub(crate) const VERIFIER: &str = "a-code-verifier-of-at-least-43-characters-0123456789";
const HS256_SECRET: &str = "c2VjcmV0LWZvci1sb2NhbC1kZXZlbG9wbWVudC1vbmx5LWNoYW5nZS1tZQ==";

pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The OAuth parameters a web app puts in the start's `state`.
pub(crate) fn web_state() -> Value {
    json!({"redirect_uri": REDIRECT, "state": "xyz/ä&1", "scope": "openid offline_access",
        "code_challenge": challenge(VERIFIER), "code_challenge_method": "S256", "nonce": "n-1"})
}

pub(crate) async fn start(
    app: &TestApp,
    application: &str,
    login_id: &str,
    state: Value,
) -> String {
    let started = app
        .start_code(json!({"applicationId": application, "loginId": login_id, "state": state}))
        .await;
    started["code"].as_str().expect("a code").to_owned()
}

fn page_event(method: &str, code: &str) -> Event {
    Event::new(method, &format!("/oauth2/passwordless/{code}"))
        .without_header("content-type")
        .user_agent("Mozilla/5.0 integration-tests")
        .request_id(&Uuid::new_v4().to_string())
}

pub(crate) async fn open(app: &TestApp, method: &str, code: &str) -> TestResponse {
    app.landing_event(page_event(method, code).to_json()).await
}

/// The page's CSRF value: the cookie's and the form's, which are the same.
fn csrf(page: &TestResponse) -> String {
    csrf_of(page, "passwordless_csrf")
}

/// The CSRF value a page set in its cookie `name`, which its form carries too.
pub(crate) fn csrf_of(page: &TestResponse, name: &str) -> String {
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(str::to_owned))
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .expect("the page sets its CSRF cookie");
    let field = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries the CSRF value");
    assert_eq!(cookie, field);
    cookie
}

async fn click(app: &TestApp, code: &str, cookie: Option<&str>, form: &str) -> TestResponse {
    let mut event = page_event("POST", code)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form);
    if let Some(value) = cookie {
        event = event.cookie(&format!("passwordless_csrf={value}"));
    }
    app.landing_event(event.to_json()).await
}

/// Opens the page and presses its button, posting the form's fields as a browser does.
pub(crate) async fn open_and_click(app: &TestApp, code: &str) -> TestResponse {
    let page = open(app, "GET", code).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let value = csrf(&page);
    click(app, code, Some(&value), &hidden_fields(&page)).await
}

/// The page's hidden form fields (the CSRF value among them), as a form post's body.
fn hidden_fields(page: &TestResponse) -> String {
    let attribute = |tag: &str, name: &str| {
        tag.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
    };
    page.body
        .split("<input type=\"hidden\"")
        .skip(1)
        .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The redirect's query parameters.
pub(crate) fn redirected(
    response: &TestResponse,
    to: &str,
) -> std::collections::HashMap<String, String> {
    assert_eq!(response.status, 303, "{}", response.body);
    let location = response.headers["location"].to_str().unwrap();
    let query = location
        .strip_prefix(to)
        .unwrap_or_else(|| panic!("{location} is not {to}"));
    let query = query.trim_start_matches(['?', '&']);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let encoded: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={encoded}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) async fn token(
    app: &TestApp,
    pairs: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> TestResponse {
    let mut event = Event::post("/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(&form_encode(pairs))
        .request_id(&Uuid::new_v4().to_string());
    if let Some((id, secret)) = basic {
        event = event.header(
            "authorization",
            &format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
        );
    }
    app.token_event(event.to_json()).await
}

pub(crate) async fn exchange(
    app: &TestApp,
    code: &str,
    verifier: &str,
    redirect: &str,
) -> TestResponse {
    token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", WEB_APP),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ],
        None,
    )
    .await
}

/// The web app's client secret: its HS256 id tokens are signed with it (OIDC Core 10.1).
pub(crate) const WEB_SECRET: &str = "pied-piper-web-client-secret-0123456789";

/// An HMAC id token's claims, verified as a relying party does: with the client secret's bytes,
/// the algorithm its header names.
pub(crate) fn id_claims(jwt: &str, audience: &str, client_secret: &str) -> Value {
    let header = jsonwebtoken::decode_header(jwt).expect("a JWS header");
    let key = DecodingKey::from_secret(client_secret.as_bytes());
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&["piedpiper.com"]);
    decode::<Value>(jwt, &key, &validation)
        .unwrap_or_else(|e| panic!("{e}: {jwt}"))
        .claims
}

pub(crate) fn claims(jwt: &str, audience: &str) -> Value {
    let key = DecodingKey::from_secret(&STANDARD.decode(HS256_SECRET).unwrap());
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&["piedpiper.com"]);
    decode::<Value>(jwt, &key, &validation)
        .unwrap_or_else(|e| panic!("{e}: {jwt}"))
        .claims
}

#[tokio::test]
async fn three_gets_and_a_head_change_nothing_and_the_click_then_redirects_with_a_code_and_the_state(
) {
    let app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let before = app.code_items().await;
    for method in ["GET", "GET", "HEAD", "GET"] {
        let page = open(&app, method, &code).await;
        assert_eq!(page.status, 200, "{method}: {}", page.body);
        assert_eq!(page.headers["cache-control"], "no-store");
        assert_eq!(page.headers["referrer-policy"], "no-referrer");
        assert!(page.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'"));
        if method == "HEAD" {
            assert!(page.body.is_empty());
        } else {
            assert!(
                page.body.contains("Continue to Pied Piper web"),
                "{}",
                page.body
            );
        }
    }
    assert_eq!(
        app.code_items().await,
        before,
        "opening the link wrote nothing"
    );
    let query = redirected(&open_and_click(&app, &code).await, REDIRECT);
    assert_eq!(query["state"], "xyz/ä&1");
    assert_eq!(query["userState"], "Authenticated");
    assert_eq!(query["code"].len(), 43);
    let answer = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let tokens = answer.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_i64().unwrap() > 3500);
    assert!(tokens["refresh_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    let access = claims(tokens["access_token"].as_str().unwrap(), WEB_APP);
    assert_eq!(access["authenticationType"], "PASSWORDLESS");
    assert_eq!(access["sub"], tokens["userId"]);
    let id = id_claims(tokens["id_token"].as_str().unwrap(), WEB_APP, WEB_SECRET);
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["sub"], tokens["userId"]);
    assert_eq!(id["email"], "richard@piedpiper.com");
    // The link is used: opening it again shows the expired page.
    let again = open(&app, "GET", &code).await;
    assert_eq!(again.status, 404);
    assert!(again.body.contains("This link has expired"));
}

#[tokio::test]
async fn an_authorization_code_works_once_and_a_wrong_verifier_or_redirect_burns_it() {
    let app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let query = redirected(&open_and_click(&app, &code).await, REDIRECT);
    let first = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let reused = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(
        (reused.status, reused.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );
    assert!(!reused.body.contains("access_token"));

    for (verifier, redirect) in [
        (
            "another-verifier-of-at-least-43-characters-0123456789",
            REDIRECT,
        ),
        (VERIFIER, "https://piedpiper.com/oauth/callback/"),
    ] {
        let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
        let query = redirected(&open_and_click(&app, &code).await, REDIRECT);
        let wrong = exchange(&app, &query["code"], verifier, redirect).await;
        assert_eq!(
            (wrong.status, wrong.json()["error"].clone()),
            (400, json!("invalid_grant"))
        );
        let right_after = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
        assert_eq!(right_after.status, 400, "a refused code is used up");
    }
}

#[tokio::test]
async fn a_code_issued_a_minute_ago_is_expired() {
    let mut app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let query = redirected(&open_and_click(&app, &code).await, REDIRECT);
    let later = std::sync::Arc::new(passwordless::memory::FixedClock::at(
        passwordless::system::Clock::now_millis(&passwordless::system::SystemClock) + 61_000,
    ));
    app.set_clock(later);
    let late = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(
        (late.status, late.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_never_redirects_and_leaves_the_code_valid() {
    let app = TestApp::spawn().await;
    for redirect in [
        "https://evil.example/steal",
        "https://piedpiper.com/oauth/callback?x=1",
    ] {
        // No PKCE challenge, so that the login API may complete the code below.
        let state = json!({"redirect_uri": redirect, "state": "xyz", "scope": "openid"});
        let code = start(&app, WEB_APP, "richard@piedpiper.com", state).await;
        let page = open(&app, "GET", &code).await;
        assert_eq!(page.status, 400, "{}", page.body);
        assert!(!page.body.contains("<form"));
        let posted = click(&app, &code, Some("x"), "csrf=x").await;
        assert_eq!(posted.status, 400);
        assert!(posted.headers.get("location").is_none());
        // The code was never touched: the login API still completes it.
        let login = app
            .login(json!({"code": code, "applicationId": WEB_APP}))
            .await;
        assert_eq!(login.status, 200, "{}", login.body);
    }
}

#[tokio::test]
async fn a_post_without_the_pages_csrf_value_is_refused_and_uses_nothing() {
    let app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let value = csrf(&open(&app, "GET", &code).await);
    let before = app.code_items().await;
    for (cookie, form) in [
        (None, format!("csrf={value}")),
        (Some(value.as_str()), "csrf=another".to_owned()),
        (Some(value.as_str()), String::new()),
        (Some(""), "csrf=".to_owned()),
    ] {
        let posted = click(&app, &code, cookie, &form).await;
        assert_eq!(posted.status, 403, "{cookie:?} {form}: {}", posted.body);
        assert!(posted.headers.get("location").is_none());
    }
    let cross_site = app
        .landing_event(
            page_event("POST", &code)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "cross-site")
                .cookie(&format!("passwordless_csrf={value}"))
                .body(&format!("csrf={value}"))
                .to_json(),
        )
        .await;
    assert_eq!(cross_site.status, 403);
    assert_eq!(app.code_items().await, before);
    assert_eq!(open_and_click(&app, &code).await.status, 303);
}

#[tokio::test]
async fn unknown_used_and_expired_links_show_one_expired_page() {
    let mut app = TestApp::spawn().await;
    let used = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    assert_eq!(open_and_click(&app, &used).await.status, 303);
    let expired = start(&app, WEB_APP, "jared@piedpiper.com", web_state()).await;
    let unknown = "A".repeat(43);
    let mut pages = Vec::new();
    for code in [&used, &unknown] {
        pages.push(open(&app, "GET", code).await);
    }
    app.set_clock(std::sync::Arc::new(passwordless::memory::FixedClock::at(
        passwordless::system::Clock::now_millis(&passwordless::system::SystemClock) + 3_600_000,
    )));
    pages.push(open(&app, "GET", &expired).await);
    pages.push(click(&app, &expired, Some("v"), "csrf=v").await);
    for page in &pages {
        assert_eq!(page.status, 404, "{}", page.body);
        assert_eq!(
            page.body, pages[0].body,
            "the same page whatever the reason"
        );
        assert!(page.body.contains("ask for a new link"));
    }
}

#[tokio::test]
async fn a_user_the_login_api_refuses_sees_a_page_and_gets_no_code() {
    let app = TestApp::spawn().await;
    // Gilfoyle has two-factor on: the login API answers 242.
    let code = start(&app, WEB_APP, "gilfoyle@piedpiper.com", web_state()).await;
    let refused = open_and_click(&app, &code).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("two-factor"), "{}", refused.body);
    assert!(refused.headers.get("location").is_none());
    assert!(!refused.body.contains("eyJ"), "no token on the page");
}

#[tokio::test]
async fn a_confidential_client_authenticates_with_basic_and_a_wrong_secret_is_invalid_client() {
    let app = TestApp::spawn().await;
    // Richard is not registered to the admin console: the login API's 202, a redirect that says so.
    let state = json!({"redirect_uri": ADMIN_REDIRECT, "state": "s"});
    let code = start(&app, ADMIN_APP, "richard@piedpiper.com", state).await;
    let click = open_and_click(&app, &code).await;
    let query = redirected(&click, &format!("{ADMIN_REDIRECT}&"));
    assert_eq!(query["state"], "s");
    assert_eq!(query["userState"], "AuthenticatedNotRegistered");
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", query["code"].as_str()),
        ("redirect_uri", ADMIN_REDIRECT),
    ];
    let wrong = token(&app, &grant, Some((ADMIN_APP, "not-the-secret"))).await;
    assert_eq!(
        (wrong.status, wrong.json()["error"].clone()),
        (401, json!("invalid_client"))
    );
    assert!(wrong.headers.contains_key("www-authenticate"));
    let no_secret = token(
        &app,
        &[grant.as_slice(), &[("client_id", ADMIN_APP)]].concat(),
        None,
    )
    .await;
    assert_eq!(no_secret.status, 401);
    let right = token(&app, &grant, Some((ADMIN_APP, ADMIN_SECRET))).await;
    assert_eq!(right.status, 200, "{}", right.body);
    let tokens = right.json();
    assert!(
        tokens.get("id_token").is_none(),
        "no openid scope, no id_token"
    );
    assert!(
        tokens.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let key = DecodingKey::from_secret(&STANDARD.decode(HS256_SECRET).unwrap());
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    let access = decode::<Value>(tokens["access_token"].as_str().unwrap(), &key, &validation)
        .expect("the access token verifies")
        .claims;
    assert_eq!(access["sub"], tokens["userId"]);
    assert!(access.get("aud").is_none(), "not registered: no audience");
}

#[tokio::test]
async fn an_unverified_registration_sees_a_page_and_gets_no_code() {
    let app = TestApp::spawn().await;
    // Jared's admin console registration is unverified: the login API's 213.
    let state = json!({"redirect_uri": ADMIN_REDIRECT});
    let code = start(&app, ADMIN_APP, "jared@piedpiper.com", state).await;
    let refused = open_and_click(&app, &code).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("verified first"), "{}", refused.body);
    assert!(refused.headers.get("location").is_none());
}

#[tokio::test]
async fn authorization_codes_and_client_secrets_are_stored_only_as_hashes() {
    // RS256 id tokens: no application needs its client secret to sign them (OIDC Core 10.1).
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["keys"] = crate::tokens::kickstart_with_asymmetric_keys()["keys"].clone();
    kickstart["tenants"][0]["jwtConfiguration"]["idTokenKeyId"] = json!(crate::tokens::RSA_KEY_ID);
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let query = redirected(&open_and_click(&app, &code).await, REDIRECT);
    let codes = format!("{:?}", app.code_items().await);
    let hash = format!("{:x}", Sha256::digest(query["code"].as_bytes()));
    assert!(codes.contains(&format!("AUTHCODE#{hash}")));
    assert!(!codes.contains(&query["code"]));
    // None of the tokens the code leads to is stored in the clear (a search for any "eyJ" would
    // also match random base64 in the sealed blobs, about one run in a hundred).
    let answer = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    for name in ["access_token", "id_token", "refresh_token"] {
        let token = answer.json()[name].as_str().unwrap().to_owned();
        assert!(!codes.contains(&token), "no {name} in the clear");
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !codes.contains(signature),
            "no part of the {name} in the clear"
        );
    }
    let directory = format!("{:?}", app.directory_items().await);
    assert!(!directory.contains("pied-piper-web-client-secret"));
    assert!(!directory.contains(ADMIN_SECRET));
}

#[tokio::test]
async fn a_client_secret_is_stored_only_where_hmac_id_tokens_are_signed_with_it() {
    // The example's id tokens fall back to its HS256 access token key: each OAuth application
    // signs them with its own client secret, which it must keep; an application without
    // redirect URLs gets no id tokens and keeps only its secret's hash.
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let legacy_secret = "legacy-app-client-secret-0123456789";
    kickstart["applications"][2]["oauthConfiguration"] = json!({"clientSecret": legacy_secret});
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let directory = format!("{:?}", app.directory_items().await);
    assert!(directory.contains(WEB_SECRET));
    assert!(directory.contains(ADMIN_SECRET));
    assert!(!directory.contains(legacy_secret));
}

#[tokio::test]
async fn hostile_paths_and_bodies_get_4xx_pages_and_errors_never_a_5xx_or_a_token() {
    let app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    for path in [
        "/oauth2/passwordless/",
        "/oauth2/passwordless/%3Cscript%3E",
        "/oauth2/passwordless/..%2F..%2Fetc",
        &format!("/oauth2/passwordless/{}", "a".repeat(5000)),
    ] {
        for method in ["GET", "HEAD", "POST", "PUT"] {
            let event = Event::new(method, path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("csrf=%ZZ&oneTimeCode=\u{0}");
            let response = app.landing_event(event.to_json()).await;
            assert!(
                (400..500).contains(&response.status),
                "{method} {path}: {}",
                response.status
            );
            assert!(!response.body.contains("<script>"));
        }
    }
    let value = csrf(&open(&app, "GET", &code).await);
    for body in ["%", "csrf", &"x=1&".repeat(20_000), "oneTimeCode=%00%ff"] {
        let posted = click(&app, &code, Some(&value), body).await;
        assert!(
            (400..500).contains(&posted.status),
            "{body:.20}: {}",
            posted.status
        );
    }
    let json_post = app
        .landing_event(
            page_event("POST", &code)
                .header("content-type", "application/json")
                .cookie(&format!("passwordless_csrf={value}"))
                .body(&format!("{{\"csrf\":\"{value}\"}}"))
                .to_json(),
        )
        .await;
    assert_eq!(json_post.status, 415);
    for (body, content_type) in [
        (
            "grant_type=authorization_code&code=x&code=y",
            "application/x-www-form-urlencoded",
        ),
        (
            "{\"grant_type\":\"authorization_code\"}",
            "application/json",
        ),
        (
            "grant_type=password&username=a&password=b",
            "application/x-www-form-urlencoded",
        ),
        (
            "grant_type=authorization_code&client_id=%00&code=x&redirect_uri=y",
            "application/x-www-form-urlencoded",
        ),
        ("%%%", "application/x-www-form-urlencoded"),
    ] {
        let event = Event::post("/oauth2/token")
            .header("content-type", content_type)
            .body(body);
        let response = app.token_event(event.to_json()).await;
        assert!(
            (400..500).contains(&response.status),
            "{body}: {}",
            response.status
        );
        assert!(response.json()["error"].is_string());
        assert!(!response.body.contains("access_token"));
    }
    let garbage_basic = app
        .token_event(
            Event::post("/oauth2/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("authorization", "Basic !!!")
                .body("grant_type=authorization_code&code=x&redirect_uri=y")
                .to_json(),
        )
        .await;
    assert_eq!(garbage_basic.status, 401);
    // Still valid after all of that.
    assert_eq!(open_and_click(&app, &code).await.status, 303);
}

#[tokio::test]
async fn the_refresh_token_from_the_code_exchange_is_exchanged_at_the_token_endpoint_by_issue_15s_rules(
) {
    let app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let query = redirected(&open_and_click(&app, &code).await, REDIRECT);
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT)
        .await
        .json();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let refreshed = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", WEB_APP),
        ],
        None,
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let body = refreshed.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["userId"], tokens["userId"]);
    assert_eq!(body["refresh_token_id"], tokens["refresh_token_id"]);
    let access = claims(body["access_token"].as_str().unwrap(), WEB_APP);
    assert_eq!(access["sub"], tokens["userId"]);
    // Another client cannot use it, nor can anyone use a token that is not one.
    let other = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
        Some((ADMIN_APP, ADMIN_SECRET)),
    )
    .await;
    assert_eq!(
        (other.status, other.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );
    let garbage = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "nope"),
            ("client_id", WEB_APP),
        ],
        None,
    )
    .await;
    assert_eq!(
        (garbage.status, garbage.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );
}

#[tokio::test]
async fn a_form_field_code_asks_for_its_one_time_code_and_a_wrong_one_leaves_the_link_usable() {
    let app = TestApp::spawn().await;
    let started = app
        .start_code(
            json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com",
            "loginStrategy": "FormField", "state": web_state()}),
        )
        .await;
    let code = started["code"].as_str().unwrap();
    let one_time_code = started["oneTimeCode"].as_str().unwrap();
    let page = open(&app, "GET", code).await;
    assert!(page.body.contains("name=\"oneTimeCode\""), "{}", page.body);
    let value = csrf(&page);
    let wrong = if one_time_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    let retry = click(
        &app,
        code,
        Some(&value),
        &format!("csrf={value}&oneTimeCode={wrong}"),
    )
    .await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert!(retry.body.contains("That code is not right"));
    let value = csrf(&retry);
    let right = click(
        &app,
        code,
        Some(&value),
        &format!("csrf={value}&oneTimeCode={one_time_code}"),
    )
    .await;
    let query = redirected(&right, REDIRECT);
    assert_eq!(
        exchange(&app, &query["code"], VERIFIER, REDIRECT)
            .await
            .status,
        200
    );
}

/// The fallback page's address as the email names it, and the one-time code beside it.
pub(crate) async fn fallback_from_email(app: &TestApp, code: &str) -> (String, String) {
    let sent = app.send(json!({"code": code})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let emails = emails_containing(code).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    let body = emails[0]["body"].as_str().expect("an email body");
    let between = |before: &str, after: &str| {
        body.split(before)
            .nth(1)
            .and_then(|rest| rest.split(after).next())
            .unwrap_or_else(|| panic!("no {before}…{after} in {body}"))
            .to_owned()
    };
    let one_time_code = between("this code: <strong>", "</strong>");
    let link = between("Go to <a href=\"", "\"");
    (link, one_time_code)
}

pub(crate) fn code_entry_event(method: &str, query: &str) -> Event {
    Event::new(method, "/oauth2/passwordless")
        .query(query)
        .without_header("content-type")
        .user_agent("Mozilla/5.0 integration-tests")
        .request_id(&Uuid::new_v4().to_string())
}

/// The fallback page's CSRF value (its own cookie, and the form's).
pub(crate) fn entry_csrf(page: &TestResponse) -> String {
    csrf_of(page, "passwordless_entry_csrf")
}

pub(crate) async fn enter_code(
    app: &TestApp,
    csrf: Option<&str>,
    pairs: &[(&str, &str)],
) -> TestResponse {
    let mut event = code_entry_event("POST", "")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(&form_encode(pairs));
    if let Some(value) = csrf {
        event = event.cookie(&format!("passwordless_entry_csrf={value}"));
    }
    app.landing_event(event.to_json()).await
}

#[tokio::test]
async fn a_links_email_carries_a_fallback_code_that_the_fallback_page_takes_with_the_address() {
    let app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let (link, one_time_code) = fallback_from_email(&app, &code).await;
    assert_eq!(
        link,
        format!("https://piedpiper.com/oauth2/passwordless?client_id={WEB_APP}")
    );
    assert!(one_time_code.len() >= 6, "{one_time_code}");
    assert!(
        !app.code_items()
            .await
            .iter()
            .any(|item| format!("{item:?}").contains(&format!("\"{one_time_code}\""))),
        "the fallback code is stored only as a hash"
    );

    let page = app
        .landing_event(code_entry_event("GET", &format!("client_id={WEB_APP}")).to_json())
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("data-page=\"enter-code\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("name=\"loginId\"") && page.body.contains("name=\"oneTimeCode\""));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("form-action 'self' https://piedpiper.com"),
        "{csp}"
    );
    let csrf = entry_csrf(&page);

    let entered = enter_code(
        &app,
        Some(&csrf),
        &[
            ("csrf", &csrf),
            ("client_id", WEB_APP),
            ("loginId", "Richard@PiedPiper.com "),
            ("oneTimeCode", &format!(" {one_time_code}")),
        ],
    )
    .await;
    let query = redirected(&entered, REDIRECT);
    assert_eq!(query["state"], "xyz/ä&1");
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let tokens = tokens.json();
    let access = claims(tokens["access_token"].as_str().unwrap(), WEB_APP);
    assert_eq!(access["email"], "richard@piedpiper.com");
    assert!(tokens["refresh_token"].is_string() && tokens["id_token"].is_string());

    assert_eq!(
        open(&app, "GET", &code).await.status,
        404,
        "the fallback used the link's code up"
    );
    let again = enter_code(
        &app,
        Some(&csrf),
        &[
            ("csrf", &csrf),
            ("client_id", WEB_APP),
            ("loginId", "richard@piedpiper.com"),
            ("oneTimeCode", &one_time_code),
        ],
    )
    .await;
    assert_eq!(again.status, 400, "a fallback works once: {}", again.body);
    assert!(again.header("location").is_none());
}

#[tokio::test]
async fn wrong_fallback_codes_run_out_without_voiding_the_link_and_tell_no_one_who_has_an_account()
{
    let app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let (_, one_time_code) = fallback_from_email(&app, &code).await;
    let page = app
        .landing_event(code_entry_event("GET", &format!("client_id={WEB_APP}")).to_json())
        .await;
    let csrf = entry_csrf(&page);
    let wrong = if one_time_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    let attempt = |login_id: &'static str, otc: String| {
        let csrf = csrf.clone();
        let app = &app;
        async move {
            enter_code(
                app,
                Some(&csrf),
                &[
                    ("csrf", &csrf),
                    ("client_id", WEB_APP),
                    ("loginId", login_id),
                    ("oneTimeCode", &otc),
                ],
            )
            .await
        }
    };
    let nobody = attempt("nobody@piedpiper.com", one_time_code.clone()).await;
    assert_eq!(nobody.status, 400, "{}", nobody.body);
    for _ in 0..5 {
        let wrong = attempt("richard@piedpiper.com", wrong.to_owned()).await;
        assert_eq!(wrong.status, 400, "{}", wrong.body);
        assert_eq!(
            problem_of(&wrong),
            problem_of(&nobody),
            "a wrong code and an unknown address read alike"
        );
    }
    let spent = attempt("richard@piedpiper.com", one_time_code.clone()).await;
    assert_eq!(spent.status, 400, "five wrong fallbacks end the fallback");
    assert!(spent.header("location").is_none());

    let clicked = open_and_click(&app, &code).await;
    let query = redirected(&clicked, REDIRECT);
    assert_eq!(
        exchange(&app, &query["code"], VERIFIER, REDIRECT)
            .await
            .status,
        200,
        "the link itself still works"
    );
}

/// The page's problem line.
pub(crate) fn problem_of(page: &TestResponse) -> String {
    page.body
        .split("role=\"alert\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no problem on {}", page.body))
        .to_owned()
}

#[tokio::test]
async fn the_fallback_page_refuses_unknown_clients_other_applications_codes_and_forged_posts() {
    let app = TestApp::spawn().await;
    let unknown = app
        .landing_event(code_entry_event("GET", "client_id=not-a-uuid").to_json())
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert!(unknown.body.contains("data-page=\"unusable\""));
    let bare = app
        .landing_event(code_entry_event("HEAD", "").to_json())
        .await;
    assert_eq!(bare.status, 400);

    // Richard's newest code is for the admin app: the web app's page does not take it.
    let state = json!({"redirect_uri": ADMIN_REDIRECT, "scope": "openid"});
    let code = start(&app, ADMIN_APP, "richard@piedpiper.com", state).await;
    let (link, one_time_code) = fallback_from_email(&app, &code).await;
    assert!(link.ends_with(&format!("client_id={ADMIN_APP}")), "{link}");
    let page = app
        .landing_event(code_entry_event("GET", &format!("client_id={WEB_APP}")).to_json())
        .await;
    let csrf = entry_csrf(&page);
    let fields = |client: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("client_id", client.to_owned()),
            ("loginId", "richard@piedpiper.com".to_owned()),
            ("oneTimeCode", one_time_code.clone()),
        ]
    };
    let web = fields(WEB_APP);
    let response = enter_code(&app, Some(&csrf), &borrowed(&web)).await;
    assert_eq!(response.status, 400, "{}", response.body);

    let admin = fields(ADMIN_APP);
    let refs = borrowed(&admin);
    let without_cookie = enter_code(&app, None, &refs).await;
    assert_eq!(without_cookie.status, 403, "{}", without_cookie.body);
    let other_cookie = enter_code(&app, Some("another-value"), &refs).await;
    assert_eq!(other_cookie.status, 403);

    let right = enter_code(&app, Some(&csrf), &refs).await;
    assert_eq!(right.status, 303, "{}", right.body);
    assert!(right
        .header("location")
        .unwrap()
        .starts_with(ADMIN_REDIRECT));
}

fn borrowed<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The landing and token functions write the EMF lines the other functions do: `Requests` by
/// outcome and status (a 303 redirect is a success), the tenant once known, every AWS call
/// timed, `RefusedCodes` for a link or an authorization code presented again; and no code,
/// authorization code, verifier or token in any line.
#[tokio::test]
async fn the_landing_and_token_functions_write_emf_lines_without_secrets() {
    let app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let page = open(&app, "GET", &code).await;
    let value = csrf(&page);
    let clicked = click(&app, &code, Some(&value), &format!("csrf={value}")).await;
    let authorization_code = redirected(&clicked, REDIRECT)["code"].clone();
    let again = click(&app, &code, Some(&value), &format!("csrf={value}")).await;
    assert_eq!(again.status, 404, "{}", again.body);
    let exchanged = exchange(&app, &authorization_code, VERIFIER, REDIRECT).await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.body);
    let tokens = exchanged.json();
    let replayed = exchange(&app, &authorization_code, VERIFIER, REDIRECT).await;
    assert_eq!(replayed.status, 400, "{}", replayed.body);

    let secrets = [
        code.as_str(),
        authorization_code.as_str(),
        VERIFIER,
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
        "richard@",
    ];
    for (function, response) in [
        ("landing", &page),
        ("landing", &clicked),
        ("landing", &again),
        ("token", &exchanged),
        ("token", &replayed),
    ] {
        assert_eq!(response.metrics.len(), 1, "{function}: one EMF document");
        for line in &response.metrics {
            crate::operations::assert_well_formed(line, function);
            let text = line.to_string();
            for secret in secrets {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
    }
    let requests = |response: &TestResponse| response.metric("Requests")[0].clone();
    assert_eq!(requests(&page)["Status"], "200");
    assert_eq!(requests(&clicked)["Status"], "303");
    assert_eq!(requests(&clicked)["Outcome"], "success");
    assert_eq!(requests(&clicked)["TenantId"], TENANT);
    assert_eq!(requests(&again)["Outcome"], "refused");
    assert_eq!(again.metric("RefusedCodes").len(), 1);
    assert_eq!(requests(&exchanged)["Status"], "200");
    assert_eq!(requests(&exchanged)["TenantId"], TENANT);
    assert_eq!(requests(&replayed)["Outcome"], "refused");
    assert_eq!(replayed.metric("RefusedCodes").len(), 1);
    for (response, call) in [
        (&clicked, "DynamoDB.PutItem"),
        (&exchanged, "DynamoDB.UpdateItem"),
    ] {
        assert!(!response.metric("AwsCallLatency").is_empty());
        assert!(
            response.aws_calls().iter().any(|c| c == call),
            "{call} not timed: {:?}",
            response.metrics
        );
    }
}

#[tokio::test]
async fn a_code_started_with_a_pkce_challenge_is_refused_by_the_login_api_as_an_unknown_code() {
    let app = TestApp::spawn().await;
    let unknown = app
        .login(json!({"code": "CynAUMCHLxCCAWyHXOVWPQd8ZY0a6U0e3YpYkT0MNxs", "applicationId": WEB_APP}))
        .await;
    assert_eq!((unknown.status, unknown.body.as_str()), (404, ""));

    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let bound = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;
    assert_eq!(
        (bound.status, &bound.body, &bound.headers),
        (unknown.status, &unknown.body, &unknown.headers),
        "only the landing page and /oauth2/token, which checks the verifier, complete it"
    );
    assert!(bound.header("set-cookie").is_none());

    // The same start without a challenge is the login API's to complete.
    let plain = start(
        &app,
        WEB_APP,
        "jared@piedpiper.com",
        json!({"redirect_uri": REDIRECT}),
    )
    .await;
    let login = app
        .login(json!({"code": plain, "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
}

/// The DynamoDB calls an invocation made, by operation, each as often as it was made.
fn dynamodb_calls(response: &TestResponse) -> Vec<(String, usize)> {
    let mut calls: Vec<(String, usize)> = response
        .metrics
        .iter()
        .filter_map(|line| line["AwsCalls"].as_object())
        .flat_map(|calls| calls.iter())
        .filter(|(call, _)| call.starts_with("DynamoDB."))
        .map(|(call, latencies)| (call.clone(), latencies.as_array().map_or(0, Vec::len)))
        .collect();
    calls.sort();
    calls
}

#[tokio::test]
async fn a_returning_users_click_reads_their_user_once_and_writes_no_user_item() {
    let app = TestApp::spawn().await;
    // The first login verifies the address: it writes the user (a transaction). The next does not.
    let first = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    redirected(&open_and_click(&app, &first).await, REDIRECT);
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let clicked = open_and_click(&app, &code).await;
    redirected(&clicked, REDIRECT);
    // Besides the look at the code and the directory reads a warm container caches (GetItem):
    // the code's use (UpdateItem) beside one read of its user with their state and pointer
    // (BatchGetItem), then the state's last logins (UpdateItem), the login record, the refresh
    // token and the authorization code (PutItem).
    let calls: Vec<(String, usize)> = dynamodb_calls(&clicked)
        .into_iter()
        .filter(|(call, _)| call != "DynamoDB.GetItem")
        .collect();
    assert_eq!(
        calls,
        vec![
            ("DynamoDB.BatchGetItem".to_owned(), 1),
            ("DynamoDB.PutItem".to_owned(), 3),
            ("DynamoDB.UpdateItem".to_owned(), 2),
        ],
        "{:?}",
        clicked.metrics
    );
}

#[tokio::test]
async fn the_continue_page_names_the_codes_user_and_a_form_naming_another_still_logs_in_the_codes_user(
) {
    let app = TestApp::spawn().await;
    let richard = "00000000-0000-0001-0000-000000000001";
    let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let page = open(&app, "GET", &code).await;
    let form = hidden_fields(&page);
    assert!(form.contains(&format!("user={richard}")), "{form}");
    // A form naming someone else (edited, or another page's): the code's user logs in, never
    // the one named.
    let other = "00000000-0000-0001-0000-000000000003";
    let forged = form.replace(&format!("user={richard}"), &format!("user={other}"));
    let clicked = click(&app, &code, Some(&csrf(&page)), &forged).await;
    let query = redirected(&clicked, REDIRECT);
    let answer = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let access = claims(answer.json()["access_token"].as_str().unwrap(), WEB_APP);
    assert_eq!(access["sub"], richard);
    // A form naming no one, or nonsense, logs in the same way.
    for named in ["", "&user=not-a-uuid"] {
        let code = start(&app, WEB_APP, "richard@piedpiper.com", web_state()).await;
        let page = open(&app, "GET", &code).await;
        let csrf = csrf(&page);
        let body = format!("csrf={csrf}{named}");
        let query = redirected(&click(&app, &code, Some(&csrf), &body).await, REDIRECT);
        let answer = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
        let access = claims(answer.json()["access_token"].as_str().unwrap(), WEB_APP);
        assert_eq!(access["sub"], richard);
    }
}
