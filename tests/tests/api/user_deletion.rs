//! A hard delete against DynamoDB: after a user's journey (the login API, a hosted login with
//! its SSO session, the writes of the other flows), no item of either table mentions the user,
//! another user's items stay, and the user's addresses can be used again; a delete of a stale
//! read removes nothing.

use passwordless::model::{StoredAuthorizationCode, Tenant, User};
use passwordless::oauth2::sso;
use passwordless::ports::{
    AuthorizationCodes, Challenge, Directory, RateLimiter, RefreshTokens, RevocationScope,
    Sessions, UserStore, UserWrite,
};
use passwordless::system::OsRandom;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;
use crate::hosted::{begin, email_of, request_query, set_cookie, type_code};
use crate::oauth2::{exchange, redirected, REDIRECT, VERIFIER};
use crate::user_store::{created, email, items_mentioning, new_user, owner_of};

/// Everything a user leaves behind on a journey: an SMS sent (its send and the SMS guard's shares
/// counted); a code and its pointer, a send counted, a login
/// with its record and refresh token; a hosted login (its code, an SSO session and an
/// authorization code exchanged for tokens); a revocation, another SSO session and authorization
/// code, a two-factor challenge, a fallback counted.
async fn journey(app: &TestApp, user: &User) {
    // By SMS first, while the number has never logged in: the SMS guard counts the user's shares.
    let phone = user.phone_number.clone().unwrap();
    let by_sms = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": phone,
                           "loginIdTypes": ["phoneNumber"]}))
        .await;
    let sent = app.send(json!({"code": by_sms["code"]})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let address = user.email.clone().unwrap();
    let began = begin(app, &request_query(&[]), &address).await;
    let (_, one_time_code) = email_of(&began.pending).await;
    let done = type_code(app, &began.pending, &one_time_code).await;
    assert!(
        set_cookie(&done, "fusionauth.sso").is_some(),
        "an SSO session"
    );
    let exchanged = exchange(
        app,
        &redirected(&done, REDIRECT)["code"],
        VERIFIER,
        REDIRECT,
    )
    .await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.body);
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": address}))
        .await;
    let code = started["code"].as_str().unwrap().to_owned();
    assert_eq!(app.send(json!({"code": code})).await.status, 200);
    let login = app
        .login(json!({"code": code, "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(login.json()["refreshToken"].is_string());
    app.start_code(json!({"applicationId": WEB_APP, "loginId": address}))
        .await;
    let now = 1_700_000_000_000;
    app.store
        .revoke_all(RevocationScope::User(user.id), now)
        .await
        .unwrap();
    let tenant: Tenant = serde_json::from_value(json!({"id": TENANT})).unwrap();
    sso::start_session(&app.store, &OsRandom, &tenant, user.id, now, now)
        .await
        .unwrap();
    let authorization_code = StoredAuthorizationCode {
        code_hash: passwordless::codes::hash_secret(&Uuid::new_v4().to_string()),
        application_id: WEB_APP.parse().unwrap(),
        tenant_id: user.tenant_id,
        user_id: user.id,
        redirect_uri: "https://piedpiper.com/callback".to_owned(),
        code_challenge: None,
        scope: "openid".to_owned(),
        sealed_tokens: "sealed".to_owned(),
        expires_at_millis: now + 60_000,
    };
    AuthorizationCodes::save(&app.store, &authorization_code)
        .await
        .unwrap();
    app.store
        .save_challenge(
            Challenge::TwoFactor,
            &passwordless::codes::hash_secret(&format!("two-factor of {}", user.id)),
            user.id,
            now + 60_000,
        )
        .await
        .unwrap();
    app.store
        .try_acquire(
            &format!("fallback#{}", user.id),
            Some(user.id),
            5,
            86_400,
            now,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_hard_delete_after_a_journey_leaves_no_item_of_the_user_and_frees_its_address() {
    let app = TestApp::spawn().await;
    let user = new_user(
        json!({"email": "dinesh@chugtai.example", "username": "dinesh",
                               "phoneNumber": "(303) 555-0171"}),
    );
    let bystander = new_user(json!({"email": "gilfoyle@piedpiper.example",
                                    "phoneNumber": "(303) 555-0172"}));
    created(&app.store, &user).await;
    created(&app.store, &bystander).await;
    journey(&app, &user).await;
    journey(&app, &bystander).await;
    let left = items_mentioning(&app.store, user.id).await;
    for kind in [
        "USER#",
        "IDENTITY#",
        "LOGIN#",
        "CODE#",
        "LATESTCODE#",
        "RATE#send-email#",
        "RATE#fallback#",
        "RATE#send-sms#",
        "RATE#sms-user-prefix#",
        "RATE#sms-user-day#",
        "REFRESHTOKEN#",
        "REVOKED#USER#",
        "SSO#",
        "AUTHCODE#",
        "TWOFACTOR#",
    ] {
        assert!(
            left.iter()
                .any(|item| item.contains(&format!("S(\"{kind}"))),
            "the journey wrote a {kind} item of the user: {left:#?}"
        );
    }
    let bystanders = items_mentioning(&app.store, bystander.id).await.len();

    let read = app.store.user(user.id).await.unwrap().unwrap();
    assert_eq!(
        UserStore::delete(&app.store, &read).await.unwrap(),
        UserWrite::Written
    );

    assert_eq!(
        items_mentioning(&app.store, user.id).await,
        Vec::<String>::new()
    );
    assert_eq!(
        items_mentioning(&app.store, bystander.id).await.len(),
        bystanders,
        "another user's items stay"
    );
    assert_eq!(app.store.user(user.id).await.unwrap(), None);
    let again = new_user(
        json!({"email": "Dinesh@Chugtai.example", "username": "dinesh",
                                "phoneNumber": "+13035550171"}),
    );
    assert_eq!(
        UserStore::create(&app.store, &again).await.unwrap(),
        UserWrite::Written
    );
}

#[tokio::test]
async fn a_delete_of_a_stale_read_is_refused_and_removes_nothing() {
    let app = TestApp::spawn().await;
    let user = new_user(json!({"email": "peter@raviga.example"}));
    created(&app.store, &user).await;
    let read = app.store.user(user.id).await.unwrap().unwrap();
    let changed = User {
        active: false,
        ..read.clone()
    };
    UserStore::replace(&app.store, &read, &changed)
        .await
        .unwrap();

    assert_eq!(
        UserStore::delete(&app.store, &read).await.unwrap(),
        UserWrite::Conflict
    );
    assert!(app.store.user(user.id).await.unwrap().is_some());
    assert_eq!(
        owner_of(&app.store, email("peter@raviga.example")).await,
        Some(user.id)
    );
}
