//! The hosted login (issue 24): `/oauth2/authorize`, its login id page, the waiting page and the
//! magic link opened in the same or another browser, through the authorize, authorize-wait and
//! landing functions' handlers, each with its own role, against DynamoDB and SES on moto.

use api_gateway_events::Event;
use uuid::Uuid;

use crate::helpers::*;
use crate::oauth2::{challenge, csrf_of, exchange, problem_of, redirected, REDIRECT, VERIFIER};

pub(crate) const RICHARD: &str = "richard@piedpiper.com";
const AUTHORIZE: &str = "/oauth2/authorize";
const WAIT: &str = "/oauth2/authorize/wait";

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

fn cookie_value(set_cookie: &str) -> String {
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

/// Every hidden field of a page's form, decoded from the HTML (`&amp;` and `&quot;` at least).
pub(crate) fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

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

#[tokio::test]
async fn a_login_id_post_sets_the_pending_cookie_and_the_waiting_page_shows_the_match_code() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[("state", "s1")]), RICHARD).await;
    let cookie = set_cookie(&began.response, "fusionauth.pending").unwrap();
    for attribute in [
        "Path=/",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Max-Age=180",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="));
    assert_eq!(began.pending.len(), 43);
    // Stored by its hash only.
    let items = app.code_items().await;
    let pk = format!(
        "PENDINGLOGIN#{}",
        passwordless::codes::hash_secret(&began.pending)
    );
    assert!(items.iter().any(|i| i["pk"].as_s().unwrap() == &pk));
    assert!(!format!("{items:?}").contains(&began.pending));

    let page = waiting_page(&app, Some(&began.pending)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("<meta http-equiv=\"refresh\" content=\"3\">"));
    let match_code = match_code_of(&page);
    assert!(match_code.len() == 2 && match_code.bytes().all(|b| b.is_ascii_digit()));
    assert!(page.body.contains(&format!(">{match_code}<")));
    assert!(page
        .body
        .contains("<form method=\"post\" action=\"/oauth2/authorize/wait\">"));
    assert!(page
        .body
        .contains("name=\"oneTimeCode\" inputmode=\"numeric\" autocomplete=\"one-time-code\""));
    csrf_of(&page, "authorize_wait_csrf");
    assert_eq!(page.header("cache-control"), Some("no-store"));
    // The email went out with the link and its one-time code.
    let (link, one_time_code) = email_of(&began.pending).await;
    assert!(!link.is_empty() && !one_time_code.is_empty());
    // Without the cookie there is nothing to wait for.
    let none = waiting_page(&app, None).await;
    assert!(none.body.contains("data-page=\"expired\""), "{}", none.body);
    assert!(!none.body.contains("data-match-code"));
}

/// The page with its CSRF value and match code blanked.
fn blanked(page: &TestResponse) -> String {
    let csrf = csrf_of(page, "authorize_wait_csrf");
    page.body
        .replace(&csrf, "CSRF")
        .replace(&format!("\"{}\"", match_code_of(page)), "\"NN\"")
        .replace(&format!(">{}<", match_code_of(page)), ">NN<")
}

#[tokio::test]
async fn known_unknown_and_unregistered_login_ids_get_the_same_answers_and_only_the_known_a_message(
) {
    let app = TestApp::spawn().await;
    let known = begin(&app, &request_query(&[]), RICHARD).await;
    let unknown = begin(&app, &request_query(&[]), "nobody@piedpiper.com").await;
    // Gavin has an account in the tenant but no registration to the web app.
    let unregistered = begin(&app, &request_query(&[]), "gavin@hooli.com").await;
    let pages = [
        waiting_page(&app, Some(&known.pending)).await,
        waiting_page(&app, Some(&unknown.pending)).await,
        waiting_page(&app, Some(&unregistered.pending)).await,
    ];
    let statuses: Vec<u16> = pages.iter().map(|p| p.status).collect();
    assert_eq!(statuses, [200, 200, 200]);
    assert_eq!(blanked(&pages[0]), blanked(&pages[1]));
    assert_eq!(blanked(&pages[0]), blanked(&pages[2]));
    let without_value = |b: &Began| {
        let c = set_cookie(&b.response, "fusionauth.pending").unwrap();
        c.replacen(&b.pending, "V", 1)
    };
    assert_eq!(without_value(&known), without_value(&unknown));
    let hash = passwordless::codes::hash_secret(&unknown.pending);
    assert!(emails_containing(&hash).await.is_empty());
    // A wrong code for an unknown login id is the same wrong-code page.
    let typed = type_code(&app, &unknown.pending, "123456").await;
    let typed_known = type_code(&app, &known.pending, "000000").await;
    assert_eq!(typed.status, typed_known.status);
    assert_eq!(problem_of(&typed), problem_of(&typed_known));
}

