//! The Registration API through its handler, with its own role, against the local DynamoDB.

use api_gateway_events::Event;
use passwordless::ports::Directory;
use serde_json::{json, Value};
use uuid::Uuid;

mod hostile;

use crate::helpers::{TestApp, GLOBAL_KEY, LOCKED_KEY, NO_PASSWORDLESS_APP, TENANT, WEB_APP};

const ADMIN_APP: &str = "10000000-0000-0002-0000-000000000002";
const RICHARD: &str = "00000000-0000-0001-0000-000000000001";

fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("the payload is base64url"),
    )
    .expect("the payload is JSON")
}

/// Creates `email` registered to the web application with `registration` merged in; the
/// response's JSON.
async fn create_registered(app: &TestApp, email: &str, registration: Value) -> Value {
    let mut body = json!({"user": {"email": email}, "registration": {"applicationId": WEB_APP}});
    passwordless::users::registration::merge(&mut body["registration"], &registration);
    let created = app
        .registration("POST", "/api/user/registration", body)
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    created.json()
}

async fn stored_user(app: &TestApp, id: &str) -> Option<passwordless::model::User> {
    app.store
        .user(Uuid::parse_str(id).unwrap())
        .await
        .expect("the user is read")
}

#[tokio::test]
async fn a_user_created_with_a_registration_gets_the_default_roles_and_logs_in_with_them() {
    let app = TestApp::spawn().await;
    let created = create_registered(&app, "Monica@PiedPiper.com", json!({})).await;
    let id = created["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["user"]["email"], "monica@piedpiper.com");
    assert_eq!(created["user"]["active"], true);
    assert_eq!(created["registration"]["applicationId"], WEB_APP);
    assert_eq!(
        created["registration"]["roles"],
        json!(["user", "community_helper"])
    );
    assert_eq!(created["user"]["registrations"][0], created["registration"]);

    let retrieved = app
        .registration(
            "GET",
            &format!("/api/user/registration/{id}/{WEB_APP}"),
            Value::Null,
        )
        .await;
    assert_eq!(retrieved.status, 200, "{}", retrieved.body);
    assert_eq!(retrieved.json()["registration"], created["registration"]);
    assert_eq!(
        retrieved.header("content-type"),
        Some("application/json; charset=UTF-8")
    );

    let login = app.log_in("monica@piedpiper.com", WEB_APP).await;
    let jwt = claims(login["token"].as_str().unwrap());
    assert_eq!(jwt["sub"], id);
    assert_eq!(jwt["applicationId"], WEB_APP);
    assert_eq!(jwt["roles"], json!(["user", "community_helper"]));
}

#[tokio::test]
async fn an_existing_user_is_registered_once_per_application() {
    let app = TestApp::spawn().await;
    let path = format!("/api/user/registration/{RICHARD}");
    let body = json!({"registration": {"applicationId": ADMIN_APP, "roles": ["admin"],
                                        "data": {"team": "core"}},
                      "skipRegistrationVerification": true});
    let registered = app.registration("POST", &path, body.clone()).await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let registration = &registered.json()["registration"];
    assert_eq!(registration["roles"], json!(["admin"]));
    assert_eq!(registration["verified"], true);
    assert!(registered.json().get("user").is_none());

    let again = app.registration("POST", &path, body).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.error_codes(), ["[duplicate]registration"]);

    let user = stored_user(&app, RICHARD).await.unwrap();
    let apps: Vec<String> = user
        .registrations
        .iter()
        .map(|r| r.application_id.to_string())
        .collect();
    assert_eq!(apps, [WEB_APP, ADMIN_APP]);
    // The user's own fields are untouched.
    assert_eq!(user.first_name.as_deref(), Some("Richard"));
    let login = app.log_in("richard@piedpiper.com", ADMIN_APP).await;
    assert_eq!(
        claims(login["token"].as_str().unwrap())["roles"],
        json!(["admin"])
    );
}

#[tokio::test]
async fn unknown_roles_and_applications_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let unknown_role = app
        .registration(
            "POST",
            "/api/user/registration",
            json!({"user": {"email": "jian-yang@aviato.com"},
                   "registration": {"applicationId": WEB_APP, "roles": ["user", "root"]}}),
        )
        .await;
    assert_eq!(unknown_role.status, 400);
    assert_eq!(unknown_role.error_codes(), ["[invalid]registration.roles"]);

    let unknown_app = app
        .registration(
            "POST",
            &format!("/api/user/registration/{RICHARD}"),
            json!({"registration": {"applicationId": Uuid::new_v4()}}),
        )
        .await;
    assert_eq!(unknown_app.status, 400);
    assert_eq!(
        unknown_app.error_codes(),
        ["[invalid]registration.applicationId"]
    );
    // Nobody was created with that address: it can be used now.
    create_registered(&app, "jian-yang@aviato.com", json!({})).await;
    assert_eq!(
        stored_user(&app, RICHARD)
            .await
            .unwrap()
            .registrations
            .len(),
        1
    );
}

