//! `GET /.well-known/jwks.json` and `GET /api/jwt/public-key` (by `kid`, by `applicationId`, or
//! all): anonymous, cacheable for [`MAX_AGE_SECONDS`].

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use uuid::Uuid;

use super::{query_param, query_params};
use crate::keys::{self, KeyServices, PublicKeyQuery};

/// How long clients and CDNs may keep public keys: a rotated-in key is published before it signs
/// (README), so five minutes of staleness costs nothing.
pub const MAX_AGE_SECONDS: u32 = 300;

pub async fn json_web_key_set(services: &KeyServices) -> Response<Body> {
    match services.directory.published().await {
        Ok(published) => super::public_json(&keys::json_web_key_set(&published), MAX_AGE_SECONDS),
        Err(error) => super::dependency_failed(&error),
    }
}

pub async fn public_key(services: &KeyServices, request: Request) -> Response<Body> {
    let params = query_params(&request);
    let id = |name: &str| query_param(&params, name).map(|v| Uuid::parse_str(v).ok());
    let kid = query_param(&params, "kid").map(|v| Some(v.to_owned()));
    let query = match (kid, id("applicationId")) {
        (Some(Some(kid)), _) => PublicKeyQuery::KeyId(kid),
        (None, Some(Some(app))) => PublicKeyQuery::Application(app),
        (None, None) => PublicKeyQuery::All,
        // An id that is not a UUID names no key of ours.
        _ => return super::empty(StatusCode::NOT_FOUND),
    };
    match keys::public_keys(services, query).await {
        Ok(Some(found)) => super::public_json(&found, MAX_AGE_SECONDS),
        Ok(None) => super::empty(StatusCode::NOT_FOUND),
        Err(error) => super::dependency_failed(&error),
    }
}
