//! The AWS adapters behind the ports, and the SDK configuration they share.

pub mod dynamo;
pub mod ses;
pub mod sns;

use std::time::Duration;

/// The roots every AWS service endpoint chains to: Amazon Root CA 1–4 and the Starfield Services
/// root that cross-signs them. Trusting only these spares each cold start reading and parsing the
/// system's whole certificate store.
const AWS_ROOTS: &str = include_str!("aws-roots.pem");

/// HTTPS with rustls on aws-lc, trusting [`AWS_ROOTS`]. With `AWS_ENDPOINT_URL` set (a local
/// emulator, a proxy) the SDK's default client and the system's roots are used instead.
fn http_client() -> Option<aws_sdk_dynamodb::config::SharedHttpClient> {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        return None;
    }
    let roots = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AWS_ROOTS.as_bytes());
    let context = TlsContext::builder().with_trust_store(roots).build().ok()?;
    Some(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context)
            .build_https(),
    )
}

/// The SDK configuration every function uses: region, credentials and `AWS_ENDPOINT_URL` from the
/// environment, with timeouts and retries kept well under API Gateway's 29 s.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(client) = http_client() {
        loader = loader.http_client(client);
    }
    loader
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(8))
                .build(),
        )
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
        .load()
        .await
}

pub mod provision;

use std::sync::Arc;

use crate::cache::CachedDirectory;
use crate::codes::OsRandom;
use crate::config::Config;
use crate::ports::{
    DeliverySettings, Email, Mailer, Services, Sms, SmsSender, StoreError, SystemClock,
};

/// The real adapters of a function that sends email and SMS (send), built once per container:
/// DynamoDB (the directory behind a warm-container cache), SES v2, SNS, the wall clock and the
/// OS random source.
pub async fn services(config: &Config) -> Services {
    let sdk = sdk_config().await;
    let mailer = Arc::new(ses::SesMailer::new(aws_sdk_sesv2::Client::new(&sdk)));
    let sms = Arc::new(sns::SnsSms::new(
        aws_sdk_sns::Client::new(&sdk),
        config.sms_sender_id.clone(),
        config.sms_origination_number.clone(),
    ));
    services_with(config, &sdk, mailer, sms)
}

/// The adapters of a function that sends nothing (start, login). Without a reference to the SES
/// and SNS clients, their code stays out of the binary.
pub async fn services_without_delivery(config: &Config) -> Services {
    let sdk = sdk_config().await;
    services_with(config, &sdk, Arc::new(NoDelivery), Arc::new(NoDelivery))
}

fn services_with(
    config: &Config,
    sdk: &aws_config::SdkConfig,
    mailer: Arc<dyn Mailer>,
    sms: Arc<dyn SmsSender>,
) -> Services {
    let store = Arc::new(dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(sdk),
        config.tables.clone(),
    ));
    Services {
        directory: Arc::new(CachedDirectory::new(store.clone(), config.directory_cache)),
        codes: store.clone(),
        rate_limiter: store.clone(),
        sessions: store,
        signer: Arc::new(crate::tokens::Signer::default()),
        mailer,
        sms,
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
        settings: Arc::new(DeliverySettings {
            default_base_url: config.default_base_url.clone(),
        }),
    }
}

/// The mailer and SMS sender of a function that sends nothing: a call is a wiring mistake,
/// reported as a failed dependency.
struct NoDelivery;

#[async_trait::async_trait]
impl Mailer for NoDelivery {
    async fn send_email(&self, _email: &Email) -> Result<(), StoreError> {
        Err(StoreError::new(
            "send email",
            "this function does not send email",
        ))
    }
}

#[async_trait::async_trait]
impl SmsSender for NoDelivery {
    async fn send_sms(&self, _sms: &Sms) -> Result<(), StoreError> {
        Err(StoreError::new(
            "send sms",
            "this function does not send SMS",
        ))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    #[test]
    fn the_trust_store_holds_the_five_aws_roots_as_readable_pem() {
        let blocks: Vec<&str> = super::AWS_ROOTS
            .split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|block| {
                block
                    .split("-----END CERTIFICATE-----")
                    .next()
                    .unwrap_or("")
            })
            .collect();
        assert_eq!(blocks.len(), 5);
        for block in blocks {
            let body: String = block.split_whitespace().collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(body)
                .expect("each certificate is base64");
            assert_eq!(der[0], 0x30, "each certificate is a DER sequence");
        }
    }
}
