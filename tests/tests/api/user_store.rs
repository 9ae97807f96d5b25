//! The `UserStore` against DynamoDB: each write one transaction whose conditions keep an identity
//! to one user and a user to one writer at a time, answered right when its response is lost; an
//! import whose outcome is exact for each user. The hard delete is in `user_deletion`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use passwordless::aws::dynamo::DynamoStore;
use passwordless::login_id::{IdentityKey, IdentityType};
use passwordless::model::User;
use passwordless::ports::{Directory, UserStore, UserWrite};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fault_injection::{faulty, Fault, Faults};
use crate::helpers::*;

/// A new user of the example tenant, registered to the web application, its email verified.
pub(crate) fn new_user(fields: Value) -> User {
    let mut document = json!({
        "id": Uuid::new_v4(),
        "tenantId": TENANT,
        "verified": true,
        "registrations": [{"applicationId": WEB_APP, "roles": ["user"], "verified": true}],
    });
    for (name, value) in fields.as_object().expect("fields").clone() {
        document[name] = value;
    }
    let mut user: User = serde_json::from_value(document).expect("a user");
    user.derive_identities(Some("Import")).expect("identities");
    user
}

pub(crate) fn email(address: &str) -> IdentityKey {
    IdentityKey {
        kind: IdentityType::Email,
        value: address.to_owned(),
    }
}

/// Creates `user`, which must be written.
pub(crate) async fn created(store: &DynamoStore, user: &User) {
    assert_eq!(
        UserStore::create(store, user).await.unwrap(),
        UserWrite::Written,
        "{:?}",
        user.email
    );
}

pub(crate) async fn owner_of(store: &DynamoStore, identity: IdentityKey) -> Option<Uuid> {
    store
        .find_identity(TENANT.parse().unwrap(), &[identity])
        .await
        .expect("the identity is read")
        .map(|found| found.user_id)
}

/// Every item of both tables, every page.
pub(crate) async fn every_item(store: &DynamoStore) -> Vec<HashMap<String, AttributeValue>> {
    let mut items = Vec::new();
    for table in [&store.tables().directory, &store.tables().codes] {
        let mut start = None;
        loop {
            let page = store
                .client()
                .scan()
                .table_name(table)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("scan works");
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => break,
            }
        }
    }
    items
}

/// The items whose key or any attribute (documents included) mentions `id`.
pub(crate) async fn items_mentioning(store: &DynamoStore, id: Uuid) -> Vec<String> {
    every_item(store)
        .await
        .into_iter()
        .map(|item| format!("{item:?}"))
        .filter(|text| text.contains(&id.to_string()) || text.contains(&id.simple().to_string()))
        .collect()
}

#[tokio::test]
async fn eight_concurrent_creates_of_one_address_make_exactly_one_user() {
    let app = TestApp::spawn().await;
    let users: Vec<User> = (0..8)
        .map(|i| {
            let address = if i % 2 == 0 {
                "Gavin@Hooli.example"
            } else {
                "gavin@hooli.example"
            };
            new_user(json!({"email": address}))
        })
        .collect();

    let creates: Vec<_> = users
        .iter()
        .map(|user| {
            let (store, user) = (app.store.clone(), user.clone());
            tokio::spawn(async move { UserStore::create(&store, &user).await })
        })
        .collect();

    let mut outcomes = Vec::new();
    for create in creates {
        outcomes.push(create.await.unwrap().unwrap());
    }
    let written: Vec<&User> = users
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == UserWrite::Written)
        .map(|(u, _)| u)
        .collect();
    assert_eq!(written.len(), 1, "{outcomes:?}");
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == UserWrite::Taken(vec![IdentityType::Email]))
            .count(),
        7,
        "{outcomes:?}"
    );
    assert_eq!(
        owner_of(&app.store, email("gavin@hooli.example")).await,
        Some(written[0].id)
    );
    for user in &users {
        let stored = app.store.user(user.id).await.unwrap();
        assert_eq!(stored.is_some(), user.id == written[0].id);
    }
}

