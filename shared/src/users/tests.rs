//! The User API's use cases over the memory directory and user store (the store's rules:
//! identities unique per tenant, writes conditioned on the revision read). The DynamoDB store's
//! behaviour is the integration tests' to prove.

use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;

use super::access::Caller;
use super::create::{create, CreateUser};
use super::input::{parse_user, UserInput};
use super::{change, remove, retrieve, UserError, UserServices};
use crate::login_id::LoginIdTypes;
use crate::memory::{MemoryCodeStore, MemoryDirectory, MemoryRefreshTokens, MemoryUserStore};
use crate::model::{ApiKey, User};
use crate::ports::RevocationScope;
use crate::system::{OsRandom, SystemClock};

struct World {
    services: UserServices,
    codes: Arc<MemoryCodeStore>,
    tenant: Uuid,
}

fn world() -> World {
    let directory = Arc::new(MemoryDirectory::default());
    let codes = Arc::new(MemoryCodeStore::default());
    World {
        services: UserServices {
            directory: directory.clone(),
            users: Arc::new(MemoryUserStore {
                directory: directory.clone(),
            }),
            refresh_tokens: Arc::new(MemoryRefreshTokens {
                codes: codes.clone(),
                directory,
            }),
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
        },
        codes,
        tenant: Uuid::new_v4(),
    }
}

fn caller(tenant: Option<Uuid>) -> Caller {
    Caller {
        api_key: ApiKey {
            id: Uuid::new_v4(),
            tenant_id: None,
            description: None,
            permissions: None,
        },
        tenant_id: tenant,
    }
}

fn new_user(object: serde_json::Value) -> CreateUser {
    CreateUser {
        user_id: None,
        user: parse_user(&object, "user", UserInput::Create).unwrap(),
        skip_verification: false,
    }
}

fn field_codes(result: Result<User, UserError>) -> Vec<String> {
    match result {
        Err(UserError::Invalid(errors)) => errors
            .field_errors
            .values()
            .flatten()
            .map(|e| e.code.clone())
            .collect(),
        other => panic!("expected a 400, got {other:?}"),
    }
}

#[tokio::test]
async fn a_created_user_is_found_by_id_email_and_login_id_in_its_tenant_only() {
    let w = world();
    let created = create(
        &w.services,
        &caller(Some(w.tenant)),
        new_user(json!({"email": "Ada@Example.com", "username": "ada"})),
    )
    .await
    .unwrap();
    assert_eq!(created.tenant_id, w.tenant);
    assert!(created.insert_instant.is_some());
    let me = caller(Some(w.tenant));
    assert_eq!(
        retrieve::by_id(&w.services, &me, created.id)
            .await
            .unwrap()
            .id,
        created.id
    );
    let by_email = LoginIdTypes::parse(["email"]).unwrap();
    let found = retrieve::by_login_id(&w.services, &me, "ada@example.com", &by_email)
        .await
        .unwrap();
    assert_eq!(found.id, created.id);
    let found = retrieve::by_login_id(&w.services, &me, "ADA", &LoginIdTypes::default())
        .await
        .unwrap();
    assert_eq!(found.id, created.id);
    let other = caller(Some(Uuid::new_v4()));
    assert!(matches!(
        retrieve::by_id(&w.services, &other, created.id).await,
        Err(UserError::NotFound)
    ));
    assert!(matches!(
        retrieve::by_login_id(&w.services, &other, "ada@example.com", &by_email).await,
        Err(UserError::NotFound)
    ));
}

