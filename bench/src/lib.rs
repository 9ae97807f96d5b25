//! The benchmark harness: a local Lambda Runtime API emulator, the API Gateway v2 events the
//! benchmarks send, and the small statistics they report.

pub mod emulator;

use api_gateway_events::Event;
use serde_json::{json, Value};

/// The benchmark kickstart (`bench/kickstart.json`): one tenant with an ES256 signing key and a
/// high send limit, one application, one API key and one user.
pub const KICKSTART: &str = include_str!("../kickstart.json");
pub const API_KEY: &str = "bench-api-key-0123456789abcdef0123456789";
pub const APPLICATION: &str = "b0000000-0000-4000-8000-0000000000a1";
pub const EMAIL: &str = "ada@bench.example.com";

/// An API Gateway HTTP API (payload v2) event, as API Gateway sends it (`api_gateway_events`):
/// a POST to `path` with `body` as JSON text and `headers` over the default ones.
pub fn event(path: &str, headers: &[(&str, &str)], body: &Value) -> Value {
    Event::post(path)
        .headers(headers.iter().copied())
        .json_body(body)
        .user_agent("bench")
        .request_id("bench-request")
        .to_json()
}

/// A start for the benchmark user, with the benchmark API key.
pub fn start_event(strategy: Option<&str>) -> Value {
    start_event_for(EMAIL, strategy)
}

/// A start for the user whose login id is `login_id`, with the benchmark API key.
pub fn start_event_for(login_id: &str, strategy: Option<&str>) -> Value {
    let mut body = json!({"applicationId": APPLICATION, "loginId": login_id});
    if let Some(strategy) = strategy {
        body["loginStrategy"] = json!(strategy);
    }
    event(
        "/api/passwordless/start",
        &[("authorization", API_KEY)],
        &body,
    )
}

pub fn send_event(code: &str) -> Value {
    event("/api/passwordless/send", &[], &json!({"code": code}))
}

pub fn login_event(code: &str, one_time_code: Option<&str>) -> Value {
    let mut body = json!({"code": code, "applicationId": APPLICATION, "ipAddress": "203.0.113.7"});
    if let Some(otc) = one_time_code {
        body["oneTimeCode"] = json!(otc);
    }
    event("/api/passwordless/login", &[], &body)
}

/// The PKCE verifier of the benchmark's OAuth starts, and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gKpPIqc8M";
pub const CHALLENGE: &str = "j4LLr6CfYkg_GJdeZ0xOUBMAghnlLVlC0i2npY8YAvw";
pub const REDIRECT: &str = "https://bench.example.com/callback";

/// A start whose `state` carries the OAuth request the landing page completes.
pub fn oauth_start_event() -> Value {
    oauth_start_event_for(EMAIL)
}

/// An OAuth start (see `oauth_start_event`) for the user whose login id is `login_id`.
pub fn oauth_start_event_for(login_id: &str) -> Value {
    let body = json!({"applicationId": APPLICATION, "loginId": login_id, "state": {
        "redirect_uri": REDIRECT, "scope": "openid offline_access",
        "code_challenge": CHALLENGE, "code_challenge_method": "S256"}});
    event(
        "/api/passwordless/start",
        &[("authorization", API_KEY)],
        &body,
    )
}

/// A browser's `GET` of the magic link's landing page.
pub fn landing_event(code: &str) -> Value {
    Event::new("GET", &format!("/oauth2/passwordless/{code}"))
        .without_header("content-type")
        .user_agent("bench")
        .request_id("bench-request")
        .to_json()
}

