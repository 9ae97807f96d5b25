//! The login's steps over the in-memory ports: each outcome, in FusionAuth's order, and what each
//! step writes. The same behaviour against DynamoDB is the integration tests' (tests/tests/api).

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::memory::{self, FixedClock, MemoryCodeStore};
use crate::ports::CodeStore;
use crate::start::{self, StartCommand};

const KICKSTART: &str = include_str!("../../../tests/fixtures/kickstart.example.json");
const WEB_APP: &str = "10000000-0000-0002-0000-000000000001";
const ADMIN_APP: &str = "10000000-0000-0002-0000-000000000002";
const NOW: i64 = 1_795_870_800_000;

/// The reference kickstart in memory, at a fixed time, with the code store to look into.
fn services_with(kickstart: &str) -> (LoginServices, Arc<MemoryCodeStore>) {
    let world = memory::services(crate::kickstart::parse(kickstart).unwrap());
    let mut services = world.login;
    services.clock = Arc::new(FixedClock::at(NOW));
    (services, world.codes)
}

/// A code started (and stored) for the login's services' user, as start does.
async fn started(services: &LoginServices, application: &str, login_id: &str) -> start::Started {
    let services = start::StartServices {
        directory: services.directory.clone(),
        codes: services.codes.clone(),
        clock: services.clock.clone(),
        random: services.random.clone(),
    };
    let services = &services;
    let started = start::prepare(
        services,
        None,
        StartCommand {
            application_id: application.parse().unwrap(),
            login_id: login_id.into(),
            login_id_types: crate::login_id::LoginIdTypes::parse([
                "email",
                "phoneNumber",
                "username",
            ])
            .unwrap(),
            login_strategy: None,
            state: None,
        },
    )
    .await
    .unwrap();
    start::save(services, &started).await.unwrap();
    started
}

fn command(code: &str, application: Option<&str>) -> LoginCommand {
    LoginCommand {
        code: code.into(),
        application_id: application.map(|a| a.parse().unwrap()),
        ..LoginCommand::default()
    }
}

#[tokio::test]
async fn a_code_logs_in_once_then_is_not_found() {
    let (services, _) = services_with(KICKSTART);
    let code = started(&services, WEB_APP, "richard").await.code;
    let first = login(&services, None, command(&code, Some(WEB_APP)))
        .await
        .unwrap();
    let LoginOutcome::LoggedIn(logged_in) = first else {
        panic!("{first:?}")
    };
    assert_eq!(logged_in.kind, LoggedInKind::Complete);
    assert!(logged_in.access_token.is_some() && logged_in.refresh_token.is_some());
    let again = login(&services, None, command(&code, Some(WEB_APP)))
        .await
        .unwrap();
    assert!(matches!(again, LoginOutcome::NotFound), "{again:?}");
}

#[tokio::test]
async fn a_code_of_another_application_is_not_found_and_stays_valid() {
    let (services, _) = services_with(KICKSTART);
    let code = started(&services, WEB_APP, "jared").await.code;
    let elsewhere = login(&services, None, command(&code, Some(ADMIN_APP)))
        .await
        .unwrap();
    assert!(matches!(elsewhere, LoginOutcome::NotFound), "{elsewhere:?}");
    let here = login(&services, None, command(&code, Some(WEB_APP)))
        .await
        .unwrap();
    assert!(matches!(here, LoginOutcome::LoggedIn(_)), "{here:?}");
}

#[tokio::test]
async fn no_more_than_five_one_time_codes_are_compared_against_a_code() {
    let (services, codes) = services_with(KICKSTART);
    let started = started(&services, WEB_APP, "720-555-0147").await;
    let right = started.one_time_code.clone().unwrap();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..7 {
        let mut guess = command(&started.code, Some(WEB_APP));
        guess.one_time_code = Some(wrong.into());
        let outcome = login(&services, None, guess).await.unwrap();
        assert!(matches!(outcome, LoginOutcome::NotFound), "{outcome:?}");
    }
    let hash = codes::hash_secret(&started.code);
    assert_eq!(codes.attempts.lock().unwrap().get(&hash), Some(&5));
    let mut right_one = command(&started.code, Some(WEB_APP));
    right_one.one_time_code = Some(right);
    let outcome = login(&services, None, right_one).await.unwrap();
    assert!(
        matches!(outcome, LoginOutcome::NotFound),
        "spent: {outcome:?}"
    );
    assert_eq!(codes.pending(&hash).await.unwrap(), None);
}

#[tokio::test]
async fn each_user_state_has_its_outcome() {
    let (services, _) = services_with(KICKSTART);
    for (login_id, expected) in [
        ("bighead@hooli.com", "NotFound"),
        ("erlich@aviato.com", "Expired"),
        ("gavin@hooli.com", "Locked"),
        ("russ@threecommas.com", "Prevented"),
        ("monica@raviga.com", "PasswordChangeRequired"),
        ("gilfoyle", "TwoFactorRequired"),
    ] {
        let code = started(&services, WEB_APP, login_id).await.code;
        let outcome = login(&services, None, command(&code, Some(WEB_APP)))
            .await
            .unwrap();
        let name = format!("{outcome:?}");
        assert!(name.starts_with(expected), "{login_id}: {name}");
        if let LoginOutcome::Prevented(actions) = &outcome {
            assert_eq!(actions[0].reason_code.as_deref(), Some("chargeback"));
        }
    }
}

