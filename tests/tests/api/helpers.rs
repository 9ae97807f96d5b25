//! `TestApp::spawn()`: fresh tables on the local AWS endpoint, loaded from a kickstart file, and
//! the real adapters wired as a function's `main` wires them.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Response};
use passwordless::aws::dynamo::{DynamoStore, Tables};
use passwordless::aws::{lambda_sdk_config, provision, ses, sns};
use passwordless::codes::OsRandom;
use passwordless::kickstart;
use passwordless::ports::{DeliverySettings, Services, SystemClock};
use serde_json::{json, Value};
use uuid::Uuid;

pub const EXAMPLE_KICKSTART: &str = include_str!("../../fixtures/kickstart.example.json");
pub const DEMO_KICKSTART: &str = include_str!("../../../kickstart/demo.json");

pub const GLOBAL_KEY: &str = "local-dev-api-key-change-me-0123456789abcdef";
pub const LOCKED_KEY: &str = "tenant-locked-key-0123456789abcdef";
pub const TENANT: &str = "f24aca2b-ce4a-4dad-951a-c9d690e71415";
pub const WEB_APP: &str = "10000000-0000-0002-0000-000000000001";
pub const NO_PASSWORDLESS_APP: &str = "10000000-0000-0002-0000-000000000003";

pub struct TestApp {
    pub services: Services,
    pub store: DynamoStore,
}

/// The local AWS endpoint. The integration tests need it: without it they fail, they never skip.
fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!(
            "AWS_ENDPOINT_URL is not set: the integration tests run against moto. \
             Run them with `make test`, which starts it."
        )
    })
}

impl TestApp {
    /// Fresh, uniquely named tables loaded with FusionAuth's reference kickstart example.
    pub async fn spawn() -> Self {
        Self::spawn_with(EXAMPLE_KICKSTART).await
    }

    pub async fn spawn_with(kickstart_json: &str) -> Self {
        endpoint();
        let run = Uuid::new_v4().simple().to_string();
        let sdk = lambda_sdk_config().expect("the test environment names region and credentials");
        let store = DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            Tables {
                directory: format!("directory-{run}"),
                codes: format!("codes-{run}"),
            },
        );
        store.create_tables().await.expect("tables are created");
        let parsed = kickstart::parse(kickstart_json).expect("the kickstart is valid");
        provision::load(&store, &parsed)
            .await
            .expect("the kickstart loads");
        let ses_client = aws_sdk_sesv2::Client::new(&sdk);
        ses::register_identities(&ses_client, &parsed.sender_addresses())
            .await
            .expect("sender identities are registered");
        let shared = Arc::new(store.clone());
        let services = Services {
            // No cache: a test that revokes a key must see it at once.
            directory: shared.clone(),
            codes: shared.clone(),
            rate_limiter: shared.clone(),
            sessions: shared,
            signer: Arc::new(passwordless::tokens::Signer::default()),
            mailer: Arc::new(ses::SesMailer::new(&sdk)),
            sms: Arc::new(sns::SnsSms::new(&sdk, Some("PIEDPIPER".into()), None)),
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            settings: Arc::new(DeliverySettings {
                default_base_url: Some("https://default.example".into()),
            }),
        };
        Self { services, store }
    }

    pub async fn start(&self, event: Value) -> TestResponse {
        let request = lambda_http::request::from_str(&event.to_string())
            .expect("the event is an API Gateway event");
        TestResponse::from(passwordless::http::start::handle(&self.services, request).await)
    }

    /// Loads another kickstart into this app's tables.
    pub async fn reload(&mut self, kickstart_json: &str) {
        let parsed = kickstart::parse(kickstart_json).expect("the kickstart is valid");
        provision::load(&self.store, &parsed)
            .await
            .expect("the kickstart loads");
    }

    pub async fn register_sender(&self, address: &str) {
        let sdk = lambda_sdk_config().expect("the test environment names region and credentials");
        ses::register_identities(&aws_sdk_sesv2::Client::new(&sdk), &[address.to_owned()])
            .await
            .expect("the identity is registered");
    }

    pub async fn send(&self, body: Value) -> TestResponse {
        self.send_event(event("/api/passwordless/send", &[], &body.to_string()))
            .await
    }

    pub async fn send_event(&self, event: Value) -> TestResponse {
        let request = lambda_http::request::from_str(&event.to_string())
            .expect("the event is an API Gateway event");
        TestResponse::from(passwordless::http::send::handle(&self.services, request).await)
    }

    pub async fn login(&self, body: Value) -> TestResponse {
        self.login_event(event("/api/passwordless/login", &[], &body.to_string()))
            .await
    }

    pub async fn login_event(&self, event: Value) -> TestResponse {
        let request = lambda_http::request::from_str(&event.to_string())
            .expect("the event is an API Gateway event");
        TestResponse::from(passwordless::http::login::handle(&self.services, request).await)
    }

    /// Starts a login with the global key and returns the start response's JSON.
    pub async fn start_code(&self, body: Value) -> Value {
        let response = self.start(start_event(Some(GLOBAL_KEY), body)).await;
        assert_eq!(response.status, 200, "{}", response.body);
        response.json()
    }

    /// Every item of the Codes table: what a start wrote.
    pub async fn code_items(&self) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        self.store
            .client()
            .scan()
            .table_name(&self.store.tables().codes)
            .send()
            .await
            .expect("scan works")
            .items
            .unwrap_or_default()
    }

    pub async fn directory_items(&self) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        self.store
            .client()
            .scan()
            .table_name(&self.store.tables().directory)
            .send()
            .await
            .expect("scan works")
            .items
            .unwrap_or_default()
    }
}

