//! `GET` and `POST /oauth2/userinfo` (OIDC Core 5.3, RFC 6750): the access token in
//! `Authorization: Bearer …` and nowhere else (a token in a URL ends up in logs and histories, so
//! one in the query string, or in a form body, is refused as a malformed request).
//!
//! Answers: 200 with the claims ([`crate::oauth2::userinfo`]) and never a `WWW-Authenticate`
//! (oauth4webapi refuses a userinfo response with one); 401 with a bare `Bearer realm` challenge
//! when no token was sent (RFC 6750 3.1: no error code); 401 `invalid_token`, 403
//! `insufficient_scope` and 400 `invalid_request` each with its challenge and an OAuth JSON body.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{base_url, query_params};
use crate::keys::KeyServices;
use crate::oauth2::userinfo::{userinfo, UserinfoError};

/// What the request presents.
#[derive(Debug, PartialEq, Eq)]
enum Presented {
    Token(String),
    /// No credentials at all (or another scheme's): the bare challenge.
    Nothing,
    /// A request RFC 6750 3.1 calls malformed, with why.
    Malformed(&'static str),
}

pub async fn handle(services: &KeyServices, request: Request) -> Response<Body> {
    let realm = base_url(&request);
    let token = match presented(&request) {
        Presented::Token(token) => token,
        Presented::Nothing => return challenge(StatusCode::UNAUTHORIZED, &realm, None),
        Presented::Malformed(why) => {
            return challenge(
                StatusCode::BAD_REQUEST,
                &realm,
                Some(("invalid_request", why)),
            )
        }
    };
    match userinfo(services, &token).await {
        Ok(claims) => super::json(StatusCode::OK, &claims),
        Err(UserinfoError::InvalidToken(why)) => challenge(
            StatusCode::UNAUTHORIZED,
            &realm,
            Some(("invalid_token", why)),
        ),
        Err(UserinfoError::InsufficientScope) => challenge(
            StatusCode::FORBIDDEN,
            &realm,
            Some((
                "insufficient_scope",
                "the access token was not granted the openid scope",
            )),
        ),
        Err(UserinfoError::Dependency(error)) => super::dependency_failed(&error),
    }
}

/// The bearer token of `request`, or what is wrong with it.
fn presented(request: &Request) -> Presented {
    let in_query = query_params(request)
        .iter()
        .any(|(name, _)| name == "access_token");
    let in_body = match request.body() {
        Body::Text(text) => form_has_access_token(text.as_bytes()),
        Body::Binary(bytes) => form_has_access_token(bytes),
        _ => false,
    };
    if in_query || in_body {
        return Presented::Malformed(
            "send the access token in the Authorization header, never in the URL or the body",
        );
    }
    let mut headers = request.headers().get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (headers.next(), headers.next()) else {
        return match request.headers().contains_key(header::AUTHORIZATION) {
            true => Presented::Malformed("the Authorization header is repeated"),
            false => Presented::Nothing,
        };
    };
    let Ok(value) = value.to_str() else {
        return Presented::Malformed("the Authorization header is not text");
    };
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Presented::Nothing;
    }
    let token = rest.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Presented::Malformed("the Bearer credentials are not one token");
    }
    if !crate::limits::within(token, crate::limits::JWT) {
        // No JWT of ours is longer: it is refused as any token that does not validate.
        return Presented::Token(String::new());
    }
    Presented::Token(token.to_owned())
}

fn form_has_access_token(body: &[u8]) -> bool {
    body.len() <= crate::limits::MAX_BODY_BYTES
        && form_urlencoded::parse(body).any(|(name, _)| name == "access_token")
}

/// A 4xx with RFC 6750's challenge: `Bearer realm="…"`, then the error and its description when
/// there is one (with an OAuth JSON body saying the same).
fn challenge(
    status: StatusCode,
    realm: &str,
    error: Option<(&'static str, &'static str)>,
) -> Response<Body> {
    let mut value = format!("Bearer realm=\"{}\"", realm.replace(['"', '\\'], ""));
    let mut response = match error {
        None => super::empty(status),
        Some((code, description)) => {
            value.push_str(&format!(
                ", error=\"{code}\", error_description=\"{description}\""
            ));
            if code == "insufficient_scope" {
                value.push_str(", scope=\"openid\"");
            }
            super::json(
                status,
                &json!({"error": code, "error_description": description}),
            )
        }
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(authorization: &[&str], query: &str, body: &str) -> Presented {
        let mut request = Request::new(Body::Text(body.to_owned()));
        *request.uri_mut() = format!("https://api.example.com/oauth2/userinfo?{query}")
            .parse()
            .unwrap();
        for value in authorization {
            request
                .headers_mut()
                .append(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        presented(&request)
    }

    #[test]
    fn only_one_bearer_token_in_the_authorization_header_is_read() {
        assert_eq!(
            with(&["Bearer abc.def.ghi"], "", ""),
            Presented::Token("abc.def.ghi".into())
        );
        assert_eq!(
            with(&["bearer  abc "], "", ""),
            Presented::Token("abc".into())
        );
        assert_eq!(with(&[], "", ""), Presented::Nothing);
        assert_eq!(with(&["Basic YTpi"], "", ""), Presented::Nothing);
        for malformed in [
            with(&["Bearer"], "", ""),
            with(&["Bearer a b"], "", ""),
            with(&["Bearer a", "Bearer b"], "", ""),
            with(&[], "access_token=abc", ""),
            with(&["Bearer a"], "access_token=abc", ""),
            with(&[], "", "access_token=abc"),
        ] {
            assert!(
                matches!(malformed, Presented::Malformed(_)),
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn a_challenge_names_the_realm_and_its_error_and_a_bare_one_has_no_body() {
        let bare = challenge(StatusCode::UNAUTHORIZED, "https://a.example", None);
        assert_eq!(
            bare.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"https://a.example\""
        );
        assert!(matches!(bare.body(), Body::Empty));
        let scope = challenge(
            StatusCode::FORBIDDEN,
            "https://a.example",
            Some(("insufficient_scope", "no openid")),
        );
        assert_eq!(
            scope.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"https://a.example\", error=\"insufficient_scope\", \
             error_description=\"no openid\", scope=\"openid\""
        );
    }
}
