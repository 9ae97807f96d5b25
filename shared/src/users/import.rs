//! `POST /api/user/import`: many new users at once, each with its identities and registrations.
//!
//! Everything that can be checked before writing is checked first, and nothing is written when
//! anything is wrong: two users of the request sharing an id or an identity, a registration to an
//! application that is not one of the user's tenant (or a role it does not define), and with
//! `validateDbConstraints` an id or identity a stored user has already. A stored duplicate found
//! only while writing (no `validateDbConstraints`, or a user created meanwhile) is a 400 too,
//! naming those users; the others are written (FusionAuth answers 500 there).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use uuid::Uuid;

use crate::errors::Errors;
use crate::login_id::{IdentityKey, IdentityType};
use crate::model::{Application, User};
use crate::ports::{Directory, StoreError, UserStore, UserWrite};
use crate::system::{Clock, Random};
use crate::users::input::{depth, MAX_DATA_DEPTH};
use crate::users::registration::{random_uuid, storable, MAX_USER_DOCUMENT_BYTES};

/// The most users one import may carry (FusionAuth suggests batches of about 100 000; a Lambda
/// invocation has 15 minutes and 6 MB of request at most).
pub const MAX_USERS: usize = 10_000;
/// Stored-duplicate checks (`validateDbConstraints`) in flight at once.
const CONCURRENT_CHECKS: usize = 16;

/// What the import function runs on.
#[derive(Clone)]
pub struct ImportServices {
    pub directory: Arc<dyn Directory>,
    pub users: Arc<dyn UserStore>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
}

/// Why an import wrote nothing (or, for duplicates found while writing, not everything).
#[derive(Debug)]
pub enum ImportError {
    Invalid(Errors),
    Dependency(StoreError),
}

impl From<StoreError> for ImportError {
    fn from(error: StoreError) -> Self {
        Self::Dependency(error)
    }
}

