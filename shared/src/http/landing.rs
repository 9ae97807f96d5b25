//! `GET`, `HEAD` and `POST /oauth2/passwordless/{code}`: the magic link's landing page. Opening it
//! ([`crate::oauth2::landing::open`]) changes nothing; its button posts back here with a CSRF value
//! bound to the page (a `SameSite=Strict` cookie scoped to this link's path, and the same value in
//! the form), and only that post completes the login ([`crate::oauth2::landing::click`]) and
//! redirects (303) with an authorization code. Every answer is an HTML page; none carries a token.
//!
//! `GET` and `POST /oauth2/passwordless?client_id=…` is the fallback for a link that got mangled:
//! a form for the email address and the one-time code the email carries beside the link, with its
//! own CSRF cookie, and the same answers ([`super::fallback`], routed from [`handle`]).
//!
//! Opens that look like pre-fetches (HEAD, a known link scanner's user agent) are logged as such
//! (`prefetch_suspected`), so an operator can count them against the clicks.

use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};

use super::approve::{approval_page, handle_approval};
use super::header_str;
use super::login::{client_ip, TRUST_COOKIE};
use super::pages::{accept_language, language, Form, Page, PageKind, Pages, Text};
use super::MAX_BODY_BYTES;
use super::{cookie, served_over_plain_loopback};
use crate::codes;
use crate::oauth2::landing::{
    self, ClickCommand, ClickError, Clicked, Landing, LandingServices, LinkCode, Opened, Refusal,
};

pub use super::fallback::{CODE_ENTRY_CSRF_COOKIE, CODE_ENTRY_PATH};

pub const PATH_PREFIX: &str = "/oauth2/passwordless/";
pub const CSRF_COOKIE: &str = "passwordless_csrf";
const CSRF_FIELD: &str = "csrf";
/// The continue page's hidden field naming the user the code is for: a hint that saves the
/// click a round trip, never trusted over the code ([`landing::ClickCommand::user_hint`]).
const USER_HINT_FIELD: &str = "user";
/// How long the page's CSRF cookie lives: longer than any code.
const CSRF_SECONDS: u32 = 900;

/// User agents of link scanners and preview fetchers that open links on delivery (lower case).
const SCANNER_AGENTS: &[&str] = &[
    "safelinks",
    "proofpoint",
    "mimecast",
    "barracuda",
    "urldefense",
    "bingpreview",
    "microsoftpreview",
    "skypeuripreview",
    "googleimageproxy",
    "slackbot",
    "python-requests",
    "curl/",
    "wget/",
    "go-http-client",
    "okhttp",
];

pub async fn handle(services: &LandingServices, pages: &Pages, request: Request) -> Response<Body> {
    if request.uri().path() == CODE_ENTRY_PATH {
        return super::fallback::handle(services, pages, request).await;
    }
    let code = request
        .uri()
        .path()
        .strip_prefix(PATH_PREFIX)
        .and_then(LinkCode::parse);
    let browser_languages = accept_language(header_str(&request, "accept-language"));
    let method = request.method().clone();
    if method == Method::GET || method == Method::HEAD {
        log_open(&request);
        let head = method == Method::HEAD;
        let pending = cookie(&request, super::authorize::PENDING_COOKIE);
        return match landing::open(services, code.as_ref(), pending.as_deref()).await {
            Ok(Opened::Live(live)) => {
                continue_page(pages, &request, code.as_ref(), &live, None, head)
            }
            Ok(Opened::OtherBrowser(live)) => match &code {
                Some(code) => approval_page(pages, &request, code, &live, false, head),
                None => expired(pages, &browser_languages, head),
            },
            Ok(Opened::Expired) => expired(pages, &browser_languages, head),
            Ok(Opened::Unusable(problem)) => {
                tracing::warn!(problem = %problem, "a magic link cannot redirect");
                unusable(pages, &browser_languages, head)
            }
            Err(error) => failed(pages, &browser_languages, &error, head),
        };
    }
    if method != Method::POST {
        return method_not_allowed(pages, &browser_languages);
    }
    tracing::info!("magic link clicked");
    let Some(code) = code else {
        return expired(pages, &browser_languages, false);
    };
    let form = match checked_form(pages, &request, &browser_languages, CSRF_COOKIE) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let field = |name: &str| field(&form, name);
    if let Some(match_code) = field("matchCode") {
        return handle_approval(services, pages, &request, &code, match_code).await;
    }
    let command = ClickCommand {
        one_time_code: field("oneTimeCode").map(|c| c.trim().to_owned()),
        ip_address: client_ip(&request),
        trust_id: cookie(&request, TRUST_COOKIE),
        pending_cookie: cookie(&request, super::authorize::PENDING_COOKIE),
        user_hint: field(USER_HINT_FIELD).and_then(|u| u.parse().ok()),
    };
    match landing::click(services, &code, command).await {
        Ok(Clicked::Redirect(response, signed_in)) if signed_in.hosted => {
            let answer = super::redirect_back::respond(pages, &response);
            let answer = super::authorize_wait::with_sso_session(&signed_in, answer);
            super::authorize_wait::cleared(&request, answer)
        }
        Ok(Clicked::Redirect(response, _)) => super::redirect_back::respond(pages, &response),
        Ok(Clicked::OtherBrowser(live)) => {
            approval_page(pages, &request, &code, &live, false, false)
        }
        Ok(Clicked::Expired) => {
            crate::metrics::refused_code();
            expired(pages, &browser_languages, false)
        }
        Ok(Clicked::Unusable(_)) => unusable(pages, &browser_languages, false),
        Ok(Clicked::WrongOneTimeCode(live)) => {
            crate::metrics::refused_code();
            let text = texts(&live, &browser_languages);
            continue_page(
                pages,
                &request,
                Some(&code),
                &live,
                Some(text.wrong_one_time_code),
                false,
            )
        }
        Ok(Clicked::Refused(refusal)) => refused(pages, &browser_languages, refusal),
        Ok(Clicked::WrongFallback) => expired(pages, &browser_languages, false),
        Err(ClickError::Dependency(error)) => failed(pages, &browser_languages, &error, false),
    }
}

