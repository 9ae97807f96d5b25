//! Secrets: how codes are drawn from the OS CSPRNG and how they are hashed for storage.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::model::{Generator, GeneratorKind};
#[cfg(test)]
use crate::system::OsRandom;
use crate::system::Random;

const DIGITS: &[u8] = b"0123456789";
const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Draws a secret as `generator` says: `randomBytes` gives `length` bytes as base64url (32 bytes
/// → 43 characters), the others give `length` characters, each uniform over its alphabet.
pub fn generate(generator: Generator, random: &dyn Random) -> String {
    let length = generator.length as usize;
    match generator.kind {
        GeneratorKind::RandomBytes => {
            let mut bytes = vec![0u8; length];
            random.fill(&mut bytes);
            URL_SAFE_NO_PAD.encode(bytes)
        }
        GeneratorKind::RandomDigits => from_alphabet(DIGITS, length, random),
        GeneratorKind::RandomAlpha => from_alphabet(ALPHA, length, random),
        GeneratorKind::RandomAlphaNumeric => from_alphabet(ALPHANUMERIC, length, random),
    }
}

/// Rejection sampling: bytes at or above the largest multiple of the alphabet's size are drawn
/// again, so that no character is likelier than another.
fn from_alphabet(alphabet: &[u8], length: usize, random: &dyn Random) -> String {
    let size = alphabet.len();
    let limit = 256 - 256 % size;
    let mut out = String::with_capacity(length);
    let mut buf = [0u8; 64];
    while out.len() < length {
        random.fill(&mut buf);
        for &b in &buf {
            if (b as usize) < limit && out.len() < length {
                out.push(alphabet[b as usize % size] as char);
            }
        }
    }
    out
}

/// An opaque, unguessable id handed to a client (two-factor id, change-password id): 32 random
/// bytes, base64url.
pub fn generate_id(random: &dyn Random) -> String {
    generate(
        Generator {
            length: 32,
            kind: GeneratorKind::RandomBytes,
        },
        random,
    )
}

/// Whether two hashes are equal, in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// The storage key of a secret: SHA-256, hex. Codes carry 256 bits of entropy, so a plain hash
/// is enough; nobody can enumerate them.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A one-time code is hashed together with its code: six digits alone would fall to a
/// dictionary of a million hashes.
pub fn hash_one_time_code(code: &str, one_time_code: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(code.as_bytes());
    hasher.update(b"\0");
    hasher.update(one_time_code.as_bytes());
    hex(&hasher.finalize())
}

/// A one-time code entered without its code (the fallback of a mangled link) is hashed with the
/// code's hash, which is all the landing page can find from a login id, and with the hash of the
/// address the message went to ([`crate::suppression::address_hash`]): send records it only once
/// it has emailed a link's message, so the fallback takes only a code that was mailed, and only
/// with the address it was mailed to. Whoever reads the table can also read the code's hash, so
/// this binding only keeps one code's (or address's) one-time code from matching another.
pub fn hash_fallback_code(code_hash: &str, address_hash: &str, one_time_code: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"passwordless fallback\0");
    hasher.update(code_hash.as_bytes());
    hasher.update(b"\0");
    hasher.update(address_hash.as_bytes());
    hasher.update(b"\0");
    hasher.update(one_time_code.as_bytes());
    hex(&hasher.finalize())
}

/// Encrypts a one-time code (at most 32 bytes) under a key derived from its code. The code is
/// never stored, so the sealed form is as opaque as a hash to anyone who reads the table, while
/// send, which is given the code, can recover the one-time code to deliver it.
pub fn seal_one_time_code(code: &str, one_time_code: &str) -> String {
    let key = seal_key(code);
    let sealed: Vec<u8> = one_time_code
        .bytes()
        .zip(key.iter().cycle())
        .map(|(b, k)| b ^ k)
        .collect();
    hex(&sealed)
}

pub fn unseal_one_time_code(code: &str, sealed: &str) -> Option<String> {
    if !sealed.len().is_multiple_of(2) || sealed.len() > 64 {
        return None;
    }
    let key = seal_key(code);
    let bytes: Option<Vec<u8>> = (0..sealed.len())
        .step_by(2)
        .zip(key.iter())
        .map(|(i, k)| {
            u8::from_str_radix(sealed.get(i..i + 2)?, 16)
                .ok()
                .map(|b| b ^ k)
        })
        .collect();
    String::from_utf8(bytes?).ok()
}

fn seal_key(code: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"passwordless one-time code seal\0");
    hasher.update(code.as_bytes());
    hasher.finalize().into()
}

/// Encrypts `plaintext` (AES-256-GCM, a random nonce) under a key derived from `secret` for
/// `purpose`. The secret is a 256-bit code that is never stored, so what is stored beside its hash
/// reveals nothing to whoever reads the table, while whoever presents the code can open it.
/// base64url of nonce, ciphertext and tag; `None` only if the cipher refuses (it does not).
pub fn seal(secret: &str, purpose: &str, plaintext: &[u8], random: &dyn Random) -> Option<String> {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &derived_key(secret, purpose)).ok()?);
    let mut nonce = [0u8; NONCE_LEN];
    random.fill(&mut nonce);
    let mut buffer = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(purpose.as_bytes()),
        &mut buffer,
    )
    .ok()?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buffer);
    Some(URL_SAFE_NO_PAD.encode(out))
}

