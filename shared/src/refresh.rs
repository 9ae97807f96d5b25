//! Exchange a refresh token for a new JWT (`POST /api/jwt/refresh`) and revoke refresh tokens
//! (`DELETE /api/jwt/refresh`).
//!
//! An exchange needs the token to be its family's current one, unexpired and not revoked, and its
//! user still able to log in to the application (active, not expired, not locked, no action
//! preventing login, still registered). With `OneTimeUse` it hands out a new token of the same
//! family (same `refreshTokenId`) and the presented one is used up. Within the tenant's
//! `gracePeriodInSeconds` after a rotation, the token it replaced exchanges again and is handed
//! the family's current token (two tabs refreshing at once both keep the session); after it,
//! presenting a used-up token is reuse, as the OAuth 2.0 Security BCP describes a stolen token:
//! refused, and with `onOneTimeTokenReuse` the whole family is deleted, so that neither the thief
//! nor the victim holds a working token any longer. Every refusal is the same, whatever its
//! reason.

use std::sync::Arc;

use uuid::Uuid;

use crate::codes;
use crate::model::{
    Application, RefreshTokenExpirationPolicy, RefreshTokenUsagePolicy, StoredRefreshToken, Tenant,
    User,
};
use crate::ports::{
    Directory, NextToken, RefreshTokens, RevocationScope, Rotation, StoreError, Wanted,
    ROTATIONS_REMEMBERED,
};
use crate::session::{self, AccessToken, AccessTokenFor, IssuedRefreshToken};
use crate::system::{Clock, Random};
use crate::tokens::Signer;

/// What exchanging and revoking run on, built once per container.
#[derive(Clone)]
pub struct RefreshServices {
    pub directory: Arc<dyn Directory>,
    pub tokens: Arc<dyn RefreshTokens>,
    pub signer: Arc<Signer>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
}

/// A refresh token exchanged: the new JWT and the refresh token to use next (the presented one
/// with `Reusable`, a new one of the same family with `OneTimeUse`).
#[derive(Debug)]
pub struct Exchanged {
    pub access_token: AccessToken,
    pub refresh_token: IssuedRefreshToken,
    /// What the token was granted for: `/oauth2/token` answers with its scope and, for
    /// `openid`, an id_token.
    pub granted: Granted,
}

/// The user, tenant and application a refresh token was granted to, when the user
/// authenticated (epoch seconds) and the OAuth scope it was granted with, if any.
pub struct Granted {
    pub tenant: Tenant,
    pub application: Application,
    pub user: User,
    pub auth_time: i64,
    pub scope: Option<String>,
}

/// By id: no address or application secret in a log.
impl std::fmt::Debug for Granted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Granted")
            .field("tenant", &self.tenant.id)
            .field("application", &self.application.id)
            .field("user", &self.user.id)
            .field("auth_time", &self.auth_time)
            .field("scope", &self.scope)
            .finish()
    }
}

#[derive(Debug)]
pub enum ExchangeOutcome {
    Exchanged(Box<Exchanged>),
    /// Unknown, malformed, expired, revoked, reused, of another tenant, or its user may no
    /// longer log in: alike.
    Refused,
}

/// Exchanges `refresh_token` for a JWT, in the tenant `tenant_scope` names if any.
pub async fn exchange(
    services: &RefreshServices,
    tenant_scope: Option<Uuid>,
    refresh_token: &str,
) -> Result<ExchangeOutcome, StoreError> {
    exchange_lasting(services, tenant_scope, refresh_token, None).await
}

