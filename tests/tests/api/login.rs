//! Complete Passwordless Login against DynamoDB on moto: every status, the JWT, the refresh token
//! and the cookies.

use std::sync::Arc;

use base64::Engine;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use passwordless::codes::hash_secret;
use serde_json::{json, Value};

use aws_sdk_dynamodb::types::AttributeValue;
use passwordless::ports::Directory;

use crate::helpers::*;

const ADMIN_APP: &str = "10000000-0000-0002-0000-000000000002";
const SECRET_B64: &str = "c2VjcmV0LWZvci1sb2NhbC1kZXZlbG9wbWVudC1vbmx5LWNoYW5nZS1tZQ==";
const KEY_ID: &str = "0c1f3e7a-5b0e-4c3f-9d55-2a8f1d7e6b01";
const RICHARD: &str = "00000000-0000-0001-0000-000000000001";

async fn code_for(app: &TestApp, login_id: &str) -> String {
    app.start_code(json!({"applicationId": WEB_APP, "loginId": login_id}))
        .await["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn verify(token: &str, audience: Option<&str>) -> Value {
    let header = decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.kid.as_deref(), Some(KEY_ID));
    let secret = base64::engine::general_purpose::STANDARD
        .decode(SECRET_B64)
        .unwrap();
    let mut validation = Validation::new(Algorithm::HS256);
    match audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    validation.set_issuer(&["piedpiper.com"]);
    decode::<Value>(token, &DecodingKey::from_secret(&secret), &validation)
        .expect("the token verifies with the tenant's key")
        .claims
}

#[tokio::test]
async fn a_code_logs_the_user_in_with_a_verifiable_jwt_refresh_token_state_and_cookies() {
    let app = TestApp::spawn().await;
    let state = json!({"redirect_uri": "https://piedpiper.com/callback"});
    let code = app
        .start_code(
            json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com", "state": state}),
        )
        .await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    // Delivered by email: completing the login verifies that address.
    let sent = app.send(json!({"code": code})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let response = app
        .login(json!({"code": code, "applicationId": WEB_APP,
                      "metaData": {"device": {"name": "Richard's laptop", "type": "LAPTOP"}}}))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    let body = response.json();
    assert_eq!(body["state"], state);
    let claims = verify(body["token"].as_str().unwrap(), Some(WEB_APP));
    assert_eq!(claims["sub"], RICHARD);
    assert_eq!(claims["aud"], WEB_APP);
    assert_eq!(claims["applicationId"], WEB_APP);
    assert_eq!(claims["roles"], json!(["user", "admin"]));
    assert_eq!(claims["authenticationType"], "PASSWORDLESS");
    assert_eq!(claims["email"], "richard@piedpiper.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["preferred_username"], "richard");
    assert_eq!(claims["tid"], TENANT);
    assert_eq!(claims["sid"], body["refreshTokenId"]);
    let iat = claims["iat"].as_i64().unwrap();
    assert!((before..=before + 5).contains(&iat));
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 3600);
    assert_eq!(claims["auth_time"], iat);
    assert!(claims["jti"].as_str().unwrap().len() == 36);
    assert_eq!(
        body["tokenExpirationInstant"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap() * 1000
    );

    let refresh = body["refreshToken"].as_str().unwrap();
    assert!(refresh.len() >= 43);
    let identity = &body["user"]["identities"][0];
    assert_eq!(identity["verified"], true);
    assert_eq!(identity["verifiedReason"], "Implicit");
    assert!(body["user"]["lastLoginInstant"].as_i64().is_some());

    let cookies = response.cookies();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert_eq!(
        cookies[0],
        format!(
            "access_token={}; Path=/; HttpOnly; SameSite=Lax; Secure",
            body["token"].as_str().unwrap()
        )
    );
    assert_eq!(
        cookies[1],
        format!("refresh_token={refresh}; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax; Secure")
    );

    let codes = format!("{:?}", app.code_items().await);
    assert!(
        !codes.contains(refresh),
        "the refresh token is stored in plain text"
    );
    assert!(codes.contains(&hash_secret(refresh)));
    assert!(codes.contains("Richard's laptop"));
}

/// The user item as stored: what a login must leave alone once it changes nothing of the user's
/// document, so that its write units do not grow with the user.
async fn stored_user_item(app: &TestApp) -> std::collections::HashMap<String, AttributeValue> {
    app.directory_items()
        .await
        .into_iter()
        .find(|item| item["pk"] == AttributeValue::S(format!("USER#{RICHARD}")))
        .expect("richard is stored")
}

#[tokio::test]
async fn a_login_that_changes_nothing_of_the_user_leaves_the_user_item_and_reads_back_its_instants()
{
    let app = TestApp::spawn().await;
    // The first login verifies richard's address: the document changes, and is written.
    let first = app
        .login(json!({"code": code_for(&app, "richard").await, "applicationId": WEB_APP}))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let before = stored_user_item(&app).await;

    let second = app
        .login(json!({"code": code_for(&app, "richard").await, "applicationId": WEB_APP}))
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    let instant = second.json()["user"]["lastLoginInstant"].as_i64().unwrap();

    assert_eq!(
        stored_user_item(&app).await,
        before,
        "the user item is not written"
    );
    let read = app
        .store
        .user(RICHARD.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.last_login_instant, Some(instant));
    let registration = read
        .registrations
        .iter()
        .find(|r| r.application_id.to_string() == WEB_APP)
        .unwrap();
    assert_eq!(registration.last_login_instant, Some(instant));
    assert!(read
        .identities
        .iter()
        .any(|i| i.value == "richard" && i.last_login_instant == Some(instant)));
}

#[tokio::test]
async fn a_code_works_once_and_every_bad_code_gets_the_same_empty_404() {
    let app = TestApp::spawn().await;
    let code = code_for(&app, "richard").await;
    assert_eq!(app.login(json!({"code": code})).await.status, 200);
    let replay = app.login(json!({"code": code})).await;
    let unknown = app
        .login(json!({"code": "CynAUMCHLxCCAWyHXOVWPQd8ZY0a6U0e3YpYkT0MNxs"}))
        .await;
    let first = code_for(&app, "richard").await;
    code_for(&app, "richard").await;
    let superseded = app.login(json!({"code": first})).await;
    for response in [&replay, &unknown, &superseded] {
        assert_eq!(response.status, 404);
        assert_eq!(response.body, "");
        assert_eq!(response.headers, replay.headers);
    }
}

#[tokio::test]
async fn an_expired_code_is_404_though_its_item_is_still_stored() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["tenants"][0]["externalIdentifierConfiguration"]
        ["passwordlessLoginTimeToLiveInSeconds"] = json!(1);
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let code = code_for(&app, "richard").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(!app.code_items().await.is_empty());
    assert_eq!(app.login(json!({"code": code})).await.status, 404);
}

#[tokio::test]
async fn concurrent_logins_with_one_code_give_exactly_one_success_and_one_refresh_token() {
    let app = Arc::new(TestApp::spawn().await);
    let code = code_for(&app, "richard").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, code) = (app.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            app.login(json!({"code": code, "applicationId": WEB_APP}))
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 404).count(), 19);
    let refresh_tokens = app
        .code_items()
        .await
        .into_iter()
        .filter(|i| i["pk"].as_s().unwrap().starts_with("REFRESHTOKEN#"))
        .count();
    assert_eq!(refresh_tokens, 1);
}

