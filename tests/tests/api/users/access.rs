//! Who may call the User API and in which tenant: endpoint permissions, tenant-locked keys,
//! `X-FusionAuth-TenantId`, `[TenantIdRequired]`.

use serde_json::{json, Value};

use super::{id_of, Call, HOOLI, RICHARD};
use crate::helpers::{
    TestApp, PIED_PIPER_USERS_KEY, TENANT, THREE_SENDERS_KICKSTART, USER_READER_KEY,
};

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
