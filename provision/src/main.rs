//! `passwordless-admin`: creates the two tables and loads kickstart files into them.
//!
//! ```text
//! passwordless-admin create-tables        # both tables, TTL on the codes table; idempotent
//! passwordless-admin check FILE           # validate a kickstart file, write nothing
//! passwordless-admin load FILE            # validate, then write; idempotent
//! passwordless-admin register-senders FILE  # local emulator only: SES domain identities for
//!                                         # the file's sender addresses (in AWS, verify them)
//! ```
//! Tables come from `DIRECTORY_TABLE` and `CODES_TABLE`; AWS from the usual `AWS_*` variables.

use std::process::ExitCode;

use passwordless::aws::{self, dynamo::DynamoStore, provision};
use passwordless::config::Config;
use passwordless::kickstart;

const USAGE: &str =
    "usage: passwordless-admin create-tables | check FILE | load FILE | register-senders FILE";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("passwordless-admin: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<String, String> {
    let parse_file = |path: &str| -> Result<kickstart::Kickstart, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        kickstart::parse(&text).map_err(|e| format!("{path}: refused: {e}"))
    };
    match args {
        [command, path] if command == "check" => {
            let k = parse_file(path)?;
            Ok(format!(
                "{path}: valid ({} keys, {} tenants, {} applications, {} API keys, {} users)",
                k.keys.len(),
                k.tenants.len(),
                k.applications.len(),
                k.api_keys.len(),
                k.users.len()
            ))
        }
        [command, path] if command == "load" => {
            let k = parse_file(path)?;
            let store = store().await?;
            let report = provision::load(&store, &k)
                .await
                .map_err(|e| format!("{path}: {e}"))?;
            Ok(format!("{path}: loaded {report:?}"))
        }
        [command, path] if command == "register-senders" => {
            let k = parse_file(path)?;
            let sdk = aws::sdk_config().await;
            // Domain identities, as a production account sets up its SenderIdentity (README,
            // Email): the emulator then authorizes each send on the domain, as AWS does.
            let domains = k.sender_domains();
            aws::ses::register_identities(&aws_sdk_sesv2::Client::new(&sdk), &domains)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!("SES identities registered: {}", domains.join(", ")))
        }
        [command] if command == "create-tables" => {
            let store = store().await?;
            store.create_tables().await.map_err(|e| e.to_string())?;
            Ok(format!(
                "tables ready: {} and {} (TTL on ttl)",
                store.tables().directory,
                store.tables().codes
            ))
        }
        _ => Err(USAGE.to_owned()),
    }
}

async fn store() -> Result<DynamoStore, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let sdk = aws::sdk_config().await;
    Ok(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.tables,
    ))
}
