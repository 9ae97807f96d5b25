//! Operational metrics as CloudWatch Embedded Metric Format (EMF): one JSON document per
//! invocation on standard output, written when the invocation ends, which Lambda ships to
//! CloudWatch Logs and CloudWatch turns into metrics. No API call, no agent, no extra permission.
//!
//! Every metric the service publishes is named here, once ([`request`], [`sent`], …), so that the
//! catalogue, the dimensions and the README's operations table stay in one place. The document
//! carries `Function` (start, send, login, landing, token, suppress…), the metrics' own
//! dimensions and, once the use case knows it, `TenantId` as a plain member (Logs Insights can
//! filter on it; it is no metric dimension unless the operator opts in, below). Dimension values
//! are ours (statuses, channels, countries, operation names), never client input: no address,
//! number, code or key can reach a document.
//!
//! An invocation records into the [`Recorder`] its function's `main` built once
//! ([`Recorder::record`]): counts are summed, latencies kept as an EMF value list (at most 100
//! values a metric, the specification's limit), and the document is written when the invocation
//! returns; outside one (the admin CLI, unit tests) nothing is written. Tests record into
//! [`Sink::Lines`] and read the lines back.
//!
//! Dimension sets: for a metric with dimensions `d1…dn`, the document declares `[Function]`,
//! `[Function, d1]`, …, `[Function, d1…dn]`: alarms read the totals, the dashboard the breakdowns.
//! With `METRICS_TENANT_DIMENSION=true` (template parameter `MetricsPerTenant`) each metric also
//! gets `[Function, TenantId, d1…dn]`: a tenant's share, at the price of series per tenant. The
//! AWS calls' latency is one metric per function; the breakdown by service and operation is the
//! document's `AwsCalls` member (`{"DynamoDB.GetItem": [ms…]}`), which costs no series.
//!
//! Two values of one dimension in one invocation (two `Reason`s, say) cannot share a document: the
//! second goes to a second document. No journey records such a pair.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The namespace when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_NAMESPACE: &str = "Passwordless";

/// The most values one metric of an EMF document may carry (the specification's limit).
const MAX_VALUES: usize = 100;

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

/// One function's metrics: its namespace, its name, its sink and whether `TenantId` is a
/// dimension, built once per container.
#[derive(Clone, Debug)]
pub struct Recorder {
    namespace: Arc<str>,
    function: &'static str,
    sink: Sink,
    tenant_dimension: bool,
}

struct Invocation {
    recorded: Arc<Mutex<Recorded>>,
}

tokio::task_local! {
    static CURRENT: Invocation;
}

impl Recorder {
    /// A recorder without per-tenant dimension sets ([`Recorder::with_tenant_dimension`]).
    pub fn new(namespace: &str, function: &'static str, sink: Sink) -> Self {
        Self {
            namespace: Arc::from(namespace),
            function,
            sink,
            tenant_dimension: false,
        }
    }

    /// With `[Function, TenantId, …]` dimension sets beside the others: metric series per tenant.
    pub fn with_tenant_dimension(mut self, tenant_dimension: bool) -> Self {
        self.tenant_dimension = tenant_dimension;
        self
    }

    /// For a function on Lambda: `METRICS_NAMESPACE` (else [`DEFAULT_NAMESPACE`]), to stdout,
    /// `TenantId` a dimension when `METRICS_TENANT_DIMENSION` is `true`.
    pub fn from_env(function: &'static str) -> Self {
        let namespace = std::env::var("METRICS_NAMESPACE")
            .ok()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        let per_tenant = opted_in(std::env::var("METRICS_TENANT_DIMENSION").ok().as_deref());
        Self::new(&namespace, function, Sink::Stdout).with_tenant_dimension(per_tenant)
    }

    /// Runs one invocation: whatever it records is written, in one document, when it returns.
    pub async fn record<F: Future>(&self, invocation: F) -> F::Output {
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let current = Invocation {
            recorded: recorded.clone(),
        };
        // On the heap: a handler's future is large, and a debug build's stack is small.
        let output = CURRENT.scope(current, Box::pin(invocation)).await;
        let recorded = std::mem::take(&mut *lock(&recorded));
        for document in recorded.documents(self, now_millis()) {
            self.sink.write(document.to_string());
        }
        output
    }
}

