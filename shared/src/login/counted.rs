//! A login by a one-time code, counted against its code: the count against the user beside the
//! read of the user, then the code's use beside the login's writes ([`super::ahead`] where the
//! login may write ahead of its read, else after it).

use super::*;

/// Where a login by a counted one-time code got to.
pub(super) enum Counted {
    LoggedIn(LoginOutcome),
    /// The code is used up by this attempt; the login goes on as one whose code was used first.
    Used(Box<PendingCode>),
}

/// A login by a one-time code counted against the code: the count against the user beside the
/// read of the tenant and the user, then (the common case: a user who may log in, with no
/// challenge, whose document the login leaves as it is) the code's use beside the login's
/// writes. Any other case uses the code first and goes on as [`used_login`].
pub(super) async fn counted_login(
    login: &Login<'_>,
    presented: Presented<'_>,
    counted: &CountedCode,
) -> Step<Counted> {
    let services = login.services;
    let pending = counted.pending.as_ref();
    if counted.matches {
        if let Some(tenant) = ahead::tenant_to_write_ahead(login, pending).await? {
            let outcome = ahead::counted_login(login, presented, counted, &tenant);
            return Ok(Counted::LoggedIn(Box::pin(outcome).await?));
        }
    }
    let wanted = Wanted {
        tenant: Some(pending.tenant_id),
        user: Some(pending.user_id),
        ..Wanted::default()
    };
    let (user_count, records) = tokio::join!(
        services
            .codes
            .count_on_user(presented, counted, login.now, ATTEMPT_LIMITS),
        services.directory.records(&wanted),
    );
    if let Some(refused) = user_count? {
        used_code(refused)?;
    }
    let records = records?;
    let ready = match (records.tenant, records.user) {
        (Some(tenant), Some(user))
            if counted.matches
                && ordinary(login, pending)
                && check_user(&user, login.now).is_ok()
                && !challenged(&user) =>
        {
            Some((tenant, user))
        }
        _ => None,
    };
    let Some((tenant, user)) = ready else {
        let used = services
            .codes
            .finish_consume(
                presented,
                counted,
                login.attempt_id,
                login.now,
                ATTEMPT_LIMITS,
            )
            .await?;
        return Ok(Counted::Used(Box::new(used_code(used)?)));
    };
    crate::metrics::set_tenant(pending.tenant_id);
    let attempt = Attempt {
        services,
        command: login.command,
        pending,
        application: login.application,
        attempt_id: login.attempt_id,
        now: login.now,
        unused: Some(Unused {
            presented,
            counted: Some(counted),
        }),
        alongside: None,
    };
    match log_in(&attempt, &tenant, user).await? {
        Some(logged_in) => Ok(Counted::LoggedIn(LoginOutcome::LoggedIn(Box::new(
            logged_in,
        )))),
        // The user changed since it was read; the code is this attempt's now.
        None => Ok(Counted::Used(counted.pending.clone())),
    }
}

/// Whether the code leads to a plain login where it was presented: of the login's tenant, not
/// bound to an authorization code at the login API, not a sign-up's.
pub(super) fn ordinary(login: &Login<'_>, pending: &PendingCode) -> bool {
    login.tenant_scope.is_none_or(|t| t == pending.tenant_id)
        && !(matches!(login.proof, Proof::Code) && bound_to_authorization(pending))
        && !pending.sign_up
}

/// Whether the user is asked something before a login (a password change, two-factor).
pub(super) fn challenged(user: &User) -> bool {
    user.password_change_required
        || user
            .two_factor
            .as_ref()
            .is_some_and(|t| !t.methods.is_empty())
}
