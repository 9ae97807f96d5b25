//! The HTTP edge: what every function does with API Gateway's request before the use case, and
//! how every outcome becomes a response. A handler never returns `Err`: API Gateway would turn it
//! into an opaque 502.

pub mod login;
pub mod send;
pub mod start;

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::Value;

use crate::errors::Errors;

/// Request bodies larger than this are refused with 413 before parsing. The largest legitimate
/// body (a start with a generous `state`) is a few kilobytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub const TENANT_HEADER: &str = "x-fusionauth-tenantid";
const JSON: &str = "application/json; charset=UTF-8";

/// A header's value as text; a value that is not valid text counts as absent.
pub fn header_str<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The tenant an anonymous call (send, login) is scoped to. An unreadable header scopes to no
/// tenant at all, so nothing matches it.
pub fn tenant_scope(request: &Request) -> Option<uuid::Uuid> {
    match header_str(request, TENANT_HEADER).map(str::trim) {
        None | Some("") => None,
        Some(h) => Some(uuid::Uuid::parse_str(h).unwrap_or(uuid::Uuid::nil())),
    }
}

/// The body as a JSON object, or the response that refuses it: 413 when it is too large, 400
/// `[invalidJSON]` when it is not a JSON object.
#[allow(clippy::result_large_err)]
pub fn json_object(request: &Request) -> Result<serde_json::Map<String, Value>, Response<Body>> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(errors(
            StatusCode::PAYLOAD_TOO_LARGE,
            &Errors::general(
                "[tooLarge]body",
                format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
            ),
        ));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(errors(
            StatusCode::BAD_REQUEST,
            &Errors::general(
                "[invalidJSON]",
                "Unable to parse the request body as a JSON object.",
            ),
        )),
    }
}

fn base(status: StatusCode) -> lambda_http::http::response::Builder {
    Response::builder()
        .status(status)
        .header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// A JSON response with FusionAuth's content type.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(body) => base(status)
            .header(header::CONTENT_TYPE, JSON)
            .body(Body::Text(body))
            .unwrap_or_else(|_| internal_error()),
        Err(_) => internal_error(),
    }
}

/// A response without a body and without a JSON content type (FusionAuth's 401, 404, …).
pub fn empty(status: StatusCode) -> Response<Body> {
    base(status)
        .body(Body::Empty)
        .unwrap_or_else(|_| internal_error())
}

pub fn errors(status: StatusCode, errors: &Errors) -> Response<Body> {
    json(status, errors)
}

/// 500 with an `Errors` body; the cause goes to the log, never to the client.
pub fn dependency_failed(error: &dyn std::fmt::Display) -> Response<Body> {
    tracing::error!(error = %error, "a dependency failed");
    errors(
        StatusCode::INTERNAL_SERVER_ERROR,
        &Errors::general(
            "[InternalError]",
            "The request could not be completed. Try again later.",
        ),
    )
}

fn internal_error() -> Response<Body> {
    let mut response = Response::new(Body::Text(
        r#"{"fieldErrors":{},"generalErrors":[{"code":"[InternalError]","message":"The request could not be completed."}]}"#.to_owned(),
    ));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}
