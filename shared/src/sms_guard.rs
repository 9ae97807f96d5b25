//! The SMS guard against toll fraud ("SMS pumping": bots requesting codes to premium-rate numbers,
//! paid per message). Before an SMS goes out, the rules of the tenant's `smsGuardConfiguration`
//! (defaults in [`crate::model::SmsGuardConfiguration`]):
//!
//! 1. the destination's country is on the allowlist (a region, `US`, as libphonenumber's
//!    metadata places the number: calling code 1 alone would let Jamaica through with the US);
//! 2. the user's own share of the shared counts below is not spent: at most
//!    `perUserPrefixLimit` of its SMS per prefix window and `perUserDailyLimit` per UTC day are
//!    counted against the tenant's buckets; past its share a user is refused *before* anything
//!    shared is counted, so one user (or a few) hammering SMS cannot spend the buckets everyone
//!    else needs;
//! 3. fewer than `prefixRateLimit` SMS went to the destination's prefix (the calling code and the
//!    first `prefixDigits` national digits) in the current window, across all users of the
//!    tenant: pumping walks through consecutive numbers of one range. A number that has logged in
//!    before (its identity was logged in with, or is verified) is not counted against its prefix
//!    nor held back by it: a person was shown to hold it, which a pumped number never is, and a
//!    flood of new numbers in its range must not lock its owner out;
//! 4. fewer than `dailyLimit` SMS went out for the tenant this UTC day (every number counts).
//!    The day's count is spread over up to [`DAILY_SHARDS`] items (one item takes 1,000 writes a
//!    second at most), each holding its share of the limit: a send counts on its user's shard,
//!    and on the next ones in turn while that one is full. The cap is exact: the day's SMS never
//!    exceed `dailyLimit`, and one is refused only once every shard was found full (counts only
//!    grow within the day), that is once `dailyLimit` went out.
//!
//! A refusal is an answer (400 or 429 with an `Errors` body, counted in the metrics), never a
//! silent drop. Each count is one conditional write ([`RateLimiter::try_acquire`], as the
//! per-user send limit): concurrent sends cannot overshoot. The country is checked first and
//! counts nothing; the user's shares are counted before the shared buckets; a send refused by
//! the daily cap has been counted against its prefix, which errs on the side of refusing.

use uuid::Uuid;

use crate::login_id::SmsDestination;
use crate::model::{Tenant, User};
use crate::ports::{RateLimiter, StoreError, DAY_SECONDS};

/// One SMS the guard is asked to admit: where it goes and whose it is.
#[derive(Clone, Debug)]
pub struct SmsAttempt<'a> {
    pub destination: &'a SmsDestination,
    pub user_id: Uuid,
    /// The number has logged in before: see [`has_logged_in`].
    pub logged_in_before: bool,
}

/// Whether `user`'s identity for the E.164 number `phone` shows that a person holds the number:
/// a login was completed with it (its `lastLoginInstant`, which a login records on the identity
/// it was made with) or it is verified (a login with a code texted to it verifies it where the
/// tenant allows implicit verification; an operator may import it verified).
pub fn has_logged_in(user: &User, phone: &str) -> bool {
    user.identities.iter().any(|identity| {
        identity.kind == crate::login_id::IdentityType::PhoneNumber
            && identity.value == phone
            && (identity.verified || identity.last_login_instant.is_some())
    })
}

/// Why the guard refused an SMS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsRefusal {
    /// The destination's country is not on the tenant's allowlist.
    CountryNotAllowed { country: String },
    /// The user's share of the prefix velocity is spent for the current window.
    UserPrefixShare { country: String },
    /// The user's share of the tenant's daily SMS is spent for the day.
    UserDailyShare { country: String },
    /// Too many SMS to this prefix in the current window.
    PrefixVelocity { country: String },
    /// The tenant's SMS for the day are spent.
    DailyLimit { country: String },
}

