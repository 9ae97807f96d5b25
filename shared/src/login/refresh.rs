//! The refresh token a login hands out: drawn from the OS random source, stored only as its hash.

use uuid::Uuid;

use super::Attempt;
use crate::codes;
use crate::model::{Application, StoredRefreshToken, Tenant, User};
use crate::tokens;

const DEFAULT_REFRESH_MINUTES: u32 = 43_200;

/// A refresh token as handed out: the token itself (stored only as its hash), its id, its life.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedRefreshToken {
    pub token: String,
    pub id: Uuid,
    pub lifetime_seconds: i64,
}

impl std::fmt::Debug for IssuedRefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedRefreshToken")
            .field("token", &"<redacted>")
            .field("id", &self.id)
            .field("lifetime_seconds", &self.lifetime_seconds)
            .finish()
    }
}

/// A refresh token, for a login to an application the user is registered to that generates them
/// (and not with `noJWT`).
pub(super) fn issue(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    registered_application: Option<&Application>,
) -> Option<IssuedRefreshToken> {
    let application =
        registered_application.filter(|app| app.login_configuration.generate_refresh_tokens)?;
    if attempt.command.no_jwt {
        return None;
    }
    let minutes = application
        .jwt_configuration
        .refresh_token_time_to_live_in_minutes
        .or(tenant
            .jwt_configuration
            .refresh_token_time_to_live_in_minutes)
        .unwrap_or(DEFAULT_REFRESH_MINUTES);
    Some(IssuedRefreshToken {
        token: tokens::refresh_token(attempt.services.random.as_ref()),
        id: Uuid::new_v4(),
        lifetime_seconds: i64::from(minutes) * 60,
    })
}

pub(super) fn stored(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    user: &User,
    application: &Application,
    token: &IssuedRefreshToken,
) -> StoredRefreshToken {
    StoredRefreshToken {
        id: token.id,
        token_hash: codes::hash_secret(&token.token),
        user_id: user.id,
        application_id: application.id,
        tenant_id: tenant.id,
        start_instant: attempt.now,
        expires_at_millis: attempt.now + token.lifetime_seconds * 1000,
        meta_data: attempt.command.meta_data.clone(),
    }
}
