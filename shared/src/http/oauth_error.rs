//! The token endpoint's error body on the wire (RFC 6749 5.2 with FusionAuth's `error_reason`),
//! apart from the logic that refuses: [`wire`] is the one place a [`TokenError`] becomes a status,
//! an `error`, an `error_reason` and an `error_description`.

use std::borrow::Cow;

use lambda_http::http::StatusCode;
use serde::Serialize;

use crate::oauth2::token::TokenError;

/// RFC 6749 5.2's `error` codes (and 5.2's `server_error` for a dependency that failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    ServerError,
    // The authorization endpoint's (RFC 6749 4.1.2.1, OIDC Core 3.1.2.6).
    UnsupportedResponseType,
    AccessDenied,
    LoginRequired,
}

impl ErrorCode {
    /// The code as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
        }
    }
}

/// The authorization endpoint's `error` and `error_description` for a refusal that goes back to
/// the client (RFC 6749 4.1.2.1); `None` for one that is only ever shown as a page.
pub fn authorize_wire(
    error: &crate::oauth2::authorize::AuthorizeError,
) -> Option<(ErrorCode, Cow<'static, str>)> {
    use crate::oauth2::authorize::AuthorizeError as E;
    use ErrorCode as C;
    let (code, description): (ErrorCode, Cow<'static, str>) = match error {
        E::MissingClientId
        | E::InvalidClientId
        | E::MissingRedirectUri
        | E::InvalidRedirectUri
        | E::TenantMismatch => return None,
        E::RepeatedParameter(name) => (C::InvalidRequest, format!("{name} is repeated").into()),
        E::ParameterTooLong(name) => (C::InvalidRequest, format!("{name} is too long").into()),
        E::MissingResponseType => (C::InvalidRequest, "response_type is missing".into()),
        E::UnsupportedResponseType => (
            C::UnsupportedResponseType,
            "response_type must be code".into(),
        ),
        E::UnsupportedResponseMode => (
            C::InvalidRequest,
            "response_mode must be query or form_post".into(),
        ),
        E::InvalidCodeChallenge => (
            C::InvalidRequest,
            "code_challenge must be S256 with code_challenge_method=S256".into(),
        ),
        E::MissingCodeChallenge => (
            C::InvalidRequest,
            "the client requires a code_challenge (PKCE)".into(),
        ),
        E::InvalidPrompt => (C::InvalidRequest, "prompt is invalid".into()),
        E::InvalidMaxAge => (C::InvalidRequest, "max_age is invalid".into()),
        E::PasswordlessDisabled => (
            C::UnauthorizedClient,
            "passwordless login is not enabled for this client".into(),
        ),
        E::LoginRequired => (C::LoginRequired, "the user is not signed in".into()),
        E::AccessDenied => (C::AccessDenied, "the sign-in was refused".into()),
        E::Dependency(_) => (C::ServerError, "the request could not be completed".into()),
    };
    Some((code, description))
}

/// FusionAuth's `OAuthErrorReason` values this endpoint gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorReason {
    AuthCodeNotFound,
    RefreshTokenNotFound,
    InvalidClientId,
    InvalidGrantType,
    InvalidPkceCodeVerifier,
    InvalidRedirectUri,
    MissingClientId,
    MissingCode,
    MissingCodeVerifier,
    MissingGrantType,
    MissingRedirectUri,
    MissingRefreshToken,
    ClientAuthenticationMissing,
    InvalidClientAuthenticationScheme,
    InvalidClientAuthentication,
    ClientIdMismatch,
    Unknown,
}

/// The JSON body of every token endpoint error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OAuthErrorBody {
    pub error: ErrorCode,
    pub error_reason: ErrorReason,
    pub error_description: Cow<'static, str>,
}

