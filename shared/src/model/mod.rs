//! The stored model, in FusionAuth's JSON shapes (camelCase, unknown fields ignored) so that a
//! kickstart file, a stored item and an API response read alike.
//!
//! Tenants and applications here; `keys` the API keys and signing keys; `oauth` an application's
//! OAuth client; `user` the user with its identities, registrations and two-factor methods;
//! `stored` what a login leaves behind (pending codes, refresh tokens, login records);
//! `templates` the email and SMS templates.

mod device;
mod keys;
mod oauth;
mod pending_login;
mod sso;
mod stored;
mod templates;
mod user;

pub use device::{Browser, Device, Os};
pub use keys::{kid_alias, ApiKey, ApiKeyPermissions, SigningAlgorithm, SigningKey};
pub use oauth::{ClientAuthenticationPolicy, IdTokenSecret, OAuthConfiguration, PkcePolicy};
pub use pending_login::{PendingLogin, PendingLoginStatus};
pub use sso::{SsoConfiguration, SsoSession, DEFAULT_SSO_SESSION_SECONDS};

pub use stored::{
    IdTokenSigner, LoginRecord, PendingCode, PublicKey, Published, StoredAuthorizationCode,
    StoredRefreshToken,
};
pub use templates::{EmailTemplate, MessageTemplate};
pub use user::{is_email, Identity, IdentityProblem, Registration, TwoFactor, User, UserAction};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::login_id::IdentityType;

/// The code lifetime FusionAuth uses when a tenant sets none.
pub const DEFAULT_CODE_TTL_SECONDS: u32 = 180;
/// The longest code lifetime a tenant may configure.
pub const MAX_CODE_TTL_SECONDS: u32 = 600;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: Uuid,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub issuer: String,
    /// The base of magic links for applications without a `baseURL` of their own.
    #[serde(default, rename = "baseURL", skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default)]
    pub external_identifier_configuration: ExternalIdentifierConfiguration,
    #[serde(default)]
    pub jwt_configuration: JwtConfiguration,
    #[serde(default)]
    pub email_configuration: EmailConfiguration,
    #[serde(default)]
    pub phone_configuration: PhoneConfiguration,
    #[serde(default)]
    pub rate_limit_configuration: RateLimitConfiguration,
    /// Ours, not FusionAuth's: which SMS the tenant sends at all (`crate::sms_guard`).
    #[serde(default)]
    pub sms_guard_configuration: SmsGuardConfiguration,
    /// How long an SSO session lasts ([`SsoConfiguration::session_seconds`]).
    #[serde(default)]
    pub sso_configuration: SsoConfiguration,
    /// Where `/oauth2/logout` sends a browser when neither the request nor the application
    /// names a place.
    #[serde(default, rename = "logoutURL", skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ExternalIdentifierConfiguration {
    pub passwordless_login_time_to_live_in_seconds: u32,
    pub passwordless_login_generator: Generator,
    pub passwordless_login_one_time_code_generator: Generator,
    pub two_factor_id_time_to_live_in_seconds: u32,
}

impl Default for ExternalIdentifierConfiguration {
    fn default() -> Self {
        Self {
            passwordless_login_time_to_live_in_seconds: DEFAULT_CODE_TTL_SECONDS,
            passwordless_login_generator: Generator {
                length: 32,
                kind: GeneratorKind::RandomBytes,
            },
            passwordless_login_one_time_code_generator: Generator {
                length: 6,
                kind: GeneratorKind::RandomDigits,
            },
            two_factor_id_time_to_live_in_seconds: 300,
        }
    }
}

/// How a secret is drawn: FusionAuth's `SecureGeneratorConfiguration`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Generator {
    pub length: u32,
    #[serde(rename = "type")]
    pub kind: GeneratorKind,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum GeneratorKind {
    /// `length` random bytes, encoded base64url without padding.
    RandomBytes,
    RandomDigits,
    RandomAlpha,
    RandomAlphaNumeric,
}

