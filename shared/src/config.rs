//! Configuration, read once at cold start from these environment variables:
//!
//! | variable                  | meaning                                              | default |
//! |---------------------------|------------------------------------------------------|---------|
//! | `DIRECTORY_TABLE`         | the Directory table                                  | required |
//! | `CODES_TABLE`             | the Codes table                                      | required |
//! | `DIRECTORY_CACHE_SECONDS` | how long a warm function keeps tenants, applications and keys | 30 |
//! | `DEFAULT_BASE_URL`        | magic-link base where neither application nor tenant has a `baseURL` | none |
//! | `SMS_SENDER_ID`           | SNS `AWS.SNS.SMS.SenderID` for SMS                   | none |
//! | `SMS_ORIGINATION_NUMBER`  | SNS `AWS.MM.SMS.OriginationNumber` for SMS           | none |
//! | `SES_CONFIGURATION_SET`   | the SES configuration set emails are sent with (bounce and complaint events) | none |
//! | `METRICS_NAMESPACE`       | the CloudWatch namespace of the EMF metrics ([`crate::metrics`]) | `Passwordless` |
//! | `METRICS_TENANT_DIMENSION` | `true`: metrics also per tenant ([`crate::metrics::Recorder::from_env`]) | `false` |
//! | `LOGIN_RECORD_RETENTION_DAYS` | days a login record is kept (its `ttl`; read where it is written, [`crate::aws::dynamo::item::login_record_item`]) | 365 |
//!
//! The AWS SDK reads its own (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials).

use std::time::Duration;

use crate::aws::dynamo::Tables;

#[derive(Clone, Debug)]
pub struct Config {
    pub tables: Tables,
    pub directory_cache: Duration,
    pub default_base_url: Option<String>,
    pub sms_sender_id: Option<String>,
    pub sms_origination_number: Option<String>,
    pub ses_configuration_set: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| ConfigError(format!("{name} is not set")))
        };
        let optional = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let cache_seconds = match lookup("DIRECTORY_CACHE_SECONDS") {
            None => 30,
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                ConfigError(format!("DIRECTORY_CACHE_SECONDS is not a number: {v}"))
            })?,
        };
        Ok(Self {
            tables: Tables {
                directory: required("DIRECTORY_TABLE")?,
                codes: required("CODES_TABLE")?,
            },
            directory_cache: Duration::from_secs(cache_seconds),
            default_base_url: optional("DEFAULT_BASE_URL"),
            sms_sender_id: optional("SMS_SENDER_ID"),
            sms_origination_number: optional("SMS_ORIGINATION_NUMBER"),
            ses_configuration_set: optional("SES_CONFIGURATION_SET"),
        })
    }
}
