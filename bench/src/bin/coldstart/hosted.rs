//! The OpenID Connect provider's functions (issue 24) in the benchmarks: the event each one's
//! cold start is timed with, and the journey a browser makes through the hosted pages, each
//! page's AWS calls counted (`trips`).

use serde_json::Value;

use super::{
    expect_status, mint_authorization_code, mint_login, proxy_call, stats_row, Function, Result,
};

/// The provider's new functions, cold-started like the others.
pub const HOSTED_FUNCTIONS: [&str; 5] = [
    "authorize",
    "authorize-wait",
    "userinfo",
    "logout",
    "api-logout",
];

/// Warm functions that make what a measured event needs (codes, tokens).
pub struct Minters<'a> {
    pub start: &'a Function,
    pub login: &'a Function,
    pub landing: &'a Function,
    pub token: &'a Function,
}

/// An access token of an authorization code grant with `openid` (userinfo answers only such).
fn oauth_access_token(minters: &Minters) -> Result<String> {
    let code = mint_authorization_code(minters.start, minters.landing)?;
    let (_, status, body) = minters.token.invoke(&bench::token_event(&code))?;
    expect_status("token (minting)", status, 200, &body)?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "the exchange gave no access_token".into())
}

/// The event `name`'s cold start is timed with, and the status it answers.
pub fn cold_event(name: &str, minters: &Minters) -> Result<(Value, u16)> {
    Ok(match name {
        // The login id page: the client read and checked, the page rendered.
        "authorize" => (bench::authorize_event(None), 200),
        // A browser with nothing pending: the page that says so.
        "authorize-wait" => (bench::wait_event(None), 200),
        "userinfo" => (bench::userinfo_event(&oauth_access_token(minters)?), 200),
        // Without an id_token_hint: the confirmation page.
        "logout" => (bench::logout_event(), 200),
        "api-logout" => (
            bench::api_logout_event(&mint_login(minters.start, minters.login)?.1),
            200,
        ),
        other => return Err(format!("no event for {other}")),
    })
}

/// The function responses of the hosted journey.
pub struct Hosted<'a> {
    pub authorize: &'a Function,
    pub wait: &'a Function,
    pub landing: &'a Function,
    pub token: &'a Function,
    pub userinfo: &'a Function,
    pub logout: &'a Function,
    pub api_logout: &'a Function,
}

/// One measured step: its status (one of `want`), its AWS calls, the function's whole response.
fn step(
    rows: &mut Vec<(String, Value)>,
    proxy: &str,
    label: &str,
    function: &Function,
    event: &Value,
    want: &[u16],
) -> Result<Value> {
    proxy_call(proxy, "POST", "/__reset")?;
    let (invocation, status, _) = function.invoke(event)?;
    if !want.contains(&status) {
        return Err(format!(
            "{label}: status {status}, expected one of {want:?}"
        ));
    }
    rows.push((label.to_owned(), stats_row(proxy, status)?));
    serde_json::from_slice(&invocation.body).map_err(|e| format!("{label}: {e}"))
}

fn cookie(response: &Value, name: &str, label: &str) -> Result<String> {
    bench::set_cookie(response, name).ok_or_else(|| format!("{label} set no {name} cookie"))
}

fn location_code(response: &Value, label: &str) -> Result<String> {
    response["headers"]["location"]
        .as_str()
        .and_then(|l| l.split(['?', '&']).find_map(|p| p.strip_prefix("code=")))
        .map(str::to_owned)
        .ok_or_else(|| format!("{label} did not redirect back with a code"))
}

/// The link code of the email a pending login's code went out in, from moto's outbox (the email
/// names the pending login by its hash).
fn emailed_link_code(pending: &str) -> Result<String> {
    let moto = std::env::var("AWS_ENDPOINT_URL").map_err(|_| "AWS_ENDPOINT_URL is not set")?;
    let sent = proxy_call(&moto, "GET", "/moto-api/sent.json")?;
    let hash = passwordless::codes::hash_secret(pending);
    let emails = sent["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let text = emails
        .iter()
        .map(Value::to_string)
        .find(|m| m.contains(&hash))
        .ok_or("no email for the pending login")?;
    text.split("/oauth2/passwordless/")
        .nth(1)
        .and_then(|rest| rest.split(['?', '"', '\\']).next())
        .map(str::to_owned)
        .ok_or_else(|| "the email carries no link".into())
}

/// A person's sign-in through the hosted pages with the link opened in the same browser, then a
/// second authorization answered from the SSO session, userinfo and both logouts; every step's
/// AWS calls counted.
pub fn journey(f: &Hosted, proxy: &str) -> Result<Vec<(String, Value)>> {
    let mut rows = Vec::new();
    let label = "authorize (login id page)";
    let page = step(
        &mut rows,
        proxy,
        label,
        f.authorize,
        &bench::authorize_event(None),
        &[200],
    )?;
    let csrf = cookie(&page, "authorize_csrf", label)?;
    let html = page["body"].as_str().unwrap_or_default().to_owned();
    let label = "authorize (login id posted: start and send)";
    let event = bench::authorize_post_event(&html, &csrf);
    let posted = step(&mut rows, proxy, label, f.authorize, &event, &[303])?;
    let pending = cookie(&posted, "fusionauth.pending", label)?;
    let event = bench::wait_event(Some(&pending));
    step(
        &mut rows,
        proxy,
        "authorize-wait (waiting)",
        f.wait,
        &event,
        &[200],
    )?;
    let link = emailed_link_code(&pending)?;
    let label = "landing (hosted link, same browser)";
    let event = bench::hosted_landing_event(&link, &pending);
    let opened = step(&mut rows, proxy, label, f.landing, &event, &[200])?;
    let csrf = cookie(&opened, "passwordless_csrf", label)?;
    let label = "landing (hosted link pressed: login, code, SSO session)";
    let page = opened.to_string();
    let event = bench::hosted_click_event(&link, &csrf, &pending, page.as_bytes());
    let pressed = step(&mut rows, proxy, label, f.landing, &event, &[303])?;
    let sso = cookie(&pressed, "fusionauth.sso", label)?;
    let code = location_code(&pressed, label)?;
    let (_, status, tokens) = f.token.invoke(&bench::token_event(&code))?;
    expect_status("token (hosted code)", status, 200, &tokens)?;
    let label = "authorize (from the SSO session)";
    let event = bench::authorize_event(Some(&sso));
    let again = step(&mut rows, proxy, label, f.authorize, &event, &[302, 303])?;
    location_code(&again, label)?;
    let access = tokens["access_token"].as_str().ok_or("no access_token")?;
    let event = bench::userinfo_event(access);
    step(&mut rows, proxy, "userinfo", f.userinfo, &event, &[200])?;
    let event = bench::logout_event();
    step(
        &mut rows,
        proxy,
        "logout (confirmation page)",
        f.logout,
        &event,
        &[200],
    )?;
    let refresh = tokens["refresh_token"].as_str().ok_or("no refresh_token")?;
    let event = bench::api_logout_event(refresh);
    step(&mut rows, proxy, "api-logout", f.api_logout, &event, &[200])?;
    Ok(rows)
}
