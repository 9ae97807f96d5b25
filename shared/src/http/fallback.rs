//! `GET`, `HEAD` and `POST /oauth2/passwordless?client_id=…`: the fallback page's HTTP edge, for
//! a magic link that got mangled. A form for the email address and the one-time code the email
//! carries beside the link ([`crate::oauth2::landing::enter_code`]), with a CSRF cookie of its own
//! (its path is a prefix of every link's); every refusal of it, a spent budget included, is the
//! same form with the same problem. The link's own page ([`super::landing`]) routes this path
//! here and lends it its forms, CSRF check and pages.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use uuid::Uuid;

use super::landing::{
    checked_form, failed, field, method_not_allowed, refused, set_csrf_cookie, unusable,
};
use super::login::{client_ip, TRUST_COOKIE};
use super::pages::{accept_language, language, Form, Page, PageKind, Pages};
use super::{cookie, header_str, query_param, query_params};
use crate::codes;
use crate::oauth2::landing::{
    self, ClickError, Clicked, CodeEntry, EnterCodeCommand, LandingServices,
};

/// The fallback page's path: [`super::landing::PATH_PREFIX`] without its slash.
pub const CODE_ENTRY_PATH: &str = "/oauth2/passwordless";
/// The fallback page's cookie: its path is a prefix of every link's, so it has its own name.
pub const CODE_ENTRY_CSRF_COOKIE: &str = "passwordless_entry_csrf";

/// The fallback page (`GET`, `HEAD`) and its post.
pub(super) async fn handle(
    services: &LandingServices,
    pages: &Pages,
    request: Request,
) -> Response<Body> {
    let browser_languages = accept_language(header_str(&request, "accept-language"));
    let method = request.method().clone();
    if method == Method::GET || method == Method::HEAD {
        let query = query_params(&request);
        let client_id = query_param(&query, "client_id").and_then(|id| Uuid::parse_str(id).ok());
        let head = method == Method::HEAD;
        return match landing::code_entry(services, client_id).await {
            Ok(Some(entry)) => code_entry_page(pages, &request, &entry, None, head),
            Ok(None) => unusable(pages, &browser_languages, head),
            Err(error) => failed(pages, &browser_languages, &error, head),
        };
    }
    if method != Method::POST {
        return method_not_allowed(pages, &browser_languages);
    }
    let form = match checked_form(pages, &request, &browser_languages, CODE_ENTRY_CSRF_COOKIE) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let client_id = field(&form, "client_id").and_then(|id| Uuid::parse_str(id.trim()).ok());
    let command = EnterCodeCommand {
        client_id,
        login_id: field(&form, "loginId").unwrap_or_default().to_owned(),
        one_time_code: field(&form, "oneTimeCode").unwrap_or_default().to_owned(),
        ip_address: client_ip(&request),
        trust_id: cookie(&request, TRUST_COOKIE),
    };
    tracing::info!("a link's fallback code entered");
    match landing::enter_code(services, command).await {
        Ok(Clicked::Redirect(response, _)) => super::redirect_back::respond(pages, &response),
        Ok(Clicked::Unusable(_)) => unusable(pages, &browser_languages, false),
        Ok(Clicked::Refused(refusal)) => refused(pages, &browser_languages, refusal),
        Ok(
            Clicked::WrongFallback
            | Clicked::Expired
            | Clicked::WrongOneTimeCode(_)
            | Clicked::OtherBrowser(_),
        ) => {
            // The page again, with the problem: the names were read for the first page.
            match landing::code_entry(services, client_id).await {
                Ok(Some(entry)) => {
                    let text = language(browser_languages.iter().copied());
                    let problem = Some(text.wrong_fallback);
                    code_entry_page(pages, &request, &entry, problem, false)
                }
                Ok(None) => unusable(pages, &browser_languages, false),
                Err(error) => failed(pages, &browser_languages, &error, false),
            }
        }
        Err(ClickError::Dependency(error)) => failed(pages, &browser_languages, &error, false),
    }
}

/// The fallback page's form, in the browser's language (the user is not known yet).
fn code_entry_page(
    pages: &Pages,
    request: &Request,
    entry: &CodeEntry,
    problem: Option<&'static str>,
    head: bool,
) -> Response<Body> {
    let text = language(accept_language(header_str(request, "accept-language")));
    let app = |s: &str| s.replace("{app}", &entry.application_name);
    let csrf = codes::generate_id(&crate::system::OsRandom);
    let page = Page {
        kind: PageKind::EnterCode,
        status: match problem {
            Some(_) => StatusCode::BAD_REQUEST,
            None => StatusCode::OK,
        },
        text,
        heading: app(text.enter_code_heading),
        message: text.enter_code_message.to_owned(),
        problem,
        form: Some(Form {
            action: CODE_ENTRY_PATH,
            csrf: &csrf,
            button: text.enter_code_button.to_owned(),
            one_time_code: Some(text.one_time_code_label),
            login_id: Some(text.login_id_label),
            client_id: Some(entry.client_id.to_string()),
            ..Form::default()
        }),
        footer: (!entry.tenant_name.is_empty()).then(|| entry.tenant_name.clone()),
        // The code, and with it the redirect URI, is found only once the form is in: any of
        // the application's.
        redirect_origin: Some(&entry.redirect_origins),
        refresh: None,
        match_code: None,
    };
    let mut response = pages.render(&page, head);
    if !head {
        set_csrf_cookie(
            &mut response,
            request,
            CODE_ENTRY_CSRF_COOKIE,
            CODE_ENTRY_PATH,
            &csrf,
        );
    }
    response
}
