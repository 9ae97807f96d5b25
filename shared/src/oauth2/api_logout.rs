//! FusionAuth's `POST /api/logout`: revokes the refresh token the request carries (the
//! `refreshToken` parameter, else the `refresh_token` cookie); with `global`, every refresh token
//! of its owner and the browser's SSO session too. The edge expires the cookies whatever happened:
//! the answer is always 200 with no body, as FusionAuth's, so it tells nobody whether a token
//! was valid.

use uuid::Uuid;

use super::logout::{end_session, LogoutServices};
use super::sso;
use crate::codes;
use crate::ports::{RevocationScope, StoreError};
use crate::session;

#[derive(Clone, Default)]
pub struct ApiLogoutCommand {
    pub global: bool,
    /// The parameter, else the cookie.
    pub refresh_token: Option<String>,
    /// The `fusionauth.sso` cookie.
    pub session_cookie: Option<String>,
    /// The `access_token` cookie: with `global`, a valid one names whose tokens to revoke when no
    /// refresh token does.
    pub access_token: Option<String>,
    /// `X-FusionAuth-TenantId`: a token of another tenant is left alone.
    pub tenant_scope: Option<Uuid>,
}

impl std::fmt::Debug for ApiLogoutCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::redact::redacted;
        f.debug_struct("ApiLogoutCommand")
            .field("global", &self.global)
            .field("refresh_token", &redacted(&self.refresh_token))
            .field("session_cookie", &redacted(&self.session_cookie))
            .field("access_token", &redacted(&self.access_token))
            .field("tenant_scope", &self.tenant_scope)
            .finish()
    }
}

/// What was revoked, for the log and the tests: nothing tells the client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoggedOut {
    pub token_revoked: bool,
    /// Every refresh token of this user (global).
    pub revoked_user: Option<Uuid>,
    pub session_ended: bool,
}

pub async fn api_logout(
    services: &LogoutServices,
    command: ApiLogoutCommand,
) -> Result<LoggedOut, StoreError> {
    let now = services.clock.now_millis();
    let in_scope = |tenant: Uuid| command.tenant_scope.is_none_or(|t| t == tenant);
    let mut outcome = LoggedOut::default();
    let family = match command.refresh_token.as_deref() {
        Some(token) => match session::parse_refresh_token(token) {
            Some(names) => {
                let hash = codes::hash_secret(token);
                services
                    .tokens
                    .token(names.id)
                    .await?
                    .filter(|f| f.token_hash == hash || f.rotated.contains(&hash))
                    .filter(|f| in_scope(f.tenant_id))
            }
            None => None,
        },
        None => None,
    };
    if let Some(family) = &family {
        services.tokens.delete(family.id).await?;
        outcome.token_revoked = true;
    }
    if !command.global {
        return Ok(outcome);
    }
    let session = match command
        .session_cookie
        .as_deref()
        .and_then(sso::parse_secret)
    {
        Some(secret) => services
            .sso_sessions
            .find(&codes::hash_secret(secret))
            .await?
            .filter(|s| in_scope(s.tenant_id)),
        None => None,
    };
    let owner = match family.as_ref().map(|f| f.user_id) {
        Some(user) => Some(user),
        None => match command.access_token.as_deref() {
            Some(token) => access_token_owner(services, token, now, &in_scope).await?,
            None => None,
        },
    }
    .or(session.as_ref().map(|s| s.user_id));
    if let Some(user) = owner {
        services
            .tokens
            .revoke_all(RevocationScope::User(user), now)
            .await?;
        outcome.revoked_user = Some(user);
    }
    if let Some(session) = session {
        end_session(services, &session).await?;
        outcome.session_ended = true;
    }
    tracing::info!(
        token_revoked = outcome.token_revoked,
        global = command.global,
        session_ended = outcome.session_ended,
        "logged out"
    );
    Ok(outcome)
}

/// The user a valid access token of ours (the key its `kid` names, unexpired) was issued to, in
/// the tenant scope.
async fn access_token_owner(
    services: &LogoutServices,
    token: &str,
    now_millis: i64,
    in_scope: &impl Fn(Uuid) -> bool,
) -> Result<Option<Uuid>, StoreError> {
    let Ok(key) = crate::keys::signing_key_of(services.directory.as_ref(), token).await? else {
        return Ok(None);
    };
    let Ok(claims) = services.signer.verify(&key, token, now_millis / 1000) else {
        return Ok(None);
    };
    let uuid = |name: &str| {
        claims
            .get(name)
            .and_then(|v| v.as_str())
            .and_then(|v| Uuid::parse_str(v).ok())
    };
    Ok(uuid("sub").filter(|_| uuid("tid").is_some_and(in_scope)))
}
