//! `GET` and `POST /oauth2/logout` ([`crate::oauth2::logout`]): the parameters from the query
//! string and, for a post, the form body; each at most once and within its cap
//! (`limits::LOGOUT_FORM`), else an error page. Signed out: the `fusionauth.sso` cookie is
//! cleared and the browser sent on with a 302, or shown the signed-out page. Without a valid
//! `id_token_hint`: a confirmation page whose form posts back here with a CSRF value bound to it
//! (a `SameSite=Strict` cookie scoped to this path, and the same value in the form); only that
//! post signs out. Every answer is an HTML page or a redirect to a registered place.

use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};

use super::landing::{csrf_holds, form, set_csrf_cookie};
use super::pages::{accept_language, language, Form, Page, PageKind, Pages, Text};
use super::{cookie, header_str, query_params};
use crate::codes;
use crate::limits;
use crate::oauth2::logout::{
    self, Confirmation, Logout, LogoutProblem, LogoutRequest, LogoutServices,
};
use crate::oauth2::sso::{self, SSO_COOKIE};

pub const PATH: &str = "/oauth2/logout";
pub const CSRF_COOKIE: &str = "passwordless_logout_csrf";
const CSRF_FIELD: &str = "csrf";

pub async fn handle(services: &LogoutServices, pages: &Pages, request: Request) -> Response<Body> {
    let browser = accept_language(header_str(&request, "accept-language"));
    let text = language(browser.iter().copied());
    let words = words(text);
    let method = request.method().clone();
    if method != Method::GET && method != Method::POST {
        let mut response = page(
            pages,
            text,
            PageKind::Error,
            StatusCode::METHOD_NOT_ALLOWED,
            words.error_heading,
            words.bad_request,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return response;
    }
    let parameters = match parameters(&request) {
        Ok(parameters) => parameters,
        Err(status) => {
            return page(
                pages,
                text,
                PageKind::Error,
                status,
                words.error_heading,
                words.bad_request,
            )
        }
    };
    let value = |name: &str| {
        parameters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_owned())
            .filter(|v| !v.trim().is_empty())
    };
    let pressed = value(CSRF_FIELD);
    if pressed.is_some() && !csrf_holds(&request, CSRF_COOKIE, pressed.as_deref()) {
        tracing::warn!("a logout confirmation without its page's CSRF value");
        return page(
            pages,
            text,
            PageKind::Forbidden,
            StatusCode::FORBIDDEN,
            words.error_heading,
            words.forbidden,
        );
    }
    let command = LogoutRequest {
        id_token_hint: value("id_token_hint"),
        client_id: value("client_id"),
        post_logout_redirect_uri: value("post_logout_redirect_uri"),
        state: value("state"),
        tenant_id: value("tenantId"),
        session_cookie: cookie(&request, SSO_COOKIE),
        confirmed: pressed.is_some(),
    };
    match logout::logout(services, command).await {
        Ok(Logout::SignedOut {
            redirect: Some(url),
        }) => signed_out_redirect(&url),
        Ok(Logout::SignedOut { redirect: None }) => {
            let mut response = page(
                pages,
                text,
                PageKind::SignedOut,
                StatusCode::OK,
                words.signed_out_heading,
                words.signed_out,
            );
            clear_session_cookie(&mut response);
            response
        }
        Ok(Logout::Confirm(confirmation)) => confirm_page(pages, &request, text, &confirmation),
        Ok(Logout::Refused(problem)) => {
            tracing::warn!(problem = %problem, "a logout request refused");
            let message = match problem {
                LogoutProblem::UnregisteredRedirectUri => words.unregistered_redirect,
                LogoutProblem::UnknownClient | LogoutProblem::HintOfAnotherClient => {
                    words.unknown_client
                }
            };
            page(
                pages,
                text,
                PageKind::Error,
                StatusCode::BAD_REQUEST,
                words.error_heading,
                message,
            )
        }
        Err(error) => {
            tracing::error!(error = %error, "a dependency failed");
            crate::metrics::dependency_failure(error.operation);
            page(
                pages,
                text,
                PageKind::Error,
                StatusCode::INTERNAL_SERVER_ERROR,
                words.error_heading,
                words.failed,
            )
        }
    }
}

/// The query's parameters and, for a post, the form body's; 400 when one is repeated or over
/// its cap, 413/415 for a body too large or not a form.
fn parameters(request: &Request) -> Result<Vec<(String, String)>, StatusCode> {
    let mut parameters = query_params(request);
    let has_body = match request.body() {
        Body::Text(text) => !text.is_empty(),
        Body::Binary(bytes) => !bytes.is_empty(),
        _ => false,
    };
    if request.method() == Method::POST && has_body {
        parameters.extend(form(request)?);
    }
    let fields = parameters.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    if limits::form_field_over(fields, limits::LOGOUT_FORM).is_some() {
        return Err(StatusCode::BAD_REQUEST);
    }
    let repeated = parameters
        .iter()
        .enumerate()
        .any(|(i, (name, _))| parameters[..i].iter().any(|(earlier, _)| earlier == name));
    if repeated {
        return Err(StatusCode::BAD_REQUEST);
    }
    Ok(parameters)
}

/// 302, as FusionAuth answers the logout, with the session's cookie cleared.
fn signed_out_redirect(url: &str) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    let Ok(location) = HeaderValue::from_str(url) else {
        return response;
    };
    *response.status_mut() = StatusCode::FOUND;
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    clear_session_cookie(&mut response);
    response
}