/// `METRICS_TENANT_DIMENSION`'s value: `true` (any case) opts in; anything else, or nothing, not.
fn opted_in(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The tenant the current invocation serves, once the use case knows it.
pub fn set_tenant(tenant: Uuid) {
    let _ = CURRENT.try_with(|current| lock(&current.recorded).tenant = Some(tenant));
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

/// One metric of one invocation: a count's sum, or a latency's values.
#[derive(Debug)]
struct Metric {
    name: &'static str,
    unit: Unit,
    dimensions: Vec<(&'static str, String)>,
    values: Vec<f64>,
}

impl Metric {
    fn value(&self) -> Value {
        match self.unit {
            Unit::Count => json!(self.values.iter().sum::<f64>()),
            Unit::Milliseconds => json!(self.values),
        }
    }
}

/// What an invocation recorded, until it ends.
#[derive(Debug, Default)]
struct Recorded {
    tenant: Option<Uuid>,
    metrics: Vec<Metric>,
    /// `Service.Operation` → each call's milliseconds.
    aws_calls: BTreeMap<String, Vec<f64>>,
    failed_calls: Vec<String>,
}

impl Recorded {
    fn add(
        &mut self,
        name: &'static str,
        unit: Unit,
        value: f64,
        dimensions: &[(&'static str, &str)],
    ) {
        let same = |m: &&mut Metric| {
            m.name == name
                && m.dimensions.len() == dimensions.len()
                && m.dimensions
                    .iter()
                    .zip(dimensions)
                    .all(|((a, x), (b, y))| a == b && x == y)
                && (unit == Unit::Count || m.values.len() < MAX_VALUES)
        };
        match self.metrics.iter_mut().find(same) {
            Some(metric) if unit == Unit::Count => metric.values[0] += value,
            Some(metric) => metric.values.push(value),
            None => self.metrics.push(Metric {
                name,
                unit,
                dimensions: dimensions
                    .iter()
                    .map(|(n, v)| (*n, (*v).to_owned()))
                    .collect(),
                values: vec![value],
            }),
        }
    }

    /// The documents to write: one, unless two metrics need one dimension with two values (or
    /// one metric more than [`MAX_VALUES`] values).
    fn documents(self, recorder: &Recorder, timestamp: i64) -> Vec<Value> {
        let mut documents: Vec<Vec<Metric>> = Vec::new();
        for metric in self.metrics {
            let fits = |document: &Vec<Metric>| {
                document.iter().all(|other| {
                    other.name != metric.name
                        && metric.dimensions.iter().all(|(name, value)| {
                            other
                                .dimensions
                                .iter()
                                .all(|(n, v)| n != name || v == value)
                        })
                })
            };
            match documents.iter_mut().find(|d| fits(d)) {
                Some(document) => document.push(metric),
                None => documents.push(vec![metric]),
            }
        }
        let mut extra = Map::new();
        if !self.aws_calls.is_empty() {
            extra.insert("AwsCalls".into(), json!(self.aws_calls));
        }
        if !self.failed_calls.is_empty() {
            extra.insert("AwsCallsFailed".into(), json!(self.failed_calls));
        }
        documents
            .into_iter()
            .enumerate()
            .map(|(i, metrics)| {
                let mut doc = document(recorder, self.tenant, &metrics, timestamp);
                if i == 0 {
                    if let Value::Object(members) = &mut doc {
                        members.extend(extra.clone());
                    }
                }
                doc
            })
            .collect()
    }
}

fn emit(metric: &'static str, unit: Unit, value: f64, dimensions: &[(&'static str, &str)]) {
    let _ =
        CURRENT.try_with(|current| lock(&current.recorded).add(metric, unit, value, dimensions));
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// One EMF document (the specification's `_aws` metadata, then the dimension values and the
/// metric values as top-level members): one directive per list of dimension names.
fn document(
    recorder: &Recorder,
    tenant: Option<Uuid>,
    metrics: &[Metric],
    timestamp: i64,
) -> Value {
    let mut directives: Vec<(Vec<&str>, Vec<Value>)> = Vec::new();
    for metric in metrics {
        let names: Vec<&str> = metric.dimensions.iter().map(|(name, _)| *name).collect();
        let definition = json!({"Name": metric.name, "Unit": metric.unit.as_str()});
        match directives.iter_mut().find(|(n, _)| *n == names) {
            Some((_, definitions)) => definitions.push(definition),
            None => directives.push((names, vec![definition])),
        }
    }
    let per_tenant = recorder.tenant_dimension && tenant.is_some();
    let directives: Vec<Value> = directives
        .into_iter()
        .map(|(names, definitions)| {
            let mut sets: Vec<Vec<&str>> = (0..=names.len())
                .map(|n| {
                    std::iter::once("Function")
                        .chain(names[..n].iter().copied())
                        .collect()
                })
                .collect();
            if per_tenant {
                sets.push(
                    ["Function", "TenantId"]
                        .into_iter()
                        .chain(names.iter().copied())
                        .collect(),
                );
            }
            json!({"Namespace": &*recorder.namespace, "Dimensions": sets, "Metrics": definitions})
        })
        .collect();
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({"Timestamp": timestamp, "CloudWatchMetrics": directives}),
    );
    root.insert("Function".into(), json!(recorder.function));
    if let Some(tenant) = tenant {
        root.insert("TenantId".into(), json!(tenant.to_string()));
    }
    for metric in metrics {
        for (name, value) in &metric.dimensions {
            root.insert((*name).into(), json!(value));
        }
        root.insert(metric.name.into(), metric.value());
    }
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

/// How long one AWS call took, retries included: `AwsCallLatency` (one value per call) and
/// `AwsCallErrors` for a call that failed, by `Function`; the document's `AwsCalls` member lists
/// each call's milliseconds by `Service.Operation` (`DynamoDB.GetItem`, `SESv2.SendEmail`,
/// `SNS.Publish`…), its `AwsCallsFailed` member the failed ones.
pub fn aws_call(service: &str, operation: &str, millis: f64, failed: bool) {
    // A tenth of a millisecond is all a latency needs, and fewer digits are fewer log bytes.
    let millis = (millis * 10.0).round() / 10.0;
    let _ = CURRENT.try_with(|current| {
        let mut recorded = lock(&current.recorded);
        recorded.add("AwsCallLatency", Unit::Milliseconds, millis, &[]);
        let call = format!("{service}.{operation}");
        if failed {
            recorded.add("AwsCallErrors", Unit::Count, 1.0, &[]);
            recorded.failed_calls.push(call.clone());
        }
        recorded.aws_calls.entry(call).or_default().push(millis);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "f24aca2b-ce4a-4dad-951a-c9d690e71415";

    fn recorded_by(recorder: Recorder, lines: &Mutex<Vec<String>>, f: impl FnOnce()) -> Vec<Value> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(recorder.record(async { f() }));
        let lines = lock(lines).clone();
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn recorded(f: impl FnOnce()) -> Vec<Value> {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder::new("Test", "send", Sink::Lines(lines.clone()));
        recorded_by(recorder, &lines, f)
    }

    fn recorded_per_tenant(f: impl FnOnce()) -> Vec<Value> {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let recorder =
            Recorder::new("Test", "send", Sink::Lines(lines.clone())).with_tenant_dimension(true);
        recorded_by(recorder, &lines, f)
    }

    fn directive_of<'v>(line: &'v Value, metric: &str) -> &'v Value {
        line["_aws"]["CloudWatchMetrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| {
                d["Metrics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["Name"] == metric)
            })
            .unwrap_or_else(|| panic!("no directive for {metric} in {line}"))
    }

    fn a_journeys_send() {
        set_tenant(Uuid::parse_str(TENANT).unwrap());
        aws_call("DynamoDB", "GetItem", 3.04, false);
        aws_call("DynamoDB", "BatchGetItem", 4.0, false);
        aws_call("DynamoDB", "UpdateItem", 5.0, false);
        aws_call("DynamoDB", "UpdateItem", 6.0, false);
        aws_call("SNS", "Publish", 40.0, false);
        sent("sms", Some("US"));
        request(200);
    }

    #[test]
    fn an_invocation_writes_one_emf_document_with_every_metric_it_recorded() {
        let lines = recorded(a_journeys_send);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert!(line["_aws"]["Timestamp"].as_i64().unwrap() > 1_700_000_000_000);
        assert_eq!(line["Function"], "send");
        let sent = directive_of(line, "Sent");
        assert_eq!(sent["Namespace"], "Test");
        assert_eq!(
            sent["Dimensions"],
            json!([
                ["Function"],
                ["Function", "Channel"],
                ["Function", "Channel", "Country"]
            ])
        );
        assert_eq!(sent["Metrics"], json!([{"Name": "Sent", "Unit": "Count"}]));
        assert_eq!(
            (&line["Channel"], &line["Country"]),
            (&json!("sms"), &json!("US"))
        );
        assert_eq!(line["Sent"], 1.0);
        assert_eq!(line["Requests"], 1.0);
        assert_eq!(line["Status"], "200");
        // Every call's latency, one metric by function; the breakdown as a plain member.
        assert_eq!(
            directive_of(line, "AwsCallLatency")["Dimensions"],
            json!([["Function"]])
        );
        assert_eq!(line["AwsCallLatency"], json!([3.0, 4.0, 5.0, 6.0, 40.0]));
        assert_eq!(
            line["AwsCalls"],
            json!({"DynamoDB.BatchGetItem": [4.0], "DynamoDB.GetItem": [3.0],
                   "DynamoDB.UpdateItem": [5.0, 6.0], "SNS.Publish": [40.0]})
        );
        assert!(line.get("AwsCallErrors").is_none());
    }

    #[test]
    fn the_tenant_is_a_member_but_a_dimension_only_when_the_operator_opts_in() {
        let line = &recorded(a_journeys_send)[0];
        assert_eq!(line["TenantId"], TENANT);
        let sets = line["_aws"]["CloudWatchMetrics"].to_string();
        assert!(!sets.contains("TenantId"), "{sets}");

        let line = &recorded_per_tenant(a_journeys_send)[0];
        assert_eq!(line["TenantId"], TENANT);
        assert_eq!(
            directive_of(line, "Sent")["Dimensions"],
            json!([
                ["Function"],
                ["Function", "Channel"],
                ["Function", "Channel", "Country"],
                ["Function", "TenantId", "Channel", "Country"]
            ])
        );
        assert_eq!(
            directive_of(line, "AwsCallLatency")["Dimensions"],
            json!([["Function"], ["Function", "TenantId"]])
        );
    }

    #[test]
    fn only_true_opts_in_to_per_tenant_series() {
        assert!(opted_in(Some("true")) && opted_in(Some("TRUE")));
        for value in [None, Some(""), Some("false"), Some("1"), Some("yes")] {
            assert!(!opted_in(value), "{value:?}");
        }
    }

    #[test]
    fn counts_are_summed_and_a_failed_call_is_counted_with_its_operation() {
        let lines = recorded(|| {
            refused_code();
            refused_code();
            aws_call("SESv2", "SendEmail", 12.54, true);
            dependency_failure("send email");
            request(500);
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["RefusedCodes"], 2.0);
        assert_eq!(line["AwsCallErrors"], 1.0);
        assert_eq!(line["AwsCallsFailed"], json!(["SESv2.SendEmail"]));
        assert_eq!(line["AwsCallLatency"], json!([12.5]));
        assert_eq!(line["Operation"], "send email");
        assert_eq!(line["Outcome"], "error");
        assert!(line.get("TenantId").is_none(), "no tenant was known");
    }

    #[test]
    fn every_dimension_a_directive_names_is_a_member_and_every_metric_a_number_or_list() {
        let lines = recorded(|| {
            a_journeys_send();
            sms_guard_refused("prefix", "US");
            rate_limited("send-sms");
        });
        assert_eq!(lines.len(), 1, "the same Country shares the document");
        for line in &lines {
            for directive in line["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
                for set in directive["Dimensions"].as_array().unwrap() {
                    for name in set.as_array().unwrap() {
                        let name = name.as_str().unwrap();
                        assert!(line[name].is_string(), "{name} missing from {line}");
                    }
                }
                for metric in directive["Metrics"].as_array().unwrap() {
                    let value = &line[metric["Name"].as_str().unwrap()];
                    assert!(value.is_number() || value.is_array(), "{line}");
                }
            }
        }
    }

    #[test]
    fn two_values_of_one_dimension_go_to_two_documents() {
        let lines = recorded(|| {
            suppression("bounce");
            suppression("complaint");
            suppression("bounce");
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            (&lines[0]["Reason"], &lines[0]["Suppressions"]),
            (&json!("bounce"), &json!(2.0))
        );
        assert_eq!(
            (&lines[1]["Reason"], &lines[1]["Suppressions"]),
            (&json!("complaint"), &json!(1.0))
        );
    }

    #[test]
    fn a_latency_list_holds_at_most_a_hundred_values() {
        let lines = recorded(|| {
            for _ in 0..150 {
                aws_call("DynamoDB", "GetItem", 1.0, false);
            }
        });
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["AwsCallLatency"].as_array().unwrap().len(), 100);
        assert_eq!(lines[1]["AwsCallLatency"].as_array().unwrap().len(), 50);
    }

    #[test]
    fn an_invocation_that_records_nothing_writes_nothing() {
        assert!(recorded(|| {}).is_empty());
    }

    #[test]
    fn outside_an_invocation_nothing_is_written() {
        // No recorder: the admin CLI and plain unit tests print no metrics. It must not panic.
        request(200);
        sent("email", None);
    }
}
