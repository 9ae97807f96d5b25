//! `POST /oauth2/token`'s authorization code grant (RFC 6749 4.1.3, RFC 7636 4.6): authenticate
//! the client as its application's `clientAuthenticationPolicy` says, use the code up with one
//! conditional write, check the redirect URI and the PKCE verifier, open the sealed tokens.
//!
//! `grant_type=refresh_token` (RFC 6749 6) is issue 15's exchange ([`crate::refresh::exchange`],
//! its rotation, reuse and revocation rules), for a token of the authenticated client's
//! application.
//!
//! Every check after the code is used up refuses with `invalid_grant` and leaves the code used:
//! whoever holds a stolen code without its verifier burns it for nobody.

use std::sync::Arc;

use uuid::Uuid;

use super::{SealedTokens, SEAL_PURPOSE};
use crate::codes;
use crate::model::{Application, ClientAuthenticationPolicy, PkcePolicy};
use crate::ports::{AuthorizationCodes, Directory, StoreError};
use crate::refresh::{self, ExchangeOutcome, RefreshServices};
use crate::system::{Clock, Random};

/// What the token endpoint runs on, built once per container.
#[derive(Clone)]
pub struct TokenServices {
    pub directory: Arc<dyn Directory>,
    pub authorization_codes: Arc<dyn AuthorizationCodes>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    /// The refresh token grant: `POST /api/jwt/refresh`'s services.
    pub refresh: RefreshServices,
}

/// The client as the request presents it (HTTP Basic or the body; the edge has merged them).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// `grant_type=authorization_code`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AuthorizationCodeGrant {
    pub client: ClientCredentials,
    pub code: String,
    pub redirect_uri: String,
    pub code_verifier: Option<String>,
}

