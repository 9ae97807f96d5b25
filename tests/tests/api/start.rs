//! Start Passwordless Login through API Gateway events, against DynamoDB on moto.

use passwordless::codes::hash_secret;
use serde_json::{json, Value};

use crate::helpers::*;

const RICHARD: &str = "00000000-0000-0001-0000-000000000001";
const JARED: &str = "00000000-0000-0001-0000-000000000002";
const DINESH: &str = "00000000-0000-0001-0000-000000000003";

fn body(login_id: &str) -> Value {
    json!({"applicationId": WEB_APP, "loginId": login_id})
}

/// The stored pending code for `code`, found by its hash.
async fn stored_code(app: &TestApp, code: &str) -> Option<Value> {
    let pk = format!("CODE#{}", hash_secret(code));
    app.code_items().await.into_iter().find_map(|item| {
        (item.get("pk")?.as_s().ok()? == &pk)
            .then(|| serde_json::from_str(item.get("doc")?.as_s().ok()?).ok())?
    })
}

#[tokio::test]
async fn start_by_email_returns_a_43_character_code_as_fusionauth_json() {
    let app = TestApp::spawn().await;
    let response = app
        .start(start_event(Some(GLOBAL_KEY), body("richard@piedpiper.com")))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let json = response.json();
    let code = json["code"].as_str().unwrap();
    assert_eq!(code.len(), 43);
    assert!(json.get("oneTimeCode").is_none(), "{json}");
    let stored = stored_code(&app, code).await.expect("stored by its hash");
    assert_eq!(stored["userId"], RICHARD);
    assert_eq!(stored["strategy"], "ClickableLink");
    assert_eq!(stored["identityType"], "email");
}

#[tokio::test]
async fn the_code_is_stored_only_as_a_hash_with_its_expiry_state_and_application() {
    let app = TestApp::spawn().await;
    let state = json!({"redirect_uri": "https://piedpiper.com/callback", "state": "CSRF123"});
    let before = now_millis();
    let response = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "richard", "state": state,
                   "loginIdTypes": ["username"], "loginStrategy": "FormField"}),
        ))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let json = response.json();
    let (code, otc) = (
        json["code"].as_str().unwrap(),
        json["oneTimeCode"].as_str().unwrap(),
    );
    let items = format!("{:?}", app.code_items().await);
    assert!(!items.contains(code), "the code is stored in plain text");
    assert!(
        !items.contains(&format!("\"{otc}\"")),
        "the one-time code is stored"
    );
    let stored = stored_code(&app, code).await.unwrap();
    assert_eq!(stored["state"], state);
    assert_eq!(stored["applicationId"], WEB_APP);
    let expires = stored["expiresAtMillis"].as_i64().unwrap();
    let lifetime = expires - before;
    assert!(
        (179_000..=182_000).contains(&lifetime),
        "lifetime {lifetime} ms"
    );
}