#[tokio::test]
async fn the_emailed_one_time_code_typed_on_the_waiting_page_completes_the_login() {
    let app = TestApp::spawn().await;
    let began = begin(
        &app,
        &request_query(&[("state", "xyz/ä&1"), ("nonce", "n-7")]),
        RICHARD,
    )
    .await;
    let (_, one_time_code) = email_of(&began.pending).await;
    let done = type_code(&app, &began.pending, &one_time_code).await;
    let query = redirected(&done, REDIRECT);
    assert_eq!(query["state"], "xyz/ä&1");
    assert_eq!(query["iss"], "piedpiper.com");
    let cleared = set_cookie(&done, "fusionauth.pending").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // The browser that completed it gets the SSO session, holding the login's refresh token.
    let sso = cookie_value(set_cookie(&done, "fusionauth.sso").expect("an SSO session cookie"));
    let session = app
        .code_items()
        .await
        .into_iter()
        .find(|i| {
            i["pk"].as_s().unwrap() == &format!("SSO#{}", passwordless::codes::hash_secret(&sso))
        })
        .expect("the session is stored by its hash");
    assert!(!format!("{session:?}").contains(&sso));
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let id_token = tokens.json()["id_token"].as_str().unwrap().to_owned();
    assert_eq!(crate::oauth2::claims(&id_token, WEB_APP)["nonce"], "n-7");
    // Completed: the waiting page has nothing more to give.
    let after = waiting_page(&app, Some(&began.pending)).await;
    assert!(after.header("location").is_none());
}

#[tokio::test]
async fn wrong_one_time_codes_are_counted_and_the_third_refuses_the_pending_login() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[("state", "s")]), RICHARD).await;
    let (_, right) = email_of(&began.pending).await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..2 {
        let again = type_code(&app, &began.pending, wrong).await;
        assert_eq!(again.status, 400, "{}", again.body);
        assert!(again.body.contains("data-match-code"));
        assert!(!problem_of(&again).is_empty());
    }
    let refused = type_code(&app, &began.pending, wrong).await;
    let query = redirected(&refused, REDIRECT);
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], "s");
    assert!(!query.contains_key("code"));
    // Even the right code no longer completes it.
    let page = waiting_page(&app, Some(&began.pending)).await;
    assert_eq!(redirected(&page, REDIRECT)["error"], "access_denied");
}

#[tokio::test]
async fn the_link_opened_in_the_same_browser_completes_there_with_its_button() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[("state", "same")]), RICHARD).await;
    let (code, _) = email_of(&began.pending).await;
    let page = open_link(&app, &code, Some(&began.pending)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("data-page=\"continue\""),
        "{}",
        page.body
    );
    let clicked = post_link(&app, &code, &page, Some(&began.pending), &[]).await;
    let query = redirected(&clicked, REDIRECT);
    assert_eq!(query["state"], "same");
    assert_eq!(query["iss"], "piedpiper.com");
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(set_cookie(&clicked, "fusionauth.sso").is_some());
    // The waiting tab then finds it finished, with no second code.
    let after = waiting_page(&app, Some(&began.pending)).await;
    assert_eq!(after.status, 200);
    assert!(after.header("location").is_none());
}

