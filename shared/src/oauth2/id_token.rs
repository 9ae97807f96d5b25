//! The OpenID Connect id_token for `scope=openid`: signed with the key that signs the
//! application's access tokens, at click time for the code grant (sealed in the code) and by
//! `/oauth2/token` for the refresh token grant.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::model::{Application, Tenant, User};
use crate::ports::{Directory, StoreError};
use crate::session::UserClaims;
use crate::tokens::Signer;

#[derive(Serialize)]
struct Claims<'a> {
    aud: Uuid,
    #[serde(flatten)]
    user: UserClaims<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    /// OIDC Core 3.1.3.6: the left half of the access token's SHA-256 (every key here signs with
    /// a SHA-256 algorithm).
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

pub(super) async fn sign(
    directory: &dyn Directory,
    signer: &Signer,
    what: &IdTokenFor<'_>,
) -> Result<String, StoreError> {
    let key_id = what
        .application
        .jwt_configuration
        .access_token_key_id
        .or(what.tenant.jwt_configuration.access_token_key_id)
        .ok_or_else(|| StoreError::new("sign id_token", "the tenant names no accessTokenKeyId"))?;
    let key = directory
        .signing_key(key_id)
        .await?
        .ok_or_else(|| StoreError::new("sign id_token", format!("no signing key {key_id}")))?;
    let digest = Sha256::digest(what.access_token.as_bytes());
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
        at_hash: URL_SAFE_NO_PAD.encode(&digest[..16]),
        application_id: what.application.id,
        sid: what.sid,
    };
    signer
        .sign(&key, &claims)
        .map_err(|e| StoreError::new("sign id_token", e))
}
