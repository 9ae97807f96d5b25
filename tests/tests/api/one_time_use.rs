//! One-time use under concurrency: many logins racing with one code, round after round, give
//! exactly one success and one stored session per round.

use std::sync::Arc;

use serde_json::json;

use crate::helpers::*;

const ROUNDS: usize = 20;
const RACERS: usize = 32;

#[tokio::test]
async fn thirty_two_parallel_logins_with_one_code_succeed_exactly_once_in_each_of_twenty_rounds() {
    let app = Arc::new(TestApp::spawn().await);
    for round in 1..=ROUNDS {
        let code = app
            .start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
            .await["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let racers: Vec<_> = (0..RACERS)
            .map(|_| {
                let (app, code) = (app.clone(), code.clone());
                tokio::spawn(async move {
                    app.login(json!({"code": code, "applicationId": WEB_APP}))
                        .await
                        .status
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for racer in racers {
            statuses.push(racer.await.expect("the login task finishes"));
        }

        let successes = statuses.iter().filter(|s| **s == 200).count();
        let not_found = statuses.iter().filter(|s| **s == 404).count();
        assert_eq!(
            (successes, not_found),
            (1, RACERS - 1),
            "round {round}: {statuses:?}"
        );
        let refresh_tokens = app
            .code_items()
            .await
            .iter()
            .filter(|i| i["pk"].as_s().unwrap().starts_with("REFRESHTOKEN#"))
            .count();
        assert_eq!(refresh_tokens, round, "one refresh token stored per round");
    }
}
