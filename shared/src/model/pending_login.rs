//! A pending browser login: the hosted login page's login, bound to the `fusionauth.pending`
//! cookie of the browser that started it (stored by the cookie's SHA-256 only), until the link
//! is opened in that browser, approved from another device with the match code, or the one-time
//! code is typed on the waiting page.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Where a pending login is. Every move is one conditional write from the state before.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum PendingLoginStatus {
    /// The waiting page waits for the link or the typed code.
    Waiting,
    /// Another device matched the code: the waiting page's next look completes the login.
    Approved,
    /// Too many wrong match codes or one-time codes: the waiting page redirects back with
    /// `access_denied`.
    Refused,
    /// Completed (an authorization code went back to the client), once.
    Completed,
}

impl PendingLoginStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Approved => "approved",
            Self::Refused => "refused",
            Self::Completed => "completed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Waiting,
            Self::Approved,
            Self::Refused,
            Self::Completed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PendingLogin {
    /// SHA-256 of the browser's cookie.
    pub id_hash: String,
    pub tenant_id: Uuid,
    pub application_id: Uuid,
    /// The validated authorization request, as a start's `state` carries it
    /// ([`crate::oauth2::AuthorizationRequest::to_state`]).
    pub request: Map<String, Value>,
    /// The hash of the code started for it; `None` when the login id named no one (nothing was
    /// sent, and the page looks the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_hash: Option<String>,
    /// The hash of the address the code's email went to: what a typed one-time code is checked
    /// with ([`crate::login::login_with_fallback`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_hash: Option<String>,
    /// The two digits the waiting page shows and the approving device must enter.
    pub match_code: String,
    /// The page's languages (the request's `locale`/`ui_locales`).
    #[serde(default)]
    pub languages: Vec<String>,
    pub status: PendingLoginStatus,
    /// Wrong match codes and wrong one-time codes, together.
    #[serde(default)]
    pub wrong_tries: u32,
    pub expires_at_millis: i64,
    /// When the login id was posted (the approval page says how long ago); 0 when unknown.
    #[serde(default)]
    pub started_at_millis: i64,
    /// The browser and OS families of the login id post (never its `User-Agent`).
    #[serde(default)]
    pub device: super::Device,
}

/// By its hash and status only: it holds the match code and the request's `state` and `nonce`.
impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("id_hash", &self.id_hash)
            .field("application_id", &self.application_id)
            .field("status", &self.status)
            .field("wrong_tries", &self.wrong_tries)
            .finish_non_exhaustive()
    }
}
