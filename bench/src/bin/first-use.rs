//! The cost of first use in a fresh process: the first JWT signature (HS256 or ES256, key parsing
//! included, as the service's `Signer` does it on its first login) and the first random draw
//! (a 32-byte code from `passwordless::codes` over `OsRandom`), against the same operation warm.
//!
//! `first-use hs256|es256|code` prints `{"mode", "first_us", "warm_us"}`: run it in a new process
//! each time, since only the first call in a process shows a lazy initialisation.

use std::time::Instant;

use passwordless::codes;
use passwordless::model::{Generator, GeneratorKind, SigningKey};
use passwordless::system::OsRandom;
use passwordless::tokens::Signer;
use serde_json::{json, Value};

const WARM_ROUNDS: usize = 200;

fn key(algorithm: &str) -> SigningKey {
    let value = match algorithm {
        "HS256" => json!({
            "id": "b0000000-0000-4000-8000-0000000000e1",
            "algorithm": "HS256",
            "secret": "c2VjcmV0LWZvci1sb2NhbC1kZXZlbG9wbWVudC1vbmx5LWNoYW5nZS1tZQ=="
        }),
        _ => {
            // Read as data, not through `kickstart::parse`: that parses the key once to check it
            // and would hide the first use.
            let kickstart: Value = serde_json::from_str(bench::KICKSTART).expect("kickstart JSON");
            kickstart["keys"][0].clone()
        }
    };
    serde_json::from_value(value).expect("a signing key")
}

fn micros(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e6
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let claims = json!({"sub": "b0000000-0000-4000-8000-0000000000b1", "iss": "bench.example.com",
                        "exp": 1_900_000_000_i64, "iat": 1_800_000_000_i64});
    let generator = Generator {
        length: 32,
        kind: GeneratorKind::RandomBytes,
    };
    let (first, warm) = match mode.as_str() {
        "hs256" | "es256" => {
            let key = key(&mode.to_ascii_uppercase());
            let signer = Signer::default();
            let t = Instant::now();
            let token = signer.sign(&key, &claims).expect("signs");
            let first = micros(t);
            std::hint::black_box(token);
            let t = Instant::now();
            for _ in 0..WARM_ROUNDS {
                std::hint::black_box(signer.sign(&key, &claims).expect("signs"));
            }
            (first, micros(t) / WARM_ROUNDS as f64)
        }
        "code" => {
            let t = Instant::now();
            let code = codes::generate(generator, &OsRandom);
            let first = micros(t);
            std::hint::black_box(code);
            let t = Instant::now();
            for _ in 0..WARM_ROUNDS {
                std::hint::black_box(codes::generate(generator, &OsRandom));
            }
            (first, micros(t) / WARM_ROUNDS as f64)
        }
        _ => {
            eprintln!("usage: first-use hs256|es256|code");
            std::process::exit(2);
        }
    };
    println!(
        "{}",
        json!({"mode": mode, "first_us": first, "warm_us": warm})
    );
}
