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
    /// The same one-time code hashed with this code's hash and the address it was emailed to
    /// ([`crate::codes::hash_fallback_code`]): the fallback a link's email carries for a link that
    /// got mangled, entered on the landing page with that address
    /// ([`crate::oauth2::landing::enter_code`]), where the code itself is not at hand. Start
    /// writes none; send records it once it has emailed a ClickableLink code
    /// ([`crate::ports::CodeStore::mark_delivered`]), so a code never mailed, sent by SMS or of
    /// FormField has none, and the fallback page takes none of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_code_hash: Option<String>,
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
    /// A sign-up's user to be (small, from the form), which its login creates; `None` for any
    /// other code: a code item carries no copy of an existing user (send and login read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The identities send delivered the code to, as the store keeps them beside the document
    /// (concurrent sends each add theirs): completing the login verifies what is here, and a code
    /// never sent verifies nothing.
    #[serde(skip)]
    pub delivered_to: Vec<crate::login_id::IdentityKey>,
    /// A hosted sign-up's code ([`crate::sign_up`]): no user has `user_id` yet; `user` is the
    /// user (with its registration) that completing the login creates, and only then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sign_up: bool,
}

/// A refresh token as stored: one item per login (its `id` is FusionAuth's `refreshTokenId` and
/// the JWTs' `sid`), holding the hash of the token currently valid, never a token. With
/// `OneTimeUse` each exchange replaces the current token by a new one of the same family and keeps
/// the replaced hash in `rotated` (the last few), so that presenting it again is recognised as
/// reuse.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoredRefreshToken {
    pub id: Uuid,
    pub token_hash: String,
    pub user_id: Uuid,
    pub application_id: Uuid,
    pub tenant_id: Uuid,
    /// When the login happened: revocations "before now" and the maximum lifetime count from it.
    pub start_instant: i64,
    pub expires_at_millis: i64,
    /// The latest the token may live to however often it is used (`SlidingWindowWithMaximumLifetime`
    /// and `Fixed`); `None` where each use may slide it on (`SlidingWindow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_expires_at_millis: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<Value>,
    /// The OAuth scope the family was granted with (the authorization code grant's); `None` for
    /// a family from the login API. The refresh token grant echoes it, and gives an id_token for
    /// `openid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Hashes of the most recent tokens of this family that were exchanged for a newer one
    /// (`OneTimeUse`; at most [`crate::ports::ROTATIONS_REMEMBERED`]). The store keeps them beside
    /// the document.
    #[serde(skip)]
    pub rotated: Vec<String>,
    /// How many times the family was rotated: where the store puts the next replaced hash.
    #[serde(skip)]
    pub rotations: u64,
    /// When the family was last rotated: the grace period of the token it replaced runs from it.
    #[serde(skip)]
    pub rotated_at_millis: Option<i64>,
    /// With a grace period: the family's current token, sealed under the token it replaced
    /// ([`crate::codes::seal`]), so that only whoever holds that token can be handed the current
    /// one again, and nothing in the table reveals it.
    #[serde(skip)]
    pub grace_seal: Option<String>,
}

/// What anyone may read, written when a kickstart is loaded: the public half of every RS256 and
/// ES256 signing key (the JWKS and `/api/jwt/public-key` serve these, and the functions that
/// serve them can read nothing else), and the tenant discovery describes when a request names
/// none (the kickstart's first).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Published {
    pub default_tenant_id: Option<Uuid>,
    pub keys: Vec<PublicKey>,
    /// The algorithm each loaded tenant's and application's id tokens are signed with: what
    /// discovery lists in `id_token_signing_alg_values_supported`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub id_token_signers: Vec<IdTokenSigner>,
    /// Every tenant loaded so far: with more than one, a call that creates or looks up a user by
    /// address must name its tenant (FusionAuth's `[TenantIdRequired]`, [`crate::users::access`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenant_ids: Vec<Uuid>,
}

/// Who signs id tokens with which algorithm: a tenant (`owner` its own id) or one of its
/// applications (`owner` the application's id).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IdTokenSigner {
    pub tenant_id: Uuid,
    pub owner: Uuid,
    pub algorithm: super::SigningAlgorithm,
}

/// The public half of a signing key: as a JWK (RFC 7517) and as a PEM `PUBLIC KEY` (SPKI).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub id: Uuid,
    pub algorithm: super::SigningAlgorithm,
    pub pem: String,
    pub jwk: serde_json::Map<String, Value>,
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
