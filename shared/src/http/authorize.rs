//! `GET`, `HEAD` and `POST /oauth2/authorize`: the authorization request
//! ([`crate::oauth2::authorize`]) and the login id page. A request whose client or redirect URI
//! is bad gets a 400 page and never a redirect; any other error goes back to the client
//! ([`error_back`]). A valid one gets the login id page: one form that posts every parameter
//! back with a CSRF value bound to a cookie of this path, and the login id. That post
//! ([`crate::oauth2::hosted::begin`]) answers 303 to the waiting page with the pending login's
//! cookie, after the same time whoever the login id names. A `POST` without a login id is an
//! authorization request sent as a form (OpenID Connect Core 3.1.2.1), answered as a `GET`.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};

use super::landing::{
    csrf_holds, failed, field, form, method_not_allowed, set_csrf_cookie, simple,
};
use super::oauth_error::authorize_wire;
use super::pages::{accept_language, language, Form, Page, PageKind, Pages, Text};
use super::{header_str, query_params, served_over_plain_loopback};
use crate::codes;
use crate::model::Device;
use crate::oauth2::authorize::{self, Authorization, AuthorizeError, AuthorizeParams, Rejected};
use crate::oauth2::hosted::{self, HostedServices};
use crate::oauth2::sso_authorize::{self, FromSession};
use crate::oauth2::RedirectBack;

pub const PATH: &str = "/oauth2/authorize";
/// The login id page's CSRF cookie (sent back to this path only).
pub const CSRF_COOKIE: &str = "authorize_csrf";
/// The pending browser login's cookie (hosted owns it): only its SHA-256 is stored.
pub const PENDING_COOKIE: &str = "fusionauth.pending";

pub async fn handle(services: &HostedServices, pages: &Pages, request: Request) -> Response<Body> {
    let browser = accept_language(header_str(&request, "accept-language"));
    let method = request.method().as_str().to_owned();
    match method.as_str() {
        "GET" | "HEAD" => {
            let query = query_params(&request);
            let params = AuthorizeParams::parse(pairs(&query));
            authorization_page(services, pages, &request, &params, method == "HEAD").await
        }
        "POST" => {
            let form = match form(&request) {
                Ok(form) => form,
                Err(status) => return bad_request(pages, &browser, status),
            };
            let params = AuthorizeParams::parse(pairs(&form));
            let Some(login_id) = field(&form, "loginId") else {
                return authorization_page(services, pages, &request, &params, false).await;
            };
            if !csrf_holds(&request, CSRF_COOKIE, field(&form, "csrf")) {
                tracing::warn!("a login id post without its page's CSRF value");
                return forbidden(pages, &browser);
            }
            let authorization = match validated(services, pages, &browser, &params).await {
                Ok(authorization) => authorization,
                Err(response) => return *response,
            };
            if login_id.trim().is_empty() {
                return login_id_page(pages, &request, &authorization, &params, false);
            }
            tracing::info!(application_id = %authorization.application.id, "hosted login begun");
            let device = Device::from_user_agent(header_str(&request, "user-agent"));
            match hosted::begin(services, &authorization, login_id, device).await {
                Ok(begun) => to_waiting_page(&request, &begun),
                Err(error) => failed(pages, &browser, &error, false),
            }
        }
        _ => method_not_allowed(pages, &browser),
    }
}

