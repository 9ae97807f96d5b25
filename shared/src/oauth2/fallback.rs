//! The fallback page's use case, for a magic link that got mangled on its way (wrapped, cut,
//! rewritten by a scanner): [`code_entry`] names the application the page is for, and
//! [`enter_code`] takes the email address and the one-time code the email carried beside the
//! link in place of the link's code, then completes the same login and authorization code as
//! the link's [`click`](super::landing::click). Its budget, its refusals that all look alike
//! and its minimum duration live here, apart from the link's landing page
//! ([`super::landing`], which re-exports them).

use uuid::Uuid;

use super::landing::{conclude, look, ClickError, Clicked, LandingServices, Live, Looked};
use super::{RedirectUri, RequestProblem};
use crate::login::{self, LoginCommand, LoginError, LoginOutcome, RefreshTokenRule};
use crate::login_id::{canonical_text, IdentityKey, IdentityType};
use crate::model::Application;
use crate::ports::{StoreError, DAY_SECONDS};

/// The fallback page's post: who the user is, and the one-time code their message carried.
#[derive(Clone, Default)]
pub struct EnterCodeCommand {
    /// The application the page was opened for (the `client_id` of the message's address).
    pub client_id: Option<Uuid>,
    pub login_id: String,
    pub one_time_code: String,
    pub ip_address: Option<String>,
    pub trust_id: Option<String>,
}

/// Redacts the one-time code and the trust id.
impl std::fmt::Debug for EnterCodeCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterCodeCommand")
            .field("client_id", &self.client_id)
            .field("one_time_code", &crate::redact::REDACTED)
            .finish_non_exhaustive()
    }
}

/// What the fallback page shows before anything is entered, for a known application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeEntry {
    /// The application, posted back with the form as `client_id`.
    pub client_id: Uuid,
    /// For the page's heading and footer.
    pub application_name: String,
    pub tenant_name: String,
    /// The origins of the application's authorized redirect URLs, space-separated: where the
    /// form's post may redirect (the page's CSP `form-action`).
    pub redirect_origins: String,
}

/// The application the fallback page is for (`None`: no such application, nothing to sign in
/// to); reads nothing else.
pub async fn code_entry(
    services: &LandingServices,
    client_id: Option<Uuid>,
) -> Result<Option<CodeEntry>, StoreError> {
    let directory = &services.login.directory;
    let Some(application) = (match client_id {
        Some(id) => directory.application(id).await?,
        None => None,
    }) else {
        return Ok(None);
    };
    let tenant = directory.tenant(application.tenant_id).await?;
    let mut origins: Vec<String> = application
        .oauth_configuration
        .authorized_redirect_urls
        .iter()
        .filter_map(|url| RedirectUri::parse(url))
        .map(|uri| uri.origin().to_owned())
        .collect();
    origins.sort();
    origins.dedup();
    Ok(Some(CodeEntry {
        client_id: application.id,
        application_name: application.name,
        tenant_name: tenant.map(|t| t.name).unwrap_or_default(),
        redirect_origins: origins.join(" "),
    }))
}

/// Fallbacks one user may enter in a day (a UTC day), right or wrong, each counted before it is
/// compared: with five per code, what bounds the guesses at codes an anonymous caller has anyone
/// mailed (the legacy send starts one for any login id).
pub const FALLBACK_TRIES_PER_USER_PER_DAY: u32 = 10;

/// The fallback page's post answers no sooner than this after it began, whatever it came to: an
/// unknown address costs two reads, a known one a count, a code read and a conditional write, a
/// right one a whole login. Set above the usual time of a login (DynamoDB in one region), so
/// that every outcome takes the floor and the time tells no one who has an account.
pub const FALLBACK_MIN_DURATION: std::time::Duration = std::time::Duration::from_millis(400);

/// Why a fallback was refused, for the `FallbackRefused` metric only: the page is the same.
#[derive(Clone, Copy)]
enum FallbackRefusal {
    /// No live code of the application emailed to that address with that one-time code.
    Wrong,
    /// The user's fallbacks for the day, or one-time codes for the hour, are spent.
    Budget,
}

fn refused_fallback(reason: FallbackRefusal) -> Result<Clicked, ClickError> {
    crate::metrics::fallback_refused(match reason {
        FallbackRefusal::Wrong => "wrong",
        FallbackRefusal::Budget => "budget",
    });
    Ok(Clicked::WrongFallback)
}

