//! An application's OAuth client (`oauthConfiguration`): its secret's hash, redirect URLs, and
//! when `/oauth2/token` asks for the secret or for PKCE.

use serde::{Deserialize, Serialize};

/// FusionAuth's `oauthConfiguration`, as far as the authorization code grant reads it. The
/// kickstart's `clientSecret` is never kept: only its SHA-256 (`clientSecretHash`), as for API
/// keys.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct OAuthConfiguration {
    /// FusionAuth's client id is the application's id; a different value here is refused on load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_hash: Option<String>,
    /// The client secret itself, kept only when the application's id tokens are signed with an
    /// HMAC algorithm: OIDC Core 10.1 keys them with the secret's UTF-8 bytes, which no hash
    /// can stand for. Stored as an HMAC signing key's secret is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_secret: Option<IdTokenSecret>,
    /// Exact matches only: no wildcards, no prefixes.
    #[serde(rename = "authorizedRedirectURLs")]
    pub authorized_redirect_urls: Vec<String>,
    pub client_authentication_policy: ClientAuthenticationPolicy,
    pub proof_key_for_code_exchange_policy: PkcePolicy,
    /// The user must be registered to the application to get an authorization code.
    pub require_registration: bool,
    /// Whether `/oauth2/token` hands out a refresh token for a grant whose scope has
    /// `offline_access` (FusionAuth's default: yes). `loginConfiguration.generateRefreshTokens`
    /// is the login API's switch, not this one's.
    pub generate_refresh_tokens: bool,
    /// Where `/oauth2/logout` sends a browser when the request names no registered place.
    #[serde(rename = "logoutURL", skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
}

impl Default for OAuthConfiguration {
    fn default() -> Self {
        Self {
            client_id: None,
            client_secret_hash: None,
            id_token_secret: None,
            authorized_redirect_urls: Vec::new(),
            client_authentication_policy: ClientAuthenticationPolicy::default(),
            proof_key_for_code_exchange_policy: PkcePolicy::default(),
            require_registration: false,
            generate_refresh_tokens: true,
            logout_url: None,
        }
    }
}

/// When `/oauth2/token` needs the client secret (FusionAuth's default: always).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum ClientAuthenticationPolicy {
    #[default]
    Required,
    NotRequired,
    NotRequiredWhenUsingPKCE,
}

/// When an authorization code needs PKCE (FusionAuth's default: never, but checked when a
/// challenge was given).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum PkcePolicy {
    Required,
    #[default]
    NotRequired,
    NotRequiredWhenUsingClientAuthentication,
}

/// A client secret kept to sign HMAC id tokens with; its `Debug` is redacted.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct IdTokenSecret(pub String);

impl std::fmt::Debug for IdTokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdTokenSecret({})", crate::redact::REDACTED)
    }
}
