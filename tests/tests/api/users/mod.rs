//! The User API through its handler, with API Gateway events, against DynamoDB on moto with the
//! user function's own IAM role (template.yaml): create, retrieve, update, patch, deactivate,
//! reactivate, hard delete and search, the tenant rules, permissions and FusionAuth's errors.

mod access;
mod hostile;
mod lifecycle;

use api_gateway_events::Event;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{TestApp, GLOBAL_KEY, TENANT};

pub const HOOLI: &str = "3a000000-0000-4000-8000-000000000001";
pub const RICHARD: &str = "00000000-0000-0001-0000-000000000001";

/// A User API call: `method path?query`, with the key, the tenant header and the body given.
pub struct Call<'a> {
    pub method: &'a str,
    pub path: String,
    pub query: &'a str,
    pub key: Option<&'a str>,
    pub tenant: Option<&'a str>,
    pub body: Option<String>,
}

impl<'a> Call<'a> {
    pub fn new(method: &'a str, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: "",
            key: Some(GLOBAL_KEY),
            tenant: None,
            body: None,
        }
    }
    pub fn query(mut self, query: &'a str) -> Self {
        self.query = query;
        self
    }
    pub fn key(mut self, key: Option<&'a str>) -> Self {
        self.key = key;
        self
    }
    pub fn tenant(mut self, tenant: &'a str) -> Self {
        self.tenant = Some(tenant);
        self
    }
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string());
        self
    }
    pub fn event(&self) -> Value {
        let mut event = Event::new(self.method, &self.path).query(self.query);
        if let Some(key) = self.key {
            event = event.header("authorization", key);
        }
        if let Some(tenant) = self.tenant {
            event = event.header("x-fusionauth-tenantid", tenant);
        }
        if let Some(body) = &self.body {
            event = event.body(body);
        }
        event.to_json()
    }
}

