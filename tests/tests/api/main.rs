//! Integration tests: the functions' handlers driven by API Gateway HTTP API (v2) events, against
//! DynamoDB as the real AWS SDK sees it (moto, started by `make test`).

mod events;
mod helpers;
mod kickstart;
mod login;
mod send;
mod start;
