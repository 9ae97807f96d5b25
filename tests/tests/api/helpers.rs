//! `TestApp::spawn()`: fresh tables on the local AWS endpoint, loaded from a kickstart file, and
//! the real adapters wired as a function's `main` wires them, each function with its own IAM role:
//! the one template.yaml gives it, for these tables (scripts/local_iam.py). The tables are set up
//! and read back with the harness's admin credentials (the environment's), as an operator would.

use std::sync::Arc;

use api_gateway_events::Event;
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Response};
use passwordless::aws::dynamo::{DynamoStore, Tables};
use passwordless::aws::{lambda_sdk_config, provision, ses};
use passwordless::keys::KeyServices;
use passwordless::kickstart;
use passwordless::login::LoginServices;
use passwordless::metrics::{Recorder, Sink};
use passwordless::oauth2::hosted::HostedServices;
use passwordless::oauth2::landing::LandingServices;
use passwordless::oauth2::logout::LogoutServices;
use passwordless::oauth2::token::TokenServices;
use passwordless::refresh::RefreshServices;
use passwordless::send::SendServices;
use passwordless::start::StartServices;
use passwordless::suppression::{self, SuppressionServices};
use passwordless::system::Clock;
use passwordless::users::import::ImportServices;
use passwordless::users::registration::RegistrationServices;
use passwordless::users::UserServices;
use serde_json::{json, Value};
use uuid::Uuid;

mod wired;
pub use wired::Wired;

pub const EXAMPLE_KICKSTART: &str = include_str!("../../fixtures/kickstart.example.json");
/// Three tenants, Hooli, Raviga and Bachmanity, each mailing from its own domain.
pub const THREE_SENDERS_KICKSTART: &str =
    include_str!("../../fixtures/kickstart.three-senders.json");
pub const DEMO_KICKSTART: &str = include_str!("../../../kickstart/demo.json");

pub const GLOBAL_KEY: &str = "local-dev-api-key-change-me-0123456789abcdef";
pub const LOCKED_KEY: &str = "tenant-locked-key-0123456789abcdef";
/// Permitted only `GET /api/user`.
pub const USER_READER_KEY: &str = "user-api-reader-key-0123456789abcdef";
/// Locked to the Pied Piper tenant, permitted the User API.
pub const PIED_PIPER_USERS_KEY: &str = "pied-piper-users-key-0123456789abcdef";
pub const TENANT: &str = "f24aca2b-ce4a-4dad-951a-c9d690e71415";
pub const WEB_APP: &str = "10000000-0000-0002-0000-000000000001";
pub const NO_PASSWORDLESS_APP: &str = "10000000-0000-0002-0000-000000000003";

/// One function as its `main` builds it: its role's SDK configuration and its services.
pub struct Function<S> {
    pub sdk: aws_config::SdkConfig,
    pub services: S,
}

impl<S: Wired> Function<S> {
    fn new(sdk: aws_config::SdkConfig, wiring: &Wiring) -> Self {
        let services = S::wired(&sdk, wiring);
        Self { sdk, services }
    }

    /// The same function over another SDK configuration (a faulty HTTP client, say).
    pub fn rewire(&mut self, sdk: aws_config::SdkConfig, wiring: &Wiring) {
        *self = Self::new(sdk, wiring);
    }
}

/// What the functions are wired to besides their credentials: the tables, and the SES
/// configuration set (one per `TestApp`, as the stack has one).
#[derive(Clone, Debug)]
pub struct Wiring {
    pub tables: Tables,
    pub configuration_set: String,
}

pub struct TestApp {
    /// The handlers' functions, each with its own role's credentials.
    pub start_fn: Function<StartServices>,
    pub send_fn: Function<SendServices>,
    pub login_fn: Function<LoginServices>,
    pub suppress_fn: Function<SuppressionServices>,
    pub refresh_fn: Function<RefreshServices>,
    pub revoke_fn: Function<RefreshServices>,
    pub jwks_fn: Function<KeyServices>,
    pub public_key_fn: Function<KeyServices>,
    pub discovery_fn: Function<KeyServices>,
    pub validate_fn: Function<KeyServices>,
    pub landing_fn: Function<LandingServices>,
    pub token_fn: Function<TokenServices>,
    pub userinfo_fn: Function<KeyServices>,
    /// `/oauth2/authorize` and its waiting page (the waiting page runs on the landing page's
    /// services, with its own role).
    pub authorize_fn: Function<HostedServices>,
    pub authorize_wait_fn: Function<LandingServices>,
    pub logout_fn: Function<LogoutServices>,
    pub api_logout_fn: Function<LogoutServices>,
    /// The Registration API and the import, each with its own role.
    pub registration_fn: Function<RegistrationServices>,
    pub import_fn: Function<ImportServices>,
    /// The User API.
    pub user_fn: Function<UserServices>,
    /// The landing page's template, built once as its `main` builds it.
    pub pages: passwordless::http::pages::Pages,
    /// The tables, with the harness's admin credentials.
    pub store: DynamoStore,
    pub wiring: Wiring,
}

