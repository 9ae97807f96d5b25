//! Hostile input on the hosted login's pages (issue 24): whatever the authorization request's
//! parameters, a redirect (or a form post back) only ever goes to a redirect URI the client
//! registered, and nothing answers 5xx; whatever a browser without the pending login's cookie
//! posts to a hosted login's link, it gets no authorization code, no token and no redirect to the
//! application; whatever is typed on the waiting page, nothing answers 5xx and nothing goes back
//! anywhere else. Over the in-memory ports (the forms' generic properties, any body and any
//! field over its cap, are in hostile_input.rs, which reaches these pages too).

// Each test binary uses a part of the shared support module.
#[allow(dead_code)]
mod support;

use lambda_http::{Body, Response};
use passwordless::memory::MemoryServices;
use proptest::prelude::*;
use support::memory_app::{self, HostedStores, WEB_APP};

const REDIRECT: &str = "https://piedpiper.com/oauth/callback";
const ADMIN_APP: &str = "10000000-0000-0002-0000-000000000002";
/// Every redirect URI the reference kickstart registers.
const REGISTERED: [&str; 2] = [REDIRECT, "https://admin.piedpiper.com/callback?from=email"];
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn runtime() -> tokio::runtime::Runtime {
    // Paused: the pages' answer floors cost nothing.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One in-memory service with the hosted login's stores.
struct App {
    services: MemoryServices,
    hosted: HostedStores,
    pages: passwordless::http::pages::Pages,
    rt: tokio::runtime::Runtime,
}

impl App {
    fn new() -> Self {
        Self {
            services: memory_app::services(memory_app::KICKSTART),
            hosted: HostedStores::default(),
            pages: passwordless::http::pages::Pages::new(),
            rt: runtime(),
        }
    }

    fn call(&self, path: &str, event: api_gateway_events::Event) -> Option<Response<Body>> {
        let request = memory_app::request(&event.to_json().to_string())?;
        let pages = &self.pages;
        Some(self.rt.block_on(async {
            if path == "/oauth2/authorize" {
                let services = self.hosted.authorize(&self.services);
                passwordless::http::authorize::handle(&services, pages, request).await
            } else if path == "/oauth2/authorize/wait" {
                let services = self.hosted.landing(&self.services);
                passwordless::http::authorize_wait::handle(&services, pages, request).await
            } else {
                let services = self.hosted.landing(&self.services);
                passwordless::http::landing::handle(&services, pages, request).await
            }
        }))
    }

    fn get(&self, path: &str, query: &str, cookies: &[String]) -> Option<Response<Body>> {
        let mut event = api_gateway_events::Event::get(path).query(query);
        for cookie in cookies {
            event = event.cookie(cookie);
        }
        self.call(path, event)
    }

    fn post(&self, path: &str, body: &str, cookies: &[String]) -> Option<Response<Body>> {
        let mut event = api_gateway_events::Event::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for cookie in cookies {
            event = event.cookie(cookie);
        }
        self.call(path, event)
    }

    /// Begins a hosted login of Richard's as a browser does: the pending login's cookie, the
    /// link's code and the match code the waiting page shows.
    fn begin(&self) -> (String, String, String) {
        let query = encode(&[
            ("client_id", WEB_APP),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "s"),
        ]);
        let page = self.get("/oauth2/authorize", &query, &[]).expect("read");
        let csrf = cookie_set(&page, "authorize_csrf").expect("the page's CSRF cookie");
        let mut fields = hidden_fields(&text(&page));
        fields.push(("loginId".into(), "richard@piedpiper.com".into()));
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let posted = self
            .post(
                "/oauth2/authorize",
                &encode(&pairs),
                &[format!("authorize_csrf={csrf}")],
            )
            .expect("read");
        assert_eq!(posted.status(), 303, "{}", text(&posted));
        let pending = cookie_set(&posted, "fusionauth.pending").expect("a pending cookie");
        let waiting = self
            .get(
                "/oauth2/authorize/wait",
                "",
                &[format!("fusionauth.pending={pending}")],
            )
            .expect("read");
        let match_code = between(&text(&waiting), "data-match-code=\"", "\"");
        let emails = self.services.outbox.emails.lock().unwrap();
        let html = &emails.last().expect("an email").html;
        let code = between(html, "/oauth2/passwordless/", "?");
        (pending, code, match_code)
    }
}

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        form.append_pair(k, v);
    }
    form.finish()
}

