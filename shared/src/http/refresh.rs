//! `POST /api/jwt/refresh`: anonymous. The refresh token comes from the `refresh_token` cookie,
//! else the body's `refreshToken` (FusionAuth: the cookie wins). The body's
//! `timeToLiveInSeconds` asks for a shorter-lived JWT (capped at the configured lifetime; not a
//! positive whole number: 400 `[invalid]timeToLiveInSeconds`). Every refusal is FusionAuth's
//! 400 `[invalid]refreshToken`, whatever its reason.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};

use super::{cookie, optional_json_object, served_over_plain_loopback, set_token_cookies};
use crate::errors::{Errors, FieldProblem};
use crate::refresh::{self, ExchangeOutcome, RefreshServices};

pub async fn handle(services: &RefreshServices, request: Request) -> Response<Body> {
    let body = match optional_json_object(&request) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let over = crate::limits::json_fields_over(&body, crate::limits::REFRESH);
    if !over.is_empty() {
        return super::errors(StatusCode::BAD_REQUEST, &over);
    }
    let from_body = match body.get("refreshToken") {
        None | Some(Value::Null) => None,
        Some(Value::String(token)) => Some(token.clone()),
        Some(_) => {
            return super::errors(
                StatusCode::BAD_REQUEST,
                &Errors::field("refreshToken", FieldProblem::CouldNotConvert),
            )
        }
    };
    let jwt_seconds = match body.get("timeToLiveInSeconds") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(seconds) if seconds > 0 => Some(seconds),
            _ => {
                return super::errors(
                    StatusCode::BAD_REQUEST,
                    &Errors::field("timeToLiveInSeconds", FieldProblem::Invalid),
                )
            }
        },
    };
    let present = |t: &String| !t.trim().is_empty();
    let from_cookie = cookie(&request, "refresh_token").filter(present);
    if let Some(max) = crate::limits::of(crate::limits::REFRESH, "refreshToken") {
        if from_cookie
            .as_deref()
            .is_some_and(|t| !crate::limits::within(t, max))
        {
            return super::errors(
                StatusCode::BAD_REQUEST,
                &Errors::field("refreshToken", FieldProblem::TooLong { max }),
            );
        }
    }
    let Some(token) = from_cookie.or(from_body.filter(present)) else {
        return super::errors(
            StatusCode::BAD_REQUEST,
            &Errors::field("refreshToken", FieldProblem::Missing),
        );
    };
    let scope = super::tenant_scope(&request);
    match refresh::exchange_lasting(services, scope, token.trim(), jwt_seconds).await {
        Ok(ExchangeOutcome::Exchanged(exchanged)) => {
            let mut response = super::json(
                StatusCode::OK,
                &json!({
                    "token": exchanged.access_token.token,
                    "refreshToken": exchanged.refresh_token.token,
                    "refreshTokenId": exchanged.refresh_token.id,
                }),
            );
            set_token_cookies(
                &mut response,
                Some(&exchanged.access_token),
                Some(&exchanged.refresh_token),
                served_over_plain_loopback(&request),
            );
            response
        }
        Ok(ExchangeOutcome::Refused) => super::errors(
            StatusCode::BAD_REQUEST,
            &Errors::field("refreshToken", FieldProblem::Invalid),
        ),
        Err(error) => super::dependency_failed(&error),
    }
}
