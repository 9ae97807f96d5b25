//! `POST /oauth2/token` as FusionAuth answers it and RFC 6749 requires (issue 23): client
//! secrets in HTTP Basic raw or form-encoded, refresh tokens by `oauthConfiguration.
//! generateRefreshTokens`, the refresh grant's id_token and scope, `error_reason` on every error,
//! and a code presented twice revoking what it issued. Through the token function's handler with
//! its own role, against DynamoDB on moto.

use serde_json::{json, Value};

use crate::fault_injection::Fault;
use crate::helpers::*;
use crate::oauth2::{
    exchange, id_claims, open_and_click, redirected, start, token, web_state, ADMIN_APP,
    ADMIN_REDIRECT, ADMIN_SECRET, REDIRECT, VERIFIER, WEB_SECRET,
};

/// The example kickstart with `change` applied to its applications.
fn kickstart_with(change: impl Fn(&mut Vec<Value>)) -> String {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let applications = kickstart["applications"].as_array_mut().unwrap();
    change(applications);
    kickstart.to_string()
}

/// A code of Richard's for the web app, its start's OAuth parameters with `scope`.
async fn web_code(app: &TestApp, scope: &str) -> String {
    let mut state = web_state();
    state["scope"] = json!(scope);
    let code = start(app, WEB_APP, "richard@piedpiper.com", state).await;
    redirected(&open_and_click(app, &code).await, REDIRECT)["code"].clone()
}

/// A code of Richard's for the admin console (a confidential client).
async fn admin_code(app: &TestApp) -> String {
    let state = json!({"redirect_uri": ADMIN_REDIRECT});
    let code = start(app, ADMIN_APP, "richard@piedpiper.com", state).await;
    redirected(
        &open_and_click(app, &code).await,
        &format!("{ADMIN_REDIRECT}&"),
    )["code"]
        .clone()
}

async fn refresh_grant(app: &TestApp, refresh_token: &str) -> TestResponse {
    token(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", WEB_APP),
        ],
        None,
    )
    .await
}

/// `(status, error, error_reason)` of an error answer, which always describes itself too.
fn refusal(response: &TestResponse) -> Refusal {
    let body = response.json();
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{}",
        response.body
    );
    let text = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    (response.status, text("error"), text("error_reason"))
}

/// A request's form, its Basic credentials, and the refusal it gets.
type Case<'a> = (Vec<(&'a str, &'a str)>, Option<(&'a str, &'a str)>, Refusal);
type Refusal = (u16, String, String);

fn refused(status: u16, error: &str, reason: &str) -> Refusal {
    (status, error.to_owned(), reason.to_owned())
}

#[tokio::test]
async fn a_client_secret_with_a_plus_a_space_and_a_percent_works_in_basic_raw_and_form_encoded() {
    const SECRET: &str = "admin+secret with%spaces/and=0123456789";
    const FORM_ENCODED: &str = "admin%2Bsecret+with%25spaces%2Fand%3D0123456789";
    let app = TestApp::spawn_with(&kickstart_with(|apps| {
        apps[1]["oauthConfiguration"]["clientSecret"] = json!(SECRET);
    }))
    .await;
    for secret in [SECRET, FORM_ENCODED] {
        let code = admin_code(&app).await;
        let grant = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", ADMIN_REDIRECT),
        ];
        let answer = token(&app, &grant, Some((ADMIN_APP, secret))).await;
        assert_eq!(answer.status, 200, "{secret}: {}", answer.body);
        assert!(answer.json()["access_token"].is_string());
    }
    // Neither reading of a near miss gets in: the decoded raw secret is not the secret.
    for wrong in [
        "admin secret with%spaces/and=0123456789",
        "admin%2Bsecret+with%25spaces%2Fand%3D012345678",
    ] {
        let code = admin_code(&app).await;
        let grant = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", ADMIN_REDIRECT),
        ];
        let answer = token(&app, &grant, Some((ADMIN_APP, wrong))).await;
        assert_eq!(
            refusal(&answer),
            refused(401, "invalid_client", "invalid_client_authentication"),
            "{wrong}"
        );
    }
}

