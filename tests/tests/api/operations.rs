//! Operations through the HTTP edge, against moto with IAM enforced: the deliverability loop (a
//! bounce delivered to the suppress function as SNS would, then no more email to that address),
//! and the EMF metric lines each function writes. The SMS guard's tests are in `sms_guard`.

use passwordless::aws::dynamo::key_map;
use passwordless::suppression::address_hash;
use serde_json::{json, Value};

use crate::helpers::*;

const RICHARD_EMAIL: &str = "richard@piedpiper.com";
const DINESH_PHONE: &str = "+17205550147";

fn code_of(started: &Value) -> String {
    started["code"].as_str().unwrap().to_owned()
}

/// SES's event publishing record of a permanent bounce, inside the SNS event Lambda gets.
fn bounce_event(address: &str) -> Value {
    let record = json!({
        "eventType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                   "bouncedRecipients": [{"emailAddress": address, "action": "failed",
                                          "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
                   "timestamp": "2026-12-02T16:00:00.000Z", "feedbackId": "0100018c-bounce"},
        "mail": {"timestamp": "2026-12-02T15:59:59.000Z", "source": "no-reply@piedpiper.com",
                 "messageId": "0100018c-message", "destination": [address]}
    });
    json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
        "Sns": {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:123456789012:feedback",
                "Subject": null, "Message": record.to_string(), "Timestamp": "2026-12-02T16:00:01.000Z"}}]})
}

#[tokio::test]
async fn an_address_that_bounced_gets_no_more_email_and_its_send_answers_as_a_delivered_one() {
    // A user of this test alone (moto is shared): every email to the address is this test's.
    let address = format!("erlich-{}@piedpiper.com", uuid::Uuid::new_v4().simple());
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["users"].as_array_mut().unwrap().push(json!({
        "id": "00000000-0000-0001-0000-0000000000a3", "tenantId": TENANT,
        "email": address, "username": "erlich-bachman", "firstName": "Erlich"}));
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let first = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": address}))
            .await,
    );
    let sent = app.send(json!({"code": first})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let emails = emails_containing(&first).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(
        emails[0]["configuration_set_name"], app.wiring.configuration_set,
        "every email goes out with the stack's configuration set"
    );

    // SES reports the bounce; SNS delivers it to the suppress function, with its own role.
    let (recorded, lines) = app
        .suppress(bounce_event(&address.replace("erlich", "Erlich")))
        .await;
    assert_eq!(recorded.expect("the bounce is recorded").suppressed, 1);
    let suppressions: Vec<_> = lines
        .iter()
        .filter(|l| l.get("Suppressions").is_some())
        .collect();
    assert_eq!(suppressions.len(), 1, "{lines:?}");
    assert_eq!(suppressions[0]["Function"], "suppress");
    assert_eq!(suppressions[0]["Suppressions"], 1.0);
    assert_eq!(suppressions[0]["Reason"], "bounce");
    let suppressed: Vec<_> = app
        .directory_items()
        .await
        .into_iter()
        .filter(|item| {
            item.get("pk")
                .and_then(|pk| pk.as_s().ok())
                .is_some_and(|pk| pk.starts_with("SUPPRESSED#"))
        })
        .collect();
    assert_eq!(suppressed.len(), 1);
    let stored = format!("{:?}", suppressed[0]).to_lowercase();
    assert!(
        stored.contains(&address_hash(&address)),
        "keyed by the address's hash"
    );
    assert!(
        !stored.contains("erlich"),
        "and never the address: {stored}"
    );

    // The next code is not mailed; the answer is the same 200 with an empty body.
    let second = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": address}))
            .await,
    );
    let refused = app.send(json!({"code": second})).await;
    assert_eq!(
        (
            refused.status,
            refused.body.as_str(),
            refused.header("content-type")
        ),
        (sent.status, sent.body.as_str(), sent.header("content-type"))
    );
    assert!(
        emails_containing(&second).await.is_empty(),
        "nothing was mailed"
    );
    assert_eq!(
        app.delivery_record(&second).await,
        (vec![], false),
        "and nothing is recorded as delivered"
    );
    assert_eq!(refused.metric("SuppressedSends").len(), 1);
    assert!(refused.metric("Sent").is_empty());
    // Nor by the legacy usage, which answers as for anyone.
    let legacy = app
        .send(json!({"applicationId": WEB_APP, "loginId": "erlich-bachman"}))
        .await;
    assert_eq!(legacy.status, 200);
    let (all_emails, _) = moto_sent().await;
    let to_address = all_emails
        .iter()
        .filter(|m| m["destinations"]["ToAddresses"] == json!([address]))
        .count();
    assert_eq!(to_address, 1, "only the email before the bounce");
    // Other addresses are mailed as before.
    let other = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "jared@piedpiper.com"}))
            .await,
    );
    assert_eq!(app.send(json!({"code": other})).await.status, 200);
    assert_eq!(emails_containing(&other).await.len(), 1);
}

