//! `POST /api/logout`, anonymous, as FusionAuth's clients send it: `global` and `refreshToken` in
//! the query string (`logout(global, refresh_token)`) or a JSON body (`logout_with_request`),
//! the `refresh_token` and `fusionauth.sso` cookies, `X-FusionAuth-TenantId`. The parameter wins
//! over the cookie. 200 with no body, and the `access_token`, `refresh_token` and
//! `fusionauth.sso` cookies expired, whatever the token was; 400 for a `global` that is no
//! boolean, a value over its cap, or a tenant header that is no tenant id.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

use super::logout::clear_session_cookie;
use super::{
    cookie, optional_json_object, query_params, served_over_plain_loopback, tenant_header,
};
use crate::errors::{Errors, FieldProblem};
use crate::limits;
use crate::oauth2::api_logout::{self, ApiLogoutCommand};
use crate::oauth2::logout::LogoutServices;
use crate::oauth2::sso::SSO_COOKIE;

pub const PATH: &str = "/api/logout";

pub async fn handle(services: &LogoutServices, request: Request) -> Response<Body> {
    let command = match parse(&request) {
        Ok(command) => command,
        Err(response) => return *response,
    };
    match api_logout::api_logout(services, command).await {
        Ok(_) => {
            let mut response = super::empty(StatusCode::OK);
            expire_cookies(&mut response, served_over_plain_loopback(&request));
            response
        }
        Err(error) => super::dependency_failed(&error),
    }
}

fn parse(request: &Request) -> Result<ApiLogoutCommand, Box<Response<Body>>> {
    let bad = |errors: &Errors| Box::new(super::errors(StatusCode::BAD_REQUEST, errors));
    // As start answers a tenant header that is no tenant id.
    let tenant_scope = match tenant_header(request).map(str::trim) {
        None | Some("") => None,
        Some(header) => match uuid::Uuid::parse_str(header) {
            Ok(id) => Some(id),
            Err(_) => {
                return Err(bad(&Errors::general(
                    "[invalid]tenantId",
                    "The X-FusionAuth-TenantId header is not a valid tenant Id.",
                )))
            }
        },
    };
    let body = optional_json_object(request).map_err(Box::new)?;
    let over = limits::json_fields_over(&body, limits::API_LOGOUT);
    if !over.is_empty() {
        return Err(bad(&over));
    }
    let query = query_params(request);
    for (name, value) in &query {
        if let Some(max) = limits::of(limits::API_LOGOUT, name) {
            if !limits::within(value, max) {
                return Err(bad(&Errors::field(name, FieldProblem::TooLong { max })));
            }
        }
    }
    let from_query = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let global = match body.get("global") {
        Some(Value::Bool(global)) => Some(*global),
        Some(Value::Null) | None => None,
        Some(Value::String(text)) => Some(boolean(text).ok_or_else(|| not_boolean(&bad))?),
        Some(_) => return Err(not_boolean(&bad)),
    };
    let global = match (global, from_query("global")) {
        (Some(global), _) => global,
        (None, Some(text)) => boolean(&text).ok_or_else(|| not_boolean(&bad))?,
        (None, None) => false,
    };
    let refresh_token = body
        .get("refreshToken")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .or_else(|| from_query("refreshToken"))
        .or_else(|| cookie(request, "refresh_token").filter(|t| !t.is_empty()));
    Ok(ApiLogoutCommand {
        global,
        refresh_token,
        session_cookie: cookie(request, SSO_COOKIE),
        access_token: cookie(request, "access_token").filter(|t| limits::within(t, limits::JWT)),
        tenant_scope,
    })
}

/// `true`/`false` in any case (the Python client sends `True`).
fn boolean(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn not_boolean(bad: &impl Fn(&Errors) -> Box<Response<Body>>) -> Box<Response<Body>> {
    bad(&Errors::field("global", FieldProblem::CouldNotConvert))
}

/// The cookies a login sets, expired with the attributes they were set with.
fn expire_cookies(response: &mut Response<Body>, plain_loopback: bool) {
    let secure = if plain_loopback { "" } else { "; Secure" };
    for name in ["access_token", "refresh_token"] {
        let cookie = format!("{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax{secure}");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    clear_session_cookie(response);
}
