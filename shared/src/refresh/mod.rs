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
use crate::model::{Application, StoredRefreshToken, Tenant, User};
use crate::ports::{Directory, RefreshTokens, StoreError, Wanted};
use crate::session::{self, AccessToken, AccessTokenFor, IssuedRefreshToken};
use crate::system::{Clock, Random};
use crate::tokens::Signer;

mod revocations;
mod revoke;
mod rotation;
mod wave;

pub use revocations::{ApplicationRevocations, APPLICATION_REVOCATION_STALENESS_MILLIS};
pub use revoke::{revoke, Revocation, RevokeOutcome};
use rotation::next_token;
use wave::Written;

/// What exchanging and revoking run on, built once per container.
#[derive(Clone)]
pub struct RefreshServices {
    pub directory: Arc<dyn Directory>,
    pub tokens: Arc<dyn RefreshTokens>,
    pub signer: Arc<Signer>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    /// The applications' revocations this container read lately.
    pub application_revocations: Arc<ApplicationRevocations>,
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
    let Some((tenant, application)) = granted_to(services, names.application_id).await? else {
        return refused;
    };
    let now = services.clock.now_millis();
    let rules = session::rules(&tenant, Some(&application));
    let presented = codes::hash_secret(refresh_token);
    let wave =
        wave::read_and_write(services, &rules, names, refresh_token, &presented, now).await?;
    let checked = |family: &StoredRefreshToken| {
        let user = wave.user.as_ref()?;
        FamilyCheck {
            family,
            user,
            names,
            revoked_before: wave.revoked_before,
            tenant_scope,
            tenant: tenant.id,
            now,
        }
        .roles()
    };
    let (family, token, expires, roles) = match wave.written {
        Written::Done {
            before,
            token,
            expires,
            written_hash,
        } => match checked(&before) {
            Some(roles) => (*before, token, expires, roles),
            None => {
                // Refused after the write: the family as it was, so that the token is not used
                // up by a refusal (it works again once its user may log in again).
                services.tokens.put_back(&before, &written_hash).await?;
                return refused;
            }
        },
        Written::Read(family) => {
            let Some(family) = family else {
                return refused;
            };
            let known = family.token_hash == presented || family.rotated.contains(&presented);
            let Some(roles) = checked(&family).filter(|_| known) else {
                return refused;
            };
            let Some((token, expires)) =
                next_token(services, &rules, &family, refresh_token, &presented, now).await?
            else {
                return refused;
            };
            (*family, token, expires, roles)
        }
    };
    let Some(user) = wave.user else {
        return refused;
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
            scope: family.scope.as_deref(),
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

/// The application a token names and its tenant, before the round trip: their rules say what
/// the exchange writes in it. A warm container has both cached (no call).
async fn granted_to(
    services: &RefreshServices,
    application: Uuid,
) -> Result<Option<(Tenant, Application)>, StoreError> {
    let directory = services.directory.as_ref();
    let Some(application) = directory
        .records(&Wanted {
            application: Some(application),
            ..Wanted::default()
        })
        .await?
        .application
    else {
        return Ok(None);
    };
    let tenant = directory
        .records(&Wanted {
            tenant: Some(application.tenant_id),
            ..Wanted::default()
        })
        .await?
        .tenant;
    Ok(tenant.map(|tenant| (tenant, application)))
}

/// Whether a family found for a presented token may still be exchanged, and the roles its JWT
/// carries: not revoked or expired, the token's names its own, of the tenant whose rules the
/// exchange went by and in the tenant asked for, its user still able to log in and registered.
struct FamilyCheck<'a> {
    family: &'a StoredRefreshToken,
    user: &'a User,
    names: session::RefreshTokenNames,
    revoked_before: Option<i64>,
    tenant_scope: Option<Uuid>,
    /// The application's tenant, whose rules the exchange went by.
    tenant: Uuid,
    now: i64,
}

impl FamilyCheck<'_> {
    fn roles(&self) -> Option<Vec<String>> {
        let (family, user) = (self.family, self.user);
        let revoked = self
            .revoked_before
            .is_some_and(|before| family.start_instant <= before);
        if revoked
            || family.expires_at_millis <= self.now
            || family.user_id != self.names.user_id
            || family.application_id != self.names.application_id
            || user.id != family.user_id
            || family.tenant_id != self.tenant
            || self.tenant_scope.is_some_and(|t| t != family.tenant_id)
            || !crate::login::may_log_in(user, self.now)
        {
            return None;
        }
        user.registrations
            .iter()
            .find(|r| r.application_id == family.application_id)
            .map(|r| r.roles.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{json, Value};
    use uuid::Uuid;

    use super::*;
    use crate::memory::{self, FixedClock, MemoryCodeStore};

    const KICKSTART: &str = include_str!("../../../tests/fixtures/kickstart.example.json");
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

    /// [`services`] with the directory at hand, to change a user between exchanges.
    fn services_and_directory(
        jwt_configuration: Value,
    ) -> (
        RefreshServices,
        Arc<MemoryCodeStore>,
        Arc<FixedClock>,
        Arc<memory::MemoryDirectory>,
    ) {
        let (services, codes, clock) = services(jwt_configuration.clone());
        let mut kickstart: Value = serde_json::from_str(KICKSTART).unwrap();
        kickstart["applications"][0]["jwtConfiguration"] = jwt_configuration;
        let directory = Arc::new(memory::MemoryDirectory::from_kickstart(
            crate::kickstart::parse(&kickstart.to_string()).unwrap(),
        ));
        let services = RefreshServices {
            directory: directory.clone(),
            tokens: Arc::new(memory::MemoryRefreshTokens {
                codes: codes.clone(),
                directory: directory.clone(),
            }),
            ..services
        };
        (services, codes, clock, directory)
    }

    /// The exchange's new refresh token and how long it lives, if it exchanged.
    async fn exchanged(services: &RefreshServices, token: &str) -> Option<(String, i64)> {
        match exchange(services, None, token).await.unwrap() {
            ExchangeOutcome::Exchanged(exchanged) => Some((
                exchanged.refresh_token.token,
                exchanged.refresh_token.lifetime_seconds,
            )),
            ExchangeOutcome::Refused => None,
        }
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

    #[tokio::test]
    async fn a_users_revocation_takes_effect_at_once_however_lately_the_application_was_read() {
        let (services, codes, clock) = services(json!({}));
        let token = logged_in(&services, &codes, NOW);
        assert!(works(&services, &token).await);
        clock.advance_millis(1);
        let user = Uuid::parse_str(RICHARD).unwrap();
        revoke(&services, None, Revocation::User(user))
            .await
            .unwrap();
        assert!(!works(&services, &token).await);
    }

    #[tokio::test]
    async fn an_applications_revocation_takes_effect_within_a_minute_in_a_warm_container() {
        let (services, codes, clock) = services(json!({}));
        let token = logged_in(&services, &codes, NOW);
        // This container reads the application's revocation (none yet) and keeps it.
        assert!(works(&services, &token).await);
        clock.advance_millis(1);
        let application = Uuid::parse_str(WEB_APP).unwrap();
        let revoked = revoke(&services, None, Revocation::Application(application)).await;
        assert_eq!(revoked.unwrap(), RevokeOutcome::Revoked);
        // A container that has not read it lately sees it at once.
        let cold = RefreshServices {
            application_revocations: Arc::default(),
            ..services.clone()
        };
        assert!(!works(&cold, &token).await);
        // This one within the bound, not later.
        clock.advance_millis(APPLICATION_REVOCATION_STALENESS_MILLIS - 2);
        assert!(works(&services, &token).await, "within the bound");
        clock.advance_millis(1);
        assert!(!works(&services, &token).await, "past the bound");
    }

    #[tokio::test]
    async fn a_locked_users_token_works_again_after_the_unlock() {
        let (services, codes, clock, directory) = services_and_directory(json!({
            "refreshTokenUsagePolicy": "OneTimeUse",
            "refreshTokenRevocationPolicy": {"onOneTimeTokenReuse": true}
        }));
        let token = logged_in(&services, &codes, NOW);
        let richard = Uuid::parse_str(RICHARD).unwrap();
        let lock = |locked: bool| {
            if let Some(user) = directory.users.lock().unwrap().get_mut(&richard) {
                user.locked = locked;
            }
        };
        lock(true);
        assert!(!works(&services, &token).await, "locked");
        clock.advance_millis(MINUTE);
        lock(false);
        // The refusal did not use the token up: it is no reused token now, and the family lives.
        assert!(works(&services, &token).await, "unlocked");
        assert_eq!(codes.refresh_tokens.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_token_near_its_maximum_lifetime_is_slid_no_further_than_the_maximum() {
        let (services, codes, clock) = services(json!({
            "refreshTokenUsagePolicy": "OneTimeUse",
            "refreshTokenTimeToLiveInMinutes": 10,
            "refreshTokenExpirationPolicy": "SlidingWindowWithMaximumLifetime",
            "refreshTokenSlidingWindowConfiguration": {"maximumTimeToLiveInMinutes": 25}
        }));
        let mut token = logged_in(&services, &codes, NOW);
        // 8 and 15 minutes after the login: whole windows, the second ending at the maximum.
        for minutes in [8, 7] {
            clock.advance_millis(minutes * MINUTE);
            let (next, lifetime) = exchanged(&services, &token).await.unwrap();
            assert_eq!(lifetime, 10 * 60, "a whole window within the maximum");
            token = next;
        }
        // 24 minutes after the login: a window would reach 34, the maximum ends at 25.
        clock.advance_millis(9 * MINUTE);
        let (next, lifetime) = exchanged(&services, &token).await.unwrap();
        assert_eq!(lifetime, 60);
        let family = only_family(&codes);
        assert_eq!(family.expires_at_millis, NOW + 25 * MINUTE);
        clock.advance_millis(MINUTE);
        assert!(!works(&services, &next).await, "at the maximum lifetime");
    }

    /// The one family the memory store holds.
    fn only_family(codes: &MemoryCodeStore) -> StoredRefreshToken {
        let families = codes.refresh_tokens.lock().unwrap();
        assert_eq!(families.len(), 1);
        families.values().next().cloned().unwrap()
    }

    #[tokio::test]
    async fn each_rotation_hands_out_a_token_carrying_the_count_of_rotations_before_it() {
        let (services, codes, clock) = services(json!({"refreshTokenUsagePolicy": "OneTimeUse"}));
        let mut token = logged_in(&services, &codes, NOW);
        for rotation in 1..=3 {
            clock.advance_millis(MINUTE);
            token = exchanged(&services, &token).await.unwrap().0;
            let names = session::parse_refresh_token(&token).unwrap();
            assert_eq!(names.rotation, rotation);
        }
    }

    #[tokio::test]
    async fn a_token_whose_number_is_not_its_familys_count_still_rotates_and_the_next_one_carries_the_count(
    ) {
        let (services, codes, clock) = services(json!({"refreshTokenUsagePolicy": "OneTimeUse"}));
        // A token from before the number was carried: its family was rotated five times, its
        // last four bytes (random then) say 0.
        let token = logged_in(&services, &codes, NOW);
        if let Some(family) = codes.refresh_tokens.lock().unwrap().values_mut().next() {
            family.rotations = 5;
        }
        clock.advance_millis(MINUTE);
        let (next, _) = exchanged(&services, &token).await.unwrap();
        assert_eq!(session::parse_refresh_token(&next).unwrap().rotation, 6);
        assert!(!works(&services, &token).await, "used up");
        assert!(works(&services, &next).await);
    }

    #[tokio::test]
    async fn two_exchanges_of_one_token_at_once_rotate_it_once_and_both_get_the_new_token_in_the_grace_period(
    ) {
        let (services, codes, _) = services(json!({
            "refreshTokenUsagePolicy": "OneTimeUse",
            "refreshTokenOneTimeUseConfiguration": {"gracePeriodInSeconds": 30}
        }));
        let token = logged_in(&services, &codes, NOW);
        let (first, second) =
            tokio::join!(exchanged(&services, &token), exchanged(&services, &token));
        let (first, second) = (first.unwrap().0, second.unwrap().0);
        assert_eq!(first, second);
        let family = only_family(&codes);
        assert_eq!(family.rotations, 1);
    }
}
