//! Each function runs with exactly the role template.yaml gives it (scripts/local_iam.py), and
//! the emulator authorizes its calls as AWS does (scripts/moto_server.py): a permission the
//! template forgets fails here as it would on AWS, and the key prefixes
//! (`dynamodb:LeadingKeys`) keep each function to the items it needs.

use aws_sdk_dynamodb::types::AttributeValue;
use passwordless::aws::dynamo::{key_map, signing_key_key, tenant_key, user_key};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{start_event, TestApp, GLOBAL_KEY, LOGIN_FUNCTION, TENANT, WEB_APP};

/// The signing key of the reference kickstart's tenant.
fn signing_key_id() -> Uuid {
    let kickstart: serde_json::Value =
        serde_json::from_str(crate::helpers::EXAMPLE_KICKSTART).unwrap();
    kickstart["keys"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn start_and_login(app: &TestApp) -> crate::helpers::TestResponse {
    let started = app
        .start(start_event(
            Some(GLOBAL_KEY),
            json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"}),
        ))
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let code = started.json()["code"].as_str().unwrap().to_owned();
    app.login(json!({"code": code, "applicationId": WEB_APP}))
        .await
}

/// The error code DynamoDB answers `function`'s GetItem of `key` with, if any.
async fn get_item_error(
    app: &TestApp,
    function: &aws_config::SdkConfig,
    key: (String, &'static str),
) -> Option<String> {
    aws_sdk_dynamodb::Client::new(function)
        .get_item()
        .table_name(&app.store.tables().directory)
        .set_key(Some(key_map(key)))
        .send()
        .await
        .err()
        .map(|e| {
            e.into_service_error()
                .meta()
                .code()
                .unwrap_or("no code")
                .to_owned()
        })
}

/// The bug of issue 13: login reads the tenant with the user in one BatchGetItem. A role with
/// GetItem and PutItem only makes every real login use its code up and then answer 500.
#[tokio::test]
async fn a_login_function_without_batch_get_item_cannot_log_in_as_on_aws() {
    let app = TestApp::spawn().await;
    let logged_in = start_and_login(&app).await;
    assert_eq!(logged_in.status, 200, "{}", logged_in.body);

    let broken = TestApp::spawn_without(&[(LOGIN_FUNCTION, "dynamodb:BatchGetItem")]).await;
    let refused = start_and_login(&broken).await;
    assert_eq!(refused.status, 500, "{}", refused.body);
    assert_eq!(refused.error_codes(), ["[InternalError]"]);
    // The code was used up before the refused read: the user must start again.
    assert!(broken
        .code_items()
        .await
        .iter()
        .any(|item| item.contains_key("usedBy")));
}

#[tokio::test]
async fn start_and_send_cannot_read_signing_keys_and_login_can() {
    let app = TestApp::spawn().await;
    let signing_key = signing_key_key(signing_key_id());
    for function in [&app.start_fn.sdk, &app.send_fn.sdk] {
        assert_eq!(
            get_item_error(&app, function, signing_key.clone()).await,
            Some("AccessDeniedException".to_owned())
        );
        // The table is theirs to read: it is the key prefix that is refused.
        let tenant: Uuid = TENANT.parse().unwrap();
        assert_eq!(
            get_item_error(&app, function, tenant_key(tenant)).await,
            None
        );
    }
    assert_eq!(
        get_item_error(&app, &app.login_fn.sdk, signing_key).await,
        None
    );
}

/// The error code DynamoDB answers `function`'s PutItem of an item keyed `pk`/`sk` with, if any.
async fn put_item_error(
    app: &TestApp,
    function: &aws_config::SdkConfig,
    pk: String,
    sk: &str,
) -> Option<String> {
    aws_sdk_dynamodb::Client::new(function)
        .put_item()
        .table_name(&app.store.tables().directory)
        .item("pk", AttributeValue::S(pk))
        .item("sk", AttributeValue::S(sk.to_owned()))
        .send()
        .await
        .err()
        .map(|e| {
            e.into_service_error()
                .meta()
                .code()
                .unwrap_or("no code")
                .to_owned()
        })
}

#[tokio::test]
async fn login_cannot_write_tenants_or_api_keys_but_writes_users() {
    let app = TestApp::spawn().await;
    let denied = Some("AccessDeniedException".to_owned());
    let (tenant, _) = tenant_key(Uuid::new_v4());
    assert_eq!(
        put_item_error(&app, &app.login_fn.sdk, tenant, "TENANT").await,
        denied
    );
    let api_key = format!("APIKEY#{}", "0".repeat(64));
    assert_eq!(
        put_item_error(&app, &app.login_fn.sdk, api_key, "APIKEY").await,
        denied
    );
    let (user, _) = user_key(Uuid::new_v4());
    assert_eq!(
        put_item_error(&app, &app.login_fn.sdk, user, "USER").await,
        None
    );
}

#[tokio::test]
async fn the_send_function_sends_email_only_as_its_sender_identity() {
    let app = TestApp::spawn().await;
    let send = |from: &str| {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let text = Content::builder().data("hello").build().unwrap();
        aws_sdk_sesv2::Client::new(&app.send_fn.sdk)
            .send_email()
            .from_email_address(from)
            .destination(
                Destination::builder()
                    .to_addresses("someone@example.com")
                    .build(),
            )
            .content(
                EmailContent::builder()
                    .simple(
                        Message::builder()
                            .subject(text.clone())
                            .body(Body::builder().text(text).build())
                            .build(),
                    )
                    .build(),
            )
            .send()
    };
    assert!(send("no-reply@piedpiper.com").await.is_ok());
    let other = format!("x@{}.example", Uuid::new_v4().simple());
    app.register_sender(&other).await;
    let refused = send(&other).await.expect_err("another identity is refused");
    assert_eq!(
        refused.into_service_error().meta().code(),
        Some("AccessDeniedException")
    );
}

/// A write to the Codes table.
#[derive(Clone, Copy, Debug)]
enum Write {
    Put,
    Update,
    Delete,
}

/// The error code DynamoDB answers `function`'s `write` of the Codes item keyed `pk` with, if any.
async fn codes_write_error(
    app: &TestApp,
    function: &aws_config::SdkConfig,
    write: Write,
    pk: &str,
) -> Option<String> {
    let client = aws_sdk_dynamodb::Client::new(function);
    let table = &app.store.tables().codes;
    let key = || key_map((pk.to_owned(), "X"));
    let error = match write {
        Write::Put => client
            .put_item()
            .table_name(table)
            .set_item(Some(key()))
            .send()
            .await
            .err()
            .map(|e| e.into_service_error().meta().code().map(str::to_owned)),
        Write::Update => client
            .update_item()
            .table_name(table)
            .set_key(Some(key()))
            .update_expression("SET probe = :one")
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .send()
            .await
            .err()
            .map(|e| e.into_service_error().meta().code().map(str::to_owned)),
        Write::Delete => client
            .delete_item()
            .table_name(table)
            .set_key(Some(key()))
            .send()
            .await
            .err()
            .map(|e| e.into_service_error().meta().code().map(str::to_owned)),
    };
    error.map(|code| code.unwrap_or_else(|| "no code".to_owned()))
}

/// Each function writes only the key prefixes it writes: refresh and token read the revocation
/// items (`REVOKED#`) and never write them, the landing page reads trust ids (`TRUST#`) and
/// marks codes used (UpdateItem `CODE#`) but never puts or deletes them; each still writes what
/// it must.
#[tokio::test]
async fn functions_may_not_write_the_prefixes_they_only_read() {
    let app = TestApp::spawn().await;
    let denied = Some("AccessDeniedException".to_owned());
    let revoked = format!("REVOKED#USER#{}", Uuid::new_v4());
    let refresh_token = format!("REFRESHTOKEN#{}", Uuid::new_v4());
    for (name, function) in [
        ("refresh", &app.refresh_fn.sdk),
        ("token", &app.token_fn.sdk),
    ] {
        for write in [Write::Put, Write::Delete, Write::Update] {
            assert_eq!(
                codes_write_error(&app, function, write, &revoked).await,
                denied,
                "{name} {write:?} REVOKED#"
            );
        }
        // The refresh token families are theirs to rotate and delete.
        for write in [Write::Update, Write::Delete] {
            assert_eq!(
                codes_write_error(&app, function, write, &refresh_token).await,
                None,
                "{name} {write:?} REFRESHTOKEN#"
            );
        }
    }
    let trust = format!("TRUST#{}", "0".repeat(64));
    let code = format!("CODE#{}", "0".repeat(64));
    for (name, function) in [
        ("landing", &app.landing_fn.sdk),
        ("login", &app.login_fn.sdk),
    ] {
        for write in [Write::Put, Write::Update, Write::Delete] {
            assert_eq!(
                codes_write_error(&app, function, write, &trust).await,
                denied,
                "{name} {write:?} TRUST#"
            );
        }
        for write in [Write::Put, Write::Delete] {
            assert_eq!(
                codes_write_error(&app, function, write, &code).await,
                denied,
                "{name} {write:?} CODE#"
            );
        }
        assert_eq!(
            codes_write_error(&app, function, Write::Update, &code).await,
            None,
            "{name} marks codes used"
        );
    }
    let authorization_code = format!("AUTHCODE#{}", "0".repeat(64));
    assert_eq!(
        codes_write_error(&app, &app.landing_fn.sdk, Write::Put, &authorization_code).await,
        None
    );
    // Revoke writes the revocation items, and only deletes refresh token families.
    assert_eq!(
        codes_write_error(&app, &app.revoke_fn.sdk, Write::Update, &revoked).await,
        None
    );
    assert_eq!(
        codes_write_error(&app, &app.revoke_fn.sdk, Write::Update, &refresh_token).await,
        denied
    );
}

/// The hosted login's functions write only what they must: authorize stores pending logins
/// (PutItem) and never changes or deletes one, nor writes trust ids (its SSO shortcut issues
/// codes as the landing page does); the waiting page moves pending logins and uses codes up, but
/// never stores or deletes a pending login or a code, nor writes trust ids.
#[tokio::test]
async fn the_hosted_login_functions_may_write_only_what_they_write() {
    let app = TestApp::spawn().await;
    let denied = Some("AccessDeniedException".to_owned());
    let pending = format!("PENDINGLOGIN#{}", "0".repeat(64));
    let sso = format!("SSO#{}", "0".repeat(64));
    let authorization_code = format!("AUTHCODE#{}", "0".repeat(64));
    let trust = format!("TRUST#{}", "0".repeat(64));
    let code = format!("CODE#{}", "0".repeat(64));
    let authorize = &app.authorize_fn.sdk;
    assert_eq!(
        codes_write_error(&app, authorize, Write::Put, &pending).await,
        None
    );
    for write in [Write::Update, Write::Delete] {
        assert_eq!(
            codes_write_error(&app, authorize, write, &pending).await,
            denied,
            "authorize {write:?} PENDINGLOGIN#"
        );
    }
    for write in [Write::Put, Write::Update, Write::Delete] {
        assert_eq!(
            codes_write_error(&app, authorize, write, &trust).await,
            denied,
            "authorize {write:?} TRUST#"
        );
    }
    // Answering from an SSO session, authorize issues an authorization code and records the
    // refresh token in the session, which it never creates or deletes.
    assert_eq!(
        codes_write_error(&app, authorize, Write::Put, &authorization_code).await,
        None
    );
    assert_eq!(
        codes_write_error(&app, authorize, Write::Update, &sso).await,
        None
    );
    assert_eq!(
        codes_write_error(&app, authorize, Write::Delete, &sso).await,
        denied
    );
    let wait = &app.authorize_wait_fn.sdk;
    assert_eq!(
        codes_write_error(&app, wait, Write::Update, &pending).await,
        None
    );
    for write in [Write::Put, Write::Delete] {
        for pk in [&pending, &code, &trust] {
            assert_eq!(
                codes_write_error(&app, wait, write, pk).await,
                denied,
                "authorize-wait {write:?} {pk}"
            );
        }
    }
    assert_eq!(codes_write_error(&app, wait, Write::Put, &sso).await, None);
    assert_eq!(
        codes_write_error(&app, wait, Write::Put, &authorization_code).await,
        None
    );
    // The landing page approves (UpdateItem) but never stores or deletes a pending login.
    let landing = &app.landing_fn.sdk;
    assert_eq!(
        codes_write_error(&app, landing, Write::Update, &pending).await,
        None
    );
    for write in [Write::Put, Write::Delete] {
        assert_eq!(
            codes_write_error(&app, landing, write, &pending).await,
            denied,
            "landing {write:?} PENDINGLOGIN#"
        );
    }
}

/// The logouts end sessions and revoke tokens, and nothing more: logout and api-logout never
/// create or delete an SSO session (ending marks it) nor put a refresh token, logout never writes
/// a revocation, api-logout writes only user revocations; neither writes the Directory.
#[tokio::test]
async fn the_logout_functions_only_end_sessions_and_revoke_tokens() {
    let app = TestApp::spawn().await;
    let denied = Some("AccessDeniedException".to_owned());
    let session = format!("SSO#{}", "0".repeat(64));
    let refresh_token = format!("REFRESHTOKEN#{}", Uuid::new_v4());
    let user_revocation = format!("REVOKED#USER#{}", Uuid::new_v4());
    let application_revocation = format!("REVOKED#APPLICATION#{}", Uuid::new_v4());
    for (name, function) in [
        ("logout", &app.logout_fn.sdk),
        ("api-logout", &app.api_logout_fn.sdk),
    ] {
        for write in [Write::Put, Write::Delete] {
            assert_eq!(
                codes_write_error(&app, function, write, &session).await,
                denied,
                "{name} {write:?} SSO#"
            );
        }
        assert_eq!(
            codes_write_error(&app, function, Write::Update, &session).await,
            None,
            "{name} ends sessions"
        );
        assert_eq!(
            codes_write_error(&app, function, Write::Put, &refresh_token).await,
            denied,
            "{name} Put REFRESHTOKEN#"
        );
        assert_eq!(
            codes_write_error(&app, function, Write::Delete, &refresh_token).await,
            None,
            "{name} revokes families"
        );
        assert_eq!(
            codes_write_error(&app, function, Write::Update, &application_revocation).await,
            denied,
            "{name} Update REVOKED#APPLICATION#"
        );
        assert_eq!(
            put_item_error(&app, function, format!("USER#{}", Uuid::new_v4()), "USER").await,
            denied,
            "{name} Put USER#"
        );
    }
    assert_eq!(
        codes_write_error(&app, &app.logout_fn.sdk, Write::Update, &user_revocation).await,
        denied
    );
    assert_eq!(
        codes_write_error(
            &app,
            &app.api_logout_fn.sdk,
            Write::Update,
            &user_revocation
        )
        .await,
        None
    );
}
