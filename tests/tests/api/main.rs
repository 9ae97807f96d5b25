//! Integration tests: the functions' handlers driven by API Gateway HTTP API (v2) events, against
//! DynamoDB as the real AWS SDK sees it (moto, started by `make test`).

mod api_keys;
mod brute_force;
mod clock;
mod dependencies;
mod enumeration;
mod events;
mod expiry;
mod fallback;
mod fault_injection;
mod hardening;
mod helpers;
mod hosted;
mod hosted_flow;
mod hosted_pages;
mod hosted_retries;
mod iam;
mod keys;
mod kickstart;
mod login;
mod logout;
mod lost_responses;
mod oauth2;
mod one_time_use;
mod operations;
mod refresh_tokens;
mod retries;
mod send;
mod senders;
mod sms_guard;
mod sso;
mod sso_authorize;
mod start;
mod token_endpoint;
mod tokens;
mod verification;
