//! Kickstart files: FusionAuth's JSON shapes for keys, tenants, applications, API keys and users,
//! parsed and validated as a whole before anything is written. A refusal names the object and
//! the field.
//!
//! `objects` holds the rules of each object (a key, a tenant, a user…); this module the rules
//! of the file as a whole (unique ids and identities, references that resolve).

mod id_tokens;
mod issuer;
mod objects;
mod senders;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::login_id::IdentityKey;
use crate::model::{ApiKey, Application, EmailTemplate, MessageTemplate, SigningKey, Tenant, User};
pub use issuer::{issuer_problem, issuer_warnings};
use objects::{api_key, application, email_template, message_template, signing_key, tenant, user};
pub use senders::SenderIdentities;

/// A validated kickstart: every reference inside the file resolves, every identity is unique in
/// its tenant, and every user carries its derived identities.
#[derive(Clone, Debug, Default)]
pub struct Kickstart {
    pub keys: Vec<SigningKey>,
    pub tenants: Vec<Tenant>,
    pub applications: Vec<Application>,
    /// Each API key with the hash of its raw key; the raw key goes no further.
    pub api_keys: Vec<(String, ApiKey)>,
    pub users: Vec<User>,
    pub email_templates: Vec<EmailTemplate>,
    pub message_templates: Vec<MessageTemplate>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{object}: {field}: {message}")]
pub struct KickstartError {
    pub object: String,
    pub field: String,
    pub message: String,
}

impl KickstartError {
    pub fn new(object: &str, field: &str, message: impl Into<String>) -> Self {
        Self {
            object: object.to_owned(),
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl Kickstart {
    /// The identities of every user, with the user and tenant they belong to.
    pub fn identities(&self) -> impl Iterator<Item = (Uuid, Uuid, IdentityKey)> + '_ {
        self.users.iter().flat_map(|user| {
            user.identities.iter().map(move |identity| {
                (
                    user.tenant_id,
                    user.id,
                    IdentityKey {
                        kind: identity.kind,
                        value: identity.value.clone(),
                    },
                )
            })
        })
    }

    /// Every address mail is sent from: tenants' `defaultFromEmail` and templates' `fromEmail`.
    pub fn sender_addresses(&self) -> Vec<String> {
        let mut senders: Vec<String> = self
            .tenants
            .iter()
            .filter_map(|t| t.email_configuration.default_from_email.clone())
            .chain(
                self.email_templates
                    .iter()
                    .filter_map(|t| t.from_email.clone()),
            )
            .collect();
        senders.sort();
        senders.dedup();
        senders
    }

    /// What the file publishes: the public half of each RS256 and ES256 key, and its first tenant
    /// as the one discovery describes when a request names none.
    pub fn published(&self) -> crate::model::Published {
        crate::model::Published {
            default_tenant_id: self.tenants.first().map(|t| t.id),
            keys: self
                .keys
                .iter()
                .filter_map(|key| crate::tokens::public_key(key).ok().flatten())
                .collect(),
            id_token_signers: id_tokens::signers(self),
            tenant_ids: self.tenants.iter().map(|t| t.id).collect(),
        }
    }

    /// The domains of [`Kickstart::sender_addresses`], lowercased, each once: what an account
    /// verifies as SES domain identities.
    pub fn sender_domains(&self) -> Vec<String> {
        let mut domains: Vec<String> = self
            .sender_addresses()
            .iter()
            .map(|a| {
                a.rsplit('@')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase()
            })
            .collect();
        domains.sort();
        domains.dedup();
        domains
    }

    /// Ids this file refers to but does not define: the loader checks them against the table.
    pub fn external_references(&self) -> ExternalReferences {
        let tenants: HashSet<Uuid> = self.tenants.iter().map(|t| t.id).collect();
        let keys: HashSet<Uuid> = self.keys.iter().map(|k| k.id).collect();
        let applications: HashSet<Uuid> = self.applications.iter().map(|a| a.id).collect();
        let mut refs = ExternalReferences::default();
        let mut tenant_ref = |object: String, id: Uuid| {
            if !tenants.contains(&id) {
                refs.tenants.push((object, id));
            }
        };
        for a in &self.applications {
            tenant_ref(format!("applications[{}]", a.id), a.tenant_id);
        }
        for (_, k) in &self.api_keys {
            if let Some(t) = k.tenant_id {
                tenant_ref(format!("apiKeys[{}]", k.id), t);
            }
        }
        for u in &self.users {
            tenant_ref(format!("users[{}]", u.id), u.tenant_id);
        }
        let configured = |jwt: &crate::model::JwtConfiguration| {
            [jwt.access_token_key_id, jwt.id_token_key_id]
                .into_iter()
                .flatten()
                .filter(|k| !keys.contains(k))
                .collect::<Vec<_>>()
        };
        for t in &self.tenants {
            for k in configured(&t.jwt_configuration) {
                refs.keys.push((format!("tenants[{}]", t.id), k));
            }
        }
        for a in &self.applications {
            for k in configured(&a.jwt_configuration) {
                refs.keys.push((format!("applications[{}]", a.id), k));
            }
        }
        for u in &self.users {
            for r in &u.registrations {
                if !applications.contains(&r.application_id) {
                    refs.applications
                        .push((format!("users[{}]", u.id), r.application_id));
                }
            }
        }
        refs
    }
}

/// References to objects outside the file, each with the object that makes it.
#[derive(Clone, Debug, Default)]
pub struct ExternalReferences {
    pub tenants: Vec<(String, Uuid)>,
    pub keys: Vec<(String, Uuid)>,
    pub applications: Vec<(String, Uuid)>,
}

/// Parses and validates a kickstart file.
pub fn parse(text: &str) -> Result<Kickstart, KickstartError> {
    let root: Value = serde_json::from_str(text)
        .map_err(|e| KickstartError::new("file", "(root)", format!("not valid JSON: {e}")))?;
    let root = root
        .as_object()
        .ok_or_else(|| KickstartError::new("file", "(root)", "must be a JSON object"))?;
    let mut kickstart = Kickstart::default();

    for (i, object) in array(root, "keys")?.iter().enumerate() {
        kickstart
            .keys
            .push(signing_key(&format!("keys[{i}]"), object)?);
    }
    for (i, object) in array(root, "emailTemplates")?.iter().enumerate() {
        kickstart
            .email_templates
            .push(email_template(&format!("emailTemplates[{i}]"), object)?);
    }
    for (i, object) in array(root, "messageTemplates")?.iter().enumerate() {
        kickstart
            .message_templates
            .push(message_template(&format!("messageTemplates[{i}]"), object)?);
    }
    for (i, object) in array(root, "tenants")?.iter().enumerate() {
        kickstart
            .tenants
            .push(tenant(&format!("tenants[{i}]"), object)?);
    }
    for (i, object) in array(root, "applications")?.iter().enumerate() {
        kickstart
            .applications
            .push(application(&format!("applications[{i}]"), object)?);
    }
    for (i, object) in array(root, "apiKeys")?.iter().enumerate() {
        kickstart
            .api_keys
            .push(api_key(&format!("apiKeys[{i}]"), object)?);
    }
    for (i, object) in array(root, "users")?.iter().enumerate() {
        kickstart.users.push(user(&format!("users[{i}]"), object)?);
    }
    check_unique_ids(&kickstart)?;
    check_unique_identities(&kickstart)?;
    check_internal_references(&kickstart)?;
    id_tokens::settle_secrets(&mut kickstart)?;
    Ok(kickstart)
}

fn array<'a>(root: &'a Map<String, Value>, name: &str) -> Result<&'a [Value], KickstartError> {
    match root.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(KickstartError::new(name, name, "must be an array")),
    }
}

