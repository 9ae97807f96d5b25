//! `GET`, `HEAD` and `POST /oauth2/authorize/wait`: the waiting page of the browser that began a
//! hosted login (its `fusionauth.pending` cookie names the pending login). It reloads itself
//! every [`REFRESH_SECONDS`] (meta refresh: no script), shows the match code another device must
//! enter (`data-match-code`), and takes the one-time code the message carried. Once the login
//! completes here (the code typed, or another device approved it) it goes back to the client
//! with the authorization code; a refused one goes back with `access_denied`. Either way the
//! pending login's cookie is cleared.
//!
//! A reload throws away a code half typed into the page's field, so the page links to its
//! variant without the reload ([`ENTRY_PATH`], [`Entry::Code`]): the same form, and a plain link
//! back. A code posted from it is answered in it.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};

use super::authorize::{error_back, pending_cookie, words, PENDING_COOKIE};
use super::landing::{checked_form, failed, field, method_not_allowed, set_csrf_cookie, simple};
use super::login::client_ip;
use super::pages::{accept_language, Form, Link, Page, PageKind, Pages};
use super::{cookie, header_str, query_param, query_params};
use crate::codes;
use crate::oauth2::hosted::{self, Waited, WaitingPage};
use crate::oauth2::landing::{ClickError, LandingServices};

pub const PATH: &str = "/oauth2/authorize/wait";
/// The waiting page's CSRF cookie (its own name: `/oauth2/authorize`'s path is a prefix of this).
pub const CSRF_COOKIE: &str = "authorize_wait_csrf";
/// How often the waiting page looks again (the issue: at most 3 s).
pub const REFRESH_SECONDS: u32 = 3;
/// The waiting page's variant that does not reload itself.
pub const ENTRY_PATH: &str = "/oauth2/authorize/wait?entry=code";

/// Which waiting page: the one that reloads itself, or its variant for typing the code
/// (`entry=code` in the query, or in the variant's form).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Refreshing,
    Code,
}

impl Entry {
    fn parse(value: Option<&str>) -> Self {
        match value {
            Some("code") => Self::Code,
            _ => Self::Refreshing,
        }
    }
}

pub async fn handle(services: &LandingServices, pages: &Pages, request: Request) -> Response<Body> {
    let browser = accept_language(header_str(&request, "accept-language"));
    let pending = cookie(&request, PENDING_COOKIE);
    let method = request.method().as_str().to_owned();
    let (entry, waited) = match method.as_str() {
        "GET" | "HEAD" => (
            Entry::parse(query_param(&query_params(&request), "entry")),
            hosted::wait(services, pending.as_deref()).await,
        ),
        "POST" => {
            let form = match checked_form(pages, &request, &browser, CSRF_COOKIE) {
                Ok(form) => form,
                Err(refused) => return *refused,
            };
            let one_time_code = field(&form, "oneTimeCode").unwrap_or_default();
            let entered = hosted::enter_code(
                services,
                pending.as_deref(),
                one_time_code,
                client_ip(&request),
            )
            .await;
            (Entry::parse(field(&form, "entry")), entered)
        }
        _ => return method_not_allowed(pages, &browser),
    };
    match waited {
        Ok(Waited::Waiting { page, wrong }) => {
            waiting_page(pages, &request, &page, wrong, entry, method == "HEAD")
        }
        Ok(Waited::Completed(response, signed_in)) => {
            tracing::info!("a hosted login completed on its waiting page");
            let answer = super::redirect_back::respond(pages, &response);
            let answer = with_sso_session(&signed_in, answer);
            cleared(&request, answer)
        }
        Ok(Waited::Refused(back, error)) => cleared(&request, error_back(pages, &back, &error)),
        Ok(Waited::Finished) => simple(
            pages,
            &browser,
            PageKind::Expired,
            StatusCode::OK,
            |t| (t.finished_heading, t.finished_message),
            method == "HEAD",
        ),
        Err(ClickError::Dependency(error)) => failed(pages, &browser, &error, method == "HEAD"),
    }
}

/// The answer with the SSO session's cookie a completed hosted login started, if it did.
pub(super) fn with_sso_session(
    signed_in: &hosted::SignedIn,
    mut response: Response<Body>,
) -> Response<Body> {
    if let Some(value) = signed_in
        .sso_cookie
        .as_deref()
        .and_then(|cookie| HeaderValue::from_str(cookie).ok())
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The answer with the pending login's cookie removed.
pub(super) fn cleared(request: &Request, mut response: Response<Body>) -> Response<Body> {
    if let Ok(value) = HeaderValue::from_str(&pending_cookie(request, "", 0)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn waiting_page(
    pages: &Pages,
    request: &Request,
    waiting: &WaitingPage,
    wrong: bool,
    entry: Entry,
    head: bool,
) -> Response<Body> {
    let browser = accept_language(header_str(request, "accept-language"));
    let text = words(&waiting.languages, &browser);
    // The page reloads every few seconds: the same CSRF value while its cookie lasts, so that a
    // code typed just before a reload still posts.
    let csrf = cookie(request, CSRF_COOKIE)
        .filter(|c| {
            c.len() == 43
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .unwrap_or_else(|| codes::generate_id(&crate::system::OsRandom));
    let (refresh, hidden, link) = match entry {
        Entry::Refreshing => (
            Some(REFRESH_SECONDS),
            Vec::new(),
            Link {
                href: ENTRY_PATH,
                text: text.enter_code_link,
            },
        ),
        Entry::Code => (
            None,
            vec![("entry".to_owned(), "code".to_owned())],
            Link {
                href: PATH,
                text: text.check_again_link,
            },
        ),
    };
    let page = Page {
        kind: PageKind::Waiting,
        status: if wrong {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        text,
        heading: text.waiting_heading.to_owned(),
        message: text.waiting_message.to_owned(),
        problem: wrong.then_some(text.wrong_waiting_code),
        form: Some(Form {
            action: PATH,
            csrf: &csrf,
            button: text.waiting_button.to_owned(),
            one_time_code: Some(text.one_time_code_label),
            alphanumeric_code: waiting.alphanumeric_code,
            hidden,
            link: Some(link),
            ..Form::default()
        }),
        footer: (!waiting.tenant_name.is_empty()).then(|| waiting.tenant_name.clone()),
        redirect_origin: Some(&waiting.redirect_origin),
        refresh,
        match_code: Some(&waiting.match_code),
    };
    let mut response = pages.render(&page, head);
    if !head {
        set_csrf_cookie(&mut response, request, CSRF_COOKIE, PATH, &csrf);
    }
    response
}
