//! A user as stored and shown: its identities, registrations, two-factor methods and actions.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::login_id::IdentityType;

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
    /// When the User API last changed the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_instant: Option<i64>,
    /// Which write of the user this is, as the store keeps it beside the document: never part of
    /// the JSON a client sees or a kickstart gives.
    #[serde(skip)]
    pub revision: Option<String>,
}

impl User {
    /// A user with nothing but its id and tenant, active, as a parser starts one.
    pub fn new(id: Uuid, tenant_id: Uuid) -> Self {
        Self {
            id,
            tenant_id,
            active: true,
            email: None,
            username: None,
            phone_number: None,
            first_name: None,
            middle_name: None,
            last_name: None,
            full_name: None,
            birth_date: None,
            image_url: None,
            mobile_phone: None,
            preferred_languages: Vec::new(),
            timezone: None,
            data: Map::new(),
            expiry: None,
            password_change_required: false,
            password_change_reason: None,
            verified: false,
            locked: false,
            actions: Vec::new(),
            registrations: Vec::new(),
            two_factor: None,
            identities: Vec::new(),
            insert_instant: None,
            last_login_instant: None,
            last_update_instant: None,
            revision: None,
        }
    }
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insert_instant: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_instant: Option<i64>,
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

/// Why a user's `email`, `phoneNumber` or `username` cannot be one of its identities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityProblem {
    /// `email` is not an email address.
    NotEmail,
    /// `phoneNumber` does not parse as a phone number.
    InvalidPhone,
    /// `username` is blank.
    BlankUsername,
    /// None of the three is given.
    NoIdentity,
}

impl User {
    /// The keys of the user's identities (type and canonical value), in the user's order: with
    /// the tenant, what each identity item is stored under.
    pub fn identity_keys(&self) -> Vec<crate::login_id::IdentityKey> {
        self.identities
            .iter()
            .map(|i| crate::login_id::IdentityKey {
                kind: i.kind,
                value: i.value.clone(),
            })
            .collect()
    }

    /// Canonicalises `email` (lower case) and `phoneNumber` (E.164) and derives `identities` from
    /// the three login ids, the email primary when there is one. An identity the user had
    /// already keeps its verification and login instants; a new email identity is verified when
    /// `verified` says so (`verified_reason` names why), the others never are at first.
    pub fn derive_identities(
        &mut self,
        verified_reason: Option<&str>,
    ) -> Result<(), (IdentityType, IdentityProblem)> {
        use crate::login_id::{canonical_text, PhoneNumber};
        let previous = std::mem::take(&mut self.identities);
        let kept = |kind: IdentityType, value: &str| {
            previous
                .iter()
                .find(|i| i.kind == kind && i.value == value)
                .cloned()
        };
        let mut identities = Vec::new();
        if let Some(email) = self.email.as_deref() {
            let canonical = canonical_text(email.trim());
            if !is_email(&canonical) {
                return Err((IdentityType::Email, IdentityProblem::NotEmail));
            }
            self.email = Some(canonical.clone());
            identities.push(
                kept(IdentityType::Email, &canonical).unwrap_or(Identity {
                    kind: IdentityType::Email,
                    value: canonical,
                    display_value: None,
                    primary: true,
                    verified: self.verified,
                    verified_reason: self
                        .verified
                        .then(|| verified_reason.map(str::to_owned))
                        .flatten(),
                    verified_instant: None,
                    last_login_instant: None,
                }),
            );
        }
        if let Some(phone) = self.phone_number.as_deref() {
            let parsed = PhoneNumber::parse(phone)
                .ok_or((IdentityType::PhoneNumber, IdentityProblem::InvalidPhone))?;
            let canonical = parsed.as_str().to_owned();
            self.phone_number = Some(canonical.clone());
            identities.push(
                kept(IdentityType::PhoneNumber, &canonical).unwrap_or(Identity {
                    kind: IdentityType::PhoneNumber,
                    value: canonical,
                    display_value: None,
                    primary: false,
                    verified: false,
                    verified_reason: None,
                    verified_instant: None,
                    last_login_instant: None,
                }),
            );
        }
        if let Some(username) = self.username.as_deref() {
            if username.trim().is_empty() {
                return Err((IdentityType::Username, IdentityProblem::BlankUsername));
            }
            let canonical = canonical_text(username);
            identities.push(
                kept(IdentityType::Username, &canonical).unwrap_or(Identity {
                    kind: IdentityType::Username,
                    display_value: (canonical != username).then(|| username.to_owned()),
                    value: canonical,
                    primary: false,
                    // FusionAuth cannot verify a username, and shows it so.
                    verified: false,
                    verified_reason: Some("Unverifiable".to_owned()),
                    verified_instant: None,
                    last_login_instant: None,
                }),
            );
        }
        let Some(first) = identities.first_mut() else {
            return Err((IdentityType::Email, IdentityProblem::NoIdentity));
        };
        first.primary = true;
        for other in identities.iter_mut().skip(1) {
            other.primary = false;
        }
        self.identities = identities;
        Ok(())
    }
}

/// An address FusionAuth would accept: one `@`, a local part, and a dotted domain of letters,
/// digits and hyphens (FusionAuth refuses, for one, `_` in the domain).
pub fn is_email(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && !local.contains('@')
        && !local.chars().any(|c| c.is_whitespace() || c.is_control())
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}
