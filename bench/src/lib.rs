//! The benchmark harness: a local Lambda Runtime API emulator, the API Gateway v2 events the
//! benchmarks send, and the small statistics they report.

pub mod emulator;

use api_gateway_events::Event;
use serde_json::{json, Value};

/// The benchmark kickstart (`bench/kickstart.json`): one tenant with an ES256 signing key and a
/// high send limit, one application, one API key and one user.
pub const KICKSTART: &str = include_str!("../kickstart.json");
pub const API_KEY: &str = "bench-api-key-0123456789abcdef0123456789";
pub const APPLICATION: &str = "b0000000-0000-4000-8000-0000000000a1";
pub const EMAIL: &str = "ada@bench.example.com";

/// An API Gateway HTTP API (payload v2) event, as API Gateway sends it (`api_gateway_events`):
/// a POST to `path` with `body` as JSON text and `headers` over the default ones.
pub fn event(path: &str, headers: &[(&str, &str)], body: &Value) -> Value {
    Event::post(path)
        .headers(headers.iter().copied())
        .json_body(body)
        .user_agent("bench")
        .request_id("bench-request")
        .to_json()
}

/// A start for the benchmark user, with the benchmark API key.
pub fn start_event(strategy: Option<&str>) -> Value {
    let mut body = json!({"applicationId": APPLICATION, "loginId": EMAIL});
    if let Some(strategy) = strategy {
        body["loginStrategy"] = json!(strategy);
    }
    event(
        "/api/passwordless/start",
        &[("authorization", API_KEY)],
        &body,
    )
}

pub fn send_event(code: &str) -> Value {
    event("/api/passwordless/send", &[], &json!({"code": code}))
}

pub fn login_event(code: &str, one_time_code: Option<&str>) -> Value {
    let mut body = json!({"code": code, "applicationId": APPLICATION, "ipAddress": "203.0.113.7"});
    if let Some(otc) = one_time_code {
        body["oneTimeCode"] = json!(otc);
    }
    event("/api/passwordless/login", &[], &body)
}

/// The benchmark user's id.
pub const USER: &str = "b0000000-0000-4000-8000-0000000000b1";

/// An exchange of `refresh_token` (the benchmark application rotates its tokens: `OneTimeUse`,
/// the costlier policy).
pub fn refresh_event(refresh_token: &str) -> Value {
    event(
        "/api/jwt/refresh",
        &[],
        &json!({"refreshToken": refresh_token}),
    )
}

/// A `GET` of `path?query`, as API Gateway sends it.
pub fn get_event(path: &str, query: &str, headers: &[(&str, &str)]) -> Value {
    Event::get(path)
        .query(query)
        .headers(headers.iter().copied())
        .user_agent("bench")
        .request_id("bench-request")
        .to_json()
}

/// A revocation of every refresh token of the benchmark user.
pub fn revoke_event() -> Value {
    Event::delete("/api/jwt/refresh")
        .query(&format!("userId={USER}"))
        .header("authorization", API_KEY)
        .user_agent("bench")
        .request_id("bench-request")
        .to_json()
}

/// The status and parsed body of a function's API Gateway response.
pub fn response_status_and_body(response: &[u8]) -> (u16, Value) {
    let value: Value = serde_json::from_slice(response).unwrap_or(Value::Null);
    let status = value["statusCode"].as_u64().unwrap_or(0) as u16;
    let body = value["body"]
        .as_str()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// A process's peak resident set (VmHWM) and current one (VmRSS), in KiB.
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

/// The CPU time a process has run so far, all its threads together (the scheduler's own
/// nanosecond count, `/proc/<pid>/task/*/schedstat`), in milliseconds.
pub fn cpu_ms(pid: u32) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut nanos = 0u64;
    for task in tasks.flatten() {
        let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        nanos += schedstat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(nanos as f64 / 1e6)
}