#[tokio::test]
async fn a_delivered_identity_is_verified_and_only_that_one() {
    let (services, codes) = services_with(KICKSTART);
    let started = started(&services, WEB_APP, "richard").await;
    let email = crate::login_id::IdentityKey {
        kind: crate::login_id::IdentityType::Email,
        value: "richard@piedpiper.com".into(),
    };
    codes
        .mark_delivered(&started.pending.code_hash, &email, None)
        .await
        .unwrap();
    let outcome = login(&services, None, command(&started.code, Some(WEB_APP)))
        .await
        .unwrap();
    let LoginOutcome::LoggedIn(logged_in) = outcome else {
        panic!("{outcome:?}")
    };
    let verified: Vec<_> = logged_in
        .user
        .identities
        .iter()
        .map(|i| (i.kind.as_str(), i.verified, i.verified_reason.clone()))
        .collect();
    assert_eq!(
        verified,
        [
            ("email", true, Some("Implicit".to_owned())),
            ("phoneNumber", false, Some("Disabled".to_owned())),
            ("username", false, Some("Unverifiable".to_owned())),
        ]
    );
    assert!(logged_in.user.verified);
}

#[tokio::test]
async fn an_unverified_identity_is_212_only_where_the_tenant_requires_verification() {
    let mut kickstart: serde_json::Value = serde_json::from_str(KICKSTART).unwrap();
    kickstart["tenants"][0]["emailConfiguration"]["verifyEmail"] = json!(true);
    kickstart["tenants"][0]["emailConfiguration"]["verificationStrategy"] = json!("FormField");
    let (services, codes) = services_with(&kickstart.to_string());
    let code = started(&services, WEB_APP, "richard").await.code;
    let outcome = login(&services, None, command(&code, Some(WEB_APP)))
        .await
        .unwrap();
    let LoginOutcome::LoggedIn(logged_in) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        logged_in.kind,
        LoggedInKind::IdentityUnverified(crate::login_id::IdentityType::Email)
    );
    let id = logged_in.verification.identity.clone().unwrap();
    assert_eq!(logged_in.verification.email.as_deref(), Some(id.as_str()));
    assert!(codes
        .challenges
        .lock()
        .unwrap()
        .contains_key(&codes::hash_secret(&id)));

    let (services, _) = services_with(KICKSTART);
    let code = started(&services, WEB_APP, "richard").await.code;
    let outcome = login(&services, None, command(&code, Some(WEB_APP)))
        .await
        .unwrap();
    assert!(
        matches!(&outcome, LoginOutcome::LoggedIn(l) if l.kind == LoggedInKind::Complete),
        "the tenant does not require verification: {outcome:?}"
    );
}

#[test]
fn a_logged_login_command_shows_no_code_one_time_code_or_trust_id() {
    let command = LoginCommand {
        code: "the-long-code-0123456789".into(),
        one_time_code: Some("424242".into()),
        trust_id: Some("trusted-device".into()),
        application_id: None,
        ip_address: Some("203.0.113.7".into()),
        meta_data: None,
        refresh_token: Default::default(),
        no_jwt: false,
    };
    let logged = format!("{command:?}");
    for secret in ["the-long-code-0123456789", "424242", "trusted-device"] {
        assert!(!logged.contains(secret), "{logged}");
    }
    assert!(logged.contains("203.0.113.7"));
}

/// The landing page's expectation of the code's user, as the click passes it.
fn expecting(started: &start::Started, user_id: Uuid) -> Option<ExpectedUser> {
    Some(ExpectedUser {
        tenant_id: started.pending.tenant_id,
        user_id,
    })
}

#[tokio::test]
async fn a_click_expecting_another_user_logs_in_the_codes_user_only() {
    let (services, _) = services_with(KICKSTART);
    let richards = started(&services, WEB_APP, "richard").await;
    let jared = started(&services, WEB_APP, "jared").await.pending.user_id;
    assert_ne!(richards.pending.user_id, jared);
    let outcome = login_for_authorization_code(
        &services,
        command(&richards.code, Some(WEB_APP)),
        expecting(&richards, jared),
    )
    .await
    .unwrap();
    let LoginOutcome::LoggedIn(logged_in) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(logged_in.user.id, richards.pending.user_id);
}

#[tokio::test]
async fn a_click_on_a_superseded_link_read_beside_its_use_is_not_found() {
    let (services, _) = services_with(KICKSTART);
    let first = started(&services, WEB_APP, "richard").await;
    let newer = started(&services, WEB_APP, "richard").await;
    let user = first.pending.user_id;
    let old = login_for_authorization_code(
        &services,
        command(&first.code, Some(WEB_APP)),
        expecting(&first, user),
    )
    .await
    .unwrap();
    assert!(matches!(old, LoginOutcome::NotFound), "{old:?}");
    let new = login_for_authorization_code(
        &services,
        command(&newer.code, Some(WEB_APP)),
        expecting(&newer, user),
    )
    .await
    .unwrap();
    let LoginOutcome::LoggedIn(logged_in) = new else {
        panic!("{new:?}")
    };
    assert_eq!(logged_in.user.id, user);
}
