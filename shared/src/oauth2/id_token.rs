//! The OpenID Connect id_token for `scope=openid`, at click time for the code grant (sealed in
//! the code) and by `/oauth2/token` for the refresh token grant.
//!
//! Its key: `jwtConfiguration.idTokenKeyId` of the application, else of the tenant, else the key
//! of the access token ([`id_token_key_id`]). An RS256 or ES256 key signs as the JWKS publishes
//! it. An HMAC key (HS256, HS384, HS512) is never published, so an id token signed with it would
//! be verifiable by nobody but us: as OIDC Core 10.1 says, it is signed with the UTF-8 bytes of
//! the client secret instead, with the key's algorithm (and the key's `kid`, which names the
//! choice, not the secret).

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::model::{Application, SigningKey, Tenant, User};
use crate::ports::{Directory, StoreError};
use crate::session::UserClaims;
use crate::tokens::{InvalidJwt, Signer};

#[derive(Serialize)]
struct Claims<'a> {
    aud: Uuid,
    #[serde(flatten)]
    user: UserClaims<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    /// OIDC Core 3.1.3.6: the left half of the access token's hash, with the hash of the
    /// signing algorithm.
    at_hash: String,
    #[serde(rename = "applicationId")]
    application_id: Uuid,
    /// The SSO session the token was issued within (FusionAuth's `sid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<Uuid>,
}

pub(super) struct IdTokenFor<'a> {
    pub tenant: &'a Tenant,
    pub application: &'a Application,
    pub user: &'a User,
    pub access_token: &'a str,
    pub expires_at_millis: i64,
    pub nonce: Option<&'a str>,
    pub now_millis: i64,
    /// When the user authenticated (epoch seconds): the login, also for a refreshed id_token.
    pub auth_time: i64,
    /// The SSO session, for an id token issued within one.
    pub sid: Option<Uuid>,
}

/// The key id tokens of `application` (or, without one, of the tenant) are signed with: the
/// application's `idTokenKeyId`, else the tenant's, else the access token's key.
pub fn id_token_key_id(tenant: &Tenant, application: Option<&Application>) -> Option<Uuid> {
    let app = application.map(|a| &a.jwt_configuration);
    app.and_then(|a| a.id_token_key_id)
        .or(tenant.jwt_configuration.id_token_key_id)
        .or(crate::session::rules(tenant, application).key_id)
}

pub(super) async fn sign(
    directory: &dyn Directory,
    signer: &Signer,
    what: &IdTokenFor<'_>,
) -> Result<String, StoreError> {
    let key_id = id_token_key_id(what.tenant, Some(what.application))
        .ok_or_else(|| StoreError::new("sign id_token", "the tenant names no signing key"))?;
    let named = directory
        .signing_key(key_id)
        .await?
        .ok_or_else(|| StoreError::new("sign id_token", format!("no signing key {key_id}")))?;
    let key = match named.algorithm.is_hmac() {
        true => client_secret_key(&named, what.application)?,
        false => named,
    };
    let iat = what.now_millis / 1000;
    let claims = Claims {
        aud: what.application.id,
        user: UserClaims::new(
            what.tenant,
            what.user,
            "PASSWORDLESS",
            (iat, what.expires_at_millis / 1000),
            what.auth_time,
        ),
        nonce: what.nonce,
        at_hash: key.algorithm.left_half_hash(what.access_token),
        application_id: what.application.id,
        sid: what.sid,
    };
    signer
        .sign(&key, &claims)
        .map_err(|e| StoreError::new("sign id_token", e))
}

/// The key an id token of ours verifies with (lifetime aside): the key its `kid` names, or for
/// an HMAC key the client secret of the application its `aud` names, as [`sign`] signed it. For a
/// logout's `id_token_hint`.
pub async fn verification_key(
    directory: &dyn Directory,
    token: &str,
) -> Result<Result<SigningKey, InvalidJwt>, StoreError> {
    let named = match crate::keys::signing_key_of(directory, token).await? {
        Ok(key) => key,
        Err(invalid) => return Ok(Err(invalid)),
    };
    if !named.algorithm.is_hmac() {
        return Ok(Ok(named));
    }
    let audience = crate::tokens::unverified_claims(token)
        .ok()
        .and_then(|claims| {
            let aud = match claims.get("aud")? {
                Value::Array(values) if values.len() == 1 => values[0].clone(),
                value => value.clone(),
            };
            Uuid::parse_str(aud.as_str()?).ok()
        });
    let Some(audience) = audience else {
        return Ok(Err(InvalidJwt::UnknownKey));
    };
    let Some(application) = directory.application(audience).await? else {
        return Ok(Err(InvalidJwt::UnknownKey));
    };
    Ok(client_secret_key(&named, &application).map_err(|_| InvalidJwt::UnknownKey))
}

/// The HMAC key OIDC Core 10.1 means: the client secret's UTF-8 bytes, with the algorithm and
/// `kid` of the HMAC key the configuration names. Kept by the signer under an id of its own per
/// application, so that it never stands for the named key.
fn client_secret_key(
    named: &SigningKey,
    application: &Application,
) -> Result<SigningKey, StoreError> {
    use base64::Engine;
    let secret = application
        .oauth_configuration
        .id_token_secret
        .as_ref()
        .ok_or_else(|| {
            StoreError::new(
                "sign id_token",
                format!(
                    "the HMAC id token key {} signs with the client secret, and application {} \
                     keeps none (reload its kickstart with a clientSecret)",
                    named.id, application.id
                ),
            )
        })?;
    Ok(SigningKey {
        id: client_secret_key_id(application.id),
        algorithm: named.algorithm,
        name: format!("client secret of {}", application.id),
        secret: Some(base64::engine::general_purpose::STANDARD.encode(secret.0.as_bytes())),
        public_key: None,
        private_key: None,
        kid: Some(named.kid()),
    })
}

/// The signer's slot for an application's client secret: derived from the application's id, so
/// no stored key can share it.
fn client_secret_key_id(application: Uuid) -> Uuid {
    crate::model::kid_alias(&format!("client secret\0{application}"))
}

#[cfg(test)]
mod tests {
    use crate::model::SigningAlgorithm;

    #[test]
    fn at_hash_is_the_left_half_of_the_algorithms_own_hash() {
        use base64::Engine;
        use sha2::Digest;
        let token = "an access token";
        let half = |digest: &[u8]| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
        };
        let sha256 = half(&sha2::Sha256::digest(token));
        assert_eq!(SigningAlgorithm::RS256.left_half_hash(token), sha256);
        assert_eq!(SigningAlgorithm::HS256.left_half_hash(token), sha256);
        assert_eq!(SigningAlgorithm::ES256.left_half_hash(token), sha256);
        assert_eq!(
            SigningAlgorithm::HS384.left_half_hash(token),
            half(&sha2::Sha384::digest(token))
        );
        assert_eq!(
            SigningAlgorithm::HS512.left_half_hash(token),
            half(&sha2::Sha512::digest(token))
        );
        assert_eq!(SigningAlgorithm::HS512.left_half_hash(token).len(), 43);
    }
}
