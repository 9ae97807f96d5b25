//! Brute force: no more than five one-time codes are ever compared against a code, also when fifty
//! arrive at once with the right one among them; past a budget of 100 compared in an hour a
//! user's one-time codes get 429, even the right one; a short code alone never logs anyone in.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use passwordless::codes::hash_secret;
use passwordless::system::Clock;

use serde_json::{json, Value};

use crate::clock::TestClock;
use crate::helpers::*;

const HOUR_MILLIS: i64 = 3_600_000;

pub(crate) const PHONE: &str = "720-555-0147";

/// A FormField code for Dinesh's phone: the code, its one-time code, and a wrong one.
pub(crate) async fn phone_code(app: &TestApp) -> (String, String, String) {
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": PHONE,
                           "loginIdTypes": ["phoneNumber"]}))
        .await;
    let otc = started["oneTimeCode"].as_str().unwrap().to_owned();
    let wrong = if otc == "000000" { "111111" } else { "000000" }.to_owned();
    (started["code"].as_str().unwrap().to_owned(), otc, wrong)
}

pub(crate) fn attempt(code: &str, one_time_code: &str) -> Value {
    json!({"code": code, "oneTimeCode": one_time_code, "applicationId": WEB_APP})
}

/// What the Codes table says was compared for a code: the code's own count, and the user's count
/// for the window (on the user's pointer).
async fn compared(app: &TestApp, code: &str) -> (u32, u32) {
    let items = app.code_items().await;
    let number = |item: &std::collections::HashMap<String, AttributeValue>, prefix: &str| {
        item.iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .filter_map(|(_, v)| v.as_n().ok()?.parse::<u32>().ok())
            .sum::<u32>()
    };
    let code_item = items
        .iter()
        .find(|i| i["pk"].as_s().unwrap() == &format!("CODE#{}", hash_secret(code)))
        .expect("the code's item");
    let pointer = items
        .iter()
        .find(|i| i["pk"].as_s().unwrap().starts_with("LATESTCODE#"))
        .expect("the user's pointer");
    (number(code_item, "attempts"), number(pointer, "compared"))
}

#[tokio::test]
async fn fifty_wrong_one_time_codes_at_once_compare_five_and_invalidate_the_code() {
    let app = Arc::new(TestApp::spawn().await);
    let (code, otc, wrong) = phone_code(&app).await;

    let guesses: Vec<_> = (0..50)
        .map(|_| {
            let (app, body) = (app.clone(), attempt(&code, &wrong));
            tokio::spawn(async move { app.login(body).await.status })
        })
        .collect();
    for guess in guesses {
        assert_eq!(guess.await.unwrap(), 404);
    }

    let right = app.login(attempt(&code, &otc)).await;
    assert_eq!(right.status, 404, "the code is invalid after the guesses");
    assert_eq!(
        compared(&app, &code).await,
        (5, 5),
        "five compared, counted against the code and the user"
    );
}

#[tokio::test]
async fn fifty_guesses_at_once_with_the_right_one_among_them_compare_at_most_five_twenty_rounds_in_a_row(
) {
    let clock = TestClock::now();
    let app = Arc::new(TestApp::spawn_with_clock(clock.clone()).await);
    let mut logged_in = 0;
    for round in 0..20 {
        // A window of its own for each round, so that the user's budget never interferes.
        clock.advance(HOUR_MILLIS);
        let (code, otc, _) = phone_code(&app).await;
        let right_at = (round * 7 + 3) % 50;
        let guesses: Vec<_> = (0..50)
            .map(|i| {
                let guess = if i == right_at {
                    otc.clone()
                } else {
                    // 49 distinct wrong codes.
                    let n: u32 = otc.parse::<u32>().unwrap();
                    format!("{:06}", (n + 1 + i as u32) % 1_000_000)
                };
                let (app, body) = (app.clone(), attempt(&code, &guess));
                tokio::spawn(async move { app.login(body).await.status })
            })
            .collect();
        let mut statuses = Vec::new();
        for guess in guesses {
            statuses.push(guess.await.unwrap());
        }
        let successes = statuses.iter().filter(|s| **s == 200).count();
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 404),
            "round {round}: {statuses:?}"
        );
        assert!(
            successes <= 1,
            "round {round}: {successes} logins with one code"
        );
        let (on_code, on_user) = compared(&app, &code).await;
        assert!(
            on_code <= 5 && on_user <= 5,
            "round {round}: {on_code} compared against the code, {on_user} against the user"
        );
        logged_in += successes;
    }
    let sessions = app
        .code_items()
        .await
        .iter()
        .filter(|i| i["pk"].as_s().unwrap().starts_with("REFRESHTOKEN#"))
        .count();
    assert_eq!(
        sessions, logged_in,
        "one session per successful login, no more"
    );
}

