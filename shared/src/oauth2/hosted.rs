//! The hosted login after `/oauth2/authorize`'s login id page, as use cases: [`begin`] starts
//! and sends a code exactly as the legacy send does, with the authorization request kept in its
//! `state`, and stores a pending browser login bound to the browser's cookie (the same answer,
//! and no sooner than [`BEGIN_MIN_DURATION`], whether the login id names someone or not);
//! [`wait`] is the waiting page's look at it (completing it once another device approved it);
//! [`enter_code`] takes the one-time code the email carried, checked against that pending login's
//! code and address only; [`approve`] is the link opened on another device, which approves with
//! the two-digit match code and never gets a code or a token. The link opened in the same
//! browser completes through [`super::landing::click`], which checks the cookie.

use std::sync::Arc;

use serde_json::Value;
use uuid::Uuid;

use super::authorize::{Authorization, AuthorizeError};
use super::landing::{
    conclude, look, ClickError, Clicked, Landing, LandingServices, LinkCode, Live, Looked,
};
use super::{AuthorizationRequest, AuthorizationResponse, RedirectBack};
use crate::codes;
use crate::login::{self, LoginCommand, LoginError, LoginOutcome, RefreshTokenRule};
use crate::login_id::LoginIdTypes;
use crate::model::{
    GeneratorKind, LoginStrategy, PendingLogin, PendingLoginStatus, MAX_CODE_TTL_SECONDS,
};
use crate::ports::{PendingLogins, StoreError};
use crate::send::{self, SendError, SendServices};
use crate::start::StartCommand;

/// The key of a start's `state` that names the pending login (the SHA-256 of its cookie, which
/// is no credential: every page that takes it also asks for the cookie or the match code).
pub const PENDING_LOGIN_KEY: &str = "pendingLogin";
/// Wrong match codes and wrong one-time codes a pending login takes, together; the last one
/// refuses it.
pub const WRONG_TRIES: u32 = 3;
/// [`begin`] answers no sooner than this: a login id that names no one costs two reads, one that
/// does a start, a count and an email (the legacy send's floor, for the same reason).
pub const BEGIN_MIN_DURATION: std::time::Duration = send::LEGACY_SEND_MIN_DURATION;
/// [`enter_code`] answers no sooner than this: a pending login without a code refuses at once.
pub const ENTER_CODE_MIN_DURATION: std::time::Duration = super::fallback::FALLBACK_MIN_DURATION;

/// What `/oauth2/authorize`'s login id post runs on: the legacy send's services and the pending
/// logins.
#[derive(Clone)]
pub struct HostedServices {
    pub send: SendServices,
    pub pending_logins: Arc<dyn PendingLogins>,
    /// The browser's SSO session answers a request at once ([`super::sso_authorize`]).
    pub sso: super::sso_authorize::SsoServices,
}

/// A pending login begun: the cookie that names it (256 random bits; only its hash is stored),
/// for as long as its code lives.
pub struct Begun {
    pub cookie: String,
    pub max_age_seconds: u32,
}

impl std::fmt::Debug for Begun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Begun")
            .field("cookie", &crate::redact::REDACTED)
            .field("max_age_seconds", &self.max_age_seconds)
            .finish()
    }
}

/// Starts and sends a code for `login_id` (an email address, a username or a phone number) with
/// the authorization request, and stores the pending login the waiting page shows.
pub async fn begin(
    services: &HostedServices,
    authorization: &Authorization,
    login_id: &str,
) -> Result<Begun, StoreError> {
    let answer_at = tokio::time::Instant::now() + BEGIN_MIN_DURATION;
    let begun = begin_now(services, authorization, login_id).await;
    tokio::time::sleep_until(answer_at).await;
    begun
}

