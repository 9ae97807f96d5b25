//! A hosted login's magic link opened in a browser other than the one that began it (no
//! `fusionauth.pending` cookie of that login): [`approval_page`] asks for the two-digit match
//! code the waiting page shows, and [`handle_approval`] takes it
//! ([`crate::oauth2::hosted::approve`]). The right code approves the pending login, whose waiting
//! page then completes; this browser only ever gets a page saying so, never a code, a token or a
//! redirect to the application. Wrong codes are counted; the last one refuses the login.
//! The page names who began the login ("This sign-in was started in Chrome on Linux 2 minutes
//! ago. Is this you?"): only a coarse family of its browser and OS, escaped as all its text.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::header_str;
use super::landing::{expired, failed, set_csrf_cookie, simple, texts, CSRF_COOKIE, PATH_PREFIX};
use super::pages::{accept_language, Form, Page, PageKind, Pages, Text};
use crate::codes;
use crate::oauth2::hosted::{self, Approval, Requester};
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
        message: match &landing.requester {
            Some(requester) => format!(
                "{} {} {}",
                started_by(text, requester),
                text.is_this_you,
                text.approve_message
            ),
            None => text.approve_message.to_owned(),
        },
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

/// "This sign-in was started in Chrome on Linux 2 minutes ago.", in the page's language.
fn started_by(text: &Text, requester: &Requester) -> String {
    let device = match (requester.device.browser.name(), requester.device.os.name()) {
        (Some(browser), Some(os)) => text
            .browser_on_os
            .replace("{browser}", browser)
            .replace("{os}", os),
        (Some(browser), None) => browser.to_owned(),
        (None, _) => text.unknown_browser.to_owned(),
    };
    let when = match requester.minutes_ago {
        None => return text.started_by_undated.replace("{device}", &device),
        Some(0) => text.just_now.to_owned(),
        Some(1) => text.one_minute_ago.to_owned(),
        Some(n) => text.minutes_ago.replace("{n}", &n.to_string()),
    };
    text.started_by
        .replace("{device}", &device)
        .replace("{when}", &when)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::pages::{ENGLISH, FRENCH, GERMAN};
    use crate::model::{Browser, Device, Os};

    fn requester(browser: Browser, os: Os, minutes_ago: Option<i64>) -> Requester {
        Requester {
            device: Device { browser, os },
            minutes_ago,
        }
    }

    #[test]
    fn who_began_the_login_reads_in_each_language() {
        let chrome = requester(Browser::Chrome, Os::Linux, Some(2));
        assert_eq!(
            started_by(&ENGLISH, &chrome),
            "This sign-in was started in Chrome on Linux 2 minutes ago."
        );
        assert_eq!(
            started_by(&GERMAN, &chrome),
            "Diese Anmeldung wurde vor 2 Minuten in Chrome unter Linux begonnen."
        );
        assert_eq!(
            started_by(&FRENCH, &requester(Browser::Safari, Os::IPhone, Some(0))),
            "Cette connexion a été commencée à l'instant dans Safari sur iPhone."
        );
        assert_eq!(
            started_by(&ENGLISH, &requester(Browser::Unknown, Os::Linux, Some(1))),
            "This sign-in was started in an unknown browser 1 minute ago."
        );
        assert_eq!(
            started_by(&ENGLISH, &requester(Browser::Firefox, Os::Unknown, None)),
            "This sign-in was started in Firefox."
        );
    }
}
