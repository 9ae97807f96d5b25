//! `/oauth2/authorize` answered from the browser's SSO session ([`super::sso`]): a live session
//! of the client's tenant gives an authorization code at once, for the session's user and the
//! client's application, without a passwordless code; its id token carries the session as
//! `sid` and the session's login as `auth_time`. `prompt=login`, `max_age=0` and a `max_age`
//! the session's login is older than ask for a fresh login instead, as does a user who may no
//! longer log in (deactivated, expired, locked, an action preventing login, not registered where
//! the application requires it) or may not use this application: such a session answers nothing.

use super::authorize::Authorization;
use super::landing::{issue_code, CodeFor, CodeRedirect, LandingServices};
use super::sso;
use crate::codes;
use crate::login;
use crate::model::{LoginRecord, SsoSession, StoredRefreshToken, User};
use crate::ports::{CompletedLogin, Completion, StoreError};
use crate::session::{self, AccessTokenFor, IssuedRefreshToken};

/// The refresh token families one session records at most: past them, a fresh login (and
/// session) is asked for, so the session's item stays far below DynamoDB's 400 KB.
pub const MAX_SESSION_REFRESH_TOKENS: usize = 1000;
/// How often the answer looks at a user that changed under it before it gives up (500).
const USER_READS: usize = 3;

#[derive(Debug)]
pub enum FromSession {
    /// Back to the client with an authorization code.
    Answered(Box<CodeRedirect>),
    /// No live session of the client's tenant, or one that may not answer this request: the
    /// person must sign in (`login_required` under `prompt=none`).
    LoginRequired,
}

/// The authorization code the browser's session (the `fusionauth.sso` cookie's value) gives
/// this request, if it gives one.
pub async fn answer(
    services: &LandingServices,
    authorization: &Authorization,
    cookie: Option<&str>,
) -> Result<FromSession, StoreError> {
    if authorization.prompt.login || authorization.max_age_seconds == Some(0) {
        return Ok(FromSession::LoginRequired);
    }
    let login = &services.login;
    let now = login.clock.now_millis();
    let tenant = &authorization.tenant;
    let Some(session) =
        sso::current_session(services.sso_sessions.as_ref(), cookie, tenant.id, now).await?
    else {
        return Ok(FromSession::LoginRequired);
    };
    let too_old = authorization.max_age_seconds.is_some_and(|max_age| {
        let max_age_millis = i64::try_from(max_age.saturating_mul(1000)).unwrap_or(i64::MAX);
        now.saturating_sub(session.authenticated_at_millis) > max_age_millis
    });
    if too_old || session.refresh_token_ids.len() >= MAX_SESSION_REFRESH_TOKENS {
        return Ok(FromSession::LoginRequired);
    }
    for _ in 0..USER_READS {
        let Some(user) = login.directory.user(session.user_id).await? else {
            return Ok(FromSession::LoginRequired);
        };
        if !may_use(authorization, &user, now) {
            tracing::info!(user_id = %user.id, "an SSO session whose user may not log in here");
            return Ok(FromSession::LoginRequired);
        }
        match issue(services, authorization, &session, user, now).await? {
            Issued::Code(response) => return Ok(FromSession::Answered(Box::new(response))),
            Issued::SessionEnded => return Ok(FromSession::LoginRequired),
            Issued::UserChanged => continue,
        }
    }
    Err(StoreError::new(
        "answer from SSO session",
        "the user kept changing",
    ))
}

/// Whether the session's user may still log in, to this application (registered, or to be
/// registered by this answer where the application is open to them: [`crate::sign_up`]).
fn may_use(authorization: &Authorization, user: &User, now: i64) -> bool {
    let application = &authorization.application;
    let registered = user
        .registrations
        .iter()
        .any(|r| r.application_id == application.id)
        || crate::sign_up::open_to(application, user.email.as_deref());
    user.tenant_id == authorization.tenant.id
        && login::may_log_in(user, now)
        && (registered || !application.oauth_configuration.require_registration)
}

