//! Refresh tokens through `POST` and `DELETE /api/jwt/refresh`, against moto with each function's
//! own role: exchange, rotation with `OneTimeUse`, reuse detection (also under 32 concurrent
//! exchanges of one token), revocation by user, application and token, and refusal once the user
//! may no longer log in. Every refusal is FusionAuth's 400 `[invalid]refreshToken`.

use serde_json::{json, Value};

use passwordless::refresh::APPLICATION_REVOCATION_STALENESS_MILLIS;

use crate::clock::TestClock;
use crate::helpers::*;

const RICHARD: &str = "00000000-0000-0001-0000-000000000001";

/// The example kickstart whose web application rotates its refresh tokens.
fn one_time_use_kickstart() -> String {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["applications"][0]["jwtConfiguration"] =
        json!({"refreshTokenUsagePolicy": "OneTimeUse"});
    kickstart.to_string()
}

/// [`one_time_use_kickstart`] whose tenant revokes the whole family when a used-up token comes
/// back (`onOneTimeTokenReuse`; FusionAuth's default only refuses it).
fn reuse_revoking_kickstart() -> String {
    let mut kickstart: Value = serde_json::from_str(&one_time_use_kickstart()).unwrap();
    kickstart["tenants"][0]["jwtConfiguration"]["refreshTokenRevocationPolicy"] =
        json!({"onOneTimeTokenReuse": true});
    kickstart.to_string()
}

/// [`one_time_use_kickstart`] whose tenant gives a replaced token `seconds` of grace.
fn grace_kickstart(seconds: u32) -> String {
    let mut kickstart: Value = serde_json::from_str(&one_time_use_kickstart()).unwrap();
    kickstart["tenants"][0]["jwtConfiguration"]["refreshTokenOneTimeUseConfiguration"] =
        json!({"gracePeriodInSeconds": seconds});
    kickstart.to_string()
}

/// Logs `login_id` in to the web application: the login response.
async fn log_in(app: &TestApp, login_id: &str) -> Value {
    app.log_in(login_id, WEB_APP).await
}

fn refused(response: &TestResponse) -> bool {
    response.status == 400 && response.error_codes() == ["[invalid]refreshToken"]
}

async fn exchange(app: &TestApp, token: &str) -> TestResponse {
    app.refresh(json!({"refreshToken": token})).await
}

fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_reusable_refresh_token_exchanges_for_a_new_jwt_of_the_same_session_again_and_again() {
    let app = TestApp::spawn().await;
    let login = log_in(&app, "richard@piedpiper.com").await;
    let token = login["refreshToken"].as_str().unwrap();
    for _ in 0..2 {
        let refreshed = exchange(&app, token).await;
        assert_eq!(refreshed.status, 200, "{}", refreshed.body);
        let body = refreshed.json();
        assert_eq!(body["refreshToken"], token, "Reusable: the same token");
        assert_eq!(body["refreshTokenId"], login["refreshTokenId"]);
        let jwt = claims(body["token"].as_str().unwrap());
        assert_eq!(jwt["sub"], RICHARD);
        assert_eq!(jwt["sid"], login["refreshTokenId"]);
        assert_eq!(jwt["aud"], WEB_APP);
        assert_eq!(jwt["authenticationType"], "REFRESH_TOKEN");
        let cookies = refreshed.cookies();
        assert!(
            cookies.iter().any(|c| c.starts_with("access_token=")),
            "{cookies:?}"
        );
        assert!(
            cookies
                .iter()
                .any(|c| c.starts_with(&format!("refresh_token={token};"))),
            "{cookies:?}"
        );
    }
}

