//! Operational metrics as CloudWatch Embedded Metric Format (EMF) lines: one JSON object per line
//! on standard output, which Lambda ships to CloudWatch Logs and CloudWatch turns into metrics. No
//! API call, no agent, no extra permission.
//!
//! Every metric the service publishes is named here, once ([`request`], [`sent`], …), so that the
//! catalogue, the dimensions and the README's operations table stay in one place. Each line
//! carries `Function` (start, send, login, landing, token, suppress…) and, once the use case
//! knows it, `TenantId`, plus the metric's own dimensions. Dimension values are ours (statuses, channels, countries,
//! operation names), never client input: no address, number, code or key can reach a line.
//!
//! An invocation records into the [`Recorder`] its function's `main` built once
//! ([`Recorder::record`]); outside one (the admin CLI, unit tests) nothing is written. Tests
//! record into [`Sink::Lines`] and read the lines back.
//!
//! Dimension sets: for a metric with dimensions `d1…dn`, the line declares `[Function]`,
//! `[Function, d1]`, …, `[Function, d1…dn]` and, with a tenant, `[Function, TenantId, d1…dn]`:
//! alarms read the totals, the dashboard the breakdowns, an operator a tenant's share.

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The namespace when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_NAMESPACE: &str = "Passwordless";

/// Where EMF lines go.
#[derive(Clone, Debug)]
pub enum Sink {
    /// Standard output: what Lambda sends to CloudWatch Logs.
    Stdout,
    /// Kept in memory, for tests.
    Lines(Arc<Mutex<Vec<String>>>),
}

impl Sink {
    fn write(&self, line: String) {
        match self {
            // One write per line, under the lock, so that concurrent log lines never interleave
            // inside a metric document.
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
            }
            Sink::Lines(lines) => lock(lines).push(line),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One function's metrics: its namespace, its name and its sink, built once per container.
#[derive(Clone, Debug)]
pub struct Recorder {
    namespace: Arc<str>,
    function: &'static str,
    sink: Sink,
}

struct Invocation {
    recorder: Recorder,
    tenant: Mutex<Option<Uuid>>,
}

tokio::task_local! {
    static CURRENT: Invocation;
}

impl Recorder {
    pub fn new(namespace: &str, function: &'static str, sink: Sink) -> Self {
        Self {
            namespace: Arc::from(namespace),
            function,
            sink,
        }
    }

    /// For a function on Lambda: `METRICS_NAMESPACE` (else [`DEFAULT_NAMESPACE`]), to stdout.
    pub fn from_env(function: &'static str) -> Self {
        let namespace = std::env::var("METRICS_NAMESPACE")
            .ok()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        Self::new(&namespace, function, Sink::Stdout)
    }

    /// Runs one invocation: whatever it counts is written with this function's name.
    pub async fn record<F: Future>(&self, invocation: F) -> F::Output {
        CURRENT
            .scope(
                Invocation {
                    recorder: self.clone(),
                    tenant: Mutex::new(None),
                },
                invocation,
            )
            .await
    }
}

/// The tenant the current invocation serves, once the use case knows it.
pub fn set_tenant(tenant: Uuid) {
    let _ = CURRENT.try_with(|current| *lock(&current.tenant) = Some(tenant));
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

fn emit(metric: &'static str, unit: Unit, value: f64, dimensions: &[(&'static str, &str)]) {
    let _ = CURRENT.try_with(|current| {
        let tenant = *lock(&current.tenant);
        let recorder = &current.recorder;
        let line = document(
            &recorder.namespace,
            recorder.function,
            tenant,
            (metric, unit, value),
            dimensions,
            now_millis(),
        );
        recorder.sink.write(line.to_string());
    });
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// One EMF document (the specification's `_aws` metadata, then the dimension values and the
/// metric value as top-level members).
fn document(
    namespace: &str,
    function: &str,
    tenant: Option<Uuid>,
    (metric, unit, value): (&str, Unit, f64),
    dimensions: &[(&'static str, &str)],
    timestamp: i64,
) -> Value {
    let names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    let mut sets: Vec<Vec<&str>> = (0..=names.len())
        .map(|n| {
            std::iter::once("Function")
                .chain(names[..n].iter().copied())
                .collect()
        })
        .collect();
    if tenant.is_some() {
        sets.push(
            ["Function", "TenantId"]
                .into_iter()
                .chain(names.iter().copied())
                .collect(),
        );
    }
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": sets,
                "Metrics": [{"Name": metric, "Unit": unit.as_str()}],
            }],
        }),
    );
    root.insert("Function".into(), json!(function));
    if let Some(tenant) = tenant {
        root.insert("TenantId".into(), json!(tenant.to_string()));
    }
    for (name, value) in dimensions {
        root.insert((*name).into(), json!(value));
    }
    root.insert(metric.into(), json!(value));
    Value::Object(root)
}

// ------------------------------------------------------------------------ the metric catalogue

/// Every answer of an HTTP function: `Requests` by `Outcome` (`success` for 2xx and 3xx, the
/// landing page's redirect with an authorization code; `refused` for 4xx, `error` for 5xx) and
/// `Status`. Starts are `Function=start`, logins by status `Function=login`.
pub fn request(status: u16) {
    let outcome = match status {
        200..=399 => "success",
        400..=499 => "refused",
        _ => "error",
    };
    emit(
        "Requests",
        Unit::Count,
        1.0,
        &[("Outcome", outcome), ("Status", &status.to_string())],
    );
}

/// A message handed to SES or SNS: `Sent` by `Channel` (`email`, `sms`) and, for SMS, `Country`
/// (the destination's region, `US`).
pub fn sent(channel: &'static str, country: Option<&str>) {
    match country {
        Some(country) => emit(
            "Sent",
            Unit::Count,
            1.0,
            &[("Channel", channel), ("Country", country)],
        ),
        None => emit("Sent", Unit::Count, 1.0, &[("Channel", channel)]),
    }
}

