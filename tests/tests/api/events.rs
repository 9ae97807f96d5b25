//! The sample events in `events/`: each one, driven through its function's handler, gets the
//! status `events/expected.json` promises for it. An event that needs a live code carries the
//! placeholder `REPLACE_WITH_CODE_FROM_START` in its body; its entry in `expected.json` gives the
//! start request (`codeFromStart`) whose code replaces it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::helpers::TestApp;

const CODE_PLACEHOLDER: &str = "REPLACE_WITH_CODE_FROM_START";

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

/// Every `events/*.json` but `expected.json`, by file name.
fn event_files() -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(events_dir())
        .expect("the events directory exists")
        .map(|entry| entry.expect("the events directory is readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            (name != "expected.json").then_some((name, path))
        })
        .collect()
}

#[tokio::test]
async fn every_sample_event_gets_the_status_expected_json_gives_it() {
    let expected = read_json(&events_dir().join("expected.json"));
    let expected = expected
        .as_object()
        .expect("expected.json maps file names to expectations");
    let files = event_files();
    assert!(!files.is_empty(), "no sample events in events/");

    let unlisted: Vec<&String> = files
        .keys()
        .filter(|f| !expected.contains_key(*f))
        .collect();
    assert!(
        unlisted.is_empty(),
        "event files missing from events/expected.json: {unlisted:?}"
    );
    let missing: Vec<&String> = expected
        .keys()
        .filter(|f| !files.contains_key(*f))
        .collect();
    assert!(
        missing.is_empty(),
        "events/expected.json lists files that do not exist: {missing:?}"
    );

    let app = TestApp::spawn().await;
    let mut failures = Vec::new();
    for (name, path) in &files {
        let expectation = &expected[name];
        let function = expectation["function"].as_str().unwrap_or_default();
        let status = expectation["status"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: expected.json gives no numeric status"));
        let mut event = read_json(path);
        let body = event["body"].as_str().unwrap_or_default().to_owned();
        match (
            body.contains(CODE_PLACEHOLDER),
            expectation.get("codeFromStart"),
        ) {
            (true, Some(start_body)) => {
                let started = app.start_code(start_body.clone()).await;
                let code = started["code"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: the start gave no code: {started}"));
                event["body"] = Value::String(body.replace(CODE_PLACEHOLDER, code));
            }
            (true, None) => {
                failures.push(format!(
                    "{name}: the body holds {CODE_PLACEHOLDER} but expected.json gives no codeFromStart"
                ));
                continue;
            }
            (false, Some(_)) => {
                failures.push(format!(
                    "{name}: expected.json gives a codeFromStart but the body has no {CODE_PLACEHOLDER}"
                ));
                continue;
            }
            (false, None) => {}
        }
        let response = match function {
            "start" => app.start(event).await,
            "send" => app.send_event(event).await,
            "login" => app.login_event(event).await,
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
