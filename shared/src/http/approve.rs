//! A hosted login's magic link opened in a browser other than the one that began it (no
//! `fusionauth.pending` cookie of that login): [`approval_page`] asks for the two-digit match
//! code the waiting page shows, and [`handle_approval`] takes it
//! ([`crate::oauth2::hosted::approve`]). The right code approves the pending login, whose waiting
//! page then completes; this browser only ever gets a page saying so, never a code, a token or a
//! redirect to the application. Wrong codes are counted; the last one refuses the login.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::header_str;
use super::landing::{expired, failed, set_csrf_cookie, simple, texts, CSRF_COOKIE, PATH_PREFIX};
use super::pages::{accept_language, Form, Page, PageKind, Pages};
use crate::codes;
use crate::oauth2::hosted::{self, Approval};
use crate::oauth2::landing::{Landing, LandingServices, LinkCode};

/// The match code form, posted back to the link's own path with the landing page's CSRF cookie.
pub(super) fn approval_page(
    pages: &Pages,
    request: &Request,
    code: &LinkCode,
    landing: &Landing,
    wrong: bool,
    head: bool,
) -> Response<Body> {
    let browser = accept_language(header_str(request, "accept-language"));
    let text = texts(landing, &browser);
    let app = |s: &str| s.replace("{app}", &landing.application_name);
    let path = format!("{PATH_PREFIX}{}", code.as_str());
    let csrf = codes::generate_id(&crate::system::OsRandom);
    let page = Page {
        kind: PageKind::Approve,
        status: if wrong {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        text,
        heading: app(text.approve_heading),
        message: text.approve_message.to_owned(),
        problem: wrong.then_some(text.wrong_match_code),
        form: Some(Form {
            action: &path,
            csrf: &csrf,
            button: text.approve_button.to_owned(),
            match_code: Some(text.match_code_label),
            ..Form::default()
        }),
        footer: (!landing.tenant_name.is_empty()).then(|| landing.tenant_name.clone()),
        // This page's post never leaves this site.
        redirect_origin: None,
        refresh: None,
        match_code: None,
    };
    let mut response = pages.render(&page, head);
    if !head {
        set_csrf_cookie(&mut response, request, CSRF_COOKIE, &path, &csrf);
    }
    response
}

/// The approval form's post (its CSRF value already checked).
pub(super) async fn handle_approval(
    services: &LandingServices,
    pages: &Pages,
    request: &Request,
    code: &LinkCode,
    match_code: &str,
) -> Response<Body> {
    let browser = accept_language(header_str(request, "accept-language"));
    match hosted::approve(services, code, match_code).await {
        Ok(Approval::Approved) => simple(
            pages,
            &browser,
            PageKind::Approved,
            StatusCode::OK,
            |t| (t.approved_heading, t.approved_message),
            false,
        ),
        Ok(Approval::Wrong(landing)) => {
            crate::metrics::refused_code();
            approval_page(pages, request, code, &landing, true, false)
        }
        Ok(Approval::Refused) => {
            crate::metrics::refused_code();
            simple(
                pages,
                &browser,
                PageKind::Refused,
                StatusCode::FORBIDDEN,
                |t| (t.finished_heading, t.finished_message),
                false,
            )
        }
        Ok(Approval::Finished) => expired(pages, &browser, false),
        Err(error) => failed(pages, &browser, &error, false),
    }
}
