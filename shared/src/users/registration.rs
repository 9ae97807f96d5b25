//! The Registration API's use cases: a user's membership of an application (roles, per-app data),
//! kept inside the user document (`User.registrations`), so that every change is one
//! [`UserStore::replace`] (or, with a new user, one [`UserStore::create`]).
//!
//! The rules, in one place: an application must be one of the user's tenant
//! (`[invalid]registration.applicationId`); a user has one registration per application
//! (`[duplicate]registration`); roles not given are the application's default roles, and a role
//! the application does not define is `[invalid]registration.roles`.

use std::sync::Arc;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::errors::{Errors, FieldProblem};
use crate::model::{Application, Registration, User};
use crate::ports::{Directory, RefreshTokens, RevocationScope, StoreError, UserStore, UserWrite};
use crate::system::{Clock, Random};

mod request;
use request::uuid;
pub use request::{parse_request, RegistrationRequest};

/// What the Registration API's use cases run on.
#[derive(Clone)]
pub struct RegistrationServices {
    pub directory: Arc<dyn Directory>,
    pub users: Arc<dyn UserStore>,
    pub tokens: Arc<dyn RefreshTokens>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
}

/// Why a registration call did not happen.
#[derive(Debug)]
pub enum RegistrationError {
    /// No API key, an unknown one, one not permitted here, or a tenant header that contradicts
    /// a tenant-locked key: 401.
    Unauthorized,
    /// 400 with these errors.
    Invalid(Errors),
    /// 404: no such user (in the caller's tenant), or no such registration.
    NotFound,
    /// The user kept changing under this call: it was read and written again a few times and
    /// another write won each time.
    Contended,
    Dependency(StoreError),
}

impl From<StoreError> for RegistrationError {
    fn from(error: StoreError) -> Self {
        Self::Dependency(error)
    }
}

/// A written registration, with its user as written.
#[derive(Clone, Debug)]
pub struct Registered {
    pub user: User,
    pub registration: Registration,
}

/// The largest user document a registration may leave (DynamoDB's items hold 400 KB with their
/// keys and attributes): past it, `[tooLarge]registration`.
pub const MAX_USER_DOCUMENT_BYTES: usize = 300 * 1024;
/// Attempts at a change when another write of the user wins the race.
const ATTEMPTS: usize = 4;

/// The roles a registration gets: those asked for, each one the application defines, or when
/// none were given the application's default roles.
pub fn roles_for(
    application: &Application,
    asked: Option<&[String]>,
) -> Result<Vec<String>, Errors> {
    match asked {
        None => Ok(application.default_roles()),
        Some(asked) => {
            if asked
                .iter()
                .all(|name| application.roles.iter().any(|role| &role.name == name))
            {
                Ok(asked.to_vec())
            } else {
                let mut errors = Errors::default();
                errors.add_field("registration.roles", FieldProblem::Invalid);
                Err(errors)
            }
        }
    }
}

/// The application `id` when it is one of `tenant`'s; else `[invalid]registration.applicationId`.
pub async fn application_of(
    directory: &dyn Directory,
    tenant: Uuid,
    id: Uuid,
) -> Result<Application, RegistrationError> {
    match directory.application(id).await? {
        Some(application) if application.tenant_id == tenant => Ok(application),
        _ => Err(RegistrationError::Invalid(Errors::field(
            "registration.applicationId",
            FieldProblem::Invalid,
        ))),
    }
}

/// A new registration to `application` as `request` asks, at `now`; `id` unless the request
/// names one.
pub fn new_registration(
    application: &Application,
    request: &RegistrationRequest,
    id: Uuid,
    now: i64,
) -> Result<Registration, Errors> {
    Ok(Registration {
        application_id: application.id,
        id: Some(request.id.unwrap_or(id)),
        roles: roles_for(application, request.roles.as_deref())?,
        verified: request.skip_verification || !application.verify_registration,
        username: request.username.clone(),
        data: request.data.clone(),
        last_login_instant: None,
        preferred_languages: request.preferred_languages.clone(),
        timezone: request.timezone.clone(),
        insert_instant: Some(now),
        last_update_instant: Some(now),
    })
}

fn duplicate() -> RegistrationError {
    let mut errors = Errors::default();
    errors.add_field_entry(
        "registration",
        "[duplicate]registration",
        "The user is already registered for this application.",
    );
    RegistrationError::Invalid(errors)
}

/// Whether `user` is small enough to be stored.
pub fn storable(user: &User) -> bool {
    serde_json::to_vec(user).is_ok_and(|document| document.len() <= MAX_USER_DOCUMENT_BYTES)
}