/// The click of a link that got mangled: the email address finds the user, whose newest code
/// must be a link's code for this application that was emailed to that very address, with the
/// one-time code that email carried ([`crate::codes::hash_fallback_code`]); then the same login
/// and authorization code as [`click`](super::landing::click). A FormField code, a code never
/// sent or sent by SMS, an unknown address, a wrong one-time code, an expired, used or
/// superseded code and a spent budget are alike ([`Clicked::WrongFallback`]), and every answer
/// waits out [`FALLBACK_MIN_DURATION`], so the page tells no one whether an address has an
/// account.
pub async fn enter_code(
    services: &LandingServices,
    command: EnterCodeCommand,
) -> Result<Clicked, ClickError> {
    let answer_at = tokio::time::Instant::now() + FALLBACK_MIN_DURATION;
    let entered = check_fallback(services, command).await;
    tokio::time::sleep_until(answer_at).await;
    entered
}

async fn check_fallback(
    services: &LandingServices,
    command: EnterCodeCommand,
) -> Result<Clicked, ClickError> {
    let login = &services.login;
    let one_time_code = command.one_time_code.trim();
    let Some(application) = (match command.client_id {
        Some(id) => login.directory.application(id).await?,
        None => None,
    }) else {
        return Ok(Clicked::Unusable(RequestProblem::UnknownClient));
    };
    crate::metrics::set_tenant(application.tenant_id);
    if one_time_code.is_empty()
        || !crate::limits::within(one_time_code, crate::limits::ONE_TIME_CODE)
    {
        return refused_fallback(FallbackRefusal::Wrong);
    }
    // The email address the message went to: the fallback is only ever emailed.
    let address = canonical_text(command.login_id.trim());
    let (code_hash, live) = match newest_link(services, &application, &address).await? {
        Ok(found) => found,
        Err(refusal) => return refused_fallback(refusal),
    };
    let login_command = LoginCommand {
        application_id: Some(application.id),
        ip_address: command.ip_address,
        trust_id: command.trust_id,
        refresh_token: RefreshTokenRule::OAuth(live.request.scope.clone()),
        ..LoginCommand::default()
    };
    let address_hash = crate::suppression::address_hash(&address);
    let outcome = match login::login_with_fallback(
        login,
        &code_hash,
        &address_hash,
        one_time_code,
        login_command,
    )
    .await
    {
        Ok(outcome) => outcome,
        Err(LoginError::Invalid(_)) => return refused_fallback(FallbackRefusal::Wrong),
        Err(LoginError::Dependency(error)) => return Err(error.into()),
    };
    match outcome {
        LoginOutcome::NotFound => refused_fallback(FallbackRefusal::Wrong),
        LoginOutcome::TooManyAttempts => refused_fallback(FallbackRefusal::Budget),
        outcome => conclude(services, &live, outcome).await,
    }
}

/// The newest code (its hash, and what it was started for) of the user with this email address
/// in the application's tenant, once one of the user's fallbacks for the day is counted, and
/// only when it is a live link's code of this application; else why the fallback is refused.
async fn newest_link(
    services: &LandingServices,
    application: &Application,
    address: &str,
) -> Result<Result<(String, Box<Live>), FallbackRefusal>, StoreError> {
    let login = &services.login;
    let candidates = [IdentityKey {
        kind: IdentityType::Email,
        value: address.to_owned(),
    }];
    let Some(found) = login
        .directory
        .find_identity(application.tenant_id, &candidates)
        .await?
    else {
        return Ok(Err(FallbackRefusal::Wrong));
    };
    // Counted before anything is compared, with one conditional write.
    let within_budget = services
        .rate_limiter
        .try_acquire(
            &format!("fallback#{}", found.user_id),
            Some(found.user_id),
            FALLBACK_TRIES_PER_USER_PER_DAY,
            DAY_SECONDS,
            login.clock.now_millis(),
        )
        .await?;
    if !within_budget {
        tracing::warn!(user_id = %found.user_id, "the user's fallbacks for the day are spent");
        return Ok(Err(FallbackRefusal::Budget));
    }
    let Some(code_hash) = login.codes.newest(found.user_id).await? else {
        return Ok(Err(FallbackRefusal::Wrong));
    };
    Ok(match look(services, &code_hash).await? {
        // A FormField code's one-time code is never a fallback: it may have come by SMS. A hosted
        // login's code completes only in the browser that began it (its waiting page takes the
        // same one-time code).
        Looked::Live(live)
            if live.application.id == application.id
                && !live.landing.needs_one_time_code
                && live.landing.pending_login.is_none() =>
        {
            Ok((code_hash, live))
        }
        // Even a code whose request cannot redirect: the page tells nothing about the user.
        _ => Err(FallbackRefusal::Wrong),
    })
}
