//! The provider end to end as a relying party meets it (issue 24): the hosted login
//! (`/oauth2/authorize`, the emailed one-time code typed on the waiting page), the code exchange,
//! `/oauth2/userinfo` with the access token, the refresh grant, and `/oauth2/logout` with the
//! id token as `id_token_hint`; through each function's handler with its own role on moto.

use api_gateway_events::Event;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;
use crate::hosted::*;
use crate::oauth2::{exchange, id_claims, redirected, token, REDIRECT, VERIFIER, WEB_SECRET};

#[tokio::test]
async fn a_hosted_login_gives_tokens_whose_userinfo_and_id_token_hint_work() {
    let app = TestApp::spawn().await;
    let began = begin(
        &app,
        &request_query(&[
            ("scope", "openid email profile offline_access"),
            ("nonce", "n-chain"),
        ]),
        RICHARD,
    )
    .await;
    let (_, one_time_code) = email_of(&began.pending).await;
    let done = type_code(&app, &began.pending, &one_time_code).await;
    let query = redirected(&done, REDIRECT);
    let answer = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let tokens = answer.json();
    let id_token = tokens["id_token"].as_str().unwrap();
    let id = id_claims(id_token, WEB_APP, WEB_SECRET);
    assert_eq!(id["nonce"], "n-chain");

    // The access token of the hosted login carries its scope: userinfo answers its claims.
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let userinfo = app
        .userinfo_event(
            Event::get("/oauth2/userinfo")
                .without_header("content-type")
                .header("authorization", &bearer)
                .to_json(),
        )
        .await;
    assert_eq!(userinfo.status, 200, "{}", userinfo.body);
    assert_eq!(
        userinfo.json(),
        json!({
            "sub": id["sub"], "email": "richard@piedpiper.com", "email_verified": true,
            "given_name": "Richard", "family_name": "Hendricks", "preferred_username": "richard",
        }),
        "the code went to Richard's address: the login verified it"
    );

    // So does the access token of the refresh grant.
    let refreshed = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", WEB_APP),
        ],
        None,
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let bearer = format!(
        "Bearer {}",
        refreshed.json()["access_token"].as_str().unwrap()
    );
    let again = app
        .userinfo_event(
            Event::get("/oauth2/userinfo")
                .without_header("content-type")
                .header("authorization", &bearer)
                .to_json(),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["sub"], id["sub"]);

    // The id token, signed with the client secret, is a valid id_token_hint: the logout
    // redirects to the registered URI at once, without asking.
    let mut logout = form_urlencoded::Serializer::new(String::new());
    logout.append_pair("id_token_hint", id_token);
    logout.append_pair("post_logout_redirect_uri", REDIRECT);
    logout.append_pair("state", "bye");
    let ended = app
        .logout_event(
            Event::get("/oauth2/logout")
                .query(&logout.finish())
                .user_agent("Mozilla/5.0 integration-tests")
                .request_id(&Uuid::new_v4().to_string())
                .to_json(),
        )
        .await;
    assert_eq!(ended.status, 302, "{}", ended.body);
    assert_eq!(
        ended.header("location"),
        Some(format!("{REDIRECT}?state=bye").as_str())
    );
}
