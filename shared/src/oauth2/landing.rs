//! The magic link's landing page as a use case: [`open`] looks at the code and changes nothing
//! (any number of scanner pre-fetches leave it valid); [`click`] completes the login exactly as
//! `POST /api/passwordless/login` does ([`crate::login::login`]: the same statuses, checks,
//! refresh token and login record) and turns a completed login into an authorization code.
//! [`enter_code`] is the same click for a link that got mangled: the email address and the
//! one-time code the email carries beside the link stand for the link's code, within a budget
//! of their own; it lives in [`super::fallback`] and is re-exported here.

use std::sync::Arc;

pub(super) use super::code::{issue_code, CodeBeside, CodeFor};
use super::{AuthorizationRequest, RequestProblem};

use crate::codes;
use crate::login::LoginServices;
use crate::login::{
    self, LoggedIn, LoggedInKind, LoginCommand, LoginError, LoginOutcome, RefreshTokenRule,
};
use crate::model::{Application, PendingCode, Tenant};
use crate::ports::{
    AuthorizationCodes, PendingLogins, RateLimiter, SsoSessions, StoreError, Wanted,
};
use uuid::Uuid;

pub use super::fallback::{
    code_entry, enter_code, CodeEntry, EnterCodeCommand, FALLBACK_MIN_DURATION,
    FALLBACK_TRIES_PER_USER_PER_DAY,
};

/// What the landing page runs on, built once per container: the login's services, the
/// authorization codes, and the counters of the fallback page's budget.
#[derive(Clone)]
pub struct LandingServices {
    pub login: LoginServices,
    pub authorization_codes: Arc<dyn AuthorizationCodes>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// The hosted login's pending browser logins, which a hosted link completes or approves.
    pub pending_logins: Arc<dyn PendingLogins>,
    /// The SSO sessions a completed hosted login starts.
    pub sso_sessions: Arc<dyn SsoSessions>,
}

/// A code as the link's path carries it: 1 to 128 letters, digits, `-` or `_` (every code
/// generator's alphabet). Anything else is no code, and gets the expired page.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkCode(String);

impl LinkCode {
    pub fn parse(text: &str) -> Option<Self> {
        let fine = (1..=128).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        fine.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Redacted: a logged link code logs nobody in.
impl std::fmt::Debug for LinkCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkCode(<redacted>)")
    }
}

/// What the page shows for a live code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Landing {
    pub application_name: String,
    pub tenant_name: String,
    /// The user's preferred languages, in order.
    pub languages: Vec<String>,
    /// A FormField code: the page asks for the one-time code the email carries.
    pub needs_one_time_code: bool,
    /// Where the button's form post may redirect (the page's CSP `form-action`).
    pub redirect_origin: String,
    /// A hosted login's link: the pending login it belongs to (the hash of the cookie of the
    /// browser that started it, [`super::hosted::PENDING_LOGIN_KEY`]).
    pub pending_login: Option<String>,
    /// On the approval page (another browser): who began the pending login, and when.
    pub requester: Option<super::hosted::Requester>,
    /// The user a plain link's code is for, which the page's form posts back so that the click
    /// reads them beside its look at the code ([`ClickCommand::user_hint`]).
    pub user_hint: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    Live(Box<Landing>),
    /// A hosted login's link in another browser than the one that started it: the approval page.
    OtherBrowser(Box<Landing>),
    /// Unknown, used, superseded or expired: alike.
    Expired,
    /// The start's `state` cannot lead to an allowed redirect.
    Unusable(RequestProblem),
}

/// A live code with what it was started for.
pub(super) struct Live {
    pub(super) pending: PendingCode,
    pub(super) tenant: Tenant,
    pub(super) application: Application,
    pub(super) request: AuthorizationRequest,
    pub(super) landing: Landing,
}

pub(super) enum Looked {
    Live(Box<Live>),
    Expired,
    Unusable(RequestProblem),
}

