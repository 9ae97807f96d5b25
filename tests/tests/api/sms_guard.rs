//! The SMS guard through the HTTP edge, against moto with IAM enforced: the country allowlist,
//! the prefix velocity, the daily cap, one user's share of them, and numbers that logged in
//! before.

use serde_json::{json, Value};

use crate::helpers::*;

const RICHARD_PHONE: &str = "+13035551212";
const DINESH_PHONE: &str = "+17205550147";
/// A UK mobile number, for a user outside the default allowlist (US, CA).
const UK_PHONE: &str = "+447400123456";
/// A second number in Richard's prefix (+1 303).
const GAVIN_PHONE: &str = "+13035550123";

fn code_of(started: &Value) -> String {
    started["code"].as_str().unwrap().to_owned()
}

/// The example kickstart with two more users (a UK number, a second +1 303 number) and the
/// tenant's `smsGuardConfiguration` set to `guard` (`null`: the defaults).
async fn app_with_guard(guard: Value) -> TestApp {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    if !guard.is_null() {
        kickstart["tenants"][0]["smsGuardConfiguration"] = guard;
    }
    let users = kickstart["users"].as_array_mut().unwrap();
    users.push(
        json!({"id": "00000000-0000-0001-0000-0000000000a1", "tenantId": TENANT,
                      "phoneNumber": UK_PHONE, "firstName": "Monica"}),
    );
    users.push(
        json!({"id": "00000000-0000-0001-0000-0000000000a2", "tenantId": TENANT,
                      "phoneNumber": GAVIN_PHONE, "firstName": "Gavin"}),
    );
    TestApp::spawn_with(&kickstart.to_string()).await
}

/// Starts a phone login for `phone` and sends its code: the send's response, and the SMS that
/// went to `phone` with its one-time code (moto is shared by concurrent tests: the one-time code
/// tells this send's SMS apart).
async fn send_sms_to(app: &TestApp, phone: &str) -> (TestResponse, Vec<Value>) {
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": phone,
                           "loginIdTypes": ["phoneNumber"]}))
        .await;
    let response = app.send(json!({"code": code_of(&started)})).await;
    let one_time_code = started["oneTimeCode"].as_str().unwrap();
    (response, sms_containing(phone, one_time_code).await)
}

