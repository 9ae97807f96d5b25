//! JWTs: signed with the tenant's or application's key, verified with the key their `kid` names
//! (and only with that key's algorithm), and the public half of each key as a JWK and a PEM.
//!
//! HMAC keys (HS256, HS384, HS512) use the kickstart `secret` base64-decoded; RS256 and ES256 keys their PEM private
//! key. Parsed keys are kept for the life of the container (parsing an RSA key per request would
//! cost more than signing), each with the fingerprint of the material it was parsed from: a key
//! replaced under the same id (an operator reloading a kickstart) is parsed again at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use jsonwebtoken::{Algorithm, Header};
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::model::{PublicKey, SigningAlgorithm, SigningKey};

#[derive(Debug, thiserror::Error)]
#[error("signing key {key_id}: {message}")]
pub struct TokenError {
    pub key_id: Uuid,
    pub message: String,
}

/// A key ready to sign: parsing an RSA or EC key costs more than a signature (jsonwebtoken's
/// `encode` re-parses it on every call), so the parsed key is kept and the JWS assembled here.
enum PreparedKey {
    Hmac(hmac::Key),
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

/// A parsed key with its JOSE header (`alg` and `kid`), base64url-encoded once: neither changes
/// from one token to the next.
struct Prepared {
    header: String,
    key: PreparedKey,
}

/// What a prepared key was made from, hashed (SHA-256): its algorithm, secret and private key, and
/// the `kid` its header carries.
type Fingerprint = [u8; 32];

fn fingerprint(key: &SigningKey) -> Fingerprint {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let part = |context: &mut ring::digest::Context, value: &[u8]| {
        // Length-prefixed, so that no two different keys hash alike.
        context.update(&(value.len() as u64).to_be_bytes());
        context.update(value);
    };
    part(&mut context, format!("{:?}", key.algorithm).as_bytes());
    part(
        &mut context,
        key.secret.as_deref().unwrap_or_default().as_bytes(),
    );
    part(
        &mut context,
        key.private_key.as_deref().unwrap_or_default().as_bytes(),
    );
    part(&mut context, key.kid().as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

/// Parsed keys by id, each with the fingerprint of its material: one slot per id, replaced when
/// the material changes.
#[derive(Default)]
pub struct Signer {
    keys: Mutex<HashMap<Uuid, (Fingerprint, Arc<Prepared>)>>,
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

/// A DER tag-length-value.
fn der(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = value.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

/// An SEC1 `EC PRIVATE KEY` (RFC 5915, what `openssl ecparam -genkey` writes) on P-256, wrapped
/// as the PKCS#8 `PRIVATE KEY` (RFC 5208) that ring reads.
fn p256_sec1_as_pkcs8(sec1: &[u8]) -> Vec<u8> {
    const VERSION_0: &[u8] = &[0x02, 0x01, 0x00];
    // SEQUENCE { id-ecPublicKey, prime256v1 }
    const ALGORITHM: &[u8] = &[
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    let mut content = [VERSION_0, ALGORITHM].concat();
    content.extend(der(0x04, sec1));
    der(0x30, &content)
}

impl PreparedKey {
    /// Parses the key as [`Signer`] will sign with it. Kickstart validation calls this too, so a
    /// key that loads is a key that signs.
    fn parse(key: &SigningKey) -> Result<Self, String> {
        let private_key = || pem_der(key.private_key.as_deref().unwrap_or_default());
        Ok(match key.algorithm {
            SigningAlgorithm::HS256 | SigningAlgorithm::HS384 | SigningAlgorithm::HS512 => {
                let secret = key.secret.as_deref().unwrap_or_default();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(secret)
                    .map_err(|e| e.to_string())?;
                let algorithm = match key.algorithm {
                    SigningAlgorithm::HS384 => hmac::HMAC_SHA384,
                    SigningAlgorithm::HS512 => hmac::HMAC_SHA512,
                    _ => hmac::HMAC_SHA256,
                };
                PreparedKey::Hmac(hmac::Key::new(algorithm, &bytes))
            }
            SigningAlgorithm::RS256 => {
                let der = private_key()?;
                PreparedKey::Rsa(
                    RsaKeyPair::from_pkcs8(&der)
                        .or_else(|_| RsaKeyPair::from_der(&der))
                        .map_err(|e| format!("not an RSA private key (PKCS#8 or PKCS#1): {e}"))?,
                )
            }
            SigningAlgorithm::ES256 => {
                let der = private_key()?;
                let random = SystemRandom::new();
                let parse = |pkcs8: &[u8]| {
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &random)
                };
                PreparedKey::Ecdsa(
                    parse(&der)
                        .or_else(|_| parse(&p256_sec1_as_pkcs8(&der)))
                        .map_err(|e| {
                            format!(
                                "not a P-256 private key with its public key (PKCS#8 or SEC1): {e}"
                            )
                        })?,
                )
            }
        })
    }

    /// The signature of the JWS signing input `input`.
    fn signature(&self, input: &str) -> Result<Vec<u8>, String> {
        let random = SystemRandom::new();
        match self {
            PreparedKey::Hmac(key) => Ok(hmac::sign(key, input.as_bytes()).as_ref().to_vec()),
            PreparedKey::Ecdsa(pair) => pair
                .sign(&random, input.as_bytes())
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| "ECDSA signing failed".to_owned()),
            PreparedKey::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &random, input.as_bytes(), &mut signature)
                    .map(|()| signature)
                    .map_err(|_| "RSA signing failed".to_owned())
            }
        }
    }
}

impl PreparedKey {
    /// Whether `signature` is this key's signature of `input`: HMAC compared in constant time,
    /// RSA and ECDSA checked with the key's public half.
    fn verifies(&self, input: &str, signature: &[u8]) -> bool {
        match self {
            PreparedKey::Hmac(key) => hmac::verify(key, input.as_bytes(), signature).is_ok(),
            PreparedKey::Rsa(pair) => {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public().as_ref())
                    .verify(input.as_bytes(), signature)
                    .is_ok()
            }
            PreparedKey::Ecdsa(pair) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref())
                    .verify(input.as_bytes(), signature)
                    .is_ok()
            }
        }
    }
}

