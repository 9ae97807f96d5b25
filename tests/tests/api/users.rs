//! The User API through its handler, with API Gateway events, against DynamoDB on moto with the
//! user function's own IAM role (template.yaml): create, retrieve, update, patch, deactivate,
//! reactivate, hard delete and search, the tenant rules, permissions and FusionAuth's errors.

use api_gateway_events::Event;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    TestApp, GLOBAL_KEY, PIED_PIPER_USERS_KEY, TENANT, THREE_SENDERS_KICKSTART, USER_READER_KEY,
    WEB_APP,
};

const HOOLI: &str = "3a000000-0000-4000-8000-000000000001";
const RICHARD: &str = "00000000-0000-0001-0000-000000000001";

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

async fn create(app: &TestApp, user: Value) -> Value {
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

async fn get(app: &TestApp, path: &str, query: &str) -> crate::helpers::TestResponse {
    app.user_event(Call::new("GET", path).query(query).event())
        .await
}

fn id_of(user: &Value) -> String {
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

#[tokio::test]
async fn a_key_is_allowed_only_its_permitted_methods_and_no_key_is_401_with_no_body() {
    let app = TestApp::spawn().await;
    let read = app
        .user_event(
            Call::new("GET", format!("/api/user/{RICHARD}"))
                .key(Some(USER_READER_KEY))
                .event(),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    for call in [
        Call::new("POST", "/api/user")
            .key(Some(USER_READER_KEY))
            .json(json!({"user": {"email": "a@b.co"}})),
        Call::new("DELETE", format!("/api/user/{RICHARD}")).key(Some(USER_READER_KEY)),
        Call::new("GET", "/api/user/search")
            .query("ids=00000000-0000-0001-0000-000000000001")
            .key(Some(USER_READER_KEY)),
        Call::new("GET", format!("/api/user/{RICHARD}")).key(None),
        Call::new("GET", format!("/api/user/{RICHARD}")).key(Some("not-a-key-of-ours")),
        Call::new("POST", "/api/user")
            .key(Some(crate::helpers::LOCKED_KEY))
            .json(json!({"user": {"email": "a@b.co"}})),
    ] {
        let response = app.user_event(call.event()).await;
        assert_eq!(
            (response.status, response.body.as_str()),
            (401, ""),
            "{} {}",
            call.method,
            call.path
        );
    }
    // Nothing was deactivated by the refused DELETE.
    let richard = app
        .user_event(Call::new("GET", format!("/api/user/{RICHARD}")).event())
        .await;
    assert_eq!(richard.json()["user"]["active"], true);
}

#[tokio::test]
async fn with_several_tenants_a_create_or_address_lookup_needs_the_tenant_and_a_locked_key_sees_only_its_own(
) {
    let mut app = TestApp::spawn().await;
    app.reload(THREE_SENDERS_KICKSTART).await;
    for call in [
        Call::new("POST", "/api/user").json(json!({"user": {"email": "new@hooli.xyz"}})),
        Call::new("GET", "/api/user").query("email=gavin%40hooli.xyz"),
    ] {
        let response = app.user_event(call.event()).await;
        assert_eq!(response.status, 400, "{}", response.body);
        assert_eq!(response.error_codes(), ["[TenantIdRequired]"]);
    }
    // The header names the tenant: the same address may then exist in two tenants.
    let in_hooli = app
        .user_event(
            Call::new("POST", "/api/user")
                .tenant(HOOLI)
                .json(json!({"user": {"email": "richard@piedpiper.com"}}))
                .event(),
        )
        .await;
    assert_eq!(in_hooli.status, 200, "{}", in_hooli.body);
    assert_eq!(in_hooli.json()["user"]["tenantId"], HOOLI);
    let hooli_user = id_of(&in_hooli.json()["user"]);
    // A key locked to Pied Piper needs no header, finds Pied Piper's Richard, not Hooli's.
    let found = app
        .user_event(
            Call::new("GET", "/api/user")
                .query("email=richard%40piedpiper.com")
                .key(Some(PIED_PIPER_USERS_KEY))
                .event(),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.json()["user"]["id"], RICHARD);
    let other = app
        .user_event(
            Call::new("GET", format!("/api/user/{hooli_user}"))
                .key(Some(PIED_PIPER_USERS_KEY))
                .event(),
        )
        .await;
    assert_eq!((other.status, other.body.as_str()), (404, ""));
    let patched = app
        .user_event(
            Call::new("PATCH", format!("/api/user/{hooli_user}"))
                .key(Some(PIED_PIPER_USERS_KEY))
                .json(json!({"user": {"firstName": "Hijacked"}}))
                .event(),
        )
        .await;
    assert_eq!(patched.status, 404);
    let crossed = app
        .user_event(
            Call::new("GET", format!("/api/user/{hooli_user}"))
                .key(Some(PIED_PIPER_USERS_KEY))
                .tenant(HOOLI)
                .event(),
        )
        .await;
    assert_eq!((crossed.status, crossed.body.as_str()), (401, ""));
    // By id, the global key needs no tenant (FusionAuth's scoped rule); a header restricts.
    let by_id = app
        .user_event(Call::new("GET", format!("/api/user/{hooli_user}")).event())
        .await;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.json()["user"]["firstName"], Value::Null);
    let restricted = app
        .user_event(
            Call::new("GET", format!("/api/user/{hooli_user}"))
                .tenant(TENANT)
                .event(),
        )
        .await;
    assert_eq!(restricted.status, 404);
}

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
    assert_eq!(bad.error_codes(), ["[couldNotConvert]ids"]);
}

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
            assert!(
                (400..500).contains(&response.status),
                "{method} {path} {shown:?}: {} {}",
                response.status,
                response.body
            );
            let errors = response.json();
            assert!(
                errors.get("fieldErrors").is_some() || errors.get("generalErrors").is_some(),
                "{method} {path} {shown:?}: {}",
                response.body
            );
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