/// A FormField code for Dinesh's phone: the code, its one-time code, and a wrong one.
async fn phone_code(app: &TestApp) -> (String, String, String) {
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "720-555-0147",
                           "loginIdTypes": ["phoneNumber"]}))
        .await;
    let otc = started["oneTimeCode"].as_str().unwrap().to_owned();
    let wrong = if otc == "000000" { "111111" } else { "000000" }.to_owned();
    (started["code"].as_str().unwrap().to_owned(), otc, wrong)
}

#[tokio::test]
async fn a_form_field_code_needs_its_one_time_code_and_five_wrong_guesses_invalidate_it() {
    let app = TestApp::spawn().await;
    let (code, otc, wrong) = phone_code(&app).await;
    let (code, otc, wrong) = (code.as_str(), otc.as_str(), wrong.as_str());
    assert_eq!(
        app.login(json!({"code": code})).await.status,
        404,
        "code alone"
    );
    assert_eq!(
        app.login(json!({"code": otc})).await.status,
        404,
        "short code alone"
    );
    for _ in 0..3 {
        assert_eq!(
            app.login(json!({"code": code, "oneTimeCode": wrong}))
                .await
                .status,
            404
        );
    }
    // Four wrong attempts so far (the one without a one-time code counts): the right one works.
    let ok = app.login(json!({"code": code, "oneTimeCode": otc})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);

    let (code, otc, wrong) = phone_code(&app).await;
    let (code, otc, wrong) = (code.as_str(), otc.as_str(), wrong.as_str());
    for _ in 0..5 {
        assert_eq!(
            app.login(json!({"code": code, "oneTimeCode": wrong}))
                .await
                .status,
            404
        );
    }
    let after = app.login(json!({"code": code, "oneTimeCode": otc})).await;
    assert_eq!(
        after.status, 404,
        "the fifth wrong guess invalidates the code"
    );
}