/// What [`seal`] sealed under the same secret and purpose; `None` for anything else.
pub fn unseal(secret: &str, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &derived_key(secret, purpose)).ok()?);
    let mut buffer = ciphertext.to_vec();
    let plain = key
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).ok()?,
            Aad::from(purpose.as_bytes()),
            &mut buffer,
        )
        .ok()?;
    Some(plain.to_vec())
}

fn derived_key(secret: &str, purpose: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"passwordless seal\0");
    hasher.update(purpose.as_bytes());
    hasher.update(b"\0");
    hasher.update(secret.as_bytes());
    hasher.finalize().into()
}

/// The PKCE S256 challenge of a verifier (RFC 7636 4.2): base64url of its SHA-256.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn gen(kind: GeneratorKind, length: u32) -> String {
        generate(Generator { length, kind }, &OsRandom)
    }

    #[test]
    fn a_32_byte_code_is_43_base64url_characters() {
        for _ in 0..100 {
            let code = gen(GeneratorKind::RandomBytes, 32);
            assert_eq!(code.len(), 43);
            assert!(code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }

    #[test]
    fn ten_thousand_codes_have_no_duplicate() {
        let codes: HashSet<String> = (0..10_000)
            .map(|_| gen(GeneratorKind::RandomBytes, 32))
            .collect();
        assert_eq!(codes.len(), 10_000);
    }

    #[test]
    fn one_time_codes_have_the_exact_length_and_use_every_digit_evenly() {
        let mut counts = [0u32; 10];
        let samples = 20_000;
        for _ in 0..samples {
            let otc = gen(GeneratorKind::RandomDigits, 6);
            assert_eq!(otc.len(), 6);
            for b in otc.bytes() {
                counts[(b - b'0') as usize] += 1;
            }
        }
        // Chi-square with 9 degrees of freedom: 27.88 is the 0.1% critical value.
        let expected = (samples * 6) as f64 / 10.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(counts.iter().all(|&c| c > 0), "{counts:?}");
        assert!(chi2 < 27.88, "chi-square {chi2} for {counts:?}");
    }

    #[test]
    fn alphabetic_generators_stay_in_their_alphabet() {
        let alpha = gen(GeneratorKind::RandomAlpha, 40);
        assert_eq!(alpha.len(), 40);
        assert!(alpha.bytes().all(|b| b.is_ascii_uppercase()));
        let alnum = gen(GeneratorKind::RandomAlphaNumeric, 40);
        assert!(alnum
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    }

    #[test]
    fn sealed_tokens_open_only_with_their_code_and_purpose() {
        let sealed = seal("the-code", "tokens", b"{\"access_token\":\"x\"}", &OsRandom).unwrap();
        assert!(!sealed.contains("access_token"));
        assert_eq!(
            unseal("the-code", "tokens", &sealed).as_deref(),
            Some(&b"{\"access_token\":\"x\"}"[..])
        );
        assert_eq!(unseal("the-cod3", "tokens", &sealed), None);
        assert_eq!(unseal("the-code", "other", &sealed), None);
        assert_eq!(unseal("the-code", "tokens", "%%%"), None);
        assert_eq!(unseal("the-code", "tokens", ""), None);
    }

    #[test]
    fn the_s256_challenge_is_base64url_of_the_verifiers_sha256() {
        // Computed independently (Python's hashlib and base64).
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gKpPIqc8M"),
            "j4LLr6CfYkg_GJdeZ0xOUBMAghnlLVlC0i2npY8YAvw"
        );
    }

    #[test]
    fn a_sealed_one_time_code_opens_only_with_its_code() {
        let sealed = seal_one_time_code("the-code", "123456");
        assert!(!sealed.contains("123456"));
        assert_eq!(
            unseal_one_time_code("the-code", &sealed).as_deref(),
            Some("123456")
        );
        assert_ne!(
            unseal_one_time_code("another-code", &sealed).as_deref(),
            Some("123456")
        );
    }

    #[test]
    fn hashes_hide_the_secret_and_bind_the_one_time_code_to_its_code() {
        let h = hash_secret("abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(
            hash_one_time_code("code-a", "123456"),
            hash_one_time_code("code-b", "123456")
        );
    }
}

/// The generators' statistical properties (issue 7, property 7): large samples, fast checks.
#[cfg(test)]
mod generator_statistics {
    use super::*;
    use std::collections::HashSet;

    /// Pearson's chi-square statistic of `counts` against a uniform distribution.
    fn chi_square(counts: &[u64]) -> f64 {
        let total: u64 = counts.iter().sum();
        let expected = total as f64 / counts.len() as f64;
        counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum()
    }

    /// The chi-square critical value for 9 degrees of freedom (ten digits) at a significance of
    /// 10⁻⁶: a fair generator exceeds it once in a million runs per position, so the six
    /// positions together give a false alarm about once in 170,000 runs of the suite. The sample
    /// (200,000 codes) is large enough for the test to have teeth: the classic bug, `byte % 10`
    /// without rejection (digits 0–5 drawn with probability 26/256, 6–9 with 25/256), adds a
    /// non-centrality of about 73 per position (mean statistic about 82) and about 440 over all
    /// positions, far beyond 44.81.
    const CHI2_9_DOF_P_1E6: f64 = 44.81;

    /// Counts per position and digit over `samples` one-time codes from `draw`.
    fn digit_counts(samples: usize, mut draw: impl FnMut() -> String) -> [[u64; 10]; 6] {
        let mut counts = [[0u64; 10]; 6];
        for _ in 0..samples {
            let otc = draw();
            assert_eq!(otc.len(), 6, "{otc:?}");
            for (position, b) in otc.bytes().enumerate() {
                assert!(b.is_ascii_digit(), "{otc:?}");
                counts[position][(b - b'0') as usize] += 1;
            }
        }
        counts
    }

    #[test]
    fn two_hundred_thousand_one_time_codes_have_six_digits_each_uniform_in_every_position() {
        let default = crate::model::ExternalIdentifierConfiguration::default()
            .passwordless_login_one_time_code_generator;
        let counts = digit_counts(200_000, || generate(default, &OsRandom));
        for (position, digits) in counts.iter().enumerate() {
            let chi2 = chi_square(digits);
            assert!(
                chi2 < CHI2_9_DOF_P_1E6,
                "position {position}: chi-square {chi2:.2} ≥ {CHI2_9_DOF_P_1E6} for {digits:?}"
            );
        }
    }

    #[test]
    fn the_uniformity_check_catches_the_modulo_bias_of_a_generator_without_rejection() {
        // What the check is for: the same statistic over a `byte % 10` generator fails.
        let biased = || {
            let mut bytes = [0u8; 6];
            OsRandom.fill(&mut bytes);
            bytes.iter().map(|b| char::from(b'0' + b % 10)).collect()
        };
        let counts = digit_counts(200_000, biased);
        let mut all = [0u64; 10];
        for digits in &counts {
            for (d, c) in digits.iter().enumerate() {
                all[d] += c;
            }
        }
        let chi2 = chi_square(&all);
        assert!(chi2 > CHI2_9_DOF_P_1E6, "chi-square {chi2:.2} for {all:?}");
    }

    #[test]
    fn ten_thousand_codes_are_distinct_43_character_base64url_strings_of_32_random_bytes() {
        let default =
            crate::model::ExternalIdentifierConfiguration::default().passwordless_login_generator;
        let mut seen = HashSet::new();
        let mut ones_per_bit = [0u32; 256];
        for _ in 0..10_000 {
            let code = generate(default, &OsRandom);
            assert_eq!(code.len(), 43, "{code:?}");
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{code:?} is not base64url"
            );
            let bytes = URL_SAFE_NO_PAD.decode(&code).expect("base64url decodes");
            assert_eq!(bytes.len(), 32);
            for (i, byte) in bytes.iter().enumerate() {
                for bit in 0..8 {
                    ones_per_bit[i * 8 + bit] += u32::from(byte >> bit & 1);
                }
            }
            assert!(seen.insert(code), "a duplicate code");
        }
        // Every one of the 256 bits is set in about half the codes: Binomial(10,000, ½) has a
        // standard deviation of 50, and 6 of them (±300) is passed by a fair source with
        // probability 1 − 256 × 2·10⁻⁹. A stuck or short source (a zeroed buffer, 16 bytes
        // padded out) fails at once.
        for (bit, ones) in ones_per_bit.iter().enumerate() {
            assert!((4_700..=5_300).contains(ones), "bit {bit}: {ones} ones");
        }
    }

    /// Records what the source handed out.
    #[derive(Default)]
    struct Recording(std::sync::Mutex<Vec<u8>>);

    impl Random for Recording {
        fn fill(&self, buf: &mut [u8]) {
            OsRandom.fill(buf);
            self.0.lock().unwrap().extend_from_slice(buf);
        }
    }

    #[test]
    fn a_code_is_exactly_the_bytes_the_random_source_gave_and_the_source_is_the_os_csprng() {
        let recording = Recording::default();
        let default =
            crate::model::ExternalIdentifierConfiguration::default().passwordless_login_generator;
        let code = generate(default, &recording);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&code).unwrap(),
            *recording.0.lock().unwrap(),
            "the code holds the source's bytes, all of them, and nothing else"
        );
        // `OsRandom` is getrandom: two draws of 32 bytes never agree, and never are all zero.
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        OsRandom.fill(&mut a);
        OsRandom.fill(&mut b);
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
    }
}
