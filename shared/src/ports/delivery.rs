//! Delivery: email (SES) and SMS (SNS), and the suppression list no email goes past.

use async_trait::async_trait;

use super::StoreError;

/// An email ready to go: rendered, addressed, with both parts.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    pub from_address: String,
    pub from_name: Option<String>,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// The bodies carry the link and the one-time code: redacted, and the recipient too.
impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::redact::REDACTED;
        f.debug_struct("Email")
            .field("from_address", &self.from_address)
            .field("from_name", &self.from_name)
            .field("to", &crate::login_id::redact_email(&self.to))
            .field("subject", &self.subject)
            .field("html", &REDACTED)
            .field("text", &REDACTED)
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Sms {
    /// E.164.
    pub to: String,
    pub text: String,
}

/// The text carries the one-time code or the link: redacted, and the number too.
impl std::fmt::Debug for Sms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sms")
            .field("to", &crate::login_id::redact_phone(&self.to))
            .field("text", &crate::redact::REDACTED)
            .finish()
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send_email(&self, email: &Email) -> Result<(), StoreError>;
}

#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send_sms(&self, sms: &Sms) -> Result<(), StoreError>;
}

/// Why an address is suppressed: SES said it bounced for good, or its owner marked our mail as
/// spam.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuppressionReason {
    Bounce,
    Complaint,
}

impl SuppressionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bounce => "bounce",
            Self::Complaint => "complaint",
        }
    }
}

/// The service's own suppression list: addresses no email goes to any more, by the hash of the
/// address ([`crate::suppression::address_hash`]), never the address.
#[async_trait]
pub trait Suppressions: Send + Sync {
    async fn is_suppressed(&self, address_hash: &str) -> Result<bool, StoreError>;
    /// Idempotent: suppressing an address again changes nothing but the reason and time.
    async fn suppress(
        &self,
        address_hash: &str,
        reason: SuppressionReason,
        at_millis: i64,
    ) -> Result<(), StoreError>;
}