#[tokio::test]
async fn each_user_state_gets_its_fusionauth_status_in_order() {
    let app = TestApp::spawn().await;
    let cases = [
        ("bighead@hooli.com", 404),
        ("erlich@aviato.com", 410),
        ("gavin@hooli.com", 423),
        ("russ@threecommas.com", 409),
        ("monica@raviga.com", 203),
        ("gilfoyle@piedpiper.com", 242),
    ];
    for (login_id, status) in cases {
        let code = code_for(&app, login_id).await;
        let response = app
            .login(json!({"code": code, "applicationId": WEB_APP}))
            .await;
        assert_eq!(response.status, status, "{login_id}: {}", response.body);
        match status {
            404 | 410 | 423 => assert_eq!(response.body, "", "{login_id}"),
            409 => {
                let action = &response.json()["actions"][0];
                assert_eq!(action["actionId"], "9a1c0000-0000-0000-0000-000000000001");
                assert_eq!(action["reasonCode"], "chargeback");
                assert_eq!(action["name"], "Account review");
                assert!(
                    action.get("expiry").is_none(),
                    "absent fields are left out, not null: {action}"
                );
            }
            203 => {
                let body = response.json();
                assert_eq!(body["changePasswordReason"], "Administrative");
                assert!(body["changePasswordId"].as_str().unwrap().len() >= 43);
            }
            242 => {
                let body = response.json();
                assert!(body["twoFactorId"].as_str().unwrap().len() >= 43);
                assert_eq!(body["methods"][0]["id"], "35VW");
                assert!(body.get("token").is_none());
            }
            _ => unreachable!(),
        }
    }
    let stored = format!("{:?}", app.code_items().await);
    assert!(stored.contains("TWOFACTOR#"));
    assert!(stored.contains("CHANGEPASSWORD#"));
}

#[tokio::test]
async fn a_valid_trust_cookie_skips_two_factor_and_wins_over_the_body() {
    let app = TestApp::spawn().await;
    let gilfoyle = "00000000-0000-0001-0000-000000000004";
    let expires = 4_102_444_800_000_i64; // 2100
    let mut item = std::collections::HashMap::new();
    for (k, v) in [
        ("pk", format!("TRUST#{}", hash_secret("trusted-device-id"))),
        ("sk", "TRUST".to_owned()),
        ("userId", gilfoyle.to_owned()),
    ] {
        item.insert(k.to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(v));
    }
    item.insert(
        "expiresAt".to_owned(),
        aws_sdk_dynamodb::types::AttributeValue::N(expires.to_string()),
    );
    app.store
        .client()
        .put_item()
        .table_name(&app.store.tables().codes)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();

    let code = code_for(&app, "gilfoyle").await;
    let body = json!({"code": code, "twoFactorTrustId": "trusted-device-id"}).to_string();
    let untrusted_cookie = app
        .login_event(event(
            "/api/passwordless/login",
            &[("cookie", "fusionauth.trust=someone-elses")],
            &body,
        ))
        .await;
    assert_eq!(
        untrusted_cookie.status, 242,
        "the cookie wins over the body"
    );

    let code = code_for(&app, "gilfoyle").await;
    let trusted = app
        .login_event(event(
            "/api/passwordless/login",
            &[("cookie", "other=1; fusionauth.trust=trusted-device-id")],
            &json!({"code": code}).to_string(),
        ))
        .await;
    assert_eq!(trusted.status, 200, "{}", trusted.body);
}

