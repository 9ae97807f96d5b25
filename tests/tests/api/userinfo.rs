//! `GET|POST /oauth2/userinfo` (issue 24, item 5) through the userinfo function's handler with
//! its own role, against DynamoDB on moto: the claims an access token's scopes allow under
//! FusionAuth's Strict policy, read afresh; RFC 6750's challenges for every refusal; never a
//! `WWW-Authenticate` on a 200; never a token read from the URL or the body.

use api_gateway_events::Event;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::clock::TestClock;
use crate::helpers::*;
use crate::oauth2::{exchange, id_claims, open_and_click, redirected, start, web_state};
use crate::oauth2::{REDIRECT, VERIFIER, WEB_SECRET};

const RICHARD: &str = "00000000-0000-0001-0000-000000000001";
const REALM: &str = "Bearer realm=\"https://abc123.execute-api.us-east-1.amazonaws.com\"";

/// Richard's tokens from the code grant to the web app with `scope`.
async fn tokens_for(app: &TestApp, scope: &str) -> Value {
    let mut state = web_state();
    state["scope"] = json!(scope);
    let code = start(app, WEB_APP, "richard@piedpiper.com", state).await;
    let query = redirected(&open_and_click(app, &code).await, REDIRECT);
    let answer = exchange(app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

fn userinfo_request(method: &str) -> Event {
    Event::new(method, "/oauth2/userinfo")
        .without_header("content-type")
        .request_id(&Uuid::new_v4().to_string())
}

async fn userinfo(app: &TestApp, method: &str, access_token: &str) -> TestResponse {
    let event = userinfo_request(method).header("authorization", &format!("Bearer {access_token}"));
    app.userinfo_event(event.to_json()).await
}

/// The `WWW-Authenticate` challenge of a refusal, with its `error`.
fn challenged(response: &TestResponse, status: u16, error: &str) -> String {
    assert_eq!(response.status, status, "{}", response.body);
    let challenge = response
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("a {status} carries a challenge"))
        .to_owned();
    assert!(challenge.starts_with(REALM), "{challenge}");
    assert!(
        challenge.contains(&format!("error=\"{error}\"")),
        "{challenge}"
    );
    assert!(challenge.contains("error_description=\""), "{challenge}");
    assert_eq!(response.json()["error"], error);
    challenge
}

#[tokio::test]
async fn each_scope_gives_its_claims_by_get_and_post_with_no_challenge_on_the_200() {
    let app = TestApp::spawn().await;
    let tokens = tokens_for(&app, "openid email profile phone offline_access").await;
    let access = tokens["access_token"].as_str().unwrap();
    let id = id_claims(tokens["id_token"].as_str().unwrap(), WEB_APP, WEB_SECRET);
    for method in ["GET", "POST"] {
        let answer = userinfo(&app, method, access).await;
        assert_eq!(answer.status, 200, "{method}: {}", answer.body);
        assert_eq!(answer.header("www-authenticate"), None, "never on a 2xx");
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        assert!(answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")));
        let claims = answer.json();
        assert_eq!(claims["sub"], id["sub"], "the id token's subject");
        assert_eq!(claims["email_verified"], id["email_verified"]);
        assert_eq!(
            claims,
            json!({
                "sub": RICHARD,
                "email": "richard@piedpiper.com",
                // The test started the login without sending the code: nothing delivered to
                // the address, so nothing verified it.
                "email_verified": false,
                "given_name": "Richard",
                "family_name": "Hendricks",
                "preferred_username": "richard",
                "phone_number": "+13035551212",
                "phone_number_verified": false,
            }),
            "{method}: Strict: no applicationId, no roles, nothing null"
        );
    }
}

#[tokio::test]
async fn openid_alone_gives_the_subject_only() {
    let app = TestApp::spawn().await;
    let tokens = tokens_for(&app, "openid").await;
    let answer = userinfo(&app, "GET", tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), json!({"sub": RICHARD}));
}

#[tokio::test]
async fn a_token_without_openid_is_403_insufficient_scope_even_from_the_login_api() {
    let app = TestApp::spawn().await;
    let tokens = tokens_for(&app, "offline_access email").await;
    let refused = userinfo(&app, "GET", tokens["access_token"].as_str().unwrap()).await;
    let challenge = challenged(&refused, 403, "insufficient_scope");
    assert!(challenge.contains("scope=\"openid\""), "{challenge}");
    // `POST /api/passwordless/login`'s JWT carries no OAuth scope.
    let login = app.log_in("richard@piedpiper.com", WEB_APP).await;
    let refused = userinfo(&app, "GET", login["token"].as_str().unwrap()).await;
    challenged(&refused, 403, "insufficient_scope");
}

#[tokio::test]
async fn without_a_token_the_challenge_is_bare_and_there_is_no_body() {
    let app = TestApp::spawn().await;
    for event in [
        userinfo_request("GET"),
        userinfo_request("POST"),
        userinfo_request("GET").header("authorization", "Basic YTpi"),
    ] {
        let refused = app.userinfo_event(event.to_json()).await;
        assert_eq!(refused.status, 401);
        assert_eq!(refused.header("www-authenticate"), Some(REALM));
        assert_eq!(refused.body, "");
    }
}

#[tokio::test]
async fn an_invalid_tampered_expired_or_id_token_is_401_invalid_token() {
    let clock = TestClock::now();
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    let tokens = tokens_for(&app, "openid email").await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let (head, signature) = access.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    for bad in [
        "not-a-jwt".to_owned(),
        format!("{head}.{flipped}{}", &signature[1..]),
        tokens["id_token"].as_str().unwrap().to_owned(),
        "x".repeat(9000),
    ] {
        let refused = userinfo(&app, "GET", &bad).await;
        challenged(&refused, 401, "invalid_token");
    }
    assert_eq!(userinfo(&app, "GET", &access).await.status, 200);
    clock.advance(3601 * 1000);
    challenged(&userinfo(&app, "GET", &access).await, 401, "invalid_token");
}

#[tokio::test]
async fn a_deactivated_or_deleted_user_gets_nothing_with_a_token_issued_before() {
    let mut app = TestApp::spawn().await;
    let tokens = tokens_for(&app, "openid profile").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, "GET", access).await.status, 200);

    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["users"][0]["active"] = json!(false);
    app.reload(&kickstart.to_string()).await;
    challenged(&userinfo(&app, "GET", access).await, 401, "invalid_token");

    app.store
        .client()
        .delete_item()
        .table_name(&app.store.tables().directory)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{RICHARD}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("USER".into()),
        )
        .send()
        .await
        .expect("the user is deleted");
    challenged(&userinfo(&app, "GET", access).await, 401, "invalid_token");
}

