//! A whole service in memory: a kickstart loaded into the in-memory ports, and each endpoint's
//! `handle` driven by API Gateway HTTP API (payload v2) requests. Used by the hostile-input
//! property tests (`shared/tests/hostile_input.rs`) and the fuzz targets (`fuzz/`).

use std::sync::Arc;

use api_gateway_events::Event;
use lambda_http::{Body, Request, Response};
use passwordless::kickstart;
use passwordless::memory::FixedClock;
use passwordless::memory::MemoryServices;
use passwordless::send::DeliverySettings;

pub const KICKSTART: &str = include_str!("../../../tests/fixtures/kickstart.example.json");
pub const GLOBAL_KEY: &str = "local-dev-api-key-change-me-0123456789abcdef";
pub const WEB_APP: &str = "10000000-0000-0002-0000-000000000001";
pub const TENANT: &str = "f24aca2b-ce4a-4dad-951a-c9d690e71415";

/// The ports as the functions wire them, in memory, loaded with `kickstart_json`.
pub fn services(kickstart_json: &str) -> MemoryServices {
    let mut services = passwordless::memory::services(
        kickstart::parse(kickstart_json).expect("the kickstart is valid"),
    );
    let clock = Arc::new(FixedClock::at(1_795_870_800_000));
    services.start.clock = clock.clone();
    services.send.clock = clock.clone();
    services.login.clock = clock;
    services.send.settings = Arc::new(DeliverySettings {
        default_base_url: Some("https://default.example".into()),
    });
    services
}

/// Which function a request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Start,
    Send,
    Login,
    /// FusionAuth's `POST /api/logout` (a JSON body, or none).
    ApiLogout,
}

impl Endpoint {
    pub const ALL: [Endpoint; 4] = [
        Endpoint::Start,
        Endpoint::Send,
        Endpoint::Login,
        Endpoint::ApiLogout,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Start => "/api/passwordless/start",
            Endpoint::Send => "/api/passwordless/send",
            Endpoint::Login => "/api/passwordless/login",
            Endpoint::ApiLogout => "/api/logout",
        }
    }
}

/// An API Gateway v2 event (`api_gateway_events`) as JSON text, with `headers` (names lower-cased
/// by the caller or not) and a body given as bytes: UTF-8 text is sent as is, anything else
/// base64-encoded, as API Gateway does with binary bodies. `base64` forces the encoding for text
/// too. No `Host`: the property tests leave it out (shared/tests/hostile_input.rs says why).
pub fn event(
    endpoint: Endpoint,
    headers: &[(String, String)],
    body: &[u8],
    base64: bool,
) -> String {
    let event = Event::post(endpoint.path())
        .without_header("host")
        .headers(headers.iter().map(|(name, value)| (name, value)))
        .user_agent("hostile-input");
    let event = if base64 {
        event.base64_body(body)
    } else {
        event.bytes_body(body)
    };
    event.to_json().to_string()
}

/// The request API Gateway's event becomes, as the functions' `http::run` hands it to the handler
/// (forwarded headers that make no URL dropped first); `None` where the event is not an API
/// Gateway event at all (the function is never called then).
pub fn request(event_json: &str) -> Option<Request> {
    let mut event: lambda_http::request::LambdaRequest = serde_json::from_str(event_json).ok()?;
    passwordless::http::make_uri_safe(&mut event);
    Some(Request::from(event))
}

/// Runs `request` through the endpoint's handler, as the function's `main` does.
pub async fn handle(
    services: &MemoryServices,
    endpoint: Endpoint,
    request: Request,
) -> Response<Body> {
    match endpoint {
        Endpoint::Start => passwordless::http::start::handle(&services.start, request).await,
        Endpoint::Send => passwordless::http::send::handle(&services.send, request).await,
        Endpoint::Login => passwordless::http::login::handle(&services.login, request).await,
        Endpoint::ApiLogout => {
            let logout = HostedStores::default().logout(services);
            passwordless::http::api_logout::handle(&logout, request).await
        }
    }
}

/// The functions that read a form: the magic link's page and the fallback page (HTML forms),
/// `/oauth2/token`, and the hosted login's login id page and waiting page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormEndpoint {
    MagicLink,
    Fallback,
    Token,
    Authorize,
    AuthorizeWait,
    /// `/oauth2/logout` (a confirmation's post, or an RP's).
    Logout,
}

impl FormEndpoint {
    pub const ALL: [FormEndpoint; 6] = [
        FormEndpoint::MagicLink,
        FormEndpoint::Fallback,
        FormEndpoint::Token,
        FormEndpoint::Authorize,
        FormEndpoint::AuthorizeWait,
        FormEndpoint::Logout,
    ];

