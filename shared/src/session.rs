//! What a login and a refresh hand out: the access token (a JWT with FusionAuth's claims, signed
//! with the key the application, else the tenant, names) and the refresh token, with the rules
//! of how long each lives. One place for both, so a refreshed JWT is a login's JWT but for
//! `authenticationType`.

use base64::Engine;
use serde::Serialize;
use uuid::Uuid;

use crate::codes;
use crate::model::{
    Application, RefreshTokenExpirationPolicy, RefreshTokenUsagePolicy, StoredRefreshToken, Tenant,
    User,
};
use crate::ports::{Directory, StoreError};
use crate::system::Random;
use crate::tokens::Signer;

/// FusionAuth's defaults where neither the application nor the tenant says.
const DEFAULT_JWT_SECONDS: u32 = 3600;
const DEFAULT_REFRESH_MINUTES: u32 = 43_200;
const DEFAULT_MAXIMUM_REFRESH_MINUTES: u32 = 43_200;

/// The token rules of a login to `application` (the application's settings, else the tenant's,
/// else FusionAuth's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenRules {
    pub key_id: Option<Uuid>,
    pub jwt_seconds: u32,
    pub refresh_minutes: u32,
    pub expiration: RefreshTokenExpirationPolicy,
    pub usage: RefreshTokenUsagePolicy,
    pub maximum_refresh_minutes: u32,
    /// `OneTimeUse`: a replaced token presented after its grace period revokes the family.
    pub reuse_revokes: bool,
    /// `OneTimeUse`: how long the token a rotation replaced still exchanges.
    pub grace_period_seconds: u32,
}

pub fn rules(tenant: &Tenant, application: Option<&Application>) -> TokenRules {
    let app = application.map(|a| &a.jwt_configuration);
    let ten = &tenant.jwt_configuration;
    macro_rules! either {
        ($field:ident) => {
            app.and_then(|a| a.$field).or(ten.$field)
        };
    }
    let sliding = app
        .and_then(|a| a.refresh_token_sliding_window_configuration)
        .and_then(|s| s.maximum_time_to_live_in_minutes)
        .or(ten
            .refresh_token_sliding_window_configuration
            .and_then(|s| s.maximum_time_to_live_in_minutes));
    TokenRules {
        key_id: either!(access_token_key_id),
        jwt_seconds: either!(time_to_live_in_seconds).unwrap_or(DEFAULT_JWT_SECONDS),
        refresh_minutes: either!(refresh_token_time_to_live_in_minutes)
            .unwrap_or(DEFAULT_REFRESH_MINUTES),
        expiration: either!(refresh_token_expiration_policy).unwrap_or_default(),
        usage: either!(refresh_token_usage_policy).unwrap_or_default(),
        maximum_refresh_minutes: sliding.unwrap_or(DEFAULT_MAXIMUM_REFRESH_MINUTES),
        reuse_revokes: app
            .and_then(|a| a.refresh_token_revocation_policy)
            .and_then(|p| p.on_one_time_token_reuse)
            .or(ten
                .refresh_token_revocation_policy
                .and_then(|p| p.on_one_time_token_reuse))
            .unwrap_or(false),
        grace_period_seconds: app
            .and_then(|a| a.refresh_token_one_time_use_configuration)
            .and_then(|c| c.grace_period_in_seconds)
            .or(ten
                .refresh_token_one_time_use_configuration
                .and_then(|c| c.grace_period_in_seconds))
            .unwrap_or(0),
    }
}

impl TokenRules {
    /// When a refresh token used (or issued) at `now` expires, for a login at `start`: a fixed
    /// time after the login, or a window from now, capped by the maximum lifetime where there
    /// is one.
    pub fn refresh_expiry(&self, start: i64, now: i64) -> (i64, Option<i64>) {
        let ttl = i64::from(self.refresh_minutes) * 60_000;
        match self.expiration {
            RefreshTokenExpirationPolicy::Fixed => (start + ttl, Some(start + ttl)),
            RefreshTokenExpirationPolicy::SlidingWindow => (now + ttl, None),
            RefreshTokenExpirationPolicy::SlidingWindowWithMaximumLifetime => {
                let max = start + i64::from(self.maximum_refresh_minutes) * 60_000;
                ((now + ttl).min(max), Some(max))
            }
        }
    }
}

