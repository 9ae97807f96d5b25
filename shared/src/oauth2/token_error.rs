//! Why `POST /oauth2/token` refuses a request: one case per reason a client can act on. The HTTP
//! edge ([`crate::http::oauth_error`]) maps each case, in one place, to RFC 6749 5.2's `error`,
//! FusionAuth's `error_reason`, a status and a description.

use crate::ports::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    // The request itself.
    #[error("the body is not application/x-www-form-urlencoded")]
    NotAForm,
    #[error("the body is too large")]
    BodyTooLarge,
    #[error("a parameter is repeated")]
    RepeatedParameter,
    /// Longer than its cap in [`crate::limits::TOKEN_FORM`].
    #[error("{0} is too long")]
    ParameterTooLong(String),
    #[error("grant_type is missing")]
    MissingGrantType,
    #[error("grant_type is neither authorization_code nor refresh_token")]
    UnsupportedGrantType,
    #[error("client_id is missing")]
    MissingClientId,
    #[error("code is missing")]
    MissingCode,
    #[error("redirect_uri is missing")]
    MissingRedirectUri,
    #[error("refresh_token is missing")]
    MissingRefreshToken,

    // The client.
    /// No application by that client id.
    #[error("unknown client_id")]
    UnknownClient,
    /// The application's `clientAuthenticationPolicy` needs a secret and none came.
    #[error("client authentication missing")]
    ClientAuthenticationMissing,
    /// A wrong secret, or a secret for a client that has none.
    #[error("invalid client credentials")]
    InvalidClientAuthentication,
    /// An `Authorization` header that is not readable Basic, or a secret both in it and in the
    /// body (RFC 6749 2.3: one method per request).
    #[error("invalid client authentication scheme")]
    InvalidClientAuthenticationScheme,
    /// Basic names one client and the body another.
    #[error("client_id mismatch")]
    ClientIdMismatch,

    // The grant.
    /// Unknown, expired or already used; issued to another client.
    #[error("authorization code not found")]
    AuthCodeNotFound,
    /// Not the redirect URI the code was issued for.
    #[error("redirect_uri mismatch")]
    RedirectUriMismatch,
    /// The code was issued with a challenge and no verifier came.
    #[error("code_verifier missing")]
    MissingCodeVerifier,
    /// A verifier that does not match the challenge, is malformed, or came for a code without
    /// a challenge.
    #[error("code_verifier invalid")]
    InvalidCodeVerifier,
    /// Unknown, malformed, expired, revoked, reused, another client's, or its user may no longer
    /// log in: alike.
    #[error("refresh token not found")]
    RefreshTokenNotFound,

    #[error(transparent)]
    Dependency(#[from] StoreError),
}
