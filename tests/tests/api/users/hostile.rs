//! Hostile bodies on every route of the User API.

use api_gateway_events::Event;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{get, Call, RICHARD};
use crate::helpers::{TestApp, GLOBAL_KEY};

#[tokio::test]
async fn hostile_bodies_on_every_user_route_are_4xx_with_errors_and_write_nothing() {
    let app = TestApp::spawn().await;
    let before = (
        app.directory_items().await.len(),
        app.code_items().await.len(),
    );
    let mut deep = json!("x");
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let huge =
        json!({"user": {"email": "huge@piedpiper.com", "data": {"blob": "x".repeat(70 * 1024)}}});
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"user\"".to_vec(),
        b"{\"user\": ".to_vec(),
        b"{\"user\": {\"email\": \"a@b.co\"".to_vec(),
        vec![0xff, 0xfe, b'{', b'}'],
        b"{\"user\": {\"email\": \"\xff@b.co\"}}".to_vec(),
        deep.to_string().into_bytes(),
        json!({"user": deep}).to_string().into_bytes(),
        json!({"user": {"email": ["a@b.co"], "username": {"x": 1}, "phoneNumber": 5}})
            .to_string()
            .into_bytes(),
        json!({"user": {"email": "a@b.co", "data": "not an object", "preferredLanguages": "en"}})
            .to_string()
            .into_bytes(),
        json!({"user": {"email": "a@b.co", "preferredLanguages": vec!["en"; 21]}})
            .to_string()
            .into_bytes(),
        json!({"user": {"email": "a\u{0}@b.co"}})
            .to_string()
            .into_bytes(),
        json!({"user": {"email": format!("{}@b.co", "a".repeat(300))}})
            .to_string()
            .into_bytes(),
        json!({"user": {"email": "a@b.co", "expiry": 1.5e300}})
            .to_string()
            .into_bytes(),
        huge.to_string().into_bytes(),
    ];
    let routes = [
        ("POST", "/api/user".to_owned(), ""),
        ("POST", format!("/api/user/{}", Uuid::new_v4()), ""),
        ("PUT", format!("/api/user/{RICHARD}"), ""),
        ("PATCH", format!("/api/user/{RICHARD}"), ""),
        ("DELETE", format!("/api/user/{RICHARD}"), ""),
        ("POST", "/api/user/search".to_owned(), ""),
    ];
    for (method, path, query) in &routes {
        for body in &bodies {
            let event = Event::new(method, path)
                .query(query)
                .header("authorization", GLOBAL_KEY)
                .bytes_body(body)
                .to_json();
            let response = app.user_event(event).await;
            let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
            let is_object = serde_json::from_slice::<Value>(body).is_ok_and(|b| b.is_object());
            if *method == "DELETE" && (body.is_empty() || is_object) && response.status == 200 {
                // A DELETE reads only `hardDelete` of its body: with none, this is a
                // deactivation, not a hostile body. Put Richard back.
                let back = app
                    .user_event(
                        Call::new("PUT", format!("/api/user/{RICHARD}"))
                            .query("reactivate=true")
                            .event(),
                    )
                    .await;
                assert_eq!(back.status, 200);
                continue;
            }
            response.assert_client_error(&format!("{method} {path} {shown:?}"));
        }
    }
    let richard = get(&app, &format!("/api/user/{RICHARD}"), "").await.json()["user"].clone();
    assert_eq!(richard["email"], "richard@piedpiper.com");
    assert_eq!(richard["active"], true);
    let after = (
        app.directory_items().await.len(),
        app.code_items().await.len(),
    );
    // The deactivations revoked Richard's refresh tokens: one REVOKED item, nothing else.
    assert_eq!(after.0, before.0, "no user or identity was written");
    assert!(after.1 <= before.1 + 1);
}
