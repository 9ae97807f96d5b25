//! What a login costs in CloudWatch Logs: every byte the three functions of an email-code journey
//! (start, send, login with the one-time code) write, their JSON log lines as Lambda's JSON log
//! format prints them (inside the runtime's per-invocation span) and their EMF documents.

use std::io::Write;
use std::sync::{Arc, Mutex};

use lambda_http::tracing;
use lambda_http::tracing::subscriber::fmt::MakeWriter;
use lambda_http::tracing::subscriber::util::SubscriberInitExt;
use serde_json::{json, Value};

use crate::helpers::*;

/// The journey's budget (the cost-floor issue): 4 KB.
const JOURNEY_LOG_BYTES: usize = 4096;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The span lambda_runtime opens around each invocation, with a request and trace id as Lambda
/// gives them.
fn invocation_span() -> tracing::Span {
    tracing::info_span!(
        "Lambda runtime invoke",
        requestId = %uuid::Uuid::new_v4(),
        xrayTraceId = "Root=1-6752f1c2-3f1a2b4c5d6e7f8091a2b3c4;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=1:f2d4e6a8:0"
    )
}

/// The bytes one response's EMF documents take on stdout, one line each.
fn emf_bytes(response: &TestResponse) -> usize {
    response
        .metrics
        .iter()
        .map(|l| l.to_string().len() + 1)
        .sum()
}

#[tokio::test]
async fn an_email_code_journey_writes_at_most_4_kb_of_logs_and_metrics() {
    let app = TestApp::spawn().await;
    let captured = Captured::default();
    let subscriber = passwordless::logging::subscriber(captured.clone());
    let _default = subscriber.set_default();

    let start = {
        let span = invocation_span();
        let _entered = span.enter();
        app.start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com",
                   "loginStrategy": "FormField"}),
        ))
        .await
    };
    assert_eq!(start.status, 200, "{}", start.body);
    let started: Value = start.json();
    let code = started["code"].as_str().unwrap().to_owned();
    let one_time_code = started["oneTimeCode"].as_str().unwrap().to_owned();
    let send = {
        let span = invocation_span();
        let _entered = span.enter();
        app.send(json!({"code": code})).await
    };
    assert_eq!(send.status, 200, "{}", send.body);
    let login = {
        let span = invocation_span();
        let _entered = span.enter();
        app.login(json!({"code": code, "oneTimeCode": one_time_code, "applicationId": WEB_APP}))
            .await
    };
    assert_eq!(login.status, 200, "{}", login.body);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let emf: usize = [&start, &send, &login].into_iter().map(emf_bytes).sum();
    let documents: Vec<usize> = [&start, &send, &login]
        .into_iter()
        .map(|r| r.metrics.len())
        .collect();
    let emf_lines: Vec<String> = [&start, &send, &login]
        .into_iter()
        .flat_map(|r| r.metrics.iter().map(Value::to_string))
        .collect();
    println!(
        "journey: {} bytes of log lines, {emf} bytes of EMF in {documents:?} documents\n{logs}{}",
        logs.len(),
        emf_lines.join("\n")
    );
    for (function, response) in [("start", &start), ("send", &send), ("login", &login)] {
        assert_eq!(response.metrics.len(), 1, "{function}: one EMF document");
    }
    for secret in [
        code.as_str(),
        one_time_code.as_str(),
        GLOBAL_KEY,
        "richard@",
    ] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
    assert!(
        logs.len() + emf <= JOURNEY_LOG_BYTES,
        "{} bytes of logs and {emf} of EMF:\n{logs}",
        logs.len()
    );
}