/// What every JWT issued to a user says of them, as FusionAuth's tokens do: the access token's
/// claims and the id_token's ([`crate::oauth2`]) flatten it.
#[derive(Serialize)]
pub(crate) struct UserClaims<'a> {
    exp: i64,
    iat: i64,
    iss: &'a str,
    sub: Uuid,
    jti: Uuid,
    #[serde(rename = "authenticationType")]
    authentication_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<&'a str>,
    auth_time: i64,
    tid: Uuid,
}

impl<'a> UserClaims<'a> {
    /// For `user` of `tenant`, issued at `iat` until `exp` (epoch seconds), a fresh `jti`.
    pub(crate) fn new(
        tenant: &'a Tenant,
        user: &'a User,
        authentication_type: &'static str,
        (iat, exp): (i64, i64),
        auth_time: i64,
    ) -> Self {
        Self {
            exp,
            iat,
            iss: &tenant.issuer,
            sub: user.id,
            jti: Uuid::new_v4(),
            authentication_type,
            email: user.email.as_deref(),
            email_verified: user.email.as_ref().map(|_| user.verified),
            preferred_username: user.username.as_deref(),
            auth_time,
            tid: tenant.id,
        }
    }
}

/// The access token's claims: `aud`, `applicationId` and `roles` only for a registered user.
#[derive(Serialize)]
struct Claims<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<Uuid>,
    #[serde(flatten)]
    user: UserClaims<'a>,
    #[serde(rename = "applicationId", skip_serializing_if = "Option::is_none")]
    application_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<&'a [String]>,
    sid: Uuid,
    /// The OAuth scope the token was granted with (FusionAuth 1.50+): what `/oauth2/userinfo`
    /// answers for. A login API token has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

/// A signed access token and when it expires (epoch milliseconds).
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_at_millis: i64,
}

/// Redacts the JWT: a logged token is a session.
impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &crate::redact::REDACTED)
            .field("expires_at_millis", &self.expires_at_millis)
            .finish()
    }
}

/// Who an access token is for, and how they got it.
pub struct AccessTokenFor<'a> {
    pub tenant: &'a Tenant,
    /// The application the user is registered to, with the registration's roles: `aud`,
    /// `applicationId` and `roles` only then.
    pub registered: Option<(&'a Application, &'a [String])>,
    pub user: &'a User,
    pub session_id: Uuid,
    pub now_millis: i64,
    /// When the user authenticated (epoch seconds): the login, also for a refreshed token.
    pub auth_time: i64,
    /// `PASSWORDLESS` for a login, `REFRESH_TOKEN` for a refresh, as FusionAuth writes them.
    pub authentication_type: &'static str,
    /// The OAuth scope of an authorization code grant (and of the refresh tokens it issued).
    pub scope: Option<&'a str>,
}

/// Signs the user's access token with the key the rules name.
pub async fn access_token(
    directory: &dyn Directory,
    signer: &Signer,
    wanted: AccessTokenFor<'_>,
) -> Result<AccessToken, StoreError> {
    access_token_lasting(directory, signer, wanted, None).await
}

