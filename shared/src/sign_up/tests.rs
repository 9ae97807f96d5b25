//! Sign-up over the in-memory ports, with a fake user store over the memory directory. The same
//! behaviour through the hosted pages' handlers against DynamoDB is the integration tests'
//! (tests/tests/api/sign_up.rs).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::*;
use crate::login::{self, LoggedInKind, LoginCommand, LoginOutcome, LoginServices};
use crate::memory::{self, MemoryDirectory, Outbox, SameByteRandom};
use crate::model::Application;
use crate::oauth2::hosted::PENDING_LOGIN_KEY;
use crate::send::{self, SendServices, SignUpOffer};
use crate::start::StartCommand;
use crate::system::OsRandom;

const KICKSTART: &str = include_str!("../../../tests/fixtures/kickstart.example.json");
const WEB_APP: &str = "10000000-0000-0002-0000-000000000001";
const NEW_ADDRESS: &str = "Dinesh@PiedPiper.com";

/// The reference kickstart with the web app open to sign-ups (`registration`), its `user` role
/// a default one.
fn kickstart(registration: Value) -> crate::kickstart::Kickstart {
    let mut file: Value = serde_json::from_str(KICKSTART).unwrap();
    let app = file["applications"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["id"] == WEB_APP)
        .unwrap();
    app["registrationConfiguration"] = registration;
    app["roles"] = json!([{"name": "user", "isDefault": true}, {"name": "admin"}]);
    crate::kickstart::parse(&file.to_string()).unwrap()
}

fn open() -> Value {
    json!({"enabled": true})
}

/// What `create` did, and what it answers next.
#[derive(Default)]
struct FakeUsers {
    directory: Arc<MemoryDirectory>,
    created: Mutex<Vec<User>>,
    /// Answered (once each) instead of looking, first to last.
    scripted: Mutex<Vec<UserWrite>>,
}

#[async_trait]
impl UserStore for FakeUsers {
    async fn create(&self, user: &User) -> Result<UserWrite, StoreError> {
        if let Some(answer) = self.scripted.lock().unwrap().pop() {
            return Ok(answer);
        }
        let taken: Vec<IdentityType> = user
            .identities
            .iter()
            .filter(|i| {
                let key = IdentityKey {
                    kind: i.kind,
                    value: i.value.clone(),
                };
                self.directory
                    .identities
                    .lock()
                    .unwrap()
                    .contains_key(&(user.tenant_id, key))
            })
            .map(|i| i.kind)
            .collect();
        if !taken.is_empty() {
            return Ok(UserWrite::Taken(taken));
        }
        if self.directory.users.lock().unwrap().contains_key(&user.id) {
            return Ok(UserWrite::Conflict);
        }
        self.directory.add_user(user.clone());
        self.created.lock().unwrap().push(user.clone());
        Ok(UserWrite::Written)
    }
    async fn replace(&self, _: &User, _: &User) -> Result<UserWrite, StoreError> {
        unreachable!("a sign-up only creates")
    }
    async fn delete(&self, _: &User) -> Result<UserWrite, StoreError> {
        unreachable!("a sign-up only creates")
    }
    async fn import(&self, _: &[User]) -> Result<Vec<UserWrite>, StoreError> {
        unreachable!("a sign-up only creates")
    }
}

struct World {
    send: SendServices,
    login: LoginServices,
    directory: Arc<MemoryDirectory>,
    users: Arc<FakeUsers>,
    outbox: Arc<Outbox>,
    application: Application,
}

fn world(registration: Value) -> World {
    let kickstart = kickstart(registration);
    let mut services = memory::services(kickstart.clone());
    // Linked as the services' own: a link's login reads its code's pointer beside the user.
    let directory = Arc::new(MemoryDirectory::from_kickstart(kickstart).linked(
        services.codes.clone(),
        Arc::new(crate::memory::MemorySuppressions::default()),
    ));
    services.send.directory = directory.clone();
    services.login.directory = directory.clone();
    let users = Arc::new(FakeUsers {
        directory: directory.clone(),
        ..FakeUsers::default()
    });
    services.login.users = Some(users.clone());
    let application = directory.applications.lock().unwrap()[&WEB_APP.parse().unwrap()].clone();
    World {
        send: services.send,
        login: services.login,
        directory,
        users,
        outbox: services.outbox,
        application,
    }
}

