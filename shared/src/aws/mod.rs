//! The AWS adapters behind the ports, and the SDK configuration they share.

pub mod dynamo;
pub mod ses;
pub mod sns;

use std::time::Duration;

/// The SDK configuration every function uses: region, credentials and `AWS_ENDPOINT_URL` from the
/// environment, with timeouts and retries kept well under API Gateway's 29 s.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
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
use crate::ports::{DeliverySettings, Services, SystemClock};

/// The real adapters, built once per container: DynamoDB (the directory behind a warm-container
/// cache), SES v2, SNS, the wall clock and the OS random source.
pub async fn services(config: &Config) -> Services {
    let sdk = sdk_config().await;
    let store = Arc::new(dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.tables.clone(),
    ));
    Services {
        directory: Arc::new(CachedDirectory::new(store.clone(), config.directory_cache)),
        codes: store.clone(),
        rate_limiter: store.clone(),
        sessions: store,
        signer: Arc::new(crate::tokens::Signer::default()),
        mailer: Arc::new(ses::SesMailer::new(aws_sdk_sesv2::Client::new(&sdk))),
        sms: Arc::new(sns::SnsSms::new(
            aws_sdk_sns::Client::new(&sdk),
            config.sms_sender_id.clone(),
            config.sms_origination_number.clone(),
        )),
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
        settings: Arc::new(DeliverySettings {
            default_base_url: config.default_base_url.clone(),
        }),
    }
}
