//! The hosted login after `/oauth2/authorize`'s login id page, as use cases: [`begin`] starts
//! and sends a code exactly as the legacy send does, with the authorization request kept in its
//! `state` (or, for an unknown address on an application open to sign-ups, a sign-up's code:
//! [`crate::sign_up`]), and stores a pending browser login bound to the browser's cookie (the
//! same answer, and no sooner than [`BEGIN_MIN_DURATION`], whether the login id names someone
//! or not);
//! [`wait`] is the waiting page's look at it (completing it once another device approved it);
//! [`enter_code`] takes the one-time code the email carried, checked against that pending login's
//! code and address only; [`approve`] is the link opened on another device, which approves with
//! the two-digit match code and never gets a code or a token. The link opened in the same
//! browser completes through [`super::landing::click`], which checks the cookie.

mod approve;
mod wait;

pub use approve::{approve, requester, Approval, Requester};
pub use wait::{enter_code, wait, Waited, WaitingPage};

use std::sync::Arc;

use serde_json::Value;
use uuid::Uuid;

use super::authorize::Authorization;
use super::landing::LandingServices;
use crate::codes;
use crate::login_id::LoginIdTypes;
use crate::model::{Device, LoginStrategy, PendingLogin, PendingLoginStatus, MAX_CODE_TTL_SECONDS};
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
    /// What the landing page issues with: through it the browser's SSO session answers a
    /// request at once ([`super::sso_authorize`]).
    pub landing: super::landing::LandingServices,
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
/// the authorization request, and stores the pending login the waiting page shows (with the
/// `device` that posted it, which the approval page on another device names).
pub async fn begin(
    services: &HostedServices,
    authorization: &Authorization,
    login_id: &str,
    device: Device,
) -> Result<Begun, StoreError> {
    let answer_at = tokio::time::Instant::now() + BEGIN_MIN_DURATION;
    let begun = begin_now(services, authorization, login_id, device).await;
    tokio::time::sleep_until(answer_at).await;
    begun
}

async fn begin_now(
    services: &HostedServices,
    authorization: &Authorization,
    login_id: &str,
    device: Device,
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
    // Where the application is open to sign-ups, an address that names no one signs up.
    let sign_up = crate::sign_up::offer(
        &authorization.application,
        &command.login_id,
        &authorization.languages,
        send.random.as_ref(),
    )
    .map(|user| send::SignUpOffer {
        tenant: authorization.tenant.clone(),
        application: authorization.application.clone(),
        user,
    });
    // Boxed: the start and send (and a sign-up's user to be) stay out of the page's future,
    // which debug builds copy at each level of the handler.
    let delivery = match Box::pin(send::start_and_send(send, command, sign_up)).await {
        Ok(delivery) => delivery,
        Err(SendError::Dependency(error)) => return Err(error),
        Err(_) => None,
    };
    let tenant = &authorization.tenant;
    let ttl_seconds = tenant
        .external_identifier_configuration
        .passwordless_login_time_to_live_in_seconds
        .clamp(1, MAX_CODE_TTL_SECONDS);
    let now = send.clock.now_millis();
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
        expires_at_millis: now + i64::from(ttl_seconds) * 1000,
        started_at_millis: now,
        device,
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

/// Who completed a login on the landing page or the waiting page, and for a hosted login the
/// SSO session its browser gets.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub authenticated_at_millis: i64,
    pub refresh_token_id: Option<Uuid>,
    /// A hosted login's; not a link the login API started.
    pub hosted: bool,
    /// The `Set-Cookie` of the SSO session a hosted login started (its id is the id token's
    /// `sid`); `None` when none started.
    pub sso_cookie: Option<String>,
}

/// By ids: the session cookie signs the browser in.
impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("user_id", &self.user_id)
            .field("hosted", &self.hosted)
            .field("sso_cookie", &crate::redact::redacted(&self.sso_cookie))
            .finish_non_exhaustive()
    }
}

/// Starts the SSO session of a completed hosted login ([`super::sso::start_session`]), with the
/// login's refresh token in it (logout revokes it), before its authorization code is issued (the
/// id token's `sid`): the session cookie's `Set-Cookie` and the session's id. A session that
/// cannot be stored is logged and left out: the login still gets its code, and the browser only
/// misses the shortcut of its next authorization.
pub(crate) async fn start_sso_session(
    services: &LandingServices,
    tenant: &crate::model::Tenant,
    user_id: Uuid,
    authenticated_at_millis: i64,
    refresh_token_id: Option<Uuid>,
) -> Option<(String, Uuid)> {
    let login = &services.login;
    let started = async {
        let (cookie, session) = super::sso::start_session(
            services.sso_sessions.as_ref(),
            login.random.as_ref(),
            tenant,
            user_id,
            authenticated_at_millis,
            login.clock.now_millis(),
        )
        .await?;
        if let Some(refresh_token_id) = refresh_token_id {
            services
                .sso_sessions
                .add_refresh_token(&session.id_hash, refresh_token_id)
                .await?;
        }
        Ok::<_, StoreError>((cookie, session.id))
    }
    .await;
    match started {
        Ok(started) => Some(started),
        Err(error) => {
            tracing::error!(error = %error, "the SSO session could not start");
            crate::metrics::dependency_failure(error.operation);
            None
        }
    }
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
pub(super) async fn count_wrong(
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
