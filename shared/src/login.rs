//! Complete Passwordless Login: use the code up once, check the user, then log in: verify the
//! identity the code went to, issue a JWT and a refresh token, record the login.
//!
//! The statuses, in FusionAuth's order: 404 (code, or user gone or inactive), 410 (user expired),
//! 423 (locked), 409 (an action prevents login), 203 (password change required), 242 (two-factor),
//! then 212 (identity unverified) / 202 (not registered) / 213 (registration unverified) / 200.

use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::codes;
use crate::errors::{Errors, FieldProblem};
use crate::login_id::IdentityType;
use crate::model::{Application, Tenant, User};
use crate::ports::{
    AttemptLimits, Challenge, CompletedLogin, Completion, Consumed, LoginRecord, Services,
    StoreError, StoredRefreshToken, Wanted,
};
use crate::tokens;

/// Wrong one-time codes tolerated: the fifth against one code invalidates it; after the hundredth
/// against a user's codes within an hour, that user's logins are refused (429) until the hour ends.
pub const ATTEMPT_LIMITS: AttemptLimits = AttemptLimits {
    per_code: 5,
    per_user: 100,
    per_user_window_seconds: 3600,
};
const DEFAULT_JWT_SECONDS: u32 = 3600;
const DEFAULT_REFRESH_MINUTES: u32 = 43_200;
const CHANGE_PASSWORD_ID_SECONDS: i64 = 600;

#[derive(Clone, Debug, Default, PartialEq)]
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
    #[error("too many wrong one-time codes for this user")]
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

