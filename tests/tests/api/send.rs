//! Send Passwordless Login against moto: the messages are read back from what moto recorded.

use serde_json::{json, Value};

use crate::helpers::*;

const RICHARD_EMAIL: &str = "richard@piedpiper.com";
const DINESH_PHONE: &str = "+17205550147";

fn code_of(started: &Value) -> String {
    started["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_clickable_link_code_is_emailed_with_a_working_magic_link() {
    let app = TestApp::spawn().await;
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": RICHARD_EMAIL,
                           "state": {"redirect_uri": "https://piedpiper.com/callback?x=1", "client_id": "web"}}))
        .await;
    let code = code_of(&started);
    let response = app.send(json!({"code": code})).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body, "");
    assert_eq!(response.header("content-type"), None);

    let emails = emails_containing(&code).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    let email = &emails[0];
    assert_eq!(email["destinations"]["ToAddresses"], json!([RICHARD_EMAIL]));
    assert_eq!(email["source"], "\"Pied Piper\" <no-reply@piedpiper.com>");
    assert_eq!(email["subject"], "Log in to Pied Piper web");
    let link = format!(
        "https://piedpiper.com/oauth2/passwordless/{code}?tenantId={TENANT}&amp;client_id=web&amp;redirect_uri=https%3A%2F%2Fpiedpiper.com%2Fcallback%3Fx%3D1"
    );
    assert!(email["body"].as_str().unwrap().contains(&link), "{email}");
    assert!(email["body"].as_str().unwrap().contains("Hi Richard"));
}

#[tokio::test]
async fn a_form_field_code_for_a_phone_goes_by_sms_with_the_one_time_code() {
    let app = TestApp::spawn().await;
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "720-555-0147",
                           "loginIdTypes": ["phoneNumber"]}))
        .await;
    let otc = started["oneTimeCode"].as_str().unwrap();
    let response = app.send(json!({"code": code_of(&started)})).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let sms = sms_containing(DINESH_PHONE, otc).await;
    assert_eq!(sms.len(), 1);
    let text = sms[0]["message"].as_str().unwrap();
    assert_eq!(
        text,
        format!("{otc} is your Pied Piper web login code. It expires in 3 min.")
    );
    assert!(
        !text.contains(&code_of(&started)),
        "the long code stays out of the SMS"
    );
}

#[tokio::test]
async fn a_form_field_code_for_an_email_is_emailed_as_a_one_time_code() {
    let app = TestApp::spawn().await;
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": "richard",
                           "loginIdTypes": ["username"], "loginStrategy": "FormField"}))
        .await;
    let otc = started["oneTimeCode"].as_str().unwrap();
    assert_eq!(
        app.send(json!({"code": code_of(&started)})).await.status,
        200
    );
    let emails = emails_containing(&format!("<strong>{otc}</strong>")).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(
        emails[0]["destinations"]["ToAddresses"],
        json!([RICHARD_EMAIL])
    );
    assert_eq!(emails[0]["subject"], "Your Pied Piper web login code");
}

#[tokio::test]
async fn sending_does_not_consume_the_code() {
    let app = TestApp::spawn().await;
    let code = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
            .await,
    );
    assert_eq!(app.send(json!({"code": code})).await.status, 200);
    assert_eq!(app.send(json!({"code": code})).await.status, 200);
    assert_eq!(emails_containing(&code).await.len(), 2);
}

#[tokio::test]
async fn a_missing_code_is_blank_and_an_unknown_or_superseded_code_is_invalid() {
    let app = TestApp::spawn().await;
    let blank = app.send(json!({})).await;
    assert_eq!(blank.status, 400);
    assert_eq!(blank.error_codes(), ["[blank]code"]);
    let empty = app.send(json!({"code": ""})).await;
    assert_eq!(empty.error_codes(), ["[blank]code"]);

    let unknown = app
        .send(json!({"code": "CynAUMCHLxCCAWyHXOVWPQd8ZY0a6U0e3YpYkT0MNxs"}))
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.error_codes(), ["[invalid]code"]);

    let first = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
            .await,
    );
    app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
        .await;
    let superseded = app.send(json!({"code": first})).await;
    assert_eq!(superseded.status, 400);
    assert_eq!(superseded.error_codes(), ["[invalid]code"]);
    assert!(emails_containing(&first).await.is_empty());
    assert_eq!(
        app.delivery_record(&first).await,
        (vec![], false),
        "the superseded code (kept until its TTL) is recorded as delivered nowhere"
    );
}

