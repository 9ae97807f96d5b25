//! What an exchange hands out for a presented token under the family's rules once it has read
//! the family (the exchange's write beside its reads, [`super::wave`], could not be made): the
//! family's current token within the grace period, a new token of the family with `OneTimeUse`
//! (one conditional rotation), the same token with `Reusable` (its expiry slid where the policy
//! slides); and what reuse of a used-up token does (refused, or the family deleted).

use crate::codes;
use crate::model::{RefreshTokenExpirationPolicy, RefreshTokenUsagePolicy, StoredRefreshToken};
use crate::ports::{NextToken, Rotation, StoreError, ROTATIONS_REMEMBERED};
use crate::session;

use super::RefreshServices;

/// What the presented token is exchanged for after a read of its family, when the exchange's
/// write beside its reads ([`super::wave`]) was not made: within the grace period the family's
/// current token (nothing written); with `OneTimeUse` a new token of the family (one conditional
/// rotation, its expiry capped at the maximum lifetime); with `Reusable` the same token, its
/// expiry slid where the policy slides. `None`: refused.
pub(super) async fn next_token(
    services: &RefreshServices,
    rules: &session::TokenRules,
    family: &StoredRefreshToken,
    refresh_token: &str,
    presented: &str,
    now: i64,
) -> Result<Option<(String, i64)>, StoreError> {
    // A replaced token: within its grace period it is handed the family's current token again,
    // else it is reuse.
    let mut regranted = None;
    if family.token_hash != presented {
        match grace_token(rules, family, refresh_token, presented, now) {
            Some(current) => regranted = Some(current),
            None => {
                reused(services, rules, family).await?;
                return Ok(None);
            }
        }
    }
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
            // The family's own count, whatever the presented token carries (a token from before
            // the number was carried has random bytes there).
            let names = session::RefreshTokenNames {
                user_id: family.user_id,
                application_id: family.application_id,
                id: family.id,
                rotation: u32::try_from(family.rotations).unwrap_or(u32::MAX),
            };
            let (next, rotation) = replacement(services, rules, names.next(), refresh_token, now);
            match services.tokens.rotate(family, &rotation, expires).await? {
                Rotation::Rotated => next,
                // Another exchange of this very token got there first: within the grace period
                // this one gets the token that exchange got (two tabs refreshing at once),
                // else it presented a used-up token.
                Rotation::NotCurrent(Some(current))
                    if current.rotated.iter().any(|h| h == presented) =>
                {
                    match grace_token(rules, &current, refresh_token, presented, now) {
                        Some(token) => {
                            expires = current.expires_at_millis;
                            token
                        }
                        None => {
                            reused(services, rules, &current).await?;
                            return Ok(None);
                        }
                    }
                }
                Rotation::NotCurrent(_) => return Ok(None),
            }
        }
        (None, RefreshTokenUsagePolicy::Reusable) => {
            let slides = rules.expiration != RefreshTokenExpirationPolicy::Fixed;
            if slides
                && expires != family.expires_at_millis
                && !services.tokens.extend(family, expires).await?
            {
                return Ok(None);
            }
            refresh_token.to_owned()
        }
    };
    Ok(Some((token, expires)))
}

/// A new token named `names` to replace the presented `refresh_token`, and what its rotation
/// writes: with a grace period, the new token sealed under the presented one.
pub(super) fn replacement(
    services: &RefreshServices,
    rules: &session::TokenRules,
    names: session::RefreshTokenNames,
    refresh_token: &str,
    now: i64,
) -> (String, NextToken) {
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
        rotated_at_millis: now,
        grace_seal,
    };
    (next, rotation)
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
