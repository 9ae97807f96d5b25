//! `/oauth2/authorize` (issue 24): the request's validation (a bad client or redirect URI is a
//! page, every other error goes back with `error`, `state` and `iss`) and the login id page,
//! through the authorize function's handler with its own role against DynamoDB on moto; and the
//! helpers of the hosted login's tests (`hosted_flow.rs`) that act as a browser.

use api_gateway_events::Event;
use uuid::Uuid;

use crate::helpers::*;
use crate::oauth2::{challenge, csrf_of, redirected, REDIRECT, VERIFIER};

pub(crate) const RICHARD: &str = "richard@piedpiper.com";
const AUTHORIZE: &str = "/oauth2/authorize";
pub(crate) const WAIT: &str = "/oauth2/authorize/wait";

/// The web app's authorization request (PKCE, as its policy requires), with `extra` added or,
/// for an empty value, removed.
pub(crate) fn request_query(extra: &[(&str, &str)]) -> String {
    let challenge = challenge(VERIFIER);
    let mut pairs: Vec<(String, String)> = [
        ("client_id", WEB_APP),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid offline_access"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (name, value) in extra {
        pairs.retain(|(k, _)| k != name);
        if !value.is_empty() {
            pairs.push((name.to_string(), value.to_string()));
        }
    }
    let mut query = form_urlencoded_serializer();
    for (k, v) in &pairs {
        query.append_pair(k, v);
    }
    query.finish()
}

fn form_urlencoded_serializer() -> FormEncoder {
    FormEncoder(String::new())
}

/// `application/x-www-form-urlencoded`, as a browser encodes a form.
pub(crate) struct FormEncoder(String);

impl FormEncoder {
    pub(crate) fn append_pair(&mut self, name: &str, value: &str) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        self.0.push_str(&encode(name));
        self.0.push('=');
        self.0.push_str(&encode(value));
        self
    }

    pub(crate) fn finish(&self) -> String {
        self.0.clone()
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    let mut encoder = form_urlencoded_serializer();
    for (k, v) in pairs {
        encoder.append_pair(k, v);
    }
    encoder.finish()
}

pub(crate) fn browser_event(method: &str, path: &str) -> Event {
    Event::new(method, path)
        .without_header("content-type")
        .user_agent("Mozilla/5.0 integration-tests")
        .request_id(&Uuid::new_v4().to_string())
}

pub(crate) async fn authorize_get(app: &TestApp, query: &str) -> TestResponse {
    app.authorize_event(browser_event("GET", AUTHORIZE).query(query).to_json())
        .await
}

/// The value of the cookie `name` a response sets.
pub(crate) fn set_cookie<'r>(response: &'r TestResponse, name: &str) -> Option<&'r str> {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
}

pub(crate) fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

/// A browser that began a hosted login: its pending login cookie.
pub(crate) struct Began {
    pub(crate) pending: String,
    pub(crate) response: TestResponse,
}

/// Opens the login id page of `query` and posts `login_id` with it, as a browser does.
pub(crate) async fn begin(app: &TestApp, query: &str, login_id: &str) -> Began {
    begin_in(app, query, login_id, "Mozilla/5.0 integration-tests").await
}

