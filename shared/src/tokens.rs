//! Issued tokens: JWTs signed with the tenant's or application's key, and opaque refresh tokens.
//!
//! HS256 keys use the kickstart `secret` base64-decoded; RS256 and ES256 keys their PEM private
//! key. Parsed keys are kept for the life of the container: parsing an RSA key per request would
//! cost more than signing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use uuid::Uuid;

use crate::model::{Generator, GeneratorKind, SigningAlgorithm, SigningKey};
use crate::ports::Random;

#[derive(Debug, thiserror::Error)]
#[error("signing key {key_id}: {message}")]
pub struct TokenError {
    pub key_id: Uuid,
    pub message: String,
}

#[derive(Default)]
pub struct Signer {
    keys: Mutex<HashMap<Uuid, Arc<EncodingKey>>>,
}

impl Signer {
    fn encoding_key(&self, key: &SigningKey) -> Result<Arc<EncodingKey>, TokenError> {
        if let Some(found) = self.keys.lock().ok().and_then(|k| k.get(&key.id).cloned()) {
            return Ok(found);
        }
        let fail = |message: String| TokenError {
            key_id: key.id,
            message,
        };
        let parsed = match key.algorithm {
            SigningAlgorithm::HS256 => {
                let secret = key.secret.as_deref().unwrap_or_default();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(secret)
                    .map_err(|e| fail(e.to_string()))?;
                EncodingKey::from_secret(&bytes)
            }
            SigningAlgorithm::RS256 => {
                EncodingKey::from_rsa_pem(key.private_key.as_deref().unwrap_or_default().as_bytes())
                    .map_err(|e| fail(e.to_string()))?
            }
            SigningAlgorithm::ES256 => {
                EncodingKey::from_ec_pem(key.private_key.as_deref().unwrap_or_default().as_bytes())
                    .map_err(|e| fail(e.to_string()))?
            }
        };
        let parsed = Arc::new(parsed);
        if let Ok(mut keys) = self.keys.lock() {
            keys.insert(key.id, parsed.clone());
        }
        Ok(parsed)
    }

    /// A JWT with `alg` pinned to the key's algorithm and `kid` naming the key.
    pub fn sign<C: Serialize>(&self, key: &SigningKey, claims: &C) -> Result<String, TokenError> {
        let algorithm = match key.algorithm {
            SigningAlgorithm::HS256 => Algorithm::HS256,
            SigningAlgorithm::RS256 => Algorithm::RS256,
            SigningAlgorithm::ES256 => Algorithm::ES256,
        };
        let mut header = Header::new(algorithm);
        header.kid = Some(key.id.to_string());
        let encoding_key = self.encoding_key(key)?;
        jsonwebtoken::encode(&header, claims, &encoding_key).map_err(|e| TokenError {
            key_id: key.id,
            message: e.to_string(),
        })
    }
}

/// An opaque refresh token: 48 random bytes, base64url (64 characters).
pub fn refresh_token(random: &dyn Random) -> String {
    crate::codes::generate(
        Generator {
            length: 48,
            kind: GeneratorKind::RandomBytes,
        },
        random,
    )
}
