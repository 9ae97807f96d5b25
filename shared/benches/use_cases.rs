//! CPU per request, in process, with the ports' in-memory fakes: what a warm function spends of
//! its own between receiving an API Gateway event and returning the response, AWS aside.
//!
//! The data is `bench/kickstart.json`: a tenant whose JWTs are signed with an ES256 key, so that
//! `login` includes an ES256 signature. The request (`lambda_http::request::from_str`) is built
//! outside the measured part; the handler, its parsing, the use case and the response are in it.

use api_gateway_events::Event;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use passwordless::memory::MemoryServices;
use serde_json::{json, Value};

const KICKSTART: &str = include_str!("../../bench/kickstart.json");
const API_KEY: &str = "bench-api-key-0123456789abcdef0123456789";
const APPLICATION: &str = "b0000000-0000-4000-8000-0000000000a1";
const EMAIL: &str = "ada@bench.example.com";

fn services() -> MemoryServices {
    passwordless::memory::services(
        passwordless::kickstart::parse(KICKSTART).expect("the bench kickstart"),
    )
}

/// The request a POST of `body` to `path` becomes (without `Host`, as these benches always sent
/// it).
fn event(path: &str, headers: &[(&str, &str)], body: &Value) -> lambda_http::Request {
    let event = Event::post(path)
        .without_header("host")
        .headers(headers.iter().copied())
        .json_body(body)
        .user_agent("bench")
        .request_id("bench")
        .to_json();
    lambda_http::request::from_str(&event.to_string()).expect("an API Gateway v2 event")
}

fn start_request() -> lambda_http::Request {
    event(
        "/api/passwordless/start",
        &[("authorization", API_KEY)],
        &json!({"applicationId": APPLICATION, "loginId": EMAIL}),
    )
}

fn status_and_body(response: lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = match response.body() {
        lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, body)
}

fn use_cases(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let services = services();
    let new_code = || {
        let (status, body) = status_and_body(runtime.block_on(passwordless::http::start::handle(
            &services.start,
            start_request(),
        )));
        assert_eq!(status, 200, "{body}");
        body["code"].as_str().expect("a code").to_owned()
    };
    // Each measured function must succeed: a benchmark of an error path would flatter.
    let login_request = |code: &str| {
        event(
            "/api/passwordless/login",
            &[],
            &json!({"code": code, "applicationId": APPLICATION, "ipAddress": "203.0.113.7"}),
        )
    };
    let (status, body) = status_and_body(runtime.block_on(passwordless::http::login::handle(
        &services.login,
        login_request(&new_code()),
    )));
    assert_eq!(status, 200, "{body}");
    assert!(body["token"].as_str().is_some_and(|t| t.starts_with("eyJ")));

    // One input per iteration: a start supersedes the user's earlier codes, so codes drawn ahead
    // in a batch would all but the last be refused, and the error path measured instead.
    let succeeded = |response: lambda_http::Response<lambda_http::Body>| {
        assert_eq!(response.status(), 200, "a measured call must succeed");
    };
    c.bench_function("start", |b| {
        b.iter_batched(
            start_request,
            |request| {
                succeeded(
                    runtime.block_on(passwordless::http::start::handle(&services.start, request)),
                )
            },
            BatchSize::PerIteration,
        )
    });
    c.bench_function("send (email)", |b| {
        b.iter_batched(
            || event("/api/passwordless/send", &[], &json!({"code": new_code()})),
            |request| {
                succeeded(
                    runtime.block_on(passwordless::http::send::handle(&services.send, request)),
                )
            },
            BatchSize::PerIteration,
        )
    });
    c.bench_function("login (ES256)", |b| {
        b.iter_batched(
            || login_request(&new_code()),
            |request| {
                succeeded(
                    runtime.block_on(passwordless::http::login::handle(&services.login, request)),
                )
            },
            BatchSize::PerIteration,
        )
    });
}

criterion_group!(benches, use_cases);
criterion_main!(benches);