pub(super) fn method_not_allowed(pages: &Pages, browser: &[&str]) -> Response<Body> {
    let mut response = simple(
        pages,
        browser,
        PageKind::Error,
        StatusCode::METHOD_NOT_ALLOWED,
        |t| (t.error_heading, t.bad_request_message),
        false,
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
    response
}

/// The post's form fields, once its CSRF value matches the page's cookie; else the page that
/// says why (413, 415, 403).
pub(super) fn checked_form(
    pages: &Pages,
    request: &Request,
    browser: &[&str],
    csrf_cookie: &str,
) -> Result<Vec<(String, String)>, Box<Response<Body>>> {
    let form = form(request).map_err(|status| {
        Box::new(simple(
            pages,
            browser,
            PageKind::Error,
            status,
            |t| (t.error_heading, t.bad_request_message),
            false,
        ))
    })?;
    if !csrf_holds(request, csrf_cookie, field(&form, CSRF_FIELD)) {
        tracing::warn!("a landing page post without its page's CSRF value");
        return Err(Box::new(simple(
            pages,
            browser,
            PageKind::Forbidden,
            StatusCode::FORBIDDEN,
            |t| (t.forbidden_heading, t.forbidden_message),
            false,
        )));
    }
    Ok(form)
}

pub(super) fn field<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Logs one open of a link, with whether it looks like a pre-fetch and why.
fn log_open(request: &Request) {
    let agent = header_str(request, "user-agent")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let scanner_agent = SCANNER_AGENTS.iter().any(|s| agent.contains(s));
    let head = request.method() == Method::HEAD;
    let cookies = request.headers().contains_key(header::COOKIE);
    let reason = match (head, scanner_agent) {
        (true, _) => "head",
        (false, true) => "scanner_user_agent",
        (false, false) => "none",
    };
    tracing::info!(
        prefetch_suspected = head || scanner_agent,
        reason,
        cookies,
        "magic link opened"
    );
}

pub(super) fn texts(live: &Landing, browser: &[&str]) -> &'static Text {
    language(
        live.languages
            .iter()
            .map(String::as_str)
            .chain(browser.iter().copied()),
    )
}

/// The page with the button, and a fresh CSRF value in the form and in the cookie.
fn continue_page(
    pages: &Pages,
    request: &Request,
    code: Option<&LinkCode>,
    live: &Landing,
    problem: Option<&'static str>,
    head: bool,
) -> Response<Body> {
    let browser = accept_language(header_str(request, "accept-language"));
    let text = texts(live, &browser);
    let app = |s: &str| s.replace("{app}", &live.application_name);
    let path = format!(
        "{PATH_PREFIX}{}",
        code.map(LinkCode::as_str).unwrap_or_default()
    );
    let csrf = codes::generate_id(&crate::system::OsRandom);
    let page = Page {
        kind: PageKind::Continue,
        status: StatusCode::OK,
        text,
        heading: app(text.continue_heading),
        message: text.continue_message.to_owned(),
        problem,
        form: Some(Form {
            action: &path,
            csrf: &csrf,
            button: app(text.continue_button),
            one_time_code: live.needs_one_time_code.then_some(text.one_time_code_label),
            login_id: None,
            client_id: None,
            hidden: live
                .user_hint
                .map(|user| vec![(USER_HINT_FIELD.to_owned(), user.to_string())])
                .unwrap_or_default(),
            ..Form::default()
        }),
        footer: (!live.tenant_name.is_empty()).then(|| live.tenant_name.clone()),
        redirect_origin: Some(&live.redirect_origin),
        refresh: None,
        match_code: None,
    };
    let mut response = pages.render(&page, head);
    if !head {
        set_csrf_cookie(&mut response, request, CSRF_COOKIE, &path, &csrf);
    }
    response
}

