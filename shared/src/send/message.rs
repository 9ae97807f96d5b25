//! The message: what a template sees, rendered for the route's channel and handed to SES or SNS;
//! and what recording it as delivered to that address or number writes ([`delivery_of`]).

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::route::{Channel, Route};
use super::{fallback_link, magic_link, SendError, SendServices};
use crate::codes;
use crate::login_id::{redact_email, redact_phone, IdentityKey};
use crate::metrics;
use crate::model::{Application, LoginStrategy, PendingCode, Tenant, User};
use crate::ports::{Email, Sms, StoreError};
use crate::templates;

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
    /// A hosted sign-up's message: finishing the login creates the account.
    sign_up: bool,
}

/// The one-time code a message carries, and what the fallback page will check it against.
struct MessageCodes {
    one_time_code: Option<String>,
    fallback_code: Option<String>,
    fallback_code_hash: Option<String>,
}

/// Unseals the code's one-time code for the message. `oneTimeCode` is FormField's, as in
/// FusionAuth; a link's email carries it as its fallback (the fallback page asks for the email
/// address, so an SMS has none).
fn message_codes(
    code: &str,
    pending: &PendingCode,
    channel: Channel,
    recipient: &str,
) -> MessageCodes {
    let unsealed = pending
        .sealed_one_time_code
        .as_deref()
        .and_then(|sealed| codes::unseal_one_time_code(code, sealed));
    let (one_time_code, fallback_code) = match (pending.strategy, channel) {
        (LoginStrategy::FormField, _) => (unsealed, None),
        (LoginStrategy::ClickableLink, Channel::Email) => (None, unsealed),
        (LoginStrategy::ClickableLink, Channel::Sms) => (None, None),
    };
    // What the fallback page will take once the email is out: that code, with that address.
    let fallback_code_hash = fallback_code.as_deref().map(|fallback| {
        let address_hash = crate::suppression::address_hash(recipient);
        codes::hash_fallback_code(&pending.code_hash, &address_hash, fallback)
    });
    MessageCodes {
        one_time_code,
        fallback_code,
        fallback_code_hash,
    }
}

/// What a delivery of the code to `recipient` records ([`crate::ports::CodeStore::mark_delivered`]):
/// the identity that completing the login verifies, and the fallback's hash when the message
/// carries one.
pub(super) fn delivery_of(
    code: &str,
    pending: &PendingCode,
    channel: Channel,
    recipient: &str,
) -> (IdentityKey, Option<String>) {
    let identity = IdentityKey {
        kind: channel.identity_type(),
        value: recipient.to_owned(),
    };
    (
        identity,
        message_codes(code, pending, channel, recipient).fallback_code_hash,
    )
}

/// Renders the message for the route's channel and hands it to SES or SNS (whether the address
/// is suppressed is the caller's to have checked).
pub(super) async fn render_and_send(
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
    let empty = Map::new();
    let MessageCodes {
        one_time_code,
        fallback_code,
        fallback_code_hash: _,
    } = message_codes(code, pending, channel, &recipient);
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
        sign_up: pending.sign_up,
    };
    match channel {
        Channel::Email => {
            send_email(services, pending, tenant, application, &context, recipient).await
        }
        Channel::Sms => {
            send_sms(
                services,
                pending,
                tenant,
                application,
                &context,
                recipient,
                country,
            )
            .await
        }
    }
}

fn template_failed(e: templates::TemplateError) -> StoreError {
    StoreError::new("render template", e)
}

/// Renders the email and hands it to SES.
async fn send_email(
    services: &SendServices,
    pending: &PendingCode,
    tenant: &Tenant,
    application: &Application,
    context: &MessageContext<'_>,
    recipient: String,
) -> Result<(), SendError> {
    let template_id = application
        .email_configuration
        .passwordless_email_template_id
        .or(tenant.email_configuration.passwordless_email_template_id);
    let template = match template_id {
        Some(id) => services.directory.email_template(id).await?,
        None => None,
    };
    let rendered = templates::render_email(
        template.as_ref(),
        &context.user.preferred_languages,
        context,
    )
    .map_err(template_failed)?;
    let from_address = template
        .as_ref()
        .and_then(|t| t.from_email.clone())
        .or_else(|| tenant.email_configuration.default_from_email.clone())
        .ok_or_else(|| StoreError::new("send email", "the tenant has no defaultFromEmail"))?;
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
    Ok(())
}

/// Renders the SMS and hands it to SNS; `country` is the destination's, for the metric.
async fn send_sms(
    services: &SendServices,
    pending: &PendingCode,
    tenant: &Tenant,
    application: &Application,
    context: &MessageContext<'_>,
    recipient: String,
    country: Option<String>,
) -> Result<(), SendError> {
    let template_id = application
        .phone_configuration
        .passwordless_template_id
        .or(tenant.phone_configuration.passwordless_template_id);
    let template = match template_id {
        Some(id) => services.directory.message_template(id).await?,
        None => None,
    };
    let text = templates::render_sms(
        template.as_ref(),
        &context.user.preferred_languages,
        context,
    )
    .map_err(template_failed)?;
    let sms = Sms {
        to: recipient,
        text,
    };
    services.sms.send_sms(&sms).await?;
    metrics::sent("sms", country.as_deref());
    tracing::info!(user_id = %pending.user_id, to = %redact_phone(&sms.to), "passwordless SMS sent");
    Ok(())
}