/// Reads the code with this hash and what it was started for; writes nothing.
pub(super) async fn look(
    services: &LandingServices,
    code_hash: &str,
) -> Result<Looked, StoreError> {
    let login = &services.login;
    let now = login.clock.now_millis();
    let Some(pending) = login.codes.pending(code_hash).await? else {
        return Ok(Looked::Expired);
    };
    if pending.expires_at_millis <= now {
        return Ok(Looked::Expired);
    }
    let (tenant, application) = tokio::try_join!(
        login.directory.tenant(pending.tenant_id),
        login.directory.application(pending.application_id),
    )?;
    let (Some(tenant), Some(application)) = (tenant, application) else {
        return Ok(Looked::Expired);
    };
    let request = match AuthorizationRequest::from_state(pending.state.as_ref(), &application) {
        Ok(request) => request,
        Err(problem) => return Ok(Looked::Unusable(problem)),
    };
    let landing = Landing {
        application_name: application.name.clone(),
        tenant_name: tenant.name.clone(),
        languages: pending
            .user
            .as_ref()
            .map(|u| u.preferred_languages.clone())
            .unwrap_or_default(),
        needs_one_time_code: pending.one_time_code_hash.is_some(),
        redirect_origin: request.redirect_uri.origin().to_owned(),
        pending_login: pending
            .state
            .as_ref()
            .and_then(|s| s.get(super::hosted::PENDING_LOGIN_KEY))
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        requester: None,
        user_hint: None,
    };
    let plain_link =
        !landing.needs_one_time_code && !pending.sign_up && landing.pending_login.is_none();
    let landing = Landing {
        user_hint: plain_link.then_some(pending.user_id),
        ..landing
    };
    Ok(Looked::Live(Box::new(Live {
        pending,
        tenant,
        application,
        request,
        landing,
    })))
}

/// The page for a code: never consumes or changes it.
pub async fn open(
    services: &LandingServices,
    code: Option<&LinkCode>,
    pending_cookie: Option<&str>,
) -> Result<Opened, StoreError> {
    let Some(code) = code else {
        return Ok(Opened::Expired);
    };
    Ok(
        match look(services, &codes::hash_secret(code.as_str())).await? {
            Looked::Live(live) if !same_browser(&live.landing, pending_cookie) => {
                Opened::OtherBrowser(Box::new(
                    super::hosted::requester(services, live.landing).await?,
                ))
            }
            Looked::Live(live) => Opened::Live(Box::new(live.landing)),
            Looked::Expired => Opened::Expired,
            Looked::Unusable(problem) => Opened::Unusable(problem),
        },
    )
}

/// Whether this browser may complete the link: any browser for a link the login API started;
/// for a hosted login's, only the browser with the pending login's cookie.
fn same_browser(landing: &Landing, pending_cookie: Option<&str>) -> bool {
    match &landing.pending_login {
        None => true,
        Some(pending_login) => pending_cookie
            .is_some_and(|cookie| codes::same_secret(&codes::hash_secret(cookie), pending_login)),
    }
}

/// The button's post.
#[derive(Clone, Default)]
pub struct ClickCommand {
    pub one_time_code: Option<String>,
    pub ip_address: Option<String>,
    /// The `fusionauth.trust` cookie, as the login API reads it.
    pub trust_id: Option<String>,
    /// The `fusionauth.pending` cookie: a hosted login's link completes only in the browser
    /// that started it.
    pub pending_cookie: Option<String>,
    /// The user the page said the code is for ([`Landing::user_hint`]): read beside the look at
    /// the code. Only a hint: a login never trusts it over the code it uses.
    pub user_hint: Option<Uuid>,
}

/// Redacts the one-time code and the trust id, as [`LoginCommand`]'s `Debug` does.
impl std::fmt::Debug for ClickCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::redact::redacted;
        f.debug_struct("ClickCommand")
            .field("one_time_code", &redacted(&self.one_time_code))
            .field("ip_address", &self.ip_address)
            .field("trust_id", &redacted(&self.trust_id))
            .field("pending_cookie", &redacted(&self.pending_cookie))
            .field("user_hint", &self.user_hint)
            .finish()
    }
}

/// Why a login that was not refused as expired still gives no authorization code: each is a page
/// that says what to do, never a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 203.
    PasswordChangeRequired,
    /// 242.
    TwoFactorRequired,
    /// 409.
    Prevented,
    /// 423.
    Locked,
    /// 410.
    UserExpired,
    /// 429.
    TooManyAttempts,
    /// 212, 213: the identity or the registration must be verified first.
    VerificationRequired,
    /// 202 where the application's `requireRegistration` is on.
    NotRegistered,
}

/// What a completed click answers: the redirect URI with the authorization code (its `Debug`
/// is redacted).
pub type CodeRedirect = super::AuthorizationResponse;

