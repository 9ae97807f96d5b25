//! Kickstart files: FusionAuth's JSON shapes for keys, tenants, applications, API keys and users,
//! parsed and validated as a whole before anything is written. A refusal names the object and
//! the field.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::login_id::{canonical_text, IdentityKey, IdentityType, PhoneNumber};
use crate::model::{
    ApiKey, Application, EmailTemplate, Generator, GeneratorKind, Identity, MessageTemplate,
    SigningAlgorithm, SigningKey, Tenant, User, MAX_CODE_TTL_SECONDS,
};
use crate::templates;

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
        for t in &self.tenants {
            if let Some(k) = t.jwt_configuration.access_token_key_id {
                if !keys.contains(&k) {
                    refs.keys.push((format!("tenants[{}]", t.id), k));
                }
            }
        }
        for a in &self.applications {
            if let Some(k) = a.jwt_configuration.access_token_key_id {
                if !keys.contains(&k) {
                    refs.keys.push((format!("applications[{}]", a.id), k));
                }
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
        let name = format!("applications[{i}]");
        require_uuid(&name, object, "id")?;
        require_uuid(&name, object, "tenantId")?;
        kickstart.applications.push(typed(&name, object)?);
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
    Ok(kickstart)
}

fn array<'a>(root: &'a Map<String, Value>, name: &str) -> Result<&'a [Value], KickstartError> {
    match root.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(KickstartError::new(name, name, "must be an array")),
    }
}