/// The login function's logical id in template.yaml, as `local_iam.py --without` names it.
pub const LOGIN_FUNCTION: &str = "LoginFunction";

/// The local AWS endpoint. The integration tests need it: without it they fail, they never skip.
fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!(
            "AWS_ENDPOINT_URL is not set: the integration tests run against moto. \
             Run them with `make test`, which starts it."
        )
    })
}

impl TestApp {
    /// Fresh, uniquely named tables loaded with FusionAuth's reference kickstart example.
    pub async fn spawn() -> Self {
        Self::spawn_with(EXAMPLE_KICKSTART).await
    }

    pub async fn spawn_with(kickstart_json: &str) -> Self {
        Self::spawn_with_policies(kickstart_json, None, &[]).await
    }

    /// `TestApp::spawn_with(kickstart_json)` whose stack is given the SES identities `identities`
    /// (template.yaml's `SenderIdentities`) instead of every sender domain of the file; SES has
    /// every sender domain all the same.
    pub async fn spawn_with_identities(kickstart_json: &str, identities: &[&str]) -> Self {
        Self::spawn_with_policies(kickstart_json, Some(identities), &[]).await
    }

    /// `TestApp::spawn()` whose functions' roles lack the given actions
    /// (`(LOGIN_FUNCTION, "dynamodb:BatchGetItem")`): what a template that forgot them deploys.
    pub async fn spawn_without(missing: &[(&str, &str)]) -> Self {
        Self::spawn_with_policies(EXAMPLE_KICKSTART, None, missing).await
    }

