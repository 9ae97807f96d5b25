//! Complete Passwordless Login, in steps: use the code up once, check the user, challenge (203,
//! 242), then log in: verify the identity the code was delivered to, choose the status, issue a
//! JWT and a refresh token, record the login.
//!
//! The statuses, in FusionAuth's order: 404 (code, or user gone or inactive), 410 (user expired),
//! 423 (locked), 409 (an action prevents login), 203 (password change required), 242 (two-factor),
//! then 212 (the tenant requires the login identity verified, and it is not) / 202 (not
//! registered) / 213 (registration unverified) / 200.

use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::codes;
use crate::errors::{Errors, FieldProblem};
use crate::login_id::IdentityType;
use crate::model::{Application, PendingCode, Registration, Tenant, User, VerificationStrategy};
use crate::ports::{
    AttemptLimits, Challenge, CompletedLogin, Completion, Consumed, LoginRecord, Presented,
    Services, StoreError, StoredRefreshToken, Wanted,
};
use crate::tokens;

/// One-time codes that may be compared: five against one code (then it is invalid), a hundred
/// against one user's codes within an hour (then that user's one-time codes get 429 until the
/// hour ends). Each comparison is counted before it is made.
pub const ATTEMPT_LIMITS: AttemptLimits = AttemptLimits {
    per_code: 5,
    per_user: 100,
    per_user_window_seconds: 3600,
};
const DEFAULT_JWT_SECONDS: u32 = 3600;
const DEFAULT_REFRESH_MINUTES: u32 = 43_200;
const CHANGE_PASSWORD_ID_SECONDS: i64 = 600;
/// FusionAuth's default lifetime of email, identity and registration verification ids.
const VERIFICATION_ID_SECONDS: i64 = 86_400;
/// How often a login looks at a user that changed under it before it gives up (500).
const USER_READS: usize = 3;

#[derive(Clone, Default, PartialEq)]
pub struct LoginCommand {
    pub code: String,
    pub one_time_code: Option<String>,
    pub application_id: Option<Uuid>,
    pub ip_address: Option<String>,
    pub meta_data: Option<Value>,
    pub no_jwt: bool,
    /// The `fusionauth.trust` cookie, else the body's `twoFactorTrustId`.
    pub trust_id: Option<String>,
}

/// Redacts the code, the one-time code and the trust id: a logged command logs nobody in.
impl std::fmt::Debug for LoginCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("LoginCommand")
            .field("code", &"<redacted>")
            .field("one_time_code", &redacted(&self.one_time_code))
            .field("application_id", &self.application_id)
            .field("ip_address", &self.ip_address)
            .field("meta_data", &self.meta_data)
            .field("no_jwt", &self.no_jwt)
            .field("trust_id", &redacted(&self.trust_id))
            .finish()
    }
}

#[derive(Debug)]
pub enum LoginOutcome {
    /// 200, 202, 212 or 213, with the response body.
    LoggedIn {
        status: u16,
        response: Box<LoginResponse>,
        refresh_token_seconds: i64,
    },
    /// 203.
    ChangePassword {
        change_password_id: String,
        change_password_reason: String,
    },
    /// 242.
    TwoFactor {
        two_factor_id: String,
        methods: Vec<Value>,
    },
}

/// FusionAuth's `LoginResponse`, as far as a passwordless login fills it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_expiration_instant: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_id: Option<Uuid>,
    /// 212, email identity, email `verificationStrategy` `FormField`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verification_id: Option<String>,
    /// 212, where the login identity type's `verificationStrategy` is `FormField`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_verification_id: Option<String>,
    /// 213.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_verification_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Map<String, Value>>,
    pub user: User,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the request is invalid")]
    Invalid(Errors),
    #[error("unknown, expired, used or superseded code, or no such active user")]
    NotFound,
    #[error("the user has expired")]
    UserExpired,
    #[error("the user is locked")]
    Locked,
    #[error("an action prevents login")]
    Prevented(Vec<Value>),
    #[error("too many one-time codes compared for this user")]
    TooManyAttempts,
    #[error(transparent)]
    Dependency(#[from] StoreError),
}