#[tokio::test]
async fn the_fifth_wrong_one_time_code_invalidates_the_code_and_a_new_start_resets_the_count() {
    let app = TestApp::spawn().await;
    let (code, otc, wrong) = phone_code(&app).await;
    for _ in 0..5 {
        assert_eq!(app.login(attempt(&code, &wrong)).await.status, 404);
    }
    assert_eq!(app.login(attempt(&code, &otc)).await.status, 404);

    let (code, otc, wrong) = phone_code(&app).await;
    for _ in 0..4 {
        assert_eq!(app.login(attempt(&code, &wrong)).await.status, 404);
    }
    let login = app.login(attempt(&code, &otc)).await;
    assert_eq!(login.status, 200, "{}", login.body);
}

#[tokio::test]
async fn past_a_hundred_one_time_codes_compared_in_the_hour_the_user_gets_429_even_with_the_right_one(
) {
    // A minute into an hour, so that the whole test counts in one window.
    let clock = TestClock::now();
    let now = clock.now_millis();
    clock.set(now - now % HOUR_MILLIS + 60_000);
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    // Twenty codes, five wrong guesses each: the hundredth comparison is still a plain 404.
    for _ in 0..20 {
        let (code, _, wrong) = phone_code(&app).await;
        for _ in 0..5 {
            assert_eq!(app.login(attempt(&code, &wrong)).await.status, 404);
        }
    }

    let (code, otc, wrong) = phone_code(&app).await;
    let guessed = app.login(attempt(&code, &wrong)).await;
    assert_eq!(guessed.status, 429, "{}", guessed.body);
    assert_eq!(guessed.error_codes(), ["[TooManyRequests]"]);
    let right = app.login(attempt(&code, &otc)).await;
    assert_eq!(right.status, 429, "{}", right.body);
    assert!(
        !app.code_items()
            .await
            .iter()
            .any(|i| i["pk"].as_s().unwrap().starts_with("REFRESHTOKEN#")),
        "no session was issued"
    );

    // The next hour the user may try again.
    clock.advance(HOUR_MILLIS);
    let (code, otc, _) = phone_code(&app).await;
    let login = app.login(attempt(&code, &otc)).await;
    assert_eq!(login.status, 200, "{}", login.body);

    // Other users are not affected.
    let richard = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
        .await;
    let login = app
        .login(json!({"code": richard["code"], "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
}

#[tokio::test]
async fn a_one_time_code_alone_or_a_form_field_code_without_it_never_logs_in() {
    let app = TestApp::spawn().await;
    let (code, otc, _) = phone_code(&app).await;

    let short_alone = app
        .login(json!({"code": otc, "applicationId": WEB_APP}))
        .await;
    let short_as_both = app.login(attempt(&otc, &otc)).await;
    let long_alone = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;

    for response in [&short_alone, &short_as_both, &long_alone] {
        assert_eq!(response.status, 404, "{}", response.body);
    }
    let login = app.login(attempt(&code, &otc)).await;
    assert_eq!(login.status, 200, "{}", login.body);
}
