//! A login at the login API that writes before it has read its user, so that it takes two
//! DynamoDB waves: the code's use (for a one-time code, its count against the code), then the
//! read of the user beside everything else at once (the count against the user, the code's use,
//! the login's writes).
//!
//! What a login writes depends on the user only in ways a code already tells for the common
//! login: a registered user who may log in unchallenged, whose document the login leaves as it is
//! (last logins go to the user's state item). The writes are guessed from the code ([`guess`]),
//! made beside the read, then compared with what the user as read makes of the login
//! ([`super::issue::log_in_ahead`]). Any other user (locked, challenged, not registered, an
//! identity to verify) or a code another attempt used first has the writes taken back, and the
//! login goes on as one whose code is used ([`super::used_login`], with the read already made).
//! A lock written while the login reads is a different attribute than the last logins, and the
//! login's read decides as it would have a moment earlier.

use super::issue::{log_in_ahead, login_record, start_refresh_token};
use super::*;
use crate::login_id::IdentityKey;
use crate::ports::{LastLogins, LoginAhead, Records, WrittenAhead};

/// The writes of a login guessed from its code, with the refresh token they store.
pub(super) struct Guess {
    pub(super) ahead: LoginAhead,
    pub(super) issued: Option<IssuedRefreshToken>,
}

/// What the common login of the code's user writes: the last logins of the user, of the
/// registration to the login's application and of the identity the code was for; the record; a
/// refresh token where the application generates them.
fn guess(attempt: &Attempt<'_>, tenant: &Tenant) -> Guess {
    let pending = attempt.pending;
    let application = attempt.application;
    let (issued, stored) = start_refresh_token(attempt, tenant, pending.user_id, application);
    let session_id = issued.as_ref().map_or_else(Uuid::new_v4, |t| t.id);
    Guess {
        ahead: LoginAhead {
            last_logins: LastLogins {
                user_id: pending.user_id,
                at: attempt.now,
                application_id: application.map(|a| a.id),
                identity: Some(IdentityKey {
                    kind: pending.identity_type,
                    value: pending.identity_value.clone(),
                }),
            },
            refresh_token: stored,
            record: login_record(attempt, pending.user_id, session_id),
        },
        issued,
    }
}

/// Whether a login may write ahead of its read: at the login API, for a code that leads to a
/// plain login there, once the code's tenant is at hand (cached when warm).
pub(super) async fn tenant_to_write_ahead(
    login: &Login<'_>,
    pending: &PendingCode,
) -> Step<Option<Tenant>> {
    if !matches!(login.proof, Proof::Code) || !ordinary(login, pending) {
        return Ok(None);
    }
    Ok(login.services.directory.tenant(pending.tenant_id).await?)
}

/// A counted one-time code that matched: the count against the user, the read of the user, the
/// code's use and the login's writes, at once.
pub(super) async fn counted_login(
    login: &Login<'_>,
    presented: Presented<'_>,
    counted: &CountedCode,
    tenant: &Tenant,
) -> Step<LoginOutcome> {
    let services = login.services;
    let pending = counted.pending.as_ref();
    let attempt = attempt(login, pending);
    let guess = guess(&attempt, tenant);
    let wanted = wanted(pending, false);
    let (user_count, records, used, written) = tokio::join!(
        services
            .codes
            .count_on_user(presented, counted, login.now, ATTEMPT_LIMITS),
        services.directory.records(&wanted),
        services.codes.finish_consume(
            presented,
            counted,
            login.attempt_id,
            login.now,
            ATTEMPT_LIMITS,
        ),
        services.sessions.record_login_ahead(&guess.ahead),
    );
    let written = written?;
    let (user_count, used, records) = match (user_count, used, records) {
        (Ok(user_count), Ok(used), Ok(records)) => (user_count, used, records),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return take_back(services, &guess, &written, e.into()).await
        }
    };
    if let Some(refused) = user_count {
        return take_back(services, &guess, &written, refusal(refused)).await;
    }
    if !matches!(used, Consumed::Code(_)) {
        return take_back(services, &guess, &written, refusal(used)).await;
    }
    Box::pin(conclude(login, &attempt, tenant, records, &guess, written)).await
}

/// A link's code, used up by this attempt: the read of the user, with the pointer the use did
/// not look at, beside the login's writes.
pub(super) async fn used_login(
    login: &Login<'_>,
    pending: &PendingCode,
    tenant: &Tenant,
) -> Step<LoginOutcome> {
    let services = login.services;
    let attempt = attempt(login, pending);
    let guess = guess(&attempt, tenant);
    let wanted = wanted(pending, true);
    let (records, written) = tokio::join!(
        services.directory.records(&wanted),
        services.sessions.record_login_ahead(&guess.ahead),
    );
    let written = written?;
    let records = match records {
        Ok(records) if !superseded(pending, records.newest_code.as_deref()) => Ok(records),
        Ok(_) => Err(Stop::Outcome(LoginOutcome::NotFound)),
        Err(e) => Err(e.into()),
    };
    let records = match records {
        Ok(records) => records,
        Err(stop) => return take_back(services, &guess, &written, stop).await,
    };
    Box::pin(conclude(login, &attempt, tenant, records, &guess, written)).await
}

/// The login once its code is this attempt's and its writes are made: logged in where the user
/// as read bears the guess out, else the writes go and the login goes on with the read made.
async fn conclude(
    login: &Login<'_>,
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    records: Records,
    guess: &Guess,
    written: WrittenAhead,
) -> Step<LoginOutcome> {
    let services = login.services;
    crate::metrics::set_tenant(attempt.pending.tenant_id);
    let user = records
        .user
        .clone()
        .filter(|user| check_user(user, login.now).is_ok() && !challenged(user));
    if let (Some(user), WrittenAhead::State(_)) = (user, &written) {
        if let Some(logged_in) = log_in_ahead(attempt, tenant, user, guess).await? {
            return Ok(LoginOutcome::LoggedIn(Box::new(logged_in)));
        }
    }
    services
        .sessions
        .undo_login_ahead(&guess.ahead, &written)
        .await?;
    let pending = attempt.pending.clone();
    super::used_login(login, pending, false, Some(Ok(records))).await
}

fn attempt<'a>(login: &'a Login<'a>, pending: &'a PendingCode) -> Attempt<'a> {
    Attempt {
        services: login.services,
        command: login.command,
        pending,
        application: login.application,
        attempt_id: login.attempt_id,
        now: login.now,
        unused: None,
        alongside: None,
    }
}

/// The code's tenant and user; with `newest`, the user's pointer too.
fn wanted(pending: &PendingCode, newest: bool) -> Wanted<'static> {
    Wanted {
        tenant: Some(pending.tenant_id),
        user: Some(pending.user_id),
        newest_code: newest.then_some(pending.user_id),
        ..Wanted::default()
    }
}

/// Takes the writes back and stops the login with `stop`.
async fn take_back(
    services: &LoginServices,
    guess: &Guess,
    written: &WrittenAhead,
    stop: Stop,
) -> Step<LoginOutcome> {
    services
        .sessions
        .undo_login_ahead(&guess.ahead, written)
        .await?;
    Err(stop)
}

/// What a refused count or use answers.
fn refusal(consumed: Consumed) -> Stop {
    match used_code(consumed) {
        Ok(_) => Stop::Outcome(LoginOutcome::NotFound),
        Err(stop) => stop,
    }
}
