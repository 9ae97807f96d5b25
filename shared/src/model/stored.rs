//! What a login leaves in the Codes table and the Directory: pending codes (hashes only), refresh
//! tokens (hashes only) and login records.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{LoginStrategy, User};
use crate::login_id::IdentityType;

/// A started login waiting to be sent and completed. Only hashes of the code and of the one-time
/// code are kept, so a leak of the table logs nobody in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PendingCode {
    pub code_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_code_hash: Option<String>,
    /// The one-time code encrypted under a key derived from the code, which is never stored:
    /// send, which is given the code, can deliver it; the table alone reveals nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_one_time_code: Option<String>,
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub application_id: Uuid,
    pub identity_type: IdentityType,
    pub identity_value: String,
    pub strategy: LoginStrategy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Map<String, Value>>,
    pub created_at_millis: i64,
    pub expires_at_millis: i64,
    /// The user as start found them: send renders its message from this copy instead of reading
    /// the user again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The identities send delivered the code to, as the store keeps them beside the document
    /// (concurrent sends each add theirs): completing the login verifies what is here, and a code
    /// never sent verifies nothing.
    #[serde(skip)]
    pub delivered_to: Vec<crate::login_id::IdentityKey>,
}

/// A refresh token as stored: its hash, never the token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoredRefreshToken {
    pub id: Uuid,
    pub token_hash: String,
    pub user_id: Uuid,
    pub application_id: Uuid,
    pub tenant_id: Uuid,
    pub start_instant: i64,
    pub expires_at_millis: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<Value>,
}

/// One line of a user's login history.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoginRecord {
    pub user_id: Uuid,
    pub application_id: Option<Uuid>,
    pub instant: i64,
    pub ip_address: Option<String>,
    pub session_id: Uuid,
}

/// An authorization code as stored: by its hash, with the tokens the login issued sealed under a
/// key derived from the code (never stored), so the table alone holds no usable token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoredAuthorizationCode {
    pub code_hash: String,
    /// The client: FusionAuth's client id is the application id.
    pub application_id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub redirect_uri: String,
    /// The PKCE S256 challenge the start's `state` carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub scope: String,
    /// [`crate::codes::seal`] of the issued tokens under the authorization code.
    pub sealed_tokens: String,
    pub expires_at_millis: i64,
}
