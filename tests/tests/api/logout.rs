//! `/oauth2/logout` (RP-Initiated Logout) and FusionAuth's `POST /api/logout` through their
//! handlers, against moto with each function's own role: the SSO session ends, the refresh tokens
//! issued within it are revoked, the cookies are cleared, and the browser only ever goes to a
//! place the client registered.

use api_gateway_events::Event;
use passwordless::model::Tenant;
use passwordless::oauth2::sso;
use passwordless::ports::{Directory, SsoSessions};
use passwordless::system::OsRandom;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::sso::sso_cookie_value;

const CALLBACK: &str = "https://piedpiper.com/oauth/callback";
const LOGOUT_URL: &str = "https://piedpiper.com/signed-out";
const TENANT_LOGOUT_URL: &str = "https://piedpiper.com/tenant-signed-out";
const ADMIN_APP: &str = "10000000-0000-0002-0000-000000000002";

/// The reference kickstart with a `logoutURL` on the web application and on the tenant.
fn kickstart() -> String {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["applications"][0]["oauthConfiguration"]["logoutURL"] = json!(LOGOUT_URL);
    kickstart["tenants"][0]["logoutURL"] = json!(TENANT_LOGOUT_URL);
    kickstart.to_string()
}

/// A signed-in browser: Richard's login to the web application (its refresh token), an SSO
/// session holding that token's family, and the session's cookie value.
struct SignedIn {
    user_id: Uuid,
    refresh_token: String,
    cookie: String,
    id_hash: String,
}

