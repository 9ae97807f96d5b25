//! `/oauth2/logout`, OpenID Connect RP-Initiated Logout 1.0 as FusionAuth serves it: ends the
//! browser's SSO session, revokes the refresh tokens issued within it, and sends the browser to
//! `post_logout_redirect_uri` (exactly one the application registered: its `logoutURL` or one of
//! its `authorizedRedirectURLs`), else the application's `logoutURL`, else the tenant's, with
//! `state`; else a signed-out page. An unregistered place is refused, never redirected to.
//!
//! A request is tied to the relying party by a valid `id_token_hint` (one of our id tokens,
//! expired or not, for the client, of the user the session belongs to). Without one the person
//! is asked to confirm (the spec's advice against forged logouts), and only that confirmation's
//! post, CSRF-checked at the edge, signs out.

use std::sync::Arc;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::sso;
use super::RedirectUri;
use crate::codes;
use crate::model::{Application, SsoSession, Tenant};
use crate::ports::{Directory, RefreshTokens, SsoSessions, StoreError};
use crate::system::Clock;
use crate::tokens::Signer;

/// What both logouts run on (`/oauth2/logout` and `POST /api/logout`), built once per container.
#[derive(Clone)]
pub struct LogoutServices {
    pub directory: Arc<dyn Directory>,
    pub sso_sessions: Arc<dyn SsoSessions>,
    pub tokens: Arc<dyn RefreshTokens>,
    pub signer: Arc<Signer>,
    pub clock: Arc<dyn Clock>,
}

/// The request's parameters, each once (the edge refuses repeats and over-long values).
#[derive(Clone, Default)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub tenant_id: Option<String>,
    /// The `fusionauth.sso` cookie.
    pub session_cookie: Option<String>,
    /// The person pressed the confirmation page's button (its CSRF value held).
    pub confirmed: bool,
}

/// The hint and the cookie are secrets of sorts; `state` is the relying party's.
impl std::fmt::Debug for LogoutRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::redact::redacted;
        f.debug_struct("LogoutRequest")
            .field("id_token_hint", &redacted(&self.id_token_hint))
            .field("client_id", &self.client_id)
            .field("post_logout_redirect_uri", &self.post_logout_redirect_uri)
            .field("state", &redacted(&self.state))
            .field("tenant_id", &self.tenant_id)
            .field("session_cookie", &redacted(&self.session_cookie))
            .field("confirmed", &self.confirmed)
            .finish()
    }
}

/// Why a logout request is refused with an error page (and nothing is ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogoutProblem {
    #[error("the client_id names no application")]
    UnknownClient,
    #[error("the id_token_hint was issued to another client than client_id")]
    HintOfAnotherClient,
    /// FusionAuth's `invalid_post_logout_redirect_uri`.
    #[error("the post_logout_redirect_uri is not registered for the client")]
    UnregisteredRedirectUri,
}

