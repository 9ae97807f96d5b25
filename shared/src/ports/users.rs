//! The port of the User and Registration APIs' writes: a user with its identities, each change
//! one DynamoDB transaction, so that an identity belongs to one user of a tenant at most and no
//! user is ever half-written. Reads go through [`super::Directory`] (`user`, `find_identity`).

use async_trait::async_trait;

use super::StoreError;
use crate::login_id::IdentityType;
use crate::model::User;

/// What a write of a user came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserWrite {
    /// Written (or, for the SDK's retry of a write that got through, found written).
    Written,
    /// `create`: a user has this id already. `replace`: the user changed or went since it was
    /// read (its revision is not the one read). `delete`: the user changed since it was read (a
    /// delete that finds it gone, as the SDK's retry of a delete that got through does, has what
    /// it asked for and is `Written`).
    Conflict,
    /// These identities belong to another user of the tenant (in the user's identity order).
    Taken(Vec<IdentityType>),
}

/// Creating, changing and removing users.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// A new user (with `identities` derived) and one uniqueness item per identity, in one
    /// transaction: of eight concurrent creates of one address exactly one is `Written`.
    async fn create(&self, user: &User) -> Result<UserWrite, StoreError>;
    /// `next` replaces `current`, which is the user as read (with its revision): identity items
    /// of identities it gained are created unless taken, those it lost are deleted, the rest
    /// rewritten; all on the condition that the user is still the revision read.
    async fn replace(&self, current: &User, next: &User) -> Result<UserWrite, StoreError>;
    /// Removes the user (as read), its identity items and every other item of it in both tables
    /// (codes and their pointer, refresh tokens, challenges, trust, SSO sessions, pending logins,
    /// authorization codes, login records, rate windows), so its addresses can be used again.
    async fn delete(&self, user: &User) -> Result<UserWrite, StoreError>;
    /// New users for an import, whole or not at all each: the outcome of each, in order.
    async fn import(&self, users: &[User]) -> Result<Vec<UserWrite>, StoreError>;
}