async fn signed_in(app: &TestApp) -> SignedIn {
    let login = app.log_in("richard@piedpiper.com", WEB_APP).await;
    let user_id: Uuid = login["user"]["id"].as_str().unwrap().parse().unwrap();
    let family: Uuid = login["refreshTokenId"].as_str().unwrap().parse().unwrap();
    let tenant: Tenant = app
        .store
        .tenant(TENANT.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let now = now_millis();
    let (set_cookie, session) =
        sso::start_session(&app.store, &OsRandom, &tenant, user_id, now, now)
            .await
            .unwrap();
    app.store
        .add_refresh_token(&session.id_hash, family)
        .await
        .unwrap();
    SignedIn {
        user_id,
        refresh_token: login["refreshToken"].as_str().unwrap().to_owned(),
        cookie: sso_cookie_value(&set_cookie).to_owned(),
        id_hash: session.id_hash,
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// An id token for `user` and `client`, signed as the service signs them, expiring at `exp`
/// (seconds): the example's id token key is HS256, so with the client's secret (OIDC Core 10.1),
/// under the HS256 key's `kid`.
async fn id_token(app: &TestApp, user: Uuid, client: &str, exp: i64) -> String {
    use base64::Engine;
    let kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let key_id: Uuid = kickstart["keys"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let named = app.store.signing_key(key_id).await.unwrap().unwrap();
    let secret = kickstart["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == client)
        .and_then(|a| a["oauthConfiguration"]["clientSecret"].as_str())
        .expect("the client has a secret");
    let key = passwordless::model::SigningKey {
        id: Uuid::new_v4(),
        secret: Some(base64::engine::general_purpose::STANDARD.encode(secret)),
        kid: Some(named.kid()),
        ..named
    };
    let claims = json!({"aud": client, "sub": user, "iss": "piedpiper.com", "exp": exp,
                        "iat": exp - 3600, "auth_time": exp - 3600});
    passwordless::tokens::Signer::default()
        .sign(&key, &claims)
        .unwrap()
}

/// A request's parameters, in order.
type Parameters<'a> = Vec<(&'a str, &'a str)>;

fn query(pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    query.finish()
}

fn logout_get(pairs: &[(&str, &str)], cookie: Option<&str>) -> Value {
    let mut event = Event::get("/oauth2/logout")
        .query(&query(pairs))
        .user_agent("Mozilla/5.0 integration-tests")
        .request_id(&Uuid::new_v4().to_string());
    if let Some(cookie) = cookie {
        event = event.cookie(cookie);
    }
    event.to_json()
}

fn sso_cookie(signed_in: &SignedIn) -> String {
    format!("fusionauth.sso={}", signed_in.cookie)
}

async fn session_is_live(app: &TestApp, signed_in: &SignedIn) -> bool {
    app.store.find(&signed_in.id_hash).await.unwrap().is_some()
}

async fn refreshes(app: &TestApp, refresh_token: &str) -> bool {
    app.refresh(json!({"refreshToken": refresh_token}))
        .await
        .status
        == 200
}

fn clears_the_sso_cookie(response: &TestResponse) -> bool {
    response.cookies().iter().any(|c| {
        c.starts_with("fusionauth.sso=;") && c.contains("Max-Age=0") && c.contains("Path=/")
    })
}

/// The CSRF value of a confirmation page's form, and its action.
fn confirmation_form(page: &TestResponse) -> (String, String) {
    let value_after = |marker: &str| {
        page.body
            .split(marker)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no {marker} in {}", page.body))
            .replace("&amp;", "&")
            .replace("&#x2f;", "/")
            .replace("&#x3d;", "=")
    };
    (
        value_after("name=\"csrf\" value=\""),
        value_after("<form method=\"post\" action=\""),
    )
}

#[tokio::test]
async fn a_valid_id_token_hint_ends_the_session_revokes_its_tokens_and_redirects_with_state() {
    let app = TestApp::spawn_with(&kickstart()).await;
    let browser = signed_in(&app).await;
    // Another login of Richard's, outside the session: logging the browser out leaves it.
    let elsewhere = app.log_in("richard@piedpiper.com", WEB_APP).await;
    let elsewhere = elsewhere["refreshToken"].as_str().unwrap().to_owned();
    let hint = id_token(&app, browser.user_id, WEB_APP, now_millis() / 1000 + 600).await;

    let response = app
        .logout_event(logout_get(
            &[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", CALLBACK),
                ("state", "a b&c=d/é"),
            ],
            Some(&sso_cookie(&browser)),
        ))
        .await;

    assert_eq!(response.status, 302, "{}", response.body);
    assert_eq!(
        response.header("location"),
        Some("https://piedpiper.com/oauth/callback?state=a+b%26c%3Dd%2F%C3%A9")
    );
    assert!(clears_the_sso_cookie(&response), "{:?}", response.cookies());
    assert!(!session_is_live(&app, &browser).await);
    assert!(!refreshes(&app, &browser.refresh_token).await);
    assert!(refreshes(&app, &elsewhere).await);
}

#[tokio::test]
async fn an_expired_hint_we_signed_is_accepted_and_a_forged_or_foreign_one_asks_to_confirm() {
    let app = TestApp::spawn_with(&kickstart()).await;
    let browser = signed_in(&app).await;
    let cookie = sso_cookie(&browser);

    let forged = {
        let good = id_token(&app, browser.user_id, WEB_APP, now_millis() / 1000 + 600).await;
        let (signed, _) = good.rsplit_once('.').unwrap();
        format!("{signed}.AAAA")
    };
    let someone_else = id_token(&app, Uuid::new_v4(), WEB_APP, now_millis() / 1000 + 600).await;
    for hint in [forged, someone_else, "not-a-jwt".to_owned()] {
        let response = app
            .logout_event(logout_get(&[("id_token_hint", &hint)], Some(&cookie)))
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        assert!(response.body.contains("data-page=\"confirm-logout\""));
        assert_eq!(response.header("location"), None);
        assert!(session_is_live(&app, &browser).await);
    }

    let expired = id_token(&app, browser.user_id, WEB_APP, now_millis() / 1000 - 86_400).await;
    let response = app
        .logout_event(logout_get(&[("id_token_hint", &expired)], Some(&cookie)))
        .await;
    assert_eq!(response.status, 302, "{}", response.body);
    assert_eq!(
        response.header("location"),
        Some(LOGOUT_URL),
        "no post_logout_redirect_uri: the application's logoutURL"
    );
    assert!(!session_is_live(&app, &browser).await);
}

#[tokio::test]
async fn without_a_hint_only_the_confirmation_pages_own_post_signs_out() {
    let app = TestApp::spawn_with(&kickstart()).await;
    let browser = signed_in(&app).await;
    let cookie = sso_cookie(&browser);

    let page = app
        .logout_event(logout_get(
            &[("client_id", WEB_APP), ("state", "s-1")],
            Some(&cookie),
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-page=\"confirm-logout\""));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' https://piedpiper.com;"),
        "{csp}"
    );
    assert!(session_is_live(&app, &browser).await, "a GET ends nothing");
    let (csrf, action) = confirmation_form(&page);
    let csrf_cookie = page
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("passwordless_logout_csrf="))
        .expect("the page sets its CSRF cookie");
    assert!(csrf_cookie.contains("Path=/oauth2/logout") && csrf_cookie.contains("SameSite=Strict"));
    let (path, query) = action.split_once('?').unwrap();
    assert_eq!(path, "/oauth2/logout");

    let post = |cookies: String, body: String, site: &str| {
        Event::post("/oauth2/logout")
            .query(query)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", site)
            .cookie(&cookies)
            .body(&body)
            .request_id(&Uuid::new_v4().to_string())
            .to_json()
    };
    let forged = [
        post(cookie.clone(), format!("csrf={csrf}"), "same-origin"),
        post(
            format!("{cookie}; passwordless_logout_csrf=other"),
            format!("csrf={csrf}"),
            "same-origin",
        ),
        post(
            format!("{cookie}; passwordless_logout_csrf={csrf}"),
            format!("csrf={csrf}"),
            "cross-site",
        ),
    ];
    for event in forged {
        let refused = app.logout_event(event).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(session_is_live(&app, &browser).await);
    }

    let confirmed = app
        .logout_event(post(
            format!("{cookie}; passwordless_logout_csrf={csrf}"),
            format!("csrf={csrf}"),
            "same-origin",
        ))
        .await;
    assert_eq!(confirmed.status, 302, "{}", confirmed.body);
    assert_eq!(
        confirmed.header("location"),
        Some("https://piedpiper.com/signed-out?state=s-1")
    );
    assert!(clears_the_sso_cookie(&confirmed));
    assert!(!session_is_live(&app, &browser).await);
    assert!(!refreshes(&app, &browser.refresh_token).await);
}

#[tokio::test]
async fn the_place_to_go_is_the_registered_uri_else_the_apps_logout_url_else_the_tenants_else_a_page(
) {
    let app = TestApp::spawn_with(&kickstart()).await;
    let user = Uuid::new_v4();
    let hint = |client: &'static str| {
        let app = &app;
        async move { id_token(app, user, client, now_millis() / 1000 + 600).await }
    };
    let web = hint(WEB_APP).await;
    let admin = hint(ADMIN_APP).await;
    let cases: [(Parameters, Option<&str>); 4] = [
        (
            vec![
                ("id_token_hint", &web),
                ("post_logout_redirect_uri", LOGOUT_URL),
            ],
            Some(LOGOUT_URL),
        ),
        (vec![("id_token_hint", &web)], Some(LOGOUT_URL)),
        (vec![("id_token_hint", &admin)], Some(TENANT_LOGOUT_URL)),
        (
            vec![
                ("id_token_hint", &admin),
                (
                    "post_logout_redirect_uri",
                    "https://admin.piedpiper.com/callback?from=email",
                ),
                ("state", "x"),
            ],
            Some("https://admin.piedpiper.com/callback?from=email&state=x"),
        ),
    ];
    for (pairs, location) in cases {
        let response = app.logout_event(logout_get(&pairs, None)).await;
        assert_eq!(response.status, 302, "{pairs:?}: {}", response.body);
        assert_eq!(response.header("location"), location, "{pairs:?}");
    }

    let bare = TestApp::spawn().await;
    let hint = id_token(&bare, user, WEB_APP, now_millis() / 1000 + 600).await;
    let page = bare
        .logout_event(logout_get(&[("id_token_hint", &hint)], None))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-page=\"signed-out\""));
    assert!(clears_the_sso_cookie(&page));
}

