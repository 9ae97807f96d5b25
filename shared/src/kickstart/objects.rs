//! The rules of each kickstart object: a signing key, an email or SMS template, a tenant, an API
//! key, a user. Each parser names the object and the field it refuses.

use base64::Engine;
use serde_json::Value;

use super::{optional_str, require_uuid, typed, KickstartError};
use crate::model::IdentityProblem;
use crate::model::{
    ApiKey, Application, EmailTemplate, Generator, GeneratorKind, JwtConfiguration,
    MessageTemplate, SigningAlgorithm, SigningKey, SmsGuardConfiguration, Tenant, User,
    MAX_CODE_TTL_SECONDS,
};
use crate::templates;

pub(super) fn signing_key(name: &str, object: &Value) -> Result<SigningKey, KickstartError> {
    require_uuid(name, object, "id")?;
    let key: SigningKey = typed(name, object)?;
    if let Some(kid) = &key.kid {
        if kid.is_empty() || kid.len() > 128 || !kid.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(KickstartError::new(
                name,
                "kid",
                "must be 1 to 128 visible ASCII characters",
            ));
        }
    }
    match key.algorithm {
        SigningAlgorithm::HS256 | SigningAlgorithm::HS384 | SigningAlgorithm::HS512 => {
            let secret = key
                .secret
                .as_deref()
                .ok_or_else(|| KickstartError::new(name, "secret", "an HMAC key needs a secret"))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(secret)
                .map_err(|_| KickstartError::new(name, "secret", "is not valid base64"))?;
            let least = key.algorithm.min_secret_bytes();
            if bytes.len() < least {
                return Err(KickstartError::new(
                    name,
                    "secret",
                    format!("must decode to at least {least} bytes"),
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

pub(super) fn email_template(name: &str, object: &Value) -> Result<EmailTemplate, KickstartError> {
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

pub(super) fn message_template(
    name: &str,
    object: &Value,
) -> Result<MessageTemplate, KickstartError> {
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

pub(super) fn tenant(name: &str, object: &Value) -> Result<Tenant, KickstartError> {
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
    sms_guard(name, &tenant.sms_guard_configuration)?;
    grace_period(name, &tenant.jwt_configuration)?;
    Ok(tenant)
}

/// FusionAuth's bound on a `OneTimeUse` grace period: at most a day.
const MAX_GRACE_PERIOD_SECONDS: u32 = 86_400;

fn grace_period(name: &str, jwt: &JwtConfiguration) -> Result<(), KickstartError> {
    let grace = jwt
        .refresh_token_one_time_use_configuration
        .and_then(|c| c.grace_period_in_seconds);
    match grace {
        Some(seconds) if seconds > MAX_GRACE_PERIOD_SECONDS => Err(KickstartError::new(
            name,
            "jwtConfiguration.refreshTokenOneTimeUseConfiguration.gracePeriodInSeconds",
            format!("must be at most {MAX_GRACE_PERIOD_SECONDS}, not {seconds}"),
        )),
        _ => Ok(()),
    }
}

/// An application; its OAuth `clientSecret` becomes `clientSecretHash` (SHA-256), and a stored
/// hash in the file is never taken as one. Redirect URLs must be absolute http(s) URLs without a
/// fragment (RFC 6749 3.1.2), since they are compared exactly.
pub(super) fn application(name: &str, object: &Value) -> Result<Application, KickstartError> {
    require_uuid(name, object, "id")?;
    require_uuid(name, object, "tenantId")?;
    let mut application: Application = typed(name, object)?;
    grace_period(name, &application.jwt_configuration)?;
    let oauth = object.get("oauthConfiguration");
    let secret = match oauth.and_then(|o| o.get("clientSecret")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().len() >= 16 => Some(s.trim().to_owned()),
        Some(_) => {
            return Err(KickstartError::new(
                name,
                "oauthConfiguration.clientSecret",
                "must be text of at least 16 characters",
            ))
        }
    };
    let config = &mut application.oauth_configuration;
    config.client_secret_hash = secret.as_deref().map(crate::codes::hash_secret);
    // Kept until the file's id token keys are known ([`super::id_tokens::settle_secrets`]).
    config.id_token_secret = secret.map(crate::model::IdTokenSecret);
    if config
        .client_id
        .as_deref()
        .is_some_and(|id| id != application.id.to_string())
    {
        return Err(KickstartError::new(
            name,
            "oauthConfiguration.clientId",
            "is the application's id in FusionAuth; leave it out or give the id",
        ));
    }
    for url in &config.authorized_redirect_urls {
        if crate::oauth2::RedirectUri::parse(url).is_none() {
            return Err(KickstartError::new(
                name,
                "oauthConfiguration.authorizedRedirectURLs",
                format!("{url:?} is not an absolute http(s) URL without a fragment"),
            ));
        }
    }
    Ok(application)
}

fn sms_guard(name: &str, guard: &SmsGuardConfiguration) -> Result<(), KickstartError> {
    if let Some(code) = guard
        .allowed_countries
        .iter()
        .find(|c| !crate::login_id::is_region(c))
    {
        return Err(KickstartError::new(
            name,
            "smsGuardConfiguration.allowedCountries",
            format!("{code:?} is not an ISO 3166-1 region code such as \"US\" or \"GB\""),
        ));
    }
    if guard.prefix_digits > 6 {
        return Err(KickstartError::new(
            name,
            "smsGuardConfiguration.prefixDigits",
            format!("must be between 0 and 6, not {}", guard.prefix_digits),
        ));
    }
    let prefix = guard.prefix_rate_limit;
    if prefix.enabled && (prefix.limit == 0 || prefix.time_period_in_seconds == 0) {
        return Err(KickstartError::new(
            name,
            "smsGuardConfiguration.prefixRateLimit",
            "an enabled limit needs a limit and a timePeriodInSeconds above 0",
        ));
    }
    if prefix.enabled && guard.per_user_prefix_limit == 0 {
        return Err(KickstartError::new(
            name,
            "smsGuardConfiguration.perUserPrefixLimit",
            "a user's share of an enabled prefixRateLimit must be above 0",
        ));
    }
    if guard.daily_limit.enabled && guard.per_user_daily_limit == 0 {
        return Err(KickstartError::new(
            name,
            "smsGuardConfiguration.perUserDailyLimit",
            "a user's share of an enabled dailyLimit must be above 0",
        ));
    }
    if guard.daily_limit.enabled && guard.daily_limit.limit == 0 {
        return Err(KickstartError::new(
            name,
            "smsGuardConfiguration.dailyLimit",
            "an enabled limit needs a limit above 0 (disable it, or list no countries, to send no SMS)",
        ));
    }
    Ok(())
}

pub(super) fn api_key(name: &str, object: &Value) -> Result<(String, ApiKey), KickstartError> {
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

pub(super) fn user(name: &str, object: &Value) -> Result<User, KickstartError> {
    require_uuid(name, object, "id")?;
    require_uuid(name, object, "tenantId")?;
    let mut user: User = typed(name, object)?;
    // Verified before it came here: FusionAuth's reason for an imported verification.
    user.derive_identities(Some("Import"))
        .map_err(|(_, problem)| {
            let (field, message) = match problem {
                IdentityProblem::NotEmail => (
                    "email",
                    format!(
                        "{:?} is not an email address",
                        user.email.as_deref().unwrap_or("")
                    ),
                ),
                IdentityProblem::InvalidPhone => (
                    "phoneNumber",
                    format!(
                        "{:?} is not a valid phone number",
                        user.phone_number.as_deref().unwrap_or("")
                    ),
                ),
                IdentityProblem::BlankUsername => ("username", "must not be blank".to_owned()),
                IdentityProblem::NoIdentity => (
                    "email",
                    "a user needs an email, a username or a phoneNumber".to_owned(),
                ),
            };
            KickstartError::new(name, field, message)
        })?;
    Ok(user)
}
