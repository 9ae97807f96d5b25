//! The User and Registration APIs' use cases.

pub mod import;
pub mod registration;