async fn begin_now(
    services: &HostedServices,
    authorization: &Authorization,
    login_id: &str,
) -> Result<Begun, StoreError> {
    let send = &services.send;
    let cookie = codes::generate_id(send.random.as_ref());
    let id_hash = codes::hash_secret(&cookie);
    let request = authorization.request.to_state(authorization.application.id);
    let mut state = request.clone();
    state.insert(PENDING_LOGIN_KEY.to_owned(), Value::String(id_hash.clone()));
    let command = StartCommand {
        application_id: authorization.application.id,
        login_id: login_id.trim().to_owned(),
        login_id_types: LoginIdTypes::parse(["email", "phoneNumber", "username"])
            .unwrap_or_default(),
        // The waiting page needs the link (and its email's one-time code), whatever the
        // application's API logins use.
        login_strategy: Some(LoginStrategy::ClickableLink),
        state: Some(state),
    };
    let delivery = match send::start_and_send(send, command).await {
        Ok(delivery) => delivery,
        Err(SendError::Dependency(error)) => return Err(error),
        Err(_) => None,
    };
    let tenant = &authorization.tenant;
    let ttl_seconds = tenant
        .external_identifier_configuration
        .passwordless_login_time_to_live_in_seconds
        .clamp(1, MAX_CODE_TTL_SECONDS);
    let login = PendingLogin {
        id_hash,
        tenant_id: tenant.id,
        application_id: authorization.application.id,
        request,
        code_hash: delivery.as_ref().map(|d| d.code_hash.clone()),
        address_hash: delivery.map(|d| d.address_hash),
        match_code: match_code(send.random.as_ref()),
        languages: authorization.languages.clone(),
        status: PendingLoginStatus::Waiting,
        wrong_tries: 0,
        expires_at_millis: send.clock.now_millis() + i64::from(ttl_seconds) * 1000,
    };
    services.pending_logins.create(&login).await?;
    Ok(Begun {
        cookie,
        max_age_seconds: ttl_seconds,
    })
}

/// Two random digits, `00` to `99`.
fn match_code(random: &dyn crate::system::Random) -> String {
    let mut bytes = [0u8; 2];
    random.fill(&mut bytes);
    format!("{:02}", u16::from_be_bytes(bytes) % 100)
}

/// The user who completed a hosted login, for the SSO session the browser gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub authenticated_at_millis: i64,
    pub refresh_token_id: Option<Uuid>,
}

/// What the waiting page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitingPage {
    pub application_name: String,
    pub tenant_name: String,
    pub match_code: String,
    pub languages: Vec<String>,
    /// The tenant's one-time codes are not digits only.
    pub alphanumeric_code: bool,
    pub redirect_origin: String,
}

#[derive(Debug)]
pub enum Waited {
    /// Still waiting (a wrong one-time code: `wrong` is set).
    Waiting { page: Box<WaitingPage>, wrong: bool },
    /// Back to the client with an authorization code; who signed in.
    Completed(Box<AuthorizationResponse>, SignedIn),
    /// Back to the client with an error (`access_denied`: refused, or the login cannot finish).
    Refused(Box<RedirectBack>, AuthorizeError),
    /// No pending login by that cookie: unknown, expired, or completed already.
    Finished,
}

/// The waiting page's look at the browser's pending login: an approved one is completed here,
/// once; a refused one goes back with `access_denied`.
pub async fn wait(services: &LandingServices, cookie: Option<&str>) -> Result<Waited, ClickError> {
    let Some((pending, back)) = pending_of(services, cookie).await? else {
        return Ok(Waited::Finished);
    };
    match pending.status {
        PendingLoginStatus::Waiting => waiting_page(services, &pending, false).await,
        PendingLoginStatus::Refused => Ok(refused(&back)),
        PendingLoginStatus::Completed => Ok(Waited::Finished),
        PendingLoginStatus::Approved => {
            let attempt = codes::generate_id(services.login.random.as_ref());
            let now = services.login.clock.now_millis();
            let completing = services
                .pending_logins
                .transition(
                    &pending.id_hash,
                    PendingLoginStatus::Approved,
                    PendingLoginStatus::Completed,
                    &attempt,
                    now,
                )
                .await?;
            let (true, Some(code_hash)) = (completing, pending.code_hash.as_deref()) else {
                return Ok(Waited::Finished);
            };
            let Looked::Live(live) = look(services, code_hash).await? else {
                return Ok(refused(&back));
            };
            let command = login_command(&pending, &live, None);
            let outcome = match login::login_approved(&services.login, code_hash, command).await {
                Ok(outcome) => outcome,
                Err(LoginError::Invalid(_)) => return Ok(refused(&back)),
                Err(LoginError::Dependency(error)) => return Err(error.into()),
            };
            completed(services, &live, outcome, &back).await
        }
    }
}

/// The one-time code typed on the waiting page, checked against this pending login's code and
/// the address its email went to only; no sooner than [`ENTER_CODE_MIN_DURATION`].
pub async fn enter_code(
    services: &LandingServices,
    cookie: Option<&str>,
    one_time_code: &str,
    ip_address: Option<String>,
) -> Result<Waited, ClickError> {
    let answer_at = tokio::time::Instant::now() + ENTER_CODE_MIN_DURATION;
    let entered = enter_code_now(services, cookie, one_time_code, ip_address).await;
    tokio::time::sleep_until(answer_at).await;
    entered
}