/// [`exchange`] for a JWT of at most `jwt_seconds` (`timeToLiveInSeconds`), never longer than
/// the application's JWT lifetime.
pub async fn exchange_lasting(
    services: &RefreshServices,
    tenant_scope: Option<Uuid>,
    refresh_token: &str,
    jwt_seconds: Option<u32>,
) -> Result<ExchangeOutcome, StoreError> {
    let refused = Ok(ExchangeOutcome::Refused);
    let Some(names) = session::parse_refresh_token(refresh_token) else {
        return refused;
    };
    let presented = codes::hash_secret(refresh_token);
    let now = services.clock.now_millis();
    let found = services.tokens.find(&names).await?;
    let (Some(family), Some(user)) = (found.token, found.user) else {
        return refused;
    };
    if family.token_hash != presented && !family.rotated.contains(&presented) {
        return refused;
    }
    let records = services
        .directory
        .records(&Wanted {
            tenant: Some(family.tenant_id),
            application: Some(family.application_id),
            ..Wanted::default()
        })
        .await?;
    let (Some(tenant), Some(application)) = (records.tenant, records.application) else {
        return refused;
    };
    let rules = session::rules(&tenant, Some(&application));
    // A replaced token: within its grace period it is handed the family's current token again,
    // else it is reuse.
    let mut regranted = None;
    if family.token_hash != presented {
        match grace_token(&rules, &family, refresh_token, &presented, now) {
            Some(current) => regranted = Some(current),
            None => {
                reused(services, &rules, &family).await?;
                return refused;
            }
        }
    }
    let revoked = found
        .revoked_before
        .is_some_and(|before| family.start_instant <= before);
    if revoked
        || family.expires_at_millis <= now
        || family.user_id != names.user_id
        || family.application_id != names.application_id
        || user.id != family.user_id
        || tenant_scope.is_some_and(|t| t != family.tenant_id)
        || !crate::login::may_log_in(&user, now)
    {
        return refused;
    }
    let Some(roles) = user
        .registrations
        .iter()
        .find(|r| r.application_id == family.application_id)
        .map(|r| r.roles.clone())
    else {
        return refused;
    };
    let (mut expires, _) = match rules.expiration {
        RefreshTokenExpirationPolicy::Fixed => (family.expires_at_millis, None),
        _ => rules.refresh_expiry(family.start_instant, now),
    };
    let token = match (regranted, rules.usage) {
        (Some(current), _) => {
            // Nothing is written: the rotation that replaced the token set the expiry.
            expires = family.expires_at_millis;
            current
        }
        (None, RefreshTokenUsagePolicy::OneTimeUse) => {
            let next = session::new_refresh_token(services.random.as_ref(), names);
            let grace_seal = (rules.grace_period_seconds > 0)
                .then(|| {
                    codes::seal(
                        refresh_token,
                        GRACE_SEAL_PURPOSE,
                        next.as_bytes(),
                        services.random.as_ref(),
                    )
                })
                .flatten();
            let rotation = NextToken {
                hash: codes::hash_secret(&next),
                expires_at_millis: expires,
                rotated_at_millis: now,
                grace_seal,
            };
            match services.tokens.rotate(&family, &rotation).await? {
                Rotation::Rotated => next,
                // Another exchange of this very token got there first: within the grace period
                // this one gets the token that exchange got (two tabs refreshing at once),
                // else it presented a used-up token.
                Rotation::NotCurrent(Some(current)) if current.rotated.contains(&presented) => {
                    match grace_token(&rules, &current, refresh_token, &presented, now) {
                        Some(token) => {
                            expires = current.expires_at_millis;
                            token
                        }
                        None => {
                            reused(services, &rules, &current).await?;
                            return refused;
                        }
                    }
                }
                Rotation::NotCurrent(_) => return refused,
            }
        }
        (None, RefreshTokenUsagePolicy::Reusable) => {
            let slides = rules.expiration != RefreshTokenExpirationPolicy::Fixed;
            if slides
                && expires != family.expires_at_millis
                && !services
                    .tokens
                    .extend(family.id, &presented, expires)
                    .await?
            {
                return refused;
            }
            refresh_token.to_owned()
        }
    };
    let access_token = session::access_token_lasting(
        services.directory.as_ref(),
        &services.signer,
        AccessTokenFor {
            tenant: &tenant,
            registered: Some((&application, &roles)),
            user: &user,
            session_id: family.id,
            now_millis: now,
            auth_time: family.start_instant / 1000,
            authentication_type: "REFRESH_TOKEN",
        },
        jwt_seconds,
    )
    .await?;
    tracing::info!(user_id = %user.id, refresh_token_id = %family.id, "refresh token exchanged");
    Ok(ExchangeOutcome::Exchanged(Box::new(Exchanged {
        access_token,
        refresh_token: IssuedRefreshToken {
            token,
            id: family.id,
            lifetime_seconds: (expires - now) / 1000,
        },
        granted: Granted {
            tenant,
            application,
            user,
            auth_time: family.start_instant / 1000,
            scope: family.scope,
        },
    })))
}

