//! The OpenID Connect id_token a click issues for `scope=openid`: signed at click time with the
//! key that signs the application's access tokens, so `/oauth2/token` needs no signing key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::login::LoginServices;
use crate::model::{Application, Tenant, User};
use crate::ports::StoreError;

#[derive(Serialize)]
struct Claims<'a> {
    aud: Uuid,
    exp: i64,
    iat: i64,
    iss: &'a str,
    sub: Uuid,
    jti: Uuid,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    /// OIDC Core 3.1.3.6: the left half of the access token's SHA-256 (every key here signs with
    /// a SHA-256 algorithm).
    at_hash: String,
    #[serde(rename = "authenticationType")]
    authentication_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<&'a str>,
    #[serde(rename = "applicationId")]
    application_id: Uuid,
    tid: Uuid,
}

pub(super) struct IdTokenFor<'a> {
    pub tenant: &'a Tenant,
    pub application: &'a Application,
    pub user: &'a User,
    pub access_token: &'a str,
    pub expires_at_millis: i64,
    pub nonce: Option<&'a str>,
    pub now_millis: i64,
}

pub(super) async fn sign(
    services: &LoginServices,
    what: &IdTokenFor<'_>,
) -> Result<String, StoreError> {
    let key_id = what
        .application
        .jwt_configuration
        .access_token_key_id
        .or(what.tenant.jwt_configuration.access_token_key_id)
        .ok_or_else(|| StoreError::new("sign id_token", "the tenant names no accessTokenKeyId"))?;
    let key = services
        .directory
        .signing_key(key_id)
        .await?
        .ok_or_else(|| StoreError::new("sign id_token", format!("no signing key {key_id}")))?;
    let digest = Sha256::digest(what.access_token.as_bytes());
    let iat = what.now_millis / 1000;
    let claims = Claims {
        aud: what.application.id,
        exp: what.expires_at_millis / 1000,
        iat,
        iss: &what.tenant.issuer,
        sub: what.user.id,
        jti: Uuid::new_v4(),
        auth_time: iat,
        nonce: what.nonce,
        at_hash: URL_SAFE_NO_PAD.encode(&digest[..16]),
        authentication_type: "PASSWORDLESS",
        email: what.user.email.as_deref(),
        email_verified: what.user.email.as_ref().map(|_| what.user.verified),
        preferred_username: what.user.username.as_deref(),
        application_id: what.application.id,
        tid: what.tenant.id,
    };
    services
        .signer
        .sign(&key, &claims)
        .map_err(|e| StoreError::new("sign id_token", e))
}
