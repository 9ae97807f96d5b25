//! The last step of a login, once the code is used up and every check passed: [`log_in`]
//! verifies the identity the code went to ([`super::verification`]), issues the JWT and, where
//! the application's settings say so, a refresh token ([`crate::session`]), and records the
//! login in one write. Here is where a newcomer finds which login gets which token.

use uuid::Uuid;

use super::ahead::Guess;
use super::{
    attempt_id, verification, AccessToken, Attempt, IssuedRefreshToken, LoggedIn, RefreshTokenRule,
    Step,
};
use crate::model::{Application, LoginRecord, StoredRefreshToken, Tenant, User};
use crate::ports::{CompletedLogin, Completion, Consumed, StoreError};
use crate::session::{self, AccessTokenFor};

/// Logs the user in: verifies, issues, records. `None` when the user changed since it was read,
/// and nothing was written.
pub(super) async fn log_in(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    user: User,
) -> Step<Option<LoggedIn>> {
    let prepared = prepare(attempt, tenant, user, None).await?;
    let provisional = attempt.alongside.map(|_| prepared.provisional(attempt));
    let completion = record(
        attempt,
        &prepared.completed,
        prepared.changed,
        provisional.as_ref(),
    )
    .await?;
    if completion == Completion::UserChanged {
        return Ok(None);
    }
    Ok(Some(finish(attempt, tenant, prepared).await?))
}

/// Logs the user in whose login was written ahead of its read ([`super::ahead`]): `None`, with
/// nothing issued, when what was written is not what this user's login writes (the user's
/// document changes, or the registration or the identity the guess assumed is not there).
pub(super) async fn log_in_ahead(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    user: User,
    guess: &Guess,
) -> Step<Option<LoggedIn>> {
    let prepared = prepare(attempt, tenant, user, Some(guess)).await?;
    let completed = &prepared.completed;
    let as_written = !prepared.changed
        && completed.last_logins() == guess.ahead.last_logins
        && completed.record == guess.ahead.record
        && completed.refresh_token.as_ref().map(|t| t.id)
            == guess.ahead.refresh_token.as_ref().map(|t| t.id);
    if !as_written {
        return Ok(None);
    }
    Ok(Some(finish(attempt, tenant, prepared).await?))
}

/// What a login issues and writes, worked out from the user it read.
pub(super) struct Prepared {
    kind: verification::LoggedInKind,
    access_token: Option<AccessToken>,
    refresh_token: Option<IssuedRefreshToken>,
    completed: CompletedLogin,
    /// The login changes more of the user's document than its last logins.
    changed: bool,
}

impl Prepared {
    /// The login as it answers once written, for a write beside its own ([`AlongsideWrite`]):
    /// without verification ids, which only a login that is not complete hands out.
    fn provisional(&self, attempt: &Attempt<'_>) -> LoggedIn {
        LoggedIn {
            kind: self.kind,
            access_token: self.access_token.clone(),
            refresh_token: self.refresh_token.clone(),
            verification: Default::default(),
            state: attempt.pending.state.clone(),
            user: self.completed.user.clone(),
            authenticated_at_millis: attempt.now,
        }
    }
}

async fn prepare(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    mut user: User,
    guess: Option<&Guess>,
) -> Step<Prepared> {
    let now = attempt.now;
    let read = user.clone();
    // A hosted login to an application open to sign-ups registers a user of the tenant who has
    // no registration for it, in this login's own write of the user.
    if let Some(application) = attempt
        .application
        .filter(|_| super::hosted(attempt.pending))
    {
        crate::sign_up::register(&mut user, application, attempt.services.random.as_ref());
    }
    verification::record_login_on_user(
        &mut user,
        tenant,
        attempt.pending,
        attempt.application,
        now,
    );
    let registration = attempt.application.and_then(|app| {
        user.registrations
            .iter()
            .find(|r| r.application_id == app.id)
            .cloned()
    });
    let kind = verification::kind_of_login(
        tenant,
        &user,
        attempt.pending,
        attempt.application,
        registration.as_ref(),
    );
    let registered = attempt
        .application
        .zip(registration.as_ref())
        .map(|(app, r)| (app, r.roles.as_slice()));
    let (refresh_token, stored) = match guess {
        // The token the guess wrote, where this login issues one at all.
        Some(guess) if issues_refresh_token(attempt, registered.map(|(app, _)| app)) => {
            (guess.issued.clone(), guess.ahead.refresh_token.clone())
        }
        Some(_) => (None, None),
        None => start_refresh_token(attempt, tenant, user.id, registered.map(|(app, _)| app)),
    };
    let session_id = match (&refresh_token, guess) {
        (Some(token), _) => token.id,
        (None, Some(guess)) => guess.ahead.record.session_id,
        (None, None) => Uuid::new_v4(),
    };
    let access_token = access_token(attempt, tenant, registered, &user, session_id).await?;
    let changed = document_changed(&read, &user);
    let completed = CompletedLogin {
        attempt_id: attempt.attempt_id.to_owned(),
        new_revision: attempt_id(attempt.services),
        refresh_token: stored,
        record: login_record(attempt, user.id, session_id),
        user,
    };
    Ok(Prepared {
        kind,
        access_token,
        refresh_token,
        completed,
        changed,
    })
}

/// What a written login answers: its verification ids, and the user logged in.
async fn finish(attempt: &Attempt<'_>, tenant: &Tenant, prepared: Prepared) -> Step<LoggedIn> {
    let Prepared {
        kind,
        access_token,
        refresh_token,
        completed,
        ..
    } = prepared;
    let user = completed.user;
    let verification = verification::verification_ids(attempt, tenant, user.id, kind).await?;
    tracing::info!(user_id = %user.id, kind = ?kind, "passwordless login completed");
    Ok(LoggedIn {
        kind,
        access_token,
        refresh_token,
        verification,
        state: attempt.pending.state.clone(),
        user,
        authenticated_at_millis: attempt.now,
    })
}

