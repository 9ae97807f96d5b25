//! Arbitrary bodies and headers through each handler over in-memory ports, as the functions'
//! `http::run` hands them over: a handler must never panic and never answer a client's input with
//! a 5xx. `Host` is not varied: API Gateway sets it (see shared/tests/hostile_input.rs).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[path = "../../shared/tests/support/memory_app.rs"]
mod memory_app;

use memory_app::Endpoint;

#[derive(Arbitrary, Debug)]
struct Input {
    endpoint: u8,
    body: Vec<u8>,
    base64: bool,
    authorization: Option<String>,
    use_real_key: bool,
    tenant: Option<String>,
    cookie: Option<String>,
    forwarded_for: Option<String>,
    forwarded_proto: Option<String>,
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    static SERVICES: passwordless::memory::MemoryServices = memory_app::services(memory_app::KICKSTART);
}

fuzz_target!(|input: Input| {
    let endpoint = Endpoint::ALL[usize::from(input.endpoint) % Endpoint::ALL.len()];
    let mut headers = Vec::new();
    let key = if input.use_real_key {
        Some(memory_app::GLOBAL_KEY.to_owned())
    } else {
        input.authorization
    };
    for (name, value) in [
        ("authorization", key),
        ("x-fusionauth-tenantid", input.tenant),
        ("cookie", input.cookie),
        ("x-forwarded-for", input.forwarded_for),
        ("x-forwarded-proto", input.forwarded_proto),
    ] {
        if let Some(value) = value {
            headers.push((name.to_owned(), value));
        }
    }
    let event = memory_app::event(endpoint, &headers, &input.body, input.base64);
    let Some(request) = memory_app::request(&event) else {
        return;
    };
    let status = SERVICES
        .with(|services| {
            RUNTIME.with(|rt| rt.block_on(memory_app::handle(services, endpoint, request)))
        })
        .status();
    assert!(
        !status.is_server_error(),
        "{status} for {endpoint:?} {event}"
    );
});