/// A code refused: unknown, expired, used or superseded (send 400 `[invalid]code`, login 404,
/// the landing page's click 404), or an authorization code refused (`/oauth2/token`'s
/// `invalid_grant` for the `authorization_code` grant).
pub fn refused_code() {
    emit("RefusedCodes", Unit::Count, 1.0, &[]);
}

/// A request refused by a rate limit: `Limit` is `send-email`, `send-sms` (per user) or
/// `one-time-codes` (the per-user budget of one-time codes compared).
pub fn rate_limited(limit: &'static str) {
    emit("RateLimited", Unit::Count, 1.0, &[("Limit", limit)]);
}

/// An SMS the guard refused: `Reason` is `country`, `prefix` or `daily`, with the `Country`.
pub fn sms_guard_refused(reason: &'static str, country: &str) {
    emit(
        "SmsGuardRefused",
        Unit::Count,
        1.0,
        &[("Reason", reason), ("Country", country)],
    );
}

/// A post of the fallback page (a mangled link's email address and one-time code) refused:
/// `Reason` is `wrong` (no live link emailed to that address with that code, or no such
/// address) or `budget` (the user's tries are spent). The page is the same for both.
pub fn fallback_refused(reason: &'static str) {
    emit("FallbackRefused", Unit::Count, 1.0, &[("Reason", reason)]);
}

/// An email not sent because its address is suppressed (it bounced or complained).
pub fn suppressed_send() {
    emit("SuppressedSends", Unit::Count, 1.0, &[]);
}

/// A user created by a hosted sign-up whose code completed its login ([`crate::sign_up`]).
pub fn signed_up() {
    emit("SignUps", Unit::Count, 1.0, &[]);
}

/// An address suppressed from SES feedback: `Reason` is `bounce` or `complaint`.
pub fn suppression(reason: &'static str) {
    emit("Suppressions", Unit::Count, 1.0, &[("Reason", reason)]);
}

/// SES feedback that suppressed nothing: a transient bounce, or a message we cannot read.
pub fn feedback_ignored(kind: &'static str) {
    emit("FeedbackIgnored", Unit::Count, 1.0, &[("Kind", kind)]);
}

/// A request answered 500 because a dependency failed, by the failing `Operation`
/// (`count send`, `send email`…).
pub fn dependency_failure(operation: &'static str) {
    emit(
        "DependencyFailures",
        Unit::Count,
        1.0,
        &[("Operation", operation)],
    );
}

/// How long one AWS call took, retries included: `AwsCallLatency` by `Service` (`DynamoDB`,
/// `SESv2`, `SNS`) and `Operation` (`GetItem`, `SendEmail`, `Publish`…), and `AwsCallErrors` for
/// a call that failed.
pub fn aws_call(service: &str, operation: &str, millis: f64, failed: bool) {
    let dimensions = [("Service", service), ("Operation", operation)];
    emit("AwsCallLatency", Unit::Milliseconds, millis, &dimensions);
    if failed {
        emit("AwsCallErrors", Unit::Count, 1.0, &dimensions);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(f: impl FnOnce()) -> Vec<Value> {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder::new("Test", "send", Sink::Lines(lines.clone()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(recorder.record(async { f() }));
        let lines = lock(&lines).clone();
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn a_metric_is_one_emf_document_with_its_dimension_sets_and_value() {
        let tenant = Uuid::parse_str("f24aca2b-ce4a-4dad-951a-c9d690e71415").unwrap();
        let lines = recorded(|| {
            set_tenant(tenant);
            sent("sms", Some("US"));
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Test");
        assert_eq!(
            directive["Dimensions"],
            json!([
                ["Function"],
                ["Function", "Channel"],
                ["Function", "Channel", "Country"],
                ["Function", "TenantId", "Channel", "Country"]
            ])
        );
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "Sent", "Unit": "Count"}])
        );
        assert!(line["_aws"]["Timestamp"].as_i64().unwrap() > 1_700_000_000_000);
        assert_eq!(line["Function"], "send");
        assert_eq!(line["TenantId"], tenant.to_string());
        assert_eq!(line["Channel"], "sms");
        assert_eq!(line["Country"], "US");
        assert_eq!(line["Sent"], 1.0);
    }

    #[test]
    fn every_dimension_a_directive_names_is_a_member_of_the_document() {
        let lines = recorded(|| {
            request(429);
            aws_call("DynamoDB", "UpdateItem", 12.5, true);
            refused_code();
        });
        assert_eq!(lines.len(), 4);
        for line in &lines {
            let directive = &line["_aws"]["CloudWatchMetrics"][0];
            for set in directive["Dimensions"].as_array().unwrap() {
                for name in set.as_array().unwrap() {
                    let name = name.as_str().unwrap();
                    assert!(line[name].is_string(), "{name} missing from {line}");
                }
            }
            let metric = directive["Metrics"][0]["Name"].as_str().unwrap();
            assert!(line[metric].is_number(), "{line}");
        }
        assert_eq!(lines[0]["Outcome"], "refused");
        assert_eq!(lines[0]["Status"], "429");
        assert_eq!(lines[1]["AwsCallLatency"], 12.5);
        assert_eq!(
            lines[1]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
            "Milliseconds"
        );
        assert_eq!(lines[2]["AwsCallErrors"], 1.0);
        assert!(lines[0].get("TenantId").is_none(), "no tenant was known");
    }

    #[test]
    fn outside_an_invocation_nothing_is_written() {
        // No recorder: the admin CLI and plain unit tests print no metrics. It must not panic.
        request(200);
        sent("email", None);
    }
}
