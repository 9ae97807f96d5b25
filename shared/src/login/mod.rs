//! Complete Passwordless Login, in steps: use the code up once (`use_code`), check the user
//! (`check_user`), challenge (`challenge`: 203, 242), then log in (`log_in`): verify the
//! identity the code was delivered to and choose the kind of login (`verification`), issue the
//! JWT and a refresh token ([`crate::session`]), record the login.
//!
//! The outcomes, in FusionAuth's order: not found (the code, or the user gone or inactive),
//! expired, locked, prevented by an action, password change required, two-factor required, then
//! logged in: identity unverified / not registered / registration unverified / complete. The HTTP
//! edge ([`crate::http::login`]) turns each into FusionAuth's status, body and cookies.

mod verification;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::codes;
use crate::errors::{Errors, FieldProblem};
use crate::model::{
    Application, LoginRecord, PendingCode, StoredRefreshToken, Tenant, User, UserAction,
};
use crate::oauth2::Scope;
use std::sync::Arc;

use crate::ports::{
    AttemptLimits, Challenge, CodeStore, CompletedLogin, Completion, Consumed, Directory,
    Presented, Sessions, StoreError, Wanted,
};
use crate::session::{self, AccessTokenFor};
use crate::system::{Clock, Random};
use crate::tokens;

pub use crate::session::{AccessToken, IssuedRefreshToken};
pub use verification::{LoggedInKind, VerificationIds};

/// What completing a login runs on, built once per container.
#[derive(Clone)]
pub struct LoginServices {
    pub directory: Arc<dyn Directory>,
    pub codes: Arc<dyn CodeStore>,
    pub sessions: Arc<dyn Sessions>,
    pub signer: Arc<tokens::Signer>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
}

/// One-time codes that may be compared: five against one code (then it is invalid), a hundred
/// against one user's codes within an hour (then that user's one-time codes get 429 until the
/// hour ends). Each comparison is counted before it is made.
pub const ATTEMPT_LIMITS: AttemptLimits = AttemptLimits {
    per_code: 5,
    per_user: 100,
    per_user_window_seconds: 3600,
};
const CHANGE_PASSWORD_ID_SECONDS: i64 = 600;
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
    /// Which switch decides on a refresh token.
    pub refresh_token: RefreshTokenRule,
}

/// Whether a login issues a refresh token (to a user registered to the application, unless
/// `noJWT`) is up to the application's settings for the way the user logs in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RefreshTokenRule {
    /// The login API: `loginConfiguration.generateRefreshTokens`.
    #[default]
    LoginApi,
    /// The authorization code grant with this scope: `offline_access` and
    /// `oauthConfiguration.generateRefreshTokens`, as FusionAuth's token endpoint. The family
    /// keeps the scope for the refresh token grant.
    OAuth(Scope),
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
            .field("refresh_token", &self.refresh_token)
            .finish()
    }
}

/// What a login attempt came to.
pub enum LoginOutcome {
    LoggedIn(Box<LoggedIn>),
    /// The user must change their password first: an id for that, no login.
    PasswordChangeRequired {
        change_password_id: String,
        reason: String,
    },
    /// Two-factor authentication is required: an id to complete it with, and the methods.
    TwoFactorRequired {
        two_factor_id: String,
        methods: Vec<Value>,
    },
    /// Actions that prevent login, as the user has them.
    Prevented(Vec<UserAction>),
    Locked,
    Expired,
    /// An unknown, expired, used or superseded code, a code of another application, a wrong
    /// one-time code, or a user gone or inactive: alike.
    NotFound,
    /// The user's budget of one-time codes compared is spent for this window.
    TooManyAttempts,
}

/// Redacts the change-password and two-factor ids (each completes a login) and, through
/// [`LoggedIn`], the tokens; the two-factor methods (addresses, numbers) show as a count.
impl std::fmt::Debug for LoginOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::redact::REDACTED;
        match self {
            LoginOutcome::LoggedIn(logged_in) => {
                f.debug_tuple("LoggedIn").field(logged_in).finish()
            }
            LoginOutcome::PasswordChangeRequired { reason, .. } => f
                .debug_struct("PasswordChangeRequired")
                .field("change_password_id", &REDACTED)
                .field("reason", reason)
                .finish(),
            LoginOutcome::TwoFactorRequired { methods, .. } => f
                .debug_struct("TwoFactorRequired")
                .field("two_factor_id", &REDACTED)
                .field("methods", &methods.len())
                .finish(),
            LoginOutcome::Prevented(actions) => f.debug_tuple("Prevented").field(actions).finish(),
            LoginOutcome::Locked => f.write_str("Locked"),
            LoginOutcome::Expired => f.write_str("Expired"),
            LoginOutcome::NotFound => f.write_str("NotFound"),
            LoginOutcome::TooManyAttempts => f.write_str("TooManyAttempts"),
        }
    }
}

