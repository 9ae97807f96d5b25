//! `DELETE /api/jwt/refresh` (and `/api/jwt/refresh/{tokenId}`): with an API key, as the
//! FusionAuth clients' `revoke_refresh_token*` calls send it: the token id as a path segment,
//! else `token`, `userId` (with `applicationId`) or `applicationId` in the query string, a JSON
//! body or a form-encoded one (`application/x-www-form-urlencoded`, as an OAuth-minded client
//! sends a token). 200 with no body; 401 without a valid key; 404 with no body for an unknown
//! token, token id, user or application (FusionAuth: "the object doesn't exist"); 400 when
//! nothing is named or an id is no UUID.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use uuid::Uuid;

use super::{header_str, optional_json_object, query_param, query_params, tenant_header};
use crate::errors::{Errors, FieldProblem};
use crate::refresh::{self, RefreshServices, Revocation, RevokeOutcome};
use crate::start::{self, Credentials, StartError};

pub const PATH: &str = "/api/jwt/refresh";

pub async fn handle(services: &RefreshServices, request: Request) -> Response<Body> {
    let credentials = Credentials {
        api_key: header_str(&request, "authorization"),
        tenant_header: tenant_header(&request),
        method: "DELETE",
    };
    let scope = match start::authorize(services.directory.as_ref(), credentials, PATH).await {
        Ok(scope) => scope,
        Err(StartError::Invalid(errors)) => return super::errors(StatusCode::BAD_REQUEST, &errors),
        Err(StartError::Dependency(error)) => return super::dependency_failed(&error),
        Err(_) => return super::empty(StatusCode::UNAUTHORIZED),
    };
    let revocation = match parse(&request) {
        Ok(revocation) => revocation,
        Err(response) => return response,
    };
    match refresh::revoke(services, scope.tenant_id, revocation).await {
        Ok(RevokeOutcome::Revoked) => super::empty(StatusCode::OK),
        Ok(RevokeOutcome::NotFound) => super::empty(StatusCode::NOT_FOUND),
        Ok(RevokeOutcome::UnknownUser | RevokeOutcome::UnknownApplication) => {
            super::empty(StatusCode::NOT_FOUND)
        }
        Err(error) => super::dependency_failed(&error),
    }
}

/// What the request names, in FusionAuth's order: the token id, the token, the user (and
/// application), the application.
#[allow(clippy::result_large_err)]
fn parse(request: &Request) -> Result<Revocation, Response<Body>> {
    let bad = |field: &str, problem| {
        super::errors(StatusCode::BAD_REQUEST, &Errors::field(field, problem))
    };
    let segment = request
        .uri()
        .path()
        .strip_prefix(PATH)
        .map(|rest| rest.trim_matches('/'))
        .filter(|rest| !rest.is_empty());
    if let Some(segment) = segment {
        return match Uuid::parse_str(segment) {
            Ok(id) => Ok(Revocation::TokenId(id)),
            // Not an id of ours: nothing by that id.
            Err(_) => Err(super::empty(StatusCode::NOT_FOUND)),
        };
    }
    let params = query_params(request);
    let body = if is_form(request) {
        form_object(request)
    } else {
        optional_json_object(request)?
    };
    let field = |name: &str| -> Result<Option<String>, Response<Body>> {
        let text = query_param(&params, name).or_else(|| body.get(name).and_then(Value::as_str));
        if let (Some(text), Some(max)) = (text, crate::limits::of(crate::limits::REVOKE, name)) {
            if !crate::limits::within(text, max) {
                return Err(bad(name, FieldProblem::TooLong { max }));
            }
        }
        if let Some(value) = query_param(&params, name) {
            return Ok(Some(value.to_owned()));
        }
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(_) => Err(bad(name, FieldProblem::CouldNotConvert)),
        }
    };
    let id = |name: &str| -> Result<Option<Uuid>, Response<Body>> {
        match field(name)? {
            None => Ok(None),
            Some(text) => Uuid::parse_str(&text)
                .map(Some)
                .map_err(|_| bad(name, FieldProblem::CouldNotConvert)),
        }
    };
    if let Some(token) = field("token")? {
        return Ok(Revocation::Token(token));
    }
    match (id("userId")?, id("applicationId")?) {
        (Some(user), Some(app)) => Ok(Revocation::UserApplication(user, app)),
        (Some(user), None) => Ok(Revocation::User(user)),
        (None, Some(app)) => Ok(Revocation::Application(app)),
        (None, None) => Err(super::errors(
            StatusCode::BAD_REQUEST,
            &Errors::general(
                "[invalid]",
                "Name what to revoke: a tokenId, a token, a userId (with an applicationId) or an applicationId.",
            ),
        )),
    }
}

fn is_form(request: &Request) -> bool {
    header_str(request, "content-type").is_some_and(|t| {
        t.trim()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    })
}

/// A form-encoded body's fields as text, the first of a repeated name.
fn form_object(request: &Request) -> serde_json::Map<String, Value> {
    let bytes: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    let mut fields = serde_json::Map::new();
    for (name, value) in form_urlencoded::parse(bytes).into_owned() {
        fields.entry(name).or_insert(Value::String(value));
    }
    fields
}
