//! `GET` and `POST /oauth2/logout` on Lambda: configuration, clients, adapters and the page
//! template are built once per container, then every invocation goes to the shared handler, its
//! metrics to stdout (EMF).

use lambda_http::{service_fn, Error, Request};
use passwordless::{aws, config::Config, http, metrics::Recorder};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    passwordless::logging::init();
    let config = Config::from_env()?;
    let services = aws::logout_services(&config)?;
    let pages = std::sync::Arc::new(http::pages::Pages::new());
    let metrics = Recorder::from_env("logout");
    http::run(service_fn(|request: Request| {
        let (services, pages, metrics) = (services.clone(), pages.clone(), metrics.clone());
        async move {
            let answer = http::logout::handle(&services, &pages, request);
            Ok::<_, Error>(http::recorded(&metrics, answer).await)
        }
    }))
    .await
}