    async fn spawn_with_policies(
        kickstart_json: &str,
        identities: Option<&[&str]>,
        missing: &[(&str, &str)],
    ) -> Self {
        endpoint();
        let run = Uuid::new_v4().simple().to_string();
        let admin = lambda_sdk_config().expect("the test environment names region and credentials");
        let tables = Tables {
            directory: format!("directory-{run}"),
            codes: format!("codes-{run}"),
        };
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&admin), tables.clone());
        store.create_tables().await.expect("tables are created");
        let parsed = kickstart::parse(kickstart_json).expect("the kickstart is valid");
        provision::load(&store, &parsed)
            .await
            .expect("the kickstart loads");
        // Every sender domain is an SES domain identity (README, Email), which every address at
        // it may send from; the stack sends as each of them unless told otherwise.
        let sender_domains = match parsed.sender_domains() {
            domains if domains.is_empty() => vec!["sender.invalid".to_owned()],
            domains => domains,
        };
        ses::register_identities(&aws_sdk_sesv2::Client::new(&admin), &sender_domains)
            .await
            .expect("the sender identities are registered");
        let sender_identities = match identities {
            Some(listed) => listed.join(","),
            None => sender_domains.join(","),
        };
        // The stack's configuration set (template.yaml's SesConfigurationSet), one per app.
        let configuration_set = format!("cs-{run}");
        aws_sdk_sesv2::Client::new(&admin)
            .create_configuration_set()
            .configuration_set_name(&configuration_set)
            .send()
            .await
            .expect("the configuration set is created");
        let wiring = Wiring {
            tables: tables.clone(),
            configuration_set,
        };
        let mut roles = function_roles(&run, &wiring, &sender_identities, missing);
        let mut role = |binary: &str| {
            let credentials = roles
                .remove(binary)
                .unwrap_or_else(|| panic!("local_iam.py made no role for {binary}"));
            role_sdk(&admin, credentials)
        };
        Self {
            start_fn: Function::new(role("start"), &wiring),
            send_fn: Function::new(role("send"), &wiring),
            login_fn: Function::new(role("login"), &wiring),
            suppress_fn: Function::new(role("suppress"), &wiring),
            refresh_fn: Function::new(role("refresh"), &wiring),
            revoke_fn: Function::new(role("revoke"), &wiring),
            jwks_fn: Function::new(role("jwks"), &wiring),
            public_key_fn: Function::new(role("public-key"), &wiring),
            discovery_fn: Function::new(role("openid-configuration"), &wiring),
            validate_fn: Function::new(role("validate"), &wiring),
            landing_fn: Function::new(role("landing"), &wiring),
            token_fn: Function::new(role("token"), &wiring),
            userinfo_fn: Function::new(role("userinfo"), &wiring),
            authorize_fn: Function::new(role("authorize"), &wiring),
            authorize_wait_fn: Function::new(role("authorize-wait"), &wiring),
            logout_fn: Function::new(role("logout"), &wiring),
            api_logout_fn: Function::new(role("api-logout"), &wiring),
            registration_fn: Function::new(role("registration"), &wiring),
            import_fn: Function::new(role("user-import"), &wiring),
            user_fn: Function::new(role("user"), &wiring),
            pages: passwordless::http::pages::Pages::new(),
            store,
            wiring,
        }
    }

    /// Every function reads `clock`.
    pub fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.start_fn.services.clock = clock.clone();
        self.send_fn.services.clock = clock.clone();
        self.suppress_fn.services.clock = clock.clone();
        self.login_fn.services.clock = clock.clone();
        self.refresh_fn.services.clock = clock.clone();
        self.revoke_fn.services.clock = clock.clone();
        self.validate_fn.services.clock = clock.clone();
        self.userinfo_fn.services.clock = clock.clone();
        self.landing_fn.services.login.clock = clock.clone();
        self.token_fn.services.clock = clock.clone();
        self.token_fn.services.refresh.clock = clock.clone();
        self.authorize_fn.services.send.clock = clock.clone();
        self.authorize_fn.services.landing.login.clock = clock.clone();
        self.authorize_wait_fn.services.login.clock = clock.clone();
        self.logout_fn.services.clock = clock.clone();
        self.registration_fn.services.clock = clock.clone();
        self.import_fn.services.clock = clock.clone();
        self.api_logout_fn.services.clock = clock.clone();
        self.user_fn.services.clock = clock;
    }

    /// Every function over the SDK configuration `change` makes of its own.
    pub fn rewire(&mut self, change: impl Fn(&aws_config::SdkConfig) -> aws_config::SdkConfig) {
        let wiring = self.wiring.clone();
        let start = change(&self.start_fn.sdk);
        self.start_fn.rewire(start, &wiring);
        let send = change(&self.send_fn.sdk);
        self.send_fn.rewire(send, &wiring);
        let login = change(&self.login_fn.sdk);
        self.login_fn.rewire(login, &wiring);
        let suppress = change(&self.suppress_fn.sdk);
        self.suppress_fn.rewire(suppress, &wiring);
        let refresh = change(&self.refresh_fn.sdk);
        self.refresh_fn.rewire(refresh, &wiring);
        let revoke = change(&self.revoke_fn.sdk);
        self.revoke_fn.rewire(revoke, &wiring);
        let landing = change(&self.landing_fn.sdk);
        self.landing_fn.rewire(landing, &wiring);
        let token = change(&self.token_fn.sdk);
        self.token_fn.rewire(token, &wiring);
        let logout = change(&self.logout_fn.sdk);
        self.logout_fn.rewire(logout, &wiring);
        let api_logout = change(&self.api_logout_fn.sdk);
        self.api_logout_fn.rewire(api_logout, &wiring);
        let authorize = change(&self.authorize_fn.sdk);
        self.authorize_fn.rewire(authorize, &wiring);
        let wait = change(&self.authorize_wait_fn.sdk);
        self.authorize_wait_fn.rewire(wait, &wiring);
        let user = change(&self.user_fn.sdk);
        self.user_fn.rewire(user, &wiring);
    }

    /// An event through the User API's handler.
    pub async fn user_event(&self, event: Value) -> TestResponse {
        recorded("user", |_| {
            passwordless::http::users::handle(&self.user_fn.services, request(event))
        })
        .await
    }

    /// An event through the registration function's handler.
    pub async fn registration_event(&self, event: Event) -> TestResponse {
        recorded("registration", |_| {
            passwordless::http::registration::handle(
                &self.registration_fn.services,
                request(event.into()),
            )
        })
        .await
    }

    /// `{method} {path}` of the Registration API with `body` (none when `Null`) and the global
    /// key.
    pub async fn registration(&self, method: &str, path: &str, body: Value) -> TestResponse {
        let mut event = Event::new(method, path).header("authorization", GLOBAL_KEY);
        if !body.is_null() {
            event = event.json_body(&body);
        }
        self.registration_event(event).await
    }

    /// An event through the user-import function's handler.
    pub async fn import_event(&self, event: Event) -> TestResponse {
        recorded("user-import", |_| {
            passwordless::http::user_import::handle(&self.import_fn.services, request(event.into()))
        })
        .await
    }

    /// `POST /api/user/import` with `body` and the global key.
    pub async fn import(&self, body: Value) -> TestResponse {
        self.import_event(
            Event::post("/api/user/import")
                .header("authorization", GLOBAL_KEY)
                .json_body(&body),
        )
        .await
    }

    /// An event through the authorize function's handler.
    pub async fn authorize_event(&self, event: Value) -> TestResponse {
        recorded("authorize", |_| {
            passwordless::http::authorize::handle(
                &self.authorize_fn.services,
                &self.pages,
                request(event),
            )
        })
        .await
    }

    /// An event through the authorize-wait function's handler.
    pub async fn authorize_wait_event(&self, event: Value) -> TestResponse {
        recorded("authorize-wait", |_| {
            passwordless::http::authorize_wait::handle(
                &self.authorize_wait_fn.services,
                &self.pages,
                request(event),
            )
        })
        .await
    }

    /// An event through the landing function's handler.
    pub async fn landing_event(&self, event: Value) -> TestResponse {
        recorded("landing", |_| {
            passwordless::http::landing::handle(
                &self.landing_fn.services,
                &self.pages,
                request(event),
            )
        })
        .await
    }

    /// An event through the logout function's handler.
    pub async fn logout_event(&self, event: Value) -> TestResponse {
        recorded("logout", |_| {
            passwordless::http::logout::handle(
                &self.logout_fn.services,
                &self.pages,
                request(event),
            )
        })
        .await
    }

    /// An event through the api-logout function's handler.
    pub async fn api_logout_event(&self, event: Value) -> TestResponse {
        recorded("api-logout", |_| {
            passwordless::http::api_logout::handle(&self.api_logout_fn.services, request(event))
        })
        .await
    }

    /// An event through the token function's handler.
    pub async fn token_event(&self, event: Value) -> TestResponse {
        recorded("token", |_| {
            passwordless::http::token::handle(&self.token_fn.services, request(event))
        })
        .await
    }

    /// An event through the userinfo function's handler.
    pub async fn userinfo_event(&self, event: Value) -> TestResponse {
        recorded("userinfo", |_| {
            passwordless::http::userinfo::handle(&self.userinfo_fn.services, request(event))
        })
        .await
    }

    /// `POST /api/jwt/refresh` with `body`.
    pub async fn refresh(&self, body: Value) -> TestResponse {
        self.refresh_event(event("/api/jwt/refresh", &[], &body.to_string()))
            .await
    }

    pub async fn refresh_event(&self, event: Value) -> TestResponse {
        recorded("refresh", |_| {
            passwordless::http::refresh::handle(&self.refresh_fn.services, request(event))
        })
        .await
    }

    /// An event through the revoke function's handler.
    pub async fn revoke_event(&self, event: Value) -> TestResponse {
        recorded("revoke", |_| {
            passwordless::http::revoke::handle(&self.revoke_fn.services, request(event))
        })
        .await
    }

    /// `DELETE /api/jwt/refresh{path}?{query}` with the API key `api_key`.
    pub async fn revoke(&self, api_key: Option<&str>, path: &str, query: &str) -> TestResponse {
        let mut event = Event::delete(&format!("/api/jwt/refresh{path}")).query(query);
        if let Some(key) = api_key {
            event = event.header("authorization", key);
        }
        recorded("revoke", |_| {
            passwordless::http::revoke::handle(&self.revoke_fn.services, request(event.into()))
        })
        .await
    }

    pub async fn jwks(&self) -> TestResponse {
        recorded("jwks", |_| {
            passwordless::http::keys::json_web_key_set(&self.jwks_fn.services)
        })
        .await
    }

    /// `GET /api/jwt/public-key?{query}`.
    pub async fn public_key(&self, query: &str) -> TestResponse {
        let event = Event::get("/api/jwt/public-key").query(query);
        recorded("public-key", |_| {
            passwordless::http::keys::public_key(
                &self.public_key_fn.services,
                request(event.into()),
            )
        })
        .await
    }

    /// `GET {path}?{query}`: the discovery document.
    pub async fn discovery(&self, path: &str, query: &str) -> TestResponse {
        let event = Event::get(path).query(query);
        recorded("openid-configuration", |_| {
            passwordless::http::discovery::handle(
                &self.discovery_fn.services,
                request(event.into()),
            )
        })
        .await
    }

    /// `GET /api/jwt/validate` with `Authorization: {authorization}`.
    pub async fn validate(&self, authorization: &str) -> TestResponse {
        let event = Event::get("/api/jwt/validate").header("authorization", authorization);
        recorded("validate", |_| {
            passwordless::http::validate::handle(&self.validate_fn.services, request(event.into()))
        })
        .await
    }

    pub async fn start(&self, event: Value) -> TestResponse {
        let request = lambda_http::request::from_str(&event.to_string())
            .expect("the event is an API Gateway event");
        recorded("start", |_| {
            passwordless::http::start::handle(&self.start_fn.services, request)
        })
        .await
    }

    /// Loads another kickstart into this app's tables.
    pub async fn reload(&mut self, kickstart_json: &str) {
        let parsed = kickstart::parse(kickstart_json).expect("the kickstart is valid");
        provision::load(&self.store, &parsed)
            .await
            .expect("the kickstart loads");
    }

    /// Registers an SES identity (an address or a domain), with the admin credentials.
    pub async fn register_sender(&self, identity: &str) {
        let sdk = lambda_sdk_config().expect("the test environment names region and credentials");
        ses::register_identities(&aws_sdk_sesv2::Client::new(&sdk), &[identity.to_owned()])
            .await
            .expect("the identity is registered");
    }

    /// Deletes an SES identity, as an operator whose identity lapsed would find it.
    pub async fn deregister_sender(&self, identity: &str) {
        let sdk = lambda_sdk_config().expect("the test environment names region and credentials");
        aws_sdk_sesv2::Client::new(&sdk)
            .delete_email_identity()
            .email_identity(identity)
            .send()
            .await
            .expect("the identity is deleted");
    }

    pub async fn send(&self, body: Value) -> TestResponse {
        self.send_event(event("/api/passwordless/send", &[], &body.to_string()))
            .await
    }

    pub async fn send_event(&self, event: Value) -> TestResponse {
        let request = lambda_http::request::from_str(&event.to_string())
            .expect("the event is an API Gateway event");
        recorded("send", |_| {
            passwordless::http::send::handle(&self.send_fn.services, request)
        })
        .await
    }

    pub async fn login(&self, body: Value) -> TestResponse {
        self.login_event(event("/api/passwordless/login", &[], &body.to_string()))
            .await
    }

    pub async fn login_event(&self, event: Value) -> TestResponse {
        let request = lambda_http::request::from_str(&event.to_string())
            .expect("the event is an API Gateway event");
        recorded("login", |_| {
            passwordless::http::login::handle(&self.login_fn.services, request)
        })
        .await
    }

    /// Invokes the suppress function with an SNS event, as the feedback topic would; returns
    /// what it recorded (an `Err` is what Lambda would retry) and its EMF lines.
    pub async fn suppress(
        &self,
        event: Value,
    ) -> (
        Result<suppression::Recorded, passwordless::ports::StoreError>,
        Vec<Value>,
    ) {
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorder = Recorder::new(NAMESPACE, "suppress", Sink::Lines(lines.clone()));
        let recorded = recorder
            .record(suppression::handle_sns_event(
                &self.suppress_fn.services,
                &event,
            ))
            .await;
        (recorded, parsed_lines(&lines))
    }

    /// Starts a login with the global key and returns the start response's JSON.
    pub async fn start_code(&self, body: Value) -> Value {
        let response = self.start(start_event(Some(GLOBAL_KEY), body)).await;
        assert_eq!(response.status, 200, "{}", response.body);
        response.json()
    }

    /// Starts and completes a login of `login_id` to `application`: the login response (200, or
    /// 213 where the registration is unverified).
    pub async fn log_in(&self, login_id: &str, application: &str) -> Value {
        let code = self
            .start_code(json!({"applicationId": application, "loginId": login_id}))
            .await["code"]
            .as_str()
            .expect("start gave a code")
            .to_owned();
        let login = self
            .login(json!({"code": code, "applicationId": application}))
            .await;
        assert!(
            [200, 213].contains(&login.status),
            "{}: {}",
            login.status,
            login.body
        );
        login.json()
    }

    /// The Codes table's refresh token families.
    pub async fn refresh_token_items(
        &self,
    ) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        self.code_items()
            .await
            .into_iter()
            .filter(|i| {
                i["pk"]
                    .as_s()
                    .is_ok_and(|pk| pk.starts_with("REFRESHTOKEN#"))
            })
            .collect()
    }

    /// Every item of the Codes table: what a start wrote.
    pub async fn code_items(&self) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        self.store
            .client()
            .scan()
            .table_name(&self.store.tables().codes)
            .send()
            .await
            .expect("scan works")
            .items
            .unwrap_or_default()
    }

    /// What the item of `code` records as delivered: the identities (`deliveredTo`, sorted) and
    /// whether the fallback's hash is set.
    pub async fn delivery_record(&self, code: &str) -> (Vec<String>, bool) {
        let pk = format!("CODE#{}", passwordless::codes::hash_secret(code));
        let items = self.code_items().await;
        let item = items
            .iter()
            .find(|i| i["pk"].as_s().is_ok_and(|p| *p == pk))
            .expect("the code's item");
        let mut delivered = item
            .get("deliveredTo")
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default();
        delivered.sort();
        (delivered, item.contains_key("fbHash"))
    }

    pub async fn directory_items(&self) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        self.store
            .client()
            .scan()
            .table_name(&self.store.tables().directory)
            .send()
            .await
            .expect("scan works")
            .items
            .unwrap_or_default()
    }
}

