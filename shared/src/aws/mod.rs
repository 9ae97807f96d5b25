//! The AWS adapters behind the ports, and the SDK configuration they share.

pub mod dynamo;
pub mod ses;
pub mod sns;
pub mod timing;
mod wiring;

use std::time::Duration;

/// The roots every AWS service endpoint chains to: Amazon Root CA 1–4 and the Starfield Services
/// root that cross-signs them. Trusting only these spares each cold start reading and parsing the
/// system's whole certificate store.
const AWS_ROOTS: &str = include_str!("aws-roots.pem");

/// HTTPS with rustls on ring, trusting `roots`; it speaks plain HTTP to an `http://` endpoint
/// (moto) as well, so local runs build the same client as Lambda.
fn http_client(
    roots: aws_smithy_http_client::tls::TrustStore,
) -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext};
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(roots)
                .build()
                .unwrap_or_default(),
        )
        .build_https()
}

/// [`AWS_ROOTS`] only; an `https://` `endpoint` (a proxy, an emulator with its own certificate)
/// gets the system's roots instead.
fn trust_store_for(endpoint: Option<&str>) -> aws_smithy_http_client::tls::TrustStore {
    use aws_smithy_http_client::tls::TrustStore;
    if trusts_system_roots(endpoint) {
        TrustStore::default()
    } else {
        TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(AWS_ROOTS.as_bytes())
    }
}

fn trusts_system_roots(endpoint: Option<&str>) -> bool {
    endpoint.is_some_and(is_https)
}

fn is_https(url: &str) -> bool {
    url.trim_start()
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

/// Timeouts and retries kept well under API Gateway's 29 s: three attempts of at most 3 s each,
/// 8 s in all.
fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(8))
        .build()
}

fn retries() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard().with_max_attempts(3)
}

/// What a function needs to reach AWS and found missing in its environment.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not set: Lambda sets it; locally, set it (scripts/lib.sh: use_local_aws)")]
pub struct MissingAwsSetting(&'static str);

/// The SDK configuration of the functions, read from the variables Lambda sets: `AWS_REGION`
/// and the role's `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, plus
/// `AWS_ENDPOINT_URL` when set (moto). Unlike aws-config's default chain (profiles, SSO, STS web
/// identity, ECS, IMDS), this links none of the providers Lambda never uses: a smaller binary.
pub fn lambda_sdk_config() -> Result<aws_config::SdkConfig, MissingAwsSetting> {
    sdk_config_from(|name| std::env::var(name).ok())
}

fn sdk_config_from(
    environment: impl Fn(&str) -> Option<String>,
) -> Result<aws_config::SdkConfig, MissingAwsSetting> {
    use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider};
    let var = |name: &'static str| environment(name).filter(|v| !v.trim().is_empty());
    let required = |name: &'static str| var(name).ok_or(MissingAwsSetting(name));
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .ok_or(MissingAwsSetting("AWS_REGION"))?;
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID")?,
        required("AWS_SECRET_ACCESS_KEY")?,
        var("AWS_SESSION_TOKEN"),
        None,
        "Lambda environment",
    );
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .timeout_config(timeouts())
        .retry_config(retries())
        .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
        .time_source(aws_smithy_async::time::SystemTimeSource::new());
    let endpoint = var("AWS_ENDPOINT_URL");
    builder = builder.http_client(http_client(trust_store_for(endpoint.as_deref())));
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    Ok(builder.build())
}

/// The SDK configuration of the admin CLI, which runs on a workstation and may talk to anything
/// its profile names: aws-config's default chain (profiles, SSO, environment) and the system's
/// roots, with the functions' timeouts and retries.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client(
            aws_smithy_http_client::tls::TrustStore::default(),
        ))
        .timeout_config(timeouts())
        .retry_config(retries())
        .load()
        .await
}

pub mod provision;

/// An SDK client built once, on first use. Building one costs a cold start about 0.5 ms
/// (BENCHMARKS.md): the send function builds the SES or SNS client only when a code goes by
/// that channel.
pub struct OnFirstUse<C> {
    sdk: aws_config::SdkConfig,
    build: fn(&aws_config::SdkConfig) -> C,
    client: std::sync::OnceLock<C>,
}

impl<C> OnFirstUse<C> {
    pub fn new(sdk: &aws_config::SdkConfig, build: fn(&aws_config::SdkConfig) -> C) -> Self {
        Self {
            sdk: sdk.clone(),
            build,
            client: std::sync::OnceLock::new(),
        }
    }

    pub fn get(&self) -> &C {
        self.client.get_or_init(|| (self.build)(&self.sdk))
    }
}

impl<C> std::fmt::Debug for OnFirstUse<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnFirstUse")
            .field("built", &self.client.get().is_some())
            .finish()
    }
}

pub use timing::{dynamodb_client, ses_client, sns_client};
pub use wiring::logout_services;
pub use wiring::user_services;
pub use wiring::{
    authorize_services, key_services, landing_services, login_services, refresh_services,
    send_services, start_services, suppression_services, token_services,
};
pub use wiring::{import_services, registration_services};

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

    fn lambda_environment(name: &str) -> Option<String> {
        let value = match name {
            "AWS_REGION" => "eu-west-1",
            "AWS_ACCESS_KEY_ID" => "ASIAEXAMPLE",
            "AWS_SECRET_ACCESS_KEY" => "secret",
            "AWS_SESSION_TOKEN" => "token",
            _ => return None,
        };
        Some(value.to_owned())
    }

    #[tokio::test]
    async fn the_functions_take_region_and_role_credentials_from_the_lambda_environment() {
        use aws_sdk_dynamodb::config::ProvideCredentials;
        let sdk = super::sdk_config_from(lambda_environment).expect("complete environment");
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(sdk.endpoint_url(), None);
        let credentials = sdk
            .credentials_provider()
            .expect("a credentials provider")
            .provide_credentials()
            .await
            .expect("credentials");
        assert_eq!(credentials.access_key_id(), "ASIAEXAMPLE");
        assert_eq!(credentials.session_token(), Some("token"));
    }

    #[test]
    fn a_missing_credential_is_named_at_init() {
        let without_secret =
            |name: &str| (name != "AWS_SECRET_ACCESS_KEY").then(|| lambda_environment(name))?;
        let error = super::sdk_config_from(without_secret).expect_err("no secret key");
        assert!(error.to_string().contains("AWS_SECRET_ACCESS_KEY"));
    }

    #[test]
    fn an_endpoint_override_points_every_client_at_it() {
        let with_moto = |name: &str| match name {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5055".to_owned()),
            _ => lambda_environment(name),
        };
        let sdk = super::sdk_config_from(with_moto).expect("complete environment");
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:5055"));
    }

    #[test]
    fn a_plain_http_emulator_gets_the_same_client_as_lambda() {
        assert!(!super::trusts_system_roots(Some("http://127.0.0.1:5055")));
        assert!(!super::trusts_system_roots(None));
    }

    #[test]
    fn an_https_endpoint_override_gets_the_system_trust_store() {
        assert!(super::trusts_system_roots(Some(
            "HTTPS://localhost.localstack.cloud:4566"
        )));
        assert!(super::trusts_system_roots(Some(" https://proxy.internal")));
    }
}
