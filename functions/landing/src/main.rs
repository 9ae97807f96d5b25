//! `GET`, `HEAD` and `POST /oauth2/passwordless/{code}` on Lambda: configuration, clients,
//! adapters and the page template are built once per container, then every invocation goes to
//! the shared handler.

use lambda_http::{service_fn, Error, Request};
use passwordless::{aws, config::Config, http};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let services = aws::landing_services(&config)?;
    let pages = std::sync::Arc::new(http::pages::Pages::new());
    http::run(service_fn(|request: Request| {
        let services = services.clone();
        let pages = pages.clone();
        async move { Ok::<_, Error>(http::landing::handle(&services, &pages, request).await) }
    }))
    .await
}
