//! The deliverability loop: SES reports bounces and complaints (the configuration set's event
//! destination publishes them to an SNS topic, which invokes the suppress function); each
//! permanent bounce and each complaint suppresses its address for this service, and send mails a
//! suppressed address no more ([`crate::send`] asks [`Suppressions::is_suppressed`] first).
//!
//! Addresses are kept as [`address_hash`] only: the suppression list names nobody. Transient
//! bounces (a full mailbox, a greylisting server) suppress nothing: SES retries those, and the
//! next login may well get through.
//!
//! The messages are SES's event publishing records (`eventType`) or, from an identity's feedback
//! notifications, the older `notificationType` shape; both carry `bounce.bounceType` with
//! `bounce.bouncedRecipients[].emailAddress`, or `complaint.complainedRecipients[]`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::login_id::canonical_text;
use crate::ports::{StoreError, SuppressionReason, Suppressions};
use crate::system::Clock;

/// What the suppress function runs on.
#[derive(Clone)]
pub struct SuppressionServices {
    pub suppressions: Arc<dyn Suppressions>,
    pub clock: Arc<dyn Clock>,
}

/// The key of an address on the suppression list: SHA-256 of the address as logins match it
/// (lower case), so that `Ada@Example.com` bouncing suppresses `ada@example.com`.
pub fn address_hash(address: &str) -> String {
    crate::codes::hash_secret(&canonical_text(address.trim()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Feedback {
    event_type: Option<String>,
    notification_type: Option<String>,
    bounce: Option<Bounce>,
    complaint: Option<Complaint>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: String,
    #[serde(default)]
    bounced_recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    #[serde(default)]
    complained_recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    email_address: String,
}

/// What one SNS delivery did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Addresses suppressed.
    pub suppressed: usize,
    /// Messages that suppressed nothing: transient bounces, deliveries, what we cannot read.
    pub ignored: usize,
}

/// Suppresses what one SES feedback message says to.
pub async fn record_feedback(
    services: &SuppressionServices,
    message: &str,
) -> Result<Recorded, StoreError> {
    let Ok(feedback) = serde_json::from_str::<Feedback>(message) else {
        tracing::warn!("SES feedback that is not a bounce or complaint record: ignored");
        crate::metrics::feedback_ignored("unreadable");
        return Ok(Recorded {
            suppressed: 0,
            ignored: 1,
        });
    };
    let kind = feedback
        .event_type
        .or(feedback.notification_type)
        .unwrap_or_default();
    let (reason, recipients) = match (kind.as_str(), feedback.bounce, feedback.complaint) {
        ("Bounce", Some(bounce), _) if bounce.bounce_type == "Permanent" => {
            (SuppressionReason::Bounce, bounce.bounced_recipients)
        }
        ("Complaint", _, Some(complaint)) => (
            SuppressionReason::Complaint,
            complaint.complained_recipients,
        ),
        ("Bounce", Some(_), _) => {
            crate::metrics::feedback_ignored("transient-bounce");
            return Ok(Recorded {
                suppressed: 0,
                ignored: 1,
            });
        }
        _ => {
            crate::metrics::feedback_ignored("other");
            return Ok(Recorded {
                suppressed: 0,
                ignored: 1,
            });
        }
    };
    let now = services.clock.now_millis();
    for recipient in &recipients {
        services
            .suppressions
            .suppress(&address_hash(&recipient.email_address), reason, now)
            .await?;
        crate::metrics::suppression(reason.as_str());
        tracing::info!(
            to = %crate::login_id::redact_email(&recipient.email_address),
            reason = reason.as_str(),
            "address suppressed"
        );
    }
    Ok(Recorded {
        suppressed: recipients.len(),
        ignored: 0,
    })
}

/// An SNS event (`Records[].Sns.Message`), as Lambda delivers the topic's messages. A dependency
/// failing is an `Err`: Lambda then retries the asynchronous invocation, so no feedback is lost.
pub async fn handle_sns_event(
    services: &SuppressionServices,
    event: &Value,
) -> Result<Recorded, StoreError> {
    let mut total = Recorded::default();
    for record in event["Records"].as_array().into_iter().flatten() {
        let recorded = match record["Sns"]["Message"].as_str() {
            Some(message) => record_feedback(services, message).await?,
            None => {
                crate::metrics::feedback_ignored("unreadable");
                Recorded {
                    suppressed: 0,
                    ignored: 1,
                }
            }
        };
        total.suppressed += recorded.suppressed;
        total.ignored += recorded.ignored;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemorySuppressions;
    use crate::system::SystemClock;
    use serde_json::json;

    fn services() -> (SuppressionServices, Arc<MemorySuppressions>) {
        let list = Arc::new(MemorySuppressions::default());
        (
            SuppressionServices {
                suppressions: list.clone(),
                clock: Arc::new(SystemClock),
            },
            list,
        )
    }

    fn sns(message: Value) -> Value {
        json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": message.to_string()}}]})
    }

    #[tokio::test]
    async fn a_permanent_bounce_suppresses_the_address_whatever_its_case() {
        let (services, list) = services();
        let event = sns(json!({
            "eventType": "Bounce",
            "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "Ada@Example.com"}]}
        }));
        let recorded = handle_sns_event(&services, &event).await.unwrap();
        assert_eq!(recorded.suppressed, 1);
        assert!(list
            .is_suppressed(&address_hash("ada@example.com"))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_transient_bounce_or_a_delivery_suppresses_nothing() {
        let (services, list) = services();
        for message in [
            json!({"eventType": "Bounce", "bounce": {"bounceType": "Transient",
                "bouncedRecipients": [{"emailAddress": "ada@example.com"}]}}),
            json!({"eventType": "Delivery", "delivery": {}}),
        ] {
            let recorded = handle_sns_event(&services, &sns(message)).await.unwrap();
            assert_eq!((recorded.suppressed, recorded.ignored), (0, 1));
        }
        let unreadable = json!({"Records": [{"Sns": {"Message": "not json"}}, {"Sns": {}}]});
        assert_eq!(
            handle_sns_event(&services, &unreadable)
                .await
                .unwrap()
                .ignored,
            2
        );
        assert!(!list
            .is_suppressed(&address_hash("ada@example.com"))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_complaint_notification_suppresses_the_address() {
        let (services, list) = services();
        let event = sns(json!({
            "notificationType": "Complaint",
            "complaint": {"complainedRecipients": [{"emailAddress": "jared@piedpiper.com"}]}
        }));
        handle_sns_event(&services, &event).await.unwrap();
        assert!(list
            .is_suppressed(&address_hash("jared@piedpiper.com"))
            .await
            .unwrap());
    }
}