/// The line of the user's login history a login at `attempt.now` writes.
pub(super) fn login_record(attempt: &Attempt<'_>, user_id: Uuid, session_id: Uuid) -> LoginRecord {
    LoginRecord {
        user_id,
        application_id: attempt.application.map(|a| a.id),
        instant: attempt.now,
        ip_address: attempt.command.ip_address.clone(),
        session_id,
    }
}

/// Whether the login issues a refresh token: to an application the user is registered to that
/// generates them, unless `noJWT`.
pub(super) fn issues_refresh_token(
    attempt: &Attempt<'_>,
    registered_to: Option<&Application>,
) -> bool {
    let command = attempt.command;
    registered_to.is_some_and(|app| match &command.refresh_token {
        RefreshTokenRule::LoginApi => app.login_configuration.generate_refresh_tokens,
        RefreshTokenRule::OAuth(scope) => crate::oauth2::issues_refresh_token(app, scope),
    }) && !command.no_jwt
}

/// A refresh token for a login that issues one ([`issues_refresh_token`]); an OAuth login's
/// family keeps its scope for the refresh token grant.
pub(super) fn start_refresh_token(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    user_id: Uuid,
    registered_to: Option<&Application>,
) -> (Option<IssuedRefreshToken>, Option<StoredRefreshToken>) {
    let command = attempt.command;
    let rules = session::rules(tenant, registered_to);
    registered_to
        .filter(|app| issues_refresh_token(attempt, Some(app)))
        .map(|app| {
            let (issued, mut stored) = session::start_refresh_token(
                attempt.services.random.as_ref(),
                &rules,
                tenant.id,
                user_id,
                app.id,
                attempt.now,
                command.meta_data.clone(),
            );
            if let RefreshTokenRule::OAuth(scope) = &command.refresh_token {
                stored.scope = Some(scope.text.clone());
            }
            (issued, stored)
        })
        .unzip()
}

/// The login's JWT, none with `noJWT`.
async fn access_token(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    registered: Option<(&Application, &[String])>,
    user: &User,
    session_id: Uuid,
) -> Result<Option<AccessToken>, StoreError> {
    if attempt.command.no_jwt {
        return Ok(None);
    }
    let services = attempt.services;
    let token = session::access_token(
        services.directory.as_ref(),
        &services.signer,
        AccessTokenFor {
            tenant,
            registered,
            user,
            session_id,
            now_millis: attempt.now,
            auth_time: attempt.now / 1000,
            authentication_type: "PASSWORDLESS",
            scope: match &attempt.command.refresh_token {
                RefreshTokenRule::OAuth(scope) => Some(scope.text.as_str()),
                RefreshTokenRule::LoginApi => None,
            },
        },
    )
    .await?;
    Ok(Some(token))
}

/// Whether the login changed more of the user than its last logins (an identity verified, a
/// registration added): only then is the user item written.
fn document_changed(read: &User, logged_in: &User) -> bool {
    let without_last_logins = |user: &User| {
        let mut user = user.clone();
        user.last_login_instant = None;
        for identity in &mut user.identities {
            identity.last_login_instant = None;
        }
        for registration in &mut user.registrations {
            registration.last_login_instant = None;
        }
        user
    };
    without_last_logins(read) != without_last_logins(logged_in)
}

/// Writes the login at once: its login record, the refresh token, the user's last logins and,
/// when the login changed the user's document, the user.
async fn record(
    attempt: &Attempt<'_>,
    login: &CompletedLogin,
    document_changed: bool,
    provisional: Option<&LoggedIn>,
) -> Step<Completion> {
    let services = attempt.services;
    let Some(unused) = attempt.unused else {
        return Ok(match document_changed {
            true => services.sessions.complete_login(login).await?,
            false => services.sessions.record_login(login).await?,
        });
    };
    let use_code = async {
        match unused.counted {
            Some(counted) => {
                services
                    .codes
                    .finish_consume(
                        unused.presented,
                        counted,
                        attempt.attempt_id,
                        attempt.now,
                        super::ATTEMPT_LIMITS,
                    )
                    .await
            }
            None => {
                services
                    .codes
                    .consume(
                        unused.presented,
                        attempt.attempt_id,
                        attempt.now,
                        super::ATTEMPT_LIMITS,
                    )
                    .await
            }
        }
    };
    if document_changed {
        // The user item is written only once the code is this attempt's: a rare login (the
        // first by an address), which takes one wave more.
        super::used_code(use_code.await?)?;
        return Ok(services.sessions.complete_login(login).await?);
    }
    // The code's use beside the writes: if another attempt used the code first, what this one
    // put goes again.
    // What the caller writes beside: harmless left behind should the login not hold (an
    // authorization code nobody is told expires unused).
    let alongside = async {
        match (attempt.alongside, provisional) {
            (Some(alongside), Some(logged_in)) => alongside.write(logged_in).await,
            _ => Ok(()),
        }
    };
    let (used, completion, alongside) =
        tokio::join!(use_code, services.sessions.record_login(login), alongside);
    alongside?;
    match (used, completion) {
        (Ok(Consumed::Code(_)), completion) => Ok(completion?),
        (Ok(refused), Ok(completion)) => {
            if completion == Completion::Recorded {
                services.sessions.undo_login(login).await?;
            }
            super::used_code(refused).map(|_| completion)
        }
        (Err(error), completion) => {
            if matches!(completion, Ok(Completion::Recorded)) {
                services.sessions.undo_login(login).await?;
            }
            Err(error.into())
        }
        (Ok(_), Err(error)) => Err(error.into()),
    }
}
