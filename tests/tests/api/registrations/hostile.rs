//! The Registration API refusing what it cannot take: hostile bodies, and a role that may not
//! write.

use api_gateway_events::Event;
use serde_json::{json, Value};

use super::*;

#[tokio::test]
async fn hostile_bodies_get_a_4xx_with_errors_and_write_nothing() {
    let app = TestApp::spawn().await;
    let before = stored_user(&app, RICHARD).await.unwrap();
    let register = format!("/api/user/registration/{RICHARD}");
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let mut deep_data = json!(1);
    for _ in 0..40 {
        deep_data = json!({ "x": deep_data });
    }
    let bodies: Vec<(&str, String, Event)> = vec![
        (
            "not JSON",
            register.clone(),
            Event::post(&register).body("{\"registration\":"),
        ),
        (
            "nested",
            register.clone(),
            Event::post(&register).body(&deep),
        ),
        (
            "not UTF-8",
            register.clone(),
            Event::post(&register).bytes_body(&[0x7b, 0xff, 0xfe, 0x7d]),
        ),
        (
            "huge",
            register.clone(),
            Event::post(&register).body(&format!(
            "{{\"registration\":{{\"applicationId\":\"{ADMIN_APP}\",\"data\":{{\"x\":\"{}\"}}}}}}",
            "a".repeat(200_000)
        )),
        ),
        (
            "an array",
            register.clone(),
            Event::post(&register).json_body(&json!([1, 2])),
        ),
        (
            "wrong types",
            register.clone(),
            Event::post(&register).json_body(&json!({
                "registration": {"applicationId": ADMIN_APP, "roles": [1, {"a": 2}], "data": "x"}
            })),
        ),
        (
            "deep data",
            register.clone(),
            Event::post(&register).json_body(&json!({
                "registration": {"applicationId": ADMIN_APP, "data": deep_data}
            })),
        ),
        (
            "a user that is not an object",
            "/api/user/registration".to_owned(),
            Event::post("/api/user/registration").json_body(&json!({
                    "user": "richard", "registration": {"applicationId": WEB_APP}
            })),
        ),
        (
            "a patch of the wrong type",
            register.clone(),
            Event::new("PATCH", &register).json_body(&json!({
                "registration": {"applicationId": WEB_APP, "timezone": ["UTC"]}
            })),
        ),
    ];
    for (what, _, event) in bodies {
        let response = app
            .registration_event(event.header("authorization", GLOBAL_KEY))
            .await;
        response.assert_client_error(what);
    }
    let after = stored_user(&app, RICHARD).await.unwrap();
    assert_eq!(after.registrations, before.registrations);
    let bad_id = app
        .registration(
            "GET",
            &format!("/api/user/registration/nope/{WEB_APP}"),
            Value::Null,
        )
        .await;
    assert_eq!(bad_id.status, 400);
    assert_eq!(bad_id.error_codes(), ["[couldNotConvert]userId"]);
}

#[tokio::test]
async fn a_registration_function_its_role_does_not_let_write_answers_500_and_writes_nothing() {
    // What a template that forgot the write would deploy: the same request as above works.
    let app = TestApp::spawn_without(&[("RegistrationFunction", "dynamodb:PutItem")]).await;
    let refused = app
        .registration(
            "POST",
            &format!("/api/user/registration/{RICHARD}"),
            json!({"registration": {"applicationId": ADMIN_APP}}),
        )
        .await;
    assert_eq!(refused.status, 500, "{}", refused.body);
    assert_eq!(refused.error_codes(), ["[InternalError]"]);
    assert_eq!(
        stored_user(&app, RICHARD)
            .await
            .unwrap()
            .registrations
            .len(),
        1
    );
}