/// JWT claims, as FusionAuth issues them for a passwordless login.
#[derive(Serialize)]
struct Claims<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<Uuid>,
    exp: i64,
    iat: i64,
    iss: &'a str,
    sub: Uuid,
    jti: Uuid,
    #[serde(rename = "authenticationType")]
    authentication_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<&'a str>,
    #[serde(rename = "applicationId", skip_serializing_if = "Option::is_none")]
    application_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<&'a [String]>,
    sid: Uuid,
    auth_time: i64,
    tid: Uuid,
}

/// What one login attempt works with once its code is used up.
struct Attempt<'a> {
    services: &'a Services,
    command: &'a LoginCommand,
    pending: &'a PendingCode,
    application: Option<&'a Application>,
    attempt_id: &'a str,
    now: i64,
}

pub async fn login(
    services: &Services,
    tenant_scope: Option<Uuid>,
    command: LoginCommand,
) -> Result<LoginOutcome, LoginError> {
    let application = named_application(services, command.application_id).await?;
    let now = services.clock.now_millis();
    let attempt_id = attempt_id(services);
    let pending = use_code(services, &command, &attempt_id, now).await?;
    // A code of another tenant is used up all the same: whoever holds it sent it to the wrong
    // place, and it must not stay usable elsewhere.
    if tenant_scope.is_some_and(|t| t != pending.tenant_id) {
        return Err(LoginError::NotFound);
    }
    let attempt = Attempt {
        services,
        command: &command,
        pending: &pending,
        application: application.as_ref(),
        attempt_id: &attempt_id,
        now,
    };
    // The login writes the user back; if the user changed since it was read (locked,
    // deactivated), it looks again instead of undoing that.
    for _ in 0..USER_READS {
        let (tenant, user) = read_user(&attempt).await?;
        check_user(&user, now)?;
        if let Some(challenge) = challenge(&attempt, &tenant, &user).await? {
            return Ok(challenge);
        }
        if let Some(outcome) = log_in(&attempt, &tenant, user).await? {
            return Ok(outcome);
        }
    }
    Err(StoreError::new("complete login", "the user kept changing during the login").into())
}

/// The application the login names. An unknown one is refused before the code is touched, so
/// that a typo costs the user nothing.
async fn named_application(
    services: &Services,
    id: Option<Uuid>,
) -> Result<Option<Application>, LoginError> {
    let Some(id) = id else { return Ok(None) };
    let application = services.directory.application(id).await?;
    application
        .map(Some)
        .ok_or_else(|| LoginError::Invalid(Errors::field("applicationId", FieldProblem::Invalid)))
}

/// Uses the code up for this attempt. A code started for another application than the login
/// names is not found, and stays valid for its own.
async fn use_code(
    services: &Services,
    command: &LoginCommand,
    attempt_id: &str,
    now: i64,
) -> Result<PendingCode, LoginError> {
    let code_hash = codes::hash_secret(&command.code);
    let one_time_code_hash = command
        .one_time_code
        .as_deref()
        .map(|otc| codes::hash_one_time_code(&command.code, otc));
    let presented = Presented {
        code_hash: &code_hash,
        one_time_code_hash: one_time_code_hash.as_deref(),
        application_id: command.application_id,
    };
    match services
        .codes
        .consume(presented, attempt_id, now, ATTEMPT_LIMITS)
        .await?
    {
        Consumed::Code(pending) => Ok(*pending),
        Consumed::NotFound => Err(LoginError::NotFound),
        Consumed::AttemptBudgetSpent => Err(LoginError::TooManyAttempts),
    }
}

/// The tenant and the user the code was started for, in one read.
async fn read_user(attempt: &Attempt<'_>) -> Result<(Tenant, User), LoginError> {
    let records = attempt
        .services
        .directory
        .records(&Wanted {
            tenant: Some(attempt.pending.tenant_id),
            user: Some(attempt.pending.user_id),
            ..Wanted::default()
        })
        .await?;
    match (records.tenant, records.user) {
        (Some(tenant), Some(user)) => Ok((tenant, user)),
        _ => Err(LoginError::NotFound),
    }
}

