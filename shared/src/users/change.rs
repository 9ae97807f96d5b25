//! `PUT /api/user/{userId}` (replace the profile and login ids), `PATCH` (FusionAuth's JSON
//! merge: objects merge, `null` removes, other values replace) and `PUT ?reactivate=true`.
//!
//! Each is a read, a change and one conditional write of the revision read: a concurrent change
//! in between makes the write fail, and the change is made again on the user as it now is (a few
//! times at most, then 409). An identity the change gains is created unless another user of the
//! tenant holds it (`[duplicate]user.email`); one it loses is released at once, so a patched
//! email moves the login to the new address in the same write.

use serde_json::Value;
use uuid::Uuid;

use super::access::Caller;
use super::input::{parse_user, UserInput};
use super::{retrieve, taken_errors, UserError, UserServices};
use crate::errors::Errors;
use crate::model::User;
use crate::ports::UserWrite;

/// How many times a change is made again on a user that changed meanwhile.
const ATTEMPTS: usize = 3;

/// What a client may change: the profile and the login ids, from `given` onto `current`. The id,
/// tenant, state (active, locked, actions), registrations, two-factor methods and history stay.
/// An identity kept keeps its verification; a new email is unverified.
pub fn with_profile(current: &User, given: &User) -> User {
    let mut next = current.clone();
    next.email = given.email.clone();
    next.username = given.username.clone();
    next.phone_number = given.phone_number.clone();
    next.first_name = given.first_name.clone();
    next.middle_name = given.middle_name.clone();
    next.last_name = given.last_name.clone();
    next.full_name = given.full_name.clone();
    next.birth_date = given.birth_date.clone();
    next.image_url = given.image_url.clone();
    next.mobile_phone = given.mobile_phone.clone();
    next.preferred_languages = given.preferred_languages.clone();
    next.timezone = given.timezone.clone();
    next.data = given.data.clone();
    next.expiry = given.expiry;
    next.password_change_required = given.password_change_required;
    next.identities = current.identities.clone();
    next.verified = false;
    // `given` was parsed, so its login ids derive; the current identities are only a source of
    // verification to keep.
    if next.derive_identities(None).is_err() {
        next.identities = given.identities.clone();
    }
    next.verified = next
        .identities
        .iter()
        .any(|i| i.kind == crate::login_id::IdentityType::Email && i.verified);
    next
}

/// Replaces the user's profile and login ids (`PUT`).
pub async fn update(
    services: &UserServices,
    caller: &Caller,
    id: Uuid,
    given: &User,
) -> Result<User, UserError> {
    rewrite(services, caller, id, |current| {
        Ok(with_profile(current, given))
    })
    .await
}

/// Merges `patch` (the request's `user` object) into the user and writes what results (`PATCH`).
pub async fn patch(
    services: &UserServices,
    caller: &Caller,
    id: Uuid,
    patch: &Value,
) -> Result<User, UserError> {
    if !patch.is_object() {
        return Err(UserError::Invalid(Errors::field(
            "user",
            crate::errors::FieldProblem::CouldNotConvert,
        )));
    }
    rewrite(services, caller, id, |current| {
        let mut merged = serde_json::to_value(current)
            .map_err(|e| crate::ports::StoreError::new("serialize user", e))?;
        merge(&mut merged, patch);
        let given = parse_user(&merged, "user", UserInput::Replace).map_err(UserError::Invalid)?;
        Ok(with_profile(current, &given))
    })
    .await
}

/// Makes the user active again (`PUT ?reactivate=true`).
pub async fn reactivate(
    services: &UserServices,
    caller: &Caller,
    id: Uuid,
) -> Result<User, UserError> {
    rewrite(services, caller, id, |current| {
        let mut next = current.clone();
        next.active = true;
        Ok(next)
    })
    .await
}

/// Reads the user, applies `change` and writes the result on the condition that the user is
/// still as read; made again on a user that changed meanwhile.
pub(super) async fn rewrite(
    services: &UserServices,
    caller: &Caller,
    id: Uuid,
    change: impl Fn(&User) -> Result<User, UserError>,
) -> Result<User, UserError> {
    for _ in 0..ATTEMPTS {
        let current = retrieve::by_id(services, caller, id).await?;
        let mut next = change(&current)?;
        next.last_update_instant = Some(services.clock.now_millis());
        match services.users.replace(&current, &next).await? {
            UserWrite::Written => {
                tracing::info!(user_id = %id, "user changed");
                return Ok(next);
            }
            UserWrite::Taken(taken) => {
                return Err(UserError::Invalid(taken_errors("user", &taken)))
            }
            UserWrite::Conflict => continue,
        }
    }
    Err(UserError::Conflict)
}

/// FusionAuth's `application/json` PATCH: objects merge key by key, `null` removes a key, any
/// other value (arrays included) replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}
