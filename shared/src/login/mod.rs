//! Complete Passwordless Login, in steps: use the code up once (`use_code`), check the user
//! (`check_user`), challenge (`challenge`: 203, 242), then log in (`log_in`, in `issue`): verify
//! the identity the code was delivered to and choose the kind of login (`verification`), issue
//! the JWT and a refresh token ([`crate::session`]), record the login. What a caller asks is in
//! `command` ([`LoginCommand`]), what it gets back in `outcome` ([`LoginOutcome`]).
//!
//! The outcomes, in FusionAuth's order: not found (the code, or the user gone or inactive),
//! expired, locked, prevented by an action, password change required, two-factor required, then
//! logged in: identity unverified / not registered / registration unverified / complete. The HTTP
//! edge ([`crate::http::login`]) turns each into FusionAuth's status, body and cookies.

mod ahead;
mod checks;
mod click;
mod command;
mod counted;
mod issue;
mod outcome;
mod reads;
mod verification;

use uuid::Uuid;

use crate::codes;
use crate::errors::{Errors, FieldProblem};
use crate::model::{Application, PendingCode, Tenant, User, UserAction};
use std::sync::Arc;

use crate::ports::{
    AttemptLimits, Challenge, CodeStore, Consumed, CountedCode, Directory, Presented, Sessions,
    Staged, StoreError, UserStore, Wanted,
};
use crate::system::{Clock, Random};
use crate::tokens;
pub use checks::may_log_in;
use checks::{challenge, check_user, issue_id};
pub use click::{login_for_authorization_code_read, AlongsideWrite, ReadForClick};
use counted::{challenged, counted_login, ordinary, Counted};
use issue::log_in;
use reads::{found_user, presented_hashes, read_user, superseded, used_code, EarlyRead};

pub use crate::session::{AccessToken, IssuedRefreshToken};
pub use command::{LoginCommand, RefreshTokenRule};
pub use outcome::{LoggedIn, LoginError, LoginOutcome};
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
    /// Where a hosted sign-up's code creates its user once it completes the login
    /// ([`crate::sign_up::create`]): the hosted pages' functions (landing, waiting page). `None`
    /// for the login API, where such a code, bound to its browser, is never completed.
    pub users: Option<Arc<dyn UserStore>>,
}

/// One-time codes that may be compared: five against one code (then it is invalid), a hundred
/// against one user's codes within an hour (then that user's one-time codes get 429 until the
/// hour ends). Each comparison is counted before it is made.
pub const ATTEMPT_LIMITS: AttemptLimits = AttemptLimits {
    per_code: 5,
    per_user: 100,
    per_user_window_seconds: 3600,
};
/// How often a login looks at a user that changed under it before it gives up (500).
const USER_READS: usize = 3;

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
    /// A code not yet used (a counted one-time code, or a link's code the landing page looked
    /// at): the login uses it in the same wave as its writes ([`issue`]), and takes those back
    /// if another attempt used it first.
    unused: Option<Unused<'a>>,
    /// What the caller writes beside the login's own writes ([`AlongsideWrite`]).
    alongside: Option<&'a dyn AlongsideWrite>,
}

/// A code the login has still to use, with what was presented: a counted one-time code, or
/// (without `counted`) a link's code.
#[derive(Clone, Copy)]
struct Unused<'a> {
    presented: Presented<'a>,
    counted: Option<&'a CountedCode>,
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
    /// A hosted pending login approved with the match code: the code by its hash.
    Approved { code_hash: &'a str },
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
/// `expected`: whom the page expects the code to log in; that user is read beside the code's use
/// (one round trip instead of two). An expectation the used code does not bear out is never
/// trusted: the code's own user is read, one read more.
pub async fn login_for_authorization_code(
    services: &LoginServices,
    command: LoginCommand,
    expected: Option<ExpectedUser>,
) -> Result<LoginOutcome, LoginError> {
    finish(attempt_login_reading(services, None, &command, Proof::LinkClick, expected).await)
}

/// The tenant and the user a code is expected to be for (a link's code without a one-time code,
/// not a sign-up's): [`login_for_authorization_code`] reads them while it uses the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpectedUser {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
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

/// The same login for a hosted pending login that the match code approved from another
/// device: the code by its hash (the waiting browser never saw the link); the pending login's
/// approval is the proof ([`crate::oauth2::hosted`]).
pub async fn login_approved(
    services: &LoginServices,
    code_hash: &str,
    command: LoginCommand,
) -> Result<LoginOutcome, LoginError> {
    finish(attempt_login(services, None, &command, Proof::Approved { code_hash }).await)
}

/// Whether only an authorization code may come of the code: its start carried a PKCE
/// `code_challenge` (well formed or not: the landing page's code is exchanged with the verifier),
/// or it is a hosted login's (it completes in the browser that began it, or by the match code).
fn bound_to_authorization(pending: &PendingCode) -> bool {
    hosted(pending)
        || pending
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
    attempt_login_reading(services, tenant_scope, command, proof, None).await
}

async fn attempt_login_reading(
    services: &LoginServices,
    tenant_scope: Option<Uuid>,
    command: &LoginCommand,
    proof: Proof<'_>,
    expected: Option<ExpectedUser>,
) -> Step<LoginOutcome> {
    let application = named_application(services, command.application_id).await?;
    let now = services.clock.now_millis();
    let attempt_id = attempt_id(services);
    let (code_hash, one_time_code_hash) = presented_hashes(command, proof);
    let presented = Presented {
        code_hash: &code_hash,
        one_time_code_hash: one_time_code_hash.as_deref(),
        fallback: matches!(proof, Proof::Fallback { .. }),
        application_id: command.application_id,
    };
    let login = Login {
        services,
        tenant_scope,
        command,
        proof,
        application: application.as_ref(),
        attempt_id: &attempt_id,
        now,
    };
    let begin = services
        .codes
        .begin_consume(presented, &attempt_id, now, ATTEMPT_LIMITS);
    // A one-time code's login reads the user beside its count on the user instead.
    let expected = expected.filter(|_| presented.one_time_code_hash.is_none());
    let (staged, early) = match expected {
        None => (begin.await?, None),
        Some(expected) => {
            let wanted = Wanted {
                tenant: Some(expected.tenant_id),
                user: Some(expected.user_id),
                newest_code: Some(expected.user_id),
                ..Wanted::default()
            };
            let (staged, records) = tokio::join!(begin, services.directory.records(&wanted));
            (staged?, Some(EarlyRead { expected, records }))
        }
    };
    let unchecked = presented.one_time_code_hash.is_none();
    let pending = match staged {
        Staged::Done(consumed) => used_code(consumed)?,
        // Boxed, as each step below: the login's future stays small on every caller's stack.
        Staged::Counted(counted) => {
            match Box::pin(counted_login(&login, presented, &counted)).await? {
                Counted::LoggedIn(outcome) => return Ok(outcome),
                Counted::Used(pending) => *pending,
            }
        }
    };
    let early = early.and_then(|early| early.of(&pending));
    if early.is_none() && unchecked {
        if let Some(tenant) = ahead::tenant_to_write_ahead(&login, &pending).await? {
            return Box::pin(ahead::used_login(&login, &pending, &tenant)).await;
        }
    }
    Box::pin(used_login(&login, pending, unchecked, early)).await
}

/// What every step of one login attempt shares.
struct Login<'a> {
    services: &'a LoginServices,
    tenant_scope: Option<Uuid>,
    command: &'a LoginCommand,
    proof: Proof<'a>,
    application: Option<&'a Application>,
    attempt_id: &'a str,
    now: i64,
}

