//! Enumeration (issue 7, property 5): the anonymous endpoints give an attacker nothing to tell
//! codes or users apart by. Login's 404 is byte for byte the same — status, headers, body — for
//! an unknown, expired, used or superseded code and for a deactivated user's code; legacy send
//! answers a known and an unknown login id alike. (Latency is measured, not asserted:
//! `scripts/enumeration_latency.py`.)

use serde_json::json;

use crate::clock::TestClock;
use crate::helpers::*;

const BIGHEAD_INACTIVE: &str = "bighead@hooli.com";

async fn code_for(app: &TestApp, login_id: &str) -> String {
    app.start_code(json!({"applicationId": WEB_APP, "loginId": login_id}))
        .await["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Status, every header (name and value, in order) and body bytes.
fn wire(response: &TestResponse) -> (u16, Vec<(String, String)>, String) {
    let headers = response
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    (response.status, headers, response.body.clone())
}

#[tokio::test]
async fn login_answers_unknown_expired_used_superseded_codes_and_a_deactivated_user_byte_for_byte_alike(
) {
    let clock = TestClock::now();
    let app = TestApp::spawn_with_clock(clock.clone()).await;

    let unknown = app
        .login(json!({"code": "CynAUMCHLxCCAWyHXOVWPQd8ZY0a6U0e3YpYkT0MNxs", "applicationId": WEB_APP}))
        .await;

    let used_code = code_for(&app, "richard@piedpiper.com").await;
    let first = app
        .login(json!({"code": used_code, "applicationId": WEB_APP}))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let used = app
        .login(json!({"code": used_code, "applicationId": WEB_APP}))
        .await;

    let superseded_code = code_for(&app, "jared@piedpiper.com").await;
    code_for(&app, "jared@piedpiper.com").await;
    let superseded = app
        .login(json!({"code": superseded_code, "applicationId": WEB_APP}))
        .await;

    let deactivated_code = code_for(&app, BIGHEAD_INACTIVE).await;
    let deactivated = app
        .login(json!({"code": deactivated_code, "applicationId": WEB_APP}))
        .await;

    let expired_code = code_for(&app, "gilfoyle@piedpiper.com").await;
    clock.advance(181_000);
    let expired = app
        .login(json!({"code": expired_code, "applicationId": WEB_APP}))
        .await;

    let reference = wire(&unknown);
    assert_eq!(reference.0, 404);
    assert_eq!(reference.2, "");
    for (case, response) in [
        ("expired", &expired),
        ("used", &used),
        ("superseded", &superseded),
        ("deactivated user", &deactivated),
    ] {
        assert_eq!(wire(response), reference, "{case}");
    }
}

#[tokio::test]
async fn legacy_send_answers_a_known_and_an_unknown_login_id_byte_for_byte_alike() {
    let app = TestApp::spawn().await;
    let legacy = |login_id: &str| json!({"applicationId": WEB_APP, "loginId": login_id});
    for (known, unknown) in [
        ("richard@piedpiper.com", "nobody@piedpiper.com"),
        ("jared", "nobody"),
        (BIGHEAD_INACTIVE, "bighead@hooli.org"),
    ] {
        let known_response = app.send(legacy(known)).await;
        let unknown_response = app.send(legacy(unknown)).await;
        assert_eq!(
            known_response.status, 200,
            "{known}: {}",
            known_response.body
        );
        assert_eq!(
            wire(&known_response),
            wire(&unknown_response),
            "{known} / {unknown}"
        );
    }
}
