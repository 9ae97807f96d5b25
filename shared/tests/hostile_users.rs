//! Hostile user objects (issue 25): whatever JSON a client puts where the User API reads a user,
//! the parser answers a user or FusionAuth's field errors, never a panic; a user it answers has
//! an identity, a canonical address and nothing it may not set; every error is a field under the
//! object's path. The HTTP edge's answers to hostile bodies are the integration and black-box
//! tests' (tests/tests/api/users.rs, tests/blackbox/test_users_hostile.py).

use passwordless::model::is_email;
use passwordless::users::input::{parse_user, UserInput};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Any JSON value, a few levels deep, with text that includes control characters and non-ASCII.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        "[a-z0-9.+-]{1,12}@[a-z0-9-]{1,10}\\.[a-z]{2,4}".prop_map(Value::String),
        "\\+?[0-9 ()-]{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const FIELDS: &[&str] = &[
    "id",
    "email",
    "username",
    "phoneNumber",
    "firstName",
    "middleName",
    "lastName",
    "fullName",
    "birthDate",
    "imageUrl",
    "mobilePhone",
    "timezone",
    "preferredLanguages",
    "data",
    "expiry",
    "passwordChangeRequired",
    "active",
    "verified",
    "insertInstant",
    "registrations",
    "tenantId",
    "password",
    "twoFactor",
];

/// A user object whose known fields hold anything.
fn user_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(FIELDS), any_json()), 0..10).prop_map(|pairs| {
        let mut object = Map::new();
        for (field, value) in pairs {
            object.insert(field.to_owned(), value);
        }
        Value::Object(object)
    })
}

fn purposes() -> impl Strategy<Value = UserInput> {
    prop_oneof![
        Just(UserInput::Create),
        Just(UserInput::Replace),
        Just(UserInput::Import)
    ]
}

fn check(object: &Value, purpose: UserInput) -> Result<(), TestCaseError> {
    match parse_user(object, "users[7]", purpose) {
        Ok(user) => {
            prop_assert!(!user.identities.is_empty());
            if let Some(email) = &user.email {
                prop_assert!(is_email(email));
                prop_assert_eq!(email, &email.to_lowercase());
            }
            if purpose != UserInput::Import {
                prop_assert!(user.active && !user.verified && user.registrations.is_empty());
            }
            prop_assert!(user.preferred_languages.len() <= 20);
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty());
            for (field, entries) in &errors.field_errors {
                prop_assert!(field.starts_with("users[7]"), "{}", field);
                for entry in entries {
                    prop_assert!(
                        entry.code.starts_with('[') && entry.code.ends_with(field.as_str())
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_user_object_is_a_user_or_field_errors_never_a_panic(object in user_object(), purpose in purposes()) {
        check(&object, purpose)?;
    }

    #[test]
    fn any_json_where_a_user_object_belongs_is_refused_or_parsed_never_a_panic(value in any_json(), purpose in purposes()) {
        check(&value, purpose)?;
    }
}
