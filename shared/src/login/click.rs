//! The landing page's click in two DynamoDB waves: the page's look at the code and the read of
//! the user its form names go at once ([`crate::oauth2::landing::click`]); then the code's use,
//! the login's writes and the authorization code ([`AlongsideWrite`]) go at once. A click that is
//! not the common one (a one-time code, a sign-up, a hosted login, a user who may not log in
//! unchallenged, a form naming another user) goes the way of every login: the use first.

use async_trait::async_trait;

use super::issue::log_in;
use super::*;
use crate::ports::Records;

/// A write the caller makes beside the login's own, once the login knows what it issues: the
/// landing page's authorization code. It is made before the login knows whether its own writes
/// hold, so what it writes must be harmless left unanswered (an authorization code nobody is
/// told expires unused).
#[async_trait]
pub trait AlongsideWrite: Send + Sync {
    async fn write(&self, logged_in: &LoggedIn) -> Result<(), StoreError>;
    /// The login's own writes did not hold (the user changed meanwhile): what `write` issued is
    /// not what the login answers.
    fn forget(&self);
}

/// What the landing page read at once: the code as its look found it (unused, unexpired), and
/// the tenant, the user and the user's pointer of the user its form named.
pub struct ReadForClick<'a> {
    pub pending: &'a PendingCode,
    pub records: Records,
}

/// [`login_for_authorization_code`] from what the page read: the code's use beside the login's
/// writes and `alongside`'s, for a link's code of a user who may log in unchallenged.
pub async fn login_for_authorization_code_read(
    services: &LoginServices,
    command: LoginCommand,
    read: ReadForClick<'_>,
    alongside: &dyn AlongsideWrite,
) -> Result<LoginOutcome, LoginError> {
    let pending = read.pending;
    let now = services.clock.now_millis();
    let Some((tenant, user)) = common_click(&command, pending, read.records, now) else {
        return login_for_authorization_code(services, command, None).await;
    };
    let clicked = click(services, &command, pending, &tenant, user, alongside, now);
    finish(Box::pin(clicked).await)
}

/// The tenant and the user, when the click is the common one: a link's code, still its user's
/// newest, of a user who may log in unchallenged.
fn common_click(
    command: &LoginCommand,
    pending: &PendingCode,
    records: Records,
    now: i64,
) -> Option<(Tenant, User)> {
    let common = command.one_time_code.is_none()
        && pending.one_time_code_hash.is_none()
        && !pending.sign_up
        && !hosted(pending)
        && !superseded(pending, records.newest_code.as_deref());
    let (tenant, user) = (records.tenant?, records.user?);
    (common
        && tenant.id == pending.tenant_id
        && user.id == pending.user_id
        && check_user(&user, now).is_ok()
        && !challenged(&user))
    .then_some((tenant, user))
}

async fn click(
    services: &LoginServices,
    command: &LoginCommand,
    pending: &PendingCode,
    tenant: &Tenant,
    user: User,
    alongside: &dyn AlongsideWrite,
    now: i64,
) -> Step<LoginOutcome> {
    let application = named_application(services, command.application_id).await?;
    let attempt_id = attempt_id(services);
    let code_hash = codes::hash_secret(&command.code);
    let presented = Presented {
        code_hash: &code_hash,
        one_time_code_hash: None,
        fallback: false,
        application_id: command.application_id,
    };
    crate::metrics::set_tenant(pending.tenant_id);
    let attempt = Attempt {
        services,
        command,
        pending,
        application: application.as_ref(),
        attempt_id: &attempt_id,
        now,
        unused: Some(Unused {
            presented,
            counted: None,
        }),
        alongside: Some(alongside),
    };
    if let Some(logged_in) = log_in(&attempt, tenant, user).await? {
        return Ok(LoginOutcome::LoggedIn(Box::new(logged_in)));
    }
    // The user changed since the page read it; the code is this attempt's now.
    alongside.forget();
    let login = Login {
        services,
        tenant_scope: None,
        command,
        proof: Proof::LinkClick,
        application: application.as_ref(),
        attempt_id: &attempt_id,
        now,
    };
    used_login(&login, pending.clone(), false, None).await
}
