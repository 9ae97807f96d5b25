//! The application-wide revocation (`DELETE /api/jwt/refresh?applicationId=`) as refreshes see
//! it: one item every refresh of the application would read, so a warm container keeps what it
//! read for [`APPLICATION_REVOCATION_STALENESS_MILLIS`] on the services' clock, and reads it
//! eventually consistent when it reads it. A user's revocations are read with the token itself,
//! strongly consistent, on every refresh: they take effect at once.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

use crate::ports::{RefreshTokens, StoreError};
use crate::system::Clock;

/// How long after an application-wide revocation a refresh token started before it may still
/// be exchanged, at most (plus DynamoDB's eventual consistency, typically well under a second):
/// one second, so that the item is read at most once a second per container however many
/// refreshes it serves, and a client that refreshes right after revoking sees the revocation
/// almost at once.
pub const APPLICATION_REVOCATION_STALENESS_MILLIS: i64 = 1_000;

/// What this container read of each application's revocation, and when (by the services'
/// clock). One per container, shared by its requests.
#[derive(Debug, Default)]
pub struct ApplicationRevocations {
    read: Mutex<HashMap<Uuid, (i64, Option<i64>)>>,
}

impl ApplicationRevocations {
    /// When every token of `application` started at or before was revoked: as read within the
    /// last [`APPLICATION_REVOCATION_STALENESS_MILLIS`], else read again.
    pub async fn revoked_before(
        &self,
        tokens: &dyn RefreshTokens,
        clock: &dyn Clock,
        application: Uuid,
    ) -> Result<Option<i64>, StoreError> {
        let now = clock.now_millis();
        let fresh =
            |read_at: i64| (0..APPLICATION_REVOCATION_STALENESS_MILLIS).contains(&(now - read_at));
        if let Some((_, revoked)) = self
            .lock()
            .get(&application)
            .filter(|(read_at, _)| fresh(*read_at))
        {
            return Ok(*revoked);
        }
        let revoked = tokens.application_revoked_before(application).await?;
        self.lock().insert(application, (now, revoked));
        Ok(revoked)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (i64, Option<i64>)>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
