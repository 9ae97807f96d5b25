//! A user's life through the User API: update, patch (the login moves with the email),
//! deactivate, reactivate, hard delete (refresh tokens refused after each), search by ids.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{create, get, id_of, Call, RICHARD};
use crate::helpers::{TestApp, GLOBAL_KEY, WEB_APP};

#[tokio::test]
async fn patching_the_email_moves_the_login_to_the_new_address() {
    let app = TestApp::spawn().await;
    let patched = app
        .user_event(
            Call::new("PATCH", format!("/api/user/{RICHARD}"))
                .json(json!({"user": {"email": "Richard@Hendricks.dev", "data": {"displayName": null, "team": "ceo"}}}))
                .event(),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let user = patched.json()["user"].clone();
    assert_eq!(user["email"], "richard@hendricks.dev");
    assert_eq!(
        user["username"], "richard",
        "what the patch leaves out stays"
    );
    assert_eq!(user["data"], json!({"team": "ceo"}));
    assert_eq!(user["registrations"][0]["applicationId"], WEB_APP);
    let old = app
        .start(crate::helpers::start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com", "loginIdTypes": ["email"]}),
        ))
        .await;
    assert_eq!(
        old.status, 404,
        "the old address logs nobody in: {}",
        old.body
    );
    let login = app.log_in("richard@hendricks.dev", WEB_APP).await;
    assert_eq!(login["user"]["id"], RICHARD);
    // The old address is free for someone else.
    create(&app, json!({"email": "richard@piedpiper.com"})).await;
}

#[tokio::test]
async fn an_update_replaces_the_profile_and_refuses_another_users_address() {
    let app = TestApp::spawn().await;
    let carla = create(
        &app,
        json!({"email": "carla@piedpiper.com", "firstName": "Bertram"}),
    )
    .await;
    let id = id_of(&carla);
    let updated = app
        .user_event(
            Call::new("PUT", format!("/api/user/{id}"))
                .json(json!({"user": {"email": "carla@piedpiper.com", "lastName": "Walton"}}))
                .event(),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        updated.json()["user"]["firstName"],
        Value::Null,
        "PUT clears what it leaves out"
    );
    assert_eq!(updated.json()["user"]["lastName"], "Walton");
    let taken = app
        .user_event(
            Call::new("PUT", format!("/api/user/{id}"))
                .json(json!({"user": {"email": "RICHARD@piedpiper.com"}}))
                .event(),
        )
        .await;
    assert_eq!(taken.status, 400, "{}", taken.body);
    assert_eq!(taken.error_codes(), ["[duplicate]user.email"]);
    let unchanged = get(&app, &format!("/api/user/{id}"), "").await;
    assert_eq!(unchanged.json()["user"]["email"], "carla@piedpiper.com");
    let unknown = app
        .user_event(
            Call::new("PUT", format!("/api/user/{}", Uuid::new_v4()))
                .json(json!({"user": {"email": "x@y.co"}}))
                .event(),
        )
        .await;
    assert_eq!((unknown.status, unknown.body.as_str()), (404, ""));
}

/// Richard logs in to the web app: its refresh token.
async fn refresh_token(app: &TestApp) -> String {
    let login = app.log_in("richard@piedpiper.com", WEB_APP).await;
    login["refreshToken"]
        .as_str()
        .expect("the web app issues refresh tokens")
        .to_owned()
}

async fn refreshes(app: &TestApp, token: &str) -> bool {
    let response = app.refresh(json!({"refreshToken": token})).await;
    assert!([200, 400].contains(&response.status), "{}", response.body);
    response.status == 200
}

