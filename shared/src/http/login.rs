//! `POST /api/passwordless/login`: anonymous. The outcome becomes FusionAuth's status, body and
//! cookies here, and nowhere else.

use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{header_str, json_object};
use crate::errors::{Errors, FieldProblem};
use crate::login::LoginServices;
use crate::login::{self, LoggedIn, LoggedInKind, LoginCommand, LoginError, LoginOutcome};
use crate::model::{User, UserAction};

pub const TRUST_COOKIE: &str = "fusionauth.trust";

pub async fn handle(services: &LoginServices, request: Request) -> Response<Body> {
    let body = match json_object(&request) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let mut command = match parse(&body) {
        Ok(command) => command,
        Err(errors) => return super::errors(StatusCode::BAD_REQUEST, &errors),
    };
    command.ip_address = command.ip_address.or_else(|| client_ip(&request));
    if let Some(trust) = super::cookie(&request, TRUST_COOKIE) {
        command.trust_id = Some(trust);
    }
    let tenant_scope = super::tenant_scope(&request);
    match login::login(services, tenant_scope, command).await {
        Ok(outcome) => respond(outcome, super::served_over_plain_loopback(&request)),
        Err(LoginError::Invalid(errors)) => super::errors(StatusCode::BAD_REQUEST, &errors),
        Err(LoginError::Dependency(error)) => super::dependency_failed(&error),
    }
}

/// FusionAuth's `LoginResponse`, as far as a passwordless login fills it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginResponse<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_expiration_instant: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verification_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_verification_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registration_verification_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a Map<String, Value>>,
    user: &'a User,
}

/// The one place a login outcome becomes FusionAuth's status, body and cookies.
fn respond(outcome: LoginOutcome, plain_loopback: bool) -> Response<Body> {
    let status = |code: u16| StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    match outcome {
        LoginOutcome::LoggedIn(logged_in) => logged_in_response(&logged_in, plain_loopback),
        LoginOutcome::PasswordChangeRequired {
            change_password_id,
            reason,
        } => super::json(
            status(203),
            &json!({"changePasswordId": change_password_id, "changePasswordReason": reason}),
        ),
        LoginOutcome::TwoFactorRequired {
            two_factor_id,
            methods,
        } => super::json(
            status(242),
            &json!({"twoFactorId": two_factor_id, "methods": methods}),
        ),
        LoginOutcome::Prevented(actions) => super::json(
            StatusCode::CONFLICT,
            &json!({"actions": actions.iter().map(action_json).collect::<Vec<_>>()}),
        ),
        LoginOutcome::Locked => super::empty(StatusCode::LOCKED),
        LoginOutcome::Expired => super::empty(StatusCode::GONE),
        LoginOutcome::NotFound => {
            crate::metrics::refused_code();
            super::empty(StatusCode::NOT_FOUND)
        }
        LoginOutcome::TooManyAttempts => {
            crate::metrics::rate_limited("one-time-codes");
            super::errors(
                StatusCode::TOO_MANY_REQUESTS,
                &Errors::general(
                    "[TooManyRequests]",
                    "Too many one-time codes were tried for this user. Wait and start again.",
                ),
            )
        }
    }
}

/// 200, 202, 212 or 213 with the `LoginResponse`, and the `access_token` and `refresh_token`
/// cookies (none with `noJWT`, which issues no token).
fn logged_in_response(logged_in: &LoggedIn, plain_loopback: bool) -> Response<Body> {
    let code = match logged_in.kind {
        LoggedInKind::IdentityUnverified(_) => 212,
        LoggedInKind::NotRegistered => 202,
        LoggedInKind::RegistrationUnverified => 213,
        LoggedInKind::Complete => 200,
    };
    let access = logged_in.access_token.as_ref();
    let refresh = logged_in.refresh_token.as_ref();
    let verification = &logged_in.verification;
    let body = LoginResponse {
        token: access.map(|a| a.token.as_str()),
        token_expiration_instant: access.map(|a| a.expires_at_millis),
        refresh_token: refresh.map(|r| r.token.as_str()),
        refresh_token_id: refresh.map(|r| r.id),
        email_verification_id: verification.email.as_deref(),
        identity_verification_id: verification.identity.as_deref(),
        registration_verification_id: verification.registration.as_deref(),
        state: logged_in.state.as_ref(),
        user: &logged_in.user,
    };
    let mut http = super::json(StatusCode::from_u16(code).unwrap_or(StatusCode::OK), &body);
    super::set_token_cookies(&mut http, access, refresh, plain_loopback);
    http
}

