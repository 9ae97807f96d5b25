//! The access token a passwordless login issues: FusionAuth's claims, signed with the key the
//! application (else the tenant) names.

use serde::Serialize;
use uuid::Uuid;

use super::Attempt;
use crate::model::{Application, Tenant, User};
use crate::ports::StoreError;

const DEFAULT_JWT_SECONDS: u32 = 3600;

/// JWT claims, as FusionAuth issues them for a passwordless login.
#[derive(Serialize)]
struct Claims<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<Uuid>,
    exp: i64,
    iat: i64,
    iss: &'a str,
    sub: Uuid,
    jti: Uuid,
    #[serde(rename = "authenticationType")]
    authentication_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<&'a str>,
    #[serde(rename = "applicationId", skip_serializing_if = "Option::is_none")]
    application_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<&'a [String]>,
    sid: Uuid,
    auth_time: i64,
    tid: Uuid,
}

/// A signed access token and when it expires (epoch milliseconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_at_millis: i64,
}

/// Signs the user's access token. `aud`, `applicationId` and `roles` only for an application the
/// user is registered to (`registered`, with the registration's roles).
pub(super) async fn issue(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    registered: Option<(&Application, &[String])>,
    user: &User,
    session_id: Uuid,
) -> Result<AccessToken, StoreError> {
    let application = registered.map(|(app, _)| app);
    let key_id = application
        .and_then(|a| a.jwt_configuration.access_token_key_id)
        .or(tenant.jwt_configuration.access_token_key_id)
        .ok_or_else(|| StoreError::new("sign token", "the tenant names no accessTokenKeyId"))?;
    let key = attempt
        .services
        .directory
        .signing_key(key_id)
        .await?
        .ok_or_else(|| StoreError::new("sign token", format!("no signing key {key_id}")))?;
    let seconds = application
        .and_then(|a| a.jwt_configuration.time_to_live_in_seconds)
        .or(tenant.jwt_configuration.time_to_live_in_seconds)
        .unwrap_or(DEFAULT_JWT_SECONDS);
    let iat = attempt.now / 1000;
    let exp = iat + i64::from(seconds);
    let claims = Claims {
        aud: application.map(|a| a.id),
        exp,
        iat,
        iss: &tenant.issuer,
        sub: user.id,
        jti: Uuid::new_v4(),
        authentication_type: "PASSWORDLESS",
        email: user.email.as_deref(),
        email_verified: user.email.as_ref().map(|_| user.verified),
        preferred_username: user.username.as_deref(),
        application_id: application.map(|a| a.id),
        roles: registered.map(|(_, roles)| roles),
        sid: session_id,
        auth_time: iat,
        tid: tenant.id,
    };
    let token = attempt
        .services
        .signer
        .sign(&key, &claims)
        .map_err(|e| StoreError::new("sign token", e))?;
    Ok(AccessToken {
        token,
        expires_at_millis: exp * 1000,
    })
}