fn pairs(list: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    list.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The request validated, or the response that refuses it.
async fn validated(
    services: &HostedServices,
    pages: &Pages,
    browser: &[&str],
    params: &AuthorizeParams,
) -> Result<Authorization, Box<Response<Body>>> {
    match authorize::validate(services.send.directory.as_ref(), params).await {
        Ok(authorization) => Ok(authorization),
        Err(Rejected::Page(error)) => Err(Box::new(error_page(pages, browser, &error))),
        Err(Rejected::Redirect(back, error)) => Err(Box::new(error_back(pages, &back, &error))),
        Err(Rejected::Dependency(error)) => Err(Box::new(failed(pages, browser, &error, false))),
    }
}

async fn authorization_page(
    services: &HostedServices,
    pages: &Pages,
    request: &Request,
    params: &AuthorizeParams,
    head: bool,
) -> Response<Body> {
    let browser = accept_language(header_str(request, "accept-language"));
    let authorization = match validated(services, pages, &browser, params).await {
        Ok(authorization) => authorization,
        Err(response) => return *response,
    };
    // A HEAD gets the page's headers: it never issues anything.
    let session_cookie = super::cookie(request, crate::oauth2::sso::SSO_COOKIE).filter(|_| !head);
    match sso_authorize::answer(&services.landing, &authorization, session_cookie.as_deref()).await
    {
        Ok(FromSession::Answered(response)) => {
            return super::redirect_back::respond(pages, &response)
        }
        Ok(FromSession::LoginRequired) => {}
        Err(error) => return failed(pages, &browser, &error, head),
    }
    // Without a session that may answer, `prompt=none` cannot be answered without the user.
    if authorization.prompt.none {
        return error_back(pages, &authorization.back(), &AuthorizeError::LoginRequired);
    }
    login_id_page(pages, request, &authorization, params, head)
}

/// The error back to the client: `error`, `error_description`, `state` if sent, `iss`.
pub fn error_back(pages: &Pages, back: &RedirectBack, error: &AuthorizeError) -> Response<Body> {
    tracing::info!(error = %error, "an authorization request refused");
    match authorize_wire(error) {
        Some((code, description)) => super::redirect_back::respond(
            pages,
            &back.with(&[
                ("error", code.as_str()),
                ("error_description", &description),
            ]),
        ),
        None => error_page(pages, &[], error),
    }
}

/// The 400 page for a request with a bad client or redirect URI: never a redirect.
fn error_page(pages: &Pages, browser: &[&str], error: &AuthorizeError) -> Response<Body> {
    tracing::warn!(error = %error, "an authorization request that cannot go back");
    simple(
        pages,
        browser,
        PageKind::Error,
        StatusCode::BAD_REQUEST,
        |t| (t.invalid_client_heading, t.invalid_client_message),
        false,
    )
}

fn bad_request(pages: &Pages, browser: &[&str], status: StatusCode) -> Response<Body> {
    simple(
        pages,
        browser,
        PageKind::Error,
        status,
        |t| (t.error_heading, t.bad_request_message),
        false,
    )
}

fn forbidden(pages: &Pages, browser: &[&str]) -> Response<Body> {
    simple(
        pages,
        browser,
        PageKind::Forbidden,
        StatusCode::FORBIDDEN,
        |t| (t.forbidden_heading, t.forbidden_message),
        false,
    )
}

/// The page's words: the request's `locale`/`ui_locales`, then the browser's.
pub(super) fn words(languages: &[String], browser: &[&str]) -> &'static Text {
    language(
        languages
            .iter()
            .map(String::as_str)
            .chain(browser.iter().copied()),
    )
}

/// The login id page: every parameter posted back, the login id prefilled from `login_hint`.
fn login_id_page(
    pages: &Pages,
    request: &Request,
    authorization: &Authorization,
    params: &AuthorizeParams,
    head: bool,
) -> Response<Body> {
    let browser = accept_language(header_str(request, "accept-language"));
    let text = words(&authorization.languages, &browser);
    let app = |s: &str| s.replace("{app}", &authorization.application.name);
    let csrf = codes::generate_id(&crate::system::OsRandom);
    let hidden: Vec<(String, String)> = params.sent();
    let page = Page {
        kind: PageKind::LoginId,
        status: StatusCode::OK,
        text,
        heading: app(text.login_id_heading),
        message: text.login_id_message.to_owned(),
        problem: None,
        form: Some(Form {
            action: PATH,
            csrf: &csrf,
            button: text.login_id_button.to_owned(),
            login_id: Some(text.any_login_id_label),
            any_login_id: true,
            login_hint: authorization.login_hint.clone().unwrap_or_default(),
            hidden: hidden
                .into_iter()
                .filter(|(name, _)| name != "login_hint")
                .collect(),
            ..Form::default()
        }),
        footer: (!authorization.tenant.name.is_empty()).then(|| authorization.tenant.name.clone()),
        // The post may go back to the client with an error.
        redirect_origin: Some(authorization.request.redirect_uri.origin()),
        refresh: None,
        match_code: None,
    };
    let mut response = pages.render(&page, head);
    if !head {
        set_csrf_cookie(&mut response, request, CSRF_COOKIE, PATH, &csrf);
    }
    response
}

/// 303 to the waiting page, with the pending login's cookie for as long as its code lives.
fn to_waiting_page(request: &Request, begun: &hosted::Begun) -> Response<Body> {
    let mut response = super::landing::redirect(super::authorize_wait::PATH);
    let cookie = pending_cookie(request, &begun.cookie, i64::from(begun.max_age_seconds));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The pending login's `Set-Cookie`: host-only, the whole site, `HttpOnly`, `SameSite=Lax`,
/// `Secure` unless served over plain loopback (`make dev`).
pub(super) fn pending_cookie(request: &Request, value: &str, max_age: i64) -> String {
    let secure = if served_over_plain_loopback(request) {
        ""
    } else {
        "; Secure"
    };
    format!(
        "{PENDING_COOKIE}={value}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{secure}",
        max_age.max(0)
    )
}
