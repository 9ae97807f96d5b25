//! One sender identity per tenant: the stack is given a list of SES identities
//! (template.yaml's `SenderIdentities`), the send function's role may send as each of them and
//! nothing else, and each tenant's email leaves from its own domain.

use serde_json::{json, Value};

use crate::helpers::*;

const THREE_SENDERS_KEY: &str = "three-senders-api-key-0123456789abcdef";

/// Per tenant of the three-senders fixture: its user's email, its application, its sender.
const TENANTS: [(&str, &str, &str); 3] = [
    (
        "gavin@hooli.xyz",
        "3a000000-0000-4000-8000-000000000101",
        "\"Hooli\" <login@hooli.xyz>",
    ),
    (
        "monica@raviga.vc",
        "3a000000-0000-4000-8000-000000000102",
        "\"Raviga\" <hello@raviga.vc>",
    ),
    (
        "erlich@bachmanity.com",
        "3a000000-0000-4000-8000-000000000103",
        "\"Bachmanity\" <login@bachmanity.com>",
    ),
];

async fn start_code(app: &TestApp, login_id: &str, application: &str) -> String {
    let started = app
        .start(start_event(
            Some(THREE_SENDERS_KEY),
            json!({"applicationId": application, "loginId": login_id}),
        ))
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let started: Value = started.json();
    started["code"].as_str().expect("a code").to_owned()
}

#[tokio::test]
async fn each_tenant_mails_from_its_own_domain() {
    let app = TestApp::spawn_with(THREE_SENDERS_KICKSTART).await;
    for (login_id, application, sender) in TENANTS {
        let code = start_code(&app, login_id, application).await;
        let sent = app.send(json!({"code": code})).await;
        assert_eq!(sent.status, 200, "{login_id}: {}", sent.body);
        let emails = emails_containing(&code).await;
        assert_eq!(emails.len(), 1, "{emails:?}");
        assert_eq!(emails[0]["source"], sender);
        assert_eq!(emails[0]["destinations"]["ToAddresses"], json!([login_id]));
    }
}

/// A stack whose SenderIdentities lacks raviga.vc (an account where the operator forgot it):
/// SES has the identity, but the send function's role may not send as it, as on AWS. The send
/// is the documented 500 and nothing is lost: the code still logs in.
#[tokio::test]
async fn a_send_as_an_identity_not_in_the_list_is_refused_by_iam_and_the_code_stays_valid() {
    let app =
        TestApp::spawn_with_identities(THREE_SENDERS_KICKSTART, &["hooli.xyz", "bachmanity.com"])
            .await;
    let (login_id, application, _) = TENANTS[1];
    let code = start_code(&app, login_id, application).await;
    let refused = app.send(json!({"code": code})).await;
    assert_eq!(refused.status, 500, "{}", refused.body);
    assert_eq!(refused.error_codes(), ["[InternalError]"]);
    assert!(emails_containing(&code).await.is_empty());

    let logged_in = app
        .login(json!({"code": code, "applicationId": application}))
        .await;
    assert_eq!(logged_in.status, 200, "{}", logged_in.body);

    // The listed identities still send.
    let (login_id, application, sender) = TENANTS[0];
    let code = start_code(&app, login_id, application).await;
    assert_eq!(app.send(json!({"code": code})).await.status, 200);
    assert_eq!(emails_containing(&code).await[0]["source"], sender);
}
