//! OAuth 2.0 over the passwordless login, as FusionAuth's hosted pages do it: the magic link's
//! landing page ([`landing`]: opening it changes nothing; its button completes the login exactly
//! as `POST /api/passwordless/login` does and hands out an authorization code) and
//! `POST /oauth2/token` ([`token`]: the authorization code grant with PKCE, RFC 6749 and 7636).
//!
//! Where the OAuth parameters come from: the start's `state` ([`AuthorizationRequest`]), which
//! only the application holding an API key can set. They are checked against the application's
//! `oauthConfiguration` before the code is touched, so a link that could not redirect anywhere
//! allowed never uses a code up, and never redirects.

pub mod api_logout;
pub mod authorize;
mod code;
pub mod fallback;
pub mod hosted;
mod id_token;
pub mod landing;
pub mod logout;
mod response;
pub mod sso;
pub mod sso_authorize;
pub mod token;
mod token_error;
pub mod userinfo;

pub use id_token::{id_token_key_id, verification_key};

pub use response::{AuthorizationResponse, RedirectBack, ResponseMode};

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::model::{Application, PkcePolicy};

/// How long an authorization code lives (RFC 6749 4.1.2 recommends at most ten minutes).
pub const AUTHORIZATION_CODE_SECONDS: i64 = 60;
/// What the sealed tokens are sealed for ([`crate::codes::seal`]'s purpose).
const SEAL_PURPOSE: &str = "authorization code tokens";

/// A redirect URI that can be compared exactly and redirected to: an absolute http(s) URL
/// without a fragment, whitespace or control characters, at most 2,048 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))?;
        let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let fine = text.len() <= 2048
            && host_end > 0
            && !rest[..host_end].contains('@')
            && text.bytes().all(|b| b.is_ascii_graphic())
            && !text.contains(['#', '"', '<', '>', '\\', '`']);
        fine.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `scheme://host[:port]`, for the page's CSP `form-action` (a browser checks the redirect
    /// after a form post against it).
    pub fn origin(&self) -> &str {
        let scheme_end = self.0.find("://").map_or(0, |i| i + 3);
        let end = self.0[scheme_end..]
            .find(['/', '?'])
            .map_or(self.0.len(), |i| scheme_end + i);
        &self.0[..end]
    }

    /// This URI with `params` added to its query, form-encoded.
    pub fn with_query(&self, params: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in params {
            query.append_pair(name, value);
        }
        let separator = match self.0.contains('?') {
            true if self.0.ends_with('?') || self.0.ends_with('&') => "",
            true => "&",
            false => "?",
        };
        format!("{}{separator}{}", self.0, query.finish())
    }
}

/// The scopes of a request: `openid` gives an id_token, `offline_access` a refresh token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub text: String,
}

impl Scope {
    pub fn has(&self, scope: &str) -> bool {
        self.text.split(' ').any(|s| s == scope)
    }
}

/// FusionAuth's rule for a refresh token from the authorization code grant: the scope asks for
/// `offline_access` and the application's `oauthConfiguration.generateRefreshTokens` is on.
pub fn issues_refresh_token(application: &Application, scope: &Scope) -> bool {
    scope.has("offline_access") && application.oauth_configuration.generate_refresh_tokens
}

/// The OAuth request a passwordless start carries in its `state` (RFC 6749 4.1.1 and RFC 7636
/// names): `redirect_uri` (required), `client_id` (the application id; optional), `state`,
/// `scope`, `nonce`, `code_challenge` with `code_challenge_method` `S256`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub redirect_uri: RedirectUri,
    pub state: Option<String>,
    pub scope: Scope,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// How the response goes back (`response_mode`; `query` unless `form_post`).
    pub response_mode: ResponseMode,
}

/// Why a start's `state` cannot lead to a redirect: shown as an error page, never redirected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestProblem {
    #[error("the login names no redirect_uri")]
    NoRedirectUri,
    #[error("the redirect_uri is not one of the application's authorizedRedirectURLs")]
    UnregisteredRedirectUri,
    #[error("the client_id is not the application the login was started for")]
    WrongClient,
    #[error("the code_challenge is missing, not S256 or malformed")]
    BadChallenge,
    #[error("the page names no known client_id")]
    UnknownClient,
}

