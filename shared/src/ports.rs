//! The narrow capabilities the use cases need, as traits, and what they exchange. Each has a
//! DynamoDB, SES or SNS implementation in [`crate::aws`] and an in-memory one in
//! [`crate::memory`]; time and randomness are [`crate::system`]'s. Which function gets which is
//! each use case's `…Services` (`StartServices`, `SendServices`, `LoginServices`).

use async_trait::async_trait;
use uuid::Uuid;

use crate::login_id::IdentityKey;
use crate::model::{
    ApiKey, Application, EmailTemplate, MessageTemplate, Published, SigningKey,
    StoredAuthorizationCode, StoredRefreshToken, Tenant, User,
};
use crate::session::RefreshTokenNames;

mod browser;
mod codes;
mod delivery;
mod sessions;
mod users;
pub use browser::{PendingLogins, SsoSession, SsoSessions};
pub use codes::{
    AttemptLimits, CodeStore, Consumed, CountedCode, DeliveryMark, PendingCodes, Presented, Staged,
};
pub use delivery::{Email, Mailer, Sms, SmsSender, SuppressionReason, Suppressions};
pub use sessions::{
    Challenge, CompletedLogin, Completion, LastLogins, LoginAhead, PriorLogins, Sessions,
    WrittenAhead,
};
pub use users::{UserStore, UserWrite};

/// A dependency (DynamoDB, SES, SNS) failed or answered with something we cannot read. Its
/// message goes to the logs, so any email address or phone number in it is redacted here.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct StoreError {
    pub operation: &'static str,
    pub message: String,
}

impl StoreError {
    pub fn new(operation: &'static str, error: impl std::fmt::Display) -> Self {
        Self {
            operation,
            message: crate::login_id::redact_addresses(&error.to_string()),
        }
    }
}

/// Which user an identity belongs to. Identity items hold the owner's id only, never a copy of
/// the user: whoever needs the user reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentityMatch {
    pub identity: IdentityKey,
    pub user_id: Uuid,
}

/// Directory records a use case needs together: each `Some` is read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wanted<'a> {
    pub api_key: Option<&'a str>,
    pub tenant: Option<Uuid>,
    pub application: Option<Uuid>,
    pub user: Option<Uuid>,
    /// [`Directory::find_identity`]'s question: the tenant and the candidates, in order.
    pub identity: Option<(Uuid, &'a [IdentityKey])>,
    /// This user's newest code: the hash their `LATESTCODE` pointer names, the only code of
    /// theirs that is valid (a new start supersedes by moving the pointer, not by deleting).
    pub newest_code: Option<Uuid>,
    /// Whether this address hash ([`crate::suppression::address_hash`]) is on the suppression
    /// list.
    pub suppressed: Option<&'a str>,
}

/// What [`Directory::records`] found of what was [`Wanted`]; `None` where it was not wanted or
/// does not exist.
#[derive(Clone, Debug, Default)]
pub struct Records {
    pub api_key: Option<ApiKey>,
    pub tenant: Option<Tenant>,
    pub application: Option<Application>,
    pub user: Option<User>,
    pub identity: Option<IdentityMatch>,
    /// The hash of the [`Wanted::newest_code`] user's newest code, if they have one.
    pub newest_code: Option<String>,
    /// The [`Wanted::suppressed`] address is suppressed (`false` where it was not wanted).
    pub suppressed: bool,
}

/// The read, when there is one to make.
async fn read_if<T>(
    read: Option<impl std::future::Future<Output = Result<Option<T>, StoreError>>>,
) -> Result<Option<T>, StoreError> {
    match read {
        Some(read) => read.await,
        None => Ok(None),
    }
}

