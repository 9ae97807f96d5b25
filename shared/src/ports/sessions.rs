//! What a login writes ([`Sessions`]): all at once after its read ([`CompletedLogin`]), or
//! guessed from its code beside the read ([`LoginAhead`]), and the ids it may hand out instead.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreError;
use crate::login_id::IdentityKey;
use crate::model::{LoginRecord, StoredRefreshToken, User};

/// What a successful login writes, all at once.
#[derive(Clone, Debug)]
pub struct CompletedLogin {
    /// Names this login attempt: a retried write of the same attempt is recognised as such.
    pub attempt_id: String,
    /// The revision the user item gets; `user.revision` is the one the login read.
    pub new_revision: String,
    /// The user with its new `lastLoginInstant`s and verified identity.
    pub user: User,
    pub refresh_token: Option<StoredRefreshToken>,
    pub record: LoginRecord,
}

impl CompletedLogin {
    /// The last logins the login marks on the user (those [`crate::login`] set to the login's
    /// instant): the user's, the registration's of the login's application, the identity's.
    pub fn last_logins(&self) -> LastLogins {
        let at = self.record.instant;
        LastLogins {
            user_id: self.user.id,
            at,
            application_id: self
                .user
                .registrations
                .iter()
                .find(|r| Some(r.application_id) == self.record.application_id)
                .map(|r| r.application_id),
            identity: self
                .user
                .identities
                .iter()
                .find(|i| i.last_login_instant == Some(at))
                .map(|i| IdentityKey {
                    kind: i.kind,
                    value: i.value.clone(),
                }),
        }
    }
}

/// What a login writes of the user's state (not the user's document): its last logins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastLogins {
    pub user_id: Uuid,
    pub at: i64,
    /// The application the user is registered to and logs in to, if any.
    pub application_id: Option<Uuid>,
    /// The identity the code was for, when the user has it.
    pub identity: Option<IdentityKey>,
}

/// A login's writes made beside the read of its user instead of after it, guessed from the code
/// alone ([`Sessions::record_login_ahead`]): right for the common login (a registered user who
/// may log in unchallenged, whose document the login leaves as it is), taken back otherwise.
#[derive(Clone, Debug)]
pub struct LoginAhead {
    pub last_logins: LastLogins,
    pub refresh_token: Option<StoredRefreshToken>,
    pub record: LoginRecord,
}

/// What [`Sessions::record_login_ahead`] wrote of the user's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WrittenAhead {
    /// The last logins, with what they were before (`None`: absent), for an undo to put back.
    State(PriorLogins),
    /// The user has no state item yet (written before there were): none was created; the login
    /// writes the user instead, after its read.
    NoStateItem,
}

/// The user's last logins as a login written ahead found them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PriorLogins {
    pub user: Option<i64>,
    pub application: Option<i64>,
    pub identity: Option<i64>,
}

/// Short-lived ids handed out with or instead of a login: a two-factor id (242), a
/// change-password id (203), an identity verification id (212) or a registration verification id
/// (213). Stored by hash with their expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Challenge {
    TwoFactor,
    ChangePassword,
    IdentityVerification,
    RegistrationVerification,
}

/// Whether a completed login was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    Recorded,
    /// Nothing written: the user changed (locked, deactivated, edited) since it was read, and
    /// the login must look at the user again rather than write back what it read.
    UserChanged,
}

/// Logins: what completing one writes, and the ids it may hand out instead.
#[async_trait]
pub trait Sessions: Send + Sync {
    /// Writes the login at once (user, record, refresh token), on the condition that the user is
    /// still the revision the login read. Idempotent for one `login`: a retried write changes
    /// nothing more.
    async fn complete_login(&self, login: &CompletedLogin) -> Result<Completion, StoreError>;
    /// The same login when the user's document did not change (only its last logins did): the
    /// user item is not written, only the user's login state beside it, on the same condition,
    /// with the record and the refresh token. When the condition fails nothing of the login
    /// stays. Idempotent for one `login`.
    async fn record_login(&self, login: &CompletedLogin) -> Result<Completion, StoreError> {
        self.complete_login(login).await
    }
    /// Removes what `record_login` or `complete_login` put for `login` (its record and refresh
    /// token): the code it was for turned out used by another attempt.
    async fn undo_login(&self, login: &CompletedLogin) -> Result<(), StoreError>;
    /// Writes a login before its user is read ([`LoginAhead`]): the last logins on the user's
    /// state item, unconditionally but for the item's existence (a lock written meanwhile is a
    /// different attribute, and the login's read sees it), the record and the refresh token, at
    /// once. What it wrote stays until [`Sessions::undo_login_ahead`] takes it back.
    async fn record_login_ahead(&self, ahead: &LoginAhead) -> Result<WrittenAhead, StoreError>;
    /// Takes back what [`Sessions::record_login_ahead`] wrote: the record and the token go, the
    /// last logins are put back as they were unless a later login changed them since.
    async fn undo_login_ahead(
        &self,
        ahead: &LoginAhead,
        written: &WrittenAhead,
    ) -> Result<(), StoreError>;
    async fn save_challenge(
        &self,
        kind: Challenge,
        id: &str,
        user_id: Uuid,
        expires_at_millis: i64,
    ) -> Result<(), StoreError>;
    /// Whether `trust_id` is a two-factor trust issued to `user_id` and still valid.
    async fn is_trusted(
        &self,
        trust_id: &str,
        user_id: Uuid,
        now_millis: i64,
    ) -> Result<bool, StoreError>;
}
