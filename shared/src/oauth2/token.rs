//! `POST /oauth2/token`'s authorization code grant (RFC 6749 4.1.3, RFC 7636 4.6): authenticate
//! the client as its application's `clientAuthenticationPolicy` says, use the code up with one
//! conditional write, check the redirect URI and the PKCE verifier, open the sealed tokens.
//!
//! `grant_type=refresh_token` (RFC 6749 6) is issue 15's exchange ([`crate::refresh::exchange`],
//! its rotation, reuse and revocation rules), for a token of the authenticated client's
//! application.
//!
//! Every check after the code is used up refuses with `invalid_grant` and leaves the code used:
//! whoever holds a stolen code without its verifier burns it for nobody. A code presented after
//! its exchange revokes the refresh token that exchange issued (RFC 6749 4.1.2).

use std::sync::Arc;

use uuid::Uuid;

pub use super::token_error::TokenError;

use super::id_token::{self, IdTokenFor};
use super::{Scope, SealedTokens, SEAL_PURPOSE};
use crate::codes;
use crate::model::{Application, ClientAuthenticationPolicy, PkcePolicy};
use crate::ports::{AuthorizationCodes, Directory, Redemption, StoreError};
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
    pub client_secret: Option<ClientSecret>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &crate::redact::redacted(&self.client_secret),
            )
            .finish()
    }
}

/// A client secret as presented. RFC 6749 2.3.1 form-encodes the secret before Basic's base64;
/// many clients send it raw. From Basic, both readings are kept and either may match; from the
/// body (decoded once already by the form), only the one.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret {
    as_sent: String,
    form_decoded: Option<String>,
}

impl ClientSecret {
    /// `client_secret` of the body.
    pub fn from_body(secret: &str) -> Self {
        Self {
            as_sent: secret.to_owned(),
            form_decoded: None,
        }
    }

    /// The secret half of Basic's credentials, as it came out of the base64.
    pub fn from_basic(secret: &str) -> Self {
        let decoded = form_decode(secret);
        Self {
            form_decoded: (decoded != secret).then_some(decoded),
            as_sent: secret.to_owned(),
        }
    }

    /// Whether either reading hashes to `hash`: both are hashed and compared in constant time,
    /// as API keys are looked up by theirs, so the time tells nothing of which one matched.
    fn matches(&self, hash: &str) -> bool {
        let as_sent = codes::same_secret(&codes::hash_secret(&self.as_sent), hash);
        let decoded = self
            .form_decoded
            .as_ref()
            .is_some_and(|decoded| codes::same_secret(&codes::hash_secret(decoded), hash));
        as_sent | decoded
    }
}

