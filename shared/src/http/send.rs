//! `POST /api/passwordless/send`: anonymous. 200 with an empty body (and no JSON content type:
//! the TypeScript client rejects an empty body labelled JSON).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};

use super::json_object;
use crate::errors::{Errors, FieldProblem};
use crate::login_id::PhoneNumber;
use crate::send::SendServices;
use crate::send::{self, SendError, SendRequest};
use crate::sms_guard::SmsRefusal;

pub async fn handle(services: &SendServices, request: Request) -> Response<Body> {
    let body = match json_object(&request) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let tenant_scope = super::tenant_scope(&request);
    let parsed = match parse(&body) {
        Ok(parsed) => parsed,
        Err(errors) => return super::errors(StatusCode::BAD_REQUEST, &errors),
    };
    respond(send::send(services, tenant_scope, parsed).await)
}

/// The one place a send outcome becomes a status: 200 with an empty body (and no JSON content
/// type: the TypeScript client rejects an empty body labelled JSON), 400, 429 or 500. The SMS
/// guard: a country off the allowlist is 400 `[SmsCountryNotAllowed]` (asking again will not
/// help); a user past its share of a prefix's window 429 `[SmsUserRateLimited]`, of the day 429
/// `[SmsUserDailyLimitReached]`; a prefix over its velocity 429 `[SmsPrefixRateLimited]`, a
/// tenant past its daily cap 429 `[SmsDailyLimitReached]`.
fn respond(sent: Result<(), SendError>) -> Response<Body> {
    match sent {
        Ok(()) => super::empty(StatusCode::OK),
        Err(SendError::Invalid(errors)) => super::errors(StatusCode::BAD_REQUEST, &errors),
        Err(SendError::RateLimited) => super::errors(
            StatusCode::TOO_MANY_REQUESTS,
            &Errors::general(
                "[RateLimited]",
                "Too many codes were sent to this user. Wait a little and try again.",
            ),
        ),
        Err(SendError::SmsRefused(refusal)) => sms_refused(&refusal),
        Err(SendError::Dependency(error)) => super::dependency_failed(&error),
    }
}

fn sms_refused(refusal: &SmsRefusal) -> Response<Body> {
    match refusal {
        SmsRefusal::CountryNotAllowed { .. } => super::errors(
            StatusCode::BAD_REQUEST,
            &Errors::general(
                "[SmsCountryNotAllowed]",
                "This service does not send SMS to the country of this phone number.",
            ),
        ),
        SmsRefusal::UserPrefixShare { .. } => super::errors(
            StatusCode::TOO_MANY_REQUESTS,
            &Errors::general(
                "[SmsUserRateLimited]",
                "Too many codes were sent to this user by SMS. Wait a few minutes and try again.",
            ),
        ),
        SmsRefusal::UserDailyShare { .. } => super::errors(
            StatusCode::TOO_MANY_REQUESTS,
            &Errors::general(
                "[SmsUserDailyLimitReached]",
                "This user was sent as many codes by SMS today as it may. Try again tomorrow or log in by email.",
            ),
        ),
        SmsRefusal::PrefixVelocity { .. } => super::errors(
            StatusCode::TOO_MANY_REQUESTS,
            &Errors::general(
                "[SmsPrefixRateLimited]",
                "Too many codes were sent to phone numbers like this one. Wait a little and try again.",
            ),
        ),
        SmsRefusal::DailyLimit { .. } => super::errors(
            StatusCode::TOO_MANY_REQUESTS,
            &Errors::general(
                "[SmsDailyLimitReached]",
                "This service has sent as many SMS today as it may. Try again tomorrow or log in by email.",
            ),
        ),
    }
}

/// `code` selects the preferred usage; `applicationId` or `loginId` without a code, the legacy
/// one, which accepts email addresses and usernames only.
pub fn parse(body: &Map<String, Value>) -> Result<SendRequest, Errors> {
    let over = crate::limits::json_fields_over(body, crate::limits::SEND);
    if !over.is_empty() {
        return Err(over);
    }
    let field = |name: &str| body.get(name).filter(|v| !v.is_null());
    match field("code") {
        Some(Value::String(code)) if !code.trim().is_empty() => {
            return Ok(SendRequest::Code(code.clone()))
        }
        Some(Value::String(_)) | None => {}
        Some(_) => return Err(Errors::field("code", FieldProblem::CouldNotConvert)),
    }
    if field("applicationId").is_none() && field("loginId").is_none() {
        return Err(Errors::field("code", FieldProblem::Blank));
    }
    // Legacy send compares email and username only, with the default strategy.
    let mut legacy = body.clone();
    legacy.remove("loginIdTypes");
    legacy.remove("loginStrategy");
    let command = super::start::parse(&legacy)?;
    let login_id = command.login_id.as_str();
    let looks_like_phone = !login_id.contains('@')
        && !login_id.chars().any(char::is_alphabetic)
        && PhoneNumber::parse(login_id).is_some();
    if looks_like_phone {
        let mut errors = Errors::field("loginId", FieldProblem::Invalid);
        errors.add_general(
            "[PhoneNumberNotSupported]",
            "This usage of send takes an email address or a username. Start a login for a phone number, then send its code.",
        );
        return Err(errors);
    }
    Ok(SendRequest::Legacy(command))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_json(value: Value) -> Result<SendRequest, Errors> {
        parse(value.as_object().unwrap())
    }

    #[test]
    fn a_code_selects_the_preferred_usage() {
        assert_eq!(
            parse_json(json!({"code": "abc"})).unwrap(),
            SendRequest::Code("abc".into())
        );
    }

    #[test]
    fn an_empty_body_is_a_blank_code() {
        let errors = parse_json(json!({})).unwrap_err();
        assert_eq!(errors.field_errors["code"][0].code, "[blank]code");
    }

    #[test]
    fn the_legacy_usage_refuses_phone_numbers() {
        let errors = parse_json(json!({
            "applicationId": "10000000-0000-0002-0000-000000000001", "loginId": "(720) 555-0147"
        }))
        .unwrap_err();
        assert_eq!(errors.field_errors["loginId"][0].code, "[invalid]loginId");
        assert!(matches!(
            parse_json(json!({
                "applicationId": "10000000-0000-0002-0000-000000000001", "loginId": "jared"
            })),
            Ok(SendRequest::Legacy(_))
        ));
    }
}