/// [`Directory::records`] by one call per record, concurrently: what a directory without a batch
/// read does for all but the code pointer and the suppression list.
pub async fn read_each<D: Directory + ?Sized>(
    directory: &D,
    wanted: &Wanted<'_>,
) -> Result<Records, StoreError> {
    let (api_key, tenant, application, user, identity) = tokio::try_join!(
        read_if(wanted.api_key.map(|hash| directory.api_key(hash))),
        read_if(wanted.tenant.map(|id| directory.tenant(id))),
        read_if(wanted.application.map(|id| directory.application(id))),
        read_if(wanted.user.map(|id| directory.user(id))),
        read_if(
            wanted
                .identity
                .map(|(tenant, keys)| directory.find_identity(tenant, keys))
        ),
    )?;
    Ok(Records {
        api_key,
        tenant,
        application,
        user,
        identity,
        newest_code: None,
        suppressed: false,
    })
}

/// Read access to tenants, applications, keys and users.
#[async_trait]
pub trait Directory: Send + Sync {
    /// Several records at once. DynamoDB reads them in one `BatchGetItem`, so a cold container
    /// reads what it has not cached in the round trip it makes anyway, instead of one call (and,
    /// concurrently, one connection) each. By default, one call each, concurrently; the code
    /// pointer and the suppression list are not the Directory's alone (DynamoDB reads them in the
    /// same batch from the Codes table and the Directory table), so a directory that does not
    /// override this refuses to be asked for them rather than answer wrongly.
    async fn records(&self, wanted: &Wanted<'_>) -> Result<Records, StoreError> {
        if wanted.newest_code.is_some() || wanted.suppressed.is_some() {
            return Err(StoreError::new(
                "records",
                "this directory reads neither code pointers nor the suppression list",
            ));
        }
        read_each(self, wanted).await
    }

    async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError>;
    async fn tenant(&self, id: Uuid) -> Result<Option<Tenant>, StoreError>;
    async fn application(&self, id: Uuid) -> Result<Option<Application>, StoreError>;
    async fn signing_key(&self, id: Uuid) -> Result<Option<SigningKey>, StoreError>;
    async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError>;
    /// The users of `ids` that exist, in no particular order; by default one read each, in one
    /// round trip where the store can batch them.
    async fn users(&self, ids: &[Uuid]) -> Result<Vec<User>, StoreError> {
        let mut found = Vec::new();
        for id in ids {
            found.extend(self.user(*id).await?);
        }
        Ok(found)
    }
    async fn email_template(&self, id: Uuid) -> Result<Option<EmailTemplate>, StoreError>;
    async fn message_template(&self, id: Uuid) -> Result<Option<MessageTemplate>, StoreError>;
    /// The public keys and the default tenant, as the last kickstart load published them.
    async fn published(&self) -> Result<Published, StoreError>;
    /// The first of `candidates` (in their order) that belongs to a user of `tenant`, in one
    /// round trip.
    async fn find_identity(
        &self,
        tenant: Uuid,
        candidates: &[IdentityKey],
    ) -> Result<Option<IdentityMatch>, StoreError>;
}

/// What a refresh reads at once: the token's family, its user, and the latest of the user's
/// revocations that covers them (by user, by user and application). The application's own
/// revocation is read apart ([`RefreshTokens::application_revoked_before`]).
#[derive(Clone, Debug, Default)]
pub struct RefreshRecords {
    pub token: Option<StoredRefreshToken>,
    pub user: Option<User>,
    /// Every token of this user (and application) started at or before this instant is revoked.
    pub revoked_before: Option<i64>,
}

/// Which refresh tokens a revocation covers: all of a user's, a user's for one application, or
/// all of an application's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RevocationScope {
    User(Uuid),
    UserApplication(Uuid, Uuid),
    Application(Uuid),
}

/// What [`RefreshTokens::rotate`] did.
// One short-lived value per refresh: a box would cost an allocation for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Rotation {
    Rotated,
    /// The presented token was not the family's current one (any longer): the family as it is
    /// now, if it still exists, so that the caller can tell a reused token.
    NotCurrent(Option<Box<StoredRefreshToken>>),
}

/// What a rotation writes: the next token's hash (a random, so also the write's own mark), when,
/// and with a grace period the next token sealed under the one it replaces.
#[derive(Clone, Debug, PartialEq)]
pub struct NextToken {
    pub hash: String,
    pub rotated_at_millis: i64,
    pub grace_seal: Option<String>,
}

