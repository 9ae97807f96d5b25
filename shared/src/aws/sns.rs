//! SNS `Publish` straight to a phone number (no topic), as a transactional SMS.

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use crate::ports::{Sms, SmsSender, StoreError};

#[derive(Debug)]
pub struct SnsSms {
    client: super::OnFirstUse<Client>,
    sender_id: Option<String>,
    origination_number: Option<String>,
}

impl SnsSms {
    /// The client is built on the first SMS: a send function that only emails never pays for it.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        sender_id: Option<String>,
        origination_number: Option<String>,
    ) -> Self {
        Self {
            client: super::OnFirstUse::new(sdk, super::timing::sns_client),
            sender_id,
            origination_number,
        }
    }
}

fn text(value: &str) -> Result<MessageAttributeValue, StoreError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| StoreError::new("send sms", e))
}

#[async_trait]
impl SmsSender for SnsSms {
    async fn send_sms(&self, sms: &Sms) -> Result<(), StoreError> {
        let mut publish = self
            .client
            .get()
            .publish()
            .phone_number(&sms.to)
            .message(&sms.text)
            .message_attributes("AWS.SNS.SMS.SMSType", text("Transactional")?);
        if let Some(sender_id) = &self.sender_id {
            publish = publish.message_attributes("AWS.SNS.SMS.SenderID", text(sender_id)?);
        }
        if let Some(number) = &self.origination_number {
            publish = publish.message_attributes("AWS.MM.SMS.OriginationNumber", text(number)?);
        }
        publish
            .send()
            .await
            .map(|_| ())
            .map_err(|e| StoreError::new("send sms", aws_sdk_sns::error::DisplayErrorContext(e)))
    }
}