/// The landing page's button, with the page's CSRF value in the cookie and the form posted as a
/// browser posts it: every hidden field of `page` (the function's response to the page's `GET`).
pub fn click_event(code: &str, csrf: &str, page: &[u8]) -> Value {
    Event::post(&format!("/oauth2/passwordless/{code}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .cookie(&format!("passwordless_csrf={csrf}"))
        .body(&page_form(page, csrf))
        .user_agent("bench")
        .request_id("bench-request")
        .to_json()
}

/// The form a browser posts from a page (an API Gateway response): its hidden fields, or the
/// CSRF value alone if the page has none.
pub fn page_form(page: &[u8], csrf: &str) -> String {
    let response: Value = serde_json::from_slice(page).unwrap_or(Value::Null);
    let html = response["body"].as_str().unwrap_or_default();
    let fields = api_gateway_events::hidden_fields(html);
    let mut form = form_urlencoded::Serializer::new(String::new());
    if !fields.iter().any(|(name, _)| name == "csrf") {
        form.append_pair("csrf", csrf);
    }
    for (name, value) in fields {
        form.append_pair(&name, &value);
    }
    form.finish()
}

/// `POST /oauth2/token` exchanging `code` with the benchmark's verifier.
pub fn token_event(code: &str) -> Value {
    Event::post("/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(&format!(
            "grant_type=authorization_code&code={code}&client_id={APPLICATION}\
             &redirect_uri=https%3A%2F%2Fbench.example.com%2Fcallback&code_verifier={VERIFIER}"
        ))
        .user_agent("bench")
        .request_id("bench-request")
        .to_json()
}

/// The benchmark user's id.
pub const USER: &str = "b0000000-0000-4000-8000-0000000000b1";

/// An exchange of `refresh_token` (the benchmark application rotates its tokens: `OneTimeUse`,
/// the costlier policy).
pub fn refresh_event(refresh_token: &str) -> Value {
    event(
        "/api/jwt/refresh",
        &[],
        &json!({"refreshToken": refresh_token}),
    )
}

/// A `GET` of `path?query`, as API Gateway sends it.
pub fn get_event(path: &str, query: &str, headers: &[(&str, &str)]) -> Value {
    Event::get(path)
        .query(query)
        .headers(headers.iter().copied())
        .user_agent("bench")
        .request_id("bench-request")
        .to_json()
}

/// A revocation of every refresh token of the benchmark user.
pub fn revoke_event() -> Value {
    Event::delete("/api/jwt/refresh")
        .query(&format!("userId={USER}"))
        .header("authorization", API_KEY)
        .user_agent("bench")
        .request_id("bench-request")
        .to_json()
}

/// The status and parsed body of a function's API Gateway response.
pub fn response_status_and_body(response: &[u8]) -> (u16, Value) {
    let value: Value = serde_json::from_slice(response).unwrap_or(Value::Null);
    let status = value["statusCode"].as_u64().unwrap_or(0) as u16;
    let body = value["body"]
        .as_str()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// A process's peak resident set (VmHWM) and current one (VmRSS), in KiB.
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

/// The CPU time a process has run so far, all its threads together (the scheduler's own
/// nanosecond count, `/proc/<pid>/task/*/schedstat`), in milliseconds.
pub fn cpu_ms(pid: u32) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut nanos = 0u64;
    for task in tasks.flatten() {
        let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        nanos += schedstat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(nanos as f64 / 1e6)
}

/// The hosted login's pages (issue 24), as a browser asks for them: the benchmark application's
/// authorization request (PKCE, `openid offline_access`).
pub fn authorize_query() -> String {
    format!(
        "client_id={APPLICATION}&redirect_uri=https%3A%2F%2Fbench.example.com%2Fcallback\
         &response_type=code&scope=openid%20offline_access&state=bench\
         &code_challenge={CHALLENGE}&code_challenge_method=S256"
    )
}

/// A browser's request to `path` with `cookies`, as API Gateway sends it.
fn browser(method: &str, path: &str, cookies: &[String]) -> Event {
    let mut event = Event::new(method, path)
        .without_header("content-type")
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 bench")
        .request_id("bench-request");
    for cookie in cookies {
        event = event.cookie(cookie);
    }
    event
}

/// `GET /oauth2/authorize`: the login id page, or (with an SSO cookie) the redirect back.
pub fn authorize_event(sso: Option<&str>) -> Value {
    let cookies: Vec<String> = sso
        .map(|s| format!("fusionauth.sso={s}"))
        .into_iter()
        .collect();
    browser("GET", "/oauth2/authorize", &cookies)
        .query(&authorize_query())
        .to_json()
}

/// The login id page's form posted with the benchmark user's address: every hidden field of
/// `page` (its HTML) and its CSRF value in the cookie.
pub fn authorize_post_event(page: &str, csrf: &str) -> Value {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (name, value) in api_gateway_events::hidden_fields(page) {
        form.append_pair(&name, &value);
    }
    form.append_pair("loginId", EMAIL);
    browser(
        "POST",
        "/oauth2/authorize",
        &[format!("authorize_csrf={csrf}")],
    )
    .header("content-type", "application/x-www-form-urlencoded")
    .body(&form.finish())
    .to_json()
}

/// `GET /oauth2/authorize/wait`: the waiting page, polled by the browser that began the login.
pub fn wait_event(pending: Option<&str>) -> Value {
    let cookies: Vec<String> = pending
        .map(|p| format!("fusionauth.pending={p}"))
        .into_iter()
        .collect();
    browser("GET", "/oauth2/authorize/wait", &cookies).to_json()
}

/// The emailed link opened in the browser that began the login (its pending cookie).
pub fn hosted_landing_event(code: &str, pending: &str) -> Value {
    browser(
        "GET",
        &format!("/oauth2/passwordless/{code}"),
        &[format!("fusionauth.pending={pending}")],
    )
    .to_json()
}

/// That page's button, in that browser.
pub fn hosted_click_event(code: &str, csrf: &str, pending: &str, page: &[u8]) -> Value {
    browser(
        "POST",
        &format!("/oauth2/passwordless/{code}"),
        &[
            format!("passwordless_csrf={csrf}"),
            format!("fusionauth.pending={pending}"),
        ],
    )
    .header("content-type", "application/x-www-form-urlencoded")
    .body(&page_form(page, csrf))
    .to_json()
}

/// `GET /oauth2/userinfo` with `access_token`.
pub fn userinfo_event(access_token: &str) -> Value {
    get_event(
        "/oauth2/userinfo",
        "",
        &[("authorization", &format!("Bearer {access_token}"))],
    )
}

/// `GET /oauth2/logout` of the benchmark application without an `id_token_hint`: the
/// confirmation page.
pub fn logout_event() -> Value {
    browser("GET", "/oauth2/logout", &[])
        .query(&format!("client_id={APPLICATION}"))
        .to_json()
}

/// FusionAuth's `POST /api/logout` with `refresh_token`.
pub fn api_logout_event(refresh_token: &str) -> Value {
    event(
        "/api/logout",
        &[],
        &json!({"refreshToken": refresh_token, "global": false}),
    )
}

/// The value of the cookie `name` a function's API Gateway response sets.
pub fn set_cookie(response: &Value, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    response["cookies"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|c| c.strip_prefix(&prefix))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}
