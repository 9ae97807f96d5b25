//! `GET /api/jwt/validate`: the JWT in `Authorization: Bearer …` (else the `access_token`
//! cookie). 200 `{"jwt": claims}` when one of our keys signed it with its own algorithm and it
//! has not expired; 401 with no body otherwise, whatever the reason.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{cookie, header_str};
use crate::keys::{self, KeyServices};

pub async fn handle(services: &KeyServices, request: Request) -> Response<Body> {
    let bearer = header_str(&request, "authorization").and_then(|h| {
        let (scheme, token) = h.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned())
    });
    let token = bearer.or_else(|| cookie(&request, "access_token"));
    // No JWT of ours is longer: a longer one is refused as any token that does not validate.
    let Some(token) = token.filter(|t| crate::limits::within(t, crate::limits::JWT)) else {
        return super::empty(StatusCode::UNAUTHORIZED);
    };
    match keys::validate(services, &token).await {
        Ok(Ok(claims)) => super::json(StatusCode::OK, &json!({ "jwt": claims })),
        Ok(Err(_)) => super::empty(StatusCode::UNAUTHORIZED),
        Err(error) => super::dependency_failed(&error),
    }
}