#[tokio::test]
async fn the_refresh_token_cookie_is_taken_before_the_body() {
    let app = TestApp::spawn().await;
    let login = log_in(&app, "richard@piedpiper.com").await;
    let token = login["refreshToken"].as_str().unwrap();
    let event = api_gateway_events::Event::post("/api/jwt/refresh")
        .cookie(&format!("refresh_token={token}"))
        .body(r#"{"refreshToken": "not-a-token"}"#)
        .to_json();
    let refreshed = app.refresh_event(event).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    // A blank cookie is no token: the body's counts.
    let event = api_gateway_events::Event::post("/api/jwt/refresh")
        .cookie("refresh_token=")
        .body(&json!({"refreshToken": token}).to_string())
        .to_json();
    let refreshed = app.refresh_event(event).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
}

#[tokio::test]
async fn one_time_use_rotates_the_token_keeps_its_id_and_refuses_the_old_one() {
    let app = TestApp::spawn_with(&one_time_use_kickstart()).await;
    let login = log_in(&app, "richard@piedpiper.com").await;
    let first = login["refreshToken"].as_str().unwrap().to_owned();
    let rotated = exchange(&app, &first).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let second = rotated.json()["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(rotated.json()["refreshTokenId"], login["refreshTokenId"]);
    let third = exchange(&app, &second).await;
    assert_eq!(third.status, 200, "{}", third.body);
    let third = third.json()["refreshToken"].as_str().unwrap().to_owned();
    // Stored: one item for the family, by its id, holding the hash of the newest token only.
    let families = app.refresh_token_items().await;
    assert_eq!(families.len(), 1);
    assert_eq!(
        families[0]["tokenHash"].as_s().unwrap(),
        &passwordless::codes::hash_secret(&third)
    );
    let stored = format!("{:?}", families[0]);
    for token in [&first, &second, &third] {
        assert!(
            !stored.contains(token.as_str()),
            "a token is stored in the clear"
        );
    }
}

#[tokio::test]
async fn presenting_a_rotated_token_again_revokes_the_whole_family() {
    let app = TestApp::spawn_with(&reuse_revoking_kickstart()).await;
    let login = log_in(&app, "richard@piedpiper.com").await;
    let stolen = login["refreshToken"].as_str().unwrap().to_owned();
    let legitimate = exchange(&app, &stolen).await.json()["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    // The thief replays the token the victim already exchanged...
    assert!(refused(&exchange(&app, &stolen).await));
    // ...and from then on neither holds a working token.
    assert!(refused(&exchange(&app, &legitimate).await));
    // A second session of the same user is untouched.
    let other = log_in(&app, "richard@piedpiper.com").await;
    assert_eq!(
        exchange(&app, other["refreshToken"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_long_rotating_session_keeps_a_bounded_history_that_still_catches_recent_reuse() {
    let app = TestApp::spawn_with(&reuse_revoking_kickstart()).await;
    let login = log_in(&app, "richard@piedpiper.com").await;
    let mut tokens = vec![login["refreshToken"].as_str().unwrap().to_owned()];
    for _ in 0..40 {
        let next = exchange(&app, tokens.last().unwrap()).await;
        assert_eq!(next.status, 200, "{}", next.body);
        tokens.push(next.json()["refreshToken"].as_str().unwrap().to_owned());
    }
    let families = app.refresh_token_items().await;
    let family = families
        .iter()
        .find(|item| format!("{item:?}").contains(login["refreshTokenId"].as_str().unwrap()))
        .expect("the family's item");
    let remembered = family.keys().filter(|k| k.starts_with("rotated")).count();
    assert_eq!(
        remembered, 32,
        "the last 32 replaced hashes, not all 40: {family:?}"
    );

    // A token 40 rotations old is long gone: refused, and the session goes on.
    assert!(refused(&exchange(&app, &tokens[0]).await));
    let current = tokens.last().unwrap();
    let next = exchange(&app, current).await;
    assert_eq!(next.status, 200, "{}", next.body);
    let newest = next.json()["refreshToken"].as_str().unwrap().to_owned();
    // A recently replaced one presented again is reuse: the whole family goes.
    assert!(refused(&exchange(&app, &tokens[35]).await));
    assert!(refused(&exchange(&app, &newest).await));
}

#[tokio::test]
async fn thirty_two_concurrent_exchanges_of_one_token_yield_exactly_one_new_token() {
    let app = std::sync::Arc::new(TestApp::spawn_with(&reuse_revoking_kickstart()).await);
    for round in 0..3 {
        let login = log_in(&app, "richard@piedpiper.com").await;
        let token = login["refreshToken"].as_str().unwrap().to_owned();
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let app = app.clone();
                let token = token.clone();
                tokio::spawn(async move {
                    let response = exchange(&app, &token).await;
                    (response.status, response.body.clone(), refused(&response))
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        let won: Vec<_> = results.iter().filter(|(s, _, _)| *s == 200).collect();
        assert_eq!(won.len(), 1, "round {round}: {results:?}");
        assert_eq!(
            results.iter().filter(|(_, _, refused)| *refused).count(),
            31,
            "round {round}: {results:?}"
        );
        // The 31 others presented a token that had just been used up: reuse, so the family is
        // gone and the one new token is refused too.
        let winner: Value = serde_json::from_str(&won[0].1).unwrap();
        let new_token = winner["refreshToken"].as_str().unwrap();
        assert_ne!(new_token, token);
        assert!(refused(&exchange(&app, new_token).await), "round {round}");
    }
    let families = app.refresh_token_items().await.len();
    assert_eq!(families, 0, "every raced family was revoked");
}

#[tokio::test]
async fn revoking_by_user_refuses_every_token_of_that_user_and_no_other() {
    let app = TestApp::spawn().await;
    let first = log_in(&app, "richard@piedpiper.com").await;
    let second = log_in(&app, "richard@piedpiper.com").await;
    let jared = log_in(&app, "jared@piedpiper.com").await;
    let without_key = app.revoke(None, "", &format!("userId={RICHARD}")).await;
    assert_eq!(without_key.status, 401);
    assert_eq!(
        exchange(&app, first["refreshToken"].as_str().unwrap())
            .await
            .status,
        200
    );

    let revoked = app
        .revoke(Some(GLOBAL_KEY), "", &format!("userId={RICHARD}"))
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.body, "");
    for login in [&first, &second] {
        assert!(refused(
            &exchange(&app, login["refreshToken"].as_str().unwrap()).await
        ));
    }
    assert_eq!(
        exchange(&app, jared["refreshToken"].as_str().unwrap())
            .await
            .status,
        200
    );
    // A later login gets a working token.
    let after = log_in(&app, "richard@piedpiper.com").await;
    assert_eq!(
        exchange(&app, after["refreshToken"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn revoking_by_application_by_token_id_and_by_token_refuses_what_they_name() {
    let clock = TestClock::now();
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    let by_id = log_in(&app, "richard@piedpiper.com").await;
    let by_token = log_in(&app, "richard@piedpiper.com").await;
    let id = by_id["refreshTokenId"].as_str().unwrap();
    assert_eq!(
        app.revoke(Some(GLOBAL_KEY), &format!("/{id}"), "")
            .await
            .status,
        200
    );
    assert!(refused(
        &exchange(&app, by_id["refreshToken"].as_str().unwrap()).await
    ));
    assert_eq!(
        app.revoke(Some(GLOBAL_KEY), &format!("/{id}"), "")
            .await
            .status,
        404
    );

    let token = by_token["refreshToken"].as_str().unwrap();
    let query = format!("token={token}");
    assert_eq!(app.revoke(Some(GLOBAL_KEY), "", &query).await.status, 200);
    assert!(refused(&exchange(&app, token).await));

    let remaining = log_in(&app, "jared@piedpiper.com").await;
    let by_app = app
        .revoke(Some(GLOBAL_KEY), "", &format!("applicationId={WEB_APP}"))
        .await;
    assert_eq!(by_app.status, 200);
    // The refresh function read the application's revocation (none) with the exchanges above.
    clock.advance(APPLICATION_REVOCATION_STALENESS_MILLIS);
    assert!(refused(
        &exchange(&app, remaining["refreshToken"].as_str().unwrap()).await
    ));

    // Unknown users and applications are FusionAuth's 404s with no body; nothing named is a 400.
    for query in [
        "userId=00000000-0000-0000-0000-00000000dead",
        "applicationId=00000000-0000-0000-0000-00000000dead",
        "userId=00000000-0000-0000-0000-00000000dead&applicationId=10000000-0000-0002-0000-000000000001",
    ] {
        let unknown = app.revoke(Some(GLOBAL_KEY), "", query).await;
        assert_eq!(unknown.status, 404, "{query}: {}", unknown.body);
        assert_eq!(unknown.body, "", "{query}");
    }
    let nothing = app.revoke(Some(GLOBAL_KEY), "", "").await;
    assert_eq!(nothing.status, 400);
    assert_eq!(nothing.error_codes(), ["[invalid]"]);
}

#[tokio::test]
async fn an_applications_revocation_refuses_its_tokens_within_the_bound_a_users_at_once() {
    let clock = TestClock::now();
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    let richard = log_in(&app, "richard@piedpiper.com").await;
    let jared = log_in(&app, "jared@piedpiper.com").await;
    let (richard, jared) = (
        richard["refreshToken"].as_str().unwrap(),
        jared["refreshToken"].as_str().unwrap(),
    );
    // Both exchange: the refresh function has read the application's revocation (none).
    assert_eq!(exchange(&app, richard).await.status, 200);
    assert_eq!(exchange(&app, jared).await.status, 200);
    clock.advance(1);

    let by_user = app
        .revoke(Some(GLOBAL_KEY), "", &format!("userId={RICHARD}"))
        .await;
    assert_eq!(by_user.status, 200);
    assert!(refused(&exchange(&app, richard).await), "a user's: at once");

    let by_app = app
        .revoke(Some(GLOBAL_KEY), "", &format!("applicationId={WEB_APP}"))
        .await;
    assert_eq!(by_app.status, 200);
    // What the refresh function read a moment ago holds for the bound (it reads the item at
    // most once a bound, not at every refresh)...
    clock.advance(APPLICATION_REVOCATION_STALENESS_MILLIS - 2);
    assert_eq!(exchange(&app, jared).await.status, 200, "within the bound");
    // ...and no longer.
    clock.advance(1);
    assert!(refused(&exchange(&app, jared).await), "past the bound");
}

#[tokio::test]
async fn a_tenant_locked_key_revokes_nothing_of_another_tenant() {
    const OTHER_TENANT: &str = "a0000000-0000-0000-0000-00000000000a";
    const OTHER_KEY: &str = "other-tenant-key-0123456789abcdef";
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let jwt_configuration = kickstart["tenants"][0]["jwtConfiguration"].clone();
    kickstart["tenants"].as_array_mut().unwrap().push(
        json!({"id": OTHER_TENANT, "name": "Other", "issuer": "other.example",
               "jwtConfiguration": jwt_configuration}),
    );
    kickstart["apiKeys"].as_array_mut().unwrap().push(json!({
        "id": "5e6f7a8b-3333-4c3f-9d55-2a8f1d7e6b01", "key": OTHER_KEY, "tenantId": OTHER_TENANT
    }));
    // The example's own locked key may call start only.
    assert_eq!(
        TestApp::spawn()
            .await
            .revoke(Some(LOCKED_KEY), "", &format!("userId={RICHARD}"))
            .await
            .status,
        401
    );
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let login = log_in(&app, "richard@piedpiper.com").await;
    let id = login["refreshTokenId"].as_str().unwrap();
    assert_eq!(
        app.revoke(Some(OTHER_KEY), &format!("/{id}"), "")
            .await
            .status,
        404
    );
    let by_user = app
        .revoke(Some(OTHER_KEY), "", &format!("userId={RICHARD}"))
        .await;
    assert_eq!(by_user.status, 404, "another tenant's user is unknown here");
    assert_eq!(
        exchange(&app, login["refreshToken"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_refresh_token_of_a_user_who_may_no_longer_log_in_is_refused() {
    for (field, value) in [
        ("locked", json!(true)),
        ("active", json!(false)),
        ("expiry", json!(1)),
        ("registrations", json!([])),
    ] {
        let mut app = TestApp::spawn().await;
        let login = log_in(&app, "richard@piedpiper.com").await;
        let token = login["refreshToken"].as_str().unwrap().to_owned();
        assert_eq!(exchange(&app, &token).await.status, 200);
        let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
        kickstart["users"][0][field] = value;
        app.reload(&kickstart.to_string()).await;
        assert!(refused(&exchange(&app, &token).await), "{field}");
    }
}

#[tokio::test]
async fn unknown_malformed_and_missing_refresh_tokens_are_client_errors_with_no_hint_which() {
    let app = TestApp::spawn().await;
    let login = log_in(&app, "richard@piedpiper.com").await;
    let real = login["refreshToken"].as_str().unwrap();
    let mut forged = real.to_owned();
    forged.replace_range(100.., "AAAAAAA");
    for token in [
        "x",
        "",
        &forged,
        &real[..106],
        &"A".repeat(107),
        &"é".repeat(60),
    ] {
        let response = exchange(&app, token).await;
        assert_eq!(response.status, 400, "{token}: {}", response.body);
        if !token.is_empty() {
            assert!(refused(&response), "{token}: {}", response.body);
        }
    }
    let missing = app.refresh(json!({})).await;
    assert_eq!(missing.error_codes(), ["[missing]refreshToken"]);
    let wrong_type = app.refresh(json!({"refreshToken": 7})).await;
    assert_eq!(wrong_type.error_codes(), ["[couldNotConvert]refreshToken"]);
    let not_json = app
        .refresh_event(event("/api/jwt/refresh", &[], "{\"refreshToken\":"))
        .await;
    assert_eq!(not_json.error_codes(), ["[invalidJSON]"]);
    assert_eq!(
        exchange(&app, real).await.status,
        200,
        "the real one still works"
    );
}

#[tokio::test]
async fn by_default_a_rotated_token_presented_again_is_refused_and_the_session_goes_on() {
    let app = TestApp::spawn_with(&one_time_use_kickstart()).await;
    let login = log_in(&app, "richard@piedpiper.com").await;
    let first = login["refreshToken"].as_str().unwrap().to_owned();
    let second = exchange(&app, &first).await.json()["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(refused(&exchange(&app, &first).await));
    let third = exchange(&app, &second).await;
    assert_eq!(third.status, 200, "the family lives on: {}", third.body);
    assert_eq!(app.refresh_token_items().await.len(), 1);
}

#[tokio::test]
async fn within_the_grace_period_the_replaced_token_gets_the_current_one_again_and_not_after() {
    let clock = crate::clock::TestClock::now();
    let app = TestApp::spawn_with_clock_and(&grace_kickstart(30), clock.clone()).await;
    let login = log_in(&app, "richard@piedpiper.com").await;
    let first = login["refreshToken"].as_str().unwrap().to_owned();
    let rotated = exchange(&app, &first).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let second = rotated.json()["refreshToken"].as_str().unwrap().to_owned();

    // A second tab presents the replaced token 10 s later: the same current token, a new JWT.
    clock.advance(10_000);
    let again = exchange(&app, &first).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["refreshToken"], second.as_str());
    assert_eq!(again.json()["refreshTokenId"], login["refreshTokenId"]);
    assert!(again.json()["token"].is_string());
    let cookies = again.cookies();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(&format!("refresh_token={second};"))),
        "{cookies:?}"
    );

    let next = exchange(&app, &second).await;
    assert_eq!(next.status, 200, "{}", next.body);
    let third = next.json()["refreshToken"].as_str().unwrap().to_owned();
    // Only the token the latest rotation replaced has grace.
    assert!(refused(&exchange(&app, &first).await));
    // 31 s after that rotation the replaced token is plain reuse: refused, the session goes on.
    clock.advance(31_000);
    assert!(refused(&exchange(&app, &second).await));
    let last = exchange(&app, &third).await;
    assert_eq!(last.status, 200, "{}", last.body);
}

#[tokio::test]
async fn two_tabs_refreshing_one_token_at_once_with_a_grace_period_both_keep_the_session() {
    let app = std::sync::Arc::new(TestApp::spawn_with(&grace_kickstart(30)).await);
    let login = log_in(&app, "richard@piedpiper.com").await;
    let token = login["refreshToken"].as_str().unwrap().to_owned();
    let tabs: Vec<_> = (0..8)
        .map(|_| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move { exchange(&app, &token).await })
        })
        .collect();
    let mut handed = Vec::new();
    for tab in tabs {
        let response = tab.await.unwrap();
        assert_eq!(response.status, 200, "{}", response.body);
        handed.push(response.json()["refreshToken"].as_str().unwrap().to_owned());
    }
    handed.dedup();
    assert_eq!(handed.len(), 1, "every tab holds the one current token");
    assert_ne!(handed[0], token);
    let next = exchange(&app, &handed[0]).await;
    assert_eq!(next.status, 200, "{}", next.body);
}

#[tokio::test]
async fn a_token_in_a_form_encoded_body_is_revoked() {
    let app = TestApp::spawn().await;
    let login = log_in(&app, "richard@piedpiper.com").await;
    let other = log_in(&app, "richard@piedpiper.com").await;
    let token = login["refreshToken"].as_str().unwrap();
    let form = |token: &str| {
        api_gateway_events::Event::delete("/api/jwt/refresh")
            .header("authorization", GLOBAL_KEY)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(&format!("token={token}"))
            .to_json()
    };
    let revoked = app.revoke_event(form(token)).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.body, "");
    assert!(refused(&exchange(&app, token).await));
    assert_eq!(
        exchange(&app, other["refreshToken"].as_str().unwrap())
            .await
            .status,
        200,
        "only the token named"
    );
    let again = app.revoke_event(form(token)).await;
    assert_eq!(again.status, 404, "{}", again.body);
}

#[tokio::test]
async fn time_to_live_in_seconds_asks_for_a_shorter_jwt_never_a_longer_one() {
    let app = TestApp::spawn().await;
    let login = log_in(&app, "richard@piedpiper.com").await;
    let token = login["refreshToken"].as_str().unwrap();
    let lifetime = |response: &TestResponse| {
        assert_eq!(response.status, 200, "{}", response.body);
        let jwt = claims(response.json()["token"].as_str().unwrap());
        jwt["exp"].as_i64().unwrap() - jwt["iat"].as_i64().unwrap()
    };
    let configured = lifetime(&exchange(&app, token).await);
    assert_eq!(configured, 3600, "the example tenant's timeToLiveInSeconds");

    let short = app
        .refresh(json!({"refreshToken": token, "timeToLiveInSeconds": 60}))
        .await;
    assert_eq!(lifetime(&short), 60);
    let long = app
        .refresh(json!({"refreshToken": token, "timeToLiveInSeconds": 86_400}))
        .await;
    assert_eq!(
        lifetime(&long),
        configured,
        "capped at the configured lifetime"
    );
    for bad in [json!(0), json!(-5), json!("sixty"), json!(1.5)] {
        let refused = app
            .refresh(json!({"refreshToken": token, "timeToLiveInSeconds": bad}))
            .await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
        assert_eq!(
            refused.error_codes(),
            ["[invalid]timeToLiveInSeconds"],
            "{bad}"
        );
    }
}