#[tokio::test]
async fn a_phone_number_in_any_format_finds_the_user_and_returns_a_six_digit_one_time_code() {
    let app = TestApp::spawn().await;
    for login_id in ["(720) 555-0147", "+1 720 555 0147", "720.555.0147"] {
        let response = app
            .start(start_event(
                Some(GLOBAL_KEY),
                json!({"applicationId": WEB_APP, "loginId": login_id,
                       "loginIdTypes": ["phoneNumber"]}),
            ))
            .await;
        assert_eq!(response.status, 200, "{login_id}: {}", response.body);
        let json = response.json();
        let otc = json["oneTimeCode"].as_str().unwrap();
        assert_eq!(otc.len(), 6);
        assert!(otc.bytes().all(|b| b.is_ascii_digit()));
        let stored = stored_code(&app, json["code"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(stored["userId"], DINESH);
        assert_eq!(stored["strategy"], "FormField");
        assert_eq!(stored["identityValue"], "+17205550147");
    }
}

#[tokio::test]
async fn phone_numbers_are_not_compared_unless_login_id_types_ask_for_them() {
    let app = TestApp::spawn().await;
    let response = app
        .start(start_event(Some(GLOBAL_KEY), body("(720) 555-0147")))
        .await;
    assert_eq!(response.status, 404);
    assert_eq!(response.body, "");
}

#[tokio::test]
async fn email_and_username_match_case_insensitively_but_white_space_is_kept() {
    let app = TestApp::spawn().await;
    let upper = app
        .start(start_event(Some(GLOBAL_KEY), body("RICHARD@PiedPiper.COM")))
        .await;
    assert_eq!(upper.status, 200);
    let username = app
        .start(start_event(Some(GLOBAL_KEY), body("Richard")))
        .await;
    assert_eq!(username.status, 200);
    let padded = app
        .start(start_event(
            Some(GLOBAL_KEY),
            body(" richard@piedpiper.com"),
        ))
        .await;
    assert_eq!(padded.status, 404);
}

#[tokio::test]
async fn an_email_match_wins_over_another_users_username() {
    let app = TestApp::spawn().await;
    // jared@piedpiper.com is Jared's email and Laurie's username.
    let response = app
        .start(start_event(Some(GLOBAL_KEY), body("jared@piedpiper.com")))
        .await;
    let code = response.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(stored_code(&app, &code).await.unwrap()["userId"], JARED);

    let username_only = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "jared@piedpiper.com",
                   "loginIdTypes": ["username"]}),
        ))
        .await;
    let code = username_only.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(
        stored_code(&app, &code).await.unwrap()["userId"],
        "00000000-0000-0001-0000-00000000000a"
    );
}

#[tokio::test]
async fn an_unknown_user_gets_404_with_an_empty_body_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let response = app
        .start(start_event(Some(GLOBAL_KEY), body("nobody@piedpiper.com")))
        .await;
    assert_eq!(response.status, 404);
    assert_eq!(response.body, "");
    assert!(app.code_items().await.is_empty());
}

#[tokio::test]
async fn a_missing_unknown_or_bearer_prefixed_key_gets_401_with_an_empty_body_and_no_write() {
    let app = TestApp::spawn().await;
    let bearer = format!("Bearer {GLOBAL_KEY}");
    for key in [None, Some("not-a-key"), Some(bearer.as_str()), Some("")] {
        let response = app
            .start(start_event(key, body("richard@piedpiper.com")))
            .await;
        assert_eq!(response.status, 401, "{key:?}");
        assert_eq!(response.body, "");
    }
    assert!(app.code_items().await.is_empty());
}

#[tokio::test]
async fn a_bad_key_is_refused_before_a_bad_body_and_a_good_key_gets_the_400() {
    let app = TestApp::spawn().await;
    for bad_body in [
        json!({}),
        json!("not an object"),
        json!({"applicationId": "nope"}),
    ] {
        for key in [None, Some("not-a-key")] {
            let response = app.start(start_event(key, bad_body.clone())).await;
            assert_eq!(response.status, 401, "{key:?} {bad_body}");
            assert_eq!(response.body, "");
        }
        let response = app
            .start(start_event(Some(GLOBAL_KEY), bad_body.clone()))
            .await;
        assert_eq!(response.status, 400, "{bad_body}");
    }
    assert!(app.code_items().await.is_empty());
}

#[tokio::test]
async fn api_keys_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let items = format!("{:?}", app.directory_items().await);
    assert!(!items.contains(GLOBAL_KEY));
    assert!(!items.contains(LOCKED_KEY));
    assert!(items.contains(&hash_secret(GLOBAL_KEY)));
}