enum Issued {
    Code(CodeRedirect),
    /// The session ended (a logout) while the answer was being made: it answers nothing.
    SessionEnded,
    /// The user changed since it was read: nothing was written.
    UserChanged,
}

/// Issues the tokens as a login does (the JWT; a refresh token where the scope and the
/// application allow it, recorded in the session so that logging out revokes it), writes the
/// login (the user's last login, a login record, the refresh token) and seals the tokens in an
/// authorization code.
async fn issue(
    services: &LandingServices,
    authorization: &Authorization,
    session: &SsoSession,
    mut user: User,
    now: i64,
) -> Result<Issued, StoreError> {
    let login = &services.login;
    let (tenant, application) = (&authorization.tenant, &authorization.application);
    let scope = &authorization.request.scope;
    // As a hosted login does: a user without a registration for an application open to them
    // is registered by this answer's own write of the user.
    let registrations_read = user.registrations.len();
    crate::sign_up::register(&mut user, application, login.random.as_ref());
    let registered_now = user.registrations.len() != registrations_read;
    let registration = user
        .registrations
        .iter()
        .find(|r| r.application_id == application.id)
        .cloned();
    let (refresh, stored): (Option<IssuedRefreshToken>, Option<StoredRefreshToken>) =
        match registration.is_some() && super::issues_refresh_token(application, scope) {
            true => {
                let rules = session::rules(tenant, Some(application));
                let (issued, mut stored) = session::start_refresh_token(
                    login.random.as_ref(),
                    &rules,
                    tenant.id,
                    user.id,
                    application.id,
                    now,
                    None,
                );
                stored.scope = Some(scope.text.clone());
                (Some(issued), Some(stored))
            }
            false => (None, None),
        };
    if let Some(refresh) = &refresh {
        if let Err(error) = services
            .sso_sessions
            .add_refresh_token(&session.id_hash, refresh.id)
            .await
        {
            return match services.sso_sessions.find(&session.id_hash).await? {
                None => Ok(Issued::SessionEnded),
                Some(_) => Err(error),
            };
        }
    }
    let access = session::access_token(
        login.directory.as_ref(),
        &login.signer,
        AccessTokenFor {
            tenant,
            registered: registration
                .as_ref()
                .map(|r| (application, r.roles.as_slice())),
            user: &user,
            session_id: session.id,
            now_millis: now,
            auth_time: session.authenticated_at_millis / 1000,
            authentication_type: "PASSWORDLESS",
            // What `/oauth2/userinfo` answers for.
            scope: Some(scope.text.as_str()),
        },
    )
    .await?;
    user.last_login_instant = Some(now);
    if let Some(r) = user
        .registrations
        .iter_mut()
        .find(|r| r.application_id == application.id)
    {
        r.last_login_instant = Some(now);
    }
    let completed = CompletedLogin {
        attempt_id: codes::generate_id(login.random.as_ref()),
        new_revision: codes::generate_id(login.random.as_ref()),
        user: user.clone(),
        refresh_token: stored,
        record: LoginRecord {
            user_id: user.id,
            application_id: Some(application.id),
            instant: now,
            ip_address: None,
            session_id: session.id,
        },
    };
    // The user item is written only with the registration this answer added; otherwise only the
    // last logins change, which the user's login state holds.
    let completion = match registered_now {
        true => login.sessions.complete_login(&completed).await?,
        false => login.sessions.record_login(&completed).await?,
    };
    if completion == Completion::UserChanged {
        return Ok(Issued::UserChanged);
    }
    let response = issue_code(
        services,
        CodeFor {
            tenant,
            application,
            request: &authorization.request,
            user: &user,
            access,
            refresh,
            authenticated_at_millis: session.authenticated_at_millis,
            sso_session_id: Some(session.id),
            user_state: match registration {
                Some(_) => "Authenticated",
                None => "AuthenticatedNotRegistered",
            },
        },
    )
    .await?;
    tracing::info!(user_id = %user.id, session_id = %session.id, "authorized from an SSO session");
    Ok(Issued::Code(response))
}
