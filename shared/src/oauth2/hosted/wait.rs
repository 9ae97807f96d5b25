//! The waiting page's use cases: [`wait`] looks at the browser's pending login (completing it
//! once another device approved it), [`enter_code`] takes the one-time code the email carried.

use super::{count_wrong, SignedIn, ENTER_CODE_MIN_DURATION, WRONG_TRIES};
use crate::codes;
use crate::login::{self, LoginCommand, LoginError, LoginOutcome, RefreshTokenRule};
use crate::model::{GeneratorKind, PendingLogin, PendingLoginStatus};
use crate::oauth2::authorize::AuthorizeError;
use crate::oauth2::landing::{conclude, look, ClickError, Clicked, LandingServices, Live, Looked};
use crate::oauth2::{AuthorizationRequest, AuthorizationResponse, RedirectBack};
use crate::ports::StoreError;

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
