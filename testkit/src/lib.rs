//! API Gateway HTTP API events (payload format 2.0), as API Gateway hands them to a function: the
//! one builder of the integration tests (`tests/`), the hostile-input property tests and the fuzz
//! target (`shared/tests/support/memory_app.rs`), the criterion benches (`shared/benches/`) and
//! the bench harness (`bench/`). The sample events in `events/` have the same shape (a test here
//! compares them).
//!
//! An [`Event`] starts as a request to `https://abc123.execute-api.us-east-1.amazonaws.com{path}`
//! from `203.0.113.7`, with the headers API Gateway always passes on and a JSON content type:
//!
//! | header              | default                                      |
//! |---------------------|----------------------------------------------|
//! | `content-type`      | `application/json`                           |
//! | `host`              | `abc123.execute-api.us-east-1.amazonaws.com` |
//! | `x-forwarded-proto` | `https`                                      |
//!
//! [`Event::header`] adds a header or replaces one (a default included); names are lower-cased,
//! as API Gateway v2 passes them, and a name given twice keeps its last value.
//! [`Event::without_header`] drops one. [`Event::cookie`] adds a cookie to the event's `cookies`,
//! where API Gateway v2 moves the `Cookie` header (lambda_http puts them back into one). The body is text ([`Event::body`], [`Event::json_body`])
//! or bytes ([`Event::bytes_body`]: UTF-8 as text, anything else base64-encoded with
//! `isBase64Encoded`, as API Gateway does with binary bodies; [`Event::base64_body`] encodes text
//! too); without one the event has no `body`, as API Gateway sends a request without one.
//! [`Event::to_json`] gives the event as a `serde_json::Value`, which a test may still change.
//!
//! ```
//! use api_gateway_events::Event;
//! use serde_json::json;
//!
//! let event = Event::post("/api/passwordless/start")
//!     .header("Authorization", "a-key")
//!     .json_body(&json!({"loginId": "richard@piedpiper.com"}))
//!     .to_json();
//! assert_eq!(event["headers"]["authorization"], "a-key");
//! assert_eq!(event["headers"]["x-forwarded-proto"], "https");
//! assert_eq!(event["requestContext"]["http"]["method"], "POST");
//! assert_eq!(event["body"], r#"{"loginId":"richard@piedpiper.com"}"#);
//! assert_eq!(event["isBase64Encoded"], false);
//! ```

use base64::Engine;
use serde_json::{json, Map, Value};

/// The API's domain: the `host` header and `requestContext.domainName`.
pub const DOMAIN_NAME: &str = "abc123.execute-api.us-east-1.amazonaws.com";
/// The client's address, `requestContext.http.sourceIp`, unless [`Event::source_ip`] says another.
pub const SOURCE_IP: &str = "203.0.113.7";
/// When API Gateway received the request: 2026-11-28 13:00:00 UTC, in milliseconds.
pub const TIME_EPOCH_MILLIS: i64 = 1_795_870_800_000;

const API_ID: &str = "abc123";
const ACCOUNT_ID: &str = "123456789012";
const TIME: &str = "28/Nov/2026:13:00:00 +0000";

/// An API Gateway HTTP API (payload v2) event under construction; see the crate's documentation.
#[derive(Clone, Debug)]
pub struct Event {
    method: String,
    path: String,
    headers: Map<String, Value>,
    cookies: Vec<String>,
    body: Option<String>,
    query: String,
    base64: bool,
    source_ip: String,
    user_agent: String,
    request_id: String,
}

