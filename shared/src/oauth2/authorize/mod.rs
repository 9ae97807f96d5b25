//! `/oauth2/authorize`'s request: parsed first ([`AuthorizeParams::parse`]: each known parameter
//! at most once and within its cap, unknown ones ignored, RFC 6749 3.1), then validated against
//! the client in the order of ../shared/reference/oidc-provider.md §1.2 ([`validate`]): a
//! missing, unknown or mismatched `client_id` or `redirect_uri` is never redirected to
//! ([`Rejected::Page`]); every later error goes back to the validated redirect URI
//! ([`Rejected::Redirect`]). Why a request is refused is one [`AuthorizeError`]; the HTTP edge
//! maps each, in one place ([`crate::http::oauth_error::authorize_wire`]), to RFC 6749's code.

use uuid::Uuid;

mod params;

use params::Param;
pub use params::{AuthorizeParams, Prompt};

use super::{is_s256_challenge, AuthorizationRequest, RedirectBack, RedirectUri, ResponseMode};
use super::{RequestProblem, Scope};
use crate::model::{Application, PkcePolicy, Tenant};
use crate::ports::{Directory, StoreError};

/// Why an authorization request is refused: enumerated once; [`Self::is_shown`] says which are
/// never redirected.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    // Shown as an error page: there is no redirect URI to trust.
    #[error("client_id is missing")]
    MissingClientId,
    #[error("client_id is repeated, malformed or names no application")]
    InvalidClientId,
    #[error("redirect_uri is missing")]
    MissingRedirectUri,
    #[error("redirect_uri is repeated or not one of the application's authorizedRedirectURLs")]
    InvalidRedirectUri,
    #[error("tenantId is not the client's tenant")]
    TenantMismatch,

    // Redirected back with `error`.
    #[error("{0} is repeated")]
    RepeatedParameter(&'static str),
    #[error("{0} is too long")]
    ParameterTooLong(&'static str),
    #[error("response_type is missing")]
    MissingResponseType,
    #[error("response_type is not code")]
    UnsupportedResponseType,
    #[error("response_mode is neither query nor form_post")]
    UnsupportedResponseMode,
    #[error("code_challenge is malformed or its method is not S256")]
    InvalidCodeChallenge,
    #[error("the application requires a code_challenge")]
    MissingCodeChallenge,
    #[error("prompt is unknown or combines none with another value")]
    InvalidPrompt,
    #[error("max_age is not a number of seconds")]
    InvalidMaxAge,
    #[error("passwordless login is not enabled for the application")]
    PasswordlessDisabled,
    /// `prompt=none` and no session to answer with.
    #[error("the user must sign in")]
    LoginRequired,
    /// The pending login was refused (wrong match codes, wrong one-time codes) or cannot finish.
    #[error("the sign-in was refused")]
    AccessDenied,

    #[error(transparent)]
    Dependency(#[from] StoreError),
}

impl AuthorizeError {
    /// Never redirected: the client or its redirect URI is not known to be genuine.
    pub fn is_shown(&self) -> bool {
        matches!(
            self,
            Self::MissingClientId
                | Self::InvalidClientId
                | Self::MissingRedirectUri
                | Self::InvalidRedirectUri
                | Self::TenantMismatch
        )
    }
}

/// An authorization request that may proceed to a login.
#[derive(Clone, Debug)]
pub struct Authorization {
    pub application: Application,
    pub tenant: Tenant,
    pub request: AuthorizationRequest,
    pub prompt: Prompt,
    pub max_age_seconds: Option<u64>,
    pub login_hint: Option<String>,
    /// `locale`, then `ui_locales`, then nothing: the page's languages in order.
    pub languages: Vec<String>,
}

impl Authorization {
    pub fn back(&self) -> RedirectBack {
        self.request.back(&self.tenant.issuer)
    }
}

/// Why the request gets no login page.
#[derive(Debug)]
pub enum Rejected {
    /// A 400 error page; never a redirect.
    Page(AuthorizeError),
    /// Back to the validated redirect URI with the error.
    Redirect(Box<RedirectBack>, AuthorizeError),
    /// A dependency failed before the redirect URI was known.
    Dependency(StoreError),
}

/// Validates the request in §1.2's order.
pub async fn validate(
    directory: &dyn Directory,
    params: &AuthorizeParams,
) -> Result<Authorization, Rejected> {
    let (application, tenant) = client(directory, params).await?;
    let redirect_uri = redirect_uri(params, &application).map_err(Rejected::Page)?;
    let mode = match params.get("response_mode") {
        Some("form_post") => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    let back = RedirectBack {
        redirect_uri: redirect_uri.clone(),
        mode,
        state: params.get("state").map(str::to_owned),
        issuer: tenant.issuer.clone(),
    };
    let refuse = |error| Rejected::Redirect(Box::new(back.clone()), error);
    match checked(params, &application) {
        Ok((code_challenge, prompt, max_age_seconds)) => Ok(Authorization {
            request: AuthorizationRequest {
                redirect_uri,
                state: back.state.clone(),
                scope: Scope {
                    text: params.get("scope").unwrap_or_default().trim().to_owned(),
                },
                nonce: params.get("nonce").map(str::to_owned),
                code_challenge,
                response_mode: mode,
            },
            prompt,
            max_age_seconds,
            login_hint: params.get("login_hint").map(str::to_owned),
            languages: ["locale", "ui_locales"]
                .iter()
                .filter_map(|name| params.get(name))
                .flat_map(|text| text.split(' '))
                .filter(|tag| !tag.is_empty())
                .map(str::to_owned)
                .collect(),
            application,
            tenant,
        }),
        // A bad response_mode is delivered in the default mode.
        Err(AuthorizeError::UnsupportedResponseMode) => Err(Rejected::Redirect(
            Box::new(RedirectBack {
                mode: ResponseMode::Query,
                ..back.clone()
            }),
            AuthorizeError::UnsupportedResponseMode,
        )),
        Err(error) => Err(refuse(error)),
    }
}

/// Step 1: the client (and its tenant, which must be the `tenantId` sent, if any).
async fn client(
    directory: &dyn Directory,
    params: &AuthorizeParams,
) -> Result<(Application, Tenant), Rejected> {
    let client_id = match params.param("client_id") {
        Param::Absent => return Err(Rejected::Page(AuthorizeError::MissingClientId)),
        Param::Once(id) => {
            Uuid::parse_str(id).map_err(|_| Rejected::Page(AuthorizeError::InvalidClientId))?
        }
        _ => return Err(Rejected::Page(AuthorizeError::InvalidClientId)),
    };
    let application = directory
        .application(client_id)
        .await
        .map_err(Rejected::Dependency)?
        .ok_or(Rejected::Page(AuthorizeError::InvalidClientId))?;
    let tenant = directory
        .tenant(application.tenant_id)
        .await
        .map_err(Rejected::Dependency)?
        .ok_or(Rejected::Page(AuthorizeError::InvalidClientId))?;
    if params
        .get("tenantId")
        .is_some_and(|sent| Uuid::parse_str(sent).ok() != Some(tenant.id))
    {
        return Err(Rejected::Page(AuthorizeError::TenantMismatch));
    }
    Ok((application, tenant))
}

/// Step 2: the redirect URI, an exact match of one the application registered.
fn redirect_uri(
    params: &AuthorizeParams,
    application: &Application,
) -> Result<RedirectUri, AuthorizeError> {
    let text = match params.param("redirect_uri") {
        Param::Absent => return Err(AuthorizeError::MissingRedirectUri),
        Param::Once(text) => text,
        _ => return Err(AuthorizeError::InvalidRedirectUri),
    };
    RedirectUri::parse(text)
        .filter(|uri| {
            application
                .oauth_configuration
                .authorized_redirect_urls
                .iter()
                .any(|allowed| allowed == uri.as_str())
        })
        .ok_or(AuthorizeError::InvalidRedirectUri)
}

/// Step 3: everything else, in order; the PKCE challenge, the prompt and `max_age` when fine.
#[allow(clippy::type_complexity)]
fn checked(
    params: &AuthorizeParams,
    application: &Application,
) -> Result<(Option<String>, Prompt, Option<u64>), AuthorizeError> {
    if let Some(error) = params.malformed() {
        return Err(error);
    }
    match params.get("response_type") {
        None => return Err(AuthorizeError::MissingResponseType),
        Some("code") => {}
        Some(_) => return Err(AuthorizeError::UnsupportedResponseType),
    }
    if !matches!(
        params.get("response_mode"),
        None | Some("query" | "form_post")
    ) {
        return Err(AuthorizeError::UnsupportedResponseMode);
    }
    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) => None,
        (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => {
            Some(challenge.to_owned())
        }
        _ => return Err(AuthorizeError::InvalidCodeChallenge),
    };
    if code_challenge.is_none()
        && application
            .oauth_configuration
            .proof_key_for_code_exchange_policy
            == PkcePolicy::Required
    {
        return Err(AuthorizeError::MissingCodeChallenge);
    }
    if !application.passwordless_configuration.enabled {
        return Err(AuthorizeError::PasswordlessDisabled);
    }
    let prompt = Prompt::parse(params.get("prompt")).ok_or(AuthorizeError::InvalidPrompt)?;
    let max_age_seconds = match params.get("max_age") {
        None => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| AuthorizeError::InvalidMaxAge)?,
        ),
    };
    Ok((code_challenge, prompt, max_age_seconds))
}