#[tokio::test]
async fn the_suppress_function_may_write_suppression_items_and_nothing_else() {
    let app = TestApp::spawn().await;
    let client = aws_sdk_dynamodb::Client::new(&app.suppress_fn.sdk);
    let put = |pk: String| {
        let mut item = key_map((pk, "X"));
        item.insert(
            "doc".into(),
            aws_sdk_dynamodb::types::AttributeValue::S("{}".into()),
        );
        client
            .put_item()
            .table_name(&app.store.tables().directory)
            .set_item(Some(item))
            .send()
    };
    let tenant = put(format!("TENANT#{TENANT}")).await.unwrap_err();
    assert_eq!(
        tenant.into_service_error().meta().code(),
        Some("AccessDeniedException")
    );
    assert!(put("SUPPRESSED#abc".into()).await.is_ok());
    let read = client
        .get_item()
        .table_name(&app.store.tables().directory)
        .set_key(Some(key_map(("SUPPRESSED#abc".into(), "X"))))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        read.into_service_error().meta().code(),
        Some("AccessDeniedException")
    );
}

/// The dimension names a line's directives declare are all members of it, and its metric's
/// value is a number: CloudWatch drops a document that breaks either.
pub(crate) fn assert_well_formed(line: &Value, function: &str) {
    let directive = &line["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], NAMESPACE, "{line}");
    assert!(line["_aws"]["Timestamp"].is_i64(), "{line}");
    assert_eq!(line["Function"], function, "{line}");
    for set in directive["Dimensions"].as_array().unwrap() {
        for name in set.as_array().unwrap() {
            assert!(line[name.as_str().unwrap()].is_string(), "{name} in {line}");
        }
    }
    let metric = directive["Metrics"][0]["Name"].as_str().unwrap();
    assert!(line[metric].is_number(), "{line}");
}

#[tokio::test]
async fn each_function_writes_emf_lines_with_its_dimensions_and_no_secret_or_address() {
    let app = TestApp::spawn().await;
    let start = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "(720) 555-0147",
                   "loginIdTypes": ["phoneNumber"]}),
        ))
        .await;
    assert_eq!(start.status, 200);
    let code = code_of(&start.json());
    let one_time_code = start.json()["oneTimeCode"].as_str().unwrap().to_owned();
    let send = app.send(json!({"code": code})).await;
    assert_eq!(send.status, 200);
    let login = app
        .login(json!({"code": code, "oneTimeCode": one_time_code, "applicationId": WEB_APP}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let refused = app.login(json!({"code": code})).await;
    assert_eq!(refused.status, 404);

    for (function, response) in [
        ("start", &start),
        ("send", &send),
        ("login", &login),
        ("login", &refused),
    ] {
        assert!(!response.metrics.is_empty());
        for line in &response.metrics {
            assert_well_formed(line, function);
            let text = line.to_string();
            for secret in [
                code.as_str(),
                one_time_code.as_str(),
                GLOBAL_KEY,
                DINESH_PHONE,
                "5550147",
                "dinesh@",
            ] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
    }
    let requests = |response: &TestResponse| response.metric("Requests")[0].clone();
    assert_eq!(requests(&start)["Status"], "200");
    assert_eq!(requests(&start)["Outcome"], "success");
    assert_eq!(requests(&start)["TenantId"], TENANT);
    assert_eq!(requests(&login)["Status"], "200");
    assert_eq!(requests(&refused)["Outcome"], "refused");
    assert_eq!(refused.metric("RefusedCodes").len(), 1);
    let sent = send.metric("Sent");
    assert_eq!(
        (sent[0]["Channel"].as_str(), sent[0]["Country"].as_str()),
        (Some("sms"), Some("US"))
    );

    // Every AWS call is timed, by service and operation.
    let calls: Vec<(String, String)> = [&start, &send, &login]
        .iter()
        .flat_map(|r| r.metric("AwsCallLatency"))
        .map(|l| {
            assert!(l["AwsCallLatency"].as_f64().unwrap() >= 0.0);
            assert_eq!(
                l["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
                "Milliseconds"
            );
            (
                l["Service"].as_str().unwrap().to_owned(),
                l["Operation"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("DynamoDB", "BatchGetItem"),
        ("DynamoDB", "TransactWriteItems"),
        ("DynamoDB", "UpdateItem"),
        ("SNS", "Publish"),
    ] {
        assert!(
            calls
                .iter()
                .any(|(s, o)| (s.as_str(), o.as_str()) == expected),
            "{expected:?} not in {calls:?}"
        );
    }
}

#[tokio::test]
async fn a_failing_dependency_is_counted_with_its_operation_and_the_failed_call() {
    // A send role without ses:SendEmail: SES refuses the email, send answers 500.
    let app = TestApp::spawn_without(&[("SendFunction", "ses:SendEmail")]).await;
    let code = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": RICHARD_EMAIL}))
            .await,
    );
    let response = app.send(json!({"code": code})).await;
    assert_eq!(response.status, 500);
    let failures = response.metric("DependencyFailures");
    assert_eq!(failures.len(), 1, "{:?}", response.metrics);
    assert_eq!(failures[0]["Operation"], "send email");
    let errors = response.metric("AwsCallErrors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["Operation"], "SendEmail");
    assert_eq!(response.metric("Requests")[0]["Outcome"], "error");
}