/// What an exchange writes in the round trip that reads the token's user and revocations, before
/// it has seen the family: so the write carries as conditions what the family must be for the
/// write to be the one a read would have led to (the presented token current and unexpired, the
/// token's rotation number the family's count, a slid expiry within the maximum lifetime), and
/// answers the family as it was, for the checks that need the user and the revocations.
#[derive(Clone, Debug, PartialEq)]
pub struct PresentedWrite {
    /// The family the token names.
    pub id: Uuid,
    /// The presented token's hash.
    pub presented_hash: String,
    /// The presented token's rotation number: the ring slot its hash goes to.
    pub rotation: u32,
    pub now_millis: i64,
    pub expiry: NewExpiry,
    /// `OneTimeUse`: the token that replaces the presented one; `None`: only the expiry moves
    /// (`Reusable`).
    pub next: Option<NextToken>,
}

/// The expiry a [`PresentedWrite`] sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewExpiry {
    /// `Fixed`: as it is.
    Kept,
    /// `SlidingWindow`: this.
    Slid(i64),
    /// `SlidingWindowWithMaximumLifetime`: this, only for a family started at or after
    /// `started_since` (whose maximum lifetime ends no earlier); a family started before is
    /// left alone for the caller to cap its expiry.
    SlidWithinMaximum {
        expires_at_millis: i64,
        started_since: i64,
    },
}

/// What [`RefreshTokens::write_presented`] did.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum PresentedWritten {
    /// Written: the family as it was just before, for the checks and, should they refuse, for
    /// [`RefreshTokens::put_back`].
    Written(Box<StoredRefreshToken>),
    /// A condition failed: the family as it is, if it exists, so that the caller can tell a
    /// token in its grace period, a reused one, an expired one, or one that needs the read path.
    NotWritten(Option<Box<StoredRefreshToken>>),
}

/// How many replaced tokens of a family are remembered for reuse detection: the most recent
/// ones. An older token presented again is refused as unknown, without revoking the family; an
/// unbounded history would outgrow DynamoDB's 400 KB item after some thousands of rotations.
pub const ROTATIONS_REMEMBERED: u64 = 32;

/// Refresh tokens, stored one item per login (the family), by hash of the current token.
#[async_trait]
pub trait RefreshTokens: Send + Sync {
    /// The family, its user and the user's revocations that apply, in one round trip, read
    /// strongly consistent.
    async fn find(&self, names: &RefreshTokenNames) -> Result<RefreshRecords, StoreError>;
    /// When every token of `application` started at or before was revoked, if ever: one item
    /// every refresh of the application would read, so read eventually consistent (and kept a
    /// while by [`crate::refresh::ApplicationRevocations`]).
    async fn application_revoked_before(
        &self,
        application: Uuid,
    ) -> Result<Option<i64>, StoreError>;
    /// The exchange's write, made beside [`RefreshTokens::find`] rather than after it: with
    /// `next` a rotation (the presented hash into slot `rotation % ROTATIONS_REMEMBERED`, the
    /// count to `rotation + 1`), else the expiry alone; only while the presented token is
    /// current and unexpired, its rotation number the family's count (with `next`) and, for
    /// [`NewExpiry::SlidWithinMaximum`], the family started late enough. Of concurrent exchanges
    /// of one token exactly one writes. The SDK's retry of a rotation that got through finds
    /// the family at `next.hash`, its own mark, and answers `Written` again, with the family as
    /// it can tell it was (the presented hash current, the count `rotation`; the replaced
    /// slot's, the expiry's and the seal's earlier values are gone).
    async fn write_presented(&self, write: &PresentedWrite)
        -> Result<PresentedWritten, StoreError>;
    /// Undoes a [`RefreshTokens::write_presented`] whose family the checks then refused (a
    /// locked user, a revocation…): puts back `before` as it answered it, while the family's
    /// current hash is still `written_hash` (the write's next token, never handed out, or the
    /// presented one when only the expiry moved). So a refused token is as it was: it works
    /// again once its user may log in again, instead of counting as used up.
    async fn put_back(
        &self,
        before: &StoredRefreshToken,
        written_hash: &str,
    ) -> Result<(), StoreError>;
    /// Replaces the family's current token (`family.token_hash`, as [`RefreshTokens::find`]
    /// read it) by `next.hash`, keeps the replaced hash among the last
    /// [`ROTATIONS_REMEMBERED`] and sets the expiry; only while that token is still current, so
    /// of concurrent exchanges of one token exactly one rotates. What an exchange falls back on
    /// when [`RefreshTokens::write_presented`] could not write: a token near its family's
    /// maximum lifetime, or one older than the rotation numbers.
    /// The SDK's retry of a rotation that got through finds the family at `next.hash`, its own
    /// mark, and answers `Rotated` again.
    async fn rotate(
        &self,
        family: &StoredRefreshToken,
        next: &NextToken,
        expires_at_millis: i64,
    ) -> Result<Rotation, StoreError>;
    /// Slides the expiry of the family while its current token is still `family.token_hash`.
    async fn extend(
        &self,
        family: &StoredRefreshToken,
        expires_at_millis: i64,
    ) -> Result<bool, StoreError>;
    async fn token(&self, id: Uuid) -> Result<Option<StoredRefreshToken>, StoreError>;
    /// Deletes the family: none of its tokens is accepted again.
    async fn delete(&self, id: Uuid) -> Result<(), StoreError>;
    /// Revokes every token in `scope` started at or before `at_millis`, in one write whatever
    /// their number (no scan, no query).
    async fn revoke_all(&self, scope: RevocationScope, at_millis: i64) -> Result<(), StoreError>;
}