/// [`begin`] from a browser that sends `user_agent`.
pub(crate) async fn begin_in(
    app: &TestApp,
    query: &str,
    login_id: &str,
    user_agent: &str,
) -> Began {
    let page = authorize_get(app, query).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = csrf_of(&page, "authorize_csrf");
    let mut fields: Vec<(String, String)> = hidden_fields(&page.body);
    fields.push(("loginId".into(), login_id.into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let response = app
        .authorize_event(
            browser_event("POST", AUTHORIZE)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("user-agent", user_agent)
                .user_agent(user_agent)
                .cookie(&format!("authorize_csrf={csrf}"))
                .body(&form(&pairs))
                .to_json(),
        )
        .await;
    assert_eq!(response.status, 303, "{}", response.body);
    assert_eq!(response.header("location"), Some(WAIT));
    let pending =
        cookie_value(set_cookie(&response, "fusionauth.pending").expect("a pending cookie"));
    Began { pending, response }
}

pub(crate) use api_gateway_events::hidden_fields;

pub(crate) async fn waiting_page(app: &TestApp, pending: Option<&str>) -> TestResponse {
    let mut event = browser_event("GET", WAIT);
    if let Some(pending) = pending {
        event = event.cookie(&format!("fusionauth.pending={pending}"));
    }
    app.authorize_wait_event(event.to_json()).await
}

pub(crate) fn match_code_of(page: &TestResponse) -> String {
    page.body
        .split("data-match-code=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no data-match-code on {}", page.body))
        .to_owned()
}

/// Types `one_time_code` on the waiting page (with the CSRF value of a fresh look at it).
pub(crate) async fn type_code(app: &TestApp, pending: &str, one_time_code: &str) -> TestResponse {
    let page = waiting_page(app, Some(pending)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = csrf_of(&page, "authorize_wait_csrf");
    app.authorize_wait_event(
        browser_event("POST", WAIT)
            .header("content-type", "application/x-www-form-urlencoded")
            .cookie(&format!("fusionauth.pending={pending}"))
            .cookie(&format!("authorize_wait_csrf={csrf}"))
            .body(&form(&[("csrf", &csrf), ("oneTimeCode", one_time_code)]))
            .to_json(),
    )
    .await
}

/// The link and the one-time code of the email the pending login's code went out in.
pub(crate) async fn email_of(pending: &str) -> (String, String) {
    let hash = passwordless::codes::hash_secret(pending);
    let emails = emails_containing(&hash).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    let body = emails[0]["body"].as_str().expect("an email body");
    let between = |before: &str, after: &str| {
        body.split(before)
            .nth(1)
            .and_then(|rest| rest.split(after).next())
            .unwrap_or_else(|| panic!("no {before}…{after} in {body}"))
            .to_owned()
    };
    let link = between("/oauth2/passwordless/", "?");
    (link, between("this code: <strong>", "</strong>"))
}

/// The link's page, in a browser with (or without) a pending login cookie.
pub(crate) async fn open_link(app: &TestApp, code: &str, pending: Option<&str>) -> TestResponse {
    let mut event = browser_event("GET", &format!("/oauth2/passwordless/{code}"));
    if let Some(pending) = pending {
        event = event.cookie(&format!("fusionauth.pending={pending}"));
    }
    app.landing_event(event.to_json()).await
}

/// Posts the link page's form with `fields` (and its CSRF value), in a browser with (or without)
/// the pending login cookie.
pub(crate) async fn post_link(
    app: &TestApp,
    code: &str,
    page: &TestResponse,
    pending: Option<&str>,
    fields: &[(&str, &str)],
) -> TestResponse {
    let csrf = csrf_of(page, "passwordless_csrf");
    let mut pairs = vec![("csrf", csrf.as_str())];
    pairs.extend_from_slice(fields);
    let mut event = browser_event("POST", &format!("/oauth2/passwordless/{code}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .cookie(&format!("passwordless_csrf={csrf}"))
        .body(&form(&pairs));
    if let Some(pending) = pending {
        event = event.cookie(&format!("fusionauth.pending={pending}"));
    }
    app.landing_event(event.to_json()).await
}

#[tokio::test]
async fn a_bad_client_id_or_redirect_uri_gets_a_400_page_and_never_a_redirect() {
    let app = TestApp::spawn().await;
    let unknown = Uuid::new_v4().to_string();
    for query in [
        request_query(&[("client_id", "")]),
        request_query(&[("client_id", "not-a-uuid")]),
        request_query(&[("client_id", &unknown)]),
        request_query(&[("redirect_uri", "")]),
        request_query(&[("redirect_uri", "https://evil.example/cb")]),
        request_query(&[("redirect_uri", &format!("{REDIRECT}?x=1"))]),
        format!("{}&redirect_uri=x", request_query(&[])),
        format!("{}&client_id={WEB_APP}", request_query(&[])),
        request_query(&[("tenantId", &unknown), ("state", "s")]),
    ] {
        let page = authorize_get(&app, &query).await;
        assert_eq!(page.status, 400, "{query}: {}", page.body);
        assert!(page.header("location").is_none(), "{query}");
        assert!(page.body.contains("data-page=\"error\""), "{}", page.body);
        assert!(!page.body.contains("evil.example"));
        assert_eq!(page.header("cache-control"), Some("no-store"));
    }
}

#[tokio::test]
async fn other_errors_go_back_to_the_redirect_uri_with_error_state_and_iss() {
    let app = TestApp::spawn().await;
    for (extra, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("response_type", "")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (
            vec![("code_challenge", ""), ("code_challenge_method", "")],
            "invalid_request",
        ),
        (vec![("prompt", "none login")], "invalid_request"),
        (vec![("response_mode", "fragment")], "invalid_request"),
        (vec![("prompt", "none")], "login_required"),
    ] {
        let mut with_state = extra.clone();
        with_state.push(("state", "xyz/ä&1"));
        let query = redirected(
            &authorize_get(&app, &request_query(&with_state)).await,
            REDIRECT,
        );
        assert_eq!(query["error"], error, "{extra:?}");
        assert!(!query["error_description"].is_empty());
        assert_eq!(query["state"], "xyz/ä&1");
        assert_eq!(query["iss"], "piedpiper.com");
        // No state sent, none returned.
        let query = redirected(&authorize_get(&app, &request_query(&extra)).await, REDIRECT);
        assert_eq!(query["error"], error);
        assert!(!query.contains_key("state"), "{query:?}");
        assert_eq!(query["iss"], "piedpiper.com");
    }
    let twice = format!("{}&scope=email", request_query(&[("state", "s")]));
    let query = redirected(&authorize_get(&app, &twice).await, REDIRECT);
    assert_eq!(query["error"], "invalid_request");
    assert_eq!(query["state"], "s");
}

#[tokio::test]
async fn an_error_in_form_post_mode_is_a_self_submitting_form_to_the_redirect_uri() {
    let app = TestApp::spawn().await;
    let query = request_query(&[
        ("response_mode", "form_post"),
        ("prompt", "none"),
        ("state", "st\"ate"),
    ]);
    let page = authorize_get(&app, &query).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.header("location").is_none());
    assert!(page
        .body
        .contains(&format!("<form method=\"post\" action=\"{REDIRECT}\"")));
    let fields = hidden_fields(&page.body);
    assert!(
        fields.contains(&("error".into(), "login_required".into())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("state".into(), "st\"ate".into())),
        "{fields:?}"
    );
    assert!(fields.contains(&("iss".into(), "piedpiper.com".into())));
    let csp = page.header("content-security-policy").unwrap();
    let nonce = page
        .body
        .split("<script nonce=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    assert!(
        csp.contains(&format!("script-src 'nonce-{nonce}'")),
        "{csp}"
    );
    assert!(csp.contains("form-action https://piedpiper.com;"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn the_login_id_page_posts_every_parameter_back_with_a_csrf_value_and_the_login_hint() {
    let app = TestApp::spawn().await;
    let query = request_query(&[
        ("state", "a\"b<c>"),
        ("nonce", "n-1"),
        ("login_hint", "richard@piedpiper.com"),
        ("unknown", "ignored"),
    ]);
    let page = authorize_get(&app, &query).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("<form method=\"post\" action=\"/oauth2/authorize\">"));
    assert!(page.body.contains("autocomplete=\"username\""));
    assert!(page.body.contains("name=\"loginId\""));
    assert!(page.body.contains("value=\"richard@piedpiper.com\""));
    assert!(page.body.contains("data-page=\"login-id\""));
    let fields = hidden_fields(&page.body);
    for (name, value) in [
        ("client_id", WEB_APP),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "a\"b<c>"),
        ("nonce", "n-1"),
        ("code_challenge_method", "S256"),
    ] {
        assert!(
            fields.contains(&(name.into(), value.into())),
            "{name}: {fields:?}"
        );
    }
    assert!(!fields.iter().any(|(k, _)| k == "unknown"));
    let csrf = csrf_of(&page, "authorize_csrf");
    assert!(fields.contains(&("csrf".into(), csrf)));
    let cookie = set_cookie(&page, "authorize_csrf").unwrap();
    assert!(cookie.contains("Path=/oauth2/authorize") && cookie.contains("HttpOnly"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(!page.body.contains("<script"));
    // Localized from ui_locales.
    let german = authorize_get(&app, &request_query(&[("ui_locales", "de-CH fr")])).await;
    assert!(german.body.contains("lang=\"de\""), "{}", german.body);
}

#[tokio::test]
async fn a_login_id_post_without_the_pages_csrf_value_is_refused_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let page = authorize_get(&app, &request_query(&[])).await;
    let mut fields = hidden_fields(&page.body);
    fields.retain(|(k, _)| k != "csrf");
    fields.push(("loginId".into(), "gilfoyle@piedpiper.com".into()));
    fields.push(("csrf".into(), "forged".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let posted = app
        .authorize_event(
            browser_event("POST", AUTHORIZE)
                .header("content-type", "application/x-www-form-urlencoded")
                .cookie("authorize_csrf=other")
                .body(&form(&pairs))
                .to_json(),
        )
        .await;
    assert_eq!(posted.status, 403, "{}", posted.body);
    assert!(set_cookie(&posted, "fusionauth.pending").is_none());
    assert!(app
        .code_items()
        .await
        .iter()
        .all(|i| !i["pk"].as_s().unwrap().starts_with("PENDINGLOGIN#")));
}