pub(super) fn clear_session_cookie(response: &mut Response<Body>) {
    if let Ok(value) = HeaderValue::from_str(&sso::clear_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// "Sign out?", with a fresh CSRF value in the form and in the cookie; the form's action carries
/// the checked parameters back.
fn confirm_page(
    pages: &Pages,
    request: &Request,
    text: &'static Text,
    confirmation: &Confirmation,
) -> Response<Body> {
    let words = words(text);
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in &confirmation.carried {
        query.append_pair(name, value);
    }
    let query = query.finish();
    let action = match query.is_empty() {
        true => PATH.to_owned(),
        false => format!("{PATH}?{query}"),
    };
    let csrf = codes::generate_id(&crate::system::OsRandom);
    let heading = match &confirmation.application_name {
        Some(name) if !name.is_empty() => words.confirm_heading_app.replace("{app}", name),
        _ => words.confirm_heading.to_owned(),
    };
    let mut response = pages.render(
        &Page {
            kind: PageKind::ConfirmLogout,
            status: StatusCode::OK,
            text,
            heading,
            message: words.confirm.to_owned(),
            problem: None,
            form: Some(Form {
                action: &action,
                csrf: &csrf,
                button: words.confirm_button.to_owned(),
                ..Form::default()
            }),
            footer: confirmation.tenant_name.clone(),
            redirect_origin: confirmation.redirect_origin.as_deref(),
            refresh: None,
            match_code: None,
        },
        false,
    );
    set_csrf_cookie(&mut response, request, CSRF_COOKIE, PATH, &csrf);
    response
}

fn page(
    pages: &Pages,
    text: &'static Text,
    kind: PageKind,
    status: StatusCode,
    heading: &str,
    message: &str,
) -> Response<Body> {
    pages.render(&Page::message(kind, status, text, heading, message), false)
}

/// The logout pages' words, in the pages' languages.
struct Words {
    confirm_heading: &'static str,
    confirm_heading_app: &'static str,
    confirm: &'static str,
    confirm_button: &'static str,
    signed_out_heading: &'static str,
    signed_out: &'static str,
    error_heading: &'static str,
    unregistered_redirect: &'static str,
    unknown_client: &'static str,
    forbidden: &'static str,
    bad_request: &'static str,
    failed: &'static str,
}

fn words(text: &Text) -> &'static Words {
    match text.lang {
        "de" => &GERMAN,
        "fr" => &FRENCH,
        _ => &ENGLISH,
    }
}

static ENGLISH: Words = Words {
    confirm_heading: "Sign out?",
    confirm_heading_app: "Sign out of {app}?",
    confirm: "Do you want to sign out on this device? You will need to sign in again.",
    confirm_button: "Sign out",
    signed_out_heading: "You are signed out",
    signed_out: "You can close this window.",
    error_heading: "This sign-out cannot go on",
    unregistered_redirect: "The application asked to return to an address it has not registered. You were not signed out; go back to the application.",
    unknown_client: "This sign-out request does not name a known application. You were not signed out; go back to the application.",
    forbidden: "This page could not be confirmed. Go back to the application and sign out again.",
    bad_request: "This sign-out request could not be read. Go back to the application and sign out again.",
    failed: "We could not sign you out. Please try again in a moment.",
};

static GERMAN: Words = Words {
    confirm_heading: "Abmelden?",
    confirm_heading_app: "Von {app} abmelden?",
    confirm: "Möchten Sie sich auf diesem Gerät abmelden? Sie müssen sich danach erneut anmelden.",
    confirm_button: "Abmelden",
    signed_out_heading: "Sie sind abgemeldet",
    signed_out: "Sie können dieses Fenster schließen.",
    error_heading: "Diese Abmeldung kann nicht fortgesetzt werden",
    unregistered_redirect: "Die Anwendung möchte zu einer Adresse zurückkehren, die sie nicht registriert hat. Sie wurden nicht abgemeldet; gehen Sie zurück zur Anwendung.",
    unknown_client: "Diese Abmeldung nennt keine bekannte Anwendung. Sie wurden nicht abgemeldet; gehen Sie zurück zur Anwendung.",
    forbidden: "Diese Seite konnte nicht bestätigt werden. Gehen Sie zurück zur Anwendung und melden Sie sich erneut ab.",
    bad_request: "Diese Anfrage konnte nicht gelesen werden. Gehen Sie zurück zur Anwendung und melden Sie sich erneut ab.",
    failed: "Die Abmeldung ist fehlgeschlagen. Versuchen Sie es gleich noch einmal.",
};

static FRENCH: Words = Words {
    confirm_heading: "Se déconnecter ?",
    confirm_heading_app: "Se déconnecter de {app} ?",
    confirm: "Voulez-vous vous déconnecter sur cet appareil ? Vous devrez vous reconnecter.",
    confirm_button: "Se déconnecter",
    signed_out_heading: "Vous êtes déconnecté",
    signed_out: "Vous pouvez fermer cette fenêtre.",
    error_heading: "Cette déconnexion ne peut pas continuer",
    unregistered_redirect: "L'application demande à revenir à une adresse qu'elle n'a pas enregistrée. Vous n'avez pas été déconnecté ; retournez dans l'application.",
    unknown_client: "Cette demande de déconnexion ne nomme aucune application connue. Vous n'avez pas été déconnecté ; retournez dans l'application.",
    forbidden: "Cette page n'a pas pu être confirmée. Retournez dans l'application et déconnectez-vous à nouveau.",
    bad_request: "Cette requête n'a pas pu être lue. Retournez dans l'application et déconnectez-vous à nouveau.",
    failed: "La déconnexion a échoué. Réessayez dans un instant.",
};