/// Imports `users` (parsed, in their tenants, identities derived): all of them, or with a 400
/// none of them unless a duplicate showed up only while writing.
pub async fn import(
    services: &ImportServices,
    users: &mut [User],
    validate_db_constraints: bool,
) -> Result<(), ImportError> {
    completed(services, users);
    let users = &*users;
    let mut errors = duplicates_within(users);
    for (index, user) in users.iter().enumerate() {
        if !storable(user) {
            errors.add_field_entry(
                &format!("users[{index}]"),
                format!("[tooLarge]users[{index}]"),
                format!("The user is larger than [{MAX_USER_DOCUMENT_BYTES}] bytes."),
            );
        }
    }
    registrations_checked(services.directory.as_ref(), users, &mut errors).await?;
    if validate_db_constraints && errors.is_empty() {
        stored_duplicates(services, users, &mut errors).await?;
    }
    if !errors.is_empty() {
        return Err(ImportError::Invalid(errors));
    }
    let outcomes = services.users.import(users).await?;
    let mut errors = Errors::default();
    for (index, (user, outcome)) in users.iter().zip(&outcomes).enumerate() {
        match outcome {
            UserWrite::Written => {}
            UserWrite::Conflict => duplicate_id(&mut errors, index, user.id),
            UserWrite::Taken(kinds) => {
                for kind in kinds {
                    duplicate_identity(&mut errors, index, *kind);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ImportError::Invalid(errors))
    }
}

/// What an import may leave out, made: a registration's id and insert instant, the user's
/// insert and update instants.
fn completed(services: &ImportServices, users: &mut [User]) {
    let now = services.clock.now_millis();
    for user in users {
        user.insert_instant.get_or_insert(now);
        user.last_update_instant = Some(now);
        for registration in &mut user.registrations {
            registration
                .id
                .get_or_insert_with(|| random_uuid(services.random.as_ref()));
            registration.insert_instant.get_or_insert(now);
            registration.last_update_instant = Some(now);
        }
    }
}

fn field_of(kind: IdentityType) -> &'static str {
    match kind {
        IdentityType::Email => "user.email",
        IdentityType::PhoneNumber => "user.phoneNumber",
        IdentityType::Username => "user.username",
    }
}

/// `[duplicate]user.email` (or `username`, `phoneNumber`) for the user at `index`. The message
/// names the index, not the value: the request has it.
fn duplicate_identity(errors: &mut Errors, index: usize, kind: IdentityType) {
    let field = field_of(kind);
    errors.add_field_entry(
        field,
        format!("[duplicate]{field}"),
        format!(
            "The user at index [{index}] has a [{}] that another user already has.",
            kind.as_str()
        ),
    );
}

fn duplicate_id(errors: &mut Errors, index: usize, id: Uuid) {
    errors.add_field_entry(
        "user.id",
        "[duplicate]user.id".to_owned(),
        format!("The user at index [{index}] has the Id [{id}], which another user already has."),
    );
}

/// Two users of the request with one id, or one identity in one tenant.
pub fn duplicates_within(users: &[User]) -> Errors {
    let mut errors = Errors::default();
    let mut ids = HashSet::new();
    let mut identities = HashSet::new();
    for (index, user) in users.iter().enumerate() {
        if !ids.insert(user.id) {
            duplicate_id(&mut errors, index, user.id);
        }
        for identity in &user.identities {
            if !identities.insert((user.tenant_id, identity.kind, identity.value.clone())) {
                duplicate_identity(&mut errors, index, identity.kind);
            }
        }
    }
    errors
}

/// Each registration names an application of its user's tenant, once per user, with roles it
/// defines.
async fn registrations_checked(
    directory: &dyn Directory,
    users: &[User],
    errors: &mut Errors,
) -> Result<(), StoreError> {
    let mut applications: HashMap<Uuid, Option<Application>> = HashMap::new();
    for (index, user) in users.iter().enumerate() {
        let mut seen = HashSet::new();
        for (at, registration) in user.registrations.iter().enumerate() {
            let field = format!("users[{index}].registrations[{at}]");
            let id = registration.application_id;
            if let std::collections::hash_map::Entry::Vacant(slot) = applications.entry(id) {
                slot.insert(directory.application(id).await?);
            }
            let application = applications[&id]
                .as_ref()
                .filter(|a| a.tenant_id == user.tenant_id);
            let Some(application) = application else {
                errors.add_field_entry(
                    &format!("{field}.applicationId"),
                    format!("[invalid]{field}.applicationId"),
                    format!("No application exists in the user's tenant with Id [{id}]."),
                );
                continue;
            };
            if depth(&registration.data) > MAX_DATA_DEPTH {
                errors.add_field_entry(
                    &format!("{field}.data"),
                    format!("[invalid]{field}.data"),
                    format!("The [{field}.data] property nests deeper than [{MAX_DATA_DEPTH}]."),
                );
            }
            if !seen.insert(id) {
                errors.add_field_entry(
                    &format!("{field}.applicationId"),
                    format!("[duplicate]{field}.applicationId"),
                    format!("The user at index [{index}] is registered twice to [{id}]."),
                );
            }
            if let Some(role) = registration
                .roles
                .iter()
                .find(|name| !application.roles.iter().any(|r| &&r.name == name))
            {
                errors.add_field_entry(
                    &format!("{field}.roles"),
                    format!("[invalid]{field}.roles"),
                    format!("The application [{id}] has no role [{role}]."),
                );
            }
        }
    }
    Ok(())
}

/// `validateDbConstraints`: an id or identity a stored user has already. One read per user (its
/// identities together), a few at once.
async fn stored_duplicates(
    services: &ImportServices,
    users: &[User],
    errors: &mut Errors,
) -> Result<(), StoreError> {
    for (chunk_index, chunk) in users.chunks(CONCURRENT_CHECKS).enumerate() {
        let mut checks = tokio::task::JoinSet::new();
        for (offset, user) in chunk.iter().enumerate() {
            let index = chunk_index * CONCURRENT_CHECKS + offset;
            let directory = services.directory.clone();
            let (id, tenant) = (user.id, user.tenant_id);
            let keys: Vec<IdentityKey> = user
                .identities
                .iter()
                .map(|i| IdentityKey {
                    kind: i.kind,
                    value: i.value.clone(),
                })
                .collect();
            checks.spawn(async move {
                let (existing, taken) = tokio::try_join!(
                    directory.user(id),
                    taken_identities(directory.as_ref(), tenant, &keys)
                )?;
                Ok::<_, StoreError>((index, id, existing.is_some(), taken))
            });
        }
        let mut found = Vec::new();
        while let Some(joined) = checks.join_next().await {
            let checked = joined.map_err(|e| StoreError::new("check stored users", e))??;
            found.push(checked);
        }
        found.sort_by_key(|(index, ..)| *index);
        for (index, id, exists, taken) in found {
            if exists {
                duplicate_id(errors, index, id);
            }
            for kind in taken {
                duplicate_identity(errors, index, kind);
            }
        }
    }
    Ok(())
}

/// Which of `keys` a stored user of `tenant` has already.
async fn taken_identities(
    directory: &dyn Directory,
    tenant: Uuid,
    keys: &[IdentityKey],
) -> Result<Vec<IdentityType>, StoreError> {
    let mut taken = Vec::new();
    let mut rest = keys;
    // `find_identity` answers the first match of its candidates: ask again after it.
    while let Some(found) = directory.find_identity(tenant, rest).await? {
        let at = rest
            .iter()
            .position(|k| *k == found.identity)
            .unwrap_or(rest.len() - 1);
        taken.push(rest[at].kind);
        rest = &rest[at + 1..];
        if rest.is_empty() {
            break;
        }
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(id: u128, email: &str) -> User {
        let mut user: User = serde_json::from_value(json!({
            "id": Uuid::from_u128(id), "tenantId": "f24aca2b-ce4a-4dad-951a-c9d690e71415",
            "email": email
        }))
        .unwrap();
        user.derive_identities(None).unwrap();
        user
    }

    fn codes(errors: &Errors) -> Vec<(String, String)> {
        errors
            .field_errors
            .iter()
            .flat_map(|(field, entries)| entries.iter().map(|e| (field.clone(), e.message.clone())))
            .collect()
    }

    #[test]
    fn a_duplicate_address_within_the_request_names_the_later_index() {
        let users = [user(1, "a@x.com"), user(2, "b@x.com"), user(3, "A@X.com")];
        let errors = duplicates_within(&users);
        assert_eq!(
            codes(&errors),
            [(
                "user.email".to_owned(),
                "The user at index [2] has a [email] that another user already has.".to_owned()
            )]
        );
        assert_eq!(
            errors.field_errors["user.email"][0].code,
            "[duplicate]user.email"
        );
    }

    #[test]
    fn a_duplicate_id_within_the_request_is_a_duplicate_user_id() {
        let errors = duplicates_within(&[user(1, "a@x.com"), user(1, "b@x.com")]);
        assert_eq!(errors.field_errors["user.id"][0].code, "[duplicate]user.id");
        assert!(duplicates_within(&[user(1, "a@x.com"), user(2, "b@x.com")]).is_empty());
    }
}