/// [`access_token`] living `at_most_seconds` when that is shorter than the rules' JWT lifetime
/// (a refresh's `timeToLiveInSeconds`): a caller may shorten its token, never lengthen it.
pub async fn access_token_lasting(
    directory: &dyn Directory,
    signer: &Signer,
    wanted: AccessTokenFor<'_>,
    at_most_seconds: Option<u32>,
) -> Result<AccessToken, StoreError> {
    let application = wanted.registered.map(|(app, _)| app);
    let rules = rules(wanted.tenant, application);
    let key_id = rules
        .key_id
        .ok_or_else(|| StoreError::new("sign token", "the tenant names no accessTokenKeyId"))?;
    let key = directory
        .signing_key(key_id)
        .await?
        .ok_or_else(|| StoreError::new("sign token", format!("no signing key {key_id}")))?;
    let iat = wanted.now_millis / 1000;
    let lifetime = at_most_seconds.map_or(rules.jwt_seconds, |s| s.min(rules.jwt_seconds));
    let exp = iat + i64::from(lifetime);
    let claims = Claims {
        aud: application.map(|a| a.id),
        user: UserClaims::new(
            wanted.tenant,
            wanted.user,
            wanted.authentication_type,
            (iat, exp),
            wanted.auth_time,
        ),
        application_id: application.map(|a| a.id),
        roles: wanted.registered.map(|(_, roles)| roles),
        sid: wanted.session_id,
        scope: wanted.scope,
    };
    let token = signer
        .sign(&key, &claims)
        .map_err(|e| StoreError::new("sign token", e))?;
    Ok(AccessToken {
        token,
        expires_at_millis: exp * 1000,
    })
}

/// A refresh token as handed out: the token itself (stored only as its hash), its id (FusionAuth's
/// `refreshTokenId`, the JWTs' `sid`), and how long it lives from now.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedRefreshToken {
    pub token: String,
    pub id: Uuid,
    pub lifetime_seconds: i64,
}

impl std::fmt::Debug for IssuedRefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedRefreshToken")
            .field("token", &crate::redact::REDACTED)
            .field("id", &self.id)
            .field("lifetime_seconds", &self.lifetime_seconds)
            .finish()
    }
}

/// What a refresh token names in the clear, and the hash it is stored by. A refresh token is the
/// user id, the application id and its own id (16 bytes each), then 28 random bytes and its
/// rotation number (4 bytes, big-endian), base64url: a refresh finds the token, its user and
/// whatever revoked them in one read, without looking the token up first, and rotates the family
/// in that same round trip, knowing from the token alone which slot the replaced hash goes to. The
/// ids and the number are no secret (the JWTs carry the ids; the number says how often the session
/// was refreshed); the 28 bytes (224 bits) are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshTokenNames {
    pub user_id: Uuid,
    pub application_id: Uuid,
    pub id: Uuid,
    /// How many rotations of its family came before this token: 0 for a login's, `r + 1` for the
    /// token the rotation of token `r` hands out. While the token is its family's current one,
    /// the family's `rotations` is this number (a token from before the number was carried has
    /// random bytes here: the store's condition on the count tells).
    pub rotation: u32,
}

impl RefreshTokenNames {
    /// The names of the token that replaces this one.
    pub fn next(self) -> Self {
        Self {
            rotation: self.rotation.saturating_add(1),
            ..self
        }
    }
}

const SECRET_BYTES: usize = 28;
const REFRESH_TOKEN_BYTES: usize = 48 + SECRET_BYTES + 4;

