//! CPU per request in process, with the ports' in-memory fakes, built with the deploy profile:
//! the handler (parsing, use case, response) timed call by call, the request built outside the
//! timed part. The same measurement as `shared/benches/use_cases.rs` (criterion), without
//! criterion's separate build of the whole dependency tree; `make bench` runs both.
//!
//! Prints `{"start": {...}, "send (email)": {...}, "login (ES256)": {...}, "refresh (ES256,
//! OneTimeUse)": {...}}` with median and p90 in µs.

use std::time::Instant;

use passwordless::memory::MemoryServices;
use serde_json::{json, Value};

const ROUNDS: usize = 3000;
const WARM_UP: usize = 300;

fn services() -> MemoryServices {
    passwordless::memory::services(
        passwordless::kickstart::parse(bench::KICKSTART).expect("the bench kickstart"),
    )
}

fn request(event: &Value) -> lambda_http::Request {
    lambda_http::request::from_str(&event.to_string()).expect("an API Gateway v2 event")
}

fn status_and_body(response: lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = match response.body() {
        lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, body)
}

fn summary(mut micros: Vec<f64>) -> Value {
    micros.sort_by(f64::total_cmp);
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize];
    json!({"median_us": at(0.5), "p90_us": at(0.9), "min_us": micros[0], "rounds": micros.len()})
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let services = services();
    let start = |services: &MemoryServices| {
        runtime.block_on(passwordless::http::start::handle(
            &services.start,
            request(&bench::start_event(None)),
        ))
    };
    let new_code = || {
        let (status, body) = status_and_body(start(&services));
        assert_eq!(status, 200, "{body}");
        body["code"].as_str().expect("a code").to_owned()
    };
    let mut out = serde_json::Map::new();

    let mut times = Vec::with_capacity(ROUNDS);
    for i in 0..WARM_UP + ROUNDS {
        let req = request(&bench::start_event(None));
        let t = Instant::now();
        let response = runtime.block_on(passwordless::http::start::handle(&services.start, req));
        let elapsed = t.elapsed().as_secs_f64() * 1e6;
        assert_eq!(response.status().as_u16(), 200);
        if i >= WARM_UP {
            times.push(elapsed);
        }
    }
    out.insert("start".into(), summary(times));

    let mut times = Vec::with_capacity(ROUNDS);
    for i in 0..WARM_UP + ROUNDS {
        let req = request(&bench::send_event(&new_code()));
        let t = Instant::now();
        let response = runtime.block_on(passwordless::http::send::handle(&services.send, req));
        let elapsed = t.elapsed().as_secs_f64() * 1e6;
        assert_eq!(response.status().as_u16(), 200);
        if i >= WARM_UP {
            times.push(elapsed);
        }
    }
    out.insert("send (email)".into(), summary(times));

    let mut times = Vec::with_capacity(ROUNDS);
    for i in 0..WARM_UP + ROUNDS {
        let req = request(&bench::login_event(&new_code(), None));
        let t = Instant::now();
        let response = runtime.block_on(passwordless::http::login::handle(&services.login, req));
        let elapsed = t.elapsed().as_secs_f64() * 1e6;
        let (status, body) = status_and_body(response);
        assert_eq!(status, 200, "{body}");
        if i >= WARM_UP {
            times.push(elapsed);
        }
    }
    out.insert("login (ES256)".into(), summary(times));

    // One login, then each exchange presents the token the one before handed out (OneTimeUse).
    let login = runtime.block_on(passwordless::http::login::handle(
        &services.login,
        request(&bench::login_event(&new_code(), None)),
    ));
    let (status, body) = status_and_body(login);
    assert_eq!(status, 200, "{body}");
    let mut token = body["refreshToken"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    let mut times = Vec::with_capacity(ROUNDS);
    for i in 0..WARM_UP + ROUNDS {
        let req = request(&bench::refresh_event(&token));
        let t = Instant::now();
        let response =
            runtime.block_on(passwordless::http::refresh::handle(&services.refresh, req));
        let elapsed = t.elapsed().as_secs_f64() * 1e6;
        let (status, body) = status_and_body(response);
        assert_eq!(status, 200, "{body}");
        token = body["refreshToken"]
            .as_str()
            .expect("a refresh token")
            .to_owned();
        if i >= WARM_UP {
            times.push(elapsed);
        }
    }
    out.insert("refresh (ES256, OneTimeUse)".into(), summary(times));
    println!("{}", Value::Object(out));
}
