//! Where a code goes: the channel (email or SMS) and the address, counted against the user's
//! send limit for the channel and, for an SMS, admitted by the tenant's SMS guard.

use super::{SendError, SendServices};
use crate::errors::Errors;
use crate::login_id::{redact_phone, IdentityType, SmsDestination};
use crate::metrics;
use crate::model::{PendingCode, RateLimit, Tenant, User};
use crate::sms_guard::{self, GuardError, SmsAttempt, SmsRefusal};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Channel {
    Email,
    Sms,
}

impl Channel {
    /// The kind of identity a message on this channel reaches.
    pub(super) fn identity_type(self) -> IdentityType {
        match self {
            Channel::Email => IdentityType::Email,
            Channel::Sms => IdentityType::PhoneNumber,
        }
    }
}

/// Where a code goes: the channel and the address, and for an SMS the destination's country.
pub(super) struct Route {
    pub(super) channel: Channel,
    pub(super) recipient: String,
    pub(super) country: Option<String>,
}

impl Channel {
    /// The channel a code goes by: its identity's; a username's code goes by email.
    pub(super) fn of(pending: &PendingCode) -> Channel {
        match pending.identity_type {
            IdentityType::PhoneNumber => Channel::Sms,
            IdentityType::Email | IdentityType::Username => Channel::Email,
        }
    }
}

/// The address or number a code goes to when the code itself says it: its email address or
/// phone number. A username's code goes to its user's email ([`recipient_of`]).
pub(super) fn known_recipient(pending: &PendingCode) -> Option<&str> {
    match pending.identity_type {
        IdentityType::PhoneNumber | IdentityType::Email => Some(&pending.identity_value),
        IdentityType::Username => None,
    }
}

/// The address or number a code goes to.
pub(super) fn recipient_of(pending: &PendingCode, user: &User) -> Result<String, SendError> {
    match (known_recipient(pending), &user.email) {
        (Some(recipient), _) => Ok(recipient.to_owned()),
        (None, Some(email)) => Ok(email.clone()),
        (None, None) => Err(SendError::Invalid(Errors::general(
            "[missing]email",
            "The user has no email address to send the code to.",
        ))),
    }
}

/// Counts the send against the user's limit for the channel: [`SendError::RateLimited`] (and
/// nothing counted) once it is reached. A sign-up's code (an email address's) counts against the
/// address.
pub(super) async fn count(
    services: &SendServices,
    pending: &PendingCode,
    tenant: &Tenant,
    channel: Channel,
) -> Result<(), SendError> {
    let limits = &tenant.rate_limit_configuration;
    let limit: RateLimit = match channel {
        Channel::Email => limits.send_passwordless,
        Channel::Sms => limits.send_passwordless_phone,
    };
    if !limit.enabled {
        return Ok(());
    }
    // A sign-up's user id is new with each start: its sends are counted by address.
    let counted = match pending.sign_up {
        true => format!(
            "signup#{}",
            crate::suppression::address_hash(&pending.identity_value)
        ),
        false => pending.user_id.to_string(),
    };
    let key = format!(
        "send-{}#{}",
        if channel == Channel::Email {
            "email"
        } else {
            "sms"
        },
        counted
    );
    let allowed = services
        .rate_limiter
        .try_acquire(
            &key,
            // A sign-up's window counts an address, not a user (none exists yet).
            (!pending.sign_up).then_some(pending.user_id),
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
    Ok(())
}

/// The SMS guard's verdict on one SMS of `user` to `recipient`: its country when admitted.
pub(super) async fn guard_sms(
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
