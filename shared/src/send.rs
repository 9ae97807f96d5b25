//! Send Passwordless Login: deliver a started code by email (SES) or SMS (SNS), within the
//! tenant's rate limits and, for SMS, its SMS guard ([`crate::sms_guard`]); never to an address
//! on the suppression list ([`crate::suppression`]). Sending never consumes the code.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::codes;
use crate::errors::{Errors, FieldProblem};
use crate::login_id::{redact_email, redact_phone, IdentityKey, IdentityType, SmsDestination};
use crate::metrics;
use crate::model::{Application, LoginStrategy, PendingCode, RateLimit, Tenant, User};
use crate::ports::{
    CodeStore, Directory, Email, Mailer, RateLimiter, Sms, SmsSender, StoreError, Suppressions,
    Wanted,
};
use crate::sms_guard::{self, GuardError, SmsAttempt, SmsRefusal};
use crate::start::{self, StartCommand, StartError, StartServices};
use crate::system::{Clock, Random};
use crate::templates;

/// What sending a code runs on, built once per container: start's ports (the legacy usage starts
/// a code as start does), the send rate limits (which the SMS guard counts with too), the
/// suppression list, email and SMS.
#[derive(Clone)]
pub struct SendServices {
    pub directory: Arc<dyn Directory>,
    pub codes: Arc<dyn CodeStore>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub suppressions: Arc<dyn Suppressions>,
    pub mailer: Arc<dyn Mailer>,
    pub sms: Arc<dyn SmsSender>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub settings: Arc<DeliverySettings>,
}

impl SendServices {
    /// The part of these a start needs, for the legacy usage.
    fn as_start(&self) -> StartServices {
        StartServices {
            directory: self.directory.clone(),
            codes: self.codes.clone(),
            clock: self.clock.clone(),
            random: self.random.clone(),
        }
    }
}

/// Delivery settings that are not per tenant: from the function's environment.
#[derive(Clone, Debug, Default)]
pub struct DeliverySettings {
    /// The base of magic links where neither the application nor the tenant has a `baseURL`.
    pub default_base_url: Option<String>,
}