/// The status and body for `error`.
pub fn wire(error: &TokenError) -> (StatusCode, OAuthErrorBody) {
    use ErrorCode as C;
    use ErrorReason as R;
    use TokenError as E;
    let (code, reason, description) = match error {
        E::NotAForm => (
            C::InvalidRequest,
            R::Unknown,
            "the body must be application/x-www-form-urlencoded",
        ),
        E::BodyTooLarge => (C::InvalidRequest, R::Unknown, "the body is too large"),
        E::RepeatedParameter => (C::InvalidRequest, R::Unknown, "a parameter is repeated"),
        E::ParameterTooLong(_) => (C::InvalidRequest, R::Unknown, ""),
        E::MissingGrantType => (
            C::InvalidRequest,
            R::MissingGrantType,
            "the request is missing a required parameter: grant_type",
        ),
        E::UnsupportedGrantType => (
            C::UnsupportedGrantType,
            R::InvalidGrantType,
            "grant_type must be authorization_code or refresh_token",
        ),
        E::MissingClientId => (
            C::InvalidRequest,
            R::MissingClientId,
            "the request is missing a required parameter: client_id",
        ),
        E::MissingCode => (
            C::InvalidRequest,
            R::MissingCode,
            "the request is missing a required parameter: code",
        ),
        E::MissingRedirectUri => (
            C::InvalidRequest,
            R::MissingRedirectUri,
            "the request is missing a required parameter: redirect_uri",
        ),
        E::MissingRefreshToken => (
            C::InvalidRequest,
            R::MissingRefreshToken,
            "the request is missing a required parameter: refresh_token",
        ),
        E::UnknownClient => (
            C::InvalidClient,
            R::InvalidClientId,
            "the client_id names no application",
        ),
        E::ClientAuthenticationMissing => (
            C::InvalidClient,
            R::ClientAuthenticationMissing,
            "client authentication missing as Basic Authorization header or client_secret in the body",
        ),
        E::InvalidClientAuthentication => (
            C::InvalidClient,
            R::InvalidClientAuthentication,
            "invalid client authentication credentials",
        ),
        E::InvalidClientAuthenticationScheme => (
            C::InvalidClient,
            R::InvalidClientAuthenticationScheme,
            "the client authenticates with one Basic Authorization header or client_secret in the body",
        ),
        E::ClientIdMismatch => (
            C::InvalidClient,
            R::ClientIdMismatch,
            "the client_id in the body is not the one in the Authorization header",
        ),
        E::AuthCodeNotFound => (
            C::InvalidGrant,
            R::AuthCodeNotFound,
            "the code is unknown, expired or used, or was issued to another client",
        ),
        E::RedirectUriMismatch => (
            C::InvalidGrant,
            R::InvalidRedirectUri,
            "the redirect_uri is not the one the code was issued for",
        ),
        E::MissingCodeVerifier => (
            C::InvalidGrant,
            R::MissingCodeVerifier,
            "the code was issued with a code_challenge: code_verifier is required",
        ),
        E::InvalidCodeVerifier => (
            C::InvalidGrant,
            R::InvalidPkceCodeVerifier,
            "the code_verifier does not match the code_challenge",
        ),
        E::RefreshTokenNotFound => (
            C::InvalidGrant,
            R::RefreshTokenNotFound,
            "the refresh token is unknown, expired or revoked, or was issued to another client",
        ),
        E::Dependency(_) => (
            C::ServerError,
            R::Unknown,
            "the request could not be completed; try again later",
        ),
    };
    let status = match (code, error) {
        (_, E::BodyTooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
        (C::InvalidClient, _) => StatusCode::UNAUTHORIZED,
        (C::ServerError, _) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = OAuthErrorBody {
        error: code,
        error_reason: reason,
        error_description: match error {
            E::ParameterTooLong(name) => Cow::Owned(format!("{name} is too long")),
            _ => Cow::Borrowed(description),
        },
    };
    (status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_code_is_invalid_grant_with_fusionauths_reason() {
        let (status, body) = wire(&TokenError::AuthCodeNotFound);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            serde_json::json!({"error": "invalid_grant", "error_reason": "auth_code_not_found",
                "error_description": "the code is unknown, expired or used, or was issued to another client"})
        );
    }

    #[test]
    fn every_client_failure_is_a_401_invalid_client() {
        for error in [
            TokenError::UnknownClient,
            TokenError::ClientAuthenticationMissing,
            TokenError::InvalidClientAuthentication,
            TokenError::InvalidClientAuthenticationScheme,
            TokenError::ClientIdMismatch,
        ] {
            let (status, body) = wire(&error);
            assert_eq!(
                (status, body.error),
                (StatusCode::UNAUTHORIZED, ErrorCode::InvalidClient)
            );
        }
    }
}
