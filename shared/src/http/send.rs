//! `POST /api/passwordless/send`: delivery by email and SMS comes with its own issue; until then
//! the function answers 501 with an `Errors` body so that nobody mistakes it for a working send.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use crate::errors::Errors;
use crate::start::Services;

pub async fn handle(_services: &Services, _request: Request) -> Response<Body> {
    super::errors(
        StatusCode::NOT_IMPLEMENTED,
        &Errors::general("[NotImplemented]", "Send is not available yet."),
    )
}