/// A completed login.
pub struct LoggedIn {
    pub kind: LoggedInKind,
    /// None with `noJWT`.
    pub access_token: Option<AccessToken>,
    pub refresh_token: Option<IssuedRefreshToken>,
    pub verification: VerificationIds,
    /// The start's `state`.
    pub state: Option<Map<String, Value>>,
    pub user: User,
    /// When the login happened (epoch milliseconds): the tokens' `auth_time`, also an id_token's.
    pub authenticated_at_millis: i64,
}

/// The tokens and ids redacted (by their own `Debug`), the user by id: no address in a log.
impl std::fmt::Debug for LoggedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedIn")
            .field("kind", &self.kind)
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("verification", &self.verification)
            .field("user_id", &self.user.id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the request is invalid")]
    Invalid(Errors),
    #[error(transparent)]
    Dependency(#[from] StoreError),
}

/// Why a step stops the login: an outcome to answer with, or an error.
enum Stop {
    Outcome(LoginOutcome),
    Error(LoginError),
}

impl From<LoginError> for Stop {
    fn from(error: LoginError) -> Self {
        Self::Error(error)
    }
}

impl From<StoreError> for Stop {
    fn from(error: StoreError) -> Self {
        Self::Error(error.into())
    }
}

type Step<T> = Result<T, Stop>;

/// What one login attempt works with once its code is used up.
struct Attempt<'a> {
    services: &'a LoginServices,
    command: &'a LoginCommand,
    pending: &'a PendingCode,
    application: Option<&'a Application>,
    attempt_id: &'a str,
    now: i64,
}

/// What shows the login may use the code.
#[derive(Clone, Copy)]
enum Proof<'a> {
    /// The command's code, with a FormField code's one-time code, at the login API: a code whose
    /// start carried a PKCE `code_challenge` is not found there.
    Code,
    /// The command's code, on the landing page: the authorization code it leads to is exchanged
    /// only with the PKCE verifier ([`crate::oauth2::token`]).
    LinkClick,
    /// A link's fallback: the user's newest code by its hash, the hash of the address typed and
    /// the one-time code its email carried; the command's code is not used.
    Fallback {
        code_hash: &'a str,
        address_hash: &'a str,
        one_time_code: &'a str,
    },
}

/// `POST /api/passwordless/login`.
pub async fn login(
    services: &LoginServices,
    tenant_scope: Option<Uuid>,
    command: LoginCommand,
) -> Result<LoginOutcome, LoginError> {
    finish(attempt_login(services, tenant_scope, &command, Proof::Code).await)
}

/// The same login from the link's landing page, which turns it into an authorization code: a
/// code bound to a PKCE challenge completes here, since the token endpoint checks the verifier.
pub async fn login_for_authorization_code(
    services: &LoginServices,
    command: LoginCommand,
) -> Result<LoginOutcome, LoginError> {
    finish(attempt_login(services, None, &command, Proof::LinkClick).await)
}

/// The same login with a link's fallback instead of its code: the code the user's newest
/// email carried, named by its hash, the address typed (its hash,
/// [`crate::suppression::address_hash`]) and that email's one-time code. Wrong fallbacks are
/// counted apart from the code's own one-time codes ([`Presented::fallback`]).
pub async fn login_with_fallback(
    services: &LoginServices,
    code_hash: &str,
    address_hash: &str,
    one_time_code: &str,
    command: LoginCommand,
) -> Result<LoginOutcome, LoginError> {
    let proof = Proof::Fallback {
        code_hash,
        address_hash,
        one_time_code,
    };
    finish(attempt_login(services, None, &command, proof).await)
}

/// Whether the code's start carried a PKCE `code_challenge` (well formed or not): then only the
/// landing page's authorization code, exchanged with the verifier, may complete it.
fn bound_to_verifier(pending: &PendingCode) -> bool {
    pending
        .state
        .as_ref()
        .is_some_and(|state| state.contains_key("code_challenge"))
}

fn finish(step: Step<LoginOutcome>) -> Result<LoginOutcome, LoginError> {
    match step {
        Ok(outcome) | Err(Stop::Outcome(outcome)) => Ok(outcome),
        Err(Stop::Error(error)) => Err(error),
    }
}