fn typed<T: DeserializeOwned>(name: &str, object: &Value) -> Result<T, KickstartError> {
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

fn require_uuid(name: &str, object: &Value, field: &str) -> Result<Uuid, KickstartError> {
    match object.get(field) {
        Some(Value::String(s)) => Uuid::parse_str(s)
            .map_err(|_| KickstartError::new(name, field, format!("{s:?} is not a UUID"))),
        _ => Err(KickstartError::new(name, field, "is required (a UUID)")),
    }
}

fn optional_str<'a>(
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

fn signing_key(name: &str, object: &Value) -> Result<SigningKey, KickstartError> {
    require_uuid(name, object, "id")?;
    let key: SigningKey = typed(name, object)?;
    match key.algorithm {
        SigningAlgorithm::HS256 => {
            let secret = key
                .secret
                .as_deref()
                .ok_or_else(|| KickstartError::new(name, "secret", "HS256 needs a secret"))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(secret)
                .map_err(|_| KickstartError::new(name, "secret", "is not valid base64"))?;
            if bytes.len() < 32 {
                return Err(KickstartError::new(
                    name,
                    "secret",
                    "must decode to at least 32 bytes",
                ));
            }
        }
        SigningAlgorithm::RS256 | SigningAlgorithm::ES256 => {
            if key.private_key.is_none() {
                return Err(KickstartError::new(
                    name,
                    "privateKey",
                    "RS256 and ES256 need a PEM private key",
                ));
            }
            crate::tokens::check_key(&key).map_err(|e| {
                KickstartError::new(name, "privateKey", format!("is not a usable key: {e}"))
            })?;
        }
    }
    Ok(key)
}

fn compiles(name: &str, field: &str, source: &str) -> Result<(), KickstartError> {
    let kind = if field.to_ascii_lowercase().contains("html") {
        "t.html"
    } else {
        "t.txt"
    };
    templates::check(kind, source)
        .map_err(|e| KickstartError::new(name, field, format!("does not compile: {e}")))
}

fn email_template(name: &str, object: &Value) -> Result<EmailTemplate, KickstartError> {
    require_uuid(name, object, "id")?;
    let template: EmailTemplate = typed(name, object)?;
    compiles(name, "defaultSubject", &template.default_subject)?;
    compiles(name, "defaultHtmlTemplate", &template.default_html_template)?;
    compiles(name, "defaultTextTemplate", &template.default_text_template)?;
    for (field, variants) in [
        ("localizedSubjects", &template.localized_subjects),
        ("localizedHtmlTemplates", &template.localized_html_templates),
        ("localizedTextTemplates", &template.localized_text_templates),
    ] {
        for (lang, source) in variants {
            compiles(name, &format!("{field}.{lang}"), source)?;
        }
    }
    Ok(template)
}

fn message_template(name: &str, object: &Value) -> Result<MessageTemplate, KickstartError> {
    require_uuid(name, object, "id")?;
    let template: MessageTemplate = typed(name, object)?;
    compiles(name, "defaultTemplate", &template.default_template)?;
    for (lang, source) in &template.localized_templates {
        compiles(name, &format!("localizedTemplates.{lang}"), source)?;
    }
    Ok(template)
}

/// A code needs 128 bits.
const MIN_CODE_BITS: f64 = 128.0;
/// ASVS's 20 bits for a one-time code, as it counts them: six digits (19.93 bits) pass.
const MIN_ONE_TIME_CODE_BITS: f64 = 19.9;

/// The entropy of a generator's output: its length times the bits of one symbol of its alphabet
/// (a byte 8, a letter of 26 about 4.7, one of 36 letters and digits about 5.2, a digit 3.3).
fn generator_bits(generator: Generator) -> f64 {
    let symbols: f64 = match generator.kind {
        GeneratorKind::RandomBytes => 256.0,
        GeneratorKind::RandomDigits => 10.0,
        GeneratorKind::RandomAlpha => 26.0,
        GeneratorKind::RandomAlphaNumeric => 36.0,
    };
    f64::from(generator.length) * symbols.log2()
}

fn tenant(name: &str, object: &Value) -> Result<Tenant, KickstartError> {
    require_uuid(name, object, "id")?;
    let tenant: Tenant = typed(name, object)?;
    let config = &tenant.external_identifier_configuration;
    let ttl = config.passwordless_login_time_to_live_in_seconds;
    if ttl == 0 || ttl > MAX_CODE_TTL_SECONDS {
        return Err(KickstartError::new(
            name,
            "externalIdentifierConfiguration.passwordlessLoginTimeToLiveInSeconds",
            format!("must be between 1 and {MAX_CODE_TTL_SECONDS}, not {ttl}"),
        ));
    }
    let code = config.passwordless_login_generator;
    if code.length > 128 || generator_bits(code) < MIN_CODE_BITS {
        return Err(KickstartError::new(
            name,
            "externalIdentifierConfiguration.passwordlessLoginGenerator",
            format!(
                "must give at least {MIN_CODE_BITS} bits and be at most 128 long: \
                 16 random bytes, 25 letters and digits, 28 letters or 39 digits \
                 ({:?} × {} gives {:.0})",
                code.kind,
                code.length,
                generator_bits(code)
            ),
        ));
    }
    let otc = config.passwordless_login_one_time_code_generator;
    if otc.length > 32
        || otc.kind == GeneratorKind::RandomBytes
        || generator_bits(otc) < MIN_ONE_TIME_CODE_BITS
    {
        return Err(KickstartError::new(
            name,
            "externalIdentifierConfiguration.passwordlessLoginOneTimeCodeGenerator",
            format!(
                "must be digits or letters, at most 32 long, with at least 20 bits (ASVS): \
                 6 digits, 5 letters or 4 letters and digits ({:?} × {} gives {:.1})",
                otc.kind,
                otc.length,
                generator_bits(otc)
            ),
        ));
    }
    for (field, limit) in [
        (
            "rateLimitConfiguration.sendPasswordless",
            tenant.rate_limit_configuration.send_passwordless,
        ),
        (
            "rateLimitConfiguration.sendPasswordlessPhone",
            tenant.rate_limit_configuration.send_passwordless_phone,
        ),
    ] {
        if limit.enabled && (limit.limit == 0 || limit.time_period_in_seconds == 0) {
            return Err(KickstartError::new(
                name,
                field,
                "an enabled limit needs a limit and a timePeriodInSeconds above 0",
            ));
        }
    }
    Ok(tenant)
}

fn api_key(name: &str, object: &Value) -> Result<(String, ApiKey), KickstartError> {
    require_uuid(name, object, "id")?;
    let raw = optional_str(name, object, "key")?
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| KickstartError::new(name, "key", "is required"))?;
    if raw.len() < 16 {
        return Err(KickstartError::new(
            name,
            "key",
            "must be at least 16 characters",
        ));
    }
    let key: ApiKey = typed(name, object)?;
    Ok((crate::codes::hash_secret(raw.trim()), key))
}

