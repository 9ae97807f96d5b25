//! Revoking refresh tokens (`DELETE /api/jwt/refresh`): one family by id or token, or every
//! family of a user, of an application, or of a user in an application, within the caller's
//! tenant.

use uuid::Uuid;

use crate::codes;
use crate::ports::{RevocationScope, StoreError, Wanted};
use crate::session;

use super::RefreshServices;

/// What a revocation names, as FusionAuth's `DELETE /api/jwt/refresh` takes it.
#[derive(Clone, PartialEq, Eq)]
pub enum Revocation {
    /// The family of this token (its current or a used-up one).
    Token(String),
    TokenId(Uuid),
    User(Uuid),
    UserApplication(Uuid, Uuid),
    Application(Uuid),
}

impl std::fmt::Debug for Revocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Revocation::Token(_) => f.write_str("Token(<redacted>)"),
            Revocation::TokenId(id) => write!(f, "TokenId({id})"),
            Revocation::User(id) => write!(f, "User({id})"),
            Revocation::UserApplication(u, a) => write!(f, "UserApplication({u}, {a})"),
            Revocation::Application(id) => write!(f, "Application({id})"),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked,
    /// No token by that token or id in the caller's tenant (FusionAuth: 404).
    NotFound,
    /// No such user in the caller's tenant (FusionAuth: 404).
    UnknownUser,
    /// No such application in the caller's tenant (FusionAuth: 404).
    UnknownApplication,
}

/// Revokes what `revocation` names, within the tenant `tenant_scope` (the API key's lock or the
/// tenant header) when there is one.
pub async fn revoke(
    services: &RefreshServices,
    tenant_scope: Option<Uuid>,
    revocation: Revocation,
) -> Result<RevokeOutcome, StoreError> {
    let now = services.clock.now_millis();
    let in_scope = |tenant: Uuid| tenant_scope.is_none_or(|t| t == tenant);
    let family = match &revocation {
        Revocation::Token(token) => match session::parse_refresh_token(token) {
            Some(names) => {
                let hash = codes::hash_secret(token);
                services
                    .tokens
                    .token(names.id)
                    .await?
                    .filter(|f| f.token_hash == hash || f.rotated.contains(&hash))
            }
            None => None,
        },
        Revocation::TokenId(id) => services.tokens.token(*id).await?,
        Revocation::User(_) | Revocation::UserApplication(..) | Revocation::Application(_) => {
            let (user, application) = match revocation {
                Revocation::User(u) => (Some(u), None),
                Revocation::UserApplication(u, a) => (Some(u), Some(a)),
                Revocation::Application(a) => (None, Some(a)),
                _ => (None, None),
            };
            let records = services
                .directory
                .records(&Wanted {
                    user,
                    application,
                    ..Wanted::default()
                })
                .await?;
            if user.is_some() && !records.user.is_some_and(|u| in_scope(u.tenant_id)) {
                return Ok(RevokeOutcome::UnknownUser);
            }
            if application.is_some() && !records.application.is_some_and(|a| in_scope(a.tenant_id))
            {
                return Ok(RevokeOutcome::UnknownApplication);
            }
            None
        }
    };
    let scope = match revocation {
        Revocation::Token(_) | Revocation::TokenId(_) => {
            return match family.filter(|f| in_scope(f.tenant_id)) {
                Some(family) => {
                    services.tokens.delete(family.id).await?;
                    Ok(RevokeOutcome::Revoked)
                }
                None => Ok(RevokeOutcome::NotFound),
            };
        }
        Revocation::User(user) => RevocationScope::User(user),
        Revocation::UserApplication(user, app) => RevocationScope::UserApplication(user, app),
        Revocation::Application(app) => RevocationScope::Application(app),
    };
    services.tokens.revoke_all(scope, now).await?;
    Ok(RevokeOutcome::Revoked)
}
