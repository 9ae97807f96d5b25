//! What the service publishes and verifies: the JSON Web Key Set, the public key of a key id or
//! of an application, the OpenID Connect discovery document of a tenant, and the validation of an
//! access token (`/api/jwt/validate`). All of it is read through the warm-container cache, so a
//! warm function answers without a round trip.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::model::{PublicKey, Published, SigningAlgorithm, Tenant};
use crate::ports::{Directory, StoreError, Wanted};
use crate::system::Clock;
use crate::tokens::{self, InvalidJwt, Signer};

/// What the key functions run on, built once per container.
#[derive(Clone)]
pub struct KeyServices {
    pub directory: Arc<dyn Directory>,
    pub signer: Arc<Signer>,
    pub clock: Arc<dyn Clock>,
}

/// `{"keys": [...]}`: every published (RS256, ES256) key as a JWK; HS256 secrets never.
pub fn json_web_key_set(published: &Published) -> Value {
    let keys: Vec<&Map<String, Value>> = published.keys.iter().map(|k| &k.jwk).collect();
    json!({ "keys": keys })
}

/// The `kid` a published key's JWTs carry.
fn kid_of(key: &PublicKey) -> String {
    key.jwk
        .get("kid")
        .and_then(Value::as_str)
        .map_or_else(|| key.id.to_string(), str::to_owned)
}

/// Which public key `/api/jwt/public-key` is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKeyQuery {
    All,
    KeyId(String),
    Application(Uuid),
}

/// FusionAuth's answer: `{"publicKey": pem}` for one key, `{"publicKeys": {kid: pem}}` for all;
/// `None` (404) for an unknown key or application, or one whose key is HS256 (no public half).
pub async fn public_keys(
    services: &KeyServices,
    query: PublicKeyQuery,
) -> Result<Option<Value>, StoreError> {
    let published = services.directory.published().await?;
    let find = |id: Uuid| -> Option<&PublicKey> { published.keys.iter().find(|k| k.id == id) };
    let find_kid =
        |kid: &str| -> Option<&PublicKey> { published.keys.iter().find(|k| kid_of(k) == kid) };
    Ok(match query {
        PublicKeyQuery::All => {
            let all: Map<String, Value> = published
                .keys
                .iter()
                .map(|k| (kid_of(k), Value::String(k.pem.clone())))
                .collect();
            Some(json!({ "publicKeys": all }))
        }
        PublicKeyQuery::KeyId(kid) => find_kid(&kid).map(|k| json!({ "publicKey": k.pem })),
        PublicKeyQuery::Application(id) => {
            let Some(application) = services.directory.application(id).await? else {
                return Ok(None);
            };
            let tenant = services.directory.tenant(application.tenant_id).await?;
            tenant
                .and_then(|t| crate::session::rules(&t, Some(&application)).key_id)
                .and_then(find)
                .map(|k| json!({ "publicKey": k.pem }))
        }
    })
}

/// The tenant a discovery request describes (the one it names, else the default one), with
/// what the Directory publishes.
pub async fn discovery_tenant(
    services: &KeyServices,
    named: Option<Uuid>,
) -> Result<Option<(Tenant, Published)>, StoreError> {
    let published = services.directory.published().await?;
    let Some(id) = named.or(published.default_tenant_id) else {
        return Ok(None);
    };
    let records = services
        .directory
        .records(&Wanted {
            tenant: Some(id),
            ..Wanted::default()
        })
        .await?;
    Ok(records.tenant.map(|tenant| (tenant, published)))
}

/// The scopes `/oauth2/authorize` knows: `openid` for an id_token, `offline_access` for a
/// refresh token, and the claims `/oauth2/userinfo` answers for each other one.
pub const SCOPES: [&str; 5] = ["openid", "offline_access", "email", "profile", "phone"];

/// The OpenID Connect discovery document (OpenID Connect Discovery 1.0 section 3) of `tenant`,
/// for a service reached at `base_url`: the issuer its tokens carry, the endpoints at the
/// host's root (an issuer with a path, `{base}/{tenantId}`, is discovered under it all the
/// same), and the id token algorithms the tenant and its applications are configured with
/// (RS256 always, as the specification requires).
pub fn openid_configuration(tenant: &Tenant, published: &Published, base_url: &str) -> Value {
    let mut algorithms: Vec<SigningAlgorithm> = published
        .id_token_signers
        .iter()
        .filter(|signer| signer.tenant_id == tenant.id)
        .map(|signer| signer.algorithm)
        .chain([SigningAlgorithm::RS256])
        .collect();
    algorithms.sort();
    algorithms.dedup();
    let algorithms: Vec<String> = algorithms.iter().map(|a| format!("{a:?}")).collect();
    json!({
        "issuer": tenant.issuer,
        "authorization_endpoint": format!("{base_url}/oauth2/authorize"),
        "token_endpoint": format!("{base_url}/oauth2/token"),
        "userinfo_endpoint": format!("{base_url}/oauth2/userinfo"),
        "end_session_endpoint": format!("{base_url}/oauth2/logout"),
        "jwks_uri": format!("{base_url}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
        "scopes_supported": SCOPES,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "claims_supported": [
            "applicationId", "aud", "auth_time", "authenticationType", "birthdate", "email",
            "email_verified", "exp", "family_name", "given_name", "iat", "iss", "jti",
            "middle_name", "name", "nonce", "phone_number", "phone_number_verified", "picture",
            "preferred_username", "roles", "sid", "sub", "tid"
        ],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": false,
    })
}

/// The claims of `token` when one of our keys signed it (the one its `kid` names, with that key's
/// algorithm) and it has not expired.
pub async fn validate(
    services: &KeyServices,
    token: &str,
) -> Result<Result<Map<String, Value>, InvalidJwt>, StoreError> {
    let key = match signing_key_of(services.directory.as_ref(), token).await? {
        Ok(key) => key,
        Err(invalid) => return Ok(Err(invalid)),
    };
    let now = services.clock.now_millis() / 1000;
    Ok(services.signer.verify(&key, token, now))
}

/// The key of ours that the JWT's `kid` names, found without trusting anything else in it.
pub async fn signing_key_of(
    directory: &dyn crate::ports::Directory,
    token: &str,
) -> Result<Result<crate::model::SigningKey, InvalidJwt>, StoreError> {
    let kid = match tokens::key_id(token) {
        Ok(kid) => kid,
        Err(invalid) => return Ok(Err(invalid)),
    };
    for id in tokens::key_lookups(&kid) {
        if let Some(key) = directory.signing_key(id).await? {
            // A key found by its id whose `kid` is another one does not sign with this `kid`.
            if key.kid() == kid {
                return Ok(Ok(key));
            }
        }
    }
    Ok(Err(InvalidJwt::UnknownKey))
}
