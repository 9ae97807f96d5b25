//! What the user must pass before tokens are issued: active, not expired, not locked, no action
//! preventing the login; then a password change or a two-factor challenge, each handing out an id
//! instead of a login.

use super::*;

const CHANGE_PASSWORD_ID_SECONDS: i64 = 600;

/// Whether `user` may log in at `now` (active, not expired, not locked, no action preventing it):
/// what a refresh token also needs, to be exchanged.
pub fn may_log_in(user: &User, now: i64) -> bool {
    check_user(user, now).is_ok()
}

/// Not found for an inactive user, then expired, locked, prevented by an action.
pub(super) fn check_user(user: &User, now: i64) -> Step<()> {
    let refused = if !user.active {
        LoginOutcome::NotFound
    } else if user.expiry.is_some_and(|expiry| expiry <= now) {
        LoginOutcome::Expired
    } else if user.locked {
        LoginOutcome::Locked
    } else {
        let preventing: Vec<UserAction> = user
            .actions
            .iter()
            .filter(|a| a.prevent_login && a.expiry.is_none_or(|e| e > now))
            .cloned()
            .collect();
        if preventing.is_empty() {
            return Ok(());
        }
        LoginOutcome::Prevented(preventing)
    };
    Err(Stop::Outcome(refused))
}

/// A password change when the user must make one; two-factor when it is on and no valid trust
/// was presented. Either hands out an id instead of a login.
pub(super) async fn challenge(attempt: &Attempt<'_>, tenant: &Tenant, user: &User) -> Step<()> {
    if user.password_change_required {
        let id = issue_id(
            attempt,
            Challenge::ChangePassword,
            user.id,
            CHANGE_PASSWORD_ID_SECONDS,
        )
        .await?;
        return Err(Stop::Outcome(LoginOutcome::PasswordChangeRequired {
            change_password_id: id,
            reason: user
                .password_change_reason
                .clone()
                .unwrap_or_else(|| "Administrative".to_owned()),
        }));
    }
    let methods = user
        .two_factor
        .as_ref()
        .map(|t| t.methods.clone())
        .unwrap_or_default();
    if methods.is_empty() || trusted(attempt, user.id).await? {
        return Ok(());
    }
    let ttl = tenant
        .external_identifier_configuration
        .two_factor_id_time_to_live_in_seconds;
    let id = issue_id(attempt, Challenge::TwoFactor, user.id, i64::from(ttl)).await?;
    Err(Stop::Outcome(LoginOutcome::TwoFactorRequired {
        two_factor_id: id,
        methods,
    }))
}

/// Whether the login presented a valid two-factor trust of this user.
pub(super) async fn trusted(attempt: &Attempt<'_>, user_id: Uuid) -> Result<bool, StoreError> {
    match attempt.command.trust_id.as_deref() {
        Some(trust) => {
            attempt
                .services
                .sessions
                .is_trusted(&codes::hash_secret(trust), user_id, attempt.now)
                .await
        }
        None => Ok(false),
    }
}

/// A fresh id of `kind` for the user, stored by its hash for `seconds`.
pub(super) async fn issue_id(
    attempt: &Attempt<'_>,
    kind: Challenge,
    user_id: Uuid,
    seconds: i64,
) -> Result<String, StoreError> {
    let id = codes::generate_id(attempt.services.random.as_ref());
    attempt
        .services
        .sessions
        .save_challenge(
            kind,
            &codes::hash_secret(&id),
            user_id,
            attempt.now + seconds * 1000,
        )
        .await?;
    Ok(id)
}
