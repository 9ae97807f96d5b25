//! The mailer and SMS sender in memory: an outbox that keeps what was sent.

use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::ports::{Email, Mailer, Sms, SmsSender, StoreError};

/// Keeps what was sent, for tests and benchmarks to read.
#[derive(Default)]
pub struct Outbox {
    pub emails: Mutex<Vec<Email>>,
    pub sms: Mutex<Vec<Sms>>,
}

#[async_trait]
impl Mailer for Outbox {
    async fn send_email(&self, email: &Email) -> Result<(), StoreError> {
        lock(&self.emails).push(email.clone());
        Ok(())
    }
}

#[async_trait]
impl SmsSender for Outbox {
    async fn send_sms(&self, sms: &Sms) -> Result<(), StoreError> {
        lock(&self.sms).push(sms.clone());
        Ok(())
    }
}