/// The public half of an RS256 or ES256 key, as a JWK and an SPKI PEM; `None` for HS256, whose
/// secret has no public half and is never published.
pub fn public_key(key: &SigningKey) -> Result<Option<PublicKey>, String> {
    const RSA_ENCRYPTION: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    const EC_P256: &[u8] = &[
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    let mut jwk = Map::new();
    let (algorithm_id, public_bits) = match PreparedKey::parse(key)? {
        PreparedKey::Hmac(_) => return Ok(None),
        PreparedKey::Rsa(pair) => {
            let components = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
            jwk.insert("kty".into(), "RSA".into());
            jwk.insert("n".into(), b64url(&components.n).into());
            jwk.insert("e".into(), b64url(&components.e).into());
            (RSA_ENCRYPTION, pair.public().as_ref().to_vec())
        }
        PreparedKey::Ecdsa(pair) => {
            // An uncompressed point: 0x04, then x and y of 32 bytes each.
            let point = pair.public_key().as_ref();
            jwk.insert("kty".into(), "EC".into());
            jwk.insert("crv".into(), "P-256".into());
            jwk.insert("x".into(), b64url(&point[1..33]).into());
            jwk.insert("y".into(), b64url(&point[33..65]).into());
            (EC_P256, point.to_vec())
        }
    };
    let algorithm = format!("{:?}", key.algorithm);
    jwk.insert("alg".into(), algorithm.into());
    jwk.insert("use".into(), "sig".into());
    jwk.insert("kid".into(), key.kid().into());
    let mut bit_string = vec![0u8];
    bit_string.extend(public_bits);
    let spki = der(0x30, &[algorithm_id, &der(0x03, &bit_string)].concat());
    let body = base64::engine::general_purpose::STANDARD.encode(spki);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|line| std::str::from_utf8(line).ok())
        .collect();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
        lines.join("\n")
    );
    Ok(Some(PublicKey {
        id: key.id,
        algorithm: key.algorithm,
        pem,
        jwk,
    }))
}

/// Why a presented JWT is not valid. Callers answer every one alike (401).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidJwt {
    #[error("the token is not a JWS in compact form")]
    Malformed,
    #[error("the token names no key of ours")]
    UnknownKey,
    #[error("the token's alg is not its key's algorithm")]
    WrongAlgorithm,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the token has expired or is not valid yet")]
    OutsideLifetime,
}