/// The page's CSRF value as a cookie sent back only to `path`, only from this site.
pub(super) fn set_csrf_cookie(
    response: &mut Response<Body>,
    request: &Request,
    name: &str,
    path: &str,
    csrf: &str,
) {
    let secure = if served_over_plain_loopback(request) {
        ""
    } else {
        "; Secure"
    };
    let cookie = format!(
        "{name}={csrf}; Max-Age={CSRF_SECONDS}; Path={path}; HttpOnly; SameSite=Strict{secure}"
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The CSRF value of the form equals the page's cookie (sent only to this link's path, only from
/// this site), compared in constant time.
pub(super) fn csrf_holds(request: &Request, csrf_cookie: &str, field: Option<&str>) -> bool {
    // Where the browser says the post came from another site, no value makes it ours.
    if header_str(request, "sec-fetch-site").is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return false;
    }
    match (cookie(request, csrf_cookie), field) {
        (Some(cookie), Some(field)) if !cookie.is_empty() => {
            codes::same_secret(&codes::hash_secret(&cookie), &codes::hash_secret(field))
        }
        _ => false,
    }
}

/// The form body's fields; 413 when too large, 415 when not a form, 400 when a field is over its
/// cap (`limits::LANDING_FORMS`).
pub(super) fn form(request: &Request) -> Result<Vec<(String, String)>, StatusCode> {
    let content_type = header_str(request, "content-type").unwrap_or_default();
    if !content_type
        .trim()
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let bytes: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(bytes).into_owned().collect();
    let fields = form
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    if crate::limits::form_field_over(fields, crate::limits::LANDING_FORMS).is_some() {
        return Err(StatusCode::BAD_REQUEST);
    }
    Ok(form)
}

pub(super) fn redirect(url: &str) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::SEE_OTHER;
    let headers = response.headers_mut();
    match HeaderValue::from_str(url) {
        Ok(location) => headers.insert(header::LOCATION, location),
        Err(_) => return Response::new(Body::Empty),
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

pub(super) fn simple(
    pages: &Pages,
    browser: &[&str],
    kind: PageKind,
    status: StatusCode,
    words: impl Fn(&'static Text) -> (&'static str, &'static str),
    head: bool,
) -> Response<Body> {
    let text = language(browser.iter().copied());
    let (heading, message) = words(text);
    pages.render(&Page::message(kind, status, text, heading, message), head)
}

/// One page for every unknown, used, superseded or expired code, in the browser's language only
/// (never the user's: it must not tell codes apart).
pub(super) fn expired(pages: &Pages, browser: &[&str], head: bool) -> Response<Body> {
    simple(
        pages,
        browser,
        PageKind::Expired,
        StatusCode::NOT_FOUND,
        |t| (t.expired_heading, t.expired_message),
        head,
    )
}

pub(super) fn unusable(pages: &Pages, browser: &[&str], head: bool) -> Response<Body> {
    simple(
        pages,
        browser,
        PageKind::Unusable,
        StatusCode::BAD_REQUEST,
        |t| (t.unusable_heading, t.unusable_message),
        head,
    )
}

/// The login API's refusals (203, 242, 409, 410, 423, 429, 212/213, 202), each a page.
pub(super) fn refused(pages: &Pages, browser: &[&str], refusal: Refusal) -> Response<Body> {
    if refusal == Refusal::TooManyAttempts {
        crate::metrics::rate_limited("one-time-codes");
    }
    let status = match refusal {
        Refusal::Locked => StatusCode::LOCKED,
        Refusal::UserExpired => StatusCode::GONE,
        Refusal::Prevented => StatusCode::CONFLICT,
        Refusal::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::FORBIDDEN,
    };
    simple(
        pages,
        browser,
        PageKind::Refused,
        status,
        |t| {
            let message = match refusal {
                Refusal::PasswordChangeRequired => t.password_change,
                Refusal::TwoFactorRequired => t.two_factor,
                Refusal::Prevented => t.prevented,
                Refusal::Locked => t.locked,
                Refusal::UserExpired => t.user_expired,
                Refusal::TooManyAttempts => t.too_many,
                Refusal::VerificationRequired => t.verification,
                Refusal::NotRegistered => t.not_registered,
            };
            (t.refused_heading, message)
        },
        false,
    )
}

/// 500, as [`super::dependency_failed`] answers the APIs: the cause logged and counted, a page.
pub(super) fn failed(
    pages: &Pages,
    browser: &[&str],
    error: &crate::ports::StoreError,
    head: bool,
) -> Response<Body> {
    tracing::error!(error = %error, "a dependency failed");
    crate::metrics::dependency_failure(error.operation);
    simple(
        pages,
        browser,
        PageKind::Error,
        StatusCode::INTERNAL_SERVER_ERROR,
        |t| (t.error_heading, t.error_message),
        head,
    )
}
