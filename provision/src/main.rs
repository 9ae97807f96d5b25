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
//! `check` and `load` also need the stack's SES identities (template.yaml's `SenderIdentities`),
//! from `--sender-identities a.com,b@c.com` or else `SENDER_IDENTITIES`: every sender of the file
//! must belong to one of them, and without the list nothing is checked or loaded.

use std::process::ExitCode;

use passwordless::aws::{self, dynamo::DynamoStore, provision};
use passwordless::config::Config;
use passwordless::kickstart::{self, SenderIdentities};

const USAGE: &str = "usage: passwordless-admin create-tables | check FILE | load FILE | \
     register-senders FILE (check and load: --sender-identities LIST or SENDER_IDENTITIES)";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args, std::env::var("SENDER_IDENTITIES").ok()).await {
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

/// `args` as given; `environment_identities`, `SENDER_IDENTITIES`, used where no flag names a list.
async fn run(args: &[String], environment_identities: Option<String>) -> Result<String, String> {
    let (args, flag) = sender_identities_flag(args)?;
    let identities = flag.or(environment_identities);
    let parse_file = |path: &str| -> Result<kickstart::Kickstart, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        kickstart::parse(&text).map_err(|e| format!("{path}: refused: {e}"))
    };
    // What `check` and `load` accept: a valid file whose every sender the stack may send as.
    let checked_file = |path: &str| -> Result<kickstart::Kickstart, String> {
        let k = parse_file(path)?;
        let Some(list) = identities.as_deref() else {
            return Err(format!(
                "{path}: name the stack's SES identities (its SenderIdentities) with \
                 --sender-identities or SENDER_IDENTITIES; this file sends from {}",
                k.sender_domains().join(",")
            ));
        };
        let identities = SenderIdentities::parse(list)
            .map_err(|e| format!("--sender-identities / SENDER_IDENTITIES: {e}"))?;
        identities
            .check(&k)
            .map_err(|e| format!("{path}: refused: {e}"))?;
        Ok(k)
    };
    match args.as_slice() {
        [command, path] if command == "check" => {
            let k = checked_file(path)?;
            Ok(format!(
                "{}{path}: valid ({} keys, {} tenants, {} applications, {} API keys, {} users)",
                warnings(path, &k),
                k.keys.len(),
                k.tenants.len(),
                k.applications.len(),
                k.api_keys.len(),
                k.users.len()
            ))
        }
        [command, path] if command == "load" => {
            let k = checked_file(path)?;
            let store = store().await?;
            let report = provision::load(&store, &k)
                .await
                .map_err(|e| format!("{path}: {e}"))?;
            Ok(format!("{}{path}: loaded {report:?}", warnings(path, &k)))
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

/// What `check` and `load` warn about and accept all the same, one `warning:` line each.
fn warnings(path: &str, kickstart: &kickstart::Kickstart) -> String {
    kickstart::issuer_warnings(kickstart)
        .iter()
        .map(|warning| format!("{path}: warning: {warning}\n"))
        .collect()
}

/// The arguments without `--sender-identities LIST` (or `--sender-identities=LIST`), and LIST.
fn sender_identities_flag(args: &[String]) -> Result<(Vec<String>, Option<String>), String> {
    const FLAG: &str = "--sender-identities";
    let mut rest = Vec::new();
    let mut list = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == FLAG {
            let value = args.next().ok_or(format!("{FLAG} needs a list"))?;
            list = Some(value.clone());
        } else if let Some(value) = arg.strip_prefix("--sender-identities=") {
            list = Some(value.to_owned());
        } else {
            rest.push(arg.clone());
        }
    }
    Ok((rest, list))
}

async fn store() -> Result<DynamoStore, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let sdk = aws::sdk_config().await;
    Ok(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.tables,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE_SENDERS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/kickstart.three-senders.json"
    );

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| a.to_string()).collect()
    }

    #[tokio::test]
    async fn check_accepts_a_file_whose_senders_are_all_listed() {
        let checked = run(
            &args(&[
                "check",
                THREE_SENDERS,
                "--sender-identities",
                "hooli.xyz,raviga.vc,bachmanity.com",
            ]),
            None,
        )
        .await;
        assert!(checked.is_ok_and(|m| m.contains("valid (1 keys, 3 tenants")));
    }

    #[tokio::test]
    async fn check_warns_about_each_issuer_that_is_not_an_https_url_and_accepts_the_file() {
        let checked = run(
            &args(&[
                "check",
                THREE_SENDERS,
                "--sender-identities",
                "hooli.xyz,raviga.vc,bachmanity.com",
            ]),
            None,
        )
        .await
        .expect("a warning refuses nothing");
        let warnings: Vec<&str> = checked.lines().filter(|l| l.contains("warning:")).collect();
        assert_eq!(warnings.len(), 3, "{checked}");
        assert!(warnings[0].contains("tenants[0]: issuer \"hooli.xyz\" is not an https URL"));
        assert!(checked.lines().last().is_some_and(|l| l.contains("valid")));
    }

    #[tokio::test]
    async fn check_and_load_refuse_a_tenant_whose_sender_is_not_listed_before_touching_aws() {
        for command in ["check", "load"] {
            let refused = run(
                &args(&[
                    command,
                    THREE_SENDERS,
                    "--sender-identities=hooli.xyz,bachmanity.com",
                ]),
                None,
            )
            .await
            .unwrap_err();
            assert!(
                refused.contains("refused: tenants[1] (tenant \"Raviga\""),
                "{refused}"
            );
            assert!(refused.contains("the SES identity raviga.vc,"), "{refused}");
        }
    }

    #[tokio::test]
    async fn the_environment_names_the_list_where_no_flag_does() {
        let refused = run(
            &args(&["check", THREE_SENDERS]),
            Some("hooli.xyz,raviga.vc".to_owned()),
        )
        .await
        .unwrap_err();
        assert!(
            refused.contains("the SES identity bachmanity.com,"),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn load_without_a_list_of_identities_refuses_and_names_the_senders() {
        let refused = run(&args(&["load", THREE_SENDERS]), None)
            .await
            .unwrap_err();
        assert!(
            refused.contains("sends from bachmanity.com,hooli.xyz,raviga.vc"),
            "{refused}"
        );
    }
}
