//! An exchange's one round trip: the reads (the family, its user, the user's revocations; the
//! application's revocation when this container has not read it lately) and, beside them, the
//! write the exchange would make once it had read the family: the rotation (`OneTimeUse`) or the
//! slide (`Reusable` with a sliding expiry), conditioned on what the read would have shown. The
//! presented token names its family and its rotation number, and the rules come from the
//! application (cached when warm): nothing of the write waits for the read. The write answers the
//! family as it was, the checks run on it after the round trip, and a refusal puts it back.

use crate::model::{
    RefreshTokenExpirationPolicy, RefreshTokenUsagePolicy, StoredRefreshToken, User,
};
use crate::ports::{NewExpiry, PresentedWrite, PresentedWritten, StoreError};
use crate::session;

use super::rotation::replacement;
use super::RefreshServices;

/// What the round trip read and wrote.
pub(super) struct Wave {
    pub user: Option<User>,
    /// The latest revocation covering the token: the user's, the user's for the application,
    /// the application's.
    pub revoked_before: Option<i64>,
    pub written: Written,
}

pub(super) enum Written {
    /// The write went through: the family as it was, what the exchange hands out (the next
    /// token, or the presented one) and until when, and the hash the family now holds (for
    /// [`crate::ports::RefreshTokens::put_back`]).
    Done {
        before: Box<StoredRefreshToken>,
        token: String,
        expires: i64,
        written_hash: String,
    },
    /// No write was made: none was needed (`Fixed` and `Reusable`) or a condition failed. The
    /// family as the round trip last saw it, if it exists, for the read path: a grace period, a
    /// reuse, an expiry to cap, a token from before rotation numbers.
    Read(Option<Box<StoredRefreshToken>>),
}

/// Reads and writes at once for the presented token (`presented`, its hash) under `rules`.
pub(super) async fn read_and_write(
    services: &RefreshServices,
    rules: &session::TokenRules,
    names: session::RefreshTokenNames,
    refresh_token: &str,
    presented: &str,
    now: i64,
) -> Result<Wave, StoreError> {
    let ttl = i64::from(rules.refresh_minutes) * 60_000;
    let expiry = match rules.expiration {
        RefreshTokenExpirationPolicy::Fixed => NewExpiry::Kept,
        RefreshTokenExpirationPolicy::SlidingWindow => NewExpiry::Slid(now + ttl),
        RefreshTokenExpirationPolicy::SlidingWindowWithMaximumLifetime => {
            let maximum = i64::from(rules.maximum_refresh_minutes) * 60_000;
            // A family started at or after this ends its maximum lifetime no earlier than the
            // window: the slid expiry needs no cap.
            NewExpiry::SlidWithinMaximum {
                expires_at_millis: now + ttl,
                started_since: now + ttl - maximum,
            }
        }
    };
    let next = match rules.usage {
        RefreshTokenUsagePolicy::OneTimeUse => Some(replacement(
            services,
            rules,
            names.next(),
            refresh_token,
            now,
        )),
        RefreshTokenUsagePolicy::Reusable => None,
    };
    let write = match (&next, expiry) {
        (None, NewExpiry::Kept) => None,
        _ => Some(PresentedWrite {
            id: names.id,
            presented_hash: presented.to_owned(),
            rotation: names.rotation,
            now_millis: now,
            expiry,
            next: next.as_ref().map(|(_, next)| next.clone()),
        }),
    };
    let (found, application_revoked_before, written) = tokio::join!(
        services.tokens.find(&names),
        services.application_revocations.revoked_before(
            services.tokens.as_ref(),
            services.clock.as_ref(),
            names.application_id,
        ),
        async {
            match &write {
                Some(write) => services.tokens.write_presented(write).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let written = written?;
    let (found, application_revoked_before) = match (found, application_revoked_before) {
        (Ok(found), Ok(revoked_before)) => (found, revoked_before),
        (Err(e), _) | (_, Err(e)) => {
            // A read failed after the write went through: the family as it was, so that the
            // client's retry of the same token is not taken for reuse.
            if let Some(PresentedWritten::Written(before)) = &written {
                let written_hash = match &next {
                    Some((_, next)) => next.hash.as_str(),
                    None => presented,
                };
                services.tokens.put_back(before, written_hash).await?;
            }
            return Err(e);
        }
    };
    let written = match written {
        Some(PresentedWritten::Written(before)) => {
            let expires = match expiry {
                NewExpiry::Kept => before.expires_at_millis,
                NewExpiry::Slid(expires)
                | NewExpiry::SlidWithinMaximum {
                    expires_at_millis: expires,
                    ..
                } => expires,
            };
            let (token, written_hash) = match next {
                Some((token, next)) => (token, next.hash),
                None => (refresh_token.to_owned(), presented.to_owned()),
            };
            Written::Done {
                before,
                token,
                expires,
                written_hash,
            }
        }
        Some(PresentedWritten::NotWritten(now)) => Written::Read(now),
        None => Written::Read(found.token.map(Box::new)),
    };
    Ok(Wave {
        user: found.user,
        revoked_before: found.revoked_before.max(application_revoked_before),
        written,
    })
}
