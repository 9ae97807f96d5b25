//! The passwordless domain crate shared by the three Lambda functions.
//!
//! A reader finds each rule of the contract in one place:
//! - [`model`]: tenants, applications, API keys, signing keys, users and pending codes;
//! - [`login_id`]: the newtypes that parse client input once (login ids, phone numbers, ids);
//! - [`codes`]: how codes are generated and hashed;
//! - [`ports`]: the narrow traits the use cases depend on, with [`memory`] fakes of them;
//! - [`start`]: the use cases, free of HTTP and AWS types;
//! - [`http`]: the edge: request parsing, the FusionAuth `Errors` body, status mapping;
//! - [`aws`]: the DynamoDB adapter behind the ports;
//! - [`kickstart`]: parsing and validating provisioning files;
//! - [`config`]: the environment read once at cold start.

pub mod aws;
pub mod cache;
pub mod codes;
pub mod config;
pub mod errors;
pub mod http;
pub mod kickstart;
pub mod login;
pub mod login_id;
pub mod memory;
pub mod model;
pub mod ports;
pub mod send;
pub mod start;
pub mod system;
pub mod templates;
pub mod tokens;