/// What the family's current token is sealed for, under the token it replaced.
const GRACE_SEAL_PURPOSE: &str = "refresh token grace period";

/// The family's current token, when `presented` is the token its latest rotation replaced and
/// that rotation is no older than the grace period: only whoever holds that very token can
/// open the seal.
fn grace_token(
    rules: &session::TokenRules,
    family: &StoredRefreshToken,
    presented_token: &str,
    presented_hash: &str,
    now: i64,
) -> Option<String> {
    let grace_millis = i64::from(rules.grace_period_seconds) * 1000;
    let last_slot = (family.rotations.checked_sub(1)? % ROTATIONS_REMEMBERED) as usize;
    let just_replaced = family.rotated.get(last_slot)? == presented_hash;
    let within = family
        .rotated_at_millis
        .is_some_and(|at| now < at + grace_millis);
    if !(just_replaced && within) {
        return None;
    }
    let sealed = family.grace_seal.as_deref()?;
    let current = codes::unseal(presented_token, GRACE_SEAL_PURPOSE, sealed)?;
    let current = String::from_utf8(current).ok()?;
    (codes::hash_secret(&current) == family.token_hash).then_some(current)
}

/// A replaced token presented after its grace period: refused, and with the tenant's
/// `onOneTimeTokenReuse` the whole family is deleted as stolen.
async fn reused(
    services: &RefreshServices,
    rules: &session::TokenRules,
    family: &StoredRefreshToken,
) -> Result<(), StoreError> {
    if !rules.reuse_revokes {
        tracing::warn!(
            user_id = %family.user_id,
            refresh_token_id = %family.id,
            "a used-up refresh token was presented again: refused"
        );
        return Ok(());
    }
    tracing::warn!(
        user_id = %family.user_id,
        refresh_token_id = %family.id,
        "a used-up refresh token was presented again: the whole family is revoked"
    );
    services.tokens.delete(family.id).await
}

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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{json, Value};
    use uuid::Uuid;

    use super::*;
    use crate::memory::{self, FixedClock, MemoryCodeStore};

    const KICKSTART: &str = include_str!("../../tests/fixtures/kickstart.example.json");
    const WEB_APP: &str = "10000000-0000-0002-0000-000000000001";
    const RICHARD: &str = "00000000-0000-0001-0000-000000000001";
    const TENANT: &str = "f24aca2b-ce4a-4dad-951a-c9d690e71415";
    const NOW: i64 = 1_795_870_800_000;
    const MINUTE: i64 = 60_000;

    /// The example kickstart in memory with the web application's `jwtConfiguration`, at NOW.
    fn services(
        jwt_configuration: Value,
    ) -> (RefreshServices, Arc<MemoryCodeStore>, Arc<FixedClock>) {
        let mut kickstart: Value = serde_json::from_str(KICKSTART).unwrap();
        kickstart["applications"][0]["jwtConfiguration"] = jwt_configuration;
        let world = memory::services(crate::kickstart::parse(&kickstart.to_string()).unwrap());
        let clock = Arc::new(FixedClock::at(NOW));
        let mut services = world.refresh;
        services.clock = clock.clone();
        (services, world.codes, clock)
    }

    /// A refresh token of Richard's for the web application, as a login at `at` leaves it.
    fn logged_in(services: &RefreshServices, codes: &MemoryCodeStore, at: i64) -> String {
        let tenant: crate::model::Tenant =
            serde_json::from_value(json!({"id": TENANT, "jwtConfiguration": {}})).unwrap();
        let application: crate::model::Application = serde_json::from_value(json!({
            "id": WEB_APP, "tenantId": TENANT,
            "jwtConfiguration": {"refreshTokenTimeToLiveInMinutes": 10,
                "refreshTokenExpirationPolicy": "SlidingWindow"}
        }))
        .unwrap();
        let rules = session::rules(&tenant, Some(&application));
        let (issued, stored) = session::start_refresh_token(
            services.random.as_ref(),
            &rules,
            TENANT.parse().unwrap(),
            RICHARD.parse().unwrap(),
            WEB_APP.parse().unwrap(),
            at,
            None,
        );
        codes
            .refresh_tokens
            .lock()
            .unwrap()
            .insert(stored.id, stored);
        issued.token
    }

    async fn works(services: &RefreshServices, token: &str) -> bool {
        matches!(
            exchange(services, None, token).await.unwrap(),
            ExchangeOutcome::Exchanged(_)
        )
    }

    #[tokio::test]
    async fn a_sliding_window_slides_with_each_use_up_to_its_maximum_lifetime() {
        let (services, codes, clock) = services(json!({
            "refreshTokenTimeToLiveInMinutes": 10,
            "refreshTokenExpirationPolicy": "SlidingWindowWithMaximumLifetime",
            "refreshTokenSlidingWindowConfiguration": {"maximumTimeToLiveInMinutes": 25}
        }));
        let token = logged_in(&services, &codes, NOW);
        for _ in 0..2 {
            clock.advance_millis(8 * MINUTE);
            assert!(
                works(&services, &token).await,
                "8 minutes after the last use"
            );
        }
        // 24 minutes after the login: the window would reach 34, the maximum stops it at 25.
        clock.advance_millis(8 * MINUTE);
        assert!(works(&services, &token).await);
        clock.advance_millis(2 * MINUTE);
        assert!(!works(&services, &token).await, "past the maximum lifetime");
    }

    #[tokio::test]
    async fn a_fixed_lifetime_ends_however_often_the_token_is_used() {
        let (services, codes, clock) = services(json!({"refreshTokenTimeToLiveInMinutes": 10}));
        // The family was stored with a sliding expiry; the application's rule now is Fixed.
        let token = logged_in(&services, &codes, NOW);
        clock.advance_millis(8 * MINUTE);
        assert!(works(&services, &token).await);
        clock.advance_millis(3 * MINUTE);
        assert!(
            !works(&services, &token).await,
            "11 minutes after the login"
        );
    }

    #[tokio::test]
    async fn a_revocation_covers_the_tokens_started_before_it_and_none_after() {
        let (services, codes, clock) = services(json!({}));
        let before = logged_in(&services, &codes, NOW);
        clock.advance_millis(MINUTE);
        let user = Uuid::parse_str(RICHARD).unwrap();
        let revoked = revoke(&services, None, Revocation::User(user))
            .await
            .unwrap();
        assert_eq!(revoked, RevokeOutcome::Revoked);
        clock.advance_millis(MINUTE);
        let after = logged_in(&services, &codes, NOW + 2 * MINUTE);
        assert!(!works(&services, &before).await);
        assert!(works(&services, &after).await);
        let other_tenant = Uuid::new_v4();
        assert_eq!(
            revoke(&services, Some(other_tenant), Revocation::User(user))
                .await
                .unwrap(),
            RevokeOutcome::UnknownUser
        );
    }
}
