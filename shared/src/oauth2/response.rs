//! The authorization response (RFC 6749 4.1.2 and 4.1.2.1): where it goes (the validated
//! `redirect_uri` only), how (`response_mode`: the query, or OAuth 2.0 Form Post), and what it
//! always carries: `state` when the request sent one, byte-exact, and `iss` (RFC 9207).

use super::RedirectUri;

/// `response_mode`: `query` (the default for `code`) or `form_post`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseMode {
    #[default]
    Query,
    FormPost,
}

/// Where a validated request's response goes back: never built from an unvalidated
/// `redirect_uri`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectBack {
    pub redirect_uri: RedirectUri,
    pub mode: ResponseMode,
    pub state: Option<String>,
    /// The tenant's issuer, exact.
    pub issuer: String,
}

impl RedirectBack {
    /// The response with `params` (`code`, or `error` and `error_description`), then `state`
    /// when it was sent, then `iss`.
    pub fn with(&self, params: &[(&str, &str)]) -> AuthorizationResponse {
        let mut all: Vec<(String, String)> = params
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        if let Some(state) = &self.state {
            all.push(("state".to_owned(), state.clone()));
        }
        all.push(("iss".to_owned(), self.issuer.clone()));
        AuthorizationResponse {
            redirect_uri: self.redirect_uri.clone(),
            mode: self.mode,
            params: all,
        }
    }
}

/// An authorization response to deliver. It may carry an authorization code, so its `Debug` is
/// redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    pub redirect_uri: RedirectUri,
    pub mode: ResponseMode,
    pub params: Vec<(String, String)>,
}

impl AuthorizationResponse {
    /// The redirect URI with the parameters added to its query (`response_mode=query`).
    pub fn url(&self) -> String {
        let params: Vec<(&str, &str)> = self
            .params
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        self.redirect_uri.with_query(&params)
    }

    /// The value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for AuthorizationResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationResponse")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("mode", &self.mode)
            .field("params", &crate::redact::REDACTED)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_echoed_only_when_sent_and_iss_always() {
        let back = RedirectBack {
            redirect_uri: RedirectUri::parse("https://a.example/cb?x=1").unwrap(),
            mode: ResponseMode::Query,
            state: None,
            issuer: "https://id.example".into(),
        };
        assert_eq!(
            back.with(&[("code", "c")]).url(),
            "https://a.example/cb?x=1&code=c&iss=https%3A%2F%2Fid.example"
        );
        let with_state = RedirectBack {
            state: Some("a b&ä".into()),
            ..back
        };
        let response = with_state.with(&[("error", "access_denied")]);
        assert_eq!(response.param("state"), Some("a b&ä"));
        assert!(!format!("{response:?}").contains("access_denied"));
    }
}