fn user(name: &str, object: &Value) -> Result<User, KickstartError> {
    require_uuid(name, object, "id")?;
    require_uuid(name, object, "tenantId")?;
    let mut user: User = typed(name, object)?;
    let mut identities = Vec::new();
    if let Some(email) = user.email.as_deref() {
        let canonical = canonical_text(email.trim());
        let valid = canonical
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if !valid {
            return Err(KickstartError::new(
                name,
                "email",
                format!("{email:?} is not an email address"),
            ));
        }
        user.email = Some(canonical.clone());
        identities.push(Identity {
            kind: IdentityType::Email,
            value: canonical,
            display_value: None,
            primary: true,
            verified: user.verified,
            // Verified before it came here: FusionAuth's reason for an imported verification.
            verified_reason: user.verified.then(|| "Import".to_owned()),
            verified_instant: None,
            last_login_instant: None,
        });
    }
    if let Some(phone) = user.phone_number.as_deref() {
        let parsed = PhoneNumber::parse(phone).ok_or_else(|| {
            KickstartError::new(
                name,
                "phoneNumber",
                format!("{phone:?} is not a valid phone number"),
            )
        })?;
        user.phone_number = Some(parsed.as_str().to_owned());
        identities.push(Identity {
            kind: IdentityType::PhoneNumber,
            value: parsed.as_str().to_owned(),
            display_value: None,
            primary: identities.is_empty(),
            verified: false,
            verified_reason: None,
            verified_instant: None,
            last_login_instant: None,
        });
    }
    if let Some(username) = user.username.as_deref() {
        if username.trim().is_empty() {
            return Err(KickstartError::new(name, "username", "must not be blank"));
        }
        let canonical = canonical_text(username);
        identities.push(Identity {
            kind: IdentityType::Username,
            display_value: (canonical != username).then(|| username.to_owned()),
            value: canonical,
            primary: identities.is_empty(),
            // FusionAuth cannot verify a username, and shows it so.
            verified: false,
            verified_reason: Some("Unverifiable".to_owned()),
            verified_instant: None,
            last_login_instant: None,
        });
    }
    if identities.is_empty() {
        return Err(KickstartError::new(
            name,
            "email",
            "a user needs an email, a username or a phoneNumber",
        ));
    }
    user.identities = identities;
    Ok(user)
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

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../kickstart/demo.json");

    #[test]
    fn the_demo_kickstart_loads() {
        let kickstart = parse(EXAMPLE).unwrap();
        assert!(!kickstart.users.is_empty());
        assert!(kickstart.api_keys.iter().all(|(hash, _)| hash.len() == 64));
    }

    #[test]
    fn identities_are_derived_in_canonical_form() {
        let kickstart = parse(
            r#"{"tenants":[{"id":"f24aca2b-ce4a-4dad-951a-c9d690e71415"}],
                "users":[{"id":"00000000-0000-0001-0000-000000000001",
                          "tenantId":"f24aca2b-ce4a-4dad-951a-c9d690e71415",
                          "email":"Richard@PiedPiper.com","username":"Richard",
                          "phoneNumber":"(303) 555-1212"}]}"#,
        )
        .unwrap();
        let user = &kickstart.users[0];
        assert_eq!(user.email.as_deref(), Some("richard@piedpiper.com"));
        assert_eq!(user.phone_number.as_deref(), Some("+13035551212"));
        let values: Vec<_> = user.identities.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(values, ["richard@piedpiper.com", "+13035551212", "richard"]);
    }

    #[test]
    fn a_bad_file_is_refused_naming_the_object_and_field() {
        let err = parse(
            r#"{"users":[{"id":"00000000-0000-0001-0000-000000000001",
                          "tenantId":"f24aca2b-ce4a-4dad-951a-c9d690e71415",
                          "phoneNumber":"not a phone"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            (err.object.as_str(), err.field.as_str()),
            ("users[0]", "phoneNumber")
        );

        let err = parse(r#"{"tenants":[{"id":"x"}]}"#).unwrap_err();
        assert_eq!(
            (err.object.as_str(), err.field.as_str()),
            ("tenants[0]", "id")
        );
    }

    #[test]
    fn an_es256_key_on_another_curve_is_refused_at_load_not_at_login() {
        // A P-384 key: a PEM parser took it, the P-256 signer would not.
        let err = parse(P384_KEY_KICKSTART).unwrap_err();
        assert_eq!(
            (err.object.as_str(), err.field.as_str()),
            ("keys[0]", "privateKey")
        );
    }

    const P384_KEY_KICKSTART: &str = r#"{"keys": [{"id": "a0000000-0000-4000-8000-000000000384", "algorithm": "ES256", "privateKey": "-----BEGIN PRIVATE KEY-----\nMIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDj7wx8BciS2WxHE0ny\n6cicXmJXMpET6HzZfnlbvnBC7zBGykVzNAmk2dmHdoP2wCGhZANiAAS3C4betHd2\nKknn7AGYp+bowFef18Rcb4vHwfX8mDqfkhFHxQFe8FptTa1ifdTCBf5FVrbTjxdF\n9RZVi8EU2MknPbIp+ZFfu6B9QLNm2zpV6A9IVJw8DWFIX/0JAxHHIl0=\n-----END PRIVATE KEY-----\n"}]}"#;

    #[test]
    fn two_users_of_a_tenant_cannot_share_an_identity() {
        let err = parse(
            r#"{"users":[
              {"id":"00000000-0000-0001-0000-000000000001","tenantId":"f24aca2b-ce4a-4dad-951a-c9d690e71415","email":"a@b.com"},
              {"id":"00000000-0000-0001-0000-000000000002","tenantId":"f24aca2b-ce4a-4dad-951a-c9d690e71415","email":"A@b.com"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            (err.object.as_str(), err.field.as_str()),
            ("users[1]", "email")
        );
    }

    #[test]
    fn a_code_lifetime_over_ten_minutes_is_refused() {
        let err = parse(
            r#"{"tenants":[{"id":"f24aca2b-ce4a-4dad-951a-c9d690e71415",
                "externalIdentifierConfiguration":{"passwordlessLoginTimeToLiveInSeconds":601}}]}"#,
        )
        .unwrap_err();
        assert!(err.field.ends_with("passwordlessLoginTimeToLiveInSeconds"));
    }

    /// A tenant whose code generators are `code` and `one_time_code` (`[type, length]`).
    fn tenant_with_generators(code: (&str, u32), one_time_code: (&str, u32)) -> String {
        serde_json::json!({"tenants": [{"id": "f24aca2b-ce4a-4dad-951a-c9d690e71415",
            "externalIdentifierConfiguration": {
                "passwordlessLoginGenerator": {"type": code.0, "length": code.1},
                "passwordlessLoginOneTimeCodeGenerator":
                    {"type": one_time_code.0, "length": one_time_code.1}}}]})
        .to_string()
    }

    #[test]
    fn a_code_generator_needs_128_bits_counted_from_its_alphabet() {
        let refused = |kind, length| {
            parse(&tenant_with_generators((kind, length), ("randomDigits", 6)))
                .err()
                .map(|e| e.field)
        };
        // 24 digits are about 80 bits: refused, though they are 24 characters.
        assert_eq!(
            refused("randomDigits", 24).as_deref(),
            Some("externalIdentifierConfiguration.passwordlessLoginGenerator")
        );
        assert!(refused("randomDigits", 39).is_none(), "129.6 bits");
        assert!(refused("randomAlpha", 27).is_some(), "126.9 bits");
        assert!(refused("randomAlpha", 28).is_none());
        assert!(refused("randomAlphaNumeric", 25).is_none(), "129.2 bits");
        assert!(refused("randomBytes", 15).is_some());
        assert!(refused("randomBytes", 16).is_none());
    }

    #[test]
    fn a_one_time_code_needs_the_20_bits_of_six_digits() {
        let refused = |kind, length| {
            parse(&tenant_with_generators(("randomBytes", 32), (kind, length)))
                .err()
                .map(|e| e.field)
        };
        assert!(refused("randomDigits", 6).is_none());
        assert_eq!(
            refused("randomDigits", 5).as_deref(),
            Some("externalIdentifierConfiguration.passwordlessLoginOneTimeCodeGenerator")
        );
        assert!(refused("randomAlpha", 4).is_some(), "18.8 bits");
        assert!(refused("randomAlpha", 5).is_none());
        assert!(refused("randomAlphaNumeric", 4).is_none(), "20.7 bits");
        assert!(refused("randomBytes", 8).is_some(), "not typeable");
    }

    #[test]
    fn a_two_factor_secret_is_dropped_when_a_user_is_read() {
        let kickstart = parse(
            r#"{"tenants":[{"id":"f24aca2b-ce4a-4dad-951a-c9d690e71415"}],
                "users":[{"id":"00000000-0000-0001-0000-000000000001",
                  "tenantId":"f24aca2b-ce4a-4dad-951a-c9d690e71415", "email":"a@b.example",
                  "twoFactor":{"methods":[{"id":"35VW","method":"authenticator",
                                           "secret":"JBSWY3DPEHPK3PXP"}]}}]}"#,
        )
        .unwrap();
        let user = serde_json::to_string(&kickstart.users[0]).unwrap();
        assert!(user.contains("35VW"));
        assert!(!user.contains("JBSWY3DPEHPK3PXP"));
    }
}
