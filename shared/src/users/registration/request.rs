//! A Registration API request's registration: `body.registration` (with
//! `skipRegistrationVerification` beside it) read once, every field error at once.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::errors::{Errors, FieldProblem};
use crate::users::input::data_object;

/// A registration's fields of a request, parsed ([`parse_request`]).
#[derive(Clone, Debug, PartialEq)]
pub struct RegistrationRequest {
    pub application_id: Uuid,
    /// `registration.id` (a new registration only).
    pub id: Option<Uuid>,
    /// `None`: not given, so the application's default roles.
    pub roles: Option<Vec<String>>,
    pub data: Map<String, Value>,
    pub preferred_languages: Vec<String>,
    pub timezone: Option<String>,
    pub username: Option<String>,
    /// `skipRegistrationVerification`: the registration is verified at once.
    pub skip_verification: bool,
}

/// Longest `registration.username`, `registration.timezone`, preferred language, role name.
const USERNAME_MAX: usize = 255;
const TIMEZONE_MAX: usize = 64;
const LANGUAGE_MAX: usize = 64;
const ROLE_MAX: usize = 255;
/// FusionAuth's cap on `preferredLanguages`.
const LANGUAGES_MAX: usize = 20;

/// Reads `body.registration` (with `skipRegistrationVerification` beside it), every field error
/// at once; `path_application` (the URL's, which wins over the body's) fills a missing
/// `registration.applicationId`. `null` counts as absent; unknown fields are ignored.
pub fn parse_request(
    body: &Map<String, Value>,
    path_application: Option<Uuid>,
) -> Result<RegistrationRequest, Errors> {
    let mut errors = Errors::default();
    let empty = Map::new();
    let registration = match body.get("registration") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(registration)) => registration,
        Some(_) => {
            errors.add_field("registration", FieldProblem::CouldNotConvert);
            return Err(errors);
        }
    };
    let field = |name: &str| registration.get(name).filter(|v| !v.is_null());
    let application_id = match (path_application, field("applicationId")) {
        (Some(id), _) => Some(id),
        (None, None) => {
            errors.add_field("registration.applicationId", FieldProblem::Blank);
            None
        }
        (None, Some(value)) => uuid(value)
            .map_err(|p| errors.add_field("registration.applicationId", p))
            .ok(),
    };
    let id = field("id")
        .map(uuid)
        .transpose()
        .map_err(|p| errors.add_field("registration.id", p))
        .ok()
        .flatten();
    let roles = field("roles")
        .map(|v| texts(v, ROLE_MAX, usize::MAX))
        .transpose()
        .map_err(|p| errors.add_field("registration.roles", p))
        .ok()
        .flatten();
    let data = data_object(field("data")).unwrap_or_else(|problem| {
        errors.add_field("registration.data", problem);
        Map::new()
    });
    let preferred_languages = field("preferredLanguages")
        .map(|v| texts(v, LANGUAGE_MAX, LANGUAGES_MAX))
        .transpose()
        .map_err(|p| errors.add_field("registration.preferredLanguages", p))
        .ok()
        .flatten()
        .unwrap_or_default();
    let timezone = optional_text(field("timezone"), TIMEZONE_MAX)
        .map_err(|p| errors.add_field("registration.timezone", p))
        .ok()
        .flatten();
    let username = optional_text(field("username"), USERNAME_MAX)
        .map_err(|p| errors.add_field("registration.username", p))
        .ok()
        .flatten();
    let skip_verification = match body.get("skipRegistrationVerification") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(skip)) => *skip,
        Some(_) => {
            errors.add_field(
                "skipRegistrationVerification",
                FieldProblem::CouldNotConvert,
            );
            false
        }
    };
    match application_id {
        Some(application_id) if errors.is_empty() => Ok(RegistrationRequest {
            application_id,
            id,
            roles,
            data,
            preferred_languages,
            timezone,
            username,
            skip_verification,
        }),
        _ => Err(errors),
    }
}

pub(super) fn uuid(value: &Value) -> Result<Uuid, FieldProblem> {
    match value {
        Value::String(s) if s.trim().is_empty() => Err(FieldProblem::Blank),
        Value::String(s) if s.len() <= crate::limits::ID => {
            Uuid::parse_str(s.trim()).map_err(|_| FieldProblem::CouldNotConvert)
        }
        _ => Err(FieldProblem::CouldNotConvert),
    }
}

/// A list of texts, each at most `max_chars`, at most `max_items` of them, duplicates dropped.
fn texts(value: &Value, max_chars: usize, max_items: usize) -> Result<Vec<String>, FieldProblem> {
    let Value::Array(items) = value else {
        return Err(FieldProblem::CouldNotConvert);
    };
    if items.len() > max_items {
        return Err(FieldProblem::Invalid);
    }
    let mut texts: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let text = item.as_str().ok_or(FieldProblem::CouldNotConvert)?;
        if text.chars().count() > max_chars {
            return Err(FieldProblem::TooLong { max: max_chars });
        }
        if !texts.iter().any(|t| t == text) {
            texts.push(text.to_owned());
        }
    }
    Ok(texts)
}

fn optional_text(value: Option<&Value>, max_chars: usize) -> Result<Option<String>, FieldProblem> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max_chars => {
            Err(FieldProblem::TooLong { max: max_chars })
        }
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(FieldProblem::CouldNotConvert),
    }
}