#[derive(Debug)]
pub enum Clicked {
    /// Back to the redirect URI with `code`, the start's `state` and `iss` (303, or a form post);
    /// who signed in.
    Redirect(CodeRedirect, super::hosted::SignedIn),
    /// A hosted login's link in a browser other than the one that started it: it may only
    /// approve, with the match code ([`super::hosted::approve`]).
    OtherBrowser(Box<Landing>),
    Expired,
    Unusable(RequestProblem),
    /// A FormField code stays valid after a wrong one-time code (until its attempts run out).
    WrongOneTimeCode(Box<Landing>),
    /// The fallback page's login id and one-time code name no live code of the application.
    WrongFallback,
    Refused(Refusal),
}

#[derive(Debug, thiserror::Error)]
pub enum ClickError {
    #[error(transparent)]
    Dependency(#[from] StoreError),
}

/// Completes the login and issues an authorization code for its tokens. The request is checked
/// before the code is used up: a link that cannot redirect leaves its code as it was.
pub async fn click(
    services: &LandingServices,
    code: &LinkCode,
    command: ClickCommand,
) -> Result<Clicked, ClickError> {
    let code_hash = codes::hash_secret(code.as_str());
    let hint = command
        .user_hint
        .filter(|_| command.one_time_code.is_none());
    let (looked, hinted) = match hint {
        Some(user) => {
            let wanted = Wanted {
                user: Some(user),
                newest_code: Some(user),
                ..Wanted::default()
            };
            let (looked, hinted) = tokio::join!(
                look(services, &code_hash),
                services.login.directory.records(&wanted)
            );
            (looked?, Some(hinted?))
        }
        None => (look(services, &code_hash).await?, None),
    };
    let live = match looked {
        Looked::Live(live) => live,
        Looked::Expired => return Ok(Clicked::Expired),
        Looked::Unusable(problem) => return Ok(Clicked::Unusable(problem)),
    };
    if !same_browser(&live.landing, command.pending_cookie.as_deref()) {
        let landing = super::hosted::requester(services, live.landing).await?;
        return Ok(Clicked::OtherBrowser(Box::new(landing)));
    }
    if let Some(pending_login) = &live.landing.pending_login {
        let now = services.login.clock.now_millis();
        let waiting = services
            .pending_logins
            .find(pending_login, now)
            .await?
            .is_some_and(|p| p.status == crate::model::PendingLoginStatus::Waiting);
        if !waiting {
            return Ok(Clicked::Expired);
        }
    }
    let login_command = LoginCommand {
        code: code.as_str().to_owned(),
        one_time_code: command.one_time_code.filter(|c| !c.trim().is_empty()),
        application_id: Some(live.application.id),
        ip_address: command.ip_address,
        meta_data: None,
        no_jwt: false,
        trust_id: command.trust_id,
        refresh_token: RefreshTokenRule::OAuth(live.request.scope.clone()),
    };
    // The common click: the user the page's form named, read beside the look, is the code's;
    // the code's use goes beside the login's writes and the authorization code's.
    let beside = CodeBeside::new(services, &live);
    let outcome = match hinted {
        Some(mut records) if live.landing.user_hint.is_some() => {
            // The tenant is the code's, as the look read it (cached).
            records.tenant = Some(live.tenant.clone());
            let read = login::ReadForClick {
                pending: &live.pending,
                records,
            };
            let outcome = login::login_for_authorization_code_read(
                &services.login,
                login_command,
                read,
                &beside,
            );
            Box::pin(outcome).await
        }
        _ => {
            // The user the code named when the page looked is read beside the code's use (a
            // link's code without a one-time code, not a sign-up's); the login checks the used
            // code names them.
            let expected = (!live.landing.needs_one_time_code && !live.pending.sign_up).then_some(
                login::ExpectedUser {
                    tenant_id: live.pending.tenant_id,
                    user_id: live.pending.user_id,
                },
            );
            let outcome =
                login::login_for_authorization_code(&services.login, login_command, expected);
            Box::pin(outcome).await
        }
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(LoginError::Invalid(_)) => return Ok(Clicked::Expired),
        Err(LoginError::Dependency(error)) => return Err(error.into()),
    };
    if matches!(outcome, LoginOutcome::NotFound) && live.landing.needs_one_time_code {
        // A wrong one-time code leaves the code valid; a used or expired one does not.
        return Ok(match look(services, &code_hash).await? {
            Looked::Live(live) => Clicked::WrongOneTimeCode(Box::new(live.landing)),
            _ => Clicked::Expired,
        });
    }
    let clicked = match (outcome, beside.issued()) {
        (LoginOutcome::LoggedIn(logged_in), Some(response)) => {
            Clicked::Redirect(response, signed_in(&live, &logged_in, None))
        }
        (outcome, _) => conclude(services, &live, outcome).await?,
    };
    if let (Clicked::Redirect(..), Some(pending_login)) = (&clicked, &live.landing.pending_login) {
        super::hosted::mark_completed(services, pending_login).await?;
    }
    Ok(clicked)
}

/// A login's outcome as the landing page answers it: an authorization code, or why not.
pub(super) async fn conclude(
    services: &LandingServices,
    live: &Live,
    outcome: LoginOutcome,
) -> Result<Clicked, ClickError> {
    let refusal = match outcome {
        LoginOutcome::LoggedIn(logged_in) => return issue(services, live, *logged_in).await,
        LoginOutcome::NotFound => return Ok(Clicked::Expired),
        LoginOutcome::PasswordChangeRequired { .. } => Refusal::PasswordChangeRequired,
        LoginOutcome::TwoFactorRequired { .. } => Refusal::TwoFactorRequired,
        LoginOutcome::Prevented(_) => Refusal::Prevented,
        LoginOutcome::Locked => Refusal::Locked,
        LoginOutcome::Expired => Refusal::UserExpired,
        LoginOutcome::TooManyAttempts => Refusal::TooManyAttempts,
    };
    Ok(Clicked::Refused(refusal))
}

/// Why a completed login gets no authorization code, if it does not: its identity or its
/// registration to verify, or no registration where the application requires one.
pub(super) fn refused(live: &Live, kind: &LoggedInKind) -> Option<Refusal> {
    let require_registration = live.application.oauth_configuration.require_registration;
    match kind {
        LoggedInKind::Complete => None,
        LoggedInKind::NotRegistered if !require_registration => None,
        LoggedInKind::NotRegistered => Some(Refusal::NotRegistered),
        LoggedInKind::IdentityUnverified(_) | LoggedInKind::RegistrationUnverified => {
            Some(Refusal::VerificationRequired)
        }
    }
}

/// The authorization code for a completed login: random (256 bits), stored by its hash for at
/// most [`AUTHORIZATION_CODE_SECONDS`], the tokens sealed under it.
async fn issue(
    services: &LandingServices,
    live: &Live,
    logged_in: LoggedIn,
) -> Result<Clicked, ClickError> {
    if let Some(refusal) = refused(live, &logged_in.kind) {
        return Ok(Clicked::Refused(refusal));
    }
    let mut signed_in = signed_in(live, &logged_in, None);
    let access = logged_in
        .access_token
        .clone()
        .ok_or_else(|| StoreError::new("issue authorization code", "the login issued no JWT"))?;
    // The login issued a refresh token only where the scope and the application allow it
    // ([`RefreshTokenRule::OAuth`]).
    let session = match signed_in.hosted {
        true => {
            super::hosted::start_sso_session(
                services,
                &live.tenant,
                logged_in.user.id,
                logged_in.authenticated_at_millis,
                signed_in.refresh_token_id,
            )
            .await
        }
        false => None,
    };
    let sso_session_id = session.as_ref().map(|(_, id)| *id);
    let code_for = CodeFor::clicked(live, &logged_in, access, sso_session_id);
    let response = issue_code(services, code_for).await?;
    signed_in.sso_cookie = session.map(|(cookie, _)| cookie);
    Ok(Clicked::Redirect(response, signed_in))
}

/// Who a completed click signed in, with the SSO session's cookie of a hosted login.
fn signed_in(
    live: &Live,
    logged_in: &LoggedIn,
    sso_cookie: Option<String>,
) -> super::hosted::SignedIn {
    super::hosted::SignedIn {
        tenant_id: live.pending.tenant_id,
        user_id: logged_in.user.id,
        authenticated_at_millis: logged_in.authenticated_at_millis,
        refresh_token_id: logged_in.refresh_token.as_ref().map(|r| r.id),
        hosted: live.landing.pending_login.is_some(),
        sso_cookie,
    }
}