/// 404 for an inactive user, 410 expired, 423 locked, 409 with the actions that prevent login.
fn check_user(user: &User, now: i64) -> Result<(), LoginError> {
    if !user.active {
        return Err(LoginError::NotFound);
    }
    if user.expiry.is_some_and(|expiry| expiry <= now) {
        return Err(LoginError::UserExpired);
    }
    if user.locked {
        return Err(LoginError::Locked);
    }
    let preventing: Vec<Value> = user
        .actions
        .iter()
        .filter(|a| a.prevent_login && a.expiry.is_none_or(|e| e > now))
        .map(|a| {
            let mut action = json!({
                "actionId": a.action_id, "expiry": a.expiry, "name": a.name,
                "localizedName": a.name, "reason": a.reason, "localizedReason": a.reason,
                "reasonCode": a.reason_code
            });
            // FusionAuth leaves out what an action does not have, rather than sending null.
            if let Some(fields) = action.as_object_mut() {
                fields.retain(|_, value| !value.is_null());
            }
            action
        })
        .collect();
    if preventing.is_empty() {
        Ok(())
    } else {
        Err(LoginError::Prevented(preventing))
    }
}

/// 203 when the user must change their password; 242 when two-factor is on and no valid trust
/// was presented. Either hands out an id instead of a login.
async fn challenge(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    user: &User,
) -> Result<Option<LoginOutcome>, LoginError> {
    let sessions = attempt.services.sessions.as_ref();
    if user.password_change_required {
        let id = issue_id(
            attempt,
            Challenge::ChangePassword,
            user.id,
            CHANGE_PASSWORD_ID_SECONDS,
        )
        .await?;
        return Ok(Some(LoginOutcome::ChangePassword {
            change_password_id: id,
            change_password_reason: user
                .password_change_reason
                .clone()
                .unwrap_or_else(|| "Administrative".to_owned()),
        }));
    }
    let methods = user
        .two_factor
        .as_ref()
        .map(|t| t.methods.clone())
        .unwrap_or_default();
    if methods.is_empty() {
        return Ok(None);
    }
    let trusted = match attempt.command.trust_id.as_deref() {
        Some(trust) => {
            sessions
                .is_trusted(&codes::hash_secret(trust), user.id, attempt.now)
                .await?
        }
        None => false,
    };
    if trusted {
        return Ok(None);
    }
    let ttl = tenant
        .external_identifier_configuration
        .two_factor_id_time_to_live_in_seconds;
    let id = issue_id(attempt, Challenge::TwoFactor, user.id, i64::from(ttl)).await?;
    Ok(Some(LoginOutcome::TwoFactor {
        two_factor_id: id,
        methods,
    }))
}

/// A fresh id of `kind` for the user, stored by its hash for `seconds`.
async fn issue_id(
    attempt: &Attempt<'_>,
    kind: Challenge,
    user_id: Uuid,
    seconds: i64,
) -> Result<String, StoreError> {
    let id = codes::generate_id(attempt.services.random.as_ref());
    attempt
        .services
        .sessions
        .save_challenge(
            kind,
            &codes::hash_secret(&id),
            user_id,
            attempt.now + seconds * 1000,
        )
        .await?;
    Ok(id)
}

