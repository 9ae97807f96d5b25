//! `GET /api/user/{userId}`, `GET /api/user?email=|username=|loginId=[&loginIdTypes=]` and
//! `GET|POST /api/user/search` by ids. Users are always read from the table, never from a warm
//! container's cache: a change or a deletion shows at once.

use uuid::Uuid;

use super::access::Caller;
use super::{UserError, UserServices};
use crate::login_id::LoginIdTypes;
use crate::model::User;

/// The most ids one search may name.
pub const MAX_SEARCH_IDS: usize = 100;

/// The user with this id, when the caller's tenant sees it.
pub async fn by_id(services: &UserServices, caller: &Caller, id: Uuid) -> Result<User, UserError> {
    services
        .directory
        .user(id)
        .await?
        .filter(|user| caller.sees(user.tenant_id))
        .ok_or(UserError::NotFound)
}

/// The user of the caller's tenant whose identity of one of `types` (in their precedence) is
/// `login_id`.
pub async fn by_login_id(
    services: &UserServices,
    caller: &Caller,
    login_id: &str,
    types: &LoginIdTypes,
) -> Result<User, UserError> {
    let tenant = caller.required_tenant()?;
    let candidates = types.candidates(login_id);
    if candidates.is_empty() {
        return Err(UserError::NotFound);
    }
    let found = services
        .directory
        .find_identity(tenant, &candidates)
        .await?
        .ok_or(UserError::NotFound)?;
    // The identity item's copy of the user may lag behind the user item: read the user itself.
    by_id(services, caller, found.user_id).await
}

/// The users with these ids that the caller sees, in the order asked, in one read; unknown ids
/// are skipped.
pub async fn search_by_ids(
    services: &UserServices,
    caller: &Caller,
    ids: &[Uuid],
) -> Result<Vec<User>, UserError> {
    let mut unique: Vec<Uuid> = Vec::new();
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    let mut found = services.directory.users(&unique).await?;
    found.retain(|user| caller.sees(user.tenant_id));
    Ok(unique
        .iter()
        .filter_map(|id| found.iter().position(|u| u.id == *id))
        .map(|at| found[at].clone())
        .collect())
}
