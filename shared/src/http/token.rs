//! `POST /oauth2/token` (RFC 6749 3.2, 4.1.3, 5; RFC 7636 4.5): a form-encoded body, the client
//! by HTTP Basic (RFC 6749 2.3.1) or in the body; the answer FusionAuth's token response, or RFC
//! 6749's error body with FusionAuth's `error_reason` ([`super::oauth_error`]). Nothing here is
//! cached (`Cache-Control: no-store`, `Pragma: no-cache`).

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::oauth_error::{self, ErrorCode};
use super::{header_str, MAX_BODY_BYTES};
use crate::oauth2::token::TokenServices;
use crate::oauth2::token::{
    self, form_decode, AuthorizationCodeGrant, ClientCredentials, ClientSecret, RefreshTokenGrant,
    TokenError, Tokens,
};

/// What `Authorization` said: nothing, Basic credentials, or something unreadable.
type BasicHeader = Option<Option<(String, Option<ClientSecret>)>>;

pub async fn handle(services: &TokenServices, request: Request) -> Response<Body> {
    let used_basic = request.headers().contains_key(header::AUTHORIZATION);
    let result = match parse(&request) {
        Ok(form) => {
            let result = grant(services, &request, &form).await;
            let code_grant = form
                .get("grant_type")
                .is_some_and(|g| g == "authorization_code");
            if let Err(error) = &result {
                if code_grant && oauth_error::wire(error).1.error == ErrorCode::InvalidGrant {
                    crate::metrics::refused_code();
                }
            }
            result
        }
        Err(error) => Err(error),
    };
    if let Err(TokenError::Dependency(e)) = &result {
        crate::metrics::dependency_failure(e.operation);
    }
    respond(result, used_basic)
}

async fn grant(
    services: &TokenServices,
    request: &Request,
    form: &HashMap<String, String>,
) -> Result<Tokens, TokenError> {
    let basic: BasicHeader = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().ok().and_then(basic_credentials));
    let field = |name: &str| form.get(name).filter(|v| !v.is_empty()).cloned();
    match form.get("grant_type").map(String::as_str) {
        None | Some("") => Err(TokenError::MissingGrantType),
        Some("authorization_code") => {
            let client = client(form, basic)?;
            let code = field("code").ok_or(TokenError::MissingCode)?;
            let redirect_uri = field("redirect_uri").ok_or(TokenError::MissingRedirectUri)?;
            let grant = AuthorizationCodeGrant {
                client,
                code,
                redirect_uri,
                code_verifier: field("code_verifier"),
            };
            token::exchange_code(services, grant).await
        }
        Some("refresh_token") => {
            let refresh_token = field("refresh_token").ok_or(TokenError::MissingRefreshToken)?;
            let client = client(form, basic)?;
            let grant = RefreshTokenGrant {
                client,
                refresh_token,
            };
            token::exchange_refresh_token(services, grant).await
        }
        Some(_) => Err(TokenError::UnsupportedGrantType),
    }
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
        Err(error) => {
            if let TokenError::Dependency(e) = &error {
                tracing::error!(error = %e, "a dependency failed");
            }
            let (status, body) = oauth_error::wire(&error);
            let mut response = json_response(status, &body);
            if status == StatusCode::UNAUTHORIZED && used_basic {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"oauth2\""),
                );
            }
            response
        }
    }
}

/// The form body, each parameter at most once (RFC 6749 3.2).
fn parse(request: &Request) -> Result<HashMap<String, String>, TokenError> {
    let content_type = header_str(request, "content-type").unwrap_or_default();
    if !content_type
        .trim()
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(TokenError::NotAForm);
    }
    let bytes: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(TokenError::BodyTooLarge);
    }
    let mut form = HashMap::new();
    for (name, value) in form_urlencoded::parse(bytes).into_owned() {
        if let Some(name) = crate::limits::form_field_over(
            [(name.as_str(), value.as_str())],
            crate::limits::TOKEN_FORM,
        ) {
            // Named when it is one this endpoint reads: a client's own names are not echoed.
            let named = crate::limits::of(crate::limits::TOKEN_FORM, name).is_some();
            let name = if named { name } else { "a parameter" };
            return Err(TokenError::ParameterTooLong(name.to_owned()));
        }
        if form.insert(name, value).is_some() {
            return Err(TokenError::RepeatedParameter);
        }
    }
    Ok(form)
}

/// `Basic base64(id:secret)`: RFC 6749 2.3.1 form-encodes both before the base64, many clients
/// do not, so both readings are taken (the id is a UUID either way; the secret keeps both).
fn basic_credentials(header: &str) -> Option<(String, Option<ClientSecret>)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let id = match Uuid::parse_str(id) {
        Ok(_) => id.to_owned(),
        Err(_) => form_decode(id),
    };
    // `id:` is a public client naming itself.
    Some((
        id,
        (!secret.is_empty()).then(|| ClientSecret::from_basic(secret)),
    ))
}

/// The client from Basic and the body; both may name it, but not differently, and the secret in
/// one place only. An unreadable `Authorization` header is a failed authentication.
fn client(
    form: &HashMap<String, String>,
    basic: BasicHeader,
) -> Result<ClientCredentials, TokenError> {
    let body_id = form.get("client_id").filter(|v| !v.is_empty());
    let body_secret = form.get("client_secret").filter(|v| !v.is_empty());
    match basic {
        Some(None) => Err(TokenError::InvalidClientAuthenticationScheme),
        Some(Some((id, secret))) => {
            if body_id.is_some_and(|b| *b != id) {
                return Err(TokenError::ClientIdMismatch);
            }
            if body_secret.is_some() {
                return Err(TokenError::InvalidClientAuthenticationScheme);
            }
            Ok(ClientCredentials {
                client_id: id,
                client_secret: secret,
            })
        }
        None => match body_id {
            Some(id) => Ok(ClientCredentials {
                client_id: id.clone(),
                client_secret: body_secret.map(|s| ClientSecret::from_body(s)),
            }),
            None => Err(TokenError::MissingClientId),
        },
    }
}

fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response<Body> {
    let mut response = super::json(status, body);
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
