//! What a completed login verifies and which kind of login it is: the identities the code was
//! delivered to are verified (implicitly, where the tenant allows it), and the login is complete,
//! not registered (202), registration-unverified (213) or identity-unverified (212, only where the
//! tenant requires that identity type verified).

use uuid::Uuid;

use super::{issue_id, Attempt};
use crate::login_id::IdentityType;
use crate::model::{Application, PendingCode, Registration, Tenant, User, VerificationStrategy};
use crate::ports::{Challenge, StoreError};

/// FusionAuth's default lifetime of email, identity and registration verification ids.
const VERIFICATION_ID_SECONDS: i64 = 86_400;

/// Which kind of successful login this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoggedInKind {
    /// The tenant requires this identity type verified, and the login identity is not.
    IdentityUnverified(IdentityType),
    /// The login names an application the user is not registered to.
    NotRegistered,
    /// The registration is not verified and the application requires it.
    RegistrationUnverified,
    Complete,
}

/// The ids a 212 or a 213 hands out, each stored by its hash.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct VerificationIds {
    /// An email login whose tenant verifies email by `FormField`: the same id as `identity`.
    pub email: Option<String>,
    /// The login identity's type is verified by `FormField`.
    pub identity: Option<String>,
    pub registration: Option<String>,
}

/// Redacts each id: a logged id verifies an address.
impl std::fmt::Debug for VerificationIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::redact::redacted;
        f.debug_struct("VerificationIds")
            .field("email", &redacted(&self.email))
            .field("identity", &redacted(&self.identity))
            .field("registration", &redacted(&self.registration))
            .finish()
    }
}

pub(super) fn kind_of_login(
    tenant: &Tenant,
    user: &User,
    pending: &PendingCode,
    application: Option<&Application>,
    registration: Option<&Registration>,
) -> LoggedInKind {
    if let Some(kind) = unverified_login_identity(tenant, user, pending) {
        return LoggedInKind::IdentityUnverified(kind);
    }
    match (application, registration) {
        (Some(_), None) => LoggedInKind::NotRegistered,
        (Some(app), Some(r)) if app.verify_registration && !r.verified => {
            LoggedInKind::RegistrationUnverified
        }
        _ => LoggedInKind::Complete,
    }
}

/// The identity FusionAuth's 212 is about: the user's email address when an email address or a
/// username was used, else the phone number; reported only where the tenant requires that type
/// verified (`emailConfiguration.verifyEmail`, `phoneConfiguration.verifyPhoneNumber`).
fn unverified_login_identity(
    tenant: &Tenant,
    user: &User,
    pending: &PendingCode,
) -> Option<IdentityType> {
    let kind = match pending.identity_type {
        IdentityType::Email | IdentityType::Username => IdentityType::Email,
        IdentityType::PhoneNumber => IdentityType::PhoneNumber,
    };
    if !requires_verification(tenant, kind) {
        return None;
    }
    let identity = user.identities.iter().find(|i| {
        i.kind == kind && (kind != pending.identity_type || i.value == pending.identity_value)
    })?;
    (!identity.verified).then_some(kind)
}

fn requires_verification(tenant: &Tenant, kind: IdentityType) -> bool {
    match kind {
        IdentityType::Email => tenant.email_configuration.verify_email,
        IdentityType::PhoneNumber => tenant.phone_configuration.verify_phone_number,
        IdentityType::Username => false,
    }
}

/// The verification ids `kind` carries: for a 212, an identity verification id where the tenant
/// verifies that identity type by `FormField` (for an email, also as the email verification id);
/// for a 213, a registration verification id.
pub(super) async fn verification_ids(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    user_id: Uuid,
    kind: LoggedInKind,
) -> Result<VerificationIds, StoreError> {
    match kind {
        LoggedInKind::IdentityUnverified(identity_type) => {
            let strategy = match identity_type {
                IdentityType::Email => tenant.email_configuration.verification_strategy,
                _ => tenant.phone_configuration.verification_strategy,
            };
            if strategy != VerificationStrategy::FormField {
                return Ok(VerificationIds::default());
            }
            let id = issue_id(
                attempt,
                Challenge::IdentityVerification,
                user_id,
                VERIFICATION_ID_SECONDS,
            )
            .await?;
            Ok(VerificationIds {
                email: (identity_type == IdentityType::Email).then(|| id.clone()),
                identity: Some(id),
                registration: None,
            })
        }
        LoggedInKind::RegistrationUnverified => {
            let id = issue_id(
                attempt,
                Challenge::RegistrationVerification,
                user_id,
                VERIFICATION_ID_SECONDS,
            )
            .await?;
            Ok(VerificationIds {
                registration: Some(id),
                ..VerificationIds::default()
            })
        }
        LoggedInKind::NotRegistered | LoggedInKind::Complete => Ok(VerificationIds::default()),
    }
}

/// Marks the login on the user, its login identity and the registration, and verifies the
/// identities the code was delivered to (implicitly, where the tenant allows it for that type).
/// Identities that stay unverified say why, as FusionAuth shows them: usernames `Unverifiable`,
/// others `Pending` where the tenant requires verification, else `Disabled`.
pub(super) fn record_login_on_user(
    user: &mut User,
    tenant: &Tenant,
    pending: &PendingCode,
    application: Option<&Application>,
    now: i64,
) {
    user.last_login_instant = Some(now);
    for identity in user.identities.iter_mut() {
        if identity.kind == pending.identity_type && identity.value == pending.identity_value {
            identity.last_login_instant = Some(now);
        }
        let delivered = pending
            .delivered_to
            .iter()
            .any(|d| d.kind == identity.kind && d.value == identity.value);
        if delivered && implicitly_verifiable(tenant, identity.kind) && !identity.verified {
            identity.verified = true;
            identity.verified_reason = Some("Implicit".to_owned());
            identity.verified_instant = Some(now);
        }
        let settled = matches!(
            identity.verified_reason.as_deref(),
            Some("Skipped" | "Trusted" | "Import")
        );
        if !identity.verified && !settled {
            let reason = match identity.kind {
                IdentityType::Username => "Unverifiable",
                kind if requires_verification(tenant, kind) => "Pending",
                _ => "Disabled",
            };
            identity.verified_reason = Some(reason.to_owned());
        }
    }
    user.verified = user
        .identities
        .iter()
        .any(|i| i.kind == IdentityType::Email && i.verified);
    if let Some(app) = application {
        if let Some(r) = user
            .registrations
            .iter_mut()
            .find(|r| r.application_id == app.id)
        {
            r.last_login_instant = Some(now);
        }
    }
}

fn implicitly_verifiable(tenant: &Tenant, kind: IdentityType) -> bool {
    match kind {
        IdentityType::Email => {
            tenant
                .email_configuration
                .implicit_email_verification_allowed
        }
        IdentityType::PhoneNumber => {
            tenant
                .phone_configuration
                .implicit_phone_verification_allowed
        }
        IdentityType::Username => false,
    }
}