/// Logs the user in: verifies, issues, records. `None` when the user changed since it was read,
/// and nothing was written.
async fn log_in(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    mut user: User,
) -> Result<Option<LoginOutcome>, LoginError> {
    let (services, command, now) = (attempt.services, attempt.command, attempt.now);
    record_login_on_user(&mut user, tenant, attempt.pending, attempt.application, now);
    let registration = attempt.application.and_then(|app| {
        user.registrations
            .iter()
            .find(|r| r.application_id == app.id)
            .cloned()
    });
    let status = choose_status(
        tenant,
        &user,
        attempt.pending,
        attempt.application,
        registration.as_ref(),
    );
    let refresh_minutes = attempt
        .application
        .and_then(|a| a.jwt_configuration.refresh_token_time_to_live_in_minutes)
        .or(tenant
            .jwt_configuration
            .refresh_token_time_to_live_in_minutes)
        .unwrap_or(DEFAULT_REFRESH_MINUTES);
    let registered_application = attempt.application.filter(|_| registration.is_some());
    let refresh = registered_application
        .filter(|app| !command.no_jwt && app.login_configuration.generate_refresh_tokens)
        .map(|_| {
            (
                tokens::refresh_token(services.random.as_ref()),
                Uuid::new_v4(),
            )
        });
    let session_id = refresh
        .as_ref()
        .map(|(_, id)| *id)
        .unwrap_or_else(Uuid::new_v4);
    let (token, token_expiration_instant) = if command.no_jwt {
        (None, None)
    } else {
        let roles = registration.as_ref().map(|r| r.roles.as_slice());
        let (token, exp) = issue_jwt(
            services,
            tenant,
            registered_application,
            roles,
            &user,
            session_id,
            now,
        )
        .await?;
        (Some(token), Some(exp))
    };

    let completion = services
        .sessions
        .complete_login(&CompletedLogin {
            attempt_id: attempt.attempt_id.to_owned(),
            new_revision: attempt_id(services),
            user: user.clone(),
            refresh_token: refresh.as_ref().zip(registered_application).map(
                |((token, id), app)| StoredRefreshToken {
                    id: *id,
                    token_hash: codes::hash_secret(token),
                    user_id: user.id,
                    application_id: app.id,
                    tenant_id: tenant.id,
                    start_instant: now,
                    expires_at_millis: now + i64::from(refresh_minutes) * 60_000,
                    meta_data: command.meta_data.clone(),
                },
            ),
            record: LoginRecord {
                user_id: user.id,
                application_id: attempt.application.map(|a| a.id),
                instant: now,
                ip_address: command.ip_address.clone(),
                session_id,
            },
        })
        .await?;
    if completion == Completion::UserChanged {
        return Ok(None);
    }
    let verification = verification_ids(attempt, tenant, &user, status).await?;
    tracing::info!(user_id = %user.id, status = status.code(), "passwordless login completed");
    Ok(Some(LoginOutcome::LoggedIn {
        status: status.code(),
        refresh_token_seconds: i64::from(refresh_minutes) * 60,
        response: Box::new(LoginResponse {
            token,
            token_expiration_instant,
            refresh_token: refresh.as_ref().map(|(token, _)| token.clone()),
            refresh_token_id: refresh.as_ref().map(|(_, id)| *id),
            email_verification_id: verification.email,
            identity_verification_id: verification.identity,
            registration_verification_id: verification.registration,
            state: attempt.pending.state.clone(),
            user,
        }),
    }))
}

/// The status of a completed login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LoggedInStatus {
    /// 212: the tenant requires this identity type verified, and the login identity is not.
    IdentityUnverified(IdentityType),
    /// 202.
    NotRegistered,
    /// 213.
    RegistrationUnverified,
    /// 200.
    Complete,
}

impl LoggedInStatus {
    fn code(self) -> u16 {
        match self {
            Self::IdentityUnverified(_) => 212,
            Self::NotRegistered => 202,
            Self::RegistrationUnverified => 213,
            Self::Complete => 200,
        }
    }
}