#[tokio::test]
async fn a_second_user_with_a_taken_email_or_username_is_a_duplicate() {
    let w = world();
    let me = caller(Some(w.tenant));
    create(
        &w.services,
        &me,
        new_user(json!({"email": "a@b.co", "username": "bob"})),
    )
    .await
    .unwrap();
    let again = create(
        &w.services,
        &me,
        new_user(json!({"email": "A@B.CO", "username": "BOB"})),
    )
    .await;
    let mut codes = field_codes(again);
    codes.sort();
    assert_eq!(codes, ["[duplicate]user.email", "[duplicate]user.username"]);
    // Another tenant may have the same address.
    create(
        &w.services,
        &caller(Some(Uuid::new_v4())),
        new_user(json!({"email": "a@b.co"})),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_create_with_an_id_in_use_is_a_duplicate_user_id() {
    let w = world();
    let me = caller(Some(w.tenant));
    let first = create(&w.services, &me, new_user(json!({"email": "a@b.co"})))
        .await
        .unwrap();
    let mut command = new_user(json!({"email": "c@d.co"}));
    command.user_id = Some(first.id);
    assert_eq!(
        field_codes(create(&w.services, &me, command).await),
        ["[duplicate]userId"]
    );
}

#[tokio::test]
async fn patching_the_email_moves_the_login_to_the_new_address_and_keeps_the_rest() {
    let w = world();
    let me = caller(Some(w.tenant));
    let user = create(
        &w.services,
        &me,
        new_user(json!({"email": "old@b.co", "firstName": "Ada", "data": {"a": 1, "b": 2}})),
    )
    .await
    .unwrap();
    let patched = change::patch(
        &w.services,
        &me,
        user.id,
        &json!({"email": "new@b.co", "data": {"b": null, "c": 3}}),
    )
    .await
    .unwrap();
    assert_eq!(patched.email.as_deref(), Some("new@b.co"));
    assert_eq!(patched.first_name.as_deref(), Some("Ada"));
    assert_eq!(
        patched.data,
        json!({"a": 1, "c": 3}).as_object().unwrap().clone()
    );
    let email = LoginIdTypes::parse(["email"]).unwrap();
    assert!(matches!(
        retrieve::by_login_id(&w.services, &me, "old@b.co", &email).await,
        Err(UserError::NotFound)
    ));
    assert_eq!(
        retrieve::by_login_id(&w.services, &me, "new@b.co", &email)
            .await
            .unwrap()
            .id,
        user.id
    );
    // The old address is free again.
    create(&w.services, &me, new_user(json!({"email": "old@b.co"})))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_update_replaces_the_profile_and_refuses_an_address_another_user_holds() {
    let w = world();
    let me = caller(Some(w.tenant));
    create(&w.services, &me, new_user(json!({"email": "taken@b.co"})))
        .await
        .unwrap();
    let user = create(
        &w.services,
        &me,
        new_user(json!({"email": "a@b.co", "firstName": "Ada"})),
    )
    .await
    .unwrap();
    let given = parse_user(
        &json!({"email": "a@b.co", "lastName": "L"}),
        "user",
        UserInput::Replace,
    )
    .unwrap();
    let updated = change::update(&w.services, &me, user.id, &given)
        .await
        .unwrap();
    assert_eq!(
        (updated.first_name, updated.last_name.as_deref()),
        (None, Some("L"))
    );
    let given = parse_user(&json!({"email": "TAKEN@b.co"}), "user", UserInput::Replace).unwrap();
    assert_eq!(
        field_codes(change::update(&w.services, &me, user.id, &given).await),
        ["[duplicate]user.email"]
    );
    let patch = change::patch(&w.services, &me, user.id, &json!({"email": "not an email"})).await;
    assert_eq!(field_codes(patch), ["[notEmail]user.email"]);
    assert_eq!(
        retrieve::by_id(&w.services, &me, user.id)
            .await
            .unwrap()
            .email
            .as_deref(),
        Some("a@b.co")
    );
}

#[tokio::test]
async fn deactivating_revokes_the_users_refresh_tokens_and_reactivating_makes_it_active_again() {
    let w = world();
    let me = caller(Some(w.tenant));
    let user = create(&w.services, &me, new_user(json!({"email": "a@b.co"})))
        .await
        .unwrap();
    remove::deactivate(&w.services, &me, user.id).await.unwrap();
    assert!(
        !retrieve::by_id(&w.services, &me, user.id)
            .await
            .unwrap()
            .active
    );
    assert!(w
        .codes
        .revocations
        .lock()
        .unwrap()
        .contains_key(&RevocationScope::User(user.id)));
    let back = change::reactivate(&w.services, &me, user.id).await.unwrap();
    assert!(back.active);
}

#[tokio::test]
async fn a_hard_delete_frees_the_address_and_the_user_is_gone() {
    let w = world();
    let me = caller(Some(w.tenant));
    let user = create(&w.services, &me, new_user(json!({"email": "a@b.co"})))
        .await
        .unwrap();
    assert!(matches!(
        remove::hard_delete(&w.services, &caller(Some(Uuid::new_v4())), user.id).await,
        Err(UserError::NotFound)
    ));
    remove::hard_delete(&w.services, &me, user.id)
        .await
        .unwrap();
    assert!(matches!(
        retrieve::by_id(&w.services, &me, user.id).await,
        Err(UserError::NotFound)
    ));
    create(&w.services, &me, new_user(json!({"email": "a@b.co"})))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_search_by_ids_skips_unknown_ids_and_users_of_other_tenants() {
    let w = world();
    let me = caller(Some(w.tenant));
    let a = create(&w.services, &me, new_user(json!({"email": "a@b.co"})))
        .await
        .unwrap();
    let b = create(&w.services, &me, new_user(json!({"email": "b@b.co"})))
        .await
        .unwrap();
    let elsewhere = create(
        &w.services,
        &caller(Some(Uuid::new_v4())),
        new_user(json!({"email": "c@b.co"})),
    )
    .await
    .unwrap();
    let found = retrieve::search_by_ids(
        &w.services,
        &me,
        &[b.id, Uuid::new_v4(), a.id, elsewhere.id, b.id],
    )
    .await
    .unwrap();
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), [b.id, a.id]);
}

#[test]
fn a_json_merge_patch_merges_objects_removes_nulls_and_replaces_arrays() {
    let mut target = json!({"a": {"x": 1, "y": 2}, "l": [1, 2], "k": 1});
    change::merge(
        &mut target,
        &json!({"a": {"y": null, "z": 3}, "l": [3], "k": null}),
    );
    assert_eq!(target, json!({"a": {"x": 1, "z": 3}, "l": [3]}));
}
