//! The stored model, in FusionAuth's JSON shapes (camelCase, unknown fields ignored) so that a
//! kickstart file, a stored item and an API response read alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
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

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct JwtConfiguration {
    pub access_token_key_id: Option<Uuid>,
    pub time_to_live_in_seconds: Option<u32>,
    pub refresh_token_time_to_live_in_minutes: Option<u32>,
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
}

/// An API key as stored: the key itself is never kept, only its SHA-256.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<ApiKeyPermissions>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiKeyPermissions {
    pub endpoints: std::collections::BTreeMap<String, Vec<String>>,
}

impl ApiKey {
    /// A key without endpoint permissions may call everything; one with them, only what they list.
    pub fn may_call(&self, method: &str, path: &str) -> bool {
        match &self.permissions {
            Some(p) if !p.endpoints.is_empty() => p
                .endpoints
                .get(path)
                .is_some_and(|methods| methods.iter().any(|m| m.eq_ignore_ascii_case(method))),
            _ => true,
        }
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SigningKey {
    pub id: Uuid,
    pub algorithm: SigningAlgorithm,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
}

/// Redacts the secret and the private key.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("algorithm", &self.algorithm)
            .field("name", &self.name)
            .field("secret", &redacted(&self.secret))
            .field("public_key", &self.public_key)
            .field("private_key", &redacted(&self.private_key))
            .finish()
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum SigningAlgorithm {
    HS256,
    RS256,
    ES256,
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

/// A user as stored, with its identities derived from `email`, `username` and `phoneNumber`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[serde(default = "default_true")]
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<i64>,
    #[serde(default)]
    pub password_change_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_change_reason: Option<String>,
    #[serde(default)]
    pub verified: bool,
    #[serde(default)]
    pub locked: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<UserAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registrations: Vec<Registration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_factor: Option<TwoFactor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<Identity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insert_instant: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_instant: Option<i64>,
    /// Which write of the user this is, as the store keeps it beside the document: never part of
    /// the JSON a client sees or a kickstart gives.
    #[serde(skip)]
    pub revision: Option<String>,
}

fn default_true() -> bool {
    true
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(rename = "type")]
    pub kind: IdentityType,
    /// The canonical value: lowercased email or username, E.164 phone number.
    pub value: String,
    /// The value as the user gave it, where it differs from the canonical one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_value: Option<String>,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_instant: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_instant: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub application_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default)]
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_instant: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct TwoFactor {
    /// FusionAuth's two-factor methods, without their `secret`s: this service hands methods to
    /// clients (242, the user object) and never completes a two-factor login itself, so a secret
    /// is dropped wherever a method is read, kickstart or store.
    #[serde(deserialize_with = "methods_without_secrets")]
    pub methods: Vec<Value>,
}

fn methods_without_secrets<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Value>, D::Error> {
    let mut methods = Vec::<Value>::deserialize(deserializer)?;
    for method in &mut methods {
        if let Some(fields) = method.as_object_mut() {
            fields.remove("secret");
        }
    }
    Ok(methods)
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserAction {
    pub action_id: Uuid,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub prevent_login: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<i64>,
}

/// A started login waiting to be sent and completed. Only hashes of the code and of the one-time
/// code are kept, so a leak of the table logs nobody in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PendingCode {
    pub code_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_code_hash: Option<String>,
    /// The one-time code encrypted under a key derived from the code, which is never stored:
    /// send, which is given the code, can deliver it; the table alone reveals nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_one_time_code: Option<String>,
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub application_id: Uuid,
    pub identity_type: IdentityType,
    pub identity_value: String,
    pub strategy: LoginStrategy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Map<String, Value>>,
    pub created_at_millis: i64,
    pub expires_at_millis: i64,
    /// The user as start found them: send renders its message from this copy instead of reading
    /// the user again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The identities send delivered the code to, as the store keeps them beside the document
    /// (concurrent sends each add theirs): completing the login verifies what is here, and a code
    /// never sent verifies nothing.
    #[serde(skip)]
    pub delivered_to: Vec<crate::login_id::IdentityKey>,
}

/// A refresh token as stored: its hash, never the token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoredRefreshToken {
    pub id: Uuid,
    pub token_hash: String,
    pub user_id: Uuid,
    pub application_id: Uuid,
    pub tenant_id: Uuid,
    pub start_instant: i64,
    pub expires_at_millis: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<Value>,
}

/// One line of a user's login history.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoginRecord {
    pub user_id: Uuid,
    pub application_id: Option<Uuid>,
    pub instant: i64,
    pub ip_address: Option<String>,
    pub session_id: Uuid,
}

/// FusionAuth's email template, with MiniJinja syntax (`{{ link }}`) in place of FreeMarker.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EmailTemplate {
    pub id: Uuid,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_from_name: Option<String>,
    pub default_subject: String,
    pub default_html_template: String,
    pub default_text_template: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized_from_names: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized_subjects: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized_html_templates: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized_text_templates: BTreeMap<String, String>,
}

/// FusionAuth's message (SMS) template.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MessageTemplate {
    pub id: Uuid,
    #[serde(default)]
    pub name: String,
    pub default_template: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized_templates: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_signing_key_shows_neither_its_secret_nor_its_private_key() {
        let key = SigningKey {
            id: Uuid::nil(),
            algorithm: SigningAlgorithm::HS256,
            name: "k".into(),
            secret: Some("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==".into()),
            public_key: None,
            private_key: Some("-----BEGIN PRIVATE KEY-----MIIE".into()),
        };
        let logged = format!("{key:?}");
        assert!(!logged.contains("c2VjcmV0"), "{logged}");
        assert!(!logged.contains("MIIE"), "{logged}");
    }
}
