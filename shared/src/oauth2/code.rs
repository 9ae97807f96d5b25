//! Issuing an authorization code, for a login completed by the link (the landing page, the
//! waiting page) or answered from an SSO session ([`super::sso_authorize`]): the tokens, and for
//! `openid` an id token, sealed under a random code stored by its hash.

use uuid::Uuid;

use super::id_token::{self, IdTokenFor};
use super::landing::{CodeRedirect, LandingServices};
use super::{AuthorizationRequest, SealedTokens, AUTHORIZATION_CODE_SECONDS, SEAL_PURPOSE};
use crate::codes;
use crate::login::{AccessToken, IssuedRefreshToken, LoggedInKind};
use crate::model::{Application, StoredAuthorizationCode, Tenant, User};
use crate::ports::StoreError;

/// What an authorization code is issued for: the request it answers, and the tokens a login
/// (the link's, or the SSO session's) issued to the user.
pub(super) struct CodeFor<'a> {
    pub tenant: &'a Tenant,
    pub application: &'a Application,
    pub request: &'a AuthorizationRequest,
    pub user: &'a User,
    pub access: AccessToken,
    pub refresh: Option<IssuedRefreshToken>,
    /// When the person proved who they are: the id token's `auth_time`.
    pub authenticated_at_millis: i64,
    /// The SSO session the code is issued within: the id token's `sid`.
    pub sso_session_id: Option<Uuid>,
    /// FusionAuth's `userState` on the redirect.
    pub user_state: &'static str,
}

impl<'a> CodeFor<'a> {
    /// The code for a login the landing page completed, within `sso_session_id` if any.
    pub(super) fn clicked(
        live: &'a super::landing::Live,
        logged_in: &'a crate::login::LoggedIn,
        access: AccessToken,
        sso_session_id: Option<Uuid>,
    ) -> Self {
        CodeFor {
            tenant: &live.tenant,
            application: &live.application,
            request: &live.request,
            user: &logged_in.user,
            access,
            refresh: logged_in.refresh_token.clone(),
            authenticated_at_millis: logged_in.authenticated_at_millis,
            sso_session_id,
            user_state: user_state(&logged_in.kind),
        }
    }
}

/// The authorization code for tokens issued to a user: random (256 bits), stored by its hash for
/// at most [`AUTHORIZATION_CODE_SECONDS`], the tokens (and, for `openid`, an id token) sealed
/// under it; and the response that carries it back to the client.
pub(super) async fn issue_code(
    services: &LandingServices,
    what: CodeFor<'_>,
) -> Result<CodeRedirect, StoreError> {
    let login = &services.login;
    let now = login.clock.now_millis();
    let id_token = id_token_for(services, &what, now).await?;
    let tokens = SealedTokens {
        access_token: what.access.token,
        access_token_expires_at_millis: what.access.expires_at_millis,
        id_token,
        refresh_token: what.refresh.as_ref().map(|r| r.token.clone()),
        refresh_token_id: what.refresh.as_ref().map(|r| r.id),
    };
    let tokens_family = tokens.refresh_token_id;
    let code = codes::generate_id(login.random.as_ref());
    let plain = serde_json::to_vec(&tokens).map_err(|e| StoreError::new("seal tokens", e))?;
    let sealed = codes::seal(&code, SEAL_PURPOSE, &plain, login.random.as_ref())
        .ok_or_else(|| StoreError::new("seal tokens", "the cipher refused"))?;
    let stored = StoredAuthorizationCode {
        code_hash: codes::hash_secret(&code),
        application_id: what.application.id,
        tenant_id: what.tenant.id,
        user_id: what.user.id,
        redirect_uri: what.request.redirect_uri.as_str().to_owned(),
        code_challenge: what.request.code_challenge.clone(),
        scope: what.request.scope.text.clone(),
        sealed_tokens: sealed,
        expires_at_millis: now + AUTHORIZATION_CODE_SECONDS * 1000,
    };
    services
        .authorization_codes
        .save_issuing(&stored, tokens_family)
        .await?;
    tracing::info!(user_id = %what.user.id, application_id = %what.application.id,
        "authorization code issued");
    Ok(what
        .request
        .back(&what.tenant.issuer)
        .with(&[("code", &code), ("userState", what.user_state)]))
}

/// An id_token for a scope with `openid`, for the issued JWT; its `auth_time` is when the person
/// authenticated, its `sid` the SSO session's.
async fn id_token_for(
    services: &LandingServices,
    what: &CodeFor<'_>,
    now: i64,
) -> Result<Option<String>, StoreError> {
    if !what.request.scope.has("openid") {
        return Ok(None);
    }
    let login = &services.login;
    let token = id_token::sign(
        login.directory.as_ref(),
        &login.signer,
        &IdTokenFor {
            tenant: what.tenant,
            application: what.application,
            user: what.user,
            access_token: &what.access.token,
            expires_at_millis: what.access.expires_at_millis,
            nonce: what.request.nonce.as_deref(),
            now_millis: now,
            auth_time: what.authenticated_at_millis / 1000,
            sid: what.sso_session_id,
        },
    )
    .await?;
    Ok(Some(token))
}

/// FusionAuth's `userState`: whether the user is registered to the application.
pub(super) fn user_state(kind: &LoggedInKind) -> &'static str {
    match kind {
        LoggedInKind::NotRegistered => "AuthenticatedNotRegistered",
        _ => "Authenticated",
    }
}

/// The authorization code of a plain link's click, issued beside the login's own writes
/// ([`crate::login::AlongsideWrite`]): none for a login the page refuses. Should the login not
/// hold, the code stays unknown to anyone and expires unused.
pub(crate) struct CodeBeside<'a> {
    services: &'a LandingServices,
    live: &'a super::landing::Live,
    issued: std::sync::Mutex<Option<CodeRedirect>>,
}

impl<'a> CodeBeside<'a> {
    pub(super) fn new(services: &'a LandingServices, live: &'a super::landing::Live) -> Self {
        Self {
            services,
            live,
            issued: std::sync::Mutex::new(None),
        }
    }

    /// The redirect with the code the last write issued, if any.
    pub(super) fn issued(&self) -> Option<CodeRedirect> {
        self.issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

#[async_trait::async_trait]
impl crate::login::AlongsideWrite for CodeBeside<'_> {
    async fn write(&self, logged_in: &crate::login::LoggedIn) -> Result<(), StoreError> {
        let live = self.live;
        if super::landing::refused(live, &logged_in.kind).is_some() {
            return Ok(());
        }
        let Some(access) = logged_in.access_token.clone() else {
            return Ok(());
        };
        let code_for = CodeFor::clicked(live, logged_in, access, None);
        let response = issue_code(self.services, code_for).await?;
        *self
            .issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(response);
        Ok(())
    }

    fn forget(&self) {
        self.issued();
    }
}