/// Authorization codes between the landing page's click and `/oauth2/token`.
#[async_trait]
pub trait AuthorizationCodes: Send + Sync {
    /// Stores a new code (by its hash) until it expires.
    async fn save(&self, code: &StoredAuthorizationCode) -> Result<(), StoreError> {
        self.save_issuing(code, None).await
    }
    /// Stores a new code with the refresh token family its exchange will issue, so that the
    /// exchange is one write and a second presentation revokes that family whenever it comes
    /// (RFC 6749 4.1.2). The family's id is no secret: the token is, and stays sealed.
    async fn save_issuing(
        &self,
        code: &StoredAuthorizationCode,
        issued_refresh_token: Option<Uuid>,
    ) -> Result<(), StoreError>;
    /// Uses the code up, once, with one conditional write that also checks expiry: of any number
    /// of concurrent redemptions exactly one gets it. A retried write of the same `attempt_id`
    /// finds its own mark and gets it again. A code used already is marked as presented again,
    /// and tells the family its exchange issued.
    async fn redeem(
        &self,
        code_hash: &str,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<Redemption, StoreError>;
}

/// What presenting an authorization code came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Redemption {
    /// Used up now, by this attempt.
    Redeemed(StoredAuthorizationCode),
    /// Used before: its exchange issued this refresh token family, if any.
    Reused { issued_refresh_token: Option<Uuid> },
    /// Unknown, or expired unused.
    NotFound,
}

/// Counts events per key in fixed windows: the send rate limits.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one event for `key` in the window of `period_seconds` that holds `now_millis`;
    /// `false` (and nothing counted) once `limit` events are in that window already. A window
    /// that counts one user's events names its `owner`, so that deleting the user deletes it.
    async fn try_acquire(
        &self,
        key: &str,
        owner: Option<Uuid>,
        limit: u32,
        period_seconds: u32,
        now_millis: i64,
    ) -> Result<bool, StoreError>;
}

/// A UTC day, the window of the daily counts (the SMS guard's, the fallback page's).
pub const DAY_SECONDS: u32 = 86_400;

/// The fixed window of `period_seconds` that holds `now_millis`, numbered from the epoch: the send
/// rate limits and the budget of wrong one-time codes count in these.
pub fn rate_window(now_millis: i64, period_seconds: u32) -> i64 {
    now_millis.div_euclid(1000) / i64::from(period_seconds.max(1))
}