#[tokio::test]
async fn an_unregistered_place_or_a_mismatched_client_is_an_error_page_and_ends_nothing() {
    let app = TestApp::spawn_with(&kickstart()).await;
    let browser = signed_in(&app).await;
    let cookie = sso_cookie(&browser);
    let hint = id_token(&app, browser.user_id, WEB_APP, now_millis() / 1000 + 600).await;
    let refused: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        vec![
            ("id_token_hint", &hint),
            (
                "post_logout_redirect_uri",
                "https://piedpiper.com/oauth/callback/",
            ),
        ],
        vec![
            ("client_id", WEB_APP),
            (
                "post_logout_redirect_uri",
                "https://admin.piedpiper.com/callback?from=email",
            ),
        ],
        // No client to check it against.
        vec![("post_logout_redirect_uri", CALLBACK)],
        vec![("id_token_hint", &hint), ("client_id", ADMIN_APP)],
        vec![("client_id", "not-a-uuid")],
        vec![("client_id", "10000000-0000-0002-0000-000000000099")],
        // A parameter twice (RFC 6749 3.1).
        vec![("client_id", WEB_APP), ("client_id", WEB_APP)],
    ];
    for pairs in refused {
        let response = app.logout_event(logout_get(&pairs, Some(&cookie))).await;
        assert_eq!(response.status, 400, "{pairs:?}: {}", response.body);
        assert_eq!(response.header("location"), None);
        assert!(response.body.contains("data-page=\"error\""));
        assert!(!clears_the_sso_cookie(&response));
        assert!(session_is_live(&app, &browser).await, "{pairs:?}");
    }
}

