//! The passwordless domain crate shared by the three Lambda functions.
//!
//! A reader finds each rule of the contract in one place:
//! - [`model`]: tenants, applications, API keys, signing keys, users, pending codes, refresh
//!   tokens and login records, in FusionAuth's JSON shapes;
//! - [`login_id`]: the newtypes that parse client input once (login ids, phone numbers) and the
//!   redaction of addresses for logs;
//! - [`system`]: time and randomness ([`system::Clock`], [`system::Random`]), on the OS;
//! - [`codes`]: how codes are generated and hashed; [`tokens`]: JWT signing and verifying, public
//!   keys; [`session`]: what a login or a refresh hands out (access and refresh tokens) and how
//!   long each lives;
//! - [`ports`]: the narrow traits the use cases depend on, with [`memory`] fakes of them;
//! - [`start`], [`send`], [`login`], [`refresh`] (exchange and revoke refresh tokens), [`keys`]
//!   (JWKS, public keys, discovery, validation): the use cases, free of HTTP and AWS types, each
//!   with the services it runs on;
//! - [`oauth2`]: the magic link's landing page and `/oauth2/token` (authorization code, PKCE);
//!   [`sign_up`]: who may sign up on the hosted pages, and the user a sign-up creates;
//! - [`http`]: the edge: request parsing, the FusionAuth `Errors` body ([`errors`]), and per
//!   endpoint the one function that maps outcomes to statuses, bodies and cookies;
//! - [`aws`]: the DynamoDB, SES and SNS adapters behind the ports, and each function's wiring;
//! - [`cache`]: the warm-container cache in front of the directory;
//! - [`kickstart`]: parsing and validating provisioning files; [`templates`]: message templates;
//! - [`sms_guard`]: which SMS may go out (countries, prefix velocity, the daily cap);
//!   [`suppression`]: the addresses SES feedback says to mail no more;
//! - [`metrics`]: every CloudWatch metric (EMF), named in one place; [`redact`]: how a value
//!   holding a secret shows in `Debug`;
//! - [`config`]: the environment read once at cold start.

pub mod aws;
pub mod cache;
pub mod codes;
pub mod config;
pub mod errors;
pub mod http;
pub mod keys;
pub mod kickstart;
pub mod limits;
pub mod logging;
pub mod login;
pub mod login_id;
pub mod memory;
pub mod metrics;
pub mod model;
pub mod oauth2;
pub mod ports;
pub mod redact;
pub mod refresh;
pub mod send;
pub mod session;
pub mod sign_up;
pub mod sms_guard;
pub mod start;
pub mod suppression;
pub mod system;
pub mod templates;
pub mod tokens;
pub mod users;
