//! Faults between the AWS SDK and moto: the SDK's own HTTP client, wrapped in one that can lose
//! the response of a call that was applied, refuse a call as a throttled or rejecting service
//! would, fail to connect, or stall until the SDK's timeouts give up. Faults are chosen per
//! operation (`UpdateItem`, `TransactWriteItems`, `SendEmail`, `Publish`…) and counted, so a
//! test can show its fault really happened.

use std::sync::{Arc, Mutex};

use crate::helpers::TestApp;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The call reaches moto and is applied; its response is replaced by a 500, as if it were lost
    /// on the way back. The SDK retries the very same request.
    LoseResponse,
    /// The service refuses the call without applying it: DynamoDB `ThrottlingException`, SES v2
    /// `TooManyRequestsException`, SNS `Throttling`.
    Throttle,
    /// The service rejects the call (400, not retryable): SES `MessageRejected`, SNS
    /// `InvalidParameter`.
    Reject,
    /// The connection is refused: the endpoint is unreachable.
    Unreachable,
    /// Nothing ever answers: only the SDK's timeouts end the call.
    Stall,
    /// The call goes through untouched: lets a test aim a fault at a later call of the same
    /// operation.
    Pass,
}

#[derive(Debug)]
struct Rule {
    operation: &'static str,
    fault: Fault,
    /// `None`: every call, until cleared.
    remaining: Option<u32>,
}

/// The faults to inject, shared by the test and the wrapped client.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<Rule>>>,
    injected: Arc<Mutex<Vec<(&'static str, Fault)>>>,
}

impl Faults {
    /// Injects `fault` into the next `times` calls of `operation`.
    pub fn next(&self, operation: &'static str, fault: Fault, times: u32) {
        self.rules.lock().unwrap().push(Rule {
            operation,
            fault,
            remaining: Some(times),
        });
    }

    /// Injects `fault` into every call of `operation` until [`Faults::clear`].
    pub fn always(&self, operation: &'static str, fault: Fault) {
        self.rules.lock().unwrap().push(Rule {
            operation,
            fault,
            remaining: None,
        });
    }

    /// The dependency recovers.
    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
    }

    /// How many calls of `operation` got `fault`.
    pub fn injected(&self, operation: &str, fault: Fault) -> usize {
        self.injected
            .lock()
            .unwrap()
            .iter()
            .filter(|(op, f)| *op == operation && *f == fault)
            .count()
    }

    fn take(&self, operation: &str) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap();
        let index = rules.iter().position(|r| {
            (r.operation == operation || r.operation == "*") && r.remaining != Some(0)
        })?;
        let rule = &mut rules[index];
        if let Some(remaining) = rule.remaining.as_mut() {
            *remaining -= 1;
        }
        let (fault, name) = (rule.fault, rule.operation);
        self.injected.lock().unwrap().push((name, fault));
        Some(fault)
    }
}

/// The operation a request calls: DynamoDB names it in `X-Amz-Target`, SES v2 in its path, SNS in
/// its form body.
fn operation_of(request: &HttpRequest) -> String {
    if let Some(target) = request.headers().get("x-amz-target") {
        return target.rsplit('.').next().unwrap_or_default().to_owned();
    }
    if request.uri().contains("/v2/email/outbound-emails") {
        return "SendEmail".to_owned();
    }
    let body = request
        .body()
        .bytes()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    body.split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .unwrap_or_default()
        .to_owned()
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).expect("a valid status"),
        SdkBody::from(body.to_owned()),
    );
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(name.to_string(), value.to_string());
    }
    response
}

/// What each service answers when it throttles or rejects `operation`.
fn refusal(operation: &str, fault: Fault) -> HttpResponse {
    match (operation, fault) {
        ("SendEmail", Fault::Throttle) => response(
            429,
            &[("x-amzn-errortype", "TooManyRequestsException")],
            r#"{"message":"Maximum sending rate exceeded."}"#,
        ),
        ("SendEmail", _) => response(
            400,
            &[("x-amzn-errortype", "MessageRejected")],
            r#"{"message":"Email address is not verified."}"#,
        ),
        ("Publish", fault) => {
            let code = if fault == Fault::Throttle {
                "Throttling"
            } else {
                "InvalidParameter"
            };
            response(
                400,
                &[("content-type", "text/xml")],
                &format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
                     <Message>injected</Message></Error><RequestId>1</RequestId></ErrorResponse>"
                ),
            )
        }
        _ => response(
            400,
            &[("content-type", "application/x-amz-json-1.0")],
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#,
        ),
    }
}

/// The SDK's HTTP client with [`Faults`] in front of it.
#[derive(Clone, Debug)]
pub struct FaultyClient {
    inner: SharedHttpClient,
    faults: Faults,
}

impl HttpClient for FaultyClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            inner: self.inner.http_connector(settings, components),
            faults: self.faults.clone(),
        })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    faults: Faults,
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = operation_of(&request);
        match self.faults.take(&operation) {
            None | Some(Fault::Pass) => self.inner.call(request),
            Some(Fault::LoseResponse) => {
                let applied = self.inner.call(request);
                HttpConnectorFuture::new(async move {
                    applied.await?;
                    Ok(response(
                        500,
                        &[("content-type", "application/x-amz-json-1.0")],
                        r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected: response lost"}"#,
                    ))
                })
            }
            Some(Fault::Unreachable) => HttpConnectorFuture::ready(Err(ConnectorError::io(
                std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into(),
            ))),
            Some(Fault::Stall) => HttpConnectorFuture::new(std::future::pending()),
            Some(fault) => HttpConnectorFuture::ready(Ok(refusal(&operation, fault))),
        }
    }
}

/// `sdk` reaching AWS through `faults`.
pub fn faulty(sdk: &aws_config::SdkConfig, faults: &Faults) -> aws_config::SdkConfig {
    sdk.to_builder()
        .http_client(FaultyClient {
            inner: aws_smithy_http_client::Builder::new().build_http(),
            faults: faults.clone(),
        })
        .build()
}

/// A [`TestApp`] whose functions reach AWS through [`Faults`], each still with its own role's
/// credentials; the test's own view of the tables (`app.store`) stays direct.
pub async fn spawn_with_faults() -> (TestApp, Faults) {
    spawn_with_faults_and(crate::helpers::EXAMPLE_KICKSTART).await
}

/// [`spawn_with_faults`] with `kickstart_json` loaded.
pub async fn spawn_with_faults_and(kickstart_json: &str) -> (TestApp, Faults) {
    let mut app = TestApp::spawn_with(kickstart_json).await;
    let faults = Faults::default();
    app.rewire(|sdk| faulty(sdk, &faults));
    (app, faults)
}