#[tokio::test]
async fn a_combined_create_with_a_taken_address_is_the_user_apis_duplicate() {
    let app = TestApp::spawn().await;
    let taken = app
        .registration(
            "POST",
            "/api/user/registration",
            json!({"user": {"email": "RICHARD@piedpiper.com", "firstName": 3},
                   "registration": {"applicationId": "x"}}),
        )
        .await;
    assert_eq!(taken.status, 400);
    // Every error at once: the user's and the registration's.
    assert_eq!(
        taken.error_codes(),
        [
            "[couldNotConvert]registration.applicationId",
            "[couldNotConvert]user.firstName"
        ]
    );
    let taken = app
        .registration(
            "POST",
            "/api/user/registration",
            json!({"user": {"email": "RICHARD@piedpiper.com"},
                   "registration": {"applicationId": WEB_APP}}),
        )
        .await;
    assert_eq!(taken.status, 400, "{}", taken.body);
    assert_eq!(taken.error_codes(), ["[duplicate]user.email"]);
}

#[tokio::test]
async fn the_user_id_of_the_path_names_the_new_user() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4();
    let created = app
        .registration(
            "POST",
            &format!("/api/user/registration/{id}"),
            json!({"user": {"username": "bighead"}, "registration": {"applicationId": WEB_APP}}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.json()["user"]["id"], id.to_string());
    assert!(stored_user(&app, &id.to_string()).await.is_some());

    let taken = app
        .registration(
            "POST",
            &format!("/api/user/registration/{id}"),
            json!({"user": {"username": "bighead2"}, "registration": {"applicationId": WEB_APP}}),
        )
        .await;
    assert_eq!(taken.status, 400, "{}", taken.body);
    assert_eq!(taken.error_codes(), ["[duplicate]userId"]);
}