#[tokio::test]
async fn a_create_refused_writes_nothing_and_says_why() {
    let app = TestApp::spawn().await;
    let first = new_user(json!({"email": "monica@raviga.example", "username": "monica"}));
    assert_eq!(
        UserStore::create(&app.store, &first).await.unwrap(),
        UserWrite::Written
    );
    let stored = app.store.user(first.id).await.unwrap().expect("the user");
    assert!(stored.revision.is_some(), "a written user has a revision");

    let same_id = new_user(json!({"id": first.id, "email": "laurie@raviga.example"}));
    assert_eq!(
        UserStore::create(&app.store, &same_id).await.unwrap(),
        UserWrite::Conflict
    );
    assert_eq!(
        owner_of(&app.store, email("laurie@raviga.example")).await,
        None
    );

    let same_username = new_user(json!({"email": "ed@raviga.example", "username": "MONICA"}));
    assert_eq!(
        UserStore::create(&app.store, &same_username).await.unwrap(),
        UserWrite::Taken(vec![IdentityType::Username])
    );
    assert_eq!(app.store.user(same_username.id).await.unwrap(), None);
    assert_eq!(owner_of(&app.store, email("ed@raviga.example")).await, None);
}

#[tokio::test]
async fn of_two_replaces_of_one_read_exactly_one_is_written() {
    let app = TestApp::spawn().await;
    let user = new_user(json!({"email": "nelson@hooli.example"}));
    created(&app.store, &user).await;
    let read = app.store.user(user.id).await.unwrap().unwrap();
    let renamed = |name: &str| User {
        first_name: Some(name.to_owned()),
        ..read.clone()
    };
    let (a, b) = (renamed("Big Head"), renamed("Nelson"));

    let (first, second) = tokio::join!(
        UserStore::replace(&app.store, &read, &a),
        UserStore::replace(&app.store, &read, &b)
    );

    let mut outcomes = vec![first.unwrap(), second.unwrap()];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [UserWrite::Conflict, UserWrite::Written]);
    let stored = app.store.user(user.id).await.unwrap().unwrap();
    assert!(["Big Head", "Nelson"].contains(&stored.first_name.as_deref().unwrap()));
    assert_ne!(
        stored.revision, read.revision,
        "a write gives a new revision"
    );
    assert_eq!(
        UserStore::replace(&app.store, &read, &a).await.unwrap(),
        UserWrite::Conflict,
        "a replace of a stale read is refused"
    );
}

#[tokio::test]
async fn a_replace_moves_identities_and_refuses_one_taken() {
    let app = TestApp::spawn().await;
    let user = new_user(json!({"email": "jian@yang.example"}));
    let other = new_user(json!({"email": "erlich@aviato.example"}));
    created(&app.store, &user).await;
    created(&app.store, &other).await;
    let read = app.store.user(user.id).await.unwrap().unwrap();

    let mut taken = User {
        email: Some("Erlich@Aviato.example".to_owned()),
        ..read.clone()
    };
    taken.derive_identities(None).unwrap();
    assert_eq!(
        UserStore::replace(&app.store, &read, &taken).await.unwrap(),
        UserWrite::Taken(vec![IdentityType::Email])
    );
    assert_eq!(
        owner_of(&app.store, email("jian@yang.example")).await,
        Some(user.id)
    );

    let mut moved = User {
        email: Some("jian@newpiedpiper.example".to_owned()),
        username: Some("jianyang".to_owned()),
        ..read.clone()
    };
    moved.derive_identities(None).unwrap();
    assert_eq!(
        UserStore::replace(&app.store, &read, &moved).await.unwrap(),
        UserWrite::Written
    );
    assert_eq!(owner_of(&app.store, email("jian@yang.example")).await, None);
    assert_eq!(
        owner_of(&app.store, email("jian@newpiedpiper.example")).await,
        Some(user.id)
    );
    let username = IdentityKey {
        kind: IdentityType::Username,
        value: "jianyang".to_owned(),
    };
    assert_eq!(owner_of(&app.store, username).await, Some(user.id));
    let reuse = new_user(json!({"email": "jian@yang.example"}));
    assert_eq!(
        UserStore::create(&app.store, &reuse).await.unwrap(),
        UserWrite::Written,
        "the address it left is free"
    );
}