pub async fn login(
    services: &Services,
    tenant_scope: Option<Uuid>,
    command: LoginCommand,
) -> Result<LoginOutcome, LoginError> {
    let directory = services.directory.as_ref();
    // An unknown application is refused before the code is touched, so that a typo costs the
    // user nothing.
    let application = match command.application_id {
        Some(id) => Some(directory.application(id).await?.ok_or_else(|| {
            LoginError::Invalid(Errors::field("applicationId", FieldProblem::Invalid))
        })?),
        None => None,
    };

    let now = services.clock.now_millis();
    let one_time_code_hash = command
        .one_time_code
        .as_deref()
        .map(|otc| codes::hash_one_time_code(&command.code, otc));
    let attempt_id = attempt_id(services);
    let consumed = services
        .codes
        .consume(
            &codes::hash_secret(&command.code),
            one_time_code_hash.as_deref(),
            &attempt_id,
            now,
            ATTEMPT_LIMITS,
        )
        .await?;
    let pending = match consumed {
        Consumed::Code(pending) => *pending,
        Consumed::NotFound => return Err(LoginError::NotFound),
        Consumed::AttemptBudgetSpent => return Err(LoginError::TooManyAttempts),
    };
    // A code of another tenant is used up all the same: whoever holds it sent it to the wrong
    // place, and it must not stay usable elsewhere.
    if tenant_scope.is_some_and(|t| t != pending.tenant_id) {
        return Err(LoginError::NotFound);
    }

    let records = directory
        .records(&Wanted {
            tenant: Some(pending.tenant_id),
            user: Some(pending.user_id),
            ..Wanted::default()
        })
        .await?;
    let (Some(tenant), Some(mut user)) = (records.tenant, records.user) else {
        return Err(LoginError::NotFound);
    };
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
    if !preventing.is_empty() {
        return Err(LoginError::Prevented(preventing));
    }
    if user.password_change_required {
        let id = codes::generate_id(services.random.as_ref());
        services
            .sessions
            .save_challenge(
                Challenge::ChangePassword,
                &codes::hash_secret(&id),
                user.id,
                now + CHANGE_PASSWORD_ID_SECONDS * 1000,
            )
            .await?;
        return Ok(LoginOutcome::ChangePassword {
            change_password_id: id,
            change_password_reason: user
                .password_change_reason
                .clone()
                .unwrap_or_else(|| "Administrative".to_owned()),
        });
    }
    let methods = user
        .two_factor
        .as_ref()
        .map(|t| t.methods.clone())
        .unwrap_or_default();
    if !methods.is_empty() {
        let trusted = match command.trust_id.as_deref() {
            Some(trust) => {
                services
                    .sessions
                    .is_trusted(&codes::hash_secret(trust), user.id, now)
                    .await?
            }
            None => false,
        };
        if !trusted {
            let id = codes::generate_id(services.random.as_ref());
            let ttl = tenant
                .external_identifier_configuration
                .two_factor_id_time_to_live_in_seconds;
            services
                .sessions
                .save_challenge(
                    Challenge::TwoFactor,
                    &codes::hash_secret(&id),
                    user.id,
                    now + i64::from(ttl) * 1000,
                )
                .await?;
            return Ok(LoginOutcome::TwoFactor {
                two_factor_id: id,
                methods,
            });
        }
    }

    let identity_verified =
        record_login_on_user(&mut user, &tenant, &pending, application.as_ref(), now);
    let registration = application
        .as_ref()
        .and_then(|app| {
            user.registrations
                .iter()
                .find(|r| r.application_id == app.id)
        })
        .cloned();
    let status = match (&application, &registration) {
        _ if !identity_verified => 212,
        (Some(_), None) => 202,
        (Some(app), Some(r)) if app.verify_registration && !r.verified => 213,
        _ => 200,
    };

    let refresh_minutes = application
        .as_ref()
        .and_then(|a| a.jwt_configuration.refresh_token_time_to_live_in_minutes)
        .or(tenant
            .jwt_configuration
            .refresh_token_time_to_live_in_minutes)
        .unwrap_or(DEFAULT_REFRESH_MINUTES);
    let refresh = match (&application, &registration) {
        (Some(app), Some(_))
            if !command.no_jwt && app.login_configuration.generate_refresh_tokens =>
        {
            Some((
                tokens::refresh_token(services.random.as_ref()),
                Uuid::new_v4(),
            ))
        }
        _ => None,
    };
    let session_id = refresh
        .as_ref()
        .map(|(_, id)| *id)
        .unwrap_or_else(Uuid::new_v4);
    let (token, token_expiration_instant) = if command.no_jwt {
        (None, None)
    } else {
        let (token, exp) = issue_jwt(
            services,
            &tenant,
            application.as_ref().filter(|_| registration.is_some()),
            registration.as_ref().map(|r| r.roles.as_slice()),
            &user,
            session_id,
            now,
        )
        .await?;
        (Some(token), Some(exp))
    };

    let completion = services
        .sessions
        .complete_login(
            &CompletedLogin {
                attempt_id,
                user: user.clone(),
                refresh_token: refresh.as_ref().zip(application.as_ref()).map(
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
                    application_id: application.as_ref().map(|a| a.id),
                    instant: now,
                    ip_address: command.ip_address.clone(),
                    session_id,
                },
            },
            ATTEMPT_LIMITS,
            now,
        )
        .await?;
    if completion == Completion::AttemptBudgetSpent {
        return Err(LoginError::TooManyAttempts);
    }
    tracing::info!(user_id = %user.id, status, "passwordless login completed");
    Ok(LoginOutcome::LoggedIn {
        status,
        refresh_token_seconds: i64::from(refresh_minutes) * 60,
        response: Box::new(LoginResponse {
            token,
            token_expiration_instant,
            refresh_token: refresh.as_ref().map(|(token, _)| token.clone()),
            refresh_token_id: refresh.as_ref().map(|(_, id)| *id),
            state: pending.state,
            user,
        }),
    })
}

/// Names one login attempt: a write the SDK retries carries the same id, so the store can tell
/// its own earlier success from another attempt's.
fn attempt_id(services: &Services) -> String {
    let mut bytes = [0u8; 16];
    services.random.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Marks the login on the user, the identity the code went to (verifying it implicitly where the
/// tenant allows) and the registration. Returns whether that identity is verified now.
fn record_login_on_user(
    user: &mut User,
    tenant: &Tenant,
    pending: &crate::model::PendingCode,
    application: Option<&Application>,
    now: i64,
) -> bool {
    user.last_login_instant = Some(now);
    let implicit = match pending.identity_type {
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
        IdentityType::Username => true,
    };
    let mut verified = false;
    let mut verified_email = false;
    for identity in user.identities.iter_mut() {
        if identity.kind == pending.identity_type && identity.value == pending.identity_value {
            identity.last_login_instant = Some(now);
            if !identity.verified && implicit {
                identity.verified = true;
                identity.verified_reason = Some("Implicit".to_owned());
                identity.verified_instant = Some(now);
            }
            verified = identity.verified;
        }
        if identity.kind == IdentityType::Email && identity.verified {
            verified_email = true;
        }
    }
    user.verified = verified_email;
    if let Some(app) = application {
        if let Some(r) = user
            .registrations
            .iter_mut()
            .find(|r| r.application_id == app.id)
        {
            r.last_login_instant = Some(now);
        }
    }
    verified
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