/// What the confirmation page shows and carries back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmation {
    pub application_name: Option<String>,
    pub tenant_name: Option<String>,
    /// The checked parameters the confirmation posts back (in the form's action).
    pub carried: Vec<(&'static str, String)>,
    /// Where signing out will send the browser, for the page's CSP `form-action`.
    pub redirect_origin: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Logout {
    Refused(LogoutProblem),
    Confirm(Box<Confirmation>),
    /// Signed out: 302 to this URL (with `state`), or the signed-out page.
    SignedOut {
        redirect: Option<String>,
    },
}

/// What was checked of a request before anything is ended.
struct Checked {
    application: Option<Application>,
    tenant: Option<Tenant>,
    /// The `sub` of a valid `id_token_hint` of the client.
    hinted_user: Option<Uuid>,
    target: Option<RedirectUri>,
}

pub async fn logout(
    services: &LogoutServices,
    request: LogoutRequest,
) -> Result<Logout, StoreError> {
    let checked = match check(services, &request).await? {
        Ok(checked) => checked,
        Err(problem) => return Ok(Logout::Refused(problem)),
    };
    let now = services.clock.now_millis();
    let session = match request
        .session_cookie
        .as_deref()
        .and_then(sso::parse_secret)
    {
        Some(secret) => services
            .sso_sessions
            .find(&codes::hash_secret(secret))
            .await?
            .filter(|s| s.is_live(now)),
        None => None,
    };
    let tied_to_the_relying_party = checked.hinted_user.is_some_and(|user| {
        session
            .as_ref()
            .is_none_or(|s| s.user_id == user && Some(s.tenant_id) == tenant_id(&checked))
    });
    if !(request.confirmed || tied_to_the_relying_party) {
        return Ok(Logout::Confirm(Box::new(confirmation(&request, &checked))));
    }
    if let Some(session) = session {
        end_session(services, &session).await?;
    }
    let redirect = checked.target.map(|target| match request.state.as_deref() {
        Some(state) => target.with_query(&[("state", state)]),
        None => target.as_str().to_owned(),
    });
    Ok(Logout::SignedOut { redirect })
}

fn tenant_id(checked: &Checked) -> Option<Uuid> {
    checked.tenant.as_ref().map(|t| t.id)
}

/// Ends the session and deletes the refresh token families issued within it: those it held
/// before the end, and any added while it was ending. Deleting first leaves nothing behind if
/// the end fails, and a retried logout deletes again (deleting is idempotent).
pub async fn end_session(
    services: &LogoutServices,
    session: &SsoSession,
) -> Result<(), StoreError> {
    for id in &session.refresh_token_ids {
        services.tokens.delete(*id).await?;
    }
    if let Some(ended) = services.sso_sessions.end(&session.id_hash).await? {
        for id in ended
            .refresh_token_ids
            .iter()
            .filter(|id| !session.refresh_token_ids.contains(id))
        {
            services.tokens.delete(*id).await?;
        }
    }
    tracing::info!(user_id = %session.user_id, session_id = %session.id, "SSO session ended");
    Ok(())
}

/// The client (by `client_id`, else by a valid hint's audience), the hint, and where the browser
/// will go, all checked before anything is ended.
async fn check(
    services: &LogoutServices,
    request: &LogoutRequest,
) -> Result<Result<Checked, LogoutProblem>, StoreError> {
    let directory = services.directory.as_ref();
    let named = match request.client_id.as_deref() {
        Some(id) => match Uuid::parse_str(id.trim()).ok() {
            Some(id) => match directory.application(id).await? {
                Some(application) => Some(application),
                None => return Ok(Err(LogoutProblem::UnknownClient)),
            },
            None => return Ok(Err(LogoutProblem::UnknownClient)),
        },
        None => None,
    };
    let hint = match request.id_token_hint.as_deref() {
        Some(token) => verified_hint(services, token).await?,
        None => None,
    };
    if let (Some(named), Some(hint)) = (&named, &hint) {
        if named.id != hint.application.id {
            return Ok(Err(LogoutProblem::HintOfAnotherClient));
        }
    }
    let hinted_user = hint.as_ref().map(|h| h.user_id);
    let (application, tenant) = match (named, hint) {
        (Some(application), _) => {
            let tenant = directory.tenant(application.tenant_id).await?;
            (Some(application), tenant)
        }
        (None, Some(hint)) => (Some(hint.application), Some(hint.tenant)),
        (None, None) => {
            let tenant = match request.tenant_id.as_deref().map(str::trim) {
                Some(id) => match Uuid::parse_str(id) {
                    Ok(id) => directory.tenant(id).await?,
                    Err(_) => None,
                },
                None => None,
            };
            (None, tenant)
        }
    };
    let target = match request.post_logout_redirect_uri.as_deref() {
        Some(uri) => match registered(application.as_ref(), uri) {
            Some(uri) => Some(uri),
            None => return Ok(Err(LogoutProblem::UnregisteredRedirectUri)),
        },
        None => application
            .as_ref()
            .and_then(|a| a.oauth_configuration.logout_url.as_deref())
            .or(tenant.as_ref().and_then(|t| t.logout_url.as_deref()))
            .and_then(RedirectUri::parse),
    };
    Ok(Ok(Checked {
        application,
        tenant,
        hinted_user,
        target,
    }))
}

/// `uri` when it is exactly the application's `logoutURL` or one of its
/// `authorizedRedirectURLs`, and a URL we redirect to.
fn registered(application: Option<&Application>, uri: &str) -> Option<RedirectUri> {
    let config = &application?.oauth_configuration;
    let listed = config.logout_url.as_deref() == Some(uri)
        || config.authorized_redirect_urls.iter().any(|u| u == uri);
    listed.then(|| RedirectUri::parse(uri)).flatten()
}

/// A valid `id_token_hint`: signed by one of our keys (its lifetime aside), for an application of
/// ours, by the issuer of that application's tenant, about a user.
struct Hint {
    application: Application,
    tenant: Tenant,
    user_id: Uuid,
}

async fn verified_hint(services: &LogoutServices, token: &str) -> Result<Option<Hint>, StoreError> {
    let directory = services.directory.as_ref();
    // An HMAC id token is signed with its client's secret, not with the key its `kid` names.
    let Ok(key) = super::verification_key(directory, token).await? else {
        return Ok(None);
    };
    let Ok(claims) = services.signer.verify_signature(&key, token) else {
        return Ok(None);
    };
    let uuid = |name: &str| uuid_claim(&claims, name);
    let (Some(client), Some(user_id)) = (uuid("aud"), uuid("sub")) else {
        return Ok(None);
    };
    let Some(application) = directory.application(client).await? else {
        return Ok(None);
    };
    let Some(tenant) = directory.tenant(application.tenant_id).await? else {
        return Ok(None);
    };
    let issuer = claims.get("iss").and_then(Value::as_str);
    if issuer != Some(tenant.issuer.as_str()) {
        return Ok(None);
    }
    Ok(Some(Hint {
        application,
        tenant,
        user_id,
    }))
}

/// A UUID claim; `aud` may be a one-element array.
fn uuid_claim(claims: &Map<String, Value>, name: &str) -> Option<Uuid> {
    let value = match claims.get(name)? {
        Value::Array(values) if values.len() == 1 => &values[0],
        value => value,
    };
    Uuid::parse_str(value.as_str()?).ok()
}

fn confirmation(request: &LogoutRequest, checked: &Checked) -> Confirmation {
    let mut carried = Vec::new();
    if let Some(application) = &checked.application {
        carried.push(("client_id", application.id.to_string()));
    }
    if let Some(uri) = &request.post_logout_redirect_uri {
        carried.push(("post_logout_redirect_uri", uri.clone()));
    }
    if let Some(state) = &request.state {
        carried.push(("state", state.clone()));
    }
    if let (None, Some(tenant)) = (&checked.application, &checked.tenant) {
        carried.push(("tenantId", tenant.id.to_string()));
    }
    Confirmation {
        application_name: checked.application.as_ref().map(|a| a.name.clone()),
        tenant_name: checked
            .tenant
            .as_ref()
            .map(|t| t.name.clone())
            .filter(|n| !n.is_empty()),
        carried,
        redirect_origin: checked.target.as_ref().map(|t| t.origin().to_owned()),
    }
}