fn text(response: &Response<Body>) -> String {
    match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    }
}

fn between(text: &str, before: &str, after: &str) -> String {
    text.split(before)
        .nth(1)
        .and_then(|rest| rest.split(after).next())
        .unwrap_or_else(|| panic!("no {before}…{after} in {text}"))
        .to_owned()
}

fn cookie_set(response: &Response<Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((
                name.to_owned(),
                value.replace("&amp;", "&").replace("&#x2f;", "/"),
            ))
        })
        .collect()
}

/// Where an answer sends the browser: its `Location`, or a form post's action.
fn destination(response: &Response<Body>) -> Option<String> {
    if let Some(location) = response.headers().get("location") {
        return Some(location.to_str().unwrap_or("<not text>").to_owned());
    }
    let body = text(response);
    body.contains("<script nonce=")
        .then(|| between(&body, "<form method=\"post\" action=\"", "\""))
}

/// A destination is the app's own waiting page, or a registered redirect URI with its query.
fn allowed(destination: &str) -> bool {
    destination == "/oauth2/authorize/wait"
        || REGISTERED.iter().any(|uri| {
            destination == *uri
                || destination
                    .strip_prefix(uri)
                    .is_some_and(|rest| rest.starts_with('?') || rest.starts_with('&'))
        })
}