#[tokio::test]
async fn deactivating_refuses_the_refresh_token_and_the_login_and_reactivating_lets_the_user_log_in_again(
) {
    let app = TestApp::spawn().await;
    let token = refresh_token(&app).await;
    assert!(refreshes(&app, &token).await);
    let pending = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"}))
        .await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let deactivated = app
        .user_event(Call::new("DELETE", format!("/api/user/{RICHARD}")).event())
        .await;
    assert_eq!((deactivated.status, deactivated.body.as_str()), (200, ""));
    assert_eq!(
        get(&app, &format!("/api/user/{RICHARD}"), "").await.json()["user"]["active"],
        false
    );
    assert!(
        !refreshes(&app, &token).await,
        "a deactivated user's refresh token is refused"
    );
    let login = app
        .login(json!({"code": pending, "applicationId": WEB_APP}))
        .await;
    assert_eq!(
        login.status, 404,
        "a code started before the deactivation is useless"
    );
    let reactivated = app
        .user_event(
            Call::new("PUT", format!("/api/user/{RICHARD}"))
                .query("reactivate=true")
                .event(),
        )
        .await;
    assert_eq!(reactivated.status, 200, "{}", reactivated.body);
    assert_eq!(reactivated.json()["user"]["active"], true);
    assert!(
        !refreshes(&app, &token).await,
        "the revoked token stays revoked"
    );
    let fresh = refresh_token(&app).await;
    assert!(refreshes(&app, &fresh).await);
}

#[tokio::test]
async fn a_hard_delete_removes_the_user_refuses_its_refresh_token_and_frees_its_addresses() {
    let app = TestApp::spawn().await;
    let token = refresh_token(&app).await;
    let deleted = app
        .user_event(
            Call::new("DELETE", format!("/api/user/{RICHARD}"))
                .json(json!({"hardDelete": true}))
                .event(),
        )
        .await;
    assert_eq!((deleted.status, deleted.body.as_str()), (200, ""));
    assert_eq!(
        get(&app, &format!("/api/user/{RICHARD}"), "").await.status,
        404
    );
    assert_eq!(
        get(&app, "/api/user", "email=richard%40piedpiper.com")
            .await
            .status,
        404
    );
    assert!(!refreshes(&app, &token).await);
    for items in [app.directory_items().await, app.code_items().await] {
        let left: Vec<_> = items
            .iter()
            .filter(|item| format!("{item:?}").contains(RICHARD))
            .collect();
        assert!(
            left.is_empty(),
            "items of the deleted user remain: {left:?}"
        );
    }
    let again = app
        .user_event(
            Call::new("DELETE", format!("/api/user/{RICHARD}"))
                .query("hardDelete=true")
                .event(),
        )
        .await;
    assert_eq!(again.status, 404);
    let back = create(&app, json!({"email": "Richard@PiedPiper.com", "username": "richard", "phoneNumber": "+1 303-555-1212"})).await;
    assert_ne!(back["id"], RICHARD);
}

#[tokio::test]
async fn a_search_by_ids_finds_the_users_it_names_and_refuses_a_query_string() {
    let app = TestApp::spawn().await;
    let monica = id_of(&create(&app, json!({"email": "monica.h@piedpiper.com"})).await);
    let unknown = Uuid::new_v4();
    let query = format!("ids={monica}&ids={unknown}&ids={RICHARD}");
    let found = app
        .user_event(Call::new("GET", "/api/user/search").query(&query).event())
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    let ids: Vec<Value> = found.json()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].clone())
        .collect();
    assert_eq!(ids, [json!(monica), json!(RICHARD)]);
    assert_eq!(found.json()["total"], 2);
    let posted = app
        .user_event(
            Call::new("POST", "/api/user/search")
                .json(json!({"search": {"ids": [RICHARD]}}))
                .event(),
        )
        .await;
    assert_eq!(posted.json()["users"][0]["id"], RICHARD);
    let query_string = app
        .user_event(
            Call::new("POST", "/api/user/search")
                .json(json!({"search": {"queryString": "richard"}}))
                .event(),
        )
        .await;
    assert_eq!(query_string.status, 400);
    assert_eq!(
        query_string.error_codes(),
        ["[notSupported]search.queryString"]
    );
    let bad = app
        .user_event(
            Call::new("GET", "/api/user/search")
                .query("ids=not-an-id")
                .event(),
        )
        .await;
    assert_eq!(
        bad.status, 200,
        "an id that is no id is ignored: {}",
        bad.body
    );
    assert_eq!(bad.json(), json!({"total": 0, "users": []}));
}
