//! SES bounce and complaint events, delivered by the deliverability SNS topic, on Lambda:
//! configuration, clients and adapters are built once per container, then every event goes to
//! [`passwordless::suppression::handle_sns_event`], its metrics to stdout (EMF). A failing
//! dependency is an error, so Lambda retries the event.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use passwordless::{aws, config::Config, metrics::Recorder, suppression};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    passwordless::logging::init();
    let config = Config::from_env()?;
    let services = aws::suppression_services(&config)?;
    let metrics = Recorder::from_env("suppress");
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (services, metrics) = (services.clone(), metrics.clone());
        async move {
            let handled = suppression::handle_sns_event(&services, &event.payload);
            let recorded = metrics.record(handled).await?;
            Ok::<_, Error>(serde_json::json!({
                "suppressed": recorded.suppressed,
                "ignored": recorded.ignored
            }))
        }
    }))
    .await
}