/// What a start's `state` problem means at the authorization endpoint: the same page.
impl From<RequestProblem> for AuthorizeError {
    fn from(problem: RequestProblem) -> Self {
        match problem {
            RequestProblem::NoRedirectUri => Self::MissingRedirectUri,
            RequestProblem::UnregisteredRedirectUri => Self::InvalidRedirectUri,
            RequestProblem::WrongClient | RequestProblem::UnknownClient => Self::InvalidClientId,
            RequestProblem::BadChallenge => Self::InvalidCodeChallenge,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KICKSTART: &str = include_str!("../../../../tests/fixtures/kickstart.example.json");
    const WEB_APP: &str = "10000000-0000-0002-0000-000000000001";
    const REDIRECT: &str = "https://piedpiper.com/oauth/callback";

    fn directory() -> std::sync::Arc<dyn Directory> {
        crate::memory::services(crate::kickstart::parse(KICKSTART).unwrap())
            .start
            .directory
    }

    fn challenge() -> String {
        crate::codes::s256_challenge("verifier-verifier-verifier-verifier-verifier")
    }

    fn query(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let challenge = challenge();
        let mut pairs: Vec<(String, String)> = [
            ("client_id", WEB_APP),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (name, value) in extra {
            pairs.retain(|(k, _)| k != name);
            if !value.is_empty() {
                pairs.push((name.to_string(), value.to_string()));
            }
        }
        pairs
    }

    async fn check(pairs: &[(String, String)]) -> Result<Authorization, Rejected> {
        let params = AuthorizeParams::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        validate(directory().as_ref(), &params).await
    }

    fn shown(result: Result<Authorization, Rejected>) -> AuthorizeError {
        match result {
            Err(Rejected::Page(error)) => error,
            other => panic!("expected an error page, got {other:?}"),
        }
    }

    fn redirected(result: Result<Authorization, Rejected>) -> (RedirectBack, AuthorizeError) {
        match result {
            Err(Rejected::Redirect(back, error)) => (*back, error),
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_well_formed_request_is_accepted_with_its_parameters() {
        let pairs = query(&[
            ("state", "a b"),
            ("scope", "openid"),
            ("login_hint", "r@p.com"),
        ]);
        let authorization = check(&pairs).await.unwrap();
        assert_eq!(authorization.request.state.as_deref(), Some("a b"));
        assert_eq!(authorization.request.code_challenge, Some(challenge()));
        assert_eq!(authorization.login_hint.as_deref(), Some("r@p.com"));
        assert!(authorization.request.scope.has("openid"));
    }

    #[tokio::test]
    async fn a_bad_client_or_redirect_uri_is_shown_and_never_redirected() {
        let unknown = "10000000-0000-0002-0000-0000000000ff";
        for (pairs, expected) in [
            (query(&[("client_id", "")]), "MissingClientId"),
            (query(&[("client_id", "nope")]), "InvalidClientId"),
            (query(&[("client_id", unknown)]), "InvalidClientId"),
            (query(&[("redirect_uri", "")]), "MissingRedirectUri"),
            (
                query(&[("redirect_uri", "https://evil.example/cb")]),
                "InvalidRedirectUri",
            ),
            (
                query(&[("redirect_uri", &format!("{REDIRECT}/"))]),
                "InvalidRedirectUri",
            ),
            (query(&[("tenantId", unknown)]), "TenantMismatch"),
        ] {
            assert_eq!(format!("{:?}", shown(check(&pairs).await)), expected);
        }
        let mut twice = query(&[]);
        twice.push(("redirect_uri".into(), REDIRECT.into()));
        assert!(matches!(
            shown(check(&twice).await),
            AuthorizeError::InvalidRedirectUri
        ));
        let mut twice = query(&[]);
        twice.push(("client_id".into(), WEB_APP.into()));
        assert!(matches!(
            shown(check(&twice).await),
            AuthorizeError::InvalidClientId
        ));
    }

    #[tokio::test]
    async fn later_errors_go_back_to_the_redirect_uri_in_order() {
        for (pairs, expected) in [
            (query(&[("response_type", "")]), "MissingResponseType"),
            (
                query(&[("response_type", "token")]),
                "UnsupportedResponseType",
            ),
            (
                query(&[("response_mode", "fragment")]),
                "UnsupportedResponseMode",
            ),
            (
                query(&[("code_challenge_method", "plain")]),
                "InvalidCodeChallenge",
            ),
            (
                query(&[("code_challenge", "short")]),
                "InvalidCodeChallenge",
            ),
            (query(&[("prompt", "none login")]), "InvalidPrompt"),
            (query(&[("prompt", "sometimes")]), "InvalidPrompt"),
            (query(&[("max_age", "-1")]), "InvalidMaxAge"),
            // The first problem in the order wins.
            (
                query(&[("response_type", "token"), ("prompt", "x")]),
                "UnsupportedResponseType",
            ),
        ] {
            let (back, error) = redirected(check(&pairs).await);
            assert_eq!(format!("{error:?}"), expected);
            assert_eq!(back.redirect_uri.as_str(), REDIRECT);
            assert_eq!(back.issuer, "piedpiper.com");
        }
        let mut twice = query(&[]);
        twice.push(("scope".into(), "a".into()));
        twice.push(("scope".into(), "b".into()));
        let (_, error) = redirected(check(&twice).await);
        assert!(matches!(error, AuthorizeError::RepeatedParameter("scope")));
        let long = "s".repeat(3000);
        let (_, error) = redirected(check(&query(&[("state", &long)])).await);
        assert!(matches!(error, AuthorizeError::ParameterTooLong("state")));
    }

    #[tokio::test]
    async fn a_bad_response_mode_is_answered_in_the_query() {
        let (back, _) = redirected(check(&query(&[("response_mode", "fragment")])).await);
        assert_eq!(back.mode, ResponseMode::Query);
        let ok = check(&query(&[("response_mode", "form_post")]))
            .await
            .unwrap();
        assert_eq!(ok.request.response_mode, ResponseMode::FormPost);
    }
}