#[tokio::test]
async fn the_token_endpoint_gives_a_refresh_token_for_offline_access_where_the_oauth_configuration_says_so(
) {
    // The login API's switch is off, the OAuth one on by FusionAuth's default.
    let app = TestApp::spawn_with(&kickstart_with(|apps| {
        apps[0]["loginConfiguration"]["generateRefreshTokens"] = json!(false);
    }))
    .await;
    let code = web_code(&app, "openid offline_access").await;
    let tokens = exchange(&app, &code, VERIFIER, REDIRECT).await.json();
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    assert!(tokens["refresh_token_id"].is_string());
    let code = web_code(&app, "openid").await;
    let tokens = exchange(&app, &code, VERIFIER, REDIRECT).await.json();
    assert!(tokens["access_token"].is_string());
    assert!(tokens.get("refresh_token").is_none(), "no offline_access");

    // The OAuth switch is off, the login API's on: no refresh token from the token endpoint.
    let app = TestApp::spawn_with(&kickstart_with(|apps| {
        apps[0]["oauthConfiguration"]["generateRefreshTokens"] = json!(false);
        apps[0]["loginConfiguration"]["generateRefreshTokens"] = json!(true);
    }))
    .await;
    let code = web_code(&app, "openid offline_access").await;
    let tokens = exchange(&app, &code, VERIFIER, REDIRECT).await.json();
    assert!(tokens["access_token"].is_string(), "{tokens}");
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert!(tokens.get("refresh_token_id").is_none());
}