/// The namespace the harness records metrics under, as the stack's functions would.
pub const NAMESPACE: &str = "Passwordless/test";

/// One invocation through `http::recorded`, as each function's `main` serves it: the response,
/// with the EMF lines the invocation wrote.
async fn recorded<F>(function: &'static str, handler: impl FnOnce(()) -> F) -> TestResponse
where
    F: std::future::Future<Output = Response<Body>>,
{
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorder = Recorder::new(NAMESPACE, function, Sink::Lines(lines.clone()));
    let response = passwordless::http::recorded(&recorder, handler(())).await;
    let mut response = TestResponse::from(response);
    response.metrics = parsed_lines(&lines);
    response
}

/// Each EMF line parsed as JSON: a line that is not JSON fails the test.
fn parsed_lines(lines: &std::sync::Mutex<Vec<String>>) -> Vec<Value> {
    lines
        .lock()
        .expect("the metric lines")
        .iter()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{e}: an EMF line is not JSON: {line}"))
        })
        .collect()
}

/// The request lambda_http makes of an API Gateway event.
pub fn request(event: Value) -> lambda_http::Request {
    lambda_http::request::from_str(&event.to_string()).expect("the event is an API Gateway event")
}

/// Every function's role for these tables and SES identities (comma-separated), from
/// template.yaml (scripts/local_iam.py), less the `missing` actions: per binary, the credentials
/// Lambda would give it.
fn function_roles(
    run: &str,
    wiring: &Wiring,
    sender_identities: &str,
    missing: &[(&str, &str)],
) -> std::collections::HashMap<String, std::collections::HashMap<String, String>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = std::env::var_os("LOCAL_IAM_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    let mut command = std::process::Command::new(&python);
    command
        .arg(root.join("scripts/local_iam.py"))
        .arg("roles")
        .args(["--directory-table", &wiring.tables.directory])
        .args(["--codes-table", &wiring.tables.codes])
        .args(["--configuration-set", &wiring.configuration_set])
        .args(["--sender-identities", sender_identities])
        .args(["--prefix", &format!("t{run}")]);
    for (function, action) in missing {
        command.args(["--without", &format!("{function}:{action}")]);
    }
    let output = command.output().unwrap_or_else(|e| {
        panic!(
            "{}: {e} (LOCAL_IAM_PYTHON names the Python of .venv)",
            python.display()
        )
    });
    assert!(
        output.status.success(),
        "local_iam.py roles failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("local_iam.py prints the roles' credentials")
}

/// A function's SDK configuration: the admin's, with the role's credentials instead.
fn role_sdk(
    admin: &aws_config::SdkConfig,
    credentials: std::collections::HashMap<String, String>,
) -> aws_config::SdkConfig {
    let variable = |name: &str| {
        credentials
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("local_iam.py gave no {name}"))
    };
    admin
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            variable("AWS_ACCESS_KEY_ID"),
            variable("AWS_SECRET_ACCESS_KEY"),
            Some(variable("AWS_SESSION_TOKEN")),
            None,
            "the function's role",
        )))
        .build()
}