#[tokio::test]
async fn a_registration_is_updated_by_either_path_and_patched_by_merge() {
    let app = TestApp::spawn().await;
    let created = create_registered(&app, "ron@raviga.com", json!({"data": {"a": 1}})).await;
    let id = created["user"]["id"].as_str().unwrap().to_owned();
    let registration_id = created["registration"]["id"].clone();

    // The Python client's form: the application in the body.
    let put = app
        .registration(
            "PUT",
            &format!("/api/user/registration/{id}"),
            json!({"registration": {"applicationId": WEB_APP, "roles": ["admin"],
                                    "timezone": "America/Denver"}}),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let put = put.json();
    assert_eq!(put["registration"]["roles"], json!(["admin"]));
    assert_eq!(put["registration"]["id"], registration_id);
    // A PUT replaces: the data it left out is gone.
    assert!(put["registration"].get("data").is_none());

    let patch = app
        .registration(
            "PATCH",
            &format!("/api/user/registration/{id}/{WEB_APP}"),
            json!({"registration": {"data": {"plan": "pro"}}}),
        )
        .await;
    assert_eq!(patch.status, 200, "{}", patch.body);
    let patched = &patch.json()["registration"];
    assert_eq!(
        patched["roles"],
        json!(["admin"]),
        "a patch keeps the roles"
    );
    assert_eq!(patched["timezone"], "America/Denver");
    assert_eq!(patched["data"], json!({"plan": "pro"}));

    let bad = app
        .registration(
            "PATCH",
            &format!("/api/user/registration/{id}"),
            json!({"registration": {"applicationId": WEB_APP, "roles": ["root"]}}),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_codes(), ["[invalid]registration.roles"]);

    let not_registered = app
        .registration(
            "PUT",
            &format!("/api/user/registration/{id}/{ADMIN_APP}"),
            json!({"registration": {}}),
        )
        .await;
    assert_eq!(not_registered.status, 404);
    assert_eq!(not_registered.body, "");
}

#[tokio::test]
async fn deleting_a_registration_revokes_the_users_refresh_tokens_for_that_application() {
    let app = TestApp::spawn().await;
    let created = create_registered(&app, "denpok@hooli.com", json!({})).await;
    let id = created["user"]["id"].as_str().unwrap().to_owned();
    let login = app.log_in("denpok@hooli.com", WEB_APP).await;
    let refresh_token = login["refreshToken"].as_str().unwrap().to_owned();
    assert_eq!(
        app.refresh(json!({"refreshToken": refresh_token}))
            .await
            .status,
        200
    );
    let login = app.log_in("denpok@hooli.com", WEB_APP).await;
    let refresh_token = login["refreshToken"].as_str().unwrap().to_owned();

    let path = format!("/api/user/registration/{id}/{WEB_APP}");
    let deleted = app
        .registration(
            "DELETE",
            &path,
            json!({"eventInfo": {"ipAddress": "10.0.0.1"}}),
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.body, "");
    assert_eq!(
        app.registration("GET", &path, Value::Null).await.status,
        404
    );
    assert_eq!(
        app.registration("DELETE", &path, Value::Null).await.status,
        404
    );
    // The user itself is untouched.
    let user = stored_user(&app, &id).await.unwrap();
    assert!(user.active && user.registrations.is_empty());

    // Registered again, the user's old token stays revoked; a new login's works.
    let again = app
        .registration(
            "POST",
            &format!("/api/user/registration/{id}"),
            json!({"registration": {"applicationId": WEB_APP}}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    let refused = app.refresh(json!({"refreshToken": refresh_token})).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.error_codes(), ["[invalid]refreshToken"]);
    let login = app.log_in("denpok@hooli.com", WEB_APP).await;
    let fresh = login["refreshToken"].as_str().unwrap();
    assert_eq!(
        app.refresh(json!({"refreshToken": fresh})).await.status,
        200
    );
}

#[tokio::test]
async fn the_key_is_checked_before_anything_else_and_tenants_scope_what_is_seen() {
    let app = TestApp::spawn().await;
    let path = format!("/api/user/registration/{RICHARD}/{WEB_APP}");
    let no_key = app.registration_event(Event::get(&path)).await;
    assert_eq!((no_key.status, no_key.body.as_str()), (401, ""));
    // The locked key may only start logins.
    let not_permitted = app
        .registration_event(Event::get(&path).header("authorization", LOCKED_KEY))
        .await;
    assert_eq!(not_permitted.status, 401);
    let bad_body_bad_key = app
        .registration_event(
            Event::post("/api/user/registration")
                .header("authorization", "nope")
                .body("{"),
        )
        .await;
    assert_eq!(bad_body_bad_key.status, 401);

    let other_tenant = app
        .registration_event(
            Event::get(&path)
                .header("authorization", GLOBAL_KEY)
                .header("x-fusionauth-tenantid", &Uuid::new_v4().to_string()),
        )
        .await;
    assert_eq!(other_tenant.status, 404);
    let own_tenant = app
        .registration_event(
            Event::get(&path)
                .header("authorization", GLOBAL_KEY)
                .header("x-fusionauth-tenantid", TENANT),
        )
        .await;
    assert_eq!(own_tenant.status, 200, "{}", own_tenant.body);
    let unknown_user = app
        .registration(
            "GET",
            &format!("/api/user/registration/{}/{WEB_APP}", Uuid::new_v4()),
            Value::Null,
        )
        .await;
    assert_eq!(unknown_user.status, 404);
}

#[tokio::test]
async fn concurrent_registrations_of_one_user_lose_none() {
    let app = TestApp::spawn().await;
    let created = create_registered(&app, "twins@piedpiper.com", json!({})).await;
    let id = created["user"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/user/registration/{id}");
    let register = |application: &'static str| {
        app.registration(
            "POST",
            &path,
            json!({"registration": {"applicationId": application}}),
        )
    };
    let (admin, legacy) = tokio::join!(register(ADMIN_APP), register(NO_PASSWORDLESS_APP));
    assert_eq!(
        (admin.status, legacy.status),
        (200, 200),
        "{} {}",
        admin.body,
        legacy.body
    );
    let mut apps: Vec<String> = stored_user(&app, &id)
        .await
        .unwrap()
        .registrations
        .iter()
        .map(|r| r.application_id.to_string())
        .collect();
    apps.sort();
    assert_eq!(apps, [WEB_APP, ADMIN_APP, NO_PASSWORDLESS_APP]);
}

#[tokio::test]
async fn a_combined_create_honours_skip_verification_as_the_user_api_does() {
    let app = TestApp::spawn().await;
    let body = json!({
        "user": {"email": "big.head@piedpiper.com"},
        "registration": {"applicationId": WEB_APP},
        "skipVerification": true,
    });
    let created = app
        .registration("POST", "/api/user/registration", body)
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let user = &created.json()["user"];
    assert_eq!(user["verified"], true);
    assert_eq!(user["identities"][0]["verifiedReason"], "Skipped");

    let wrong_type = json!({
        "user": {"email": "nelson@piedpiper.com"},
        "registration": {"applicationId": WEB_APP},
        "skipVerification": "yes",
    });
    let refused = app
        .registration("POST", "/api/user/registration", wrong_type)
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(
        refused.json()["fieldErrors"]["skipVerification"][0]["code"],
        "[couldNotConvert]skipVerification"
    );
}