/// The hosted login id page's start and send for `login_id`, offering a sign-up as it does.
async fn begin(world: &World, login_id: &str) -> Option<send::Delivery> {
    let tenant = world
        .directory
        .tenants
        .lock()
        .unwrap()
        .get(&world.application.tenant_id)
        .cloned()
        .unwrap();
    let offer = offer(&world.application, login_id, &["fr".to_owned()], &OsRandom).map(|user| {
        SignUpOffer {
            tenant,
            application: world.application.clone(),
            user,
        }
    });
    let mut state = Map::new();
    state.insert(PENDING_LOGIN_KEY.into(), json!("the-pending-login"));
    let command = StartCommand {
        application_id: world.application.id,
        login_id: login_id.into(),
        login_id_types: crate::login_id::LoginIdTypes::parse(["email", "phoneNumber", "username"])
            .unwrap(),
        login_strategy: Some(crate::model::LoginStrategy::ClickableLink),
        state: Some(state),
    };
    send::start_and_send(&world.send, command, offer)
        .await
        .unwrap()
}

/// The link's code and the one-time code of the last email.
fn last_email(world: &World) -> (crate::ports::Email, String, String) {
    let email = world.outbox.emails.lock().unwrap().last().cloned().unwrap();
    let code: String = email
        .text
        .split("/oauth2/passwordless/")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let one_time_code: String = email
        .text
        .split("signed up: ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (email, code, one_time_code)
}

fn click(code: &str) -> LoginCommand {
    LoginCommand {
        code: code.into(),
        application_id: Some(WEB_APP.parse().unwrap()),
        ..LoginCommand::default()
    }
}

fn user_by_email(world: &World, email: &str) -> Option<User> {
    world
        .directory
        .users
        .lock()
        .unwrap()
        .values()
        .find(|u| u.email.as_deref() == Some(email))
        .cloned()
}

#[test]
fn an_application_open_to_sign_ups_offers_a_user_with_its_default_roles() {
    let world = world(open());
    let user = offer(
        &world.application,
        " Dinesh@PiedPiper.com ",
        &[],
        &SameByteRandom(7),
    )
    .expect("an offer");
    assert_eq!(user.email.as_deref(), Some("dinesh@piedpiper.com"));
    assert_eq!(user.tenant_id, world.application.tenant_id);
    assert_eq!(user.registrations.len(), 1);
    assert_eq!(user.registrations[0].application_id, world.application.id);
    assert_eq!(user.registrations[0].roles, ["user"]);
    assert_eq!(user.identities.len(), 1);
    assert!(
        !user.identities[0].verified,
        "nothing is verified before the code is used"
    );
    assert!(
        offer(&world.application, "dinesh", &[], &OsRandom).is_none(),
        "not an address"
    );
}

#[test]
fn no_offer_where_registration_is_off_the_domain_is_not_allowed_or_the_login_id_type_is_not_email()
{
    let closed = world(json!({"enabled": false}));
    assert!(offer(&closed.application, NEW_ADDRESS, &[], &OsRandom).is_none());
    let domains = world(json!({"enabled": true, "allowedEmailDomains": ["PiedPiper.com"]}));
    assert!(offer(&domains.application, NEW_ADDRESS, &[], &OsRandom).is_some());
    assert!(offer(&domains.application, "dinesh@hooli.com", &[], &OsRandom).is_none());
    assert!(offer(
        &domains.application,
        "dinesh@sub.piedpiper.com",
        &[],
        &OsRandom
    )
    .is_none());
    let phone = world(json!({"enabled": true, "loginIdType": "phoneNumber"}));
    assert!(offer(&phone.application, NEW_ADDRESS, &[], &OsRandom).is_none());
}

#[tokio::test]
async fn an_unknown_address_gets_a_sign_up_email_and_no_user_until_its_link_is_used() {
    let world = world(open());
    let delivery = begin(&world, NEW_ADDRESS)
        .await
        .expect("a sign-up email went out");
    let (email, code, _) = last_email(&world);
    assert_eq!(email.to, "dinesh@piedpiper.com");
    assert!(
        email.subject.starts_with("Finish signing up"),
        "{}",
        email.subject
    );
    assert!(email.text.contains("Finish signing up"), "{}", email.text);
    assert_eq!(delivery.code_hash, crate::codes::hash_secret(&code));
    assert!(
        user_by_email(&world, "dinesh@piedpiper.com").is_none(),
        "created before use"
    );

    // The login API never completes a hosted code: nobody is created there.
    let api = login::login(&world.login, None, click(&code))
        .await
        .unwrap();
    assert!(matches!(api, LoginOutcome::NotFound), "{api:?}");
    assert!(user_by_email(&world, "dinesh@piedpiper.com").is_none());
}

#[tokio::test]
async fn the_sign_up_link_creates_the_user_registered_and_verified_and_logs_them_in() {
    let world = world(open());
    begin(&world, NEW_ADDRESS).await.unwrap();
    let (_, code, _) = last_email(&world);
    let outcome = login::login_for_authorization_code(&world.login, click(&code), None)
        .await
        .unwrap();
    let LoginOutcome::LoggedIn(logged_in) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(logged_in.kind, LoggedInKind::Complete);
    let user = user_by_email(&world, "dinesh@piedpiper.com").expect("the user");
    assert_eq!(logged_in.user.id, user.id);
    assert!(user.active && user.verified);
    assert!(user.insert_instant.is_some());
    assert_eq!(user.preferred_languages, ["fr"]);
    let identity = &user.identities[0];
    assert!(identity.verified);
    assert_eq!(identity.verified_reason.as_deref(), Some("Implicit"));
    assert_eq!(user.registrations.len(), 1);
    assert_eq!(user.registrations[0].roles, ["user"]);
    assert!(user.registrations[0].verified);
    assert_eq!(world.users.created.lock().unwrap().len(), 1);
    // The code is used up: a second click creates nobody more.
    let again = login::login_for_authorization_code(&world.login, click(&code), None)
        .await
        .unwrap();
    assert!(matches!(again, LoginOutcome::NotFound), "{again:?}");
    assert_eq!(world.users.created.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_typed_one_time_code_of_a_sign_up_creates_the_user_too() {
    let world = world(open());
    let delivery = begin(&world, NEW_ADDRESS).await.unwrap();
    let (_, _, one_time_code) = last_email(&world);
    assert!(!one_time_code.is_empty());
    let outcome = login::login_with_fallback(
        &world.login,
        &delivery.code_hash,
        &delivery.address_hash,
        &one_time_code,
        LoginCommand {
            application_id: Some(WEB_APP.parse().unwrap()),
            ..LoginCommand::default()
        },
    )
    .await
    .unwrap();
    assert!(matches!(outcome, LoginOutcome::LoggedIn(_)), "{outcome:?}");
    assert!(user_by_email(&world, "dinesh@piedpiper.com").is_some());
}

#[tokio::test]
async fn a_sign_up_whose_address_was_taken_meanwhile_logs_in_as_that_user() {
    let world = world(open());
    begin(&world, NEW_ADDRESS).await.unwrap();
    let (_, code, _) = last_email(&world);
    // Someone (the User API, another sign-up) creates the address before the link is used.
    let mut earlier: User = serde_json::from_value(json!({
        "id": "0a000000-0000-4001-8000-0000000000aa",
        "tenantId": world.application.tenant_id,
        "email": "dinesh@piedpiper.com",
    }))
    .unwrap();
    earlier.derive_identities(None).unwrap();
    world.directory.add_user(earlier.clone());
    let outcome = login::login_for_authorization_code(&world.login, click(&code), None)
        .await
        .unwrap();
    let LoginOutcome::LoggedIn(logged_in) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(logged_in.user.id, earlier.id);
    assert!(world.users.created.lock().unwrap().is_empty());
    // ... and, the application being open, registered by the login.
    assert_eq!(logged_in.user.registrations.len(), 1);
    assert_eq!(logged_in.user.registrations[0].roles, ["user"]);
}

#[tokio::test]
async fn a_retried_create_that_finds_its_own_user_goes_on_as_that_user() {
    let world = world(open());
    begin(&world, NEW_ADDRESS).await.unwrap();
    let (_, code, _) = last_email(&world);
    let pending = world
        .send
        .codes
        .pending(&crate::codes::hash_secret(&code))
        .await
        .unwrap()
        .unwrap();
    let mut own = pending.user.clone().unwrap();
    own.verified = true;
    world.directory.add_user(own);
    world
        .users
        .scripted
        .lock()
        .unwrap()
        .push(UserWrite::Conflict);
    let outcome = login::login_for_authorization_code(&world.login, click(&code), None)
        .await
        .unwrap();
    let LoginOutcome::LoggedIn(logged_in) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(logged_in.user.id, pending.user_id);
}

#[tokio::test]
async fn nothing_is_sent_or_created_where_registration_is_off_or_the_domain_is_not_allowed() {
    for registration in [
        json!({"enabled": false}),
        json!({"enabled": true, "allowedEmailDomains": ["hooli.com"]}),
    ] {
        let world = world(registration);
        assert!(begin(&world, NEW_ADDRESS).await.is_none());
        assert!(world.outbox.emails.lock().unwrap().is_empty());
        assert!(user_by_email(&world, "dinesh@piedpiper.com").is_none());
    }
}

#[tokio::test]
async fn a_known_address_gets_the_login_email_not_a_sign_up() {
    let world = world(open());
    begin(&world, "richard@piedpiper.com").await.unwrap();
    let (email, _, _) = {
        let email = world.outbox.emails.lock().unwrap().last().cloned().unwrap();
        (email, (), ())
    };
    assert!(email.subject.starts_with("Log in to"), "{}", email.subject);
    assert!(world.users.created.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_hosted_login_registers_a_tenant_user_without_a_registration_where_registration_is_open()
{
    for (registration, registered) in [
        (open(), true),
        (json!({"enabled": false}), false),
        (
            json!({"enabled": true, "allowedEmailDomains": ["piedpiper.com"]}),
            false,
        ),
    ] {
        let world = world(registration.clone());
        // Laurie is a user of the tenant without a registration for the web app.
        begin(&world, "laurie@raviga.com").await.unwrap();
        let email = world.outbox.emails.lock().unwrap().last().cloned().unwrap();
        let code: String = email
            .text
            .split("/oauth2/passwordless/")
            .nth(1)
            .unwrap()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let outcome = login::login_for_authorization_code(&world.login, click(&code), None)
            .await
            .unwrap();
        let LoginOutcome::LoggedIn(logged_in) = outcome else {
            panic!("{outcome:?}")
        };
        let expected = if registered {
            LoggedInKind::Complete
        } else {
            LoggedInKind::NotRegistered
        };
        assert_eq!(logged_in.kind, expected, "{registration}");
        let roles: Vec<Vec<String>> = logged_in
            .user
            .registrations
            .iter()
            .map(|r| r.roles.clone())
            .collect();
        assert_eq!(roles.len(), usize::from(registered), "{registration}");
        if registered {
            assert_eq!(roles[0], ["user"]);
        }
    }
}

#[test]
fn register_adds_one_registration_once() {
    let world = world(open());
    let mut user: User = serde_json::from_value(json!({
        "id": "0a000000-0000-4001-8000-0000000000ab",
        "tenantId": world.application.tenant_id,
        "email": "x@y.example",
    }))
    .unwrap();
    assert!(register(&mut user, &world.application, &OsRandom));
    assert!(!register(&mut user, &world.application, &OsRandom));
    assert_eq!(user.registrations.len(), 1);
}