/// An API Gateway HTTP API (payload v2) event, as API Gateway sends it (`api_gateway_events`):
/// a POST to `path` with `body`, `host: abc123.execute-api.us-east-1.amazonaws.com`,
/// `x-forwarded-proto: https` and `content-type: application/json` unless `headers` say otherwise.
pub fn event(path: &str, headers: &[(&str, &str)], body: &str) -> Value {
    Event::post(path)
        .headers(headers.iter().copied())
        .body(body)
        .user_agent("integration-tests")
        .request_id(&Uuid::new_v4().to_string())
        .to_json()
}

pub fn start_event(api_key: Option<&str>, body: Value) -> Value {
    let headers: Vec<(&str, &str)> = api_key.map(|k| ("authorization", k)).into_iter().collect();
    event("/api/passwordless/start", &headers, &body.to_string())
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: String,
    /// The EMF lines the invocation wrote, parsed.
    pub metrics: Vec<Value>,
}

impl From<Response<Body>> for TestResponse {
    fn from(response: Response<Body>) -> Self {
        let (parts, body) = response.into_parts();
        let body = match body {
            Body::Empty => String::new(),
            Body::Text(t) => t,
            Body::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
            _ => String::new(),
        };
        Self {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            metrics: Vec::new(),
        }
    }
}

