//! `POST /api/passwordless/login`: anonymous. The outcome becomes FusionAuth's status, body and
//! cookies here, and nowhere else.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{header_str, json_object};
use crate::errors::{Errors, FieldProblem};
use crate::login::{self, LoginCommand, LoginError, LoginOutcome};
use crate::ports::Services;

pub const TRUST_COOKIE: &str = "fusionauth.trust";

pub async fn handle(services: &Services, request: Request) -> Response<Body> {
    let body = match json_object(&request) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let mut command = match parse(&body) {
        Ok(command) => command,
        Err(errors) => return super::errors(StatusCode::BAD_REQUEST, &errors),
    };
    command.ip_address = command.ip_address.or_else(|| client_ip(&request));
    if let Some(trust) = cookie(&request, TRUST_COOKIE) {
        command.trust_id = Some(trust);
    }
    let tenant_scope = super::tenant_scope(&request);
    let no_jwt = command.no_jwt;
    match login::login(services, tenant_scope, command).await {
        Ok(LoginOutcome::LoggedIn {
            status,
            response,
            refresh_token_seconds,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut http = super::json(status, &response);
            if !no_jwt {
                let secure = if served_over_plain_loopback(&request) {
                    ""
                } else {
                    "; Secure"
                };
                let mut cookies = Vec::new();
                if let Some(token) = &response.token {
                    cookies.push(format!(
                        "access_token={token}; Path=/; HttpOnly; SameSite=Lax{secure}"
                    ));
                }
                if let Some(token) = &response.refresh_token {
                    cookies.push(format!(
                        "refresh_token={token}; Max-Age={refresh_token_seconds}; Path=/; HttpOnly; SameSite=Lax{secure}"
                    ));
                }
                for cookie in cookies {
                    if let Ok(value) = HeaderValue::from_str(&cookie) {
                        http.headers_mut().append(header::SET_COOKIE, value);
                    }
                }
            }
            http
        }
        Ok(LoginOutcome::ChangePassword {
            change_password_id,
            change_password_reason,
        }) => super::json(
            StatusCode::from_u16(203).unwrap_or(StatusCode::OK),
            &json!({"changePasswordId": change_password_id,
                    "changePasswordReason": change_password_reason}),
        ),
        Ok(LoginOutcome::TwoFactor {
            two_factor_id,
            methods,
        }) => super::json(
            StatusCode::from_u16(242).unwrap_or(StatusCode::OK),
            &json!({"twoFactorId": two_factor_id, "methods": methods}),
        ),
        Err(LoginError::Invalid(errors)) => super::errors(StatusCode::BAD_REQUEST, &errors),
        Err(LoginError::NotFound) => super::empty(StatusCode::NOT_FOUND),
        Err(LoginError::UserExpired) => super::empty(StatusCode::GONE),
        Err(LoginError::Locked) => super::empty(StatusCode::LOCKED),
        Err(LoginError::Prevented(actions)) => {
            super::json(StatusCode::CONFLICT, &json!({"actions": actions}))
        }
        Err(LoginError::TooManyAttempts) => super::errors(
            StatusCode::TOO_MANY_REQUESTS,
            &Errors::general(
                "[TooManyRequests]",
                "Too many wrong one-time codes for this user. Wait and start again.",
            ),
        ),
        Err(LoginError::Dependency(error)) => super::dependency_failed(&error),
    }
}

/// Reads a login request; unknown fields are ignored, every field error reported at once.
pub fn parse(body: &Map<String, Value>) -> Result<LoginCommand, Errors> {
    let mut errors = Errors::default();
    let field = |name: &str| body.get(name).filter(|v| !v.is_null());
    let text = |name: &str, errors: &mut Errors| match field(name) {
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
        }),
        _ => Err(errors),
    }
}

/// The first `X-Forwarded-For` entry, else the address API Gateway saw.
fn client_ip(request: &Request) -> Option<String> {
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

/// Cookies are `Secure` unless the request came over plain HTTP to this machine's loopback (`make
/// dev`, `cargo lambda watch`), where a browser would otherwise drop them. API Gateway always says
/// `X-Forwarded-Proto: https`; the request URI is no guide, as lambda_http writes `https` into it
/// whenever that header is missing.
fn served_over_plain_loopback(request: &Request) -> bool {
    let https =
        header_str(request, "x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let host = header_str(request, "host").unwrap_or_default();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !https && loopback
}

fn cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
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
