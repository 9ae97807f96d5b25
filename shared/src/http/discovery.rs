//! `GET /.well-known/openid-configuration` and `GET /{tenantId}/.well-known/openid-configuration`:
//! anonymous. The tenant is the path's, else `?tenantId=`, else `X-FusionAuth-TenantId`, else the
//! default tenant (the first of the kickstart); an unknown one is 404.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use uuid::Uuid;

use super::{base_url, query_param, query_params, tenant_header};
use crate::keys::{self, KeyServices};

pub async fn handle(services: &KeyServices, request: Request) -> Response<Body> {
    let path = request.uri().path();
    let in_path = path
        .strip_suffix("/.well-known/openid-configuration")
        .map(|prefix| prefix.trim_matches('/'))
        .filter(|prefix| !prefix.is_empty());
    let params = query_params(&request);
    let named = in_path
        .or_else(|| query_param(&params, "tenantId"))
        .or_else(|| {
            tenant_header(&request)
                .map(str::trim)
                .filter(|h| !h.is_empty())
        });
    let named = match named.map(Uuid::parse_str) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return super::empty(StatusCode::NOT_FOUND),
    };
    match keys::discovery_tenant(services, named).await {
        Ok(Some((tenant, published))) => super::public_json(
            &keys::openid_configuration(&tenant, &published, &base_url(&request)),
            super::keys::MAX_AGE_SECONDS,
        ),
        Ok(None) => super::empty(StatusCode::NOT_FOUND),
        Err(error) => super::dependency_failed(&error),
    }
}
