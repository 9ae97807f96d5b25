//! Self-service sign-up on the hosted pages, as FusionAuth's `registrationConfiguration`, and
//! passwordless: an email address no user of the tenant has, posted on the login id page of an
//! application open to sign-ups ([`offer`]), gets the passwordless email worded for a sign-up,
//! with its link and one-time code. The pending code carries the user it would create (its id
//! minted then); the user and its registration are created ([`create`]) only once that code
//! completes the login, never before. A user of the tenant without a registration for such an
//! application is registered by the hosted login's own write ([`register`]).
//!
//! Who may sign up: the application's `registrationConfiguration.enabled`, its `loginIdType`
//! `email` (the only one a passwordless sign-up can prove), and, when the application lists
//! `allowedEmailDomains`, an address of one of them ([`open_to`]). Anything else is an unknown
//! login id as before: nothing is sent and nothing is created, and the page is the same.

use uuid::Uuid;

use crate::login_id::{canonical_text, IdentityKey, IdentityType};
use crate::model::{
    is_email, Application, PendingCode, Registration, RegistrationLoginIdType, User,
};
use crate::ports::{Directory, StoreError, UserStore, UserWrite};
use crate::system::Random;

/// Why a completed sign-up's email is verified: the code that completed it was mailed there.
pub const VERIFIED_REASON: &str = "Implicit";

/// Whether the application registers users with this email address (a sign-up, or a login of
/// a tenant user without a registration): registration enabled and, when it lists allowed
/// domains, the address's domain among them (compared in lower case).
pub fn open_to(application: &Application, email: Option<&str>) -> bool {
    let config = &application.registration_configuration;
    if !config.enabled {
        return false;
    }
    if config.allowed_email_domains.is_empty() {
        return true;
    }
    let Some(domain) = email.and_then(|e| e.rsplit_once('@')).map(|(_, d)| d) else {
        return false;
    };
    let domain = canonical_text(domain.trim());
    config
        .allowed_email_domains
        .iter()
        .any(|allowed| canonical_text(allowed.trim()) == domain)
}

fn random_id(random: &dyn Random) -> Uuid {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

fn registration(application: &Application, random: &dyn Random) -> Registration {
    Registration {
        application_id: application.id,
        id: Some(random_id(random)),
        roles: application.default_roles(),
        // The passwordless login that registers is the proof FusionAuth's registration
        // verification would ask for.
        verified: true,
        username: None,
        data: Default::default(),
        last_login_instant: None,
        preferred_languages: Vec::new(),
        timezone: None,
        // Set when the sign-up's code is used and the user is created.
        insert_instant: None,
        last_update_instant: None,
    }
}

/// The user a sign-up with `login_id` would create, when the application is open to it and the
/// login id is an email address: a fresh id, the address (canonical), the page's `languages`,
/// and a registration to the application with its default roles. Nothing is stored.
pub fn offer(
    application: &Application,
    login_id: &str,
    languages: &[String],
    random: &dyn Random,
) -> Option<User> {
    if application.registration_configuration.login_id_type != RegistrationLoginIdType::Email {
        return None;
    }
    let email = canonical_text(login_id.trim());
    if !is_email(&email) || !open_to(application, Some(&email)) {
        return None;
    }
    let mut user: User = serde_json::from_value(serde_json::json!({
        "id": random_id(random),
        "tenantId": application.tenant_id,
        "email": email,
    }))
    .ok()?;
    user.preferred_languages = languages.to_vec();
    user.registrations = vec![registration(application, random)];
    user.derive_identities(None).ok()?;
    Some(user)
}

/// Registers `user` to `application` with its default roles when the application is open to
/// the user's email address and the user has no registration for it: whether it did. The
/// hosted login that calls this writes the user back itself.
pub fn register(user: &mut User, application: &Application, random: &dyn Random) -> bool {
    let registered = user
        .registrations
        .iter()
        .any(|r| r.application_id == application.id);
    if registered || !open_to(application, user.email.as_deref()) {
        return false;
    }
    user.registrations.push(registration(application, random));
    true
}

/// Creates the user a sign-up's code was started for, now that the code completed the login:
/// the email identity verified ([`VERIFIED_REASON`]), `insertInstant` now. The id of the user
/// the login goes on with: the new user's; if the address was taken meanwhile (an earlier
/// sign-up, the User API), that user's, since the code proved the address; `None` when the code
/// carries no user (nothing to create).
pub async fn create(
    users: &dyn UserStore,
    directory: &dyn Directory,
    pending: &PendingCode,
    now_millis: i64,
) -> Result<Option<Uuid>, StoreError> {
    let Some(mut user) = pending.user.clone() else {
        return Ok(None);
    };
    user.id = pending.user_id;
    user.tenant_id = pending.tenant_id;
    user.active = true;
    user.verified = true;
    user.insert_instant = Some(now_millis);
    user.last_update_instant = Some(now_millis);
    for registration in &mut user.registrations {
        registration.insert_instant = Some(now_millis);
        registration.last_update_instant = Some(now_millis);
    }
    user.revision = None;
    for identity in user.identities.iter_mut() {
        if identity.kind == IdentityType::Email && identity.value == pending.identity_value {
            identity.verified = true;
            identity.verified_reason = Some(VERIFIED_REASON.to_owned());
            identity.verified_instant = Some(now_millis);
        }
    }
    // Twice: an address taken by a user who is then deleted before we look it up is free again.
    for _ in 0..2 {
        match users.create(&user).await? {
            UserWrite::Written => {
                tracing::info!(user_id = %user.id, application_id = %pending.application_id,
                    "a user signed up");
                crate::metrics::signed_up();
                return Ok(Some(user.id));
            }
            // A user with this id exists: this sign-up's own, written by an earlier try.
            UserWrite::Conflict => return Ok(Some(user.id)),
            UserWrite::Taken(_) => {
                let address = [IdentityKey {
                    kind: IdentityType::Email,
                    value: pending.identity_value.clone(),
                }];
                if let Some(found) = directory.find_identity(pending.tenant_id, &address).await? {
                    tracing::info!(user_id = %found.user_id,
                        "a sign-up's address was taken meanwhile: the login goes on as its user");
                    return Ok(Some(found.user_id));
                }
            }
        }
    }
    Err(StoreError::new(
        "create user",
        "the address was taken and freed again during the sign-up",
    ))
}

#[cfg(test)]
mod tests;