async fn enter_code_now(
    services: &LandingServices,
    cookie: Option<&str>,
    one_time_code: &str,
    ip_address: Option<String>,
) -> Result<Waited, ClickError> {
    let Some((pending, back)) = pending_of(services, cookie).await? else {
        return Ok(Waited::Finished);
    };
    if pending.status != PendingLoginStatus::Waiting {
        return wait(services, cookie).await;
    }
    let one_time_code = one_time_code.trim();
    let live = match (
        pending.code_hash.as_deref(),
        pending.address_hash.as_deref(),
    ) {
        (Some(code_hash), Some(_)) if !one_time_code.is_empty() => {
            match look(services, code_hash).await? {
                Looked::Live(live) => Some(live),
                _ => None,
            }
        }
        _ => None,
    };
    if let (Some(live), Some(code_hash), Some(address_hash)) = (
        live,
        pending.code_hash.as_deref(),
        pending.address_hash.as_deref(),
    ) {
        let command = login_command(&pending, &live, ip_address);
        let outcome = match login::login_with_fallback(
            &services.login,
            code_hash,
            address_hash,
            one_time_code,
            command,
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(LoginError::Invalid(_)) => LoginOutcome::NotFound,
            Err(LoginError::Dependency(error)) => return Err(error.into()),
        };
        if !matches!(
            outcome,
            LoginOutcome::NotFound | LoginOutcome::TooManyAttempts
        ) {
            let attempt = codes::generate_id(services.login.random.as_ref());
            services
                .pending_logins
                .transition(
                    &pending.id_hash,
                    PendingLoginStatus::Waiting,
                    PendingLoginStatus::Completed,
                    &attempt,
                    services.login.clock.now_millis(),
                )
                .await?;
            return completed(services, &live, outcome, &back).await;
        }
    }
    crate::metrics::refused_code();
    match count_wrong(services, &pending).await? {
        Some(tries) if tries < WRONG_TRIES => waiting_page(services, &pending, true).await,
        Some(_) => Ok(refused(&back)),
        None => wait(services, cookie).await,
    }
}

/// What approving from another device came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Approval {
    /// The waiting browser completes at its next look; this device gets nothing more.
    Approved,
    /// Not the match code: the approval page again.
    Wrong(Box<Landing>),
    /// That was the last wrong try: the pending login is refused.
    Refused,
    /// No hosted login's live link, or its pending login is gone, refused, approved or
    /// completed already.
    Finished,
}

/// The link opened in a browser without the pending login's cookie: the match code the waiting
/// page shows approves the pending login. Nothing here uses the code or issues anything.
pub async fn approve(
    services: &LandingServices,
    code: &LinkCode,
    match_code: &str,
) -> Result<Approval, StoreError> {
    let code_hash = codes::hash_secret(code.as_str());
    let Looked::Live(live) = look(services, &code_hash).await? else {
        return Ok(Approval::Finished);
    };
    let Some(pending_login) = live.landing.pending_login.as_deref() else {
        return Ok(Approval::Finished);
    };
    let now = services.login.clock.now_millis();
    let Some(pending) = services.pending_logins.find(pending_login, now).await? else {
        return Ok(Approval::Finished);
    };
    // The link's code must be the one this pending login sent.
    let ours = pending
        .code_hash
        .as_deref()
        .is_some_and(|hash| codes::same_secret(hash, &code_hash));
    if !ours || pending.status != PendingLoginStatus::Waiting {
        return Ok(Approval::Finished);
    }
    let attempt = codes::generate_id(services.login.random.as_ref());
    if codes::same_secret(match_code.trim(), &pending.match_code) {
        let approved = services
            .pending_logins
            .transition(
                pending_login,
                PendingLoginStatus::Waiting,
                PendingLoginStatus::Approved,
                &attempt,
                now,
            )
            .await?;
        tracing::info!(approved, "a pending login approved from another device");
        return Ok(if approved {
            Approval::Approved
        } else {
            Approval::Finished
        });
    }
    tracing::warn!("a wrong match code");
    Ok(match count_wrong(services, &pending).await? {
        Some(tries) if tries < WRONG_TRIES => Approval::Wrong(Box::new(live.landing)),
        Some(_) => Approval::Refused,
        None => Approval::Finished,
    })
}

/// Marks a hosted link's pending login completed by the browser that holds its cookie (the
/// link's own click completed it).
pub async fn mark_completed(
    services: &LandingServices,
    pending_login: &str,
) -> Result<(), StoreError> {
    let attempt = codes::generate_id(services.login.random.as_ref());
    services
        .pending_logins
        .transition(
            pending_login,
            PendingLoginStatus::Waiting,
            PendingLoginStatus::Completed,
            &attempt,
            services.login.clock.now_millis(),
        )
        .await?;
    Ok(())
}