#[tokio::test]
async fn the_refresh_grant_returns_an_id_token_for_an_openid_grant_and_echoes_its_scope() {
    let app = TestApp::spawn().await;
    let code = web_code(&app, "openid offline_access").await;
    let first = exchange(&app, &code, VERIFIER, REDIRECT).await.json();
    let original = id_claims(first["id_token"].as_str().unwrap(), WEB_APP, WEB_SECRET);
    let refreshed = refresh_grant(&app, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let body = refreshed.json();
    assert_eq!(body["scope"], "openid offline_access");
    let id_token = id_claims(
        body["id_token"].as_str().expect("an id_token for openid"),
        WEB_APP,
        WEB_SECRET,
    );
    assert_eq!(id_token["sub"], original["sub"]);
    assert_eq!(id_token["iss"], original["iss"]);
    assert_eq!(
        id_token["auth_time"], original["auth_time"],
        "the original authentication"
    );
    assert!(id_token.get("nonce").is_none());
    assert_eq!(id_token["email"], "richard@piedpiper.com");

    let code = web_code(&app, "offline_access").await;
    let first = exchange(&app, &code, VERIFIER, REDIRECT).await.json();
    let refreshed = refresh_grant(&app, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let body = refreshed.json();
    assert_eq!(body["scope"], "offline_access");
    assert!(body.get("id_token").is_none(), "no openid, no id_token");
}

#[tokio::test]
async fn every_token_error_names_fusionauths_error_reason() {
    let app = TestApp::spawn().await;
    let code = web_code(&app, "openid offline_access").await;
    let grant = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = vec![("grant_type", "authorization_code")];
        pairs.extend_from_slice(extra);
        pairs
    };
    let cases: Vec<Case> = vec![
        (
            vec![("code", "c"), ("client_id", WEB_APP)],
            None,
            refused(400, "invalid_request", "missing_grant_type"),
        ),
        (
            vec![("grant_type", "password"), ("client_id", WEB_APP)],
            None,
            refused(400, "unsupported_grant_type", "invalid_grant_type"),
        ),
        (
            grant(&[("client_id", WEB_APP), ("redirect_uri", REDIRECT)]),
            None,
            refused(400, "invalid_request", "missing_code"),
        ),
        (
            grant(&[("client_id", WEB_APP), ("code", "c")]),
            None,
            refused(400, "invalid_request", "missing_redirect_uri"),
        ),
        (
            grant(&[("code", "c"), ("redirect_uri", REDIRECT)]),
            None,
            refused(400, "invalid_request", "missing_client_id"),
        ),
        (
            grant(&[
                ("client_id", "10000000-0000-0002-0000-00000000ffff"),
                ("code", "c"),
                ("redirect_uri", REDIRECT),
            ]),
            None,
            refused(401, "invalid_client", "invalid_client_id"),
        ),
        (
            grant(&[
                ("client_id", WEB_APP),
                ("code", "c"),
                ("redirect_uri", REDIRECT),
            ]),
            Some((ADMIN_APP, ADMIN_SECRET)),
            refused(401, "invalid_client", "client_id_mismatch"),
        ),
        (
            grant(&[
                ("client_id", ADMIN_APP),
                ("code", "c"),
                ("redirect_uri", ADMIN_REDIRECT),
            ]),
            None,
            refused(401, "invalid_client", "client_authentication_missing"),
        ),
        (
            grant(&[("code", "c"), ("redirect_uri", ADMIN_REDIRECT)]),
            Some((ADMIN_APP, "not-the-secret")),
            refused(401, "invalid_client", "invalid_client_authentication"),
        ),
        (
            grant(&[
                ("client_id", WEB_APP),
                ("code", "no-such-code"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ]),
            None,
            refused(400, "invalid_grant", "auth_code_not_found"),
        ),
        (
            vec![("grant_type", "refresh_token"), ("client_id", WEB_APP)],
            None,
            refused(400, "invalid_request", "missing_refresh_token"),
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", WEB_APP),
                ("refresh_token", "nope"),
            ],
            None,
            refused(400, "invalid_grant", "refresh_token_not_found"),
        ),
    ];
    for (pairs, basic, expected) in cases {
        let answer = token(&app, &pairs, basic).await;
        assert_eq!(refusal(&answer), expected, "{pairs:?}");
    }
    let wrong_verifier = exchange(
        &app,
        &code,
        "another-verifier-of-at-least-43-characters-0123456789",
        REDIRECT,
    )
    .await;
    assert_eq!(
        refusal(&wrong_verifier),
        refused(400, "invalid_grant", "invalid_pkce_code_verifier")
    );
    let code = web_code(&app, "openid").await;
    let wrong_redirect = exchange(&app, &code, VERIFIER, "https://piedpiper.com/other").await;
    assert_eq!(
        refusal(&wrong_redirect),
        refused(400, "invalid_grant", "invalid_redirect_uri")
    );
}

#[tokio::test]
async fn a_code_presented_twice_is_refused_and_revokes_the_refresh_token_its_exchange_issued() {
    let app = TestApp::spawn().await;
    let code = web_code(&app, "openid offline_access").await;
    let first = exchange(&app, &code, VERIFIER, REDIRECT).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let refresh_token = first.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        refresh_grant(&app, &refresh_token).await.status,
        200,
        "the refresh token works before the code is presented again"
    );
    let again = exchange(&app, &code, VERIFIER, REDIRECT).await;
    assert_eq!(
        (again.status, again.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );
    assert!(!again.body.contains("access_token"));
    let after = refresh_grant(&app, &refresh_token).await;
    assert_eq!(
        (after.status, after.json()["error"].clone()),
        (400, json!("invalid_grant")),
        "the family the code issued is revoked: {}",
        after.body
    );
    assert_eq!(
        refusal(&again),
        refused(400, "invalid_grant", "auth_code_not_found")
    );
    assert_eq!(
        refusal(&after),
        refused(400, "invalid_grant", "refresh_token_not_found")
    );

    // Another login's refresh token is untouched.
    let other = web_code(&app, "offline_access").await;
    let other = exchange(&app, &other, VERIFIER, REDIRECT).await.json();
    assert_eq!(
        refresh_grant(&app, other["refresh_token"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn lost_responses_to_the_codes_redeem_and_record_writes_are_retried_into_one_exchange() {
    let (app, faults) = crate::fault_injection::spawn_with_faults().await;
    let code = web_code(&app, "openid offline_access").await;
    // The exchange's two writes on the code: its use, then the record of the family it issued.
    faults.next("UpdateItem", Fault::LoseResponse, 2);
    let first = exchange(&app, &code, VERIFIER, REDIRECT).await;
    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 2);
    assert_eq!(first.status, 200, "{}", first.body);
    let refresh_token = first.json()["refresh_token"].as_str().unwrap().to_owned();

    // The record held: presenting the code again still revokes what it issued.
    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let again = exchange(&app, &code, VERIFIER, REDIRECT).await;
    assert_eq!(
        refusal(&again),
        refused(400, "invalid_grant", "auth_code_not_found")
    );
    assert_eq!(
        refusal(&refresh_grant(&app, &refresh_token).await),
        refused(400, "invalid_grant", "refresh_token_not_found")
    );
}
