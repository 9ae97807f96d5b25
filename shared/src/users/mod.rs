//! FusionAuth's User API: create, retrieve, change (update, patch, reactivate), deactivate, hard
//! delete and search by ids, as use cases free of HTTP and AWS types.
//!
//! - [`access`]: who may call (the API key and its endpoint permissions) and which tenant a call
//!   is in (FusionAuth's tenant rules, `[TenantIdRequired]`);
//! - [`input`]: the FusionAuth user object parsed once into a [`User`], every field error at once;
//! - [`create`], [`retrieve`], [`change`], [`remove`]: the calls.
//!
//! Every write is one [`UserStore`] transaction: an identity (email, username, phone number)
//! belongs to one user of a tenant at most, and no user is ever half-written.

use std::sync::Arc;

use uuid::Uuid;

use crate::errors::{Errors, FieldProblem};
use crate::login_id::IdentityType;
use crate::model::User;
use crate::ports::{Directory, RefreshTokens, StoreError, UserStore};
use crate::system::{Clock, Random};

pub mod access;
pub mod change;
pub mod create;
pub mod import;
pub mod input;
pub mod registration;
pub mod remove;
pub mod retrieve;
#[cfg(test)]
mod tests;

/// What the User API runs on, built once per container.
#[derive(Clone)]
pub struct UserServices {
    pub directory: Arc<dyn Directory>,
    pub users: Arc<dyn UserStore>,
    pub refresh_tokens: Arc<dyn RefreshTokens>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
}

/// Why a User API call did not succeed: one enum for every call, turned into a response by one
/// function (`http::users::error_response`).
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// No API key, an unknown one, one not permitted this endpoint and method, or a tenant
    /// header that contradicts a tenant-locked key: 401, empty body.
    #[error("the API key is missing, unknown or not allowed here")]
    Unauthorized,
    /// No such user in the caller's tenant: 404, empty body.
    #[error("no such user")]
    NotFound,
    /// The request is invalid: 400 with FusionAuth's `Errors`.
    #[error("the request is invalid")]
    Invalid(Errors),
    /// The user changed between the read and the write, every time we tried: 409.
    #[error("the user changed while it was being written")]
    Conflict,
    #[error(transparent)]
    Dependency(#[from] StoreError),
}

impl UserError {
    pub fn field(field: &str, problem: FieldProblem) -> Self {
        Self::Invalid(Errors::field(field, problem))
    }
}

/// `[duplicate]user.email` (and `.username`, `.phoneNumber`) for each identity another user of
/// the tenant holds, under `prefix` (`user`, `users[3]`).
pub fn taken_errors(prefix: &str, taken: &[IdentityType]) -> Errors {
    let mut errors = Errors::default();
    for kind in taken {
        errors.add_field(
            &format!("{prefix}.{}", kind.as_str()),
            FieldProblem::Duplicate,
        );
    }
    errors
}

/// A user as the API shows it: the stored user, which keeps no secret (no password, no
/// two-factor secret) and whose revision is never serialized.
pub fn shown(user: &User) -> serde_json::Value {
    serde_json::json!({ "user": user })
}

/// A fresh random user id (version 4), as FusionAuth makes one when the call names none.
pub fn new_user_id(random: &dyn Random) -> Uuid {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}