/// An API Gateway HTTP API (payload v2) event, as API Gateway sends it.
pub fn event(path: &str, headers: &[(&str, &str)], body: &str) -> Value {
    let mut header_map = serde_json::Map::new();
    header_map.insert("content-type".into(), json!("application/json"));
    header_map.insert(
        "host".into(),
        json!("abc123.execute-api.us-east-1.amazonaws.com"),
    );
    header_map.insert("x-forwarded-proto".into(), json!("https"));
    for (name, value) in headers {
        header_map.insert(name.to_ascii_lowercase(), json!(value));
    }
    json!({
        "version": "2.0",
        "routeKey": format!("POST {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": header_map,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "integration-tests"
            },
            "requestId": Uuid::new_v4().to_string(),
            "routeKey": format!("POST {path}"),
            "stage": "$default",
            "time": "28/Nov/2026:13:00:00 +0000",
            "timeEpoch": 1_795_870_800_000_i64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

pub fn start_event(api_key: Option<&str>, body: Value) -> Value {
    let headers: Vec<(&str, &str)> = api_key.map(|k| ("authorization", k)).into_iter().collect();
    event("/api/passwordless/start", &headers, &body.to_string())
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: String,
}

impl From<Response<Body>> for TestResponse {
    fn from(response: Response<Body>) -> Self {
        let (parts, body) = response.into_parts();
        let body = match body {
            Body::Empty => String::new(),
            Body::Text(t) => t,
            Body::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
            _ => String::new(),
        };
        Self {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }

    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every code of FusionAuth's `Errors` body, field errors first.
    pub fn error_codes(&self) -> Vec<String> {
        let json = self.json();
        let mut codes = Vec::new();
        if let Some(fields) = json["fieldErrors"].as_object() {
            for errors in fields.values() {
                for e in errors.as_array().into_iter().flatten() {
                    codes.push(e["code"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        for e in json["generalErrors"].as_array().into_iter().flatten() {
            codes.push(e["code"].as_str().unwrap_or_default().to_owned());
        }
        codes
    }
}

/// What moto recorded as sent: `ses.Message` entries and `sns.SMS` entries, as JSON.
pub async fn moto_sent() -> (Vec<Value>, Vec<Value>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let endpoint = endpoint();
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .expect("moto is reachable");
    let request = format!(
        "GET /moto-api/sent.json HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let data: Value = serde_json::from_str(body).expect("moto's sent.json is JSON");
    let list = |service: &str, kind: &str| -> Vec<Value> {
        data[service][kind].as_array().cloned().unwrap_or_default()
    };
    (list("ses", "Message"), list("sns", "SMS"))
}

/// The emails moto recorded whose body contains `needle`.
pub async fn emails_containing(needle: &str) -> Vec<Value> {
    moto_sent()
        .await
        .0
        .into_iter()
        .filter(|m| m.to_string().contains(needle))
        .collect()
}

/// The SMS moto recorded to `phone` containing `needle`.
pub async fn sms_containing(phone: &str, needle: &str) -> Vec<Value> {
    moto_sent()
        .await
        .1
        .into_iter()
        .filter(|m| m["phone_number"] == phone && m.to_string().contains(needle))
        .collect()
}
