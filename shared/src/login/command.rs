//! What a login is asked to do: [`LoginCommand`], as the login API, the landing page and the
//! fallback page build it, and [`RefreshTokenRule`], which of the application's switches decides
//! on a refresh token. Kept apart from the steps in [`super`] so that the input a caller fills in
//! is found in one place, with the `Debug` that keeps its secrets out of the log.

use serde_json::Value;
use uuid::Uuid;

use crate::oauth2::Scope;
use crate::redact::redacted;

#[derive(Clone, Default, PartialEq)]
pub struct LoginCommand {
    pub code: String,
    pub one_time_code: Option<String>,
    pub application_id: Option<Uuid>,
    pub ip_address: Option<String>,
    pub meta_data: Option<Value>,
    pub no_jwt: bool,
    /// The `fusionauth.trust` cookie, else the body's `twoFactorTrustId`.
    pub trust_id: Option<String>,
    /// Which switch decides on a refresh token.
    pub refresh_token: RefreshTokenRule,
}

/// Whether a login issues a refresh token (to a user registered to the application, unless
/// `noJWT`) is up to the application's settings for the way the user logs in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RefreshTokenRule {
    /// The login API: `loginConfiguration.generateRefreshTokens`.
    #[default]
    LoginApi,
    /// The authorization code grant with this scope: `offline_access` and
    /// `oauthConfiguration.generateRefreshTokens`, as FusionAuth's token endpoint. The family
    /// keeps the scope for the refresh token grant.
    OAuth(Scope),
}

/// Redacts the code, the one-time code and the trust id: a logged command logs nobody in.
impl std::fmt::Debug for LoginCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginCommand")
            .field("code", &crate::redact::REDACTED)
            .field("one_time_code", &redacted(&self.one_time_code))
            .field("application_id", &self.application_id)
            .field("ip_address", &self.ip_address)
            .field("meta_data", &self.meta_data)
            .field("no_jwt", &self.no_jwt)
            .field("trust_id", &redacted(&self.trust_id))
            .field("refresh_token", &self.refresh_token)
            .finish()
    }
}
