//! Sending a started code (`{"code": …}`) in two DynamoDB round trips before SES: the code, then
//! at once the records it needs (its user, the user's code pointer, whether the address is
//! suppressed), the send's rate count and the delivery mark. The mark goes first so that it
//! costs no round trip of its own; whenever the message then does not go out (the code is
//! superseded, the address suppressed, the send rate limited, SES or SNS failing) it is taken
//! back, so that a login verifies only an address a message went to.
//!
//! A username's code goes to its user's email, known only once the user is read: its mark and
//! suppression check take a third round trip. An SMS's guard needs the user too (whether they
//! logged in with that number before): a third round trip after the second.

use super::message::{delivery_of, render_and_send};
use super::route::{count, guard_sms, known_recipient, recipient_of, Channel, Route};
use super::{invalid_code, SendError, SendServices};
use crate::codes;
use crate::login_id::{redact_email, IdentityKey};
use crate::metrics;
use crate::model::{Application, PendingCode, Tenant};
use crate::ports::{DeliveryMark, StoreError, Wanted};
use uuid::Uuid;

/// What this send added to the code's delivery record, to take back if the message does not go.
#[derive(Clone)]
struct Marked {
    identity: IdentityKey,
    mark: DeliveryMark,
}

/// Whether the message went out.
enum Sent {
    Out,
    /// Not sent, answered as sent: the address is on the suppression list.
    Suppressed,
}

pub(super) async fn send_code(
    services: &SendServices,
    tenant_scope: Option<Uuid>,
    code: &str,
) -> Result<(), SendError> {
    let now = services.clock.now_millis();
    let pending = services
        .codes
        .pending(&codes::hash_secret(code))
        .await?
        .filter(|p| p.expires_at_millis > now)
        .filter(|p| tenant_scope.is_none_or(|t| t == p.tenant_id));
    let Some(pending) = pending else {
        metrics::refused_code();
        return Err(invalid_code());
    };
    metrics::set_tenant(pending.tenant_id);
    // Cached in a warm container: no round trip.
    let configured = services
        .directory
        .records(&Wanted {
            tenant: Some(pending.tenant_id),
            application: Some(pending.application_id),
            ..Wanted::default()
        })
        .await?;
    let (Some(tenant), Some(application)) = (configured.tenant, configured.application) else {
        return Err(invalid_code());
    };
    let mut marked = None;
    let sent = mark_and_send(services, code, &pending, &tenant, &application, &mut marked).await;
    let went_out = matches!(sent, Ok(Sent::Out));
    if let (false, Some(Marked { identity, mark })) = (went_out, marked) {
        if let Err(error) = services
            .codes
            .unmark_delivered(&pending.code_hash, &identity, mark)
            .await
        {
            tracing::error!(user_id = %pending.user_id, error = %error,
                "a message that did not go out is still recorded as delivered");
            return Err(SendError::Dependency(error));
        }
    }
    sent.map(|_| ())
}

/// Marks the delivery (as early as the recipient is known), checks and counts the send, and
/// hands the message over; `marked` says what was marked, whatever the outcome.
async fn mark_and_send(
    services: &SendServices,
    code: &str,
    pending: &PendingCode,
    tenant: &Tenant,
    application: &Application,
    marked: &mut Option<Marked>,
) -> Result<Sent, SendError> {
    let channel = Channel::of(pending);
    let known = known_recipient(pending);
    let address_hash = known
        .filter(|_| channel == Channel::Email)
        .map(crate::suppression::address_hash);
    let wanted = Wanted {
        // A sign-up's code carries its user to be; any other reads its user.
        user: pending.user.is_none().then_some(pending.user_id),
        newest_code: Some(pending.user_id),
        suppressed: address_hash.as_deref(),
        ..Wanted::default()
    };
    let (records, counted, marking) = tokio::join!(
        services.directory.records(&wanted),
        count(services, pending, tenant, channel),
        mark(services, code, pending, channel, known),
    );
    *marked = marking.as_ref().ok().cloned().flatten();
    let (records, _) = (records?, marking?);
    if records.newest_code.as_deref() != Some(pending.code_hash.as_str()) {
        // Superseded by a newer start: as unknown.
        metrics::refused_code();
        return Err(invalid_code());
    }
    let Some(user) = pending.user.clone().or(records.user) else {
        return Err(invalid_code());
    };
    counted?;
    let recipient = recipient_of(pending, &user)?;
    let suppressed = match known {
        Some(_) => records.suppressed,
        None => {
            let address_hash = crate::suppression::address_hash(&recipient);
            let (suppressed, marking) = tokio::join!(
                services.suppressions.is_suppressed(&address_hash),
                mark(services, code, pending, channel, Some(&recipient)),
            );
            *marked = marking.as_ref().ok().cloned().flatten();
            marking?;
            suppressed?
        }
    };
    if channel == Channel::Email && suppressed {
        // As a failed delivery: the code stays unsent and undelivered, the answer is the same as
        // for a sent one, so an anonymous caller learns nothing of the address.
        tracing::warn!(user_id = %pending.user_id, to = %redact_email(&recipient),
            "passwordless email not sent: the address is suppressed (it bounced or complained)");
        metrics::suppressed_send();
        return Ok(Sent::Suppressed);
    }
    let country = match channel {
        Channel::Email => None,
        Channel::Sms => Some(guard_sms(services, tenant, &user, &recipient).await?),
    };
    let route = Route {
        channel,
        recipient,
        country,
    };
    render_and_send(services, code, pending, tenant, application, &user, route).await?;
    Ok(Sent::Out)
}

/// Records the delivery to `recipient`, when it is known.
async fn mark(
    services: &SendServices,
    code: &str,
    pending: &PendingCode,
    channel: Channel,
    recipient: Option<&str>,
) -> Result<Option<Marked>, StoreError> {
    let Some(recipient) = recipient else {
        return Ok(None);
    };
    let (identity, fallback_code_hash) = delivery_of(code, pending, channel, recipient);
    let mark = services
        .codes
        .mark_delivered(&pending.code_hash, &identity, fallback_code_hash.as_deref())
        .await?;
    Ok(Some(Marked { identity, mark }))
}