#[tokio::test]
async fn hostile_logout_parameters_and_bodies_never_get_a_5xx_or_a_redirect_elsewhere() {
    let app = TestApp::spawn_with(&kickstart()).await;
    let hint = id_token(&app, Uuid::new_v4(), WEB_APP, now_millis() / 1000 + 600).await;
    let long = "a".repeat(9000);
    let queries = [
        "post_logout_redirect_uri=javascript:alert(1)&client_id=10000000-0000-0002-0000-000000000001".to_owned(),
        "post_logout_redirect_uri=%2F%2Fevil.example&client_id=10000000-0000-0002-0000-000000000001".to_owned(),
        format!("id_token_hint={hint}&post_logout_redirect_uri=https://piedpiper.com/oauth/callback%0d%0aSet-Cookie:x=y"),
        format!("id_token_hint={hint}&state=%0d%0aLocation:%20https://evil.example"),
        format!("id_token_hint={long}"),
        format!("state={long}"),
        "client_id=%ff%fe&state=%zz".to_owned(),
        "id_token_hint=e30.e30.e30".to_owned(),
        "id_token_hint=eyJhbGciOiJub25lIiwia2lkIjoiMGMxZjNlN2EtNWIwZS00YzNmLTlkNTUtMmE4ZjFkN2U2YjAxIn0.e30.".to_owned(),
        "tenantId=../../etc&client_id=".to_owned(),
        "&&&=&==".to_owned(),
    ];
    let mut events: Vec<Value> = queries
        .iter()
        .map(|q| {
            Event::get("/oauth2/logout")
                .query(q)
                .request_id(&Uuid::new_v4().to_string())
                .to_json()
        })
        .collect();
    for (content_type, body) in [
        (
            "application/x-www-form-urlencoded",
            "csrf=&client_id=x".to_owned(),
        ),
        ("application/x-www-form-urlencoded", format!("csrf={long}")),
        ("application/json", "{\"client_id\": 1}".to_owned()),
        ("application/x-www-form-urlencoded", "a".repeat(70 * 1024)),
        (
            "application/x-www-form-urlencoded",
            "%ff=%fe&client_id=%".to_owned(),
        ),
    ] {
        events.push(
            Event::post("/oauth2/logout")
                .header("content-type", content_type)
                .body(&body)
                .request_id(&Uuid::new_v4().to_string())
                .to_json(),
        );
    }
    events.push(
        Event::new("DELETE", "/oauth2/logout")
            .request_id(&Uuid::new_v4().to_string())
            .to_json(),
    );
    for event in events {
        let described = event["rawQueryString"].to_string();
        let response = app.logout_event(event).await;
        assert!(response.status < 500, "{described}: {}", response.status);
        if let Some(location) = response.header("location") {
            assert!(
                [CALLBACK, LOGOUT_URL, TENANT_LOGOUT_URL]
                    .iter()
                    .any(|registered| location.starts_with(registered)),
                "{described}: redirected to {location}"
            );
            assert!(!location.contains('\r') && !location.contains('\n'));
        }
    }
}

