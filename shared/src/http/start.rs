//! `POST /api/passwordless/start`: the request body parsed into a [`StartCommand`], the outcome
//! mapped to FusionAuth's statuses.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{header_str, json_object, tenant_header};
use crate::errors::{Errors, FieldProblem};
use crate::login_id::LoginIdTypes;
use crate::model::LoginStrategy;
use crate::start::StartServices;
use crate::start::{self, StartCommand, StartError, Started, START_PATH};

pub async fn handle(services: &StartServices, request: Request) -> Response<Body> {
    let credentials = start::Credentials {
        api_key: header_str(&request, "authorization"),
        tenant_header: tenant_header(&request),
        method: request.method().as_str(),
    };
    // A good body is read first so that its application can be fetched while the key is.
    let command = match json_object(&request).map(|body| parse(&body)) {
        Ok(Ok(command)) => command,
        Ok(Err(errors)) => {
            let invalid = super::errors(StatusCode::BAD_REQUEST, &errors);
            return unless_unauthorized(services, credentials, invalid).await;
        }
        Err(unreadable) => return unless_unauthorized(services, credentials, unreadable).await,
    };
    match start::authorize_and_start(services, credentials, command).await {
        Ok(started) => super::json(StatusCode::OK, &StartResponse::from(started)),
        Err(error) => error_response(error),
    }
}

/// `refusal` for a caller whose key is good; 401 otherwise: a bad key is refused before a bad
/// body, as FusionAuth does.
async fn unless_unauthorized(
    services: &StartServices,
    credentials: start::Credentials<'_>,
    refusal: Response<Body>,
) -> Response<Body> {
    match start::authorize(services.directory.as_ref(), credentials, START_PATH).await {
        Ok(_) => refusal,
        Err(error) => error_response(error),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartResponse {
    code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    one_time_code: Option<String>,
}

impl From<Started> for StartResponse {
    fn from(started: Started) -> Self {
        Self {
            code: started.code,
            one_time_code: started.one_time_code,
        }
    }
}

/// The one place a start outcome becomes a status.
fn error_response(error: StartError) -> Response<Body> {
    match error {
        StartError::Unauthorized => super::empty(StatusCode::UNAUTHORIZED),
        StartError::Invalid(errors) => super::errors(StatusCode::BAD_REQUEST, &errors),
        StartError::UserNotFound => super::empty(StatusCode::NOT_FOUND),
        StartError::Dependency(error) => super::dependency_failed(&error),
    }
}

/// Reads a start request, collecting every field error at once as FusionAuth does. Unknown
/// fields are ignored; `null` counts as absent.
pub fn parse(body: &Map<String, Value>) -> Result<StartCommand, Errors> {
    let mut errors = crate::limits::json_fields_over(body, crate::limits::START);
    let application_id = field(body, "applicationId", application_id, &mut errors);
    let login_id = field(body, "loginId", login_id, &mut errors);
    let login_id_types = field(body, "loginIdTypes", login_id_types, &mut errors);
    let login_strategy = field(body, "loginStrategy", login_strategy, &mut errors);
    let state = field(body, "state", state, &mut errors);
    match (
        application_id,
        login_id,
        login_id_types,
        login_strategy,
        state,
    ) {
        (
            Some(application_id),
            Some(login_id),
            Some(login_id_types),
            Some(login_strategy),
            Some(state),
        ) if errors.is_empty() => Ok(StartCommand {
            application_id,
            login_id,
            login_id_types,
            login_strategy,
            state,
        }),
        _ => Err(errors),
    }
}

/// Field `name` of the body (`null` counts as absent) as `parse` reads it; its problem, if any,
/// goes into `errors`.
fn field<T>(
    body: &Map<String, Value>,
    name: &str,
    parse: fn(Option<&Value>) -> Result<T, FieldProblem>,
    errors: &mut Errors,
) -> Option<T> {
    if errors.field_errors.contains_key(name) {
        // Over its cap: that is its problem, and the only one said.
        return None;
    }
    parse(body.get(name).filter(|v| !v.is_null()))
        .map_err(|problem| errors.add_field(name, problem))
        .ok()
}

fn application_id(value: Option<&Value>) -> Result<Uuid, FieldProblem> {
    match value {
        None => Err(FieldProblem::Blank),
        Some(Value::String(s)) if s.trim().is_empty() => Err(FieldProblem::Blank),
        Some(Value::String(s)) => {
            Uuid::parse_str(s.trim()).map_err(|_| FieldProblem::CouldNotConvert)
        }
        Some(_) => Err(FieldProblem::CouldNotConvert),
    }
}

fn login_id(value: Option<&Value>) -> Result<String, FieldProblem> {
    // Its length is capped by `limits::START`, before this reads it.
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None => Err(FieldProblem::Blank),
        Some(_) => Err(FieldProblem::CouldNotConvert),
    }
}

fn login_id_types(value: Option<&Value>) -> Result<LoginIdTypes, FieldProblem> {
    match value {
        None => Ok(LoginIdTypes::default()),
        Some(Value::Array(items)) => {
            let texts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            texts
                .and_then(LoginIdTypes::parse)
                .ok_or(FieldProblem::Invalid)
        }
        Some(_) => Err(FieldProblem::CouldNotConvert),
    }
}

fn login_strategy(value: Option<&Value>) -> Result<Option<LoginStrategy>, FieldProblem> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => LoginStrategy::parse(s)
            .map(Some)
            .ok_or(FieldProblem::Invalid),
        Some(_) => Err(FieldProblem::Invalid),
    }
}