#[tokio::test]
async fn a_tenant_locked_key_works_in_its_tenant_and_a_contradicting_header_is_401() {
    let app = TestApp::spawn().await;
    let ok = app
        .start(start_event(Some(LOCKED_KEY), body("richard@piedpiper.com")))
        .await;
    assert_eq!(ok.status, 200);
    let same_tenant = event(
        "/api/passwordless/start",
        &[
            ("authorization", LOCKED_KEY),
            ("x-fusionauth-tenantid", TENANT),
        ],
        &body("richard@piedpiper.com").to_string(),
    );
    assert_eq!(app.start(same_tenant).await.status, 200);
    for other in ["6b0b7c1e-0000-4000-8000-000000000000", "not-a-uuid"] {
        let contradicting = event(
            "/api/passwordless/start",
            &[
                ("authorization", LOCKED_KEY),
                ("x-fusionauth-tenantid", other),
            ],
            &body("richard@piedpiper.com").to_string(),
        );
        let response = app.start(contradicting).await;
        assert_eq!(response.status, 401, "{other}");
        assert_eq!(response.body, "");
    }
}

/// The reference kickstart plus a second tenant with its own application, and a key that may
/// call only the user API.
fn two_tenant_kickstart() -> String {
    let mut k: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    k["tenants"].as_array_mut().unwrap().push(json!({
        "id": "6b0b7c1e-0000-4000-8000-000000000000", "name": "Hooli"
    }));
    k["applications"].as_array_mut().unwrap().push(json!({
        "id": "6b0b7c1e-0000-4000-8000-0000000000a1",
        "tenantId": "6b0b7c1e-0000-4000-8000-000000000000",
        "name": "Hooli app", "passwordlessConfiguration": {"enabled": true}
    }));
    k["apiKeys"].as_array_mut().unwrap().push(json!({
        "id": "6b0b7c1e-0000-4000-8000-0000000000b1",
        "key": "user-api-only-key-0123456789abcdef",
        "permissions": {"endpoints": {"/api/user": ["GET", "POST"]}}
    }));
    k.to_string()
}

#[tokio::test]
async fn a_key_whose_permissions_do_not_list_start_gets_401() {
    let app = TestApp::spawn_with(&two_tenant_kickstart()).await;
    let response = app
        .start(start_event(
            Some("user-api-only-key-0123456789abcdef"),
            body("richard@piedpiper.com"),
        ))
        .await;
    assert_eq!(response.status, 401);
    assert!(app.code_items().await.is_empty());
}

#[tokio::test]
async fn an_application_outside_the_scoped_tenant_is_an_invalid_application_id() {
    let app = TestApp::spawn_with(&two_tenant_kickstart()).await;
    let request = event(
        "/api/passwordless/start",
        &[
            ("authorization", GLOBAL_KEY),
            (
                "x-fusionauth-tenantid",
                "6b0b7c1e-0000-4000-8000-000000000000",
            ),
        ],
        &body("richard@piedpiper.com").to_string(),
    );
    let response = app.start(request).await;
    assert_eq!(response.status, 400);
    assert_eq!(response.error_codes(), ["[invalid]applicationId"]);
    // The tenant-locked key scopes the same way.
    let locked = app
        .start(start_event(
            Some(LOCKED_KEY),
            json!({"applicationId": "6b0b7c1e-0000-4000-8000-0000000000a1",
                   "loginId": "richard@piedpiper.com"}),
        ))
        .await;
    assert_eq!(locked.status, 400);
    assert_eq!(locked.error_codes(), ["[invalid]applicationId"]);
}