async fn attempt_login(
    services: &LoginServices,
    tenant_scope: Option<Uuid>,
    command: &LoginCommand,
    proof: Proof<'_>,
) -> Step<LoginOutcome> {
    let application = named_application(services, command.application_id).await?;
    let now = services.clock.now_millis();
    let attempt_id = attempt_id(services);
    let pending = use_code(services, command, proof, &attempt_id, now).await?;
    // A code of another tenant, or a PKCE-bound code at the login API, is used up all the same:
    // whoever holds it sent it to the wrong place, and it must not stay usable elsewhere.
    if tenant_scope.is_some_and(|t| t != pending.tenant_id) {
        return Ok(LoginOutcome::NotFound);
    }
    if matches!(proof, Proof::Code) && bound_to_verifier(&pending) {
        return Ok(LoginOutcome::NotFound);
    }
    let attempt = Attempt {
        services,
        command,
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
        challenge(&attempt, &tenant, &user).await?;
        if let Some(logged_in) = log_in(&attempt, &tenant, user).await? {
            return Ok(LoginOutcome::LoggedIn(Box::new(logged_in)));
        }
    }
    Err(StoreError::new("complete login", "the user kept changing during the login").into())
}

/// The application the login names. An unknown one is refused before the code is touched, so
/// that a typo costs the user nothing.
async fn named_application(
    services: &LoginServices,
    id: Option<Uuid>,
) -> Step<Option<Application>> {
    let Some(id) = id else { return Ok(None) };
    match services.directory.application(id).await? {
        Some(application) => Ok(Some(application)),
        None => {
            Err(LoginError::Invalid(Errors::field("applicationId", FieldProblem::Invalid)).into())
        }
    }
}

/// Uses the code up for this attempt. A code started for another application than the login
/// names is not found, and stays valid for its own.
async fn use_code(
    services: &LoginServices,
    command: &LoginCommand,
    proof: Proof<'_>,
    attempt_id: &str,
    now: i64,
) -> Step<PendingCode> {
    let (code_hash, one_time_code_hash) = match proof {
        Proof::Code | Proof::LinkClick => (
            codes::hash_secret(&command.code),
            command
                .one_time_code
                .as_deref()
                .map(|otc| codes::hash_one_time_code(&command.code, otc)),
        ),
        Proof::Fallback {
            code_hash,
            address_hash,
            one_time_code,
        } => (
            code_hash.to_owned(),
            Some(codes::hash_fallback_code(
                code_hash,
                address_hash,
                one_time_code,
            )),
        ),
    };
    let presented = Presented {
        code_hash: &code_hash,
        one_time_code_hash: one_time_code_hash.as_deref(),
        fallback: matches!(proof, Proof::Fallback { .. }),
        application_id: command.application_id,
    };
    match services
        .codes
        .consume(presented, attempt_id, now, ATTEMPT_LIMITS)
        .await?
    {
        Consumed::Code(pending) => {
            crate::metrics::set_tenant(pending.tenant_id);
            Ok(*pending)
        }
        Consumed::NotFound => Err(Stop::Outcome(LoginOutcome::NotFound)),
        Consumed::AttemptBudgetSpent => Err(Stop::Outcome(LoginOutcome::TooManyAttempts)),
    }
}

/// The tenant and the user the code was started for, in one read.
async fn read_user(attempt: &Attempt<'_>) -> Step<(Tenant, User)> {
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
        _ => Err(Stop::Outcome(LoginOutcome::NotFound)),
    }
}

/// Whether `user` may log in at `now` (active, not expired, not locked, no action preventing it):
/// what a refresh token also needs, to be exchanged.
pub fn may_log_in(user: &User, now: i64) -> bool {
    check_user(user, now).is_ok()
}

/// Not found for an inactive user, then expired, locked, prevented by an action.
fn check_user(user: &User, now: i64) -> Step<()> {
    let refused = if !user.active {
        LoginOutcome::NotFound
    } else if user.expiry.is_some_and(|expiry| expiry <= now) {
        LoginOutcome::Expired
    } else if user.locked {
        LoginOutcome::Locked
    } else {
        let preventing: Vec<UserAction> = user
            .actions
            .iter()
            .filter(|a| a.prevent_login && a.expiry.is_none_or(|e| e > now))
            .cloned()
            .collect();
        if preventing.is_empty() {
            return Ok(());
        }
        LoginOutcome::Prevented(preventing)
    };
    Err(Stop::Outcome(refused))
}