fn api_logout(
    query: &str,
    cookies: &[String],
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Value {
    let mut event = Event::post("/api/logout")
        .query(query)
        .request_id(&Uuid::new_v4().to_string());
    for (name, value) in headers {
        event = event.header(name, value);
    }
    if !cookies.is_empty() {
        event = event.cookie(&cookies.join("; "));
    }
    event = match body {
        Some(body) => event.body(body),
        None => event.without_header("content-type"),
    };
    event.to_json()
}

fn expires_the_login_cookies(response: &TestResponse) -> bool {
    let cookies = response.cookies();
    ["access_token=;", "refresh_token=;", "fusionauth.sso=;"]
        .iter()
        .all(|name| {
            cookies
                .iter()
                .any(|c| c.starts_with(name) && c.contains("Max-Age=0") && c.contains("Path=/"))
        })
}

#[tokio::test]
async fn the_logout_api_revokes_the_parameters_token_over_the_cookies_and_expires_the_cookies() {
    let app = TestApp::spawn_with(&kickstart()).await;
    let browser = signed_in(&app).await;
    let other = app.log_in("richard@piedpiper.com", WEB_APP).await;
    let other = other["refreshToken"].as_str().unwrap().to_owned();

    // As the Python client's `logout(False, refresh_token)` sends it, with the other token in
    // the cookie: the parameter wins.
    let response = app
        .api_logout_event(api_logout(
            &query(&[
                ("global", "False"),
                ("refreshToken", &browser.refresh_token),
            ]),
            &[format!("refresh_token={other}")],
            &[],
            None,
        ))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body, "");
    assert!(
        expires_the_login_cookies(&response),
        "{:?}",
        response.cookies()
    );
    assert!(!refreshes(&app, &browser.refresh_token).await);
    assert!(refreshes(&app, &other).await, "not global: the others stay");
    assert!(
        session_is_live(&app, &browser).await,
        "not global: the session stays"
    );

    // The cookie alone, in a JSON body's absence.
    let response = app
        .api_logout_event(api_logout(
            "",
            &[format!("refresh_token={other}")],
            &[],
            None,
        ))
        .await;
    assert_eq!(response.status, 200);
    assert!(!refreshes(&app, &other).await);

    // Nothing to revoke, or nonsense: still 200, still the cookies expired.
    for token in ["", "garbage", &browser.refresh_token] {
        let response = app
            .api_logout_event(api_logout(
                &query(&[("refreshToken", token)]),
                &[],
                &[],
                None,
            ))
            .await;
        assert_eq!(response.status, 200, "{token}: {}", response.body);
        assert!(expires_the_login_cookies(&response));
    }
}