#[tokio::test]
async fn invalid_requests_get_400_with_fusionauth_error_codes() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"loginId": "richard"}), vec!["[blank]applicationId"]),
        (json!({"applicationId": WEB_APP}), vec!["[blank]loginId"]),
        (
            json!({"applicationId": "nope", "loginId": "richard"}),
            vec!["[couldNotConvert]applicationId"],
        ),
        (
            json!({"applicationId": "00000000-0000-4000-8000-000000000000", "loginId": "richard"}),
            vec!["[invalid]applicationId"],
        ),
        (
            json!({"applicationId": WEB_APP, "loginId": "richard", "loginIdTypes": ["fax"]}),
            vec!["[invalid]loginIdTypes"],
        ),
        (
            json!({"applicationId": WEB_APP, "loginId": "richard", "loginStrategy": "Pigeon"}),
            vec!["[invalid]loginStrategy"],
        ),
        (
            json!({"applicationId": NO_PASSWORDLESS_APP, "loginId": "richard"}),
            vec!["[PasswordlessDisabled]"],
        ),
    ];
    for (request, expected) in cases {
        let response = app
            .start(start_event(Some(GLOBAL_KEY), request.clone()))
            .await;
        assert_eq!(response.status, 400, "{request}");
        assert_eq!(
            response.header("content-type"),
            Some("application/json; charset=UTF-8")
        );
        assert_eq!(response.error_codes(), expected, "{request}");
    }
    assert!(app.code_items().await.is_empty());
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_gets_400_invalid_json() {
    let app = TestApp::spawn().await;
    for raw in ["", "not json", "[1,2]", "{\"applicationId\":", "\"text\""] {
        let request = event(
            "/api/passwordless/start",
            &[("authorization", GLOBAL_KEY)],
            raw,
        );
        let response = app.start(request).await;
        assert_eq!(response.status, 400, "{raw:?}");
        assert_eq!(response.error_codes(), ["[invalidJSON]"], "{raw:?}");
    }
}

#[tokio::test]
async fn a_base64_encoded_body_from_api_gateway_is_decoded() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let raw = body("richard@piedpiper.com").to_string();
    let mut request = start_event(Some(GLOBAL_KEY), json!({}));
    request["body"] = json!(base64::engine::general_purpose::STANDARD.encode(raw));
    request["isBase64Encoded"] = json!(true);
    assert_eq!(app.start(request).await.status, 200);
}

#[tokio::test]
async fn a_body_over_64_kib_gets_413() {
    let app = TestApp::spawn().await;
    let state = "x".repeat(70 * 1024);
    let response = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "richard", "state": {"big": state}}),
        ))
        .await;
    assert_eq!(response.status, 413);
    assert_eq!(response.error_codes(), ["[tooLarge]body"]);
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_an_empty_login_id_types_list_means_the_default() {
    let app = TestApp::spawn().await;
    let response = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "richard", "loginIdTypes": [],
                   "eventInfo": {"ipAddress": "10.0.0.1"}, "newDevice": true}),
        ))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
}

#[tokio::test]
async fn a_form_field_strategy_for_an_email_returns_a_one_time_code_too() {
    let app = TestApp::spawn().await;
    let response = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com",
                   "loginStrategy": "FormField"}),
        ))
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["oneTimeCode"].as_str().unwrap().len(), 6);
}

#[tokio::test]
async fn a_new_start_makes_the_users_earlier_code_invalid() {
    let app = TestApp::spawn().await;
    let first = app
        .start(start_event(Some(GLOBAL_KEY), body("richard@piedpiper.com")))
        .await
        .json()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = app
        .start(start_event(Some(GLOBAL_KEY), body("richard")))
        .await
        .json()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    // The earlier code's item stays until its TTL; the user's pointer names the new one only.
    assert!(stored_code(&app, &first).await.is_some());
    let newest = passwordless::ports::CodeStore::newest(&app.store, RICHARD.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(newest, Some(hash_secret(&second)));
    let login = |code: &str| app.login(json!({"code": code, "applicationId": WEB_APP}));
    assert_eq!(login(&first).await.status, 404, "superseded");
    assert_eq!(login(&second).await.status, 200);
}

#[tokio::test]
async fn concurrent_starts_leave_exactly_one_valid_code() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.start(start_event(Some(GLOBAL_KEY), body("richard@piedpiper.com")))
                .await
        }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        let started = task.await.unwrap();
        assert_eq!(started.status, 200);
        codes.push(started.json()["code"].as_str().unwrap().to_owned());
    }
    // Every code is stored (the superseded ones until their TTL); the pointer names one.
    let mut logged_in = 0;
    for code in &codes {
        let login = app
            .login(json!({"code": code, "applicationId": WEB_APP}))
            .await;
        assert!([200, 404].contains(&login.status), "{}", login.body);
        logged_in += usize::from(login.status == 200);
    }
    assert_eq!(logged_in, 1, "exactly one of the concurrent codes is valid");
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