impl std::fmt::Debug for AuthorizationCodeGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationCodeGrant")
            .field("client", &self.client)
            .field("code", &"<redacted>")
            .field("redirect_uri", &self.redirect_uri)
            .field(
                "code_verifier",
                &self.code_verifier.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// What the token endpoint answers with.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub expires_in: i64,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub refresh_token_id: Option<Uuid>,
    pub scope: String,
    pub user_id: Uuid,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// RFC 6749 5.2's errors, as far as this grant gives them.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// Unknown client, wrong secret, or no secret where the policy requires one.
    #[error("invalid_client")]
    InvalidClient,
    /// Unknown, expired or used code; another client's; another redirect URI; a wrong or
    /// missing verifier.
    #[error("invalid_grant")]
    InvalidGrant,
    #[error(transparent)]
    Dependency(#[from] StoreError),
}

/// The application a client id names, if its secret is right (or not needed).
pub async fn authenticate(
    services: &TokenServices,
    client: &ClientCredentials,
    pkce_presented: bool,
) -> Result<(Application, bool), TokenError> {
    let id = Uuid::parse_str(client.client_id.trim()).map_err(|_| TokenError::InvalidClient)?;
    let application = services
        .directory
        .application(id)
        .await?
        .ok_or(TokenError::InvalidClient)?;
    crate::metrics::set_tenant(application.tenant_id);
    let config = &application.oauth_configuration;
    let authenticated = match (&client.client_secret, &config.client_secret_hash) {
        (Some(secret), Some(hash)) => {
            // Hashes compared in constant time, as API keys are looked up by theirs.
            if !codes::same_secret(&codes::hash_secret(secret), hash) {
                return Err(TokenError::InvalidClient);
            }
            true
        }
        // A secret for a client that has none is wrong.
        (Some(_), None) => return Err(TokenError::InvalidClient),
        (None, _) => false,
    };
    let needed = match config.client_authentication_policy {
        ClientAuthenticationPolicy::Required => true,
        ClientAuthenticationPolicy::NotRequired => false,
        ClientAuthenticationPolicy::NotRequiredWhenUsingPKCE => !pkce_presented,
    };
    if needed && !authenticated {
        return Err(TokenError::InvalidClient);
    }
    Ok((application, authenticated))
}

/// Exchanges an authorization code for the tokens its click issued.
pub async fn exchange_code(
    services: &TokenServices,
    grant: AuthorizationCodeGrant,
) -> Result<Tokens, TokenError> {
    let (application, authenticated) =
        authenticate(services, &grant.client, grant.code_verifier.is_some()).await?;
    let now = services.clock.now_millis();
    let attempt = codes::generate_id(services.random.as_ref());
    let stored = services
        .authorization_codes
        .redeem(&codes::hash_secret(&grant.code), &attempt, now)
        .await?
        .ok_or(TokenError::InvalidGrant)?;
    if stored.application_id != application.id || stored.redirect_uri != grant.redirect_uri {
        return Err(TokenError::InvalidGrant);
    }
    let pkce_needed = match application
        .oauth_configuration
        .proof_key_for_code_exchange_policy
    {
        PkcePolicy::Required => true,
        PkcePolicy::NotRequired => false,
        PkcePolicy::NotRequiredWhenUsingClientAuthentication => !authenticated,
    };
    match (&stored.code_challenge, &grant.code_verifier) {
        (Some(challenge), Some(verifier)) if valid_verifier(verifier) => {
            if !codes::same_secret(&codes::s256_challenge(verifier), challenge) {
                return Err(TokenError::InvalidGrant);
            }
        }
        (None, None) if !pkce_needed => {}
        // A verifier without a challenge, or a challenge without a verifier.
        _ => return Err(TokenError::InvalidGrant),
    }
    let plain =
        codes::unseal(&grant.code, SEAL_PURPOSE, &stored.sealed_tokens).ok_or_else(|| {
            StoreError::new("open authorization code", "the sealed tokens do not open")
        })?;
    let tokens: SealedTokens = serde_json::from_slice(&plain)
        .map_err(|e| StoreError::new("open authorization code", e))?;
    tracing::info!(user_id = %stored.user_id, application_id = %application.id,
        "authorization code exchanged");
    Ok(Tokens {
        expires_in: ((tokens.access_token_expires_at_millis - now) / 1000).max(0),
        access_token: tokens.access_token,
        id_token: tokens.id_token,
        refresh_token: tokens.refresh_token,
        refresh_token_id: tokens.refresh_token_id,
        scope: stored.scope,
        user_id: stored.user_id,
    })
}

/// `grant_type=refresh_token`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RefreshTokenGrant {
    pub client: ClientCredentials,
    pub refresh_token: String,
}

impl std::fmt::Debug for RefreshTokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshTokenGrant")
            .field("client", &self.client)
            .field("refresh_token", &"<redacted>")
            .finish()
    }
}

/// Exchanges a refresh token of the client's application by issue 15's rules. A public client
/// (`NotRequiredWhenUsingPKCE`) needs no secret here: its refresh token came from a PKCE grant.
pub async fn exchange_refresh_token(
    services: &TokenServices,
    grant: RefreshTokenGrant,
) -> Result<Tokens, TokenError> {
    let (application, _) = authenticate(services, &grant.client, true).await?;
    let names = crate::session::parse_refresh_token(grant.refresh_token.trim())
        .filter(|names| names.application_id == application.id)
        .ok_or(TokenError::InvalidGrant)?;
    match refresh::exchange(&services.refresh, None, grant.refresh_token.trim()).await? {
        ExchangeOutcome::Exchanged(exchanged) => {
            let now = services.clock.now_millis();
            Ok(Tokens {
                expires_in: ((exchanged.access_token.expires_at_millis - now) / 1000).max(0),
                access_token: exchanged.access_token.token,
                id_token: None,
                refresh_token: Some(exchanged.refresh_token.token),
                refresh_token_id: Some(exchanged.refresh_token.id),
                scope: "offline_access".to_owned(),
                user_id: names.user_id,
            })
        }
        ExchangeOutcome::Refused => Err(TokenError::InvalidGrant),
    }
}

/// RFC 7636 4.1: 43 to 128 unreserved characters.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}
