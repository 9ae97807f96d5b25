//! `POST /api/passwordless/login`: completing a login comes with its own issue; until then
//! the function answers 501 with an `Errors` body so that nobody mistakes it for a working login.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use crate::errors::Errors;
use crate::ports::Services;

pub async fn handle(_services: &Services, _request: Request) -> Response<Body> {
    super::errors(
        StatusCode::NOT_IMPLEMENTED,
        &Errors::general("[NotImplemented]", "Login is not available yet."),
    )
}