/// A tenant's or application's token settings. Each is optional: an application's setting
/// overrides its tenant's, and FusionAuth's default applies where neither says.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct JwtConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_key_id: Option<Uuid>,
    /// The key id tokens are signed with (the application's, else the tenant's; where neither
    /// names one, the access token's key). An HMAC key here means "sign with the client secret"
    /// (OIDC Core 10.1): [`crate::oauth2`]'s id token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_key_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_live_in_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_time_to_live_in_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_expiration_policy: Option<RefreshTokenExpirationPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_usage_policy: Option<RefreshTokenUsagePolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_sliding_window_configuration: Option<SlidingWindowConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_revocation_policy: Option<RefreshTokenRevocationPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_one_time_use_configuration: Option<OneTimeUseConfiguration>,
}

/// When refresh tokens are revoked; of FusionAuth's switches only the one a refresh can trigger.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct RefreshTokenRevocationPolicy {
    /// A `OneTimeUse` token presented again after its grace period revokes its whole family
    /// (`true`), or is only refused (`false`, FusionAuth's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_one_time_token_reuse: Option<bool>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeUseConfiguration {
    /// How long after a rotation the token it replaced still exchanges (for the token it was
    /// replaced by); 0, FusionAuth's default, for never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_period_in_seconds: Option<u32>,
}

/// How long a refresh token lives: a fixed time from the login, or a window that each use slides
/// forward (up to a maximum lifetime from the login, with `SlidingWindowWithMaximumLifetime`).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum RefreshTokenExpirationPolicy {
    #[default]
    Fixed,
    SlidingWindow,
    SlidingWindowWithMaximumLifetime,
}

/// Whether a refresh token may be exchanged again (`Reusable`) or is replaced by a new one at each
/// exchange (`OneTimeUse`: rotation).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum RefreshTokenUsagePolicy {
    #[default]
    Reusable,
    OneTimeUse,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct SlidingWindowConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_time_to_live_in_minutes: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct EmailConfiguration {
    pub default_from_email: Option<String>,
    pub default_from_name: Option<String>,
    pub implicit_email_verification_allowed: bool,
    pub verify_email: bool,
    pub verification_strategy: VerificationStrategy,
    pub passwordless_email_template_id: Option<Uuid>,
}