#[tokio::test]
async fn registration_and_verification_choose_202_213_and_212() {
    let app = TestApp::spawn().await;
    let code_for_admin_console = |login_id: &'static str| {
        let app = &app;
        async move {
            app.start_code(json!({"applicationId": ADMIN_APP, "loginId": login_id}))
                .await["code"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    // Richard is not registered to the admin console: 202, a token without application claims.
    let code = code_for_admin_console("richard").await;
    let not_registered = app
        .login(json!({"code": code, "applicationId": ADMIN_APP}))
        .await;
    assert_eq!(not_registered.status, 202);
    let claims = verify(not_registered.json()["token"].as_str().unwrap(), None);
    assert!(claims.get("aud").is_none() && claims.get("roles").is_none());
    assert!(not_registered.json().get("refreshToken").is_none());

    // Jared's admin-console registration is unverified and the application requires it: 213.
    let code = code_for_admin_console("jared").await;
    let unverified = app
        .login(json!({"code": code, "applicationId": ADMIN_APP}))
        .await;
    assert_eq!(unverified.status, 213);

    // A tenant that requires verified email addresses and does not verify them implicitly: 212,
    // even though the code was delivered to that address.
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let email = &mut kickstart["tenants"][0]["emailConfiguration"];
    email["implicitEmailVerificationAllowed"] = json!(false);
    email["verifyEmail"] = json!(true);
    let strict = TestApp::spawn_with(&kickstart.to_string()).await;
    let code = code_for(&strict, "richard@piedpiper.com").await;
    assert_eq!(strict.send(json!({"code": code})).await.status, 200);
    let response = strict
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;
    assert_eq!(response.status, 212);
    assert_eq!(response.json()["user"]["identities"][0]["verified"], false);
}

#[tokio::test]
async fn a_code_started_for_one_application_logs_in_to_no_other_and_stays_valid() {
    let app = TestApp::spawn().await;
    // Jared is registered to both applications, with other roles in each.
    let code = code_for(&app, "jared").await;
    let elsewhere = app
        .login(json!({"code": code, "applicationId": ADMIN_APP}))
        .await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    assert_eq!(elsewhere.body, "");
    let here = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;
    assert_eq!(here.status, 200, "{}", here.body);
    assert_eq!(
        verify(here.json()["token"].as_str().unwrap(), Some(WEB_APP))["aud"],
        WEB_APP
    );
}

#[tokio::test]
async fn no_jwt_gives_no_token_no_refresh_token_and_no_cookies() {
    let app = TestApp::spawn().await;
    let code = code_for(&app, "richard").await;
    let response = app
        .login(json!({"code": code, "applicationId": WEB_APP, "noJWT": true}))
        .await;
    assert_eq!(response.status, 200);
    let body = response.json();
    for field in [
        "token",
        "tokenExpirationInstant",
        "refreshToken",
        "refreshTokenId",
    ] {
        assert!(body.get(field).is_none(), "{field}");
    }
    assert!(response.cookies().is_empty());
}

#[tokio::test]
async fn cookies_are_secure_everywhere_but_plain_http_to_the_loopback() {
    let app = TestApp::spawn().await;
    let login_over = |proto: &'static str, host: &'static str| {
        let app = &app;
        async move {
            let code = code_for(app, "richard").await;
            let mut request = event(
                "/api/passwordless/login",
                &[],
                &json!({"code": code}).to_string(),
            );
            request["headers"]["x-forwarded-proto"] = json!(proto);
            request["headers"]["host"] = json!(host);
            let response = app.login_event(request).await;
            assert_eq!(response.status, 200, "{}", response.body);
            let cookies = response.cookies();
            assert_eq!(cookies.len(), 1, "no application, no refresh token");
            assert!(!cookies[0].contains("Domain"));
            cookies[0].contains("; Secure")
        }
    };
    assert!(login_over("https", "abc123.execute-api.us-east-1.amazonaws.com").await);
    assert!(
        login_over("http", "login.example.com").await,
        "plain HTTP to a real host still gets Secure cookies"
    );
    assert!(login_over("https", "127.0.0.1:9011").await);
    assert!(!login_over("http", "127.0.0.1:9011").await, "make dev");
    assert!(!login_over("http", "localhost:9011").await);
    assert!(!login_over("http", "[::1]:9011").await);
}

#[tokio::test]
async fn the_login_is_recorded_with_the_first_forwarded_ip() {
    let app = TestApp::spawn().await;
    let code = code_for(&app, "richard").await;
    let response = app
        .login_event(event(
            "/api/passwordless/login",
            &[("x-forwarded-for", "198.51.100.7, 10.0.0.1")],
            &json!({"code": code, "applicationId": WEB_APP}).to_string(),
        ))
        .await;
    assert_eq!(response.status, 200);
    let records: Vec<Value> = app
        .directory_items()
        .await
        .into_iter()
        .filter(|i| i["pk"].as_s().unwrap().starts_with("LOGIN#"))
        .map(|i| serde_json::from_str(i["doc"].as_s().unwrap()).unwrap())
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["ipAddress"], "198.51.100.7");
    assert_eq!(records[0]["applicationId"], WEB_APP);
}

#[tokio::test]
async fn an_unknown_application_is_400_and_leaves_the_code_usable() {
    let app = TestApp::spawn().await;
    let code = code_for(&app, "richard").await;
    let response = app
        .login(json!({"code": code, "applicationId": "00000000-0000-4000-8000-000000000000"}))
        .await;
    assert_eq!(response.status, 400);
    assert_eq!(response.error_codes(), ["[invalid]applicationId"]);
    assert_eq!(app.login(json!({"code": code})).await.status, 200);
    let blank = app.login(json!({})).await;
    assert_eq!(blank.error_codes(), ["[blank]code"]);
}

#[tokio::test]
async fn a_login_record_expires_a_year_after_the_login_by_the_directory_tables_ttl() {
    let app = TestApp::spawn().await;
    let code = code_for(&app, "richard").await;
    assert_eq!(app.login(json!({"code": code})).await.status, 200);
    let records: Vec<_> = app
        .directory_items()
        .await
        .into_iter()
        .filter(|i| i["pk"].as_s().unwrap().starts_with("LOGIN#"))
        .collect();
    assert_eq!(records.len(), 1);
    let doc: Value = serde_json::from_str(records[0]["doc"].as_s().unwrap()).unwrap();
    let instant_seconds = doc["instant"].as_i64().unwrap() / 1000;
    let ttl: i64 = records[0]["ttl"].as_n().unwrap().parse().unwrap();
    assert_eq!(ttl, instant_seconds + 365 * 86_400);
    // DynamoDB deletes the Directory's items past their `ttl`, as the Codes table's.
    let directory = &app.store.tables().directory;
    let described = app
        .store
        .client()
        .describe_time_to_live()
        .table_name(directory)
        .send()
        .await
        .unwrap();
    let ttl_spec = described.time_to_live_description.unwrap();
    assert_eq!(ttl_spec.attribute_name(), Some("ttl"));
    assert_eq!(
        ttl_spec.time_to_live_status().map(|s| s.as_str()),
        Some("ENABLED")
    );
}

#[tokio::test]
async fn of_five_logins_at_once_with_the_right_one_time_code_one_succeeds_and_only_it_stays_recorded(
) {
    let app = Arc::new(TestApp::spawn().await);
    for round in 1..=5 {
        let (code, otc, _) = crate::brute_force::phone_code(&app).await;
        // Five: all of them get past the code's count, and race to use the code beside their
        // writes.
        let racers: Vec<_> = (0..5)
            .map(|_| {
                let (app, attempt) = (app.clone(), crate::brute_force::attempt(&code, &otc));
                tokio::spawn(async move { app.login(attempt).await.status })
            })
            .collect();
        let mut statuses = Vec::new();
        for racer in racers {
            statuses.push(racer.await.expect("the login task finishes"));
        }
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 404, 404, 404, 404], "round {round}");
        let records = app
            .directory_items()
            .await
            .iter()
            .filter(|i| i["pk"].as_s().unwrap().starts_with("LOGIN#"))
            .count();
        assert_eq!(records, round, "one login record per round");
    }
}