/// Counts a wrong answer; the last one allowed refuses the pending login.
async fn count_wrong(
    services: &LandingServices,
    pending: &PendingLogin,
) -> Result<Option<u32>, StoreError> {
    let attempt = codes::generate_id(services.login.random.as_ref());
    let now = services.login.clock.now_millis();
    let tries = services
        .pending_logins
        .count_wrong(&pending.id_hash, &attempt, now)
        .await?;
    if tries.is_some_and(|t| t >= WRONG_TRIES) {
        services
            .pending_logins
            .transition(
                &pending.id_hash,
                PendingLoginStatus::Waiting,
                PendingLoginStatus::Refused,
                &format!("{attempt}-refuse"),
                now,
            )
            .await?;
        tracing::warn!("a pending login refused after too many wrong answers");
    }
    Ok(tries)
}

/// The browser's pending login and where its answers go back, if its cookie names a live one
/// whose request still reads (the application may have changed since).
async fn pending_of(
    services: &LandingServices,
    cookie: Option<&str>,
) -> Result<Option<(PendingLogin, RedirectBack)>, StoreError> {
    let Some(cookie) = cookie.filter(|c| !c.is_empty() && c.len() <= crate::limits::OPAQUE_TOKEN)
    else {
        return Ok(None);
    };
    let now = services.login.clock.now_millis();
    let Some(pending) = services
        .pending_logins
        .find(&codes::hash_secret(cookie), now)
        .await?
    else {
        return Ok(None);
    };
    let directory = &services.login.directory;
    let (tenant, application) = tokio::try_join!(
        directory.tenant(pending.tenant_id),
        directory.application(pending.application_id),
    )?;
    let (Some(tenant), Some(application)) = (tenant, application) else {
        return Ok(None);
    };
    let Ok(request) = AuthorizationRequest::from_state(Some(&pending.request), &application) else {
        return Ok(None);
    };
    Ok(Some((pending, request.back(&tenant.issuer))))
}

async fn waiting_page(
    services: &LandingServices,
    pending: &PendingLogin,
    wrong: bool,
) -> Result<Waited, ClickError> {
    let directory = &services.login.directory;
    let (tenant, application) = tokio::try_join!(
        directory.tenant(pending.tenant_id),
        directory.application(pending.application_id),
    )?;
    let (Some(tenant), Some(application)) = (tenant, application) else {
        return Ok(Waited::Finished);
    };
    let redirect_origin = AuthorizationRequest::from_state(Some(&pending.request), &application)
        .map(|r| r.redirect_uri.origin().to_owned())
        .unwrap_or_default();
    let generator = tenant
        .external_identifier_configuration
        .passwordless_login_one_time_code_generator;
    Ok(Waited::Waiting {
        page: Box::new(WaitingPage {
            application_name: application.name,
            tenant_name: tenant.name,
            match_code: pending.match_code.clone(),
            languages: pending.languages.clone(),
            alphanumeric_code: generator.kind != GeneratorKind::RandomDigits,
            redirect_origin,
        }),
        wrong,
    })
}

fn login_command(pending: &PendingLogin, live: &Live, ip_address: Option<String>) -> LoginCommand {
    LoginCommand {
        application_id: Some(pending.application_id),
        ip_address,
        refresh_token: RefreshTokenRule::OAuth(live.request.scope.clone()),
        ..LoginCommand::default()
    }
}

/// A login's outcome as the waiting page answers it: the authorization code back to the client,
/// or `access_denied` for a login that cannot finish.
async fn completed(
    services: &LandingServices,
    live: &Live,
    outcome: LoginOutcome,
    back: &RedirectBack,
) -> Result<Waited, ClickError> {
    match conclude(services, live, outcome).await? {
        Clicked::Redirect(response, signed_in) => {
            Ok(Waited::Completed(Box::new(response), signed_in))
        }
        _ => Ok(refused(back)),
    }
}

fn refused(back: &RedirectBack) -> Waited {
    Waited::Refused(Box::new(back.clone()), AuthorizeError::AccessDenied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SameByteRandom;

    #[test]
    fn the_match_code_is_two_digits() {
        assert_eq!(match_code(&SameByteRandom(0)), "00");
        assert_eq!(match_code(&SameByteRandom(1)), "57");
        for byte in 0..=255u8 {
            let code = match_code(&SameByteRandom(byte));
            assert!(
                code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()),
                "{code}"
            );
        }
    }
}