fn general_code(response: &TestResponse) -> String {
    response.json()["generalErrors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn an_sms_to_a_country_off_the_allowlist_is_refused_with_400_counted_and_not_sent() {
    let app = app_with_guard(Value::Null).await;
    let (response, sms) = send_sms_to(&app, UK_PHONE).await;
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(general_code(&response), "[SmsCountryNotAllowed]");
    assert!(response.json()["fieldErrors"].is_object());
    assert!(sms.is_empty(), "nothing was sent");

    let refused = response.metric("SmsGuardRefused");
    assert_eq!(refused.len(), 1, "{:?}", response.metrics);
    assert_eq!(refused[0]["Reason"], "country");
    assert_eq!(refused[0]["Country"], "GB");
    assert_eq!(refused[0]["TenantId"], TENANT);
    // An allowed country still gets its SMS.
    let (allowed, sms) = send_sms_to(&app, DINESH_PHONE).await;
    assert_eq!((allowed.status, sms.len()), (200, 1));
}

#[tokio::test]
async fn sms_to_one_prefix_past_its_velocity_are_refused_with_429_whoever_the_user() {
    let app = app_with_guard(json!({
        "prefixRateLimit": {"enabled": true, "limit": 1, "timePeriodInSeconds": 600}
    }))
    .await;
    let (first, sms) = send_sms_to(&app, RICHARD_PHONE).await;
    assert_eq!((first.status, sms.len()), (200, 1));
    // Another user, another number, the same +1 303 prefix.
    let (response, sms) = send_sms_to(&app, GAVIN_PHONE).await;
    assert_eq!(response.status, 429, "{}", response.body);
    assert_eq!(general_code(&response), "[SmsPrefixRateLimited]");
    assert!(sms.is_empty());
    assert_eq!(response.metric("SmsGuardRefused")[0]["Reason"], "prefix");
    // Another prefix (+1 720) is not affected.
    let (allowed, sms) = send_sms_to(&app, DINESH_PHONE).await;
    assert_eq!((allowed.status, sms.len()), (200, 1));
}

#[tokio::test]
async fn sms_past_the_tenants_daily_cap_are_refused_with_429() {
    let app = app_with_guard(json!({
        "prefixRateLimit": {"enabled": false},
        "dailyLimit": {"enabled": true, "limit": 2}
    }))
    .await;
    assert_eq!(send_sms_to(&app, RICHARD_PHONE).await.0.status, 200);
    assert_eq!(send_sms_to(&app, GAVIN_PHONE).await.0.status, 200);
    let (response, sms) = send_sms_to(&app, DINESH_PHONE).await;
    assert_eq!(response.status, 429, "{}", response.body);
    assert_eq!(general_code(&response), "[SmsDailyLimitReached]");
    assert!(sms.is_empty());
    assert_eq!(response.metric("SmsGuardRefused")[0]["Reason"], "daily");
    // The cap is conditional counters of the tenant's day, in the Codes table: they add up to
    // the cap.
    assert_eq!(day_counts(&app).await.values().sum::<u32>(), 2);
}

/// The tenant's daily SMS counts, by item (`RATE#sms-day#{tenant}#{shard}#{day}`).
async fn day_counts(app: &TestApp) -> std::collections::BTreeMap<String, u32> {
    app.code_items()
        .await
        .into_iter()
        .filter_map(|item| {
            let pk = item.get("pk")?.as_s().ok()?.clone();
            let count = item.get("count")?.as_n().ok()?.parse().ok()?;
            pk.starts_with(&format!("RATE#sms-day#{TENANT}#"))
                .then_some((pk, count))
        })
        .collect()
}

#[tokio::test]
async fn the_daily_cap_is_spread_over_several_items_and_still_exact() {
    let mut guard = json!({
        "prefixRateLimit": {"enabled": false},
        "dailyLimit": {"enabled": true, "limit": 3}
    });
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["tenants"][0]["smsGuardConfiguration"] = guard.take();
    // Four users: the daily limit of 3 is three shards of one SMS; the users' own shards are
    // their ids modulo 3: 2, 2, 0 and 1.
    let users = [
        (0xb0, "+17205550100"),
        (0xb3, "+17205550103"),
        (0xb1, "+17205550101"),
        (0xb2, "+17205550102"),
    ];
    for (id, phone) in users {
        kickstart["users"].as_array_mut().unwrap().push(json!({
            "id": format!("00000000-0000-0001-0000-0000000000{id:x}"), "tenantId": TENANT,
            "phoneNumber": phone
        }));
    }
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    // The second user's own shard is full: the next one takes its SMS; so for the third.
    for (_, phone) in &users[..3] {
        let (response, sms) = send_sms_to(&app, phone).await;
        assert_eq!(
            (response.status, sms.len()),
            (200, 1),
            "{phone}: {}",
            response.body
        );
    }
    let (response, sms) = send_sms_to(&app, users[3].1).await;
    assert_eq!(response.status, 429, "{}", response.body);
    assert_eq!(general_code(&response), "[SmsDailyLimitReached]");
    assert!(sms.is_empty());
    let counts = day_counts(&app).await;
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
}

/// Logs `phone` in by SMS (start, send, login with the code and the one-time code it carried):
/// the send's response.
async fn log_in_by_sms(app: &TestApp, phone: &str) -> TestResponse {
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": phone,
                           "loginIdTypes": ["phoneNumber"]}))
        .await;
    let sent = app.send(json!({"code": code_of(&started)})).await;
    if sent.status != 200 {
        return sent;
    }
    let login = app
        .login(
            json!({"code": code_of(&started), "oneTimeCode": started["oneTimeCode"],
                      "applicationId": WEB_APP}),
        )
        .await;
    assert!(
        (200..300).contains(&login.status),
        "{}: {}",
        login.status,
        login.body
    );
    sent
}

/// The per-user send limit off, so that one user can hammer the SMS guard alone.
fn without_the_per_user_send_limit(kickstart: &mut Value) {
    kickstart["tenants"][0]["rateLimitConfiguration"]["sendPasswordlessPhone"] =
        json!({"enabled": false});
}

async fn app_with_guard_and_no_send_limit(guard: Value) -> TestApp {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    without_the_per_user_send_limit(&mut kickstart);
    kickstart["tenants"][0]["smsGuardConfiguration"] = guard;
    let users = kickstart["users"].as_array_mut().unwrap();
    users.push(
        json!({"id": "00000000-0000-0001-0000-0000000000a2", "tenantId": TENANT,
                      "phoneNumber": GAVIN_PHONE, "firstName": "Gavin"}),
    );
    TestApp::spawn_with(&kickstart.to_string()).await
}