fn choose_status(
    tenant: &Tenant,
    user: &User,
    pending: &PendingCode,
    application: Option<&Application>,
    registration: Option<&Registration>,
) -> LoggedInStatus {
    if let Some(kind) = unverified_login_identity(tenant, user, pending) {
        return LoggedInStatus::IdentityUnverified(kind);
    }
    match (application, registration) {
        (Some(_), None) => LoggedInStatus::NotRegistered,
        (Some(app), Some(r)) if app.verify_registration && !r.verified => {
            LoggedInStatus::RegistrationUnverified
        }
        _ => LoggedInStatus::Complete,
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

#[derive(Default)]
struct VerificationIds {
    email: Option<String>,
    identity: Option<String>,
    registration: Option<String>,
}

/// The verification ids a 212 or 213 carries, each stored by its hash. 212: an identity
/// verification id where the tenant verifies that identity type by `FormField`, and for an email
/// the same id as the email verification id; 213: a registration verification id.
async fn verification_ids(
    attempt: &Attempt<'_>,
    tenant: &Tenant,
    user: &User,
    status: LoggedInStatus,
) -> Result<VerificationIds, StoreError> {
    match status {
        LoggedInStatus::IdentityUnverified(kind) => {
            let strategy = match kind {
                IdentityType::Email => tenant.email_configuration.verification_strategy,
                _ => tenant.phone_configuration.verification_strategy,
            };
            if strategy != VerificationStrategy::FormField {
                return Ok(VerificationIds::default());
            }
            let id = issue_id(
                attempt,
                Challenge::IdentityVerification,
                user.id,
                VERIFICATION_ID_SECONDS,
            )
            .await?;
            Ok(VerificationIds {
                email: (kind == IdentityType::Email).then(|| id.clone()),
                identity: Some(id),
                registration: None,
            })
        }
        LoggedInStatus::RegistrationUnverified => Ok(VerificationIds {
            registration: Some(
                issue_id(
                    attempt,
                    Challenge::RegistrationVerification,
                    user.id,
                    VERIFICATION_ID_SECONDS,
                )
                .await?,
            ),
            ..VerificationIds::default()
        }),
        LoggedInStatus::NotRegistered | LoggedInStatus::Complete => Ok(VerificationIds::default()),
    }
}

/// Names one login attempt (and a user revision): a write the SDK retries carries the same id,
/// so the store can tell its own earlier success from another attempt's.
fn attempt_id(services: &Services) -> String {
    let mut bytes = [0u8; 16];
    services.random.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Marks the login on the user, its login identity and the registration, and verifies the
/// identities the code was delivered to (implicitly, where the tenant allows it for that type).
/// Identities that stay unverified say why, as FusionAuth shows them: usernames `Unverifiable`,
/// others `Pending` where the tenant requires verification, else `Disabled`.
fn record_login_on_user(
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
        let implicit = match identity.kind {
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
        };
        if delivered && implicit && !identity.verified {
            identity.verified = true;
            identity.verified_reason = Some("Implicit".to_owned());
            identity.verified_instant = Some(now);
        }
        if !identity.verified {
            let unverified_reason = match identity.kind {
                IdentityType::Username => "Unverifiable",
                kind if requires_verification(tenant, kind) => "Pending",
                _ => "Disabled",
            };
            let settled = matches!(
                identity.verified_reason.as_deref(),
                Some("Skipped" | "Trusted" | "Import")
            );
            if !settled {
                identity.verified_reason = Some(unverified_reason.to_owned());
            }
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

async fn issue_jwt(
    services: &Services,
    tenant: &Tenant,
    registered_application: Option<&Application>,
    roles: Option<&[String]>,
    user: &User,
    session_id: Uuid,
    now: i64,
) -> Result<(String, i64), LoginError> {
    let key_id = registered_application
        .and_then(|a| a.jwt_configuration.access_token_key_id)
        .or(tenant.jwt_configuration.access_token_key_id)
        .ok_or_else(|| StoreError::new("sign token", "the tenant names no accessTokenKeyId"))?;
    let key = services
        .directory
        .signing_key(key_id)
        .await?
        .ok_or_else(|| StoreError::new("sign token", format!("no signing key {key_id}")))?;
    let seconds = registered_application
        .and_then(|a| a.jwt_configuration.time_to_live_in_seconds)
        .or(tenant.jwt_configuration.time_to_live_in_seconds)
        .unwrap_or(DEFAULT_JWT_SECONDS);
    let iat = now / 1000;
    let exp = iat + i64::from(seconds);
    let claims = Claims {
        aud: registered_application.map(|a| a.id),
        exp,
        iat,
        iss: &tenant.issuer,
        sub: user.id,
        jti: Uuid::new_v4(),
        authentication_type: "PASSWORDLESS",
        email: user.email.as_deref(),
        email_verified: user.email.as_ref().map(|_| user.verified),
        preferred_username: user.username.as_deref(),
        application_id: registered_application.map(|a| a.id),
        roles: registered_application.and(roles),
        sid: session_id,
        auth_time: iat,
        tid: tenant.id,
    };
    let token = services
        .signer
        .sign(&key, &claims)
        .map_err(|e| StoreError::new("sign token", e))?;
    Ok((token, exp * 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_login_command_shows_no_code_one_time_code_or_trust_id() {
        let command = LoginCommand {
            code: "the-long-code-0123456789".into(),
            one_time_code: Some("424242".into()),
            trust_id: Some("trusted-device".into()),
            application_id: None,
            ip_address: Some("203.0.113.7".into()),
            meta_data: None,
            no_jwt: false,
        };
        let logged = format!("{command:?}");
        for secret in ["the-long-code-0123456789", "424242", "trusted-device"] {
            assert!(!logged.contains(secret), "{logged}");
        }
        assert!(logged.contains("203.0.113.7"));
    }
}
