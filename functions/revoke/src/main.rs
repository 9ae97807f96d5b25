//! `DELETE /api/jwt/refresh` on Lambda: configuration, clients and adapters are built once per container, then
//! every invocation goes to the shared handler.

use lambda_http::{service_fn, Error, Request};
use passwordless::{aws, config::Config, http};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let services = aws::refresh_services(&config)?;
    http::run(service_fn(|request: Request| {
        let services = services.clone();
        async move { Ok::<_, Error>(http::revoke::handle(&services, request).await) }
    }))
    .await
}