/// A password change when the user must make one; two-factor when it is on and no valid trust
/// was presented. Either hands out an id instead of a login.
async fn challenge(attempt: &Attempt<'_>, tenant: &Tenant, user: &User) -> Step<()> {
    if user.password_change_required {
        let id = issue_id(
            attempt,
            Challenge::ChangePassword,
            user.id,
            CHANGE_PASSWORD_ID_SECONDS,
        )
        .await?;
        return Err(Stop::Outcome(LoginOutcome::PasswordChangeRequired {
            change_password_id: id,
            reason: user
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
    if methods.is_empty() || trusted(attempt, user.id).await? {
        return Ok(());
    }
    let ttl = tenant
        .external_identifier_configuration
        .two_factor_id_time_to_live_in_seconds;
    let id = issue_id(attempt, Challenge::TwoFactor, user.id, i64::from(ttl)).await?;
    Err(Stop::Outcome(LoginOutcome::TwoFactorRequired {
        two_factor_id: id,
        methods,
    }))
}

/// Whether the login presented a valid two-factor trust of this user.
async fn trusted(attempt: &Attempt<'_>, user_id: Uuid) -> Result<bool, StoreError> {
    match attempt.command.trust_id.as_deref() {
        Some(trust) => {
            attempt
                .services
                .sessions
                .is_trusted(&codes::hash_secret(trust), user_id, attempt.now)
                .await
        }
        None => Ok(false),
    }
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
async fn log_in(attempt: &Attempt<'_>, tenant: &Tenant, mut user: User) -> Step<Option<LoggedIn>> {
    let now = attempt.now;
    verification::record_login_on_user(
        &mut user,
        tenant,
        attempt.pending,
        attempt.application,
        now,
    );
    let registration = attempt.application.and_then(|app| {
        user.registrations
            .iter()
            .find(|r| r.application_id == app.id)
            .cloned()
    });
    let kind = verification::kind_of_login(
        tenant,
        &user,
        attempt.pending,
        attempt.application,
        registration.as_ref(),
    );
    let registered = attempt
        .application
        .zip(registration.as_ref())
        .map(|(app, r)| (app, r.roles.as_slice()));
    let services = attempt.services;
    let rules = session::rules(tenant, registered.map(|(app, _)| app));
    // A refresh token for a login to an application the user is registered to that generates
    // them, unless `noJWT`.
    let (refresh_token, stored) = registered
        .map(|(app, _)| app)
        .filter(|app| match &attempt.command.refresh_token {
            RefreshTokenRule::LoginApi => app.login_configuration.generate_refresh_tokens,
            RefreshTokenRule::OAuth(scope) => crate::oauth2::issues_refresh_token(app, scope),
        })
        .filter(|_| !attempt.command.no_jwt)
        .map(|app| {
            let (issued, mut stored) = session::start_refresh_token(
                services.random.as_ref(),
                &rules,
                tenant.id,
                user.id,
                app.id,
                now,
                attempt.command.meta_data.clone(),
            );
            if let RefreshTokenRule::OAuth(scope) = &attempt.command.refresh_token {
                stored.scope = Some(scope.text.clone());
            }
            (issued, stored)
        })
        .unzip();
    let session_id = refresh_token
        .as_ref()
        .map(|t: &IssuedRefreshToken| t.id)
        .unwrap_or_else(Uuid::new_v4);
    let access_token = match attempt.command.no_jwt {
        true => None,
        false => Some(
            session::access_token(
                services.directory.as_ref(),
                &services.signer,
                AccessTokenFor {
                    tenant,
                    registered,
                    user: &user,
                    session_id,
                    now_millis: now,
                    auth_time: now / 1000,
                    authentication_type: "PASSWORDLESS",
                },
            )
            .await?,
        ),
    };
    if record(attempt, &user, stored, session_id).await? == Completion::UserChanged {
        return Ok(None);
    }
    let verification = verification::verification_ids(attempt, tenant, user.id, kind).await?;
    tracing::info!(user_id = %user.id, kind = ?kind, "passwordless login completed");
    Ok(Some(LoggedIn {
        kind,
        access_token,
        refresh_token,
        verification,
        state: attempt.pending.state.clone(),
        user,
        authenticated_at_millis: now,
    }))
}

/// Writes the login at once: the user, its login record, the refresh token.
async fn record(
    attempt: &Attempt<'_>,
    user: &User,
    refresh_token: Option<StoredRefreshToken>,
    session_id: Uuid,
) -> Result<Completion, StoreError> {
    attempt
        .services
        .sessions
        .complete_login(&CompletedLogin {
            attempt_id: attempt.attempt_id.to_owned(),
            new_revision: attempt_id(attempt.services),
            user: user.clone(),
            refresh_token,
            record: LoginRecord {
                user_id: user.id,
                application_id: attempt.application.map(|a| a.id),
                instant: attempt.now,
                ip_address: attempt.command.ip_address.clone(),
                session_id,
            },
        })
        .await
}

/// Names one login attempt (and a user revision): a write the SDK retries carries the same id,
/// so the store can tell its own earlier success from another attempt's.
fn attempt_id(services: &LoginServices) -> String {
    let mut bytes = [0u8; 16];
    services.random.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests;
