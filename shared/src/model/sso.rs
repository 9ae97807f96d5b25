//! The SSO session: what a browser's `fusionauth.sso` cookie stands for ([`crate::oauth2::sso`]),
//! and the tenant setting that says how long it lasts.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// FusionAuth's default `ssoConfiguration.deviceTrustTimeToLiveInSeconds`: one year.
pub const DEFAULT_SSO_SESSION_SECONDS: u32 = 31_536_000;

/// A tenant's `ssoConfiguration`: FusionAuth keeps a browser signed in (its persistent
/// `fusionauth.sso` cookie) for `deviceTrustTimeToLiveInSeconds`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct SsoConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_trust_time_to_live_in_seconds: Option<u32>,
}

impl SsoConfiguration {
    /// How long a new SSO session lasts; a configured 0 is read as FusionAuth's default.
    pub fn session_seconds(&self) -> u32 {
        self.device_trust_time_to_live_in_seconds
            .filter(|seconds| *seconds > 0)
            .unwrap_or(DEFAULT_SSO_SESSION_SECONDS)
    }
}

/// One browser's sign-in to a tenant, stored by the SHA-256 of its cookie's value (never the
/// value). It lasts a fixed time from the login: using it does not extend it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SsoSession {
    /// The id tokens' `sid`: not secret.
    pub id: Uuid,
    /// SHA-256 (hex) of the cookie's value.
    pub id_hash: String,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    /// When the person proved who they are: every id token of the session carries it as
    /// `auth_time`.
    pub authenticated_at_millis: i64,
    pub expires_at_millis: i64,
    /// The refresh token families issued within the session: logging out revokes them.
    #[serde(default)]
    pub refresh_token_ids: Vec<Uuid>,
}

impl SsoSession {
    pub fn is_live(&self, now_millis: i64) -> bool {
        self.expires_at_millis > now_millis
    }
}