fn state(value: Option<&Value>) -> Result<Option<Map<String, Value>>, FieldProblem> {
    match value {
        None => Ok(None),
        Some(Value::Object(state)) => Ok(Some(state.clone())),
        Some(_) => Err(FieldProblem::CouldNotConvert),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_json(value: Value) -> Result<StartCommand, Errors> {
        parse(value.as_object().unwrap())
    }

    fn codes(errors: &Errors) -> Vec<String> {
        errors
            .field_errors
            .values()
            .flatten()
            .map(|e| e.code.clone())
            .collect()
    }

    #[test]
    fn a_well_formed_request_parses_and_ignores_unknown_fields() {
        let command = parse_json(json!({
            "applicationId": "10000000-0000-0002-0000-000000000001",
            "loginId": "jared@piedpiper.com",
            "loginIdTypes": [],
            "state": {"redirect_uri": "https://piedpiper.com/callback"},
            "eventInfo": {"ipAddress": "10.0.0.1"},
            "botDetectionScore": 0.1
        }))
        .unwrap();
        assert_eq!(command.login_id, "jared@piedpiper.com");
        assert_eq!(command.login_id_types, LoginIdTypes::default());
        assert!(command.state.is_some());
    }

    #[test]
    fn every_field_error_is_reported_at_once() {
        let errors = parse_json(json!({
            "applicationId": "not-a-uuid",
            "loginId": "  ",
            "loginIdTypes": ["email", "fax"],
            "loginStrategy": "Carrier pigeon"
        }))
        .unwrap_err();
        assert_eq!(
            codes(&errors),
            [
                "[couldNotConvert]applicationId",
                "[blank]loginId",
                "[invalid]loginIdTypes",
                "[invalid]loginStrategy"
            ]
        );
    }

    #[test]
    fn a_login_id_over_255_characters_is_too_long_whatever_its_bytes() {
        let at_limit = "é".repeat(crate::limits::LOGIN_ID);
        let command = parse_json(json!({
            "applicationId": "10000000-0000-0002-0000-000000000001", "loginId": at_limit
        }))
        .unwrap();
        assert_eq!(command.login_id.chars().count(), 255);
        let errors = parse_json(json!({
            "applicationId": "10000000-0000-0002-0000-000000000001",
            "loginId": format!("{}@example.com", "a".repeat(3000))
        }))
        .unwrap_err();
        assert_eq!(codes(&errors), ["[tooLong]loginId"]);
        assert_eq!(
            errors.field_errors["loginId"][0].message,
            "The [loginId] property is too long. The maximum length is [255]."
        );
    }

    #[test]
    fn missing_and_null_fields_are_blank() {
        let errors = parse_json(json!({"applicationId": null})).unwrap_err();
        assert_eq!(codes(&errors), ["[blank]applicationId", "[blank]loginId"]);
    }

    #[test]
    fn wrongly_typed_fields_could_not_be_converted() {
        let errors = parse_json(json!({
            "applicationId": 42, "loginId": ["a"], "loginIdTypes": "email", "state": "x"
        }))
        .unwrap_err();
        assert_eq!(
            codes(&errors),
            [
                "[couldNotConvert]applicationId",
                "[couldNotConvert]loginId",
                "[couldNotConvert]loginIdTypes",
                "[couldNotConvert]state"
            ]
        );
    }
}
