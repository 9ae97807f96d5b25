//! Keys: API keys (stored only as their SHA-256, with their endpoint permissions) and the
//! signing keys JWTs are signed with (their `kid`, its alias, and a `Debug` that redacts secrets).

use crate::redact::redacted;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An API key as stored: the key itself is never kept, only its SHA-256.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<ApiKeyPermissions>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiKeyPermissions {
    pub endpoints: std::collections::BTreeMap<String, Vec<String>>,
}

impl ApiKey {
    /// A key without endpoint permissions may call everything; one with them, only what they list.
    pub fn may_call(&self, method: &str, path: &str) -> bool {
        match &self.permissions {
            Some(p) if !p.endpoints.is_empty() => p
                .endpoints
                .get(path)
                .is_some_and(|methods| methods.iter().any(|m| m.eq_ignore_ascii_case(method))),
            _ => true,
        }
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SigningKey {
    pub id: Uuid,
    pub algorithm: SigningAlgorithm,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// The key id its JWTs' header and the JWKS carry: FusionAuth's own `kid` for a key migrated
    /// from it (so the tokens it minted still validate), else the key's `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

impl SigningKey {
    /// The `kid` of this key's JWTs.
    pub fn kid(&self) -> String {
        self.kid.clone().unwrap_or_else(|| self.id.to_string())
    }
}

/// Where a key with a `kid` of its own is also stored, so that a JWT's `kid` finds it with one
/// read: a UUID made of the SHA-256 of the `kid`.
pub fn kid_alias(kid: &str) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("signing key kid\0{kid}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// Redacts the secret and the private key.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("algorithm", &self.algorithm)
            .field("name", &self.name)
            .field("secret", &redacted(&self.secret))
            .field("public_key", &self.public_key)
            .field("private_key", &redacted(&self.private_key))
            .field("kid", &self.kid)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum SigningAlgorithm {
    HS256,
    HS384,
    HS512,
    RS256,
    ES256,
}

impl SigningAlgorithm {
    /// An HMAC algorithm: its secret has no public half, and as an `idTokenKeyId` it means
    /// "sign with the client secret" (OIDC Core 10.1).
    pub fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    /// The fewest secret bytes the algorithm is used with: its hash's output size (RFC 7518
    /// 3.2).
    pub fn min_secret_bytes(self) -> usize {
        match self {
            Self::HS384 => 48,
            Self::HS512 => 64,
            _ => 32,
        }
    }

    /// OIDC Core 3.1.3.6's `at_hash`: the left half of the access token's hash with the
    /// algorithm's own hash function, base64url.
    pub fn left_half_hash(self, text: &str) -> String {
        use base64::Engine;
        use sha2::Digest;
        let digest: Vec<u8> = match self {
            Self::HS384 => sha2::Sha384::digest(text.as_bytes()).to_vec(),
            Self::HS512 => sha2::Sha512::digest(text.as_bytes()).to_vec(),
            Self::HS256 | Self::RS256 | Self::ES256 => {
                sha2::Sha256::digest(text.as_bytes()).to_vec()
            }
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_signing_key_shows_neither_its_secret_nor_its_private_key() {
        let key = SigningKey {
            id: Uuid::nil(),
            algorithm: SigningAlgorithm::HS256,
            name: "k".into(),
            secret: Some("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==".into()),
            public_key: None,
            private_key: Some("-----BEGIN PRIVATE KEY-----MIIE".into()),
            kid: None,
        };
        let logged = format!("{key:?}");
        assert!(!logged.contains("c2VjcmV0"), "{logged}");
        assert!(!logged.contains("MIIE"), "{logged}");
    }
}
