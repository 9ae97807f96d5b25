use serde_json::json;

use super::*;
use crate::model::ApplicationRole;

fn body(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

fn codes(errors: &Errors) -> Vec<String> {
    errors
        .field_errors
        .values()
        .flatten()
        .map(|e| e.code.clone())
        .collect()
}

const APP: &str = "10000000-0000-0002-0000-000000000001";

fn application() -> Application {
    let mut application: Application = serde_json::from_value(json!({
        "id": APP, "tenantId": "f24aca2b-ce4a-4dad-951a-c9d690e71415"
    }))
    .unwrap();
    application.roles = vec![
        ApplicationRole {
            name: "user".into(),
            is_default: true,
        },
        ApplicationRole {
            name: "admin".into(),
            is_default: false,
        },
        ApplicationRole {
            name: "viewer".into(),
            is_default: true,
        },
    ];
    application
}

#[test]
fn a_registration_request_reads_every_documented_field() {
    let request = parse_request(
        &body(json!({
            "registration": {
                "applicationId": APP, "id": "00000000-0000-0000-0000-0000000000aa",
                "roles": ["admin", "admin"], "data": {"plan": "pro"},
                "preferredLanguages": ["en", "fr"], "timezone": "Europe/Paris",
                "username": "rich", "unknown": 1
            },
            "skipRegistrationVerification": true
        })),
        None,
    )
    .unwrap();
    assert_eq!(request.application_id.to_string(), APP);
    assert_eq!(request.roles, Some(vec!["admin".to_owned()]));
    assert_eq!(request.data["plan"], "pro");
    assert_eq!(request.preferred_languages, ["en", "fr"]);
    assert_eq!(request.timezone.as_deref(), Some("Europe/Paris"));
    assert_eq!(request.username.as_deref(), Some("rich"));
    assert!(request.skip_verification);
}

#[test]
fn the_url_application_wins_over_the_body() {
    let other = Uuid::from_u128(7);
    let request = parse_request(
        &body(json!({"registration": {"applicationId": APP}})),
        Some(other),
    )
    .unwrap();
    assert_eq!(request.application_id, other);
}

#[test]
fn every_registration_field_error_is_reported_at_once() {
    let errors = parse_request(
        &body(json!({
            "registration": {
                "id": "nope", "roles": "admin", "data": [1],
                "preferredLanguages": vec!["en"; 21], "timezone": 3, "username": "x".repeat(300)
            },
            "skipRegistrationVerification": "yes"
        })),
        None,
    )
    .unwrap_err();
    assert_eq!(
        codes(&errors),
        [
            "[blank]registration.applicationId",
            "[couldNotConvert]registration.data",
            "[couldNotConvert]registration.id",
            "[invalid]registration.preferredLanguages",
            "[couldNotConvert]registration.roles",
            "[couldNotConvert]registration.timezone",
            "[tooLong]registration.username",
            "[couldNotConvert]skipRegistrationVerification",
        ]
    );
}

#[test]
fn a_registration_that_is_not_an_object_could_not_be_converted() {
    let errors = parse_request(&body(json!({"registration": [APP]})), None).unwrap_err();
    assert_eq!(codes(&errors), ["[couldNotConvert]registration"]);
    let errors =
        parse_request(&body(json!({"registration": {"applicationId": 12}})), None).unwrap_err();
    assert_eq!(
        codes(&errors),
        ["[couldNotConvert]registration.applicationId"]
    );
}

#[test]
fn no_roles_given_means_the_applications_default_roles() {
    assert_eq!(roles_for(&application(), None).unwrap(), ["user", "viewer"]);
    assert!(roles_for(&application(), Some(&[])).unwrap().is_empty());
}

#[test]
fn a_role_the_application_does_not_define_is_invalid() {
    let errors = roles_for(&application(), Some(&["admin".into(), "root".into()])).unwrap_err();
    assert_eq!(codes(&errors), ["[invalid]registration.roles"]);
    assert_eq!(
        roles_for(&application(), Some(&["admin".into()])).unwrap(),
        ["admin"]
    );
}

#[test]
fn a_new_registration_is_verified_unless_the_application_verifies_registrations() {
    let request =
        parse_request(&body(json!({"registration": {"applicationId": APP}})), None).unwrap();
    let mut application = application();
    let id = Uuid::from_u128(9);
    let registration = new_registration(&application, &request, id, 5).unwrap();
    assert!(registration.verified);
    assert_eq!(registration.id, Some(id));
    assert_eq!(registration.insert_instant, Some(5));
    application.verify_registration = true;
    assert!(
        !new_registration(&application, &request, id, 5)
            .unwrap()
            .verified
    );
    let skipping = RegistrationRequest {
        skip_verification: true,
        ..request
    };
    assert!(
        new_registration(&application, &skipping, id, 5)
            .unwrap()
            .verified
    );
}

#[test]
fn a_patch_merges_objects_replaces_arrays_and_removes_nulls() {
    let mut target = json!({"roles": ["user"], "data": {"a": 1, "b": 2}, "timezone": "UTC"});
    merge(
        &mut target,
        &json!({"roles": ["admin"], "data": {"b": null, "c": 3}, "timezone": null}),
    );
    assert_eq!(
        target,
        json!({"roles": ["admin"], "data": {"a": 1, "c": 3}})
    );
}
