//! The code store's ports: where a start puts its code ([`PendingCodes`]) and what a login and a
//! send do with it ([`CodeStore`]), with the attempt limits a one-time code is compared under.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreError;
use crate::login_id::IdentityKey;
use crate::model::PendingCode;

/// How many one-time codes may be compared: per code, and per user across codes in a fixed
/// window. Each comparison is counted before it is made, so no burst gets past either number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptLimits {
    /// One-time codes compared against one code at most; after that many it is invalid.
    pub per_code: u32,
    /// One-time codes compared against one user's codes in the window at most; past it, 429.
    pub per_user: u32,
    pub per_user_window_seconds: u32,
}

/// What a login attempt did to a code.
#[derive(Clone, Debug, PartialEq)]
pub enum Consumed {
    /// The code, now used up by this attempt (or by an earlier try of this same attempt: a
    /// retried write with the same `attempt_id` finds its own mark and succeeds again).
    Code(Box<PendingCode>),
    /// An unknown, expired, used or superseded code, a code of another application, or a wrong
    /// one-time code: alike.
    NotFound,
    /// The user's budget of one-time codes compared is spent: nothing was compared.
    AttemptBudgetSpent,
}

/// The first step of a one-time code's use, where a store splits it so that the login may run
/// the rest beside its other calls: counted against the code, not yet against the user, not yet
/// used ([`CodeStore::begin_consume`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Staged {
    /// The use is over (a link's code, a code not found, or a store that does not split it).
    Done(Consumed),
    Counted(CountedCode),
}

/// A comparison counted against a live code, with the code as that count found it.
#[derive(Clone, Debug, PartialEq)]
pub struct CountedCode {
    pub pending: Box<PendingCode>,
    /// Whether the one-time code presented is the code's.
    pub matches: bool,
    /// Comparisons counted against the code, this one included.
    pub attempts: u32,
}

/// What a login presents: the code's hash, and what else must match.
#[derive(Clone, Copy, Debug)]
pub struct Presented<'a> {
    pub code_hash: &'a str,
    /// The one-time code's hash (with the code), for a FormField code; with `fallback`, its
    /// hash with the code's hash and the typed address's ([`crate::codes::hash_fallback_code`]).
    pub one_time_code_hash: Option<&'a str>,
    /// The one-time code is a link's fallback, entered without the link: it is compared with
    /// the code's `fallback_code_hash`, which only a ClickableLink code that send emailed has,
    /// instead of the FormField one.
    pub fallback: bool,
    /// The application the login names: a code started for another one does not match.
    pub application_id: Option<Uuid>,
}

/// Where a start puts its code: all start needs of the code store, so that the start function
/// links nothing of what a login does with codes.
#[async_trait]
pub trait PendingCodes: Send + Sync {
    /// Stores `code` as the user's only valid code: every earlier one stops working. What counts
    /// attempts against the user is kept at least for `limits`' window.
    async fn save_pending(
        &self,
        code: &PendingCode,
        limits: AttemptLimits,
    ) -> Result<(), StoreError>;
}

/// Started logins.
#[async_trait]
pub trait CodeStore: PendingCodes {
    /// Uses the code up, once, and marks it used by `attempt_id`; expiry and the application are
    /// conditions of that write. A FormField code's one-time code is compared only after an
    /// attempt has been counted against the code and against its user ([`AttemptLimits`]), so
    /// that however many arrive at once, no more than the limits are ever compared.
    async fn consume(
        &self,
        presented: Presented<'_>,
        attempt_id: &str,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<Consumed, StoreError>;
    /// [`Self::consume`] in steps, for a one-time code: the count against the code
    /// ([`Staged::Counted`]), then [`Self::count_on_user`] and [`Self::finish_consume`], which
    /// the login runs beside its read of the user and its writes. A store may answer `Done` with
    /// the whole use at once.
    async fn begin_consume(
        &self,
        presented: Presented<'_>,
        attempt_id: &str,
        now_millis: i64,
        limits: AttemptLimits,
    ) -> Result<Staged, StoreError> {
        self.consume(presented, attempt_id, now_millis, limits)
            .await
            .map(Staged::Done)
    }
    /// Counts the comparison against the user's budget, on the condition that the user's newest
    /// code is still this one: `None` when counted, else what the login answers.
    async fn count_on_user(
        &self,
        _presented: Presented<'_>,
        _counted: &CountedCode,
        _now_millis: i64,
        _limits: AttemptLimits,
    ) -> Result<Option<Consumed>, StoreError> {
        Err(StoreError::new(
            "count on user",
            "this store does not stage codes",
        ))
    }
    /// Uses the counted code up for `attempt_id` if the one-time code matched (or spends it, if
    /// that was its last comparison).
    async fn finish_consume(
        &self,
        _presented: Presented<'_>,
        _counted: &CountedCode,
        _attempt_id: &str,
        _now_millis: i64,
        _limits: AttemptLimits,
    ) -> Result<Consumed, StoreError> {
        Err(StoreError::new(
            "use code",
            "this store does not stage codes",
        ))
    }
    /// The code with this hash while it is unused, superseded or not: a superseded code stays
    /// stored until its TTL, and whether it is still the user's newest is the pointer's to say
    /// ([`Self::newest`], [`Wanted::newest_code`]); every use of a code checks that. Expiry is
    /// the caller's to check too: stores may keep expired items for days.
    async fn pending(&self, code_hash: &str) -> Result<Option<PendingCode>, StoreError>;
    /// The hash of the user's newest code (used or not, expired or not): the only one that can
    /// still log them in.
    async fn newest(&self, user_id: Uuid) -> Result<Option<String>, StoreError>;
    /// Records that the code was delivered to `identity` (an email address or a phone number):
    /// completing the login verifies that identity, and only that one. With `fallback_code_hash`
    /// (a link's email, which carries its fallback), records that too: the fallback page takes
    /// nothing else ([`crate::codes::hash_fallback_code`]). One idempotent write, which send
    /// makes beside its other reads and writes, before the message goes out: what it added is
    /// answered, for [`Self::unmark_delivered`] to take back when the message does not go.
    async fn mark_delivered(
        &self,
        code_hash: &str,
        identity: &IdentityKey,
        fallback_code_hash: Option<&str>,
    ) -> Result<DeliveryMark, StoreError>;
    /// Takes back what [`Self::mark_delivered`] added (`mark`), and nothing an earlier send of
    /// the code recorded.
    async fn unmark_delivered(
        &self,
        code_hash: &str,
        identity: &IdentityKey,
        mark: DeliveryMark,
    ) -> Result<(), StoreError>;
}

/// What one [`CodeStore::mark_delivered`] added to the code: the identity (not there before)
/// and the fallback's hash (not set before).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryMark {
    pub added_identity: bool,
    pub set_fallback: bool,
}

impl DeliveryMark {
    /// Nothing to take back.
    pub fn is_empty(self) -> bool {
        !self.added_identity && !self.set_fallback
    }
}
