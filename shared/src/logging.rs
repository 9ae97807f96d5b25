//! The functions' log lines: how they are formatted, in one place, so that a test can count the
//! bytes a journey writes exactly as Lambda would store them ([`subscriber`]).
//!
//! As lambda_runtime's default subscriber, less its `spans` list: with Lambda's JSON format, each
//! line carries the invocation's span (`requestId`, `xrayTraceId`) once, not twice.

use lambda_http::tracing::subscriber::filter::{EnvFilter, LevelFilter};
use lambda_http::tracing::subscriber::fmt::MakeWriter;
use lambda_http::tracing::Subscriber;

/// The level Lambda's `ApplicationLogLevel` sets (`AWS_LAMBDA_LOG_LEVEL`), else `RUST_LOG`, else
/// INFO.
fn level() -> LevelFilter {
    std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.parse().ok())
        .unwrap_or(LevelFilter::INFO)
}

/// Every function's `main` calls this first: JSON lines on stdout when Lambda's log format is JSON
/// (`AWS_LAMBDA_LOG_FORMAT`, template.yaml's `LogFormat: JSON`), else tracing's text format (as
/// under `cargo lambda watch`).
pub fn init() {
    use lambda_http::tracing::subscriber::util::SubscriberInitExt;
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        subscriber(std::io::stdout).init();
    } else {
        lambda_http::tracing::subscriber::fmt()
            .with_target(false)
            .without_time()
            .with_env_filter(filter())
            .init();
    }
}

fn filter() -> EnvFilter {
    EnvFilter::builder()
        .with_default_directive(level().into())
        .from_env_lossy()
}

/// Lambda's JSON log format, as the functions print it (`LogFormat: JSON` in template.yaml).
pub fn subscriber<W>(writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    lambda_http::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter())
        .with_writer(writer)
        .json()
        .with_span_list(false)
        .finish()
}