/// A parameter's value: a valid one, a near miss, or anything.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(WEB_APP.to_owned()),
        Just(ADMIN_APP.to_owned()),
        Just(REDIRECT.to_owned()),
        Just(format!("{REDIRECT}/")),
        Just("https://evil.example/cb".to_owned()),
        Just(format!("{REDIRECT}@evil.example")),
        Just("javascript:alert(1)".to_owned()),
        Just("code".to_owned()),
        Just("form_post".to_owned()),
        Just("none".to_owned()),
        Just("S256".to_owned()),
        Just(CHALLENGE.to_owned()),
        "[ -~]{0,40}",
        ".{0,20}",
        "x{2040,2100}",
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "client_id", "redirect_uri", "response_type", "response_mode", "scope", "state",
            "nonce", "code_challenge", "code_challenge_method", "prompt", "max_age", "login_hint",
            "ui_locales", "locale", "tenantId", "loginId", "csrf",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z_]{1,10}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_authorization_request_goes_back_only_to_a_registered_redirect_uri(
        client in prop::option::weighted(0.9, prop_oneof![
            3 => Just(WEB_APP.to_owned()),
            1 => Just(ADMIN_APP.to_owned()),
            1 => value(),
        ]),
        redirect_uri in prop::option::weighted(0.9, value()),
        response_type in prop::option::weighted(0.7, prop_oneof![3 => Just("code".to_owned()), 1 => value()]),
        extra in prop::collection::vec((name(), value()), 0..8),
        as_form in any::<bool>(),
    ) {
        let mut params: Vec<(String, String)> = Vec::new();
        for (name, value) in [("client_id", client), ("redirect_uri", redirect_uri), ("response_type", response_type)] {
            if let Some(value) = value {
                params.push((name.to_owned(), value));
            }
        }
        params.extend(extra);
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let app = App::new();
        let answer = if as_form {
            app.post("/oauth2/authorize", &encode(&pairs), &[])
        } else {
            app.get("/oauth2/authorize", &encode(&pairs), &[])
        };
        if let Some(answer) = answer {
            prop_assert!(!answer.status().is_server_error(), "{}", answer.status());
            if let Some(to) = destination(&answer) {
                prop_assert!(allowed(&to), "went to {to}");
            }
        }
    }

    #[test]
    fn no_post_to_a_hosted_link_from_another_browser_gets_a_code_a_token_or_a_redirect(
        posts in prop::collection::vec(
            (
                prop_oneof![
                    3 => Just(None),
                    1 => Just(Some("right".to_owned())),
                    2 => "[0-9]{0,3}".prop_map(Some),
                    1 => ".{0,8}".prop_map(Some),
                ],
                prop::collection::vec((name(), value()), 0..3),
                prop_oneof![
                    3 => "fusionauth.pending=[ -:<-~]{0,50}",
                    1 => Just(String::new()),
                    1 => Just("fusionauth.sso=x".to_owned()),
                ],
            ),
            1..5,
        ),
    ) {
        let app = App::new();
        let (_, code, match_code) = app.begin();
        let path = format!("/oauth2/passwordless/{code}");
        for (matched, extra, cookie) in posts {
            // The link stays live: opening it changes nothing, and approving uses nothing up.
            let page = app.get(&path, "", &[]).expect("read");
            prop_assert_eq!(page.status(), 200, "{}", text(&page));
            let csrf = cookie_set(&page, "passwordless_csrf").expect("the page's CSRF cookie");
            let mut fields: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
            match matched.as_deref() {
                Some("right") => fields.push(("matchCode".into(), match_code.clone())),
                Some(other) => fields.push(("matchCode".into(), other.to_owned())),
                None => {}
            }
            fields.extend(extra);
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut cookies = vec![format!("passwordless_csrf={csrf}")];
            if !cookie.is_empty() {
                cookies.push(cookie);
            }
            let answer = app.post(&path, &encode(&pairs), &cookies).expect("read");
            prop_assert!(!answer.status().is_server_error(), "{}", answer.status());
            prop_assert!(answer.headers().get("location").is_none());
            for name in ["fusionauth.sso", "access_token", "refresh_token", "fusionauth.pending"] {
                prop_assert!(cookie_set(&answer, name).is_none(), "{name} set");
            }
            let body = text(&answer);
            prop_assert!(!body.contains("<script"), "{body}");
            prop_assert!(!body.contains("code="), "{body}");
            // Nothing was issued on this device.
            prop_assert!(app.services.codes.authorization_codes.lock().unwrap().is_empty());
        }
    }

    #[test]
    fn anything_typed_on_the_waiting_page_goes_back_only_to_the_registered_redirect_uri(
        typed in prop::collection::vec(
            (prop_oneof!["[0-9]{0,8}", ".{0,12}", "x{60,80}"],
             prop::collection::vec((name(), value()), 0..3),
             any::<bool>()),
            1..5,
        ),
    ) {
        let app = App::new();
        let (pending, _, _) = app.begin();
        let pending_cookie = format!("fusionauth.pending={pending}");
        for (one_time_code, extra, own_cookie) in typed {
            let page = app.get("/oauth2/authorize/wait", "", std::slice::from_ref(&pending_cookie)).expect("read");
            prop_assert!(!page.status().is_server_error());
            let csrf = cookie_set(&page, "authorize_wait_csrf").unwrap_or_default();
            let mut fields = vec![("csrf".to_owned(), csrf.clone()), ("oneTimeCode".to_owned(), one_time_code)];
            fields.extend(extra);
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut cookies = vec![format!("authorize_wait_csrf={csrf}")];
            cookies.push(if own_cookie { pending_cookie.clone() } else { "fusionauth.pending=other".into() });
            let answer = app.post("/oauth2/authorize/wait", &encode(&pairs), &cookies).expect("read");
            prop_assert!(!answer.status().is_server_error(), "{}", answer.status());
            if let Some(to) = destination(&answer) {
                prop_assert!(allowed(&to), "went to {to}");
                prop_assert!(to.contains("error=access_denied") || to.contains("code="), "{to}");
            }
        }
    }
}
