//! Provisioning: kickstart files loaded into DynamoDB on moto.

use passwordless::aws::provision;
use passwordless::kickstart;
use passwordless::ports::Directory;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn the_reference_example_and_the_demo_file_load_as_they_are() {
    let app = TestApp::spawn().await;
    let user = app
        .store
        .user("00000000-0000-0001-0000-000000000001".parse().unwrap())
        .await
        .unwrap()
        .expect("Richard is stored");
    assert_eq!(user.email.as_deref(), Some("richard@piedpiper.com"));
    assert_eq!(user.phone_number.as_deref(), Some("+13035551212"));

    let demo = TestApp::spawn_with(DEMO_KICKSTART).await;
    let response = demo
        .start(start_event(
            Some("demo-api-key-for-make-dev-0123456789"),
            json!({"applicationId": "3c219e58-ed0e-4b18-ad48-f4f92793ae32", "loginId": "ada"}),
        ))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
}

#[tokio::test]
async fn loading_the_same_file_twice_leaves_the_same_data() {
    let app = TestApp::spawn().await;
    let mut before = format!("{:?}", sorted(app.directory_items().await));
    let parsed = kickstart::parse(EXAMPLE_KICKSTART).unwrap();
    provision::load(&app.store, &parsed).await.unwrap();
    let after = format!("{:?}", sorted(app.directory_items().await));
    assert_eq!(before.len(), after.len());
    assert_eq!(std::mem::take(&mut before), after);
}

#[tokio::test]
async fn a_changed_identity_is_moved_not_duplicated_on_reload() {
    let app = TestApp::spawn().await;
    let mut k: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    k["users"][1]["email"] = json!("jared.dunn@piedpiper.com");
    provision::load(&app.store, &kickstart::parse(&k.to_string()).unwrap())
        .await
        .unwrap();
    let old = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "jared@piedpiper.com", "loginIdTypes": ["email"]}),
        ))
        .await;
    assert_eq!(old.status, 404);
    let new = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "jared.dunn@piedpiper.com"}),
        ))
        .await;
    assert_eq!(new.status, 200);
}

#[tokio::test]
async fn a_file_that_takes_another_users_identity_is_refused_whole_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let before = app.directory_items().await.len();
    let new_user = Uuid::new_v4();
    let file = json!({
        "tenants": [{"id": "11111111-2222-4333-8444-555555555555", "name": "Other"}],
        "users": [
            {"id": new_user, "tenantId": TENANT, "email": "Richard@piedpiper.com"}
        ]
    });
    let err = provision::load(&app.store, &kickstart::parse(&file.to_string()).unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("users[{new_user}]")), "{err}");
    assert!(err.contains("email"), "{err}");
    assert_eq!(app.directory_items().await.len(), before);
}

#[tokio::test]
async fn a_file_naming_an_unknown_tenant_is_refused() {
    let app = TestApp::spawn().await;
    let file =
        json!({"users": [{"id": Uuid::new_v4(), "tenantId": Uuid::new_v4(), "email": "a@b.com"}]});
    let err = provision::load(&app.store, &kickstart::parse(&file.to_string()).unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("tenantId"), "{err}");
}

fn sorted(
    mut items: Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
) -> Vec<Vec<(String, String)>> {
    let mut rows: Vec<Vec<(String, String)>> = items
        .drain(..)
        .map(|item| {
            let mut row: Vec<(String, String)> = item
                .into_iter()
                .map(|(k, v)| (k, format!("{v:?}")))
                .collect();
            row.sort();
            row
        })
        .collect();
    rows.sort();
    rows
}