#[tokio::test]
async fn one_user_hammering_sms_cannot_spend_its_prefix_for_another_user() {
    let app = app_with_guard_and_no_send_limit(json!({
        "prefixRateLimit": {"enabled": true, "limit": 4, "timePeriodInSeconds": 600},
        "perUserPrefixLimit": 2
    }))
    .await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(send_sms_to(&app, RICHARD_PHONE).await.0.status);
    }
    assert_eq!(statuses, [200, 200, 429, 429, 429, 429]);
    let (refused, sms) = send_sms_to(&app, RICHARD_PHONE).await;
    assert_eq!(general_code(&refused), "[SmsUserRateLimited]");
    assert!(sms.is_empty());
    assert_eq!(
        refused.metric("SmsGuardRefused")[0]["Reason"],
        "user-prefix"
    );
    // Gavin's number is in Richard's +1 303 prefix: the prefix still has room for him.
    let (response, sms) = send_sms_to(&app, GAVIN_PHONE).await;
    assert_eq!((response.status, sms.len()), (200, 1), "{}", response.body);
}

#[tokio::test]
async fn one_user_hammering_sms_cannot_spend_the_tenants_day_for_another_user() {
    let app = app_with_guard_and_no_send_limit(json!({
        "prefixRateLimit": {"enabled": false},
        "dailyLimit": {"enabled": true, "limit": 4},
        "perUserDailyLimit": 2
    }))
    .await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(send_sms_to(&app, RICHARD_PHONE).await.0.status);
    }
    assert_eq!(statuses, [200, 200, 429, 429, 429, 429]);
    let (refused, sms) = send_sms_to(&app, RICHARD_PHONE).await;
    assert_eq!(general_code(&refused), "[SmsUserDailyLimitReached]");
    assert!(sms.is_empty());
    assert_eq!(refused.metric("SmsGuardRefused")[0]["Reason"], "user-daily");
    let (response, sms) = send_sms_to(&app, DINESH_PHONE).await;
    assert_eq!((response.status, sms.len()), (200, 1), "{}", response.body);
}

#[tokio::test]
async fn a_number_that_logged_in_before_is_not_refused_by_a_full_prefix() {
    let app = app_with_guard_and_no_send_limit(json!({
        "prefixRateLimit": {"enabled": true, "limit": 1, "timePeriodInSeconds": 600}
    }))
    .await;
    // Gavin logs in by SMS: that SMS fills the +1 303 prefix for the window.
    assert_eq!(log_in_by_sms(&app, GAVIN_PHONE).await.status, 200);
    let (full, sms) = send_sms_to(&app, RICHARD_PHONE).await;
    assert_eq!(general_code(&full), "[SmsPrefixRateLimited]");
    assert!(sms.is_empty());
    // Gavin's number has logged in: a person holds it, the full prefix does not hold it back.
    for _ in 0..2 {
        let (response, sms) = send_sms_to(&app, GAVIN_PHONE).await;
        assert_eq!((response.status, sms.len()), (200, 1), "{}", response.body);
    }
    // Nor did its SMS count against the prefix: the count is still the login's one SMS.
    let prefix_count: Vec<String> = app
        .code_items()
        .await
        .into_iter()
        .filter(|item| {
            item.get("pk")
                .and_then(|pk| pk.as_s().ok())
                .is_some_and(|pk| pk.starts_with(&format!("RATE#sms-prefix#{TENANT}#+1303#")))
        })
        .filter_map(|item| item.get("count")?.as_n().ok().cloned())
        .collect();
    assert_eq!(prefix_count, ["1"]);
}

#[tokio::test]
async fn a_number_that_logged_in_before_is_still_refused_once_its_country_is_off_the_allowlist() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["tenants"][0]["smsGuardConfiguration"] =
        json!({"allowedCountries": ["US", "CA", "GB"]});
    kickstart["users"].as_array_mut().unwrap().push(
        json!({"id": "00000000-0000-0001-0000-0000000000a1", "tenantId": TENANT,
               "phoneNumber": UK_PHONE, "firstName": "Monica"}),
    );
    let mut app = TestApp::spawn_with(&kickstart.to_string()).await;
    assert_eq!(log_in_by_sms(&app, UK_PHONE).await.status, 200);
    // The operator takes GB off the list (the tenant reloaded, its users untouched).
    kickstart["tenants"][0]["smsGuardConfiguration"] = json!({"allowedCountries": ["US", "CA"]});
    kickstart["users"] = json!([]);
    app.reload(&kickstart.to_string()).await;
    let (response, sms) = send_sms_to(&app, UK_PHONE).await;
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(general_code(&response), "[SmsCountryNotAllowed]");
    assert!(sms.is_empty());
}
