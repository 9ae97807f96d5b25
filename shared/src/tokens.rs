//! Issued tokens: JWTs signed with the tenant's or application's key, and opaque refresh tokens.
//!
//! HS256 keys use the kickstart `secret` base64-decoded; RS256 and ES256 keys their PEM private
//! key. Parsed keys are kept for the life of the container: parsing an RSA key per request would
//! cost more than signing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
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

/// A key ready to sign. jsonwebtoken re-parses an RSA or EC key on every signature (its
/// aws-lc backend builds the key pair per call, ~0.4 ms for P-256), so for those the parsed
/// aws-lc key pair is kept and the JWS is assembled here; HS256 goes through jsonwebtoken.
enum PreparedKey {
    Hmac(EncodingKey),
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

#[derive(Default)]
pub struct Signer {
    keys: Mutex<HashMap<Uuid, Arc<PreparedKey>>>,
}

/// The DER inside a PEM block.
fn pem_der(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("the PEM is not base64: {e}"))
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl PreparedKey {
    /// Parses the key as [`Signer`] will sign with it. Kickstart validation calls this too, so a
    /// key that loads is a key that signs.
    fn parse(key: &SigningKey) -> Result<Self, String> {
        let private_key = || pem_der(key.private_key.as_deref().unwrap_or_default());
        Ok(match key.algorithm {
            SigningAlgorithm::HS256 => {
                let secret = key.secret.as_deref().unwrap_or_default();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(secret)
                    .map_err(|e| e.to_string())?;
                PreparedKey::Hmac(EncodingKey::from_secret(&bytes))
            }
            SigningAlgorithm::RS256 => {
                let der = private_key()?;
                PreparedKey::Rsa(
                    RsaKeyPair::from_pkcs8(&der)
                        .or_else(|_| RsaKeyPair::from_der(&der))
                        .map_err(|e| e.to_string())?,
                )
            }
            SigningAlgorithm::ES256 => PreparedKey::Ecdsa(
                EcdsaKeyPair::from_private_key_der(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &private_key()?,
                )
                .map_err(|e| e.to_string())?,
            ),
        })
    }

    /// The signature of the JWS signing input `input`.
    fn signature(&self, input: &str) -> Result<Vec<u8>, String> {
        let random = SystemRandom::new();
        match self {
            PreparedKey::Hmac(_) => Err("HMAC keys sign through jsonwebtoken".to_owned()),
            PreparedKey::Ecdsa(pair) => pair
                .sign(&random, input.as_bytes())
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| "ECDSA signing failed".to_owned()),
            PreparedKey::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &random, input.as_bytes(), &mut signature)
                    .map(|()| signature)
                    .map_err(|_| "RSA signing failed".to_owned())
            }
        }
    }
}

/// Whether `key` can sign: what [`Signer`] will parse, parsed once.
pub fn check_key(key: &SigningKey) -> Result<(), String> {
    PreparedKey::parse(key).map(drop)
}

impl Signer {
    fn prepared(&self, key: &SigningKey) -> Result<Arc<PreparedKey>, TokenError> {
        if let Some(found) = self.keys.lock().ok().and_then(|k| k.get(&key.id).cloned()) {
            return Ok(found);
        }
        let parsed = Arc::new(PreparedKey::parse(key).map_err(|message| TokenError {
            key_id: key.id,
            message,
        })?);
        if let Ok(mut keys) = self.keys.lock() {
            keys.insert(key.id, parsed.clone());
        }
        Ok(parsed)
    }

    /// A JWT with `alg` pinned to the key's algorithm and `kid` naming the key.
    pub fn sign<C: Serialize>(&self, key: &SigningKey, claims: &C) -> Result<String, TokenError> {
        let fail = |message: String| TokenError {
            key_id: key.id,
            message,
        };
        let algorithm = match key.algorithm {
            SigningAlgorithm::HS256 => Algorithm::HS256,
            SigningAlgorithm::RS256 => Algorithm::RS256,
            SigningAlgorithm::ES256 => Algorithm::ES256,
        };
        let mut header = Header::new(algorithm);
        header.kid = Some(key.id.to_string());
        let prepared = self.prepared(key)?;
        if let PreparedKey::Hmac(secret) = prepared.as_ref() {
            return jsonwebtoken::encode(&header, claims, secret).map_err(|e| fail(e.to_string()));
        }
        let header = serde_json::to_vec(&header).map_err(|e| fail(e.to_string()))?;
        let claims = serde_json::to_vec(claims).map_err(|e| fail(e.to_string()))?;
        let input = format!("{}.{}", b64url(&header), b64url(&claims));
        let signature = prepared.signature(&input).map_err(fail)?;
        Ok(format!("{input}.{}", b64url(&signature)))
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
