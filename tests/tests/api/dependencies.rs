//! Dependencies failing: DynamoDB unreachable, throttling or silent, SES and SNS throttling or
//! rejecting. Every function answers 500 with an `Errors` body well within its Lambda timeout,
//! and once the dependency recovers the next request succeeds with nothing lost.

use std::time::Duration;

use serde_json::json;

use crate::fault_injection::{spawn_with_faults, Fault};
use crate::helpers::*;

/// The functions' Lambda timeout in template.yaml: an answer must come before it.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);
/// The SDK's attempts per call (shared/src/aws/mod.rs).
const SDK_ATTEMPTS: usize = 3;

fn assert_internal_error(response: &TestResponse) {
    assert_eq!(response.status, 500, "{}", response.body);
    assert_eq!(response.error_codes(), ["[InternalError]"]);
    assert_eq!(
        response.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
}

fn code_of(started: &serde_json::Value) -> String {
    started["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn while_dynamodb_is_unreachable_every_function_answers_500_and_nothing_is_lost() {
    let (app, faults) = spawn_with_faults().await;
    let earlier = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
            .await,
    );

    faults.always("*", Fault::Unreachable);
    let start = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "jared"}),
        ))
        .await;
    let send = app.send(json!({"code": earlier})).await;
    let login = app
        .login(json!({"code": earlier, "applicationId": WEB_APP}))
        .await;
    faults.clear();

    for response in [&start, &send, &login] {
        assert_internal_error(response);
    }
    assert!(faults.injected("*", Fault::Unreachable) >= 3 * SDK_ATTEMPTS);
    let after = app
        .login(json!({"code": earlier, "applicationId": WEB_APP}))
        .await;
    assert_eq!(
        after.status, 200,
        "the code survives the outage: {}",
        after.body
    );
    app.start_code(json!({"applicationId": WEB_APP, "loginId": "jared"}))
        .await;
}

#[tokio::test]
async fn a_start_throttled_half_way_is_500_and_the_users_earlier_code_still_works() {
    let (app, faults) = spawn_with_faults().await;
    let earlier = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
            .await,
    );

    // The pointer update goes through; the write of the new code (a PutItem beside it, no
    // transaction) is throttled.
    faults.always("PutItem", Fault::Throttle);
    let start = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "richard"}),
        ))
        .await;
    faults.clear();

    assert_internal_error(&start);
    assert_eq!(
        faults.injected("PutItem", Fault::Throttle),
        SDK_ATTEMPTS,
        "throttling is retried, a bounded number of times"
    );
    let codes = app.code_items().await;
    let stored_codes = codes
        .iter()
        .filter(|i| i["pk"].as_s().unwrap().starts_with("CODE#"))
        .count();
    assert_eq!(stored_codes, 1, "no half-written code");
    let login = app
        .login(json!({"code": earlier, "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
}

#[tokio::test]
async fn a_dynamodb_that_never_answers_gets_500_before_the_function_times_out() {
    let (app, faults) = spawn_with_faults().await;

    faults.always("*", Fault::Stall);
    let start = tokio::time::timeout(
        FUNCTION_TIMEOUT,
        app.start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "richard"}),
        )),
    )
    .await
    .expect("the SDK's timeouts end the call before Lambda's");
    faults.clear();

    assert_internal_error(&start);
    app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
        .await;
}

#[tokio::test]
async fn ses_throttling_or_rejecting_is_500_and_the_same_code_is_emailed_after_recovery() {
    let (app, faults) = spawn_with_faults().await;
    let code = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "jared@piedpiper.com"}))
            .await,
    );

    faults.always("SendEmail", Fault::Throttle);
    let throttled = app.send(json!({"code": code})).await;
    faults.clear();
    faults.always("SendEmail", Fault::Reject);
    let rejected = app.send(json!({"code": code})).await;
    faults.clear();

    assert_internal_error(&throttled);
    assert_internal_error(&rejected);
    assert_eq!(faults.injected("SendEmail", Fault::Throttle), SDK_ATTEMPTS);
    assert_eq!(
        faults.injected("SendEmail", Fault::Reject),
        1,
        "a rejection is not retried"
    );
    assert!(emails_containing(&code).await.is_empty());
    let sent = app.send(json!({"code": code})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(emails_containing(&code).await.len(), 1);
}

#[tokio::test]
async fn sns_throttling_or_rejecting_is_500_and_the_same_code_is_texted_after_recovery() {
    let (app, faults) = spawn_with_faults().await;
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "720-555-0147",
                           "loginIdTypes": ["phoneNumber"]}))
        .await;
    let otc = started["oneTimeCode"].as_str().unwrap().to_owned();
    let code = code_of(&started);

    faults.always("Publish", Fault::Throttle);
    let throttled = app.send(json!({"code": code})).await;
    faults.clear();
    faults.always("Publish", Fault::Reject);
    let rejected = app.send(json!({"code": code})).await;
    faults.clear();

    assert_internal_error(&throttled);
    assert_internal_error(&rejected);
    assert_eq!(faults.injected("Publish", Fault::Throttle), SDK_ATTEMPTS);
    assert_eq!(faults.injected("Publish", Fault::Reject), 1);
    let sent = app.send(json!({"code": code})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sms_containing("+17205550147", &otc).await.len(), 1);
    let login = app
        .login(json!({"code": code, "oneTimeCode": otc, "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
}

#[tokio::test]
async fn a_failed_start_leaves_no_code_behind_and_the_earlier_code_counts_its_guesses_as_before() {
    let (app, faults) = spawn_with_faults().await;
    let phone = json!({"applicationId": WEB_APP, "loginId": "720-555-0147",
                       "loginIdTypes": ["phoneNumber"]});
    let earlier = app.start_code(phone.clone()).await;
    let otc = earlier["oneTimeCode"].as_str().unwrap().to_owned();
    let wrong = if otc == "000000" { "111111" } else { "000000" };

    // The new code's write (PutItem) fails; the pointer's, beside it, went through and is put
    // back: the earlier code is still the user's newest, its guesses counted against it.
    faults.always("PutItem", Fault::Throttle);
    let failed = app.start(start_event(Some(GLOBAL_KEY), phone)).await;
    faults.clear();
    assert_internal_error(&failed);

    let guess = app
        .login(json!({"code": earlier["code"], "oneTimeCode": wrong, "applicationId": WEB_APP}))
        .await;
    let right = app
        .login(json!({"code": earlier["code"], "oneTimeCode": otc, "applicationId": WEB_APP}))
        .await;
    assert_eq!(guess.status, 404);
    assert_eq!(right.status, 200, "{}", right.body);
}
