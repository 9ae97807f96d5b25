//! The ports of the provider's browser state, kept in the Codes table with a TTL: the hosted
//! pages' pending logins and the tenants' SSO sessions.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreError;
pub use crate::model::SsoSession;
use crate::model::{PendingLogin, PendingLoginStatus};

/// Pending browser logins of the hosted pages (`PENDINGLOGIN#` items in the Codes table), by the
/// SHA-256 of the browser's cookie. Every change is one conditional write, and a retried write
/// (the same `attempt_id`) finds its own mark instead of applying twice.
#[async_trait]
pub trait PendingLogins: Send + Sync {
    /// Stores a new pending login until it expires; never overwrites another.
    async fn create(&self, login: &PendingLogin) -> Result<(), StoreError>;
    /// The pending login with its current status and count; `None` when unknown or expired.
    async fn find(
        &self,
        id_hash: &str,
        now_millis: i64,
    ) -> Result<Option<PendingLogin>, StoreError>;
    /// Moves it from `from` to `to` unless it expired: `true` for the one write that did it (and
    /// for that write's retry).
    async fn transition(
        &self,
        id_hash: &str,
        from: PendingLoginStatus,
        to: PendingLoginStatus,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<bool, StoreError>;
    /// Counts one wrong answer (a match code, a one-time code) while it waits: the count after
    /// it, or `None` when it no longer waits.
    async fn count_wrong(
        &self,
        id_hash: &str,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<Option<u32>, StoreError>;
}

/// SSO sessions, by the SHA-256 of their cookie's value ([`crate::oauth2::sso`]). Expiry is the
/// caller's to check ([`SsoSession::is_live`]): stores may keep expired items for days.
#[async_trait]
pub trait SsoSessions: Send + Sync {
    /// Stores a new session. Never overwrites another (a retried write of this very session
    /// succeeds again).
    async fn create(&self, session: &SsoSession) -> Result<(), StoreError>;
    async fn find(&self, id_hash: &str) -> Result<Option<SsoSession>, StoreError>;
    /// A refresh token issued within the session, so that logout revokes it. Idempotent; an
    /// error if the session no longer exists (it ended: the caller must not hand the token out).
    async fn add_refresh_token(
        &self,
        id_hash: &str,
        refresh_token_id: Uuid,
    ) -> Result<(), StoreError>;
    /// Ends it (marked ended, so that a retry still answers what it held); what it held, or
    /// None if it had already ended or never was.
    async fn end(&self, id_hash: &str) -> Result<Option<SsoSession>, StoreError>;
}