impl Default for EmailConfiguration {
    fn default() -> Self {
        Self {
            default_from_email: None,
            default_from_name: None,
            implicit_email_verification_allowed: true,
            verify_email: false,
            verification_strategy: VerificationStrategy::default(),
            passwordless_email_template_id: None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PhoneConfiguration {
    pub implicit_phone_verification_allowed: bool,
    pub verify_phone_number: bool,
    pub verification_strategy: VerificationStrategy,
    pub passwordless_template_id: Option<Uuid>,
}

impl Default for PhoneConfiguration {
    fn default() -> Self {
        Self {
            implicit_phone_verification_allowed: true,
            verify_phone_number: false,
            verification_strategy: VerificationStrategy::default(),
            passwordless_template_id: None,
        }
    }
}

/// How a tenant verifies an identity: by a link, or by a code typed in a form (then a 212 carries
/// the verification id the application needs).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum VerificationStrategy {
    #[default]
    ClickableLink,
    FormField,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct RateLimitConfiguration {
    pub send_passwordless: RateLimit,
    pub send_passwordless_phone: RateLimit,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct RateLimit {
    pub enabled: bool,
    pub limit: u32,
    pub time_period_in_seconds: u32,
}

impl Default for RateLimit {
    /// Sends are limited even where a tenant says nothing: 5 per user per minute.
    fn default() -> Self {
        Self {
            enabled: true,
            limit: 5,
            time_period_in_seconds: 60,
        }
    }
}

/// The SMS guard against toll fraud ("SMS pumping"), per tenant; the rules are in
/// [`crate::sms_guard`]. Safe by default: SMS to the US and Canada only, 20 per 10 minutes to any
/// one prefix (country and the first 3 national digits), 1,000 a day per tenant, of which one
/// user's SMS take at most 3 of a prefix's window and 10 of the day.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SmsGuardConfiguration {
    /// ISO 3166-1 regions (`US`, `GB`) that SMS may go to; an empty list sends none.
    pub allowed_countries: Vec<String>,
    /// How many national digits after the calling code make a prefix (0: the country alone).
    pub prefix_digits: u32,
    /// SMS to one prefix per window, across the tenant's users.
    pub prefix_rate_limit: RateLimit,
    /// SMS per tenant per UTC day.
    pub daily_limit: DailyLimit,
    /// One user's share of `prefix_rate_limit`: its SMS counted per prefix window.
    pub per_user_prefix_limit: u32,
    /// One user's share of `daily_limit`: its SMS counted per UTC day.
    pub per_user_daily_limit: u32,
}

impl Default for SmsGuardConfiguration {
    fn default() -> Self {
        Self {
            allowed_countries: vec!["US".to_owned(), "CA".to_owned()],
            prefix_digits: 3,
            prefix_rate_limit: RateLimit {
                enabled: true,
                limit: 20,
                time_period_in_seconds: 600,
            },
            daily_limit: DailyLimit::default(),
            per_user_prefix_limit: 3,
            per_user_daily_limit: 10,
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct DailyLimit {
    pub enabled: bool,
    pub limit: u32,
}

impl Default for DailyLimit {
    fn default() -> Self {
        Self {
            enabled: true,
            limit: 1000,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[serde(default)]
    pub name: String,
    #[serde(default, rename = "baseURL", skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default)]
    pub passwordless_configuration: PasswordlessConfiguration,
    #[serde(default)]
    pub login_configuration: LoginConfiguration,
    #[serde(default)]
    pub verify_registration: bool,
    #[serde(default)]
    pub roles: Vec<ApplicationRole>,
    #[serde(default)]
    pub jwt_configuration: JwtConfiguration,
    /// Overrides the tenant's passwordless email template.
    #[serde(default)]
    pub email_configuration: ApplicationTemplates,
    /// Overrides the tenant's passwordless SMS template.
    #[serde(default)]
    pub phone_configuration: ApplicationPhoneTemplates,
    /// The OAuth client the landing page and `/oauth2/token` serve.
    #[serde(default)]
    pub oauth_configuration: OAuthConfiguration,
    /// Self-service sign-up on the hosted pages.
    #[serde(default)]
    pub registration_configuration: RegistrationConfiguration,
}

impl Application {
    /// The roles a registration that names none gets: the application's `isDefault` roles.
    pub fn default_roles(&self) -> Vec<String> {
        self.roles
            .iter()
            .filter(|role| role.is_default)
            .map(|role| role.name.clone())
            .collect()
    }
}

/// FusionAuth's self-service registration, as this passwordless service offers it: an unknown
/// address that finishes a hosted login becomes a user registered to the application.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct RegistrationConfiguration {
    pub enabled: bool,
    /// The identity a visitor signs up with (FusionAuth's default: `email`).
    pub login_id_type: RegistrationLoginIdType,
    /// Ours, beyond FusionAuth: when not empty, only addresses of these domains (lower case,
    /// exact match) may sign up.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_email_domains: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum RegistrationLoginIdType {
    #[default]
    Email,
    PhoneNumber,
    Username,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ApplicationTemplates {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passwordless_email_template_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ApplicationPhoneTemplates {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passwordless_template_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordlessConfiguration {
    pub enabled: bool,
    /// Ours, not FusionAuth's: the strategy start uses when the request names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_strategy: Option<LoginStrategy>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct LoginConfiguration {
    pub generate_refresh_tokens: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationRole {
    pub name: String,
    /// Given to a registration that names no roles (FusionAuth's default roles).
    #[serde(default)]
    pub is_default: bool,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum LoginStrategy {
    ClickableLink,
    FormField,
}

impl LoginStrategy {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "ClickableLink" => Some(Self::ClickableLink),
            "FormField" => Some(Self::FormField),
            _ => None,
        }
    }

    /// FusionAuth's default: a link for an email or username, a code to type for a phone.
    pub fn default_for(identity: IdentityType) -> Self {
        match identity {
            IdentityType::PhoneNumber => Self::FormField,
            IdentityType::Email | IdentityType::Username => Self::ClickableLink,
        }
    }
}