#[tokio::test]
async fn a_login_refused_after_writing_ahead_of_its_read_leaves_no_session_record_or_last_login() {
    let mut app = TestApp::spawn().await;
    let richard = RICHARD.parse().unwrap();
    let first = app
        .login(json!({"code": code_for(&app, "richard").await, "applicationId": WEB_APP}))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let count = |items: Vec<std::collections::HashMap<String, AttributeValue>>, prefix: &str| {
        items
            .iter()
            .filter(|i| i["pk"].as_s().unwrap().starts_with(prefix))
            .count()
    };
    let sessions = count(app.code_items().await, "REFRESHTOKEN#");
    let records = count(app.directory_items().await, "LOGIN#");
    let before = app.store.user(richard).await.unwrap().unwrap();
    assert!(before.last_login_instant.is_some());

    // Every user locked: a link's login and a one-time code's are refused after their writes.
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    for user in kickstart["users"].as_array_mut().unwrap() {
        user["locked"] = json!(true);
    }
    app.reload(&kickstart.to_string()).await;
    let link = app
        .login(json!({"code": code_for(&app, "richard").await, "applicationId": WEB_APP}))
        .await;
    assert_eq!(link.status, 423, "{}", link.body);
    let (code, otc, _) = crate::brute_force::phone_code(&app).await;
    let typed = app.login(crate::brute_force::attempt(&code, &otc)).await;
    assert_eq!(typed.status, 423, "{}", typed.body);

    assert_eq!(count(app.code_items().await, "REFRESHTOKEN#"), sessions);
    assert_eq!(count(app.directory_items().await, "LOGIN#"), records);
    let after = app.store.user(richard).await.unwrap().unwrap();
    assert_eq!(after.last_login_instant, before.last_login_instant);
    let registration_login = |user: &passwordless::model::User| {
        user.registrations
            .iter()
            .find(|r| r.application_id.to_string() == WEB_APP)
            .and_then(|r| r.last_login_instant)
    };
    assert_eq!(registration_login(&after), registration_login(&before));
}