    /// The path a post goes to: a magic link's is a well-formed code no one started.
    pub fn path(self) -> &'static str {
        match self {
            FormEndpoint::MagicLink => {
                "/oauth2/passwordless/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            }
            FormEndpoint::Fallback => "/oauth2/passwordless",
            FormEndpoint::Token => "/oauth2/token",
            FormEndpoint::Authorize => "/oauth2/authorize",
            FormEndpoint::AuthorizeWait => "/oauth2/authorize/wait",
            FormEndpoint::Logout => "/oauth2/logout",
        }
    }

    /// The fields the function reads, with their caps.
    pub fn caps(self) -> &'static [passwordless::limits::Cap] {
        match self {
            FormEndpoint::MagicLink
            | FormEndpoint::Fallback
            | FormEndpoint::Authorize
            | FormEndpoint::AuthorizeWait => passwordless::limits::LANDING_FORMS,
            FormEndpoint::Token => passwordless::limits::TOKEN_FORM,
            FormEndpoint::Logout => passwordless::limits::LOGOUT_FORM,
        }
    }
}

/// A form post to `endpoint` as API Gateway's event (JSON text), with `headers` after the
/// form's content type (a header of the same name replaces it).
pub fn form_event(endpoint: FormEndpoint, headers: &[(String, String)], body: &[u8]) -> String {
    Event::post(endpoint.path())
        .without_header("host")
        .header("content-type", "application/x-www-form-urlencoded")
        .headers(headers.iter().map(|(name, value)| (name, value)))
        .user_agent("hostile-input")
        .bytes_body(body)
        .to_json()
        .to_string()
}

/// Runs `request` through the form endpoint's handler, as the function's `main` does.
pub async fn handle_form(
    services: &MemoryServices,
    endpoint: FormEndpoint,
    request: Request,
) -> Response<Body> {
    let hosted = HostedStores::default();
    let pages = passwordless::http::pages::Pages::new();
    match endpoint {
        FormEndpoint::MagicLink | FormEndpoint::Fallback => {
            passwordless::http::landing::handle(&hosted.landing(services), &pages, request).await
        }
        FormEndpoint::Authorize => {
            passwordless::http::authorize::handle(&hosted.authorize(services), &pages, request)
                .await
        }
        FormEndpoint::AuthorizeWait => {
            passwordless::http::authorize_wait::handle(&hosted.landing(services), &pages, request)
                .await
        }
        FormEndpoint::Logout => {
            passwordless::http::logout::handle(&hosted.logout(services), &pages, request).await
        }
        FormEndpoint::Token => {
            let token = passwordless::oauth2::token::TokenServices {
                directory: services.refresh.directory.clone(),
                authorization_codes: services.codes.clone(),
                clock: services.refresh.clock.clone(),
                random: services.refresh.random.clone(),
                refresh: services.refresh.clone(),
            };
            passwordless::http::token::handle(&token, request).await
        }
    }
}

/// The hosted login's stores in memory (pending logins, SSO sessions), shared by the authorize,
/// authorize-wait and landing functions' services built from them, as the Codes table is.
#[derive(Clone, Default)]
pub struct HostedStores {
    pub pending_logins: Arc<passwordless::memory::MemoryPendingLogins>,
    pub sso_sessions: Arc<passwordless::memory::MemorySsoSessions>,
}

impl HostedStores {
    /// The landing and authorize-wait functions' services.
    pub fn landing(
        &self,
        services: &MemoryServices,
    ) -> passwordless::oauth2::landing::LandingServices {
        passwordless::oauth2::landing::LandingServices {
            login: services.login.clone(),
            authorization_codes: services.codes.clone(),
            rate_limiter: services.send.rate_limiter.clone(),
            pending_logins: self.pending_logins.clone(),
            sso_sessions: self.sso_sessions.clone(),
        }
    }

    /// The logout and api-logout functions' services.
    pub fn logout(
        &self,
        services: &MemoryServices,
    ) -> passwordless::oauth2::logout::LogoutServices {
        passwordless::oauth2::logout::LogoutServices {
            directory: services.refresh.directory.clone(),
            sso_sessions: self.sso_sessions.clone(),
            tokens: services.refresh.tokens.clone(),
            signer: services.refresh.signer.clone(),
            clock: services.refresh.clock.clone(),
        }
    }

    /// The authorize function's services.
    pub fn authorize(
        &self,
        services: &MemoryServices,
    ) -> passwordless::oauth2::hosted::HostedServices {
        passwordless::oauth2::hosted::HostedServices {
            send: services.send.clone(),
            pending_logins: self.pending_logins.clone(),
            landing: self.landing(services),
        }
    }
}