#[tokio::test]
async fn the_link_on_another_device_approves_with_the_match_code_and_the_waiting_page_completes() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[("state", "other")]), RICHARD).await;
    let (code, one_time_code) = email_of(&began.pending).await;
    let match_code = match_code_of(&waiting_page(&app, Some(&began.pending)).await);

    // Another browser: no cookie, or another login's.
    let page = open_link(&app, &code, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-page=\"approve\""), "{}", page.body);
    assert!(page.body.contains("name=\"matchCode\""));
    assert!(!page.body.contains("data-match-code"));
    // Its button alone completes nothing here: the approval page again.
    let pressed = post_link(&app, &code, &page, Some("another-browser"), &[]).await;
    assert_eq!(pressed.status, 200, "{}", pressed.body);
    assert!(pressed.body.contains("data-page=\"approve\""));
    assert!(pressed.header("location").is_none());

    let wrong = format!("{:02}", (match_code.parse::<u32>().unwrap() + 1) % 100);
    let refused = post_link(&app, &code, &page, None, &[("matchCode", &wrong)]).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("data-page=\"approve\""));
    assert!(!problem_of(&refused).is_empty());
    // Still waiting.
    assert_eq!(waiting_page(&app, Some(&began.pending)).await.status, 200);

    let approved = post_link(&app, &code, &page, None, &[("matchCode", &match_code)]).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert!(approved.body.contains("signed in on your other device"));
    assert!(approved.header("location").is_none());
    assert!(!approved.body.contains(&one_time_code));
    assert!(!approved.body.contains("code="));
    assert!(set_cookie(&approved, "fusionauth.sso").is_none());
    assert!(set_cookie(&approved, "access_token").is_none());

    let done = waiting_page(&app, Some(&began.pending)).await;
    assert!(set_cookie(&done, "fusionauth.sso").is_some());
    let query = redirected(&done, REDIRECT);
    assert_eq!(query["state"], "other");
    assert_eq!(query["iss"], "piedpiper.com");
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    // Once only.
    let again = waiting_page(&app, Some(&began.pending)).await;
    assert!(again.header("location").is_none());
    let replay = post_link(&app, &code, &page, None, &[("matchCode", &match_code)]).await;
    assert!(!replay.body.contains("signed in on your other device"));
}

#[tokio::test]
async fn three_wrong_match_codes_refuse_the_pending_login_and_the_waiting_page_says_access_denied()
{
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[]), RICHARD).await;
    let (code, _) = email_of(&began.pending).await;
    let match_code = match_code_of(&waiting_page(&app, Some(&began.pending)).await);
    let wrong = format!("{:02}", (match_code.parse::<u32>().unwrap() + 1) % 100);
    let page = open_link(&app, &code, None).await;
    for expected in [400, 400, 403] {
        let answer = post_link(&app, &code, &page, None, &[("matchCode", &wrong)]).await;
        assert_eq!(answer.status, expected, "{}", answer.body);
    }
    let right = post_link(&app, &code, &page, None, &[("matchCode", &match_code)]).await;
    assert!(!right.body.contains("signed in on your other device"));
    let done = waiting_page(&app, Some(&began.pending)).await;
    let query = redirected(&done, REDIRECT);
    assert_eq!(query["error"], "access_denied");
    assert!(!query.contains_key("state"));
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn the_authorization_response_in_form_post_mode_is_posted_to_the_client() {
    let app = TestApp::spawn().await;
    let began = begin(
        &app,
        &request_query(&[("response_mode", "form_post"), ("state", "fp")]),
        RICHARD,
    )
    .await;
    let (_, one_time_code) = email_of(&began.pending).await;
    let done = type_code(&app, &began.pending, &one_time_code).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let fields = hidden_fields(&done.body);
    let code = fields
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.clone())
        .expect("a code field");
    assert!(fields.contains(&("state".into(), "fp".into())));
    assert!(fields.contains(&("iss".into(), "piedpiper.com".into())));
    let tokens = exchange(&app, &code, VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
}