#[tokio::test]
async fn a_token_in_the_url_or_the_body_or_a_malformed_header_is_400_invalid_request() {
    let app = TestApp::spawn().await;
    let tokens = tokens_for(&app, "openid").await;
    let access = tokens["access_token"].as_str().unwrap();
    let bearer = format!("Bearer {access}");
    for event in [
        userinfo_request("GET").query(&format!("access_token={access}")),
        userinfo_request("GET")
            .query(&format!("access_token={access}"))
            .header("authorization", &bearer),
        userinfo_request("POST")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(&format!("access_token={access}")),
        userinfo_request("GET").header("authorization", "Bearer"),
        userinfo_request("GET").header("authorization", &format!("{bearer} more")),
    ] {
        let refused = app.userinfo_event(event.to_json()).await;
        challenged(&refused, 400, "invalid_request");
    }
}

#[tokio::test]
async fn the_userinfo_function_reads_only_what_its_role_allows_and_logs_no_token() {
    let app = TestApp::spawn().await;
    let tokens = tokens_for(&app, "openid email").await;
    let access = tokens["access_token"].as_str().unwrap();
    let answer = userinfo(&app, "GET", access).await;
    // IAM is enforced: a read outside the role's statements would have been a 500.
    assert_eq!(answer.status, 200, "{}", answer.body);
    let lines = serde_json::to_string(&answer.metrics).unwrap();
    assert!(!lines.contains(access), "no token in the EMF lines");
    assert!(!lines.contains("richard@piedpiper.com"));
}

#[tokio::test]
async fn without_its_batch_read_of_the_user_the_userinfo_function_fails_with_a_500_body() {
    let app = TestApp::spawn_without(&[("UserinfoFunction", "dynamodb:BatchGetItem")]).await;
    let tokens = tokens_for(&app, "openid").await;
    let failed = userinfo(&app, "GET", tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert_eq!(failed.error_codes(), ["[InternalError]"]);
}