/// The `kid` of a compact JWS, read without trusting anything else in it.
pub fn key_id(token: &str) -> Result<String, InvalidJwt> {
    let header = header(token)?;
    header
        .get("kid")
        .and_then(Value::as_str)
        .filter(|kid| !kid.is_empty())
        .map(str::to_owned)
        .ok_or(InvalidJwt::UnknownKey)
}

/// Where the key a JWT's `kid` names is stored: under its `id` when the `kid` is one, under
/// [`crate::model::kid_alias`] when the key has a `kid` of its own.
pub fn key_lookups(kid: &str) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = Uuid::parse_str(kid).ok().into_iter().collect();
    ids.push(crate::model::kid_alias(kid));
    ids
}

/// The claims of a compact JWS, read without verifying anything: only to choose the key that
/// then verifies it (an HMAC id token's `aud` names the client whose secret signed it).
pub fn unverified_claims(token: &str) -> Result<Map<String, Value>, InvalidJwt> {
    let encoded = token.split('.').nth(1).ok_or(InvalidJwt::Malformed)?;
    decode_json(encoded)
}

fn header(token: &str) -> Result<Map<String, Value>, InvalidJwt> {
    let encoded = token.split('.').next().ok_or(InvalidJwt::Malformed)?;
    decode_json(encoded)
}

fn decode_json(encoded: &str) -> Result<Map<String, Value>, InvalidJwt> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| InvalidJwt::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(InvalidJwt::Malformed),
    }
}

/// Whether `key` can sign: what [`Signer`] will parse, parsed once.
pub fn check_key(key: &SigningKey) -> Result<(), String> {
    PreparedKey::parse(key).map(drop)
}

impl Signer {
    fn prepared(&self, key: &SigningKey) -> Result<Arc<Prepared>, TokenError> {
        let material = fingerprint(key);
        let cached = self.keys.lock().ok().and_then(|keys| {
            keys.get(&key.id)
                .filter(|(parsed_from, _)| *parsed_from == material)
                .map(|(_, prepared)| prepared.clone())
        });
        if let Some(found) = cached {
            return Ok(found);
        }
        let fail = |message: String| TokenError {
            key_id: key.id,
            message,
        };
        let algorithm = match key.algorithm {
            SigningAlgorithm::HS256 => Algorithm::HS256,
            SigningAlgorithm::HS384 => Algorithm::HS384,
            SigningAlgorithm::HS512 => Algorithm::HS512,
            SigningAlgorithm::RS256 => Algorithm::RS256,
            SigningAlgorithm::ES256 => Algorithm::ES256,
        };
        let mut header = Header::new(algorithm);
        header.kid = Some(key.kid());
        let header = serde_json::to_vec(&header).map_err(|e| fail(e.to_string()))?;
        let parsed = Arc::new(Prepared {
            header: b64url(&header),
            key: PreparedKey::parse(key).map_err(fail)?,
        });
        if let Ok(mut keys) = self.keys.lock() {
            keys.insert(key.id, (material, parsed.clone()));
        }
        Ok(parsed)
    }

    /// A JWT with `alg` pinned to the key's algorithm and `kid` naming the key.
    pub fn sign<C: Serialize>(&self, key: &SigningKey, claims: &C) -> Result<String, TokenError> {
        let fail = |message: String| TokenError {
            key_id: key.id,
            message,
        };
        let prepared = self.prepared(key)?;
        let claims = serde_json::to_vec(claims).map_err(|e| fail(e.to_string()))?;
        let input = format!("{}.{}", prepared.header, b64url(&claims));
        let signature = prepared.key.signature(&input).map_err(fail)?;
        Ok(format!("{input}.{}", b64url(&signature)))
    }

    /// The claims of `token` when `key` signed it with its own algorithm (the header's `alg` must
    /// be the key's: it is checked, never obeyed) and `now_seconds` is within its `nbf` and `exp`.
    pub fn verify(
        &self,
        key: &SigningKey,
        token: &str,
        now_seconds: i64,
    ) -> Result<Map<String, Value>, InvalidJwt> {
        let claims = self.verify_signature(key, token)?;
        let number = |name: &str| claims.get(name).and_then(Value::as_i64);
        let expired = number("exp").is_none_or(|exp| exp <= now_seconds);
        let early = number("nbf").is_some_and(|nbf| nbf > now_seconds);
        if expired || early {
            return Err(InvalidJwt::OutsideLifetime);
        }
        Ok(claims)
    }