#[tokio::test]
async fn an_import_says_exactly_which_users_were_written() {
    let app = TestApp::spawn().await;
    let stored = new_user(json!({"email": "russ@hanneman.example"}));
    created(&app.store, &stored).await;
    let first = new_user(json!({"email": "a@hooli.example", "username": "alpha"}));
    let users = vec![
        first.clone(),
        new_user(json!({"email": "b@hooli.example"})),
        // A duplicate of the first's username, in the middle.
        new_user(json!({"email": "c@hooli.example", "username": "ALPHA"})),
        new_user(json!({"email": "Russ@Hanneman.example"})),
        new_user(json!({"id": first.id, "email": "d@hooli.example"})),
        new_user(json!({"email": "e@hooli.example"})),
    ];

    let outcomes = UserStore::import(&app.store, &users).await.unwrap();

    assert_eq!(
        outcomes,
        [
            UserWrite::Written,
            UserWrite::Written,
            UserWrite::Taken(vec![IdentityType::Username]),
            UserWrite::Taken(vec![IdentityType::Email]),
            UserWrite::Conflict,
            UserWrite::Written,
        ]
    );
    // (The fifth has the first's id, which was written.)
    for (user, outcome) in users.iter().zip(&outcomes).take(4).skip(1) {
        let found = app.store.user(user.id).await.unwrap();
        assert_eq!(found.is_some(), *outcome == UserWrite::Written, "{user:?}");
    }
    assert_eq!(owner_of(&app.store, email("c@hooli.example")).await, None);
    assert_eq!(owner_of(&app.store, email("d@hooli.example")).await, None);
    assert_eq!(
        owner_of(&app.store, email("e@hooli.example")).await,
        Some(users[5].id)
    );
}

#[tokio::test]
async fn an_import_larger_than_one_transaction_is_exact_across_them() {
    let app = TestApp::spawn().await;
    let stored = new_user(json!({"email": "user120@hooli.example"}));
    created(&app.store, &stored).await;
    let mut users: Vec<User> = (0..160)
        .map(|i| new_user(json!({"email": format!("user{i}@hooli.example")})))
        .collect();
    // The 100th repeats the 10th (in another transaction); the 120th is stored already.
    users[100] = new_user(json!({"email": "USER10@hooli.example"}));

    let outcomes = UserStore::import(&app.store, &users).await.unwrap();

    for (i, outcome) in outcomes.iter().enumerate() {
        let expected = match i {
            100 | 120 => UserWrite::Taken(vec![IdentityType::Email]),
            _ => UserWrite::Written,
        };
        assert_eq!(*outcome, expected, "user {i}");
    }
    let stored_users: Vec<String> = every_item(&app.store)
        .await
        .iter()
        .filter_map(|i| i["pk"].as_s().ok().cloned())
        .filter(|pk| pk.starts_with("USER#"))
        .collect();
    let imported = users
        .iter()
        .filter(|u| stored_users.contains(&format!("USER#{}", u.id)))
        .count();
    assert_eq!(imported, 158);
}

/// The app's tables through a client whose calls `faults` can disturb.
fn faulty_store(app: &TestApp, faults: &Faults) -> DynamoStore {
    let sdk = passwordless::aws::lambda_sdk_config().unwrap();
    DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&faulty(&sdk, faults)),
        app.wiring.tables.clone(),
    )
}

#[tokio::test]
async fn every_user_write_whose_response_is_lost_is_written_once_and_says_so() {
    let app = TestApp::spawn().await;
    let faults = Faults::default();
    let store = faulty_store(&app, &faults);
    let user = new_user(json!({"email": "lost@hooli.example"}));

    faults.next("TransactWriteItems", Fault::LoseResponse, 1);
    assert_eq!(
        UserStore::create(&store, &user).await.unwrap(),
        UserWrite::Written
    );
    assert_eq!(
        faults.injected("TransactWriteItems", Fault::LoseResponse),
        1
    );

    let read = app.store.user(user.id).await.unwrap().unwrap();
    let mut next = User {
        email: Some("found@hooli.example".to_owned()),
        ..read.clone()
    };
    next.derive_identities(None).unwrap();
    faults.next("TransactWriteItems", Fault::LoseResponse, 1);
    assert_eq!(
        UserStore::replace(&store, &read, &next).await.unwrap(),
        UserWrite::Written
    );
    assert_eq!(
        owner_of(&app.store, email("found@hooli.example")).await,
        Some(user.id)
    );

    let imported = new_user(json!({"email": "imported@hooli.example"}));
    faults.next("TransactWriteItems", Fault::LoseResponse, 1);
    assert_eq!(
        UserStore::import(&store, std::slice::from_ref(&imported))
            .await
            .unwrap(),
        [UserWrite::Written]
    );

    let read = app.store.user(user.id).await.unwrap().unwrap();
    faults.next("TransactWriteItems", Fault::LoseResponse, 1);
    assert_eq!(
        UserStore::delete(&store, &read).await.unwrap(),
        UserWrite::Written
    );
    assert_eq!(
        faults.injected("TransactWriteItems", Fault::LoseResponse),
        4
    );
    assert_eq!(app.store.user(user.id).await.unwrap(), None);
    assert_eq!(
        items_mentioning(&app.store, user.id).await,
        Vec::<String>::new()
    );
}