#[tokio::test]
async fn a_global_logout_revokes_every_token_of_the_owner_and_ends_the_sso_session() {
    let app = TestApp::spawn_with(&kickstart()).await;
    let browser = signed_in(&app).await;
    let other = app.log_in("richard@piedpiper.com", WEB_APP).await;
    let other = other["refreshToken"].as_str().unwrap().to_owned();
    let jared = app.log_in("jared@piedpiper.com", WEB_APP).await;
    let jared = jared["refreshToken"].as_str().map(str::to_owned);

    let response = app
        .api_logout_event(api_logout(
            "",
            &[sso_cookie(&browser)],
            &[],
            Some(&json!({"global": true, "refreshToken": other}).to_string()),
        ))
        .await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert!(expires_the_login_cookies(&response));
    assert!(!refreshes(&app, &other).await);
    assert!(!refreshes(&app, &browser.refresh_token).await);
    assert!(!session_is_live(&app, &browser).await);
    if let Some(jared) = jared {
        assert!(refreshes(&app, &jared).await, "another user's tokens stay");
    }
}

#[tokio::test]
async fn the_logout_api_leaves_another_tenants_token_and_refuses_a_global_that_is_no_boolean() {
    let app = TestApp::spawn_with(&kickstart()).await;
    let login = app.log_in("richard@piedpiper.com", WEB_APP).await;
    let token = login["refreshToken"].as_str().unwrap().to_owned();
    let response = app
        .api_logout_event(api_logout(
            &query(&[("refreshToken", &token)]),
            &[],
            &[(
                "x-fusionauth-tenantid",
                "6b8f1f52-0000-4000-8000-000000000000",
            )],
            None,
        ))
        .await;
    assert_eq!(response.status, 200);
    assert!(
        refreshes(&app, &token).await,
        "another tenant's token is left alone"
    );

    let bad_tenant = app
        .api_logout_event(api_logout(
            &query(&[("refreshToken", &token)]),
            &[],
            &[("x-fusionauth-tenantid", "not-a-tenant")],
            None,
        ))
        .await;
    assert_eq!(bad_tenant.status, 400, "{}", bad_tenant.body);
    assert_eq!(bad_tenant.error_codes(), vec!["[invalid]tenantId"]);
    assert!(refreshes(&app, &token).await);
    for (query_string, body) in [
        ("global=maybe", None),
        ("", Some("{\"global\": 1}")),
        ("", Some("{\"global\": \"yes\"}")),
        ("", Some("not json")),
    ] {
        let response = app
            .api_logout_event(api_logout(
                query_string,
                &[],
                &[("content-type", "application/json")],
                body,
            ))
            .await;
        assert_eq!(
            response.status, 400,
            "{query_string} {body:?}: {}",
            response.body
        );
        assert!(!response.body.is_empty(), "an Errors body");
    }
    let long = "a".repeat(300);
    let response = app
        .api_logout_event(api_logout(
            &query(&[("refreshToken", &long)]),
            &[],
            &[],
            None,
        ))
        .await;
    assert_eq!(response.status, 400);
    assert_eq!(response.error_codes(), vec!["[tooLong]refreshToken"]);
    assert!(refreshes(&app, &token).await);
}

#[tokio::test]
async fn a_global_logout_with_only_a_valid_access_token_revokes_its_owners_tokens() {
    let app = TestApp::spawn_with(&kickstart()).await;
    let login = app.log_in("richard@piedpiper.com", WEB_APP).await;
    let refresh_token = login["refreshToken"].as_str().unwrap().to_owned();
    let access_token = login["token"].as_str().unwrap().to_owned();
    let forged = {
        let (signed, _) = access_token.rsplit_once('.').unwrap();
        format!("{signed}.AAAA")
    };

    for (token, global) in [(&forged, "true"), (&access_token, "false")] {
        let response = app
            .api_logout_event(api_logout(
                &query(&[("global", global)]),
                &[format!("access_token={token}")],
                &[],
                None,
            ))
            .await;
        assert_eq!(response.status, 200);
        assert!(refreshes(&app, &refresh_token).await, "global={global}");
    }
    let response = app
        .api_logout_event(api_logout(
            &query(&[("global", "true")]),
            &[format!("access_token={access_token}")],
            &[],
            None,
        ))
        .await;
    assert_eq!(response.status, 200);
    assert!(expires_the_login_cookies(&response));
    assert!(!refreshes(&app, &refresh_token).await);
}