/// An action that prevents login, as FusionAuth shows it: what the action does not have is left
/// out rather than sent as null.
fn action_json(action: &UserAction) -> Value {
    let mut json = json!({
        "actionId": action.action_id, "expiry": action.expiry, "name": action.name,
        "localizedName": action.name, "reason": action.reason,
        "localizedReason": action.reason, "reasonCode": action.reason_code
    });
    if let Some(fields) = json.as_object_mut() {
        fields.retain(|_, value| !value.is_null());
    }
    json
}

/// Reads a login request; unknown fields are ignored, every field error reported at once.
pub fn parse(body: &Map<String, Value>) -> Result<LoginCommand, Errors> {
    let mut errors = crate::limits::json_fields_over(body, crate::limits::LOGIN);
    let field = |name: &str| body.get(name).filter(|v| !v.is_null());
    let text = |name: &str, errors: &mut Errors| match field(name) {
        // Over its cap: that is its problem, and the only one said.
        _ if errors.field_errors.contains_key(name) => None,
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.add_field(name, FieldProblem::CouldNotConvert);
            None
        }
    };
    let code = text("code", &mut errors).filter(|c| !c.trim().is_empty());
    if code.is_none() && !errors.field_errors.contains_key("code") {
        errors.add_field("code", FieldProblem::Blank);
    }
    let one_time_code = text("oneTimeCode", &mut errors);
    let trust_id = text("twoFactorTrustId", &mut errors);
    let ip_address = text("ipAddress", &mut errors).or_else(|| {
        body.get("eventInfo")
            .and_then(|e| e.get("ipAddress"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let application_id = match text("applicationId", &mut errors) {
        None => None,
        Some(s) if s.trim().is_empty() => None,
        Some(s) => Uuid::parse_str(s.trim()).ok().or_else(|| {
            errors.add_field("applicationId", FieldProblem::CouldNotConvert);
            None
        }),
    };
    let no_jwt = match field("noJWT") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.add_field("noJWT", FieldProblem::CouldNotConvert);
            false
        }
    };
    let meta_data = match field("metaData") {
        None => None,
        Some(Value::Object(m)) => Some(Value::Object(m.clone())),
        Some(_) => {
            errors.add_field("metaData", FieldProblem::CouldNotConvert);
            None
        }
    };
    match code {
        Some(code) if errors.is_empty() => Ok(LoginCommand {
            code,
            one_time_code,
            application_id,
            ip_address,
            meta_data,
            no_jwt,
            trust_id,
            refresh_token: Default::default(),
        }),
        _ => Err(errors),
    }
}

/// The first `X-Forwarded-For` entry, else the address API Gateway saw.
pub(super) fn client_ip(request: &Request) -> Option<String> {
    header_str(request, "x-forwarded-for")
        .and_then(|h| h.split(',').next())
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .map(str::to_owned)
        .or_else(|| match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_request_needs_a_code_and_well_typed_fields() {
        let errors = parse(
            json!({"noJWT": "yes", "applicationId": "x"})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        let codes: Vec<_> = errors
            .field_errors
            .values()
            .flatten()
            .map(|e| e.code.as_str())
            .collect();
        assert_eq!(
            codes,
            [
                "[couldNotConvert]applicationId",
                "[blank]code",
                "[couldNotConvert]noJWT"
            ]
        );
    }

    #[test]
    fn the_body_ip_wins_over_event_info() {
        let command = parse(
            json!({"code": "c", "ipAddress": "1.1.1.1", "eventInfo": {"ipAddress": "2.2.2.2"}})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(command.ip_address.as_deref(), Some("1.1.1.1"));
        let command = parse(
            json!({"code": "c", "eventInfo": {"ipAddress": "2.2.2.2"}})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(command.ip_address.as_deref(), Some("2.2.2.2"));
    }
}