    /// The claims of `token` when `key` signed it with its own algorithm, whatever its lifetime:
    /// for a logout's `id_token_hint`, which may have expired (FusionAuth accepts those it
    /// signed).
    pub fn verify_signature(
        &self,
        key: &SigningKey,
        token: &str,
    ) -> Result<Map<String, Value>, InvalidJwt> {
        let mut parts = token.split('.');
        let (Some(header_part), Some(claims_part), Some(signature_part), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(InvalidJwt::Malformed);
        };
        let header = decode_json(header_part)?;
        let expected = format!("{:?}", key.algorithm);
        if header.get("alg").and_then(Value::as_str) != Some(expected.as_str()) {
            return Err(InvalidJwt::WrongAlgorithm);
        }
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature_part)
            .map_err(|_| InvalidJwt::Malformed)?;
        let prepared = self.prepared(key).map_err(|_| InvalidJwt::UnknownKey)?;
        let input = &token[..header_part.len() + 1 + claims_part.len()];
        if !prepared.key.verifies(input, &signature) {
            return Err(InvalidJwt::BadSignature);
        }
        decode_json(claims_part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    /// One throwaway P-256 key (`openssl ecparam -genkey`), in both encodings, and its public key.
    const P256_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIB1P8p3wF5Wl4lcmrFtJXg3YZhty15pmBX9au4NrLXR8oAoGCCqGSM49
AwEHoUQDQgAEEIWkqy0na/iYSKyJagSpr8CK6W1XpOvVh/nu3lXSZhicu+1qsfOn
quNCzC0YKfFqn7kD5JpbuWoqZIk/3VMIdA==
-----END EC PRIVATE KEY-----";
    const P256_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHU/ynfAXlaXiVyas
W0leDdhmG3LXmmYFf1q7g2stdHyhRANCAAQQhaSrLSdr+JhIrIlqBKmvwIrpbVek
69WH+e7eVdJmGJy77Wqx86eq40LMLRgp8WqfuQPkmlu5aipkiT/dUwh0
-----END PRIVATE KEY-----";
    const P256_PUBLIC: &str =
        "BBCFpKstJ2v4mEisiWoEqa/AiultV6Tr1Yf57t5V0mYYnLvtarHzp6rjQswtGCnxap+5A+SaW7lqKmSJP91TCHQ=";
    const P384_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDB7ZfFiGp+KV3B8XqJM67l4DWU2bx6Fq32lLbV5B+uRVCEsw/dI1IvJ
GnI/JTUnu9+gBwYFK4EEACKhZANiAAQkgWWNNbTC8XW7NoMW/ZCE7MWEuZwboOyp
wYZfZ7MtIKYjfEAQ+nsv/XWkP5PKwQUgNerI+7bO9Qg51EzoUJjzbEO5SIp099H/
Vmns2QwsQu6rFMUWyl05RSUVpEMXCgA=
-----END EC PRIVATE KEY-----";

    fn es256(private_key: &str) -> SigningKey {
        SigningKey {
            id: Uuid::from_u128(256),
            algorithm: SigningAlgorithm::ES256,
            name: "test".to_owned(),
            secret: None,
            public_key: None,
            private_key: Some(private_key.to_owned()),
            kid: None,
        }
    }

    fn verifies(token: &str, public_key: &[u8]) -> bool {
        let (input, signature) = token.rsplit_once('.').expect("a JWS");
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .expect("base64url");
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
            .verify(input.as_bytes(), &signature)
            .is_ok()
    }

    #[test]
    fn an_es256_key_signs_whether_its_pem_is_pkcs8_or_sec1() {
        let public = base64::engine::general_purpose::STANDARD
            .decode(P256_PUBLIC)
            .expect("base64");
        for pem in [P256_PKCS8, P256_SEC1] {
            let key = es256(pem);
            match PreparedKey::parse(&key) {
                Ok(PreparedKey::Ecdsa(pair)) => assert_eq!(pair.public_key().as_ref(), public),
                _ => panic!("the P-256 key did not parse as an ECDSA key"),
            }
            let token = Signer::default()
                .sign(&key, &serde_json::json!({"sub": "someone"}))
                .expect("signed");
            assert!(verifies(&token, &public), "{token}");
        }
    }

    #[test]
    fn an_es256_key_in_sec1_on_another_curve_is_refused() {
        let refused = check_key(&es256(P384_SEC1)).unwrap_err();
        assert!(refused.contains("P-256"), "{refused}");
    }

    #[test]
    fn a_key_replaced_under_its_id_signs_with_its_new_material_at_once() {
        let hs256 = |secret: &[u8]| SigningKey {
            algorithm: SigningAlgorithm::HS256,
            secret: Some(base64::engine::general_purpose::STANDARD.encode(secret)),
            private_key: None,
            ..es256("")
        };
        let signer = Signer::default();
        let claims = serde_json::json!({"sub": "someone", "exp": 4_000_000_000i64});
        let old = hs256(b"the old secret of thirty-two byte");
        let new = hs256(b"the new secret of thirty-two byte");
        let first = signer.sign(&old, &claims).expect("signed");
        let second = signer.sign(&new, &claims).expect("signed");
        assert!(signer.verify(&new, &second, 0).is_ok());
        assert_eq!(
            signer.verify(&new, &first, 0),
            Err(InvalidJwt::BadSignature),
            "the old material verifies nothing once replaced"
        );
        assert_eq!(
            signer.verify(&old, &second, 0),
            Err(InvalidJwt::BadSignature)
        );
    }

    #[test]
    fn a_key_given_a_new_kid_under_its_id_signs_with_the_new_kid_at_once() {
        let signer = Signer::default();
        let claims = serde_json::json!({"sub": "someone"});
        let key = es256(P256_PKCS8);
        signer.sign(&key, &claims).expect("signed");
        let renamed = SigningKey {
            kid: Some("a-kid-of-its-own".to_owned()),
            ..key
        };
        let token = signer.sign(&renamed, &claims).expect("signed");
        assert_eq!(key_id(&token).as_deref(), Ok("a-kid-of-its-own"));
    }

    #[test]
    fn hs384_and_hs512_keys_sign_with_their_own_hash_and_verify_only_with_their_algorithm() {
        for (algorithm, ring_algorithm, alg) in [
            (SigningAlgorithm::HS384, hmac::HMAC_SHA384, "HS384"),
            (SigningAlgorithm::HS512, hmac::HMAC_SHA512, "HS512"),
        ] {
            let secret = [9u8; 64];
            let key = SigningKey {
                algorithm,
                secret: Some(base64::engine::general_purpose::STANDARD.encode(secret)),
                private_key: None,
                ..es256("")
            };
            let signer = Signer::default();
            let claims = serde_json::json!({"sub": "someone", "exp": 4_000_000_000i64});
            let token = signer.sign(&key, &claims).expect("signed");
            let (input, signature) = token.rsplit_once('.').expect("a JWS");
            let expected = hmac::sign(&hmac::Key::new(ring_algorithm, &secret), input.as_bytes());
            assert_eq!(signature, b64url(expected.as_ref()), "{alg}");
            assert!(signer.verify(&key, &token, 0).is_ok(), "{alg}");
            let as_hs256 = SigningKey {
                algorithm: SigningAlgorithm::HS256,
                ..key.clone()
            };
            assert_eq!(
                signer.verify(&as_hs256, &token, 0),
                Err(InvalidJwt::WrongAlgorithm),
                "{alg}"
            );
        }
    }

    #[test]
    fn an_hs256_token_is_the_hmac_of_its_signing_input() {
        let secret = b"a secret of thirty-two bytes....";
        let key = SigningKey {
            algorithm: SigningAlgorithm::HS256,
            secret: Some(base64::engine::general_purpose::STANDARD.encode(secret)),
            private_key: None,
            ..es256("")
        };
        let token = Signer::default()
            .sign(&key, &serde_json::json!({"sub": "someone"}))
            .expect("signed");
        let (input, signature) = token.rsplit_once('.').expect("a JWS");
        let expected = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
        assert_eq!(signature, b64url(expected.as_ref()));
        let header = input.split('.').next().expect("a header");
        let header: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(header)
                .expect("base64url"),
        )
        .expect("JSON");
        assert_eq!(header["alg"], "HS256");
        assert_eq!(header["kid"], Uuid::from_u128(256).to_string());
    }
}
