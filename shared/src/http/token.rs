//! `POST /oauth2/token` (RFC 6749 3.2, 4.1.3, 5; RFC 7636 4.5): a form-encoded body, the client
//! by HTTP Basic (RFC 6749 2.3.1) or in the body; the answer FusionAuth's token response, or RFC
//! 6749's error body. Nothing here is cached (`Cache-Control: no-store`, `Pragma: no-cache`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};

use super::{header_str, MAX_BODY_BYTES};
use crate::oauth2::token::TokenServices;
use crate::oauth2::token::{
    self, AuthorizationCodeGrant, ClientCredentials, RefreshTokenGrant, TokenError, Tokens,
};

pub async fn handle(services: &TokenServices, request: Request) -> Response<Body> {
    let form = match parse(&request) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let basic = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().ok().and_then(basic_credentials));
    let client = match client(&form, basic) {
        Ok(client) => client,
        Err(response) => return response,
    };
    let used_basic = request.headers().contains_key(header::AUTHORIZATION);
    let field = |name: &str| form.get(name).filter(|v| !v.is_empty()).cloned();
    let result = match form.get("grant_type").map(String::as_str) {
        None | Some("") => return invalid_request("grant_type is required"),
        Some("authorization_code") => {
            let (Some(code), Some(redirect_uri)) = (field("code"), field("redirect_uri")) else {
                return invalid_request("code and redirect_uri are required");
            };
            token::exchange_code(
                services,
                AuthorizationCodeGrant {
                    client,
                    code,
                    redirect_uri,
                    code_verifier: field("code_verifier"),
                },
            )
            .await
        }
        Some("refresh_token") => {
            let Some(refresh_token) = field("refresh_token") else {
                return invalid_request("refresh_token is required");
            };
            token::exchange_refresh_token(
                services,
                RefreshTokenGrant {
                    client,
                    refresh_token,
                },
            )
            .await
        }
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )
        }
    };
    let code_grant = form
        .get("grant_type")
        .is_some_and(|g| g == "authorization_code");
    if code_grant && matches!(result, Err(TokenError::InvalidGrant)) {
        crate::metrics::refused_code();
    }
    respond(result, used_basic)
}

/// The one place a token result becomes a response.
fn respond(result: Result<Tokens, TokenError>, used_basic: bool) -> Response<Body> {
    match result {
        Ok(tokens) => {
            let mut body = Map::new();
            body.insert("access_token".into(), json!(tokens.access_token));
            body.insert("expires_in".into(), json!(tokens.expires_in));
            if let Some(id_token) = tokens.id_token {
                body.insert("id_token".into(), json!(id_token));
            }
            if let Some(refresh) = tokens.refresh_token {
                body.insert("refresh_token".into(), json!(refresh));
            }
            if let Some(id) = tokens.refresh_token_id {
                body.insert("refresh_token_id".into(), json!(id));
            }
            if !tokens.scope.is_empty() {
                body.insert("scope".into(), json!(tokens.scope));
            }
            body.insert("token_type".into(), json!("Bearer"));
            body.insert("userId".into(), json!(tokens.user_id));
            json_response(StatusCode::OK, &Value::Object(body))
        }
        Err(TokenError::InvalidRequest(why)) => invalid_request(why),
        Err(TokenError::InvalidClient) => {
            let mut response = error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            );
            if used_basic {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"oauth2\""),
                );
            }
            response
        }
        Err(TokenError::InvalidGrant) => error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code is invalid, expired or used, or does not match the request",
        ),
        Err(TokenError::Dependency(e)) => {
            tracing::error!(error = %e, "a dependency failed");
            crate::metrics::dependency_failure(e.operation);
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the request could not be completed; try again later",
            )
        }
    }
}

/// The form body, each parameter at most once (RFC 6749 3.2).
#[allow(clippy::result_large_err)]
fn parse(request: &Request) -> Result<std::collections::HashMap<String, String>, Response<Body>> {
    let content_type = header_str(request, "content-type").unwrap_or_default();
    if !content_type
        .trim()
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let bytes: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "the body is too large",
        ));
    }
    let mut form = std::collections::HashMap::new();
    for (name, value) in form_urlencoded::parse(bytes).into_owned() {
        if crate::limits::form_field_over(
            [(name.as_str(), value.as_str())],
            crate::limits::TOKEN_FORM,
        )
        .is_some()
        {
            return Err(invalid_request(&format!("{name} is too long")));
        }
        if form.insert(name, value).is_some() {
            return Err(invalid_request("a parameter is repeated"));
        }
    }
    Ok(form)
}

/// `Basic base64(urlencode(id):urlencode(secret))`.
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// The client from Basic and the body; both may name it, but not differently, and the secret in
/// one place only. An unreadable `Authorization` header is a failed authentication.
#[allow(clippy::result_large_err)]
fn client(
    form: &std::collections::HashMap<String, String>,
    basic: Option<Option<(String, String)>>,
) -> Result<ClientCredentials, Response<Body>> {
    let body_id = form.get("client_id").filter(|v| !v.is_empty());
    let body_secret = form.get("client_secret").filter(|v| !v.is_empty());
    match basic {
        Some(None) => Err(respond(Err(TokenError::InvalidClient), true)),
        Some(Some((id, secret))) => {
            if body_id.is_some_and(|b| *b != id) || body_secret.is_some() {
                return Err(invalid_request(
                    "the client is named both in Authorization and in the body",
                ));
            }
            Ok(ClientCredentials {
                client_id: id,
                client_secret: Some(secret).filter(|s| !s.is_empty()),
            })
        }
        None => match body_id {
            Some(id) => Ok(ClientCredentials {
                client_id: id.clone(),
                client_secret: body_secret.cloned(),
            }),
            None => Err(invalid_request("client_id is required")),
        },
    }
}

fn invalid_request(description: &str) -> Response<Body> {
    error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn error(status: StatusCode, code: &str, description: &str) -> Response<Body> {
    json_response(
        status,
        &json!({"error": code, "error_description": description}),
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = super::json(status, body);
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