impl SmsRefusal {
    /// The metric's `Reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::CountryNotAllowed { .. } => "country",
            Self::UserPrefixShare { .. } => "user-prefix",
            Self::UserDailyShare { .. } => "user-daily",
            Self::PrefixVelocity { .. } => "prefix",
            Self::DailyLimit { .. } => "daily",
        }
    }

    pub fn country(&self) -> &str {
        match self {
            Self::CountryNotAllowed { country }
            | Self::UserPrefixShare { country }
            | Self::UserDailyShare { country }
            | Self::PrefixVelocity { country }
            | Self::DailyLimit { country } => country,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("the SMS guard refused the send")]
    Refused(SmsRefusal),
    #[error(transparent)]
    Dependency(#[from] StoreError),
}

/// One count the guard makes: its key, its limit per window, and the refusal when it is full.
struct Count {
    key: String,
    /// The user a share counts alone (a hard delete removes its windows); `None` for the
    /// tenant's buckets.
    owner: Option<Uuid>,
    limit: u32,
    period_seconds: u32,
    refusal: fn(String) -> SmsRefusal,
}

/// Admits one SMS for `tenant`, counting it, or says why not.
pub async fn admit(
    limiter: &dyn RateLimiter,
    tenant: &Tenant,
    attempt: &SmsAttempt<'_>,
    now_millis: i64,
) -> Result<(), GuardError> {
    let guard = &tenant.sms_guard_configuration;
    let country = attempt.destination.country.clone();
    if !guard.allowed_countries.contains(&country) {
        return Err(GuardError::Refused(SmsRefusal::CountryNotAllowed {
            country,
        }));
    }
    let (tenant_id, user_id) = (tenant.id, attempt.user_id);
    let velocity = guard.prefix_rate_limit;
    let counts_on_prefix = velocity.enabled && !attempt.logged_in_before;
    let daily = guard.daily_limit;
    // The user's shares first: a user past its share is refused before it counts on a bucket
    // other users share.
    let counts = [
        counts_on_prefix.then(|| Count {
            key: format!("sms-user-prefix#{tenant_id}#{user_id}"),
            owner: Some(user_id),
            limit: guard.per_user_prefix_limit,
            period_seconds: velocity.time_period_in_seconds,
            refusal: |country| SmsRefusal::UserPrefixShare { country },
        }),
        daily.enabled.then(|| Count {
            key: format!("sms-user-day#{tenant_id}#{user_id}"),
            owner: Some(user_id),
            limit: guard.per_user_daily_limit,
            period_seconds: DAY_SECONDS,
            refusal: |country| SmsRefusal::UserDailyShare { country },
        }),
        counts_on_prefix.then(|| Count {
            key: format!("sms-prefix#{tenant_id}#{}", attempt.destination.prefix),
            owner: None,
            limit: velocity.limit,
            period_seconds: velocity.time_period_in_seconds,
            refusal: |country| SmsRefusal::PrefixVelocity { country },
        }),
    ];
    for count in counts.into_iter().flatten() {
        let admitted = limiter
            .try_acquire(
                &count.key,
                count.owner,
                count.limit,
                count.period_seconds,
                now_millis,
            )
            .await?;
        if !admitted {
            return Err(GuardError::Refused((count.refusal)(country)));
        }
    }
    if daily.enabled
        && !count_on_the_day(limiter, tenant_id, user_id, daily.limit, now_millis).await?
    {
        return Err(GuardError::Refused(SmsRefusal::DailyLimit { country }));
    }
    Ok(())
}

/// How many items a tenant's daily SMS count is spread over, at most: 4,000 counts a second,
/// far above what one SMS origination identity sends (SNS: 1 to 100 a second, by type).
pub const DAILY_SHARDS: u32 = 4;

/// Each shard's share of a daily `limit`: as even as can be, adding up to `limit` exactly, and
/// no more shards than SMS (a shard of none would be refused for nothing).
fn daily_shares(limit: u32) -> Vec<u32> {
    let shards = DAILY_SHARDS.min(limit).max(1);
    (0..shards)
        .map(|shard| limit / shards + u32::from(shard < limit % shards))
        .collect()
}

/// Counts one SMS on the tenant's day: on the user's shard, else on the next shards in turn
/// while they are full. `false` once every shard was full.
async fn count_on_the_day(
    limiter: &dyn RateLimiter,
    tenant_id: Uuid,
    user_id: Uuid,
    limit: u32,
    now_millis: i64,
) -> Result<bool, StoreError> {
    let shares = daily_shares(limit);
    let first = (user_id.as_u128() % shares.len() as u128) as usize;
    for turn in 0..shares.len() {
        let shard = (first + turn) % shares.len();
        let key = format!("sms-day#{tenant_id}#{shard}");
        if limiter
            .try_acquire(&key, None, shares[shard], DAY_SECONDS, now_millis)
            .await?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryRateLimiter;
    use serde_json::json;

    fn tenant(guard: serde_json::Value) -> Tenant {
        serde_json::from_value(json!({
            "id": "f24aca2b-ce4a-4dad-951a-c9d690e71415",
            "smsGuardConfiguration": guard
        }))
        .unwrap()
    }

    fn to(e164: &str) -> SmsDestination {
        SmsDestination::of(e164, 3).unwrap()
    }

    /// The user a number belongs to, in these tests: one user per number.
    fn user_of(e164: &str) -> Uuid {
        Uuid::from_u128(e164[1..].parse().unwrap())
    }

    /// An SMS to `e164` for its user, a number that never logged in.
    async fn admit_sms(
        limiter: &MemoryRateLimiter,
        tenant: &Tenant,
        e164: &str,
        now: i64,
    ) -> Result<(), GuardError> {
        let attempt = SmsAttempt {
            destination: &to(e164),
            user_id: user_of(e164),
            logged_in_before: false,
        };
        admit(limiter, tenant, &attempt, now).await
    }

    #[test]
    fn a_destination_is_its_region_and_prefix_never_the_number() {
        assert_eq!(
            to("+13035551212"),
            SmsDestination {
                country: "US".into(),
                prefix: "+1303".into()
            }
        );
        // Calling code 1, but Jamaica: the region tells them apart.
        assert_eq!(to("+18765550123").country, "JM");
        assert_eq!(to("+447400123456").country, "GB");
        assert_eq!(to("+447400123456").prefix, "+44740");
        assert_eq!(SmsDestination::of("+13035551212", 0).unwrap().prefix, "+1");
    }

    #[tokio::test]
    async fn a_country_off_the_allowlist_is_refused_and_counts_nothing() {
        let limiter = MemoryRateLimiter::default();
        let tenant = tenant(json!({"allowedCountries": ["US"], "dailyLimit": {"limit": 1}}));
        let refused = admit_sms(&limiter, &tenant, "+18765550123", 0).await;
        assert!(matches!(
            refused,
            Err(GuardError::Refused(SmsRefusal::CountryNotAllowed { ref country })) if country == "JM"
        ));
        // The daily cap of one is still there for an allowed destination.
        assert!(admit_sms(&limiter, &tenant, "+13035551212", 0)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn the_prefix_velocity_counts_across_numbers_of_one_prefix() {
        let limiter = MemoryRateLimiter::default();
        let tenant = tenant(json!({
            "prefixRateLimit": {"enabled": true, "limit": 2, "timePeriodInSeconds": 600}
        }));
        assert!(admit_sms(&limiter, &tenant, "+13035551212", 0)
            .await
            .is_ok());
        assert!(admit_sms(&limiter, &tenant, "+13035550100", 0)
            .await
            .is_ok());
        assert!(matches!(
            admit_sms(&limiter, &tenant, "+13035550101", 0).await,
            Err(GuardError::Refused(SmsRefusal::PrefixVelocity { .. }))
        ));
        // Another prefix, and the next window, are unaffected.
        assert!(admit_sms(&limiter, &tenant, "+17205550147", 0)
            .await
            .is_ok());
        assert!(admit_sms(&limiter, &tenant, "+13035550101", 600_000)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn the_daily_cap_holds_for_the_utc_day() {
        let limiter = MemoryRateLimiter::default();
        let tenant = tenant(json!({"dailyLimit": {"enabled": true, "limit": 1}}));
        assert!(admit_sms(&limiter, &tenant, "+13035551212", 1_000)
            .await
            .is_ok());
        assert!(matches!(
            admit_sms(&limiter, &tenant, "+17205550147", 2_000).await,
            Err(GuardError::Refused(SmsRefusal::DailyLimit { .. }))
        ));
        assert!(admit_sms(&limiter, &tenant, "+17205550147", 86_400_000)
            .await
            .is_ok());
    }

    #[test]
    fn the_days_shares_add_up_to_the_limit_over_at_most_four_shards() {
        assert_eq!(daily_shares(1000), [250, 250, 250, 250]);
        assert_eq!(daily_shares(7), [2, 2, 2, 1]);
        assert_eq!(daily_shares(2), [1, 1]);
        assert_eq!(daily_shares(0), [0]);
        for limit in 0..50 {
            assert_eq!(daily_shares(limit).iter().sum::<u32>(), limit);
        }
    }

    #[tokio::test]
    async fn the_daily_cap_is_exact_across_shards_whichever_shards_the_users_fall_on() {
        let limiter = MemoryRateLimiter::default();
        let tenant = tenant(json!({
            "prefixRateLimit": {"enabled": false},
            "dailyLimit": {"enabled": true, "limit": 7}
        }));
        // Twenty users all of whose own shard is the first: once it is full, the next ones
        // take their SMS, until the day's seven went out.
        let mut admitted = 0;
        for n in 0..20u128 {
            let destination = to("+13035551212");
            let attempt = SmsAttempt {
                destination: &destination,
                user_id: Uuid::from_u128(n * 4),
                logged_in_before: false,
            };
            match admit(&limiter, &tenant, &attempt, 0).await {
                Ok(()) => admitted += 1,
                Err(GuardError::Refused(SmsRefusal::DailyLimit { .. })) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(admitted, 7);
    }

    #[tokio::test]
    async fn one_user_past_its_share_is_refused_without_spending_the_prefix_for_others() {
        let limiter = MemoryRateLimiter::default();
        let tenant = tenant(json!({
            "prefixRateLimit": {"enabled": true, "limit": 3, "timePeriodInSeconds": 600},
            "perUserPrefixLimit": 2
        }));
        for _ in 0..2 {
            assert!(admit_sms(&limiter, &tenant, "+13035551212", 0)
                .await
                .is_ok());
        }
        for _ in 0..5 {
            assert!(matches!(
                admit_sms(&limiter, &tenant, "+13035551212", 0).await,
                Err(GuardError::Refused(SmsRefusal::UserPrefixShare { .. }))
            ));
        }
        // The prefix has one SMS left, for another user of the range.
        assert!(admit_sms(&limiter, &tenant, "+13035550100", 0)
            .await
            .is_ok());
        assert!(matches!(
            admit_sms(&limiter, &tenant, "+13035550101", 0).await,
            Err(GuardError::Refused(SmsRefusal::PrefixVelocity { .. }))
        ));
    }

    #[tokio::test]
    async fn one_user_past_its_daily_share_is_refused_without_spending_the_tenants_day() {
        let limiter = MemoryRateLimiter::default();
        let tenant = tenant(json!({
            "prefixRateLimit": {"enabled": false},
            "dailyLimit": {"enabled": true, "limit": 3},
            "perUserDailyLimit": 2
        }));
        for _ in 0..2 {
            assert!(admit_sms(&limiter, &tenant, "+13035551212", 0)
                .await
                .is_ok());
        }
        assert!(matches!(
            admit_sms(&limiter, &tenant, "+13035551212", 1_000).await,
            Err(GuardError::Refused(SmsRefusal::UserDailyShare { .. }))
        ));
        assert!(admit_sms(&limiter, &tenant, "+17205550147", 2_000)
            .await
            .is_ok());
        // The next UTC day, the user has its share again.
        assert!(admit_sms(&limiter, &tenant, "+13035551212", 86_400_000)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn a_number_that_logged_in_before_neither_counts_on_nor_waits_for_its_prefix() {
        let limiter = MemoryRateLimiter::default();
        let tenant = tenant(json!({
            "prefixRateLimit": {"enabled": true, "limit": 1, "timePeriodInSeconds": 600},
            "perUserPrefixLimit": 1,
            "dailyLimit": {"enabled": true, "limit": 10},
            "perUserDailyLimit": 3
        }));
        let known = to("+13035551212");
        let logged_in = SmsAttempt {
            destination: &known,
            user_id: user_of("+13035551212"),
            logged_in_before: true,
        };
        // The prefix is full...
        assert!(admit_sms(&limiter, &tenant, "+13035550100", 0)
            .await
            .is_ok());
        // ...yet the known number gets its SMS, within its daily share.
        for _ in 0..3 {
            assert!(admit(&limiter, &tenant, &logged_in, 0).await.is_ok());
        }
        assert!(matches!(
            admit(&limiter, &tenant, &logged_in, 0).await,
            Err(GuardError::Refused(SmsRefusal::UserDailyShare { .. }))
        ));
    }

    #[tokio::test]
    async fn a_number_that_logged_in_before_is_still_refused_off_the_allowlist() {
        let limiter = MemoryRateLimiter::default();
        let tenant = tenant(json!({"allowedCountries": ["US"]}));
        let jamaica = to("+18765550123");
        let logged_in = SmsAttempt {
            destination: &jamaica,
            user_id: user_of("+18765550123"),
            logged_in_before: true,
        };
        assert!(matches!(
            admit(&limiter, &tenant, &logged_in, 0).await,
            Err(GuardError::Refused(SmsRefusal::CountryNotAllowed { .. }))
        ));
    }

    #[test]
    fn a_number_has_logged_in_when_its_identity_was_logged_in_with_or_is_verified() {
        let user = |identity: serde_json::Value| -> User {
            serde_json::from_value(json!({
                "id": "00000000-0000-0001-0000-000000000001",
                "tenantId": "f24aca2b-ce4a-4dad-951a-c9d690e71415",
                "identities": [identity]
            }))
            .unwrap()
        };
        let phone = "+13035551212";
        let fresh = json!({"type": "phoneNumber", "value": phone});
        assert!(!has_logged_in(&user(fresh), phone));
        let logged_in = json!({"type": "phoneNumber", "value": phone, "lastLoginInstant": 1});
        assert!(has_logged_in(&user(logged_in), phone));
        let verified = json!({"type": "phoneNumber", "value": phone, "verified": true});
        assert!(has_logged_in(&user(verified.clone()), phone));
        // Another number of the user proves nothing of this one.
        assert!(!has_logged_in(&user(verified), "+17205550147"));
    }

    #[test]
    fn the_defaults_are_north_america_20_per_prefix_per_10_minutes_1000_a_day_and_small_user_shares(
    ) {
        let guard = tenant(json!({})).sms_guard_configuration;
        assert_eq!(guard.allowed_countries, ["US", "CA"]);
        assert_eq!(guard.prefix_digits, 3);
        assert_eq!(
            (
                guard.prefix_rate_limit.limit,
                guard.prefix_rate_limit.time_period_in_seconds
            ),
            (20, 600)
        );
        assert_eq!(guard.daily_limit.limit, 1000);
        assert_eq!(
            (guard.per_user_prefix_limit, guard.per_user_daily_limit),
            (3, 10)
        );
    }
}
