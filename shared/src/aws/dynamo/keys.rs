//! What each item is keyed by: `pk` and `sk`, from the entity and its id (or the hash of a secret).

use uuid::Uuid;

use crate::login_id::IdentityKey;
use crate::model::LoginRecord;
use crate::ports::Challenge;

pub fn tenant_key(id: Uuid) -> (String, &'static str) {
    (format!("TENANT#{id}"), "TENANT")
}
pub fn application_key(id: Uuid) -> (String, &'static str) {
    (format!("APPLICATION#{id}"), "APPLICATION")
}
pub fn api_key_key(key_hash: &str) -> (String, &'static str) {
    (format!("APIKEY#{key_hash}"), "APIKEY")
}
pub fn signing_key_key(id: Uuid) -> (String, &'static str) {
    (format!("SIGNINGKEY#{id}"), "SIGNINGKEY")
}
pub fn user_key(id: Uuid) -> (String, &'static str) {
    (format!("USER#{id}"), "USER")
}
/// The user's login state beside the user item ([`super::item::merge_user_state`]).
pub fn user_state_key(id: Uuid) -> (String, &'static str) {
    (format!("USERSTATE#{id}"), "USERSTATE")
}
pub fn identity_key(tenant: Uuid, identity: &IdentityKey) -> (String, &'static str) {
    (
        format!(
            "IDENTITY#{tenant}#{}#{}",
            identity.kind.as_str(),
            identity.value
        ),
        "IDENTITY",
    )
}
pub fn email_template_key(id: Uuid) -> (String, &'static str) {
    (format!("EMAILTEMPLATE#{id}"), "EMAILTEMPLATE")
}
pub fn message_template_key(id: Uuid) -> (String, &'static str) {
    (format!("MESSAGETEMPLATE#{id}"), "MESSAGETEMPLATE")
}
pub fn suppressed_key(address_hash: &str) -> (String, &'static str) {
    (format!("SUPPRESSED#{address_hash}"), "SUPPRESSED")
}
pub fn rate_key(key: &str, window: i64) -> (String, &'static str) {
    (format!("RATE#{key}#{window}"), "RATE")
}
pub fn refresh_token_key(id: Uuid) -> (String, &'static str) {
    (format!("REFRESHTOKEN#{id}"), "REFRESHTOKEN")
}
pub fn user_revocation_key(user_id: Uuid) -> (String, &'static str) {
    (format!("REVOKED#USER#{user_id}"), "REVOKED")
}
pub fn application_revocation_key(application_id: Uuid) -> (String, &'static str) {
    (format!("REVOKED#APPLICATION#{application_id}"), "REVOKED")
}
/// The one item of what anyone may read ([`crate::model::Published`]).
pub fn published_key() -> (String, &'static str) {
    ("PUBLISHED".to_owned(), "PUBLISHED")
}
pub fn challenge_key(kind: Challenge, id_hash: &str) -> (String, &'static str) {
    match kind {
        Challenge::TwoFactor => (format!("TWOFACTOR#{id_hash}"), "TWOFACTOR"),
        Challenge::ChangePassword => (format!("CHANGEPASSWORD#{id_hash}"), "CHANGEPASSWORD"),
        Challenge::IdentityVerification => (
            format!("IDENTITYVERIFICATION#{id_hash}"),
            "IDENTITYVERIFICATION",
        ),
        Challenge::RegistrationVerification => (
            format!("REGISTRATIONVERIFICATION#{id_hash}"),
            "REGISTRATIONVERIFICATION",
        ),
    }
}
pub fn trust_key(trust_hash: &str) -> (String, &'static str) {
    (format!("TRUST#{trust_hash}"), "TRUST")
}
pub fn login_record_key(record: &LoginRecord) -> (String, &'static str) {
    (
        format!(
            "LOGIN#{}#{}#{}",
            record.user_id, record.instant, record.session_id
        ),
        "LOGIN",
    )
}
pub fn code_key(code_hash: &str) -> (String, &'static str) {
    (format!("CODE#{code_hash}"), "CODE")
}
pub fn authorization_code_key(code_hash: &str) -> (String, &'static str) {
    (format!("AUTHCODE#{code_hash}"), "AUTHCODE")
}
pub fn pending_login_key(id_hash: &str) -> (String, &'static str) {
    (format!("PENDINGLOGIN#{id_hash}"), "PENDINGLOGIN")
}
pub fn latest_code_key(user_id: Uuid) -> (String, &'static str) {
    (format!("LATESTCODE#{user_id}"), "LATESTCODE")
}

/// The attribute of a user's `LATESTCODE` item that counts one-time codes compared in `window`.
pub(super) fn compared_attribute(window: i64) -> String {
    format!("compared{window}")
}
pub fn sso_session_key(id_hash: &str) -> (String, &'static str) {
    (format!("SSO#{id_hash}"), "SSO")
}