/// `application/x-www-form-urlencoded` decoding of one value (`+` is a space, `%XX` a byte;
/// anything else as it is).
pub fn form_decode(value: &str) -> String {
    form_urlencoded::parse(format!("x={value}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
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
            .field("code", &crate::redact::REDACTED)
            .field("redirect_uri", &self.redirect_uri)
            .field(
                "code_verifier",
                &crate::redact::redacted(&self.code_verifier),
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

/// The application a client id names, if its secret is right (or not needed).
pub async fn authenticate(
    services: &TokenServices,
    client: &ClientCredentials,
    pkce_presented: bool,
) -> Result<(Application, bool), TokenError> {
    let id = Uuid::parse_str(client.client_id.trim()).map_err(|_| TokenError::UnknownClient)?;
    let application = services
        .directory
        .application(id)
        .await?
        .ok_or(TokenError::UnknownClient)?;
    crate::metrics::set_tenant(application.tenant_id);
    let config = &application.oauth_configuration;
    let authenticated = match (&client.client_secret, &config.client_secret_hash) {
        (Some(secret), Some(hash)) if secret.matches(hash) => true,
        // A wrong secret, or a secret for a client that has none.
        (Some(_), _) => return Err(TokenError::InvalidClientAuthentication),
        (None, _) => false,
    };
    let needed = match config.client_authentication_policy {
        ClientAuthenticationPolicy::Required => true,
        ClientAuthenticationPolicy::NotRequired => false,
        ClientAuthenticationPolicy::NotRequiredWhenUsingPKCE => !pkce_presented,
    };
    if needed && !authenticated {
        return Err(TokenError::ClientAuthenticationMissing);
    }
    Ok((application, authenticated))
}

/// Exchanges an authorization code for the tokens its click issued. A code presented again
/// revokes the refresh token family its exchange issued (RFC 6749 4.1.2).
pub async fn exchange_code(
    services: &TokenServices,
    grant: AuthorizationCodeGrant,
) -> Result<Tokens, TokenError> {
    let (application, authenticated) =
        authenticate(services, &grant.client, grant.code_verifier.is_some()).await?;
    let now = services.clock.now_millis();
    let attempt = codes::generate_id(services.random.as_ref());
    let code_hash = codes::hash_secret(&grant.code);
    let stored = match services
        .authorization_codes
        .redeem(&code_hash, &attempt, now)
        .await?
    {
        Redemption::Redeemed(stored) => stored,
        Redemption::NotFound => return Err(TokenError::AuthCodeNotFound),
        Redemption::Reused {
            issued_refresh_token,
        } => {
            if let Some(family) = issued_refresh_token {
                revoke_reused_code_family(services, family).await?;
            }
            return Err(TokenError::AuthCodeNotFound);
        }
    };
    if stored.application_id != application.id {
        return Err(TokenError::AuthCodeNotFound);
    }
    if stored.redirect_uri != grant.redirect_uri {
        return Err(TokenError::RedirectUriMismatch);
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
                return Err(TokenError::InvalidCodeVerifier);
            }
        }
        (None, None) if !pkce_needed => {}
        // A challenge without a verifier, or PKCE required and none at all.
        (_, None) => return Err(TokenError::MissingCodeVerifier),
        // A malformed verifier, or a verifier without a challenge.
        _ => return Err(TokenError::InvalidCodeVerifier),
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

async fn revoke_reused_code_family(
    services: &TokenServices,
    family: Uuid,
) -> Result<(), StoreError> {
    tracing::warn!(refresh_token_id = %family,
        "an authorization code was presented again: the refresh token it issued is revoked");
    services.refresh.tokens.delete(family).await
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
            .field("refresh_token", &crate::redact::REDACTED)
            .finish()
    }
}

/// Exchanges a refresh token of the client's application by issue 15's rules. A public client
/// (`NotRequiredWhenUsingPKCE`) needs no secret here: its refresh token came from a PKCE grant.
/// The answer echoes the scope the token was granted with, and carries a new id_token when that
/// scope had `openid` (FusionAuth; OIDC Core 12.2: the same `sub`, `aud`, and the original
/// `auth_time`).
pub async fn exchange_refresh_token(
    services: &TokenServices,
    grant: RefreshTokenGrant,
) -> Result<Tokens, TokenError> {
    let (application, _) = authenticate(services, &grant.client, true).await?;
    let names = crate::session::parse_refresh_token(grant.refresh_token.trim())
        .filter(|names| names.application_id == application.id)
        .ok_or(TokenError::RefreshTokenNotFound)?;
    let exchanged =
        match refresh::exchange(&services.refresh, None, grant.refresh_token.trim()).await? {
            ExchangeOutcome::Exchanged(exchanged) => exchanged,
            ExchangeOutcome::Refused => return Err(TokenError::RefreshTokenNotFound),
        };
    let now = services.clock.now_millis();
    // A family from the login API, or from before scopes were kept, was handed out only for
    // `offline_access`.
    let scope = Scope {
        text: exchanged
            .granted
            .scope
            .clone()
            .unwrap_or_else(|| "offline_access".to_owned()),
    };
    let id_token = match scope.has("openid") {
        true => Some(
            id_token::sign(
                services.refresh.directory.as_ref(),
                &services.refresh.signer,
                &IdTokenFor {
                    tenant: &exchanged.granted.tenant,
                    application: &exchanged.granted.application,
                    user: &exchanged.granted.user,
                    access_token: &exchanged.access_token.token,
                    expires_at_millis: exchanged.access_token.expires_at_millis,
                    nonce: None,
                    now_millis: now,
                    auth_time: exchanged.granted.auth_time,
                    // The family does not keep the SSO session it was issued within.
                    sid: None,
                },
            )
            .await?,
        ),
        false => None,
    };
    Ok(Tokens {
        expires_in: ((exchanged.access_token.expires_at_millis - now) / 1000).max(0),
        access_token: exchanged.access_token.token,
        id_token,
        refresh_token: Some(exchanged.refresh_token.token),
        refresh_token_id: Some(exchanged.refresh_token.id),
        scope: scope.text,
        user_id: names.user_id,
    })
}

/// RFC 7636 4.1: 43 to 128 unreserved characters.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_basic_secret_matches_raw_or_form_decoded_and_a_body_secret_only_as_it_is() {
        let hash = codes::hash_secret("a+b c%zz");
        assert!(ClientSecret::from_basic("a+b c%zz").matches(&hash));
        assert!(ClientSecret::from_basic("a%2Bb+c%25zz").matches(&hash));
        assert!(!ClientSecret::from_basic("a b c%zz").matches(&hash));
        assert!(!ClientSecret::from_basic("a+b c%zz ").matches(&hash));
        assert!(ClientSecret::from_body("a+b c%zz").matches(&hash));
        assert!(!ClientSecret::from_body("a%2Bb+c%25zz").matches(&hash));
    }
}
