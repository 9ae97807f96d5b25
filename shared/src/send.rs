//! Send Passwordless Login: deliver a started code by email (SES) or SMS (SNS), within the
//! tenant's rate limits and, for SMS, its SMS guard ([`crate::sms_guard`]); never to an address
//! on the suppression list ([`crate::suppression`]). Sending never consumes the code.
//!
//! `route` chooses the channel and counts the send; `message` renders and hands it over; `links`
//! builds the magic and fallback links the message carries.

mod by_code;
mod links;
mod message;
mod route;

pub use links::{fallback_link, magic_link};

use std::sync::Arc;

use uuid::Uuid;

use crate::errors::{Errors, FieldProblem};
use crate::metrics;
use crate::model::{Application, PendingCode, Tenant, User};
use crate::ports::{
    CodeStore, Directory, Mailer, RateLimiter, SmsSender, StoreError, Suppressions,
};
use crate::sms_guard::SmsRefusal;
use crate::start::{self, StartCommand, StartError, StartServices};
use crate::system::{Clock, Random};
use message::render_and_send;
use route::{Channel, Route};

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
        SendRequest::Code(code) => by_code::send_code(services, tenant_scope, &code).await,
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
        Ok(_) | Err(SendError::RateLimited) | Err(SendError::SmsRefused(_)) => {}
        Err(SendError::Invalid(_)) => {
            tracing::warn!(user_id = %user_id, "legacy send: the user has nowhere to send the code")
        }
        Err(SendError::Dependency(error)) => {
            tracing::error!(user_id = %user_id, error = %error, "legacy send: a dependency failed")
        }
    }
    Ok(())
}

/// What the hosted login page's start sent: the code's hash, and the hash of the address or
/// number it went to ([`crate::suppression::address_hash`]), which a typed one-time code is
/// checked with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub code_hash: String,
    pub address_hash: String,
}

/// Who the hosted login id page signs up when its login id names no one: the page's tenant and
/// application, and the user to be ([`crate::sign_up::offer`]).
pub struct SignUpOffer {
    pub tenant: Tenant,
    pub application: Application,
    pub user: User,
}

/// Starts a code for the login id and sends it as the legacy usage does, for the hosted login
/// page (`command.state` carries the authorization request); where the login id names no one
/// and the page offers a sign-up, a sign-up's code for the user to be. What was sent, or `None`
/// when nothing was, whatever the reason (no such user and no sign-up, a rate limit, nowhere to
/// send it, a failing dependency: logged only), so that the page tells no one whether the
/// account exists.
pub async fn start_and_send(
    services: &SendServices,
    command: StartCommand,
    sign_up: Option<SignUpOffer>,
) -> Result<Option<Delivery>, SendError> {
    let start_services = services.as_start();
    let for_sign_up = sign_up.as_ref().map(|_| command.clone());
    let started = match start::prepare(&start_services, None, command).await {
        Ok(started) => started,
        Err(StartError::UserNotFound) => {
            let sign_up = sign_up.zip(for_sign_up).and_then(|(offer, command)| {
                start::prepare_sign_up(
                    &start_services,
                    offer.tenant,
                    offer.application,
                    command,
                    offer.user,
                )
            });
            match sign_up {
                Some(started) => started,
                None => return Ok(None),
            }
        }
        Err(StartError::Invalid(errors)) => return Err(SendError::Invalid(errors)),
        Err(StartError::Dependency(error)) => return Err(SendError::Dependency(error)),
        Err(StartError::Unauthorized) => return Err(invalid_code()),
    };
    metrics::set_tenant(started.tenant.id);
    let user_id = started.pending.user_id;
    match send_started(services, &start_services, &started).await {
        Ok(recipient) => Ok(Some(Delivery {
            code_hash: started.pending.code_hash.clone(),
            address_hash: crate::suppression::address_hash(&recipient),
        })),
        Err(SendError::RateLimited) | Err(SendError::SmsRefused(_)) => Ok(None),
        Err(SendError::Invalid(_)) => {
            tracing::warn!(user_id = %user_id, "hosted login: the user has nowhere to send the code");
            Ok(None)
        }
        Err(SendError::Dependency(error)) => {
            tracing::error!(user_id = %user_id, error = %error, "hosted login: a dependency failed");
            Ok(None)
        }
    }
}

/// Counts, stores and delivers a code a legacy send started: the address or number it went to
/// (or would have, when it is suppressed). The code is new, so its delivery is recorded once the
/// message is out.
async fn send_started(
    services: &SendServices,
    start_services: &StartServices,
    started: &start::Started,
) -> Result<String, SendError> {
    let pending = &started.pending;
    let channel = Channel::of(pending);
    let known_email = route::known_recipient(pending).filter(|_| channel == Channel::Email);
    // The send is counted before the code is stored: a caller over the limit does not supersede
    // the user's pending code.
    let (user, counted, suppressed) = tokio::join!(
        user_of(services, pending),
        route::count(services, pending, &started.tenant, channel),
        async {
            match known_email {
                Some(address) => {
                    let hash = crate::suppression::address_hash(address);
                    services.suppressions.is_suppressed(&hash).await.map(Some)
                }
                None => Ok(None),
            }
        },
    );
    let user = user?.ok_or_else(invalid_code)?;
    counted?;
    let recipient = route::recipient_of(pending, &user)?;
    let suppressed = match suppressed? {
        Some(suppressed) => suppressed,
        None if channel == Channel::Email => {
            let hash = crate::suppression::address_hash(&recipient);
            services.suppressions.is_suppressed(&hash).await?
        }
        None => false,
    };
    let country = match channel {
        Channel::Email => None,
        Channel::Sms => Some(route::guard_sms(services, &started.tenant, &user, &recipient).await?),
    };
    start::save(start_services, started).await?;
    if suppressed {
        tracing::warn!(user_id = %pending.user_id, to = %crate::login_id::redact_email(&recipient),
            "passwordless email not sent: the address is suppressed (it bounced or complained)");
        metrics::suppressed_send();
        return Ok(recipient);
    }
    let (identity, fallback_code_hash) =
        message::delivery_of(&started.code, pending, channel, &recipient);
    let route = Route {
        channel,
        recipient: recipient.clone(),
        country,
    };
    render_and_send(
        services,
        &started.code,
        pending,
        &started.tenant,
        &started.application,
        &user,
        route,
    )
    .await?;
    services
        .codes
        .mark_delivered(&pending.code_hash, &identity, fallback_code_hash.as_deref())
        .await?;
    Ok(recipient)
}

/// The user a code was started for: a sign-up's user to be, which the code carries, else the
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
