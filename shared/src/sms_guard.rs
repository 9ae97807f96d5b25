//! The SMS guard against toll fraud ("SMS pumping": bots requesting codes to premium-rate numbers,
//! paid per message). Before an SMS goes out, three rules of the tenant's
//! `smsGuardConfiguration` (defaults in [`crate::model::SmsGuardConfiguration`]):
//!
//! 1. the destination's country is on the allowlist (a region, `US`, as libphonenumber's
//!    metadata places the number: calling code 1 alone would let Jamaica through with the US);
//! 2. fewer than `prefixRateLimit` SMS went to the destination's prefix (the calling code and the
//!    first `prefixDigits` national digits) in the current window, across all users of the
//!    tenant: pumping walks through consecutive numbers of one range;
//! 3. fewer than `dailyLimit` SMS went out for the tenant this UTC day.
//!
//! A refusal is an answer (400 or 429 with an `Errors` body, counted in the metrics), never a
//! silent drop. Each count is one conditional write ([`RateLimiter::try_acquire`], as the
//! per-user send limit): concurrent sends cannot overshoot. The country is checked first and
//! counts nothing; a send refused by the daily cap has been counted against its prefix, which
//! errs on the side of refusing.

use crate::login_id::SmsDestination;
use crate::model::Tenant;
use crate::ports::{RateLimiter, StoreError};

/// Seconds in the window of the daily cap: UTC days, counted from the epoch.
const DAY_SECONDS: u32 = 86_400;

/// Why the guard refused an SMS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsRefusal {
    /// The destination's country is not on the tenant's allowlist.
    CountryNotAllowed { country: String },
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
            Self::PrefixVelocity { .. } => "prefix",
            Self::DailyLimit { .. } => "daily",
        }
    }

    pub fn country(&self) -> &str {
        match self {
            Self::CountryNotAllowed { country }
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

/// Admits one SMS to `destination` for `tenant`, counting it, or says why not.
pub async fn admit(
    limiter: &dyn RateLimiter,
    tenant: &Tenant,
    destination: &SmsDestination,
    now_millis: i64,
) -> Result<(), GuardError> {
    let guard = &tenant.sms_guard_configuration;
    let country = destination.country.clone();
    if !guard.allowed_countries.contains(&country) {
        return Err(GuardError::Refused(SmsRefusal::CountryNotAllowed {
            country,
        }));
    }
    let velocity = guard.prefix_rate_limit;
    if velocity.enabled {
        let key = format!("sms-prefix#{}#{}", tenant.id, destination.prefix);
        let admitted = limiter
            .try_acquire(
                &key,
                velocity.limit,
                velocity.time_period_in_seconds,
                now_millis,
            )
            .await?;
        if !admitted {
            return Err(GuardError::Refused(SmsRefusal::PrefixVelocity { country }));
        }
    }
    let daily = guard.daily_limit;
    if daily.enabled {
        let key = format!("sms-day#{}", tenant.id);
        let admitted = limiter
            .try_acquire(&key, daily.limit, DAY_SECONDS, now_millis)
            .await?;
        if !admitted {
            return Err(GuardError::Refused(SmsRefusal::DailyLimit { country }));
        }
    }
    Ok(())
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
        let refused = admit(&limiter, &tenant, &to("+18765550123"), 0).await;
        assert!(matches!(
            refused,
            Err(GuardError::Refused(SmsRefusal::CountryNotAllowed { ref country })) if country == "JM"
        ));
        // The daily cap of one is still there for an allowed destination.
        assert!(admit(&limiter, &tenant, &to("+13035551212"), 0)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn the_prefix_velocity_counts_across_numbers_of_one_prefix() {
        let limiter = MemoryRateLimiter::default();
        let tenant = tenant(json!({
            "prefixRateLimit": {"enabled": true, "limit": 2, "timePeriodInSeconds": 600}
        }));
        assert!(admit(&limiter, &tenant, &to("+13035551212"), 0)
            .await
            .is_ok());
        assert!(admit(&limiter, &tenant, &to("+13035550100"), 0)
            .await
            .is_ok());
        assert!(matches!(
            admit(&limiter, &tenant, &to("+13035550101"), 0).await,
            Err(GuardError::Refused(SmsRefusal::PrefixVelocity { .. }))
        ));
        // Another prefix, and the next window, are unaffected.
        assert!(admit(&limiter, &tenant, &to("+17205550147"), 0)
            .await
            .is_ok());
        assert!(admit(&limiter, &tenant, &to("+13035550101"), 600_000)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn the_daily_cap_holds_for_the_utc_day() {
        let limiter = MemoryRateLimiter::default();
        let tenant = tenant(json!({"dailyLimit": {"enabled": true, "limit": 1}}));
        assert!(admit(&limiter, &tenant, &to("+13035551212"), 1_000)
            .await
            .is_ok());
        assert!(matches!(
            admit(&limiter, &tenant, &to("+17205550147"), 2_000).await,
            Err(GuardError::Refused(SmsRefusal::DailyLimit { .. }))
        ));
        assert!(admit(&limiter, &tenant, &to("+17205550147"), 86_400_000)
            .await
            .is_ok());
    }

    #[test]
    fn the_defaults_are_north_america_20_per_prefix_per_10_minutes_and_1000_a_day() {
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
    }
}