/// The rest of a login whose code this attempt has used up.
/// `unchecked`: the code's use did not look at the user's pointer (a code without a one-time
/// code), so the first read of the user does.
/// `early`: the tenant and user read beside the code's use, when they are the code's.
async fn used_login(
    login: &Login<'_>,
    mut pending: PendingCode,
    unchecked: bool,
    early: Option<Result<crate::ports::Records, StoreError>>,
) -> Step<LoginOutcome> {
    let services = login.services;
    crate::metrics::set_tenant(pending.tenant_id);
    // A code of another tenant, or a PKCE-bound or hosted login's code at the login API, is used
    // up all the same: whoever holds it sent it to the wrong place, and it must not stay usable
    // elsewhere.
    if login.tenant_scope.is_some_and(|t| t != pending.tenant_id) {
        return Ok(LoginOutcome::NotFound);
    }
    if matches!(login.proof, Proof::Code) && bound_to_authorization(&pending) {
        return Ok(LoginOutcome::NotFound);
    }
    let mut unchecked = unchecked;
    if pending.sign_up {
        // The user is created only for a code still its newest: one read more, on a rare path.
        let newest = services.codes.newest(pending.user_id).await?;
        if unchecked && superseded(&pending, newest.as_deref()) {
            return Ok(LoginOutcome::NotFound);
        }
        unchecked = false;
        // Boxed: a rare step, kept out of the size of every login's future.
        pending.user_id = Box::pin(sign_up(services, &pending, login.now)).await?;
    }
    let attempt = Attempt {
        services,
        command: login.command,
        pending: &pending,
        application: login.application,
        attempt_id: login.attempt_id,
        now: login.now,
        unused: None,
        alongside: None,
    };
    // The login writes the user back; if the user changed since it was read (locked,
    // deactivated), it looks again instead of undoing that.
    let mut early = early;
    for read in 0..USER_READS {
        let newest = unchecked && read == 0;
        let (tenant, user) = match early.take() {
            Some(records) => found_user(&attempt, records?, newest)?,
            None => read_user(&attempt, newest).await?,
        };
        check_user(&user, login.now)?;
        challenge(&attempt, &tenant, &user).await?;
        if let Some(logged_in) = log_in(&attempt, &tenant, user).await? {
            return Ok(LoginOutcome::LoggedIn(Box::new(logged_in)));
        }
    }
    Err(StoreError::new("complete login", "the user kept changing during the login").into())
}

/// Creates the user a sign-up's code was started for, now that the code is used up: the id of
/// the user the login goes on with ([`crate::sign_up::create`]).
async fn sign_up(services: &LoginServices, pending: &PendingCode, now: i64) -> Step<Uuid> {
    let Some(users) = services.users.as_deref() else {
        return Err(Stop::Outcome(LoginOutcome::NotFound));
    };
    match crate::sign_up::create(users, services.directory.as_ref(), pending, now).await? {
        Some(user_id) => Ok(user_id),
        None => Err(Stop::Outcome(LoginOutcome::NotFound)),
    }
}

/// Whether the code is a hosted login's (its start named a pending browser login).
fn hosted(pending: &PendingCode) -> bool {
    pending
        .state
        .as_ref()
        .is_some_and(|state| state.contains_key(crate::oauth2::hosted::PENDING_LOGIN_KEY))
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
