//! Expiry never depends on DynamoDB's TTL deletion (issue 7, property 3): with the clock set, a
//! code is accepted one second before it expires and refused one second and three days after, by
//! send and by login, for a magic-link code and for a one-time code, while its item is still in
//! the table.

use passwordless::codes::hash_secret;
use passwordless::system::Clock;
use serde_json::{json, Value};

use crate::clock::TestClock;
use crate::helpers::*;

const SECOND: i64 = 1000;
const DAY: i64 = 86_400 * SECOND;
/// The example tenant's `passwordlessLoginTimeToLiveInSeconds`.
const TTL: i64 = 180 * SECOND;

/// The two kinds of code: a magic link emailed to Richard, a one-time code texted to Dinesh.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Link,
    OneTimeCode,
}

const KINDS: [Kind; 2] = [Kind::Link, Kind::OneTimeCode];

struct Started {
    code: String,
    one_time_code: Option<String>,
    expires_at: i64,
}

async fn start(app: &TestApp, clock: &TestClock, kind: Kind) -> Started {
    let body = match kind {
        Kind::Link => json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"}),
        Kind::OneTimeCode => json!({"applicationId": WEB_APP, "loginId": "(720) 555-0147",
                                    "loginIdTypes": ["phoneNumber"]}),
    };
    let started = app.start_code(body).await;
    Started {
        code: started["code"].as_str().unwrap().to_owned(),
        one_time_code: started["oneTimeCode"].as_str().map(str::to_owned),
        expires_at: clock.now_millis() + TTL,
    }
}

fn login_body(started: &Started) -> Value {
    json!({"code": started.code, "oneTimeCode": started.one_time_code, "applicationId": WEB_APP})
}

async fn code_is_stored(app: &TestApp, code: &str) -> bool {
    let pk = format!("CODE#{}", hash_secret(code));
    app.code_items()
        .await
        .iter()
        .any(|item| item.get("pk").and_then(|v| v.as_s().ok()) == Some(&pk))
}

#[tokio::test]
async fn a_code_is_sent_and_logs_in_one_second_before_it_expires() {
    let clock = TestClock::now();
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    for kind in KINDS {
        let started = start(&app, &clock, kind).await;
        clock.set(started.expires_at - SECOND);
        let sent = app.send(json!({"code": started.code})).await;
        assert_eq!(sent.status, 200, "{kind:?}: {}", sent.body);
        let login = app.login(login_body(&started)).await;
        assert_eq!(login.status, 200, "{kind:?}: {}", login.body);
    }
}

#[tokio::test]
async fn a_code_is_refused_by_send_and_login_one_second_and_three_days_after_it_expires_though_still_stored(
) {
    let clock = TestClock::now();
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    let t0 = clock.now_millis();
    for kind in KINDS {
        for after in [SECOND, 3 * DAY] {
            clock.set(t0);
            let started = start(&app, &clock, kind).await;
            clock.set(started.expires_at + after);
            assert!(
                code_is_stored(&app, &started.code).await,
                "the expired item is still in the table, as DynamoDB may keep it for days"
            );

            let sent = app.send(json!({"code": started.code})).await;
            assert_eq!(sent.status, 400, "{kind:?} +{after} ms: {}", sent.body);
            assert_eq!(
                sent.error_codes(),
                ["[invalid]code"],
                "{kind:?} +{after} ms"
            );

            let login = app.login(login_body(&started)).await;
            assert_eq!(login.status, 404, "{kind:?} +{after} ms: {}", login.body);
            assert_eq!(login.body, "");

            let delivered = match &started.one_time_code {
                None => emails_containing(&started.code).await.len(),
                Some(otc) => sms_containing("+17205550147", otc).await.len(),
            };
            assert_eq!(delivered, 0, "{kind:?}: an expired code was delivered");
        }
    }
}
