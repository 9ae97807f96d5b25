//! `POST /api/user[/{userId}]`: a new user in the caller's tenant, with one uniqueness item per
//! identity written in the same transaction, so that of concurrent creates of one address exactly
//! one succeeds and the others are `[duplicate]user.email`.

use uuid::Uuid;

use super::access::Caller;
use super::{new_user_id, taken_errors, UserError, UserServices};
use crate::errors::FieldProblem;
use crate::model::User;
use crate::ports::UserWrite;

/// A create request, parsed.
#[derive(Clone, Debug)]
pub struct CreateUser {
    /// The id the path names; else the body's `user.id`; else a random one.
    pub user_id: Option<Uuid>,
    /// The user object, parsed ([`super::input::UserInput::Create`]).
    pub user: User,
    /// FusionAuth's `skipVerification`: the email is marked verified without a message
    /// (`verifiedReason` `Skipped`).
    pub skip_verification: bool,
}

/// Creates the user; the user as written.
pub async fn create(
    services: &UserServices,
    caller: &Caller,
    command: CreateUser,
) -> Result<User, UserError> {
    let tenant = caller.required_tenant()?;
    let mut user = command.user;
    user.id = command
        .user_id
        .or((!user.id.is_nil()).then_some(user.id))
        .unwrap_or_else(|| new_user_id(services.random.as_ref()));
    user.tenant_id = tenant;
    let now = services.clock.now_millis();
    user.insert_instant = Some(now);
    user.last_update_instant = Some(now);
    if command.skip_verification {
        skip_verification(&mut user);
    }
    match services.users.create(&user).await? {
        UserWrite::Written => {
            tracing::info!(user_id = %user.id, tenant_id = %tenant, "user created");
            Ok(user)
        }
        UserWrite::Conflict => Err(UserError::field("userId", FieldProblem::Duplicate)),
        UserWrite::Taken(taken) => Err(UserError::Invalid(taken_errors("user", &taken))),
    }
}

/// FusionAuth's `skipVerification`: the identities are left unverified but exempt from
/// verification (`Skipped`), and the deprecated `verified` says true when there is an email.
pub fn skip_verification(user: &mut User) {
    for identity in &mut user.identities {
        if identity.verified_reason.is_none() {
            identity.verified_reason = Some("Skipped".to_owned());
        }
    }
    user.verified = user.email.is_some();
}