fn too_large() -> RegistrationError {
    let mut errors = Errors::default();
    errors.add_field_entry(
        "registration",
        "[tooLarge]registration",
        format!(
            "The user with this registration would be larger than [{MAX_USER_DOCUMENT_BYTES}] bytes."
        ),
    );
    RegistrationError::Invalid(errors)
}

/// A random v4 UUID from `random`.
pub fn random_uuid(random: &dyn Random) -> Uuid {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// The user `id` as the caller may see it: in `scope` when the call is scoped to a tenant.
async fn user_in_scope(
    services: &RegistrationServices,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<User, RegistrationError> {
    match services.directory.user(id).await? {
        Some(user) if scope.is_none_or(|tenant| tenant == user.tenant_id) => Ok(user),
        _ => Err(RegistrationError::NotFound),
    }
}

/// Applies `change` to the user (`read`, else read now) and writes it back on the condition that
/// it is still the user read; when another write won meanwhile, reads it again and starts over.
async fn change_user<T>(
    services: &RegistrationServices,
    scope: Option<Uuid>,
    user_id: Uuid,
    mut read: Option<User>,
    change: impl Fn(&User) -> Result<(User, T), RegistrationError>,
) -> Result<(User, T), RegistrationError> {
    for _ in 0..ATTEMPTS {
        let current = match read.take() {
            Some(user) => user,
            None => user_in_scope(services, scope, user_id).await?,
        };
        let (next, outcome) = change(&current)?;
        if !storable(&next) {
            return Err(too_large());
        }
        match services.users.replace(&current, &next).await? {
            UserWrite::Written => return Ok((next, outcome)),
            UserWrite::Conflict => continue,
            UserWrite::Taken(_) => {
                // A registration changes no identity: a store that says otherwise is broken.
                return Err(RegistrationError::Dependency(StoreError::new(
                    "replace user",
                    "an unchanged identity was reported taken",
                )));
            }
        }
    }
    Err(RegistrationError::Contended)
}

/// `POST /api/user/registration/{userId}` without a `user`: registers an existing user.
pub async fn register(
    services: &RegistrationServices,
    scope: Option<Uuid>,
    user_id: Uuid,
    request: &RegistrationRequest,
) -> Result<Registered, RegistrationError> {
    let user = user_in_scope(services, scope, user_id).await?;
    let application = application_of(
        services.directory.as_ref(),
        user.tenant_id,
        request.application_id,
    )
    .await?;
    let id = random_uuid(services.random.as_ref());
    let (user, registration) = change_user(services, scope, user_id, Some(user), |current| {
        if current
            .registrations
            .iter()
            .any(|r| r.application_id == application.id)
        {
            return Err(duplicate());
        }
        let now = services.clock.now_millis();
        let registration =
            new_registration(&application, request, id, now).map_err(RegistrationError::Invalid)?;
        let mut next = current.clone();
        next.registrations.push(registration.clone());
        Ok((next, registration))
    })
    .await?;
    Ok(Registered { user, registration })
}

/// `POST /api/user/registration[/{userId}]` with a `user`: the user (parsed, identities derived,
/// in its tenant) and its registration, written in one create. `Taken` and `Conflict` come back
/// as the store said them, for the caller to word as the User API does.
pub async fn create_registered(
    services: &RegistrationServices,
    mut user: User,
    request: &RegistrationRequest,
) -> Result<(UserWrite, Registered), RegistrationError> {
    let application = application_of(
        services.directory.as_ref(),
        user.tenant_id,
        request.application_id,
    )
    .await?;
    let now = services.clock.now_millis();
    let id = random_uuid(services.random.as_ref());
    let registration =
        new_registration(&application, request, id, now).map_err(RegistrationError::Invalid)?;
    user.registrations = vec![registration.clone()];
    if !storable(&user) {
        return Err(too_large());
    }
    let written = services.users.create(&user).await?;
    Ok((written, Registered { user, registration }))
}

/// `GET /api/user/registration/{userId}/{applicationId}`.
pub async fn retrieve(
    services: &RegistrationServices,
    scope: Option<Uuid>,
    user_id: Uuid,
    application_id: Uuid,
) -> Result<Registration, RegistrationError> {
    user_in_scope(services, scope, user_id)
        .await?
        .registrations
        .into_iter()
        .find(|r| r.application_id == application_id)
        .ok_or(RegistrationError::NotFound)
}

/// How a change reads its body against the registration as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// PUT: the body is the whole registration; what it leaves out is cleared.
    Replace,
    /// PATCH: the body's `registration` is merged into the registration as it is (objects merge,
    /// anything else replaces, `null` removes), then read as a PUT's.
    Merge,
}

/// `PUT|PATCH /api/user/registration/{userId}[/{applicationId}]`: the registration changed as
/// `body` says; its id, insert instant, last login and verification are kept.
pub async fn update(
    services: &RegistrationServices,
    scope: Option<Uuid>,
    user_id: Uuid,
    path_application: Option<Uuid>,
    body: &Map<String, Value>,
    kind: ChangeKind,
) -> Result<Registered, RegistrationError> {
    let application_id = match kind {
        ChangeKind::Replace => {
            parse_request(body, path_application)
                .map_err(RegistrationError::Invalid)?
                .application_id
        }
        ChangeKind::Merge => application_named(body, path_application)?,
    };
    let current = user_in_scope(services, scope, user_id).await?;
    if !current
        .registrations
        .iter()
        .any(|r| r.application_id == application_id)
    {
        return Err(RegistrationError::NotFound);
    }
    let application = application_of(
        services.directory.as_ref(),
        current.tenant_id,
        application_id,
    )
    .await?;
    let (user, registration) = change_user(services, scope, user_id, Some(current), |current| {
        let mut next = current.clone();
        let slot = next
            .registrations
            .iter_mut()
            .find(|r| r.application_id == application_id)
            .ok_or(RegistrationError::NotFound)?;
        let request = match kind {
            ChangeKind::Replace => parse_request(body, Some(application_id)),
            ChangeKind::Merge => parse_request(&merged(slot, body), Some(application_id)),
        }
        .map_err(RegistrationError::Invalid)?;
        let roles = roles_for(&application, request.roles.as_deref())
            .map_err(RegistrationError::Invalid)?;
        slot.roles = roles;
        slot.data = request.data;
        slot.preferred_languages = request.preferred_languages;
        slot.timezone = request.timezone;
        slot.username = request.username;
        slot.verified = slot.verified || request.skip_verification;
        slot.last_update_instant = Some(services.clock.now_millis());
        let registration = slot.clone();
        Ok((next, registration))
    })
    .await?;
    Ok(Registered { user, registration })
}

/// The application a PATCH names: the URL's, else the body's `registration.applicationId`.
fn application_named(
    body: &Map<String, Value>,
    path_application: Option<Uuid>,
) -> Result<Uuid, RegistrationError> {
    if let Some(id) = path_application {
        return Ok(id);
    }
    let named = body
        .get("registration")
        .and_then(Value::as_object)
        .and_then(|r| r.get("applicationId"))
        .filter(|v| !v.is_null());
    match named.map(uuid) {
        Some(Ok(id)) => Ok(id),
        Some(Err(problem)) => Err(RegistrationError::Invalid(Errors::field(
            "registration.applicationId",
            problem,
        ))),
        None => Err(RegistrationError::Invalid(Errors::field(
            "registration.applicationId",
            FieldProblem::Blank,
        ))),
    }
}

/// The body a PATCH amounts to: the registration as it is, with the body's `registration`
/// merged into it (RFC 7396), and the body's other fields.
fn merged(current: &Registration, body: &Map<String, Value>) -> Map<String, Value> {
    let mut registration = serde_json::to_value(current).unwrap_or(Value::Null);
    if let Some(patch) = body.get("registration") {
        merge(&mut registration, patch);
    }
    let mut merged = body.clone();
    merged.insert("registration".to_owned(), registration);
    merged
}

/// RFC 7396 JSON merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (name, value) in patch {
                if value.is_null() {
                    target.remove(name);
                } else {
                    merge(target.entry(name.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// `DELETE /api/user/registration/{userId}/{applicationId}`: the registration is removed and
/// every refresh token of the user for that application revoked; the user is untouched.
pub async fn remove(
    services: &RegistrationServices,
    scope: Option<Uuid>,
    user_id: Uuid,
    application_id: Uuid,
) -> Result<(), RegistrationError> {
    change_user(services, scope, user_id, None, |current| {
        let mut next = current.clone();
        let before = next.registrations.len();
        next.registrations
            .retain(|r| r.application_id != application_id);
        if next.registrations.len() == before {
            return Err(RegistrationError::NotFound);
        }
        Ok((next, ()))
    })
    .await?;
    services
        .tokens
        .revoke_all(
            RevocationScope::UserApplication(user_id, application_id),
            services.clock.now_millis(),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
