//! `POST /api/user/import` through its handler, with its own role, against the local DynamoDB.

use api_gateway_events::Event;
use passwordless::ports::Directory;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{TestApp, GLOBAL_KEY, LOCKED_KEY, WEB_APP};

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

async fn exists(app: &TestApp, id: Uuid) -> bool {
    app.store
        .user(id)
        .await
        .expect("the user is read")
        .is_some()
}

fn imported(id: Uuid, email: &str) -> Value {
    json!({
        "id": id, "email": email, "active": true, "verified": true,
        "firstName": "Imported", "insertInstant": 1_600_000_000_000_i64,
        "registrations": [{"applicationId": WEB_APP, "roles": ["admin"]}]
    })
}

#[tokio::test]
async fn imported_users_log_in_at_once_with_their_roles() {
    let app = TestApp::spawn().await;
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let response = app
        .import(json!({
            "users": [imported(first, "Nelson@Hooli.com"), imported(second, "jian@hooli.com")],
            "validateDbConstraints": true
        }))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body, "");

    let user = app.store.user(first).await.unwrap().expect("imported");
    assert_eq!(user.email.as_deref(), Some("nelson@hooli.com"));
    assert_eq!(user.insert_instant, Some(1_600_000_000_000));
    assert!(user.active && user.verified);
    assert_eq!(
        user.identities[0].verified_reason.as_deref(),
        Some("Import")
    );
    assert!(user.registrations[0].id.is_some());

    for (id, email) in [(first, "nelson@hooli.com"), (second, "jian@hooli.com")] {
        let login = app.log_in(email, WEB_APP).await;
        let jwt = claims(login["token"].as_str().unwrap());
        assert_eq!(jwt["sub"], id.to_string());
        assert_eq!(jwt["roles"], json!(["admin"]));
        assert_eq!(jwt["email_verified"], true);
    }
}

#[tokio::test]
async fn a_duplicate_within_the_request_names_its_index_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let ids = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
    let response = app
        .import(json!({"users": [
            imported(ids[0], "a@hooli.com"),
            imported(ids[1], "b@hooli.com"),
            imported(ids[2], "A@HOOLI.com"),
        ]}))
        .await;
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(response.error_codes(), ["[duplicate]user.email"]);
    let message = response.json()["fieldErrors"]["user.email"][0]["message"].clone();
    assert!(message.as_str().unwrap().contains("index [2]"), "{message}");
    for id in ids {
        assert!(!exists(&app, id).await);
    }
}

#[tokio::test]
async fn a_stored_duplicate_is_found_before_writing_with_validate_db_constraints() {
    let app = TestApp::spawn().await;
    let (new, clash) = (Uuid::new_v4(), Uuid::new_v4());
    let body = |validate: bool| {
        json!({"users": [imported(new, "new@hooli.com"), imported(clash, "richard@piedpiper.com")],
               "validateDbConstraints": validate})
    };
    let validated = app.import(body(true)).await;
    assert_eq!(validated.status, 400, "{}", validated.body);
    assert_eq!(validated.error_codes(), ["[duplicate]user.email"]);
    assert!(
        !exists(&app, new).await,
        "nothing is written when validation fails"
    );
    assert!(!exists(&app, clash).await);

    // Without validation the duplicate is found while writing: a 400 all the same (FusionAuth
    // answers 500), and the other users are written.
    let unvalidated = app.import(body(false)).await;
    assert_eq!(unvalidated.status, 400, "{}", unvalidated.body);
    assert_eq!(unvalidated.error_codes(), ["[duplicate]user.email"]);
    assert!(exists(&app, new).await);
    assert!(!exists(&app, clash).await);
}

#[tokio::test]
async fn registrations_must_name_applications_of_the_tenant_and_their_roles() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4();
    let response = app
        .import(json!({"users": [{
            "id": id, "email": "x@hooli.com",
            "registrations": [
                {"applicationId": Uuid::new_v4()},
                {"applicationId": WEB_APP, "roles": ["root"]}
            ]
        }]}))
        .await;
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(
        response.error_codes(),
        [
            "[invalid]users[0].registrations[0].applicationId",
            "[invalid]users[0].registrations[1].roles"
        ]
    );
    assert!(!exists(&app, id).await);
}

#[tokio::test]
async fn imported_users_are_inactive_unless_the_import_says_active() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4();
    let response = app
        .import(json!({"users": [{"id": id, "email": "sleepy@hooli.com"}]}))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let user = app.store.user(id).await.unwrap().unwrap();
    assert!(!user.active, "FusionAuth's import defaults active to false");
}

#[tokio::test]
async fn the_key_is_checked_first_and_hostile_bodies_get_a_4xx_with_errors() {
    let app = TestApp::spawn().await;
    let no_key = app
        .import_event(Event::post("/api/user/import").body("{"))
        .await;
    assert_eq!((no_key.status, no_key.body.as_str()), (401, ""));
    let not_permitted = app
        .import_event(
            Event::post("/api/user/import")
                .header("authorization", LOCKED_KEY)
                .json_body(&json!({"users": [{"email": "a@b.com"}]})),
        )
        .await;
    assert_eq!(not_permitted.status, 401);

    let too_many: Vec<Value> = (0..10_001)
        .map(|i| json!({"email": format!("u{i}@x.io")}))
        .collect();
    let deep = format!("{{\"users\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
    let events = vec![
        (
            "not JSON",
            Event::post("/api/user/import").body("{\"users\":["),
        ),
        (
            "not UTF-8",
            Event::post("/api/user/import").bytes_body(&[0x7b, 0xff, 0x7d]),
        ),
        ("nested", Event::post("/api/user/import").body(&deep)),
        (
            "huge",
            Event::post("/api/user/import").body(&format!(
                "{{\"users\":[{{\"email\":\"a@b.com\",\"data\":{{\"x\":\"{}\"}}}}]}}",
                "a".repeat(7 * 1024 * 1024)
            )),
        ),
        (
            "a user too large to store",
            Event::post("/api/user/import").json_body(&json!({
                "users": [{"email": "big@b.com", "data": {"x": "a".repeat(500_000)}}]
            })),
        ),
        (
            "no users",
            Event::post("/api/user/import").json_body(&json!({"users": []})),
        ),
        (
            "users not a list",
            Event::post("/api/user/import").json_body(&json!({"users": {"a": 1}})),
        ),
        (
            "too many",
            Event::post("/api/user/import").json_body(&json!({"users": too_many})),
        ),
        (
            "wrong types",
            Event::post("/api/user/import").json_body(&json!({
                "users": [{"email": 1}, "x", {"registrations": "r"}], "validateDbConstraints": "yes"
            })),
        ),
        (
            "no identity",
            Event::post("/api/user/import").json_body(&json!({"users": [{"firstName": "x"}]})),
        ),
        (
            "bad tenant",
            Event::post("/api/user/import").json_body(&json!({
                "users": [{"email": "t@b.com", "tenantId": Uuid::new_v4()}]
            })),
        ),
    ];
    for (what, event) in events {
        let response = app
            .import_event(event.header("authorization", GLOBAL_KEY))
            .await;
        response.assert_client_error(what);
    }
}