pub(super) fn typed<T: DeserializeOwned>(name: &str, object: &Value) -> Result<T, KickstartError> {
    serde_json::from_value(object.clone()).map_err(|e| {
        // serde names the offending field in its message ("missing field `id`").
        let field = e
            .to_string()
            .split('`')
            .nth(1)
            .unwrap_or("(object)")
            .to_owned();
        KickstartError::new(name, &field, e.to_string())
    })
}

pub(super) fn require_uuid(
    name: &str,
    object: &Value,
    field: &str,
) -> Result<Uuid, KickstartError> {
    match object.get(field) {
        Some(Value::String(s)) => Uuid::parse_str(s)
            .map_err(|_| KickstartError::new(name, field, format!("{s:?} is not a UUID"))),
        _ => Err(KickstartError::new(name, field, "is required (a UUID)")),
    }
}

pub(super) fn optional_str<'a>(
    name: &str,
    object: &'a Value,
    field: &str,
) -> Result<Option<&'a str>, KickstartError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KickstartError::new(name, field, "must be a string")),
    }
}

fn check_unique_ids(kickstart: &Kickstart) -> Result<(), KickstartError> {
    fn unique(list: &str, ids: impl Iterator<Item = Uuid>) -> Result<(), KickstartError> {
        let mut seen = HashSet::new();
        for (i, id) in ids.enumerate() {
            if !seen.insert(id) {
                return Err(KickstartError::new(
                    &format!("{list}[{i}]"),
                    "id",
                    format!("{id} is used twice"),
                ));
            }
        }
        Ok(())
    }
    unique("keys", kickstart.keys.iter().map(|k| k.id))?;
    let mut kids = HashSet::new();
    for (i, key) in kickstart.keys.iter().enumerate() {
        if !kids.insert(key.kid()) {
            return Err(KickstartError::new(
                &format!("keys[{i}]"),
                "kid",
                format!("{} names two keys", key.kid()),
            ));
        }
    }
    unique("tenants", kickstart.tenants.iter().map(|t| t.id))?;
    unique("applications", kickstart.applications.iter().map(|a| a.id))?;
    unique("apiKeys", kickstart.api_keys.iter().map(|(_, k)| k.id))?;
    unique("users", kickstart.users.iter().map(|u| u.id))?;
    let mut hashes = HashSet::new();
    for (i, (hash, _)) in kickstart.api_keys.iter().enumerate() {
        if !hashes.insert(hash) {
            return Err(KickstartError::new(
                &format!("apiKeys[{i}]"),
                "key",
                "the same key is listed twice",
            ));
        }
    }
    Ok(())
}

