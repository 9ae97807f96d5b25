//! `DELETE /api/jwt/refresh` on Lambda: configuration, clients and adapters are built once per container, then
//! every invocation goes to the shared handler, its metrics to stdout (EMF).

use lambda_http::{service_fn, Error, Request};
use passwordless::{aws, config::Config, http, metrics::Recorder};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    passwordless::logging::init();
    let config = Config::from_env()?;
    let services = aws::refresh_services(&config)?;
    let metrics = Recorder::from_env("revoke");
    http::run(service_fn(|request: Request| {
        let (services, metrics) = (services.clone(), metrics.clone());
        async move {
            let answer = http::revoke::handle(&services, request);
            Ok::<_, Error>(http::recorded(&metrics, answer).await)
        }
    }))
    .await
}
