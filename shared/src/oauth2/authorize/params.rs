//! `/oauth2/authorize`'s parameters as sent: each known one read at most once and within its
//! cap (a repeated or over-long one is remembered as such, for the validation to refuse with
//! `invalid_request`), unknown ones ignored (RFC 6749 3.1); and `prompt`'s values.

use super::AuthorizeError;
use crate::limits;

/// The parameters this endpoint reads, with their caps; any other is ignored.
const PARAMETERS: &[(&str, usize)] = &[
    ("client_id", limits::ID),
    ("redirect_uri", limits::URL),
    ("response_type", limits::KEYWORD),
    ("response_mode", limits::KEYWORD),
    ("scope", limits::SCOPE),
    ("state", limits::URL),
    ("nonce", limits::OPAQUE_TOKEN),
    ("code_challenge", limits::CODE_VERIFIER),
    ("code_challenge_method", limits::KEYWORD),
    ("prompt", limits::KEYWORD),
    ("max_age", limits::KEYWORD),
    ("login_hint", limits::LOGIN_ID),
    ("ui_locales", limits::KEYWORD),
    ("locale", limits::KEYWORD),
    ("tenantId", limits::ID),
];

/// A parameter's value as it came: read once, within its cap.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) enum Param {
    #[default]
    Absent,
    Once(String),
    /// Sent twice or more (RFC 6749 3.1: invalid_request).
    Repeated,
    TooLong,
}

impl Param {
    fn value(&self) -> Option<&str> {
        match self {
            Param::Once(value) => Some(value),
            _ => None,
        }
    }
}

/// An authorization request as sent: parsed, not yet checked against the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizeParams {
    params: Vec<(&'static str, Param)>,
}

impl AuthorizeParams {
    /// Reads the known parameters of a query string or form; an empty value counts as absent.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut params: Vec<(&'static str, Param)> = PARAMETERS
            .iter()
            .map(|(name, _)| (*name, Param::Absent))
            .collect();
        for (name, value) in pairs {
            let Some(index) = PARAMETERS.iter().position(|(known, _)| *known == name) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let cap = PARAMETERS[index].1;
            let slot = &mut params[index].1;
            *slot = match slot {
                Param::Absent if !limits::within(value, cap) => Param::TooLong,
                Param::Absent => Param::Once(value.to_owned()),
                _ => Param::Repeated,
            };
        }
        Self { params }
    }

    pub(super) fn param(&self, name: &str) -> &Param {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p)
            .unwrap_or(&Param::Absent)
    }

    /// The value of a parameter sent once.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.param(name).value()
    }

    /// The parameters sent once, to post back as hidden fields.
    pub fn sent(&self) -> Vec<(String, String)> {
        self.params
            .iter()
            .filter_map(|(name, p)| p.value().map(|v| ((*name).to_owned(), v.to_owned())))
            .collect()
    }

    /// The first parameter sent twice or over its cap.
    pub(super) fn malformed(&self) -> Option<AuthorizeError> {
        self.params.iter().find_map(|(name, p)| match p {
            Param::Repeated => Some(AuthorizeError::RepeatedParameter(name)),
            Param::TooLong => Some(AuthorizeError::ParameterTooLong(name)),
            _ => None,
        })
    }
}

/// `prompt` (OIDC Core 3.1.2.1): `none` alone, or any of `login`, `consent`, `select_account`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
}

impl Prompt {
    pub(super) fn parse(text: Option<&str>) -> Option<Self> {
        let mut prompt = Self::default();
        for value in text
            .unwrap_or_default()
            .split(' ')
            .filter(|v| !v.is_empty())
        {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" | "select_account" => {}
                _ => return None,
            }
        }
        let alone = text
            .unwrap_or_default()
            .split(' ')
            .filter(|v| !v.is_empty())
            .count()
            == 1;
        (!prompt.none || alone).then_some(prompt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_parameters_are_ignored_and_empty_ones_are_absent() {
        let params = AuthorizeParams::parse([("foo", "1"), ("foo", "2"), ("state", "")]);
        assert_eq!(params.malformed().map(|e| e.to_string()), None);
        assert_eq!(params.get("state"), None);
        assert!(params.sent().is_empty());
    }

    #[test]
    fn prompt_none_stands_alone() {
        assert_eq!(
            Prompt::parse(Some("none")),
            Some(Prompt {
                none: true,
                login: false
            })
        );
        assert!(Prompt::parse(Some("login consent")).is_some_and(|p| p.login));
        assert_eq!(Prompt::parse(Some("none consent")), None);
        assert_eq!(Prompt::parse(Some("bogus")), None);
        assert_eq!(Prompt::parse(None), Some(Prompt::default()));
    }
}