#[tokio::test]
async fn an_expired_code_is_invalid_even_while_its_item_is_still_stored() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["tenants"][0]["externalIdentifierConfiguration"]
        ["passwordlessLoginTimeToLiveInSeconds"] = json!(1);
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let code = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
            .await,
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        !app.code_items().await.is_empty(),
        "moto keeps expired items"
    );
    let response = app.send(json!({"code": code})).await;
    assert_eq!(response.status, 400);
    assert_eq!(response.error_codes(), ["[invalid]code"]);
}

#[tokio::test]
async fn the_legacy_usage_starts_and_emails_a_code() {
    let app = TestApp::spawn().await;
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let response = app
        .send(json!({"applicationId": WEB_APP, "loginId": "Jared",
                     "state": {"marker": marker}}))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let emails = emails_containing(&marker).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert_eq!(
        emails[0]["destinations"]["ToAddresses"],
        json!(["jared@piedpiper.com"])
    );
    let codes = app.code_items().await;
    assert!(codes
        .iter()
        .any(|i| i["pk"].as_s().unwrap().starts_with("CODE#")));
}

#[tokio::test]
async fn the_legacy_usage_answers_an_unknown_user_like_a_known_one_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let began = std::time::Instant::now();
    let unknown = app
        .send(
            json!({"applicationId": WEB_APP, "loginId": "nobody@piedpiper.com",
                     "state": {"marker": marker}}),
        )
        .await;
    let unknown_took = began.elapsed();
    let began = std::time::Instant::now();
    let known = app
        .send(json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"}))
        .await;
    let known_took = began.elapsed();

    assert_eq!((unknown.status, &unknown.body), (known.status, &known.body));
    assert_eq!(unknown.headers, known.headers);
    assert!(emails_containing(&marker).await.is_empty());
    // Neither answer comes before the floor, so the quick unknown one does not stand out.
    let floor = passwordless::send::LEGACY_SEND_MIN_DURATION;
    assert!(unknown_took >= floor, "{unknown_took:?}");
    assert!(known_took >= floor, "{known_took:?}");
}

#[tokio::test]
async fn the_legacy_usage_refuses_a_phone_number_with_400() {
    let app = TestApp::spawn().await;
    let response = app
        .send(json!({"applicationId": WEB_APP, "loginId": "(720) 555-0147"}))
        .await;
    assert_eq!(response.status, 400);
    assert!(response
        .error_codes()
        .contains(&"[invalid]loginId".to_owned()));
}

#[tokio::test]
async fn sends_over_the_tenant_limit_get_429_and_nothing_is_sent() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["tenants"][0]["rateLimitConfiguration"]["sendPasswordless"] =
        json!({"enabled": true, "limit": 3, "timePeriodInSeconds": 600});
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let code = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
            .await,
    );
    for _ in 0..3 {
        assert_eq!(app.send(json!({"code": code})).await.status, 200);
    }
    let limited = app.send(json!({"code": code})).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.error_codes(), ["[RateLimited]"]);
    assert_eq!(emails_containing(&code).await.len(), 3);
    // A client-controlled header changes nothing.
    let spoofed = app
        .send_event(event(
            "/api/passwordless/send",
            &[("x-forwarded-for", "198.51.100.9")],
            &json!({"code": code}).to_string(),
        ))
        .await;
    assert_eq!(spoofed.status, 429);
}

#[tokio::test]
async fn a_send_over_the_limit_takes_back_its_delivery_record_but_not_an_earlier_sends() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["tenants"][0]["rateLimitConfiguration"]["sendPasswordless"] =
        json!({"enabled": true, "limit": 1, "timePeriodInSeconds": 600});
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    // By email address: the code names where it goes, so send records the delivery at once,
    // beside the rate count (a username's waits for its user's email, after the count).
    let start = || app.start_code(json!({"applicationId": WEB_APP, "loginId": RICHARD_EMAIL}));
    let delivered = (vec![format!("email#{RICHARD_EMAIL}")], true);

    let first = code_of(&start().await);
    assert_eq!(app.send(json!({"code": first})).await.status, 200);
    assert_eq!(app.delivery_record(&first).await, delivered);
    assert_eq!(app.send(json!({"code": first})).await.status, 429);
    assert_eq!(
        app.delivery_record(&first).await,
        delivered,
        "the refused send keeps what the first one delivered"
    );

    let second = code_of(&start().await);
    assert_eq!(app.send(json!({"code": second})).await.status, 429);
    assert!(emails_containing(&second).await.is_empty());
    assert_eq!(
        app.delivery_record(&second).await,
        (vec![], false),
        "a code never sent is recorded as delivered nowhere"
    );
}

