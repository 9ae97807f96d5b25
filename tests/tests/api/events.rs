//! The sample events in `events/`: API Gateway HTTP API (payload format 2.0) events, exactly as
//! API Gateway hands them to a function, for the reference kickstart
//! `tests/fixtures/kickstart.example.json`, and for the suppress function (not HTTP) SNS events
//! as the feedback topic delivers them. `events/` holds nothing else, so that
//! `sam local invoke StartFunction -e events/X.json` and
//! `cargo lambda invoke -A 127.0.0.1 -P 9011 start --data-file events/X.json` work on every file
//! there. What each event is and what it gets lives here, in `events.expected.json` (file name →
//! `function`, `status`, `case`, and for some a `codeFromStart` or a `refreshTokenFromLogin`);
//! each event, driven through its function's handler, gets that status (an SNS event: suppresses
//! `suppressed` addresses). A new event file must be listed there, or the test fails.
//!
//! # The code placeholder
//!
//! A code lives at most a few minutes and exists only once started, so an event cannot carry one.
//! Events that need a live code carry `REPLACE_WITH_CODE_FROM_START` in their body (the landing
//! page's, in their path) instead, and
//! their entry has a `codeFromStart`: the start request whose code replaces it. The test starts
//! that login first (with the reference kickstart's global API key) and substitutes the code. By
//! hand, against the local loop (`KICKSTART=tests/fixtures/kickstart.example.json make dev`), do
//! the same:
//!
//! ```sh
//! code=$(cargo lambda invoke -A 127.0.0.1 -P 9011 start --data-file events/start-email.json \
//!   | python3 -c 'import json,sys; print(json.loads(json.load(sys.stdin)["body"])["code"])')
//! sed "s/REPLACE_WITH_CODE_FROM_START/$code/" events/login-success.json > /tmp/login.json
//! cargo lambda invoke -A 127.0.0.1 -P 9011 login --data-file /tmp/login.json
//! ```
//!
//! (`content-length` in these events is already the length with a real, 43-character code.)
//!
//! # The refresh token placeholder
//!
//! Likewise for a refresh token, which only a login issues: events that need one carry
//! `REPLACE_WITH_REFRESH_TOKEN_FROM_LOGIN`, and their entry has a `refreshTokenFromLogin`: the
//! start request of the login whose refresh token replaces it. The test starts that login,
//! completes it with the code and the same `applicationId`, and substitutes the refresh token
//! (`content-length` is already the length with a real, 107-character one).
//!
//! With SAM, where a container runtime is installed, after `make build` (the function needs the
//! tables and their content: `--env-vars` with `DIRECTORY_TABLE`, `CODES_TABLE` and AWS
//! credentials that reach them): `sam local invoke StartFunction -e events/start-email.json
//! --env-vars env.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use passwordless::http;
use serde_json::{json, Value};

use crate::helpers::{request, TestApp, TestResponse};

const CODE_PLACEHOLDER: &str = "REPLACE_WITH_CODE_FROM_START";
const REFRESH_TOKEN_PLACEHOLDER: &str = "REPLACE_WITH_REFRESH_TOKEN_FROM_LOGIN";

/// The expectations, from the repository's root.
const EXPECTATIONS: &str = "tests/tests/api/events.expected.json";

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

/// Every file in `events/`, by file name.
fn event_files() -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(events_dir())
        .expect("the events directory exists")
        .map(|entry| entry.expect("the events directory is readable").path())
        .map(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            (name.into_owned(), path)
        })
        .collect()
}

fn expectations() -> Value {
    read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(EXPECTATIONS),
    )
}

/// An SNS event as Lambda delivers a topic's messages: `Records[]`, each from `aws:sns` with its
/// `Sns.Message` text.
fn is_sns_event(event: &Value) -> bool {
    event["Records"].as_array().is_some_and(|records| {
        !records.is_empty()
            && records
                .iter()
                .all(|r| r["EventSource"] == "aws:sns" && r["Sns"]["Message"].is_string())
    })
}