impl TestResponse {
    /// A 4xx with FusionAuth's `Errors` body (field or general errors), else a failure naming
    /// `what` was sent.
    pub fn assert_client_error(&self, what: &str) {
        assert!(
            (400..500).contains(&self.status),
            "{what}: {} {}",
            self.status,
            self.body
        );
        let errors = self.json();
        assert!(
            errors.get("fieldErrors").is_some() || errors.get("generalErrors").is_some(),
            "{what}: {}",
            self.body
        );
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }

    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The EMF documents that carry `metric` (one, as an invocation writes one document).
    pub fn metric(&self, metric: &str) -> Vec<&Value> {
        self.metrics
            .iter()
            .filter(|line| line.get(metric).is_some())
            .collect()
    }

    /// The AWS calls the invocation timed, as `Service.Operation` (its EMF document's `AwsCalls`).
    pub fn aws_calls(&self) -> Vec<String> {
        self.metrics
            .iter()
            .filter_map(|line| line["AwsCalls"].as_object())
            .flat_map(|calls| calls.keys().cloned())
            .collect()
    }

    /// Every code of FusionAuth's `Errors` body, field errors first.
    pub fn error_codes(&self) -> Vec<String> {
        let json = self.json();
        let mut codes = Vec::new();
        if let Some(fields) = json["fieldErrors"].as_object() {
            for errors in fields.values() {
                for e in errors.as_array().into_iter().flatten() {
                    codes.push(e["code"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        for e in json["generalErrors"].as_array().into_iter().flatten() {
            codes.push(e["code"].as_str().unwrap_or_default().to_owned());
        }
        codes
    }
}

/// What moto recorded as sent: `ses.Message` entries and `sns.SMS` entries, as JSON.
pub async fn moto_sent() -> (Vec<Value>, Vec<Value>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let endpoint = endpoint();
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .expect("moto is reachable");
    let request = format!(
        "GET /moto-api/sent.json HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let data: Value = serde_json::from_str(body).expect("moto's sent.json is JSON");
    let list = |service: &str, kind: &str| -> Vec<Value> {
        data[service][kind].as_array().cloned().unwrap_or_default()
    };
    (list("ses", "Message"), list("sns", "SMS"))
}

/// The emails moto recorded whose body contains `needle`.
pub async fn emails_containing(needle: &str) -> Vec<Value> {
    moto_sent()
        .await
        .0
        .into_iter()
        .filter(|m| m.to_string().contains(needle))
        .collect()
}

/// The SMS moto recorded to `phone` containing `needle`.
pub async fn sms_containing(phone: &str, needle: &str) -> Vec<Value> {
    moto_sent()
        .await
        .1
        .into_iter()
        .filter(|m| m["phone_number"] == phone && m.to_string().contains(needle))
        .collect()
}