fn check_unique_identities(kickstart: &Kickstart) -> Result<(), KickstartError> {
    let mut owners: HashMap<(Uuid, IdentityKey), Uuid> = HashMap::new();
    for (i, user) in kickstart.users.iter().enumerate() {
        for identity in &user.identities {
            let key = IdentityKey {
                kind: identity.kind,
                value: identity.value.clone(),
            };
            if let Some(other) = owners.insert((user.tenant_id, key), user.id) {
                return Err(KickstartError::new(
                    &format!("users[{i}]"),
                    identity.kind.as_str(),
                    format!(
                        "{:?} is already the {} of user {other} in this tenant",
                        identity.value,
                        identity.kind.as_str()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// References to objects defined in the file must agree with them: a registration's application
/// belongs to the user's tenant.
fn check_internal_references(kickstart: &Kickstart) -> Result<(), KickstartError> {
    let emails: HashSet<Uuid> = kickstart.email_templates.iter().map(|t| t.id).collect();
    let messages: HashSet<Uuid> = kickstart.message_templates.iter().map(|t| t.id).collect();
    let missing = |object: String, field: &str, id: Option<Uuid>, known: &HashSet<Uuid>| match id {
        Some(id) if !known.contains(&id) => Err(KickstartError::new(
            &object,
            field,
            format!("no template {id} in this file"),
        )),
        _ => Ok(()),
    };
    for (i, t) in kickstart.tenants.iter().enumerate() {
        missing(
            format!("tenants[{i}]"),
            "emailConfiguration.passwordlessEmailTemplateId",
            t.email_configuration.passwordless_email_template_id,
            &emails,
        )?;
        missing(
            format!("tenants[{i}]"),
            "phoneConfiguration.passwordlessTemplateId",
            t.phone_configuration.passwordless_template_id,
            &messages,
        )?;
    }
    for (i, a) in kickstart.applications.iter().enumerate() {
        missing(
            format!("applications[{i}]"),
            "emailConfiguration.passwordlessEmailTemplateId",
            a.email_configuration.passwordless_email_template_id,
            &emails,
        )?;
        missing(
            format!("applications[{i}]"),
            "phoneConfiguration.passwordlessTemplateId",
            a.phone_configuration.passwordless_template_id,
            &messages,
        )?;
    }
    let app_tenant: HashMap<Uuid, Uuid> = kickstart
        .applications
        .iter()
        .map(|a| (a.id, a.tenant_id))
        .collect();
    for (i, user) in kickstart.users.iter().enumerate() {
        for (j, registration) in user.registrations.iter().enumerate() {
            if let Some(tenant) = app_tenant.get(&registration.application_id) {
                if *tenant != user.tenant_id {
                    return Err(KickstartError::new(
                        &format!("users[{i}]"),
                        &format!("registrations[{j}].applicationId"),
                        "the application belongs to another tenant",
                    ));
                }
            }
        }
    }
    Ok(())
}
