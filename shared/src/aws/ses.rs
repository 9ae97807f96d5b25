//! SES v2 `SendEmail` with simple content: the HTML and text parts we rendered ourselves, with
//! the stack's configuration set, whose event destination reports bounces and complaints
//! ([`crate::suppression`]).

use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;
use base64::Engine;

use crate::ports::{Email, Mailer, StoreError};

#[derive(Debug)]
pub struct SesMailer {
    client: super::OnFirstUse<Client>,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// The client is built on the first email: a send function that only texts never pays for it.
    pub fn new(sdk: &aws_config::SdkConfig, configuration_set: Option<String>) -> Self {
        Self {
            client: super::OnFirstUse::new(sdk, super::timing::ses_client),
            configuration_set,
        }
    }
}

fn content(data: &str) -> Result<Content, StoreError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| StoreError::new("send email", e))
}

/// `"Name" <address>`, with the name as an RFC 2047 encoded word when it is not plain ASCII.
pub fn from_header(address: &str, name: Option<&str>) -> String {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => address.to_owned(),
        Some(name)
            if name.chars().all(|c| c.is_ascii_graphic() || c == ' ') && !name.contains('"') =>
        {
            format!("\"{name}\" <{address}>")
        }
        Some(name) => format!(
            "=?UTF-8?B?{}?= <{address}>",
            base64::engine::general_purpose::STANDARD.encode(name)
        ),
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send_email(&self, email: &Email) -> Result<(), StoreError> {
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .html(content(&email.html)?)
                    .text(content(&email.text)?)
                    .build(),
            )
            .build();
        self.client
            .get()
            .send_email()
            .from_email_address(from_header(&email.from_address, email.from_name.as_deref()))
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                StoreError::new("send email", aws_sdk_sesv2::error::DisplayErrorContext(e))
            })
    }
}

/// Creates an SES identity for each address, as an operator verifies them in a real account.
/// For the local emulator, which refuses mail from unknown senders; existing ones are kept.
pub async fn register_identities(client: &Client, addresses: &[String]) -> Result<(), StoreError> {
    for address in addresses {
        let created = client
            .create_email_identity()
            .email_identity(address)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_already_exists_exception()) => {}
            Err(e) => {
                return Err(StoreError::new(
                    "create email identity",
                    aws_sdk_sesv2::error::DisplayErrorContext(e),
                ))
            }
        }
    }
    Ok(())
}