/// The two usages of the endpoint.
#[derive(Debug, PartialEq)]
pub enum SendRequest {
    /// `{"code": …}`: deliver a code from Start Passwordless Login.
    Code(String),
    /// `{"applicationId", "loginId", "state"}`: start a code and email it (deprecated by
    /// FusionAuth, still used by older clients).
    Legacy(StartCommand),
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the request is invalid")]
    Invalid(Errors),
    #[error("too many sends for this user")]
    RateLimited,
    #[error("the SMS guard refused the send")]
    SmsRefused(SmsRefusal),
    #[error(transparent)]
    Dependency(#[from] StoreError),
}

fn invalid_code() -> SendError {
    SendError::Invalid(Errors::field("code", FieldProblem::Invalid))
}

pub async fn send(
    services: &SendServices,
    tenant_scope: Option<Uuid>,
    request: SendRequest,
) -> Result<(), SendError> {
    match request {
        SendRequest::Code(code) => {
            let now = services.clock.now_millis();
            let pending = services
                .codes
                .pending(&codes::hash_secret(&code))
                .await?
                .filter(|p| p.expires_at_millis > now)
                .filter(|p| tenant_scope.is_none_or(|t| t == p.tenant_id));
            let Some(pending) = pending else {
                metrics::refused_code();
                return Err(invalid_code());
            };
            metrics::set_tenant(pending.tenant_id);
            // One read for what the cache lacks: a code carries a copy of its user (start took
            // it), so a warm container reads nothing here.
            let records = services
                .directory
                .records(&Wanted {
                    tenant: Some(pending.tenant_id),
                    application: Some(pending.application_id),
                    user: pending.user.is_none().then_some(pending.user_id),
                    ..Wanted::default()
                })
                .await?;
            let user = pending.user.clone().or(records.user);
            let (Some(tenant), Some(application), Some(user)) =
                (records.tenant, records.application, user)
            else {
                return Err(invalid_code());
            };
            deliver(services, &code, &pending, &tenant, &application, &user).await
        }
        SendRequest::Legacy(command) => {
            let answer_at = tokio::time::Instant::now() + LEGACY_SEND_MIN_DURATION;
            let sent = send_legacy(services, tenant_scope, command).await;
            tokio::time::sleep_until(answer_at).await;
            sent
        }
    }
}

/// The legacy usage answers no sooner than this after it began. A known login id costs a start,
/// a rate count and a delivery; an unknown one a single read: without a floor the time of the
/// answer would tell an anonymous caller which login ids have accounts. It is set above the usual
/// time of a real delivery (DynamoDB and SES in one region), so both answers take the floor.
pub const LEGACY_SEND_MIN_DURATION: std::time::Duration = std::time::Duration::from_millis(300);

async fn send_legacy(
    services: &SendServices,
    tenant_scope: Option<Uuid>,
    command: StartCommand,
) -> Result<(), SendError> {
    let start_services = services.as_start();
    let started = match start::prepare(&start_services, tenant_scope, command).await {
        Ok(started) => {
            metrics::set_tenant(started.tenant.id);
            started
        }
        // Send is anonymous: an unknown login id looks exactly like a known one.
        Err(StartError::UserNotFound) => return Ok(()),
        Err(StartError::Invalid(errors)) => return Err(SendError::Invalid(errors)),
        Err(StartError::Dependency(error)) => return Err(SendError::Dependency(error)),
        Err(StartError::Unauthorized) => return Err(invalid_code()),
    };
    // From here on the login id is known to belong to a user: whatever happens (a rate limit, a
    // user without an email address, a failing dependency) answers as an unknown id does, and is
    // only logged, so that the answer never tells an anonymous caller that the account exists.
    let user_id = started.pending.user_id;
    match send_started(services, &start_services, &started).await {
        Ok(()) | Err(SendError::RateLimited) | Err(SendError::SmsRefused(_)) => {}
        Err(SendError::Invalid(_)) => {
            tracing::warn!(user_id = %user_id, "legacy send: the user has nowhere to send the code")
        }
        Err(SendError::Dependency(error)) => {
            tracing::error!(user_id = %user_id, error = %error, "legacy send: a dependency failed")
        }
    }
    Ok(())
}

/// Counts, stores and delivers a code a legacy send started.
async fn send_started(
    services: &SendServices,
    start_services: &StartServices,
    started: &start::Started,
) -> Result<(), SendError> {
    let user = user_of(services, &started.pending)
        .await?
        .ok_or_else(invalid_code)?;
    // The send is counted before the code is stored: a caller over the limit does not supersede
    // the user's pending code.
    let route = count_send(services, &started.pending, &started.tenant, &user).await?;
    start::save(start_services, started).await?;
    render_and_send(
        services,
        &started.code,
        &started.pending,
        &started.tenant,
        &started.application,
        &user,
        route,
    )
    .await
}

/// The user a code was started for: the copy start took, else (a code saved without one) the
/// Directory's.
async fn user_of(
    services: &SendServices,
    pending: &PendingCode,
) -> Result<Option<User>, StoreError> {
    match &pending.user {
        Some(user) => Ok(Some(user.clone())),
        None => services.directory.user(pending.user_id).await,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Email,
    Sms,
}

/// What a template sees.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageContext<'a> {
    code: &'a str,
    one_time_code: Option<String>,
    link: String,
    /// A link's message also carries its one-time code, and the page that takes it with the
    /// login id, for when the link gets mangled on its way.
    fallback_code: Option<String>,
    fallback_link: String,
    state: &'a Map<String, Value>,
    user: &'a User,
    application: Value,
    tenant: Value,
    time_to_live: u32,
}

async fn deliver(
    services: &SendServices,
    code: &str,
    pending: &PendingCode,
    tenant: &Tenant,
    application: &Application,
    user: &User,
) -> Result<(), SendError> {
    let route = count_send(services, pending, tenant, user).await?;
    render_and_send(services, code, pending, tenant, application, user, route).await
}

/// Where a code goes: the channel and the address, and for an SMS the destination's country.
struct Route {
    channel: Channel,
    recipient: String,
    country: Option<String>,
}

/// Chooses the channel and counts the send against the user's limit for it and, for an SMS,
/// against the tenant's SMS guard.
async fn count_send(
    services: &SendServices,
    pending: &PendingCode,
    tenant: &Tenant,
    user: &User,
) -> Result<Route, SendError> {
    let (channel, recipient) = match (pending.identity_type, pending.strategy) {
        (IdentityType::PhoneNumber, _) => (Channel::Sms, pending.identity_value.clone()),
        (IdentityType::Email, _) => (Channel::Email, pending.identity_value.clone()),
        (IdentityType::Username, _) => match user.email.clone() {
            Some(email) => (Channel::Email, email),
            None => {
                return Err(SendError::Invalid(Errors::general(
                    "[missing]email",
                    "The user has no email address to send the code to.",
                )))
            }
        },
    };

    let limits = &tenant.rate_limit_configuration;
    let limit: RateLimit = match channel {
        Channel::Email => limits.send_passwordless,
        Channel::Sms => limits.send_passwordless_phone,
    };
    if limit.enabled {
        let key = format!(
            "send-{}#{}",
            if channel == Channel::Email {
                "email"
            } else {
                "sms"
            },
            pending.user_id
        );
        let allowed = services
            .rate_limiter
            .try_acquire(
                &key,
                limit.limit,
                limit.time_period_in_seconds,
                services.clock.now_millis(),
            )
            .await?;
        if !allowed {
            tracing::warn!(user_id = %pending.user_id, "passwordless send rate limited");
            metrics::rate_limited(if channel == Channel::Email {
                "send-email"
            } else {
                "send-sms"
            });
            return Err(SendError::RateLimited);
        }
    }
    let country = match channel {
        Channel::Email => None,
        Channel::Sms => Some(guard_sms(services, tenant, user, &recipient).await?),
    };
    Ok(Route {
        channel,
        recipient,
        country,
    })
}

/// The SMS guard's verdict on one SMS of `user` to `recipient`: its country when admitted.
async fn guard_sms(
    services: &SendServices,
    tenant: &Tenant,
    user: &User,
    recipient: &str,
) -> Result<String, SendError> {
    let prefix_digits = tenant.sms_guard_configuration.prefix_digits;
    let Some(destination) = SmsDestination::of(recipient, prefix_digits) else {
        // A stored number that no longer parses has no country to allow.
        let refusal = SmsRefusal::CountryNotAllowed {
            country: "ZZ".to_owned(),
        };
        metrics::sms_guard_refused(refusal.reason(), refusal.country());
        return Err(SendError::SmsRefused(refusal));
    };
    let attempt = SmsAttempt {
        destination: &destination,
        user_id: user.id,
        logged_in_before: sms_guard::has_logged_in(user, recipient),
    };
    let now = services.clock.now_millis();
    match sms_guard::admit(services.rate_limiter.as_ref(), tenant, &attempt, now).await {
        Ok(()) => Ok(attempt.destination.country.clone()),
        Err(GuardError::Refused(refusal)) => {
            tracing::warn!(
                tenant_id = %tenant.id,
                to = %redact_phone(recipient),
                reason = refusal.reason(),
                country = refusal.country(),
                "SMS guard refused a send"
            );
            metrics::sms_guard_refused(refusal.reason(), refusal.country());
            Err(SendError::SmsRefused(refusal))
        }
        Err(GuardError::Dependency(error)) => Err(SendError::Dependency(error)),
    }
}

/// Renders the message for the route's channel and hands it to SES or SNS.
async fn render_and_send(
    services: &SendServices,
    code: &str,
    pending: &PendingCode,
    tenant: &Tenant,
    application: &Application,
    user: &User,
    Route {
        channel,
        recipient,
        country,
    }: Route,
) -> Result<(), SendError> {
    let directory = services.directory.as_ref();
    let empty = Map::new();
    let unsealed = pending
        .sealed_one_time_code
        .as_deref()
        .and_then(|sealed| codes::unseal_one_time_code(code, sealed));
    // `oneTimeCode` is FormField's, as in FusionAuth; a link's email carries it as its fallback
    // (the fallback page asks for the email address, so an SMS has none).
    let (one_time_code, fallback_code) = match (pending.strategy, channel) {
        (LoginStrategy::FormField, _) => (unsealed, None),
        (LoginStrategy::ClickableLink, Channel::Email) => (None, unsealed),
        (LoginStrategy::ClickableLink, Channel::Sms) => (None, None),
    };
    // What the fallback page will take once the email is out: that code, with that address.
    let fallback_code_hash = fallback_code.as_deref().map(|fallback| {
        let address_hash = crate::suppression::address_hash(&recipient);
        codes::hash_fallback_code(&pending.code_hash, &address_hash, fallback)
    });
    let context = MessageContext {
        code,
        one_time_code,
        fallback_code,
        fallback_link: fallback_link(
            services.settings.default_base_url.as_deref(),
            tenant,
            application,
        ),
        link: magic_link(
            services.settings.default_base_url.as_deref(),
            tenant,
            application,
            code,
            pending.state.as_ref(),
        ),
        state: pending.state.as_ref().unwrap_or(&empty),
        user,
        application: json!({"id": application.id, "name": application.name}),
        tenant: json!({"id": tenant.id, "name": tenant.name}),
        time_to_live: tenant
            .external_identifier_configuration
            .passwordless_login_time_to_live_in_seconds,
    };
    let template_failed = |e: templates::TemplateError| StoreError::new("render template", e);
    // What completing the login will verify, once the message is out: the address or number.
    let delivered_to = IdentityKey {
        kind: match channel {
            Channel::Email => IdentityType::Email,
            Channel::Sms => IdentityType::PhoneNumber,
        },
        value: recipient.clone(),
    };
    match channel {
        Channel::Email => {
            let address_hash = crate::suppression::address_hash(&recipient);
            if services.suppressions.is_suppressed(&address_hash).await? {
                // As a failed delivery: the code stays unsent and undelivered, the answer is the
                // same as for a sent one, so an anonymous caller learns nothing of the address.
                tracing::warn!(user_id = %pending.user_id, to = %redact_email(&recipient),
                    "passwordless email not sent: the address is suppressed (it bounced or complained)");
                metrics::suppressed_send();
                return Ok(());
            }
            let template_id = application
                .email_configuration
                .passwordless_email_template_id
                .or(tenant.email_configuration.passwordless_email_template_id);
            let template = match template_id {
                Some(id) => directory.email_template(id).await?,
                None => None,
            };
            let rendered =
                templates::render_email(template.as_ref(), &user.preferred_languages, &context)
                    .map_err(template_failed)?;
            let from_address = template
                .as_ref()
                .and_then(|t| t.from_email.clone())
                .or_else(|| tenant.email_configuration.default_from_email.clone())
                .ok_or_else(|| {
                    StoreError::new("send email", "the tenant has no defaultFromEmail")
                })?;
            let email = Email {
                from_address,
                from_name: rendered
                    .from_name
                    .or_else(|| tenant.email_configuration.default_from_name.clone()),
                to: recipient,
                subject: rendered.subject,
                html: rendered.html,
                text: rendered.text,
            };
            services.mailer.send_email(&email).await?;
            metrics::sent("email", None);
            tracing::info!(user_id = %pending.user_id, to = %redact_email(&email.to), "passwordless email sent");
        }
        Channel::Sms => {
            let template_id = application
                .phone_configuration
                .passwordless_template_id
                .or(tenant.phone_configuration.passwordless_template_id);
            let template = match template_id {
                Some(id) => directory.message_template(id).await?,
                None => None,
            };
            let text =
                templates::render_sms(template.as_ref(), &user.preferred_languages, &context)
                    .map_err(template_failed)?;
            let sms = Sms {
                to: recipient,
                text,
            };
            services.sms.send_sms(&sms).await?;
            metrics::sent("sms", country.as_deref());
            tracing::info!(user_id = %pending.user_id, to = %redact_phone(&sms.to), "passwordless SMS sent");
        }
    }
    services
        .codes
        .mark_delivered(
            &pending.code_hash,
            &delivered_to,
            fallback_code_hash.as_deref(),
        )
        .await?;
    Ok(())
}

/// `{baseURL}/oauth2/passwordless/{code}?tenantId={tenantId}` and then each `state` entry as a
/// query parameter, URL-encoded. The base is the application's, else the tenant's, else the
/// configured default.
pub fn magic_link(
    default_base_url: Option<&str>,
    tenant: &Tenant,
    application: &Application,
    code: &str,
    state: Option<&Map<String, Value>>,
) -> String {
    let base = base_url(default_base_url, tenant, application);
    let mut link = format!(
        "{base}/oauth2/passwordless/{}?tenantId={}",
        url_encode(code),
        tenant.id
    );
    for (key, value) in state.into_iter().flatten() {
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        link.push('&');
        link.push_str(&url_encode(key));
        link.push('=');
        link.push_str(&url_encode(&value));
    }
    link
}

/// The landing page that takes a login id and the one-time code a link's message carries, for
/// the application: `{baseURL}/oauth2/passwordless?client_id={applicationId}`.
pub fn fallback_link(
    default_base_url: Option<&str>,
    tenant: &Tenant,
    application: &Application,
) -> String {
    format!(
        "{}/oauth2/passwordless?client_id={}",
        base_url(default_base_url, tenant, application),
        application.id
    )
}

fn base_url<'a>(
    default_base_url: Option<&'a str>,
    tenant: &'a Tenant,
    application: &'a Application,
) -> &'a str {
    application
        .base_url
        .as_deref()
        .or(tenant.base_url.as_deref())
        .or(default_base_url)
        .unwrap_or("")
        .trim_end_matches('/')
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(base: Option<&str>) -> Tenant {
        serde_json::from_value(
            json!({"id": "f24aca2b-ce4a-4dad-951a-c9d690e71415", "baseURL": base}),
        )
        .unwrap()
    }

    fn application(base: Option<&str>) -> Application {
        serde_json::from_value(json!({
            "id": "10000000-0000-0002-0000-000000000001",
            "tenantId": "f24aca2b-ce4a-4dad-951a-c9d690e71415", "baseURL": base
        }))
        .unwrap()
    }

    #[test]
    fn the_magic_link_carries_the_code_the_tenant_and_the_state_url_encoded() {
        let state = json!({"redirect_uri": "https://app.example/cb?x=1", "n": 2});
        let link = magic_link(
            None,
            &tenant(None),
            &application(Some("https://piedpiper.com/")),
            "abc_-123",
            state.as_object(),
        );
        assert_eq!(
            link,
            "https://piedpiper.com/oauth2/passwordless/abc_-123?tenantId=f24aca2b-ce4a-4dad-951a-c9d690e71415&n=2&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1"
        );
    }

    #[test]
    fn the_base_url_falls_back_from_application_to_tenant_to_the_default() {
        let link = magic_link(
            Some("https://default"),
            &tenant(Some("https://t")),
            &application(None),
            "c",
            None,
        );
        assert!(link.starts_with("https://t/oauth2/passwordless/c?"));
        let link = magic_link(
            Some("https://default"),
            &tenant(None),
            &application(None),
            "c",
            None,
        );
        assert!(link.starts_with("https://default/oauth2/passwordless/c?"));
    }
}