pub async fn create(app: &TestApp, user: Value) -> Value {
    let response = app
        .user_event(
            Call::new("POST", "/api/user")
                .json(json!({ "user": user }))
                .event(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    response.json()["user"].clone()
}

pub async fn get(app: &TestApp, path: &str, query: &str) -> crate::helpers::TestResponse {
    app.user_event(Call::new("GET", path).query(query).event())
        .await
}

pub fn id_of(user: &Value) -> String {
    user["id"].as_str().expect("the user has an id").to_owned()
}

#[tokio::test]
async fn a_created_user_is_retrieved_by_id_email_username_and_login_id() {
    let app = TestApp::spawn().await;
    let response = app
        .user_event(
            Call::new("POST", "/api/user")
                .json(
                    json!({"user": {"email": "Dinesh.C@PiedPiper.com", "username": "dinesh",
                                      "firstName": "Bertram", "data": {"team": "infra"}}}),
                )
                .event(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let user = response.json()["user"].clone();
    assert_eq!(user["email"], "dinesh.c@piedpiper.com");
    assert_eq!(user["tenantId"], TENANT);
    assert_eq!(user["active"], true);
    assert!(user["insertInstant"].is_i64() && user["lastUpdateInstant"].is_i64());
    assert_eq!(user["identities"][0]["type"], "email");
    assert!(user.get("revision").is_none() && user.get("password").is_none());
    let id = id_of(&user);
    for (path, query) in [
        (format!("/api/user/{id}"), ""),
        ("/api/user".to_owned(), "email=dinesh.c%40piedpiper.com"),
        ("/api/user".to_owned(), "username=DINESH"),
        ("/api/user".to_owned(), "loginId=Dinesh.C%40PiedPiper.com"),
        (
            "/api/user".to_owned(),
            "loginId=dinesh&loginIdTypes=email&loginIdTypes=username",
        ),
    ] {
        let found = get(&app, &path, query).await;
        assert_eq!(found.status, 200, "{path}?{query}: {}", found.body);
        assert_eq!(found.json()["user"]["id"], id.as_str(), "{path}?{query}");
        assert_eq!(found.json()["user"]["data"]["team"], "infra");
    }
    for query in [
        "email=nobody%40piedpiper.com",
        "loginId=dinesh&loginIdTypes=email",
    ] {
        let missing = get(&app, "/api/user", query).await;
        assert_eq!(
            (missing.status, missing.body.as_str()),
            (404, ""),
            "{query}"
        );
    }
    let missing = get(&app, &format!("/api/user/{}", Uuid::new_v4()), "").await;
    assert_eq!((missing.status, missing.body.as_str()), (404, ""));
}

#[tokio::test]
async fn a_create_at_a_path_id_makes_the_user_with_that_id() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4().to_string();
    let response = app
        .user_event(
            Call::new("POST", format!("/api/user/{id}"))
                .json(json!({"user": {"phoneNumber": "+1 415 555 0199"}}))
                .event(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["user"]["id"], id.as_str());
    assert_eq!(response.json()["user"]["phoneNumber"], "+14155550199");
    let again = app
        .user_event(
            Call::new("POST", format!("/api/user/{id}"))
                .json(json!({"user": {"email": "other@piedpiper.com"}}))
                .event(),
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(again.error_codes(), ["[duplicate]userId"]);
}

#[tokio::test]
async fn duplicates_and_bad_bodies_are_400_with_fusionauths_codes_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let users_before = user_items(&app).await;
    for (body, codes) in [
        (
            json!({"user": {"email": "RICHARD@piedpiper.com"}}),
            vec!["[duplicate]user.email"],
        ),
        (
            json!({"user": {"email": "new@piedpiper.com", "username": "Richard"}}),
            vec!["[duplicate]user.username"],
        ),
        (
            json!({"user": {"phoneNumber": "+13035551212"}}),
            vec!["[duplicate]user.phoneNumber"],
        ),
        (
            json!({"user": {"email": "a@b_c.com"}}),
            vec!["[notEmail]user.email"],
        ),
        (
            json!({"user": {"firstName": "Nobody"}}),
            vec!["[blank]user.email"],
        ),
        (
            json!({"user": {"email": "x@y.co", "phoneNumber": "12"}}),
            vec!["[invalidPhone]user.phoneNumber"],
        ),
        (
            json!({"user": {"email": "x@y.co", "expiry": "tomorrow"}}),
            vec!["[couldNotConvert]user.expiry"],
        ),
        (
            json!({"user": {"email": "x@y.co", "firstName": "x".repeat(256)}}),
            vec!["[tooLong]user.firstName"],
        ),
        (json!({"user": "x@y.co"}), vec!["[couldNotConvert]user"]),
        (json!({"email": "x@y.co"}), vec!["[missing]user"]),
        (
            json!({"user": {"email": "x@y.co"}, "skipVerification": "yes"}),
            vec!["[couldNotConvert]skipVerification"],
        ),
    ] {
        let response = app
            .user_event(Call::new("POST", "/api/user").json(body.clone()).event())
            .await;
        assert_eq!(response.status, 400, "{body}: {}", response.body);
        assert_eq!(response.error_codes(), codes, "{body}");
    }
    assert_eq!(user_items(&app).await, users_before);
}

/// The user items of the Directory table.
async fn user_items(app: &TestApp) -> usize {
    app.directory_items()
        .await
        .iter()
        .filter(|i| i["pk"].as_s().is_ok_and(|pk| pk.starts_with("USER#")))
        .count()
}

#[tokio::test]
async fn eight_concurrent_creates_of_one_address_make_exactly_one_user() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let before = user_items(&app).await;
    let creates: Vec<_> = (0..8)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let body = json!({"user": {"email": "Dinesh@PiedPiper.com", "firstName": format!("try {i}")}});
                app.user_event(Call::new("POST", "/api/user").json(body).event())
                    .await
            })
        })
        .collect();
    let mut responses = Vec::new();
    for create in creates {
        responses.push(create.await.expect("the create ran"));
    }
    let created: Vec<_> = responses.iter().filter(|r| r.status == 200).collect();
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(created.len(), 1, "{statuses:?}");
    for refused in responses.iter().filter(|r| r.status != 200) {
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(refused.error_codes(), ["[duplicate]user.email"]);
    }
    assert_eq!(user_items(&app).await, before + 1);
    let found = get(&app, "/api/user", "email=dinesh%40piedpiper.com").await;
    assert_eq!(found.json()["user"]["id"], created[0].json()["user"]["id"]);
}
