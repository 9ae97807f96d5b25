//! A Lambda Runtime API on a free loopback port, for poking at a bootstrap by hand:
//!
//! ```sh
//! runtime-emulator events/start-email.json [more events…]
//! # prints AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT; run the bootstrap with it (and the
//! # AWS_LAMBDA_FUNCTION_* variables); each response is printed, then the emulator exits.
//! ```

use std::time::Duration;

use bench::emulator::{Emulator, Outcome};

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: runtime-emulator EVENT.json [EVENT.json…]");
        std::process::exit(2);
    }
    let emulator = Emulator::start("emulated").expect("a loopback port");
    println!("AWS_LAMBDA_RUNTIME_API={}", emulator.runtime_api());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let event: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        emulator.enqueue(&event);
        match emulator.outcome(Duration::from_secs(600)) {
            Ok(Outcome::Response(inv)) => println!(
                "{file}: {:.2} ms: {}",
                inv.millis(),
                String::from_utf8_lossy(&inv.body)
            ),
            Ok(Outcome::Error(inv)) => {
                println!("{file}: error: {}", String::from_utf8_lossy(&inv.body))
            }
            Ok(Outcome::InitError { body }) => {
                println!("init error: {}", String::from_utf8_lossy(&body));
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("{file}: {e}");
                std::process::exit(1);
            }
        }
    }
}
