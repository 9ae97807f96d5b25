//! `DELETE /api/user/{userId}`: deactivate (FusionAuth's soft delete) or, with `hardDelete`,
//! remove the user and everything of it for good.
//!
//! A deactivated user keeps its data and can be reactivated; its refresh tokens are revoked at
//! once and its pending codes stop working (a login refuses an inactive user). A hard delete
//! removes the user, its identities and every item of it in both tables (the store's
//! [`crate::ports::UserStore::delete`]), so its addresses can be used again.

use uuid::Uuid;

use super::access::Caller;
use super::change::rewrite;
use super::{retrieve, UserError, UserServices};
use crate::ports::{RevocationScope, UserWrite};

/// How many times a delete is tried again on a user that changed meanwhile.
const ATTEMPTS: usize = 3;

pub async fn deactivate(
    services: &UserServices,
    caller: &Caller,
    id: Uuid,
) -> Result<(), UserError> {
    rewrite(services, caller, id, |current| {
        let mut next = current.clone();
        next.active = false;
        Ok(next)
    })
    .await?;
    let now = services.clock.now_millis();
    services
        .refresh_tokens
        .revoke_all(RevocationScope::User(id), now)
        .await?;
    tracing::info!(user_id = %id, "user deactivated");
    Ok(())
}

pub async fn hard_delete(
    services: &UserServices,
    caller: &Caller,
    id: Uuid,
) -> Result<(), UserError> {
    for _ in 0..ATTEMPTS {
        let user = retrieve::by_id(services, caller, id).await?;
        match services.users.delete(&user).await? {
            UserWrite::Written => {
                tracing::info!(user_id = %id, "user deleted");
                return Ok(());
            }
            UserWrite::Conflict | UserWrite::Taken(_) => continue,
        }
    }
    Err(UserError::Conflict)
}