impl Event {
    /// A `method` request to `path`, with the default headers and no body.
    pub fn new(method: &str, path: &str) -> Self {
        let mut headers = Map::new();
        headers.insert("content-type".into(), json!("application/json"));
        headers.insert("host".into(), json!(DOMAIN_NAME));
        headers.insert("x-forwarded-proto".into(), json!("https"));
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            headers,
            cookies: Vec::new(),
            body: None,
            query: String::new(),
            base64: false,
            source_ip: SOURCE_IP.to_owned(),
            user_agent: "api-gateway-events".to_owned(),
            request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".to_owned(),
        }
    }

    /// A `POST` to `path`: every endpoint of this API.
    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }

    /// A `GET` of `path`, without a content type.
    pub fn get(path: &str) -> Self {
        Self::new("GET", path).without_header("content-type")
    }

    /// A `DELETE` of `path`, without a content type.
    pub fn delete(path: &str) -> Self {
        Self::new("DELETE", path).without_header("content-type")
    }

    /// The raw query string (`a=1&b=2`, already encoded), as API Gateway passes it on.
    pub fn query(mut self, raw: &str) -> Self {
        self.query = raw.to_owned();
        self
    }

    /// Sets the header `name` (lower-cased) to `value`, replacing any value it had.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(name.to_ascii_lowercase(), json!(value));
        self
    }

    /// [`Event::header`] for each pair, in order.
    pub fn headers<N: AsRef<str>, V: AsRef<str>>(
        self,
        headers: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        headers.into_iter().fold(self, |event, (name, value)| {
            event.header(name.as_ref(), value.as_ref())
        })
    }

    /// Drops the header `name` (a default one, say).
    pub fn without_header(mut self, name: &str) -> Self {
        self.headers.remove(&name.to_ascii_lowercase());
        self
    }

    /// Adds `cookie` (`name=value`) to the event's `cookies`, as API Gateway v2 passes a `Cookie` on.
    pub fn cookie(mut self, cookie: &str) -> Self {
        self.cookies.push(cookie.to_owned());
        self
    }

    /// The body, as text.
    pub fn body(mut self, text: &str) -> Self {
        self.body = Some(text.to_owned());
        self.base64 = false;
        self
    }

    /// The body: `value` as JSON text.
    pub fn json_body(self, value: &Value) -> Self {
        self.body(&value.to_string())
    }

    /// The body as API Gateway passes bytes on: UTF-8 as text, anything else base64-encoded.
    pub fn bytes_body(self, bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.body(text),
            Err(_) => self.base64_body(bytes),
        }
    }

    /// The body base64-encoded (`isBase64Encoded`), whatever the bytes.
    pub fn base64_body(mut self, bytes: &[u8]) -> Self {
        self.body = Some(base64::engine::general_purpose::STANDARD.encode(bytes));
        self.base64 = true;
        self
    }

    /// The client's address, `requestContext.http.sourceIp`.
    pub fn source_ip(mut self, ip: &str) -> Self {
        self.source_ip = ip.to_owned();
        self
    }

    /// `requestContext.http.userAgent`: who made the event (no `user-agent` header is added).
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = user_agent.to_owned();
        self
    }

    /// `requestContext.requestId`.
    pub fn request_id(mut self, id: &str) -> Self {
        self.request_id = id.to_owned();
        self
    }

    /// The event, as the JSON API Gateway sends.
    pub fn to_json(&self) -> Value {
        let route_key = format!("{} {}", self.method, self.path);
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": self.headers,
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": API_ID,
                "domainName": DOMAIN_NAME,
                "domainPrefix": API_ID,
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": self.source_ip,
                    "userAgent": self.user_agent
                },
                "requestId": self.request_id,
                "routeKey": route_key,
                "stage": "$default",
                "time": TIME,
                "timeEpoch": TIME_EPOCH_MILLIS
            },
            "isBase64Encoded": self.base64
        });
        if !self.cookies.is_empty() {
            event["cookies"] = json!(self.cookies);
        }
        if !self.query.is_empty() {
            // API Gateway also hands over the query decoded, a repeated name's values joined by
            // commas.
            let mut parameters = serde_json::Map::new();
            for (name, value) in form_urlencoded::parse(self.query.as_bytes()) {
                match parameters.get_mut(name.as_ref()) {
                    Some(Value::String(joined)) => {
                        joined.push(',');
                        joined.push_str(&value);
                    }
                    _ => {
                        parameters.insert(name.into_owned(), json!(value));
                    }
                }
            }
            event["queryStringParameters"] = Value::Object(parameters);
        }
        if let Some(body) = &self.body {
            event["body"] = json!(body);
        }
        event
    }
}

impl From<Event> for Value {
    fn from(event: Event) -> Self {
        event.to_json()
    }
}

/// Every hidden field of a served page's form, decoded from its HTML (the page's escaping of
/// `&`, quotes, `<`, `>` and `/` undone): what a browser posts back with the form.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((unescape_html(name), unescape_html(value)))
        })
        .collect()
}

fn unescape_html(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_lower_cased_and_replace_the_defaults() {
        let event = Event::post("/p")
            .header("Host", "localhost:9011")
            .headers([("X-Forwarded-Proto", "http"), ("cookie", "a=1")])
            .header("COOKIE", "b=2")
            .without_header("Content-Type")
            .to_json();
        assert_eq!(
            event["headers"],
            json!({"host": "localhost:9011", "x-forwarded-proto": "http", "cookie": "b=2"})
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_sent_base64_encoded_and_text_as_is() {
        let binary = Event::post("/p").bytes_body(&[0xff, 0x00, b'a']).to_json();
        assert_eq!(binary["body"], "/wBh");
        assert_eq!(binary["isBase64Encoded"], true);
        let text = Event::post("/p").bytes_body("é{".as_bytes()).to_json();
        assert_eq!(text["body"], "é{");
        assert_eq!(text["isBase64Encoded"], false);
        let forced = Event::post("/p").base64_body(b"{}").to_json();
        assert_eq!(forced["body"], "e30=");
        assert_eq!(forced["isBase64Encoded"], true);
    }

    #[test]
    fn without_a_body_or_cookies_the_event_has_neither() {
        let event = Event::post("/p").to_json();
        assert!(event.get("body").is_none(), "{event}");
        assert!(event.get("cookies").is_none(), "{event}");
        assert_eq!(event["isBase64Encoded"], false);
    }

    #[test]
    fn method_path_and_request_context_follow_the_builder() {
        let event = Event::new("PUT", "/api/x")
            .source_ip("198.51.100.1")
            .user_agent("ua")
            .request_id("id-1")
            .cookie("a=1")
            .cookie("b=2")
            .to_json();
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(event["routeKey"], "PUT /api/x");
        assert_eq!(event["rawPath"], "/api/x");
        let context = &event["requestContext"];
        assert_eq!(context["routeKey"], "PUT /api/x");
        assert_eq!(context["http"]["method"], "PUT");
        assert_eq!(context["http"]["path"], "/api/x");
        assert_eq!(context["http"]["sourceIp"], "198.51.100.1");
        assert_eq!(context["http"]["userAgent"], "ua");
        assert_eq!(context["requestId"], "id-1");
        assert_eq!(context["domainName"], DOMAIN_NAME);
        assert_eq!(context["timeEpoch"], TIME_EPOCH_MILLIS);
    }
}
