//! The builder makes the events `events/` holds: each sample event, rebuilt from its method, path,
//! query, headers, cookies, body and request context, is the sample itself. A field the builder forgets,
//! or sets where API Gateway does not, fails here.

use std::path::Path;

use api_gateway_events::Event;
use serde_json::Value;

fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not text: {value}"))
}

fn rebuilt(sample: &Value) -> Value {
    let http = &sample["requestContext"]["http"];
    let mut event = Event::new(
        text(&http["method"], "the method"),
        text(&sample["rawPath"], "rawPath"),
    )
    .source_ip(text(&http["sourceIp"], "sourceIp"))
    .user_agent(text(&http["userAgent"], "userAgent"))
    .request_id(text(&sample["requestContext"]["requestId"], "requestId"))
    .query(text(&sample["rawQueryString"], "rawQueryString"));
    // A GET has no content type: the builder's default goes.
    if sample["headers"].get("content-type").is_none() {
        event = event.without_header("content-type");
    }
    for (name, value) in sample["headers"].as_object().expect("headers") {
        event = event.header(name, text(value, name));
    }
    for cookie in sample["cookies"].as_array().into_iter().flatten() {
        event = event.cookie(text(cookie, "a cookie"));
    }
    match (&sample["body"], &sample["isBase64Encoded"]) {
        (Value::String(body), Value::Bool(false)) => event = event.body(body),
        (Value::Null, _) => {}
        other => panic!("a body the samples do not have: {other:?}"),
    }
    event.to_json()
}

#[test]
fn every_api_gateway_sample_event_is_what_the_builder_makes_of_its_parts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut samples = 0;
    for entry in std::fs::read_dir(&dir).expect("events/ exists") {
        let path = entry.expect("events/ is readable").path();
        let sample: Value = serde_json::from_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        // The suppress function's SNS events are not API Gateway's: tests/tests/api/events.rs
        // checks their shape.
        if sample.get("Records").is_some() {
            continue;
        }
        assert_eq!(rebuilt(&sample), sample, "{}", path.display());
        samples += 1;
    }
    assert!(samples > 0, "no sample events in {}", dir.display());
}