impl AuthorizationRequest {
    /// Parses the start's `state` against the application it was started for.
    pub fn from_state(
        state: Option<&Map<String, Value>>,
        application: &Application,
    ) -> Result<Self, RequestProblem> {
        let text = |name: &str| state.and_then(|s| s.get(name)).and_then(Value::as_str);
        let config = &application.oauth_configuration;
        if text("client_id").is_some_and(|id| Uuid::parse_str(id).ok() != Some(application.id)) {
            return Err(RequestProblem::WrongClient);
        }
        let redirect_uri = text("redirect_uri").ok_or(RequestProblem::NoRedirectUri)?;
        let redirect_uri = RedirectUri::parse(redirect_uri)
            .filter(|uri| {
                config
                    .authorized_redirect_urls
                    .iter()
                    .any(|allowed| allowed == uri.as_str())
            })
            .ok_or(RequestProblem::UnregisteredRedirectUri)?;
        let code_challenge = match (text("code_challenge"), text("code_challenge_method")) {
            (None, None) => None,
            (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => {
                Some(challenge.to_owned())
            }
            _ => return Err(RequestProblem::BadChallenge),
        };
        if code_challenge.is_none()
            && config.proof_key_for_code_exchange_policy == PkcePolicy::Required
        {
            return Err(RequestProblem::BadChallenge);
        }
        Ok(Self {
            redirect_uri,
            state: text("state").map(str::to_owned),
            scope: Scope {
                text: text("scope").unwrap_or_default().trim().to_owned(),
            },
            nonce: text("nonce").map(str::to_owned),
            code_challenge,
            response_mode: match text("response_mode") {
                Some("form_post") => ResponseMode::FormPost,
                _ => ResponseMode::Query,
            },
        })
    }

    /// The request as a start's `state` carries it ([`Self::from_state`] reads it back), with
    /// `client_id`: the authorization request kept with the code.
    pub fn to_state(&self, client_id: Uuid) -> Map<String, Value> {
        let mut state = Map::new();
        let mut put = |name: &str, value: &str| {
            state.insert(name.to_owned(), Value::String(value.to_owned()));
        };
        put("client_id", &client_id.to_string());
        put("redirect_uri", self.redirect_uri.as_str());
        if !self.scope.text.is_empty() {
            put("scope", &self.scope.text);
        }
        if let Some(value) = &self.state {
            put("state", value);
        }
        if let Some(nonce) = &self.nonce {
            put("nonce", nonce);
        }
        if let Some(challenge) = &self.code_challenge {
            put("code_challenge", challenge);
            put("code_challenge_method", "S256");
        }
        if self.response_mode == ResponseMode::FormPost {
            put("response_mode", "form_post");
        }
        state
    }

    /// Where and how this request's response goes, with the tenant's issuer (RFC 9207).
    pub fn back(&self, issuer: &str) -> RedirectBack {
        RedirectBack {
            redirect_uri: self.redirect_uri.clone(),
            mode: self.response_mode,
            state: self.state.clone(),
            issuer: issuer.to_owned(),
        }
    }
}

/// An S256 challenge is base64url of 32 bytes: 43 characters.
pub(crate) fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the authorization code seals: the tokens the click's login issued.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct SealedTokens {
    access_token: String,
    access_token_expires_at_millis: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token_id: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn application(urls: &[&str], pkce: PkcePolicy) -> Application {
        let mut app: Application = serde_json::from_value(json!({
            "id": "10000000-0000-0002-0000-000000000001",
            "tenantId": "f24aca2b-ce4a-4dad-951a-c9d690e71415",
        }))
        .unwrap();
        app.oauth_configuration.authorized_redirect_urls =
            urls.iter().map(|u| u.to_string()).collect();
        app.oauth_configuration.proof_key_for_code_exchange_policy = pkce;
        app
    }

    fn request(state: Value, app: &Application) -> Result<AuthorizationRequest, RequestProblem> {
        AuthorizationRequest::from_state(state.as_object(), app)
    }

    #[test]
    fn only_an_exactly_registered_redirect_uri_is_accepted() {
        let app = application(&["https://app.example.com/cb"], PkcePolicy::NotRequired);
        assert!(request(json!({"redirect_uri": "https://app.example.com/cb"}), &app).is_ok());
        for other in [
            "https://app.example.com/cb/",
            "https://app.example.com/cb?x=1",
            "https://app.example.com.evil.com/cb",
            "https://APP.example.com/cb",
            "https://app.example.com/cb#x",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                request(json!({"redirect_uri": other}), &app),
                Err(RequestProblem::UnregisteredRedirectUri),
                "{other}"
            );
        }
        assert_eq!(request(json!({}), &app), Err(RequestProblem::NoRedirectUri));
        assert_eq!(
            request(json!({"redirect_uri": 7}), &app),
            Err(RequestProblem::NoRedirectUri)
        );
    }

    #[test]
    fn pkce_is_s256_only_and_required_where_the_application_says_so() {
        let app = application(&["https://a.example/cb"], PkcePolicy::Required);
        let challenge =
            crate::codes::s256_challenge("verifier-verifier-verifier-verifier-verifier");
        let ok = json!({"redirect_uri": "https://a.example/cb", "code_challenge": challenge,
            "code_challenge_method": "S256"});
        assert_eq!(
            request(ok, &app).unwrap().code_challenge.as_deref(),
            Some(challenge.as_str())
        );
        for bad in [
            json!({"redirect_uri": "https://a.example/cb"}),
            json!({"redirect_uri": "https://a.example/cb", "code_challenge": challenge}),
            json!({"redirect_uri": "https://a.example/cb", "code_challenge": challenge,
                "code_challenge_method": "plain"}),
            json!({"redirect_uri": "https://a.example/cb", "code_challenge": "short",
                "code_challenge_method": "S256"}),
        ] {
            assert_eq!(request(bad, &app), Err(RequestProblem::BadChallenge));
        }
    }

    #[test]
    fn a_client_id_other_than_the_application_is_refused() {
        let app = application(&["https://a.example/cb"], PkcePolicy::NotRequired);
        let state = json!({"redirect_uri": "https://a.example/cb",
            "client_id": "10000000-0000-0002-0000-000000000003"});
        assert_eq!(request(state, &app), Err(RequestProblem::WrongClient));
    }

    #[test]
    fn the_redirect_keeps_its_query_and_encodes_what_it_adds() {
        let uri = RedirectUri::parse("https://a.example/cb?x=1").unwrap();
        assert_eq!(
            uri.with_query(&[("code", "c"), ("state", "a b&c")]),
            "https://a.example/cb?x=1&code=c&state=a+b%26c"
        );
        assert_eq!(uri.origin(), "https://a.example");
        let bare = RedirectUri::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            bare.with_query(&[("code", "c")]),
            "http://127.0.0.1:8080?code=c"
        );
        assert_eq!(bare.origin(), "http://127.0.0.1:8080");
        assert!(RedirectUri::parse("https://user@evil.example/").is_none());
    }
}