/// What `sam local invoke -e` and `cargo lambda invoke --data-file` need of every file there: a
/// JSON API Gateway v2 event, which lambda_http reads as one, or, for the suppress function, an
/// SNS event. A README or a manifest in `events/` would be offered as an event too.
#[test]
fn every_file_in_events_is_an_api_gateway_v2_event_or_for_the_suppress_function_an_sns_event() {
    let files = event_files();
    assert!(!files.is_empty(), "no sample events in events/");
    let expected = expectations();
    let mut failures = Vec::new();
    for (name, path) in &files {
        if !name.ends_with(".json") || !path.is_file() {
            failures.push(format!("{name}: not a .json file"));
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if expected[name]["function"] == "suppress" {
            let event: Value = serde_json::from_str(&text).unwrap_or_default();
            if !is_sns_event(&event) {
                failures.push(format!(
                    "{name}: the suppress function's event is not an SNS event"
                ));
            }
            continue;
        }
        match serde_json::from_str::<lambda_http::request::LambdaRequest>(&text) {
            Ok(lambda_http::request::LambdaRequest::ApiGatewayV2(_)) => {}
            Ok(_) => failures.push(format!("{name}: an event, but not API Gateway v2")),
            Err(e) => failures.push(format!("{name}: not an API Gateway event: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_sample_event_gets_the_status_its_expectation_gives_it() {
    let expected = expectations();
    let expected = expected
        .as_object()
        .expect("events.expected.json maps file names to expectations");
    let files = event_files();
    assert!(!files.is_empty(), "no sample events in events/");

    let unlisted: Vec<&String> = files
        .keys()
        .filter(|f| !expected.contains_key(*f))
        .collect();
    assert!(
        unlisted.is_empty(),
        "event files missing from {EXPECTATIONS}: {unlisted:?}"
    );
    let missing: Vec<&String> = expected
        .keys()
        .filter(|f| !files.contains_key(*f))
        .collect();
    assert!(
        missing.is_empty(),
        "{EXPECTATIONS} lists files that do not exist in events/: {missing:?}"
    );

    let app = TestApp::spawn().await;
    let mut failures = Vec::new();
    for (name, path) in &files {
        let expectation = &expected[name];
        let function = expectation["function"].as_str().unwrap_or_default();
        if function == "suppress" {
            let wanted = expectation["suppressed"].as_u64();
            let (recorded, _) = app.suppress(read_json(path)).await;
            match recorded {
                Ok(r) if Some(r.suppressed as u64) == wanted => {}
                other => failures.push(format!(
                    "{name}: expected {wanted:?} suppressed, got {other:?}"
                )),
            }
            continue;
        }
        let status = expectation["status"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: {EXPECTATIONS} gives no numeric status"));
        if expectation["case"].as_str().is_none_or(str::is_empty) {
            failures.push(format!(
                "{name}: {EXPECTATIONS} does not say what case it is"
            ));
        }
        let mut event = read_json(path);
        // The landing page's events carry the code in their path, the others in their body.
        let text = event.to_string();
        match (
            text.contains(CODE_PLACEHOLDER),
            expectation.get("codeFromStart"),
        ) {
            (true, Some(start_body)) => {
                let started = app.start_code(start_body.clone()).await;
                let code = started["code"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: the start gave no code: {started}"));
                event = serde_json::from_str(&text.replace(CODE_PLACEHOLDER, code))
                    .expect("the event with its code is JSON");
            }
            (true, None) => {
                failures.push(format!(
                    "{name}: the body holds {CODE_PLACEHOLDER} but {EXPECTATIONS} gives no codeFromStart"
                ));
                continue;
            }
            (false, Some(_)) => {
                failures.push(format!(
                    "{name}: {EXPECTATIONS} gives a codeFromStart but the body has no {CODE_PLACEHOLDER}"
                ));
                continue;
            }
            (false, None) => {}
        }
        let body = event["body"].as_str().unwrap_or_default().to_owned();
        match (
            body.contains(REFRESH_TOKEN_PLACEHOLDER),
            expectation.get("refreshTokenFromLogin"),
        ) {
            (true, Some(start_body)) => {
                let started = app.start_code(start_body.clone()).await;
                let login = app
                    .login(json!({
                        "code": started["code"],
                        "applicationId": start_body["applicationId"],
                    }))
                    .await;
                let login = login.json();
                let token = login["refreshToken"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: the login gave no refresh token: {login}"));
                event["body"] = Value::String(body.replace(REFRESH_TOKEN_PLACEHOLDER, token));
            }
            (true, None) => {
                failures.push(format!(
                    "{name}: the body holds {REFRESH_TOKEN_PLACEHOLDER} but {EXPECTATIONS} gives no refreshTokenFromLogin"
                ));
                continue;
            }
            (false, Some(_)) => {
                failures.push(format!(
                    "{name}: {EXPECTATIONS} gives a refreshTokenFromLogin but the body has no {REFRESH_TOKEN_PLACEHOLDER}"
                ));
                continue;
            }
            (false, None) => {}
        }
        let response = match function {
            "start" => app.start(event).await,
            "send" => app.send_event(event).await,
            "login" => app.login_event(event).await,
            "landing" => app.landing_event(event).await,
            "token" => app.token_event(event).await,
            "logout" => app.logout_event(event).await,
            "authorize" => app.authorize_event(event).await,
            "authorize-wait" => app.authorize_wait_event(event).await,
            "api-logout" => app.api_logout_event(event).await,
            "refresh" => app.refresh_event(event).await,
            "user" => app.user_event(event).await,
            "revoke" => TestResponse::from(
                http::revoke::handle(&app.revoke_fn.services, request(event)).await,
            ),
            // The JWKS handler reads nothing of the request.
            "jwks" => {
                let _parsed = request(event);
                TestResponse::from(http::keys::json_web_key_set(&app.jwks_fn.services).await)
            }
            "public-key" => TestResponse::from(
                http::keys::public_key(&app.public_key_fn.services, request(event)).await,
            ),
            "openid-configuration" => TestResponse::from(
                http::discovery::handle(&app.discovery_fn.services, request(event)).await,
            ),
            "userinfo" => app.userinfo_event(event).await,
            "registration" => TestResponse::from(
                http::registration::handle(&app.registration_fn.services, request(event)).await,
            ),
            "user-import" => TestResponse::from(
                http::user_import::handle(&app.import_fn.services, request(event)).await,
            ),
            "validate" => TestResponse::from(
                http::validate::handle(&app.validate_fn.services, request(event)).await,
            ),
            other => {
                failures.push(format!(
                    "{name}: no handler for function {other:?} in this test yet"
                ));
                continue;
            }
        };
        if u64::from(response.status) != status {
            failures.push(format!(
                "{name}: expected {status}, got {} with body {:?}",
                response.status, response.body
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