#[tokio::test]
async fn a_rejected_email_is_a_500_with_an_errors_body_and_the_code_stays_valid() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let domain = format!("unverified-{}.example", uuid::Uuid::new_v4().simple());
    kickstart["tenants"][0]["emailConfiguration"]["defaultFromEmail"] =
        json!(format!("no-reply@{domain}"));
    // The stack's SenderIdentities list this domain (so IAM allows the send), but SES no longer has
    // it: SES itself rejects the message.
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    app.deregister_sender(&domain).await;

    let code = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
            .await,
    );
    let failed = app.send(json!({"code": code})).await;
    assert_eq!(failed.status, 500);
    assert_eq!(failed.error_codes(), ["[InternalError]"]);
    assert!(emails_containing(&code).await.is_empty());
    assert_eq!(
        app.delivery_record(&code).await,
        (vec![], false),
        "nothing went out: nothing is recorded as delivered"
    );

    app.register_sender(&domain).await;
    let retried = app.send(json!({"code": code})).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(emails_containing(&code).await.len(), 1);
    assert_eq!(
        app.delivery_record(&code).await,
        (vec![format!("email#{RICHARD_EMAIL}")], true)
    );
}

#[tokio::test]
async fn a_tenant_template_is_localized_by_the_users_preferred_language() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["emailTemplates"] = json!([{
        "id": "2b5f0c3e-0000-4000-8000-00000000e001",
        "name": "Passwordless",
        "defaultSubject": "Your login link",
        "defaultHtmlTemplate": "<a href=\"{{ link }}\">Log in</a>",
        "defaultTextTemplate": "Log in: {{ link }}",
        "localizedSubjects": {"fr": "Votre lien de connexion, {{ user.firstName }}"},
        "localizedHtmlTemplates": {"fr": "<a href=\"{{ link }}\">Se connecter</a> ({{ timeToLive }} s)"},
        "localizedTextTemplates": {"fr": "Se connecter : {{ link }}"}
    }]);
    kickstart["tenants"][0]["emailConfiguration"]["passwordlessEmailTemplateId"] =
        json!("2b5f0c3e-0000-4000-8000-00000000e001");
    kickstart["users"][1]["preferredLanguages"] = json!(["fr-CA", "en"]);
    let app = TestApp::spawn_with(&kickstart.to_string()).await;

    let jared = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "jared"}))
            .await,
    );
    assert_eq!(app.send(json!({"code": jared})).await.status, 200);
    let french = &emails_containing(&jared).await[0];
    assert_eq!(french["subject"], "Votre lien de connexion, Jared");
    assert!(french["body"]
        .as_str()
        .unwrap()
        .contains(">Se connecter</a> (180 s)"));

    let richard = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
            .await,
    );
    assert_eq!(app.send(json!({"code": richard})).await.status, 200);
    assert_eq!(
        emails_containing(&richard).await[0]["subject"],
        "Your login link"
    );
}

#[tokio::test]
async fn the_legacy_usage_over_the_limit_answers_like_an_unknown_id_and_cancels_nothing() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["tenants"][0]["rateLimitConfiguration"]["sendPasswordless"] =
        json!({"enabled": true, "limit": 2, "timePeriodInSeconds": 600});
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let legacy = json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"});
    for _ in 0..2 {
        assert_eq!(app.send(legacy.clone()).await.status, 200);
    }
    let pending = code_of(
        &app.start_code(json!({"applicationId": WEB_APP, "loginId": "richard"}))
            .await,
    );

    let over = app.send(legacy.clone()).await;
    let unknown = app
        .send(json!({"applicationId": WEB_APP, "loginId": "nobody@piedpiper.com"}))
        .await;

    assert_eq!((over.status, &over.body), (unknown.status, &unknown.body));
    assert_eq!(over.headers, unknown.headers);
    let login = app
        .login(json!({"code": pending, "applicationId": WEB_APP}))
        .await;
    assert_eq!(
        login.status, 200,
        "the refused send did not supersede the pending code: {}",
        login.body
    );
}