/// A new token of the family `names.id`, carrying `names.rotation`.
pub fn new_refresh_token(random: &dyn Random, names: RefreshTokenNames) -> String {
    let mut bytes = Vec::with_capacity(REFRESH_TOKEN_BYTES);
    bytes.extend_from_slice(names.user_id.as_bytes());
    bytes.extend_from_slice(names.application_id.as_bytes());
    bytes.extend_from_slice(names.id.as_bytes());
    let mut secret = [0u8; SECRET_BYTES];
    random.fill(&mut secret);
    bytes.extend_from_slice(&secret);
    bytes.extend_from_slice(&names.rotation.to_be_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The names in a refresh token, or `None` for anything that is not one of ours.
pub fn parse_refresh_token(token: &str) -> Option<RefreshTokenNames> {
    if token.len() != 107 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let id = |range: std::ops::Range<usize>| Uuid::from_slice(bytes.get(range)?).ok();
    let rotation = bytes.get(48 + SECRET_BYTES..REFRESH_TOKEN_BYTES)?;
    Some(RefreshTokenNames {
        user_id: id(0..16)?,
        application_id: id(16..32)?,
        id: id(32..48)?,
        rotation: u32::from_be_bytes(rotation.try_into().ok()?),
    })
}

/// A new refresh token for a login at `now` and its stored form: the family starts here.
pub fn start_refresh_token(
    random: &dyn Random,
    rules: &TokenRules,
    tenant_id: Uuid,
    user_id: Uuid,
    application_id: Uuid,
    now: i64,
    meta_data: Option<serde_json::Value>,
) -> (IssuedRefreshToken, StoredRefreshToken) {
    let names = RefreshTokenNames {
        user_id,
        application_id,
        id: Uuid::new_v4(),
        rotation: 0,
    };
    let token = new_refresh_token(random, names);
    let (expires, max) = rules.refresh_expiry(now, now);
    let stored = StoredRefreshToken {
        id: names.id,
        token_hash: codes::hash_secret(&token),
        user_id,
        application_id,
        tenant_id,
        start_instant: now,
        expires_at_millis: expires,
        max_expires_at_millis: max,
        meta_data,
        scope: None,
        rotated: Vec::new(),
        rotations: 0,
        rotated_at_millis: None,
        grace_seal: None,
    };
    let issued = IssuedRefreshToken {
        token,
        id: names.id,
        lifetime_seconds: (expires - now) / 1000,
    };
    (issued, stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::OsRandom;

    #[test]
    fn a_refresh_token_names_its_user_application_and_family_and_nothing_else_parses() {
        let names = RefreshTokenNames {
            user_id: Uuid::new_v4(),
            application_id: Uuid::new_v4(),
            id: Uuid::new_v4(),
            rotation: 0x0102_0304,
        };
        let token = new_refresh_token(&OsRandom, names);
        assert_eq!(token.len(), 107);
        assert_eq!(parse_refresh_token(&token), Some(names));
        assert_ne!(
            token,
            new_refresh_token(&OsRandom, names),
            "the secret is random"
        );
        for bad in [
            "",
            "x",
            &token[1..],
            &format!("{token}A"),
            &token.replace('A', "*"),
        ] {
            if bad != token {
                assert_eq!(parse_refresh_token(bad), None, "{bad}");
            }
        }
    }

    #[test]
    fn the_token_a_rotation_hands_out_carries_the_next_rotation_number() {
        let login = RefreshTokenNames {
            user_id: Uuid::new_v4(),
            application_id: Uuid::new_v4(),
            id: Uuid::new_v4(),
            rotation: 0,
        };
        let token = new_refresh_token(&OsRandom, login.next());
        assert_eq!(token.len(), 107, "as long as a token without the number");
        let parsed = parse_refresh_token(&token).unwrap();
        assert_eq!(parsed.rotation, 1);
        assert_eq!(parsed.next().rotation, 2);
    }

    #[test]
    fn a_sliding_window_slides_up_to_the_maximum_lifetime_and_a_fixed_one_never() {
        let minute = 60_000;
        let mut rules = TokenRules {
            key_id: None,
            jwt_seconds: 60,
            refresh_minutes: 10,
            expiration: RefreshTokenExpirationPolicy::Fixed,
            usage: RefreshTokenUsagePolicy::Reusable,
            maximum_refresh_minutes: 15,
            reuse_revokes: false,
            grace_period_seconds: 0,
        };
        assert_eq!(
            rules.refresh_expiry(0, 8 * minute),
            (10 * minute, Some(10 * minute))
        );
        rules.expiration = RefreshTokenExpirationPolicy::SlidingWindow;
        assert_eq!(rules.refresh_expiry(0, 8 * minute), (18 * minute, None));
        rules.expiration = RefreshTokenExpirationPolicy::SlidingWindowWithMaximumLifetime;
        assert_eq!(
            rules.refresh_expiry(0, 2 * minute),
            (12 * minute, Some(15 * minute))
        );
        assert_eq!(
            rules.refresh_expiry(0, 8 * minute),
            (15 * minute, Some(15 * minute))
        );
    }
}
