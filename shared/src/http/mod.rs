//! The HTTP edge: what every function does with API Gateway's request before the use case, and
//! how every outcome becomes a response. A handler never returns `Err`: API Gateway would turn it
//! into an opaque 502.

pub mod api_logout;
mod approve;
pub mod authorize;
pub mod authorize_wait;
pub mod discovery;
pub mod fallback;
pub mod keys;
pub mod landing;
pub mod login;
pub mod logout;
pub mod oauth_error;
pub mod pages;
pub mod redirect_back;
pub mod refresh;
pub mod registration;
pub mod revoke;
pub mod send;
pub mod start;
pub mod token;
pub mod user_import;
pub mod userinfo;
pub mod users;
pub mod validate;

use lambda_http::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use lambda_http::lambda_runtime::Diagnostic;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Body, IntoResponse, LambdaEvent, Request, Response, Service};
use serde::Serialize;
use serde_json::Value;

use crate::errors::Errors;

pub use crate::limits::MAX_BODY_BYTES;

pub const TENANT_HEADER: &str = "x-fusionauth-tenantid";
const JSON: &str = "application/json; charset=UTF-8";

/// A header's value as text; a value that is not valid text counts as absent.
pub fn header_str<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// One invocation of an HTTP function, recorded: whatever the use case counts goes to `recorder`,
/// and the answer's status is counted as `Requests` ([`crate::metrics::request`]). Each function's
/// `main` serves its handler through this, and so does the test harness.
pub async fn recorded(
    recorder: &crate::metrics::Recorder,
    handler: impl std::future::Future<Output = Response<Body>>,
) -> Response<Body> {
    recorder
        .record(async {
            let response = handler.await;
            crate::metrics::request(response.status().as_u16());
            response
        })
        .await
}

/// `lambda_http::run`, with the client-controlled parts of the event that lambda_http builds the
/// request URI from made safe first. lambda_http 1.x joins `X-Forwarded-Proto`, `Host` and the
/// raw query string into a URL and panics when they do not make one (`X-Forwarded-Proto: ` gave
/// a 500 before the handler ran): that would be a 5xx for client input.
pub async fn run<'a, R, S, E>(handler: S) -> Result<(), lambda_http::Error>
where
    S: Service<Request, Response = R, Error = E>,
    S::Future: Send + 'a,
    R: IntoResponse,
    E: std::fmt::Debug + Into<Diagnostic>,
{
    let mut adapter = Adapter::from(handler);
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |mut event: LambdaEvent<LambdaRequest>| {
            make_uri_safe(&mut event.payload);
            adapter.call(event)
        },
    ))
    .await
}

/// Drops what would not make a URL: an `X-Forwarded-Proto` other than `http`/`https`, a `Host`
/// that is not a host name (lambda_http then uses API Gateway's domain name), a query string
/// that is not a URI query (no endpoint reads one).
pub fn make_uri_safe(event: &mut LambdaRequest) {
    if let LambdaRequest::ApiGatewayV2(event) = event {
        keep_only(&mut event.headers, "x-forwarded-proto", |v| {
            v.eq_ignore_ascii_case("http") || v.eq_ignore_ascii_case("https")
        });
        keep_only(&mut event.headers, "host", |v| {
            !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
        if let Some(query) = &event.raw_query_string {
            if format!("https://localhost/?{query}")
                .parse::<Uri>()
                .is_err()
            {
                event.raw_query_string = None;
            }
        }
    }
}

fn keep_only(headers: &mut HeaderMap, name: &'static str, ok: impl Fn(&str) -> bool) {
    let valid: Vec<HeaderValue> = headers
        .get_all(name)
        .iter()
        .filter(|v| v.to_str().is_ok_and(|v| ok(v.trim())))
        .cloned()
        .collect();
    headers.remove(name);
    for value in valid {
        headers.append(name, value);
    }
}

/// The `X-FusionAuth-TenantId` header as text. A value that is not text stands as one that is not
/// a UUID: it scopes the call to no tenant (start refuses it), never to every tenant.
pub fn tenant_header(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(TENANT_HEADER)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
}

/// The tenant an anonymous call (send, login) is scoped to. An unreadable header scopes to no
/// tenant at all, so nothing matches it.
pub fn tenant_scope(request: &Request) -> Option<uuid::Uuid> {
    match tenant_header(request).map(str::trim) {
        None | Some("") => None,
        Some(h) => Some(uuid::Uuid::parse_str(h).unwrap_or(uuid::Uuid::nil())),
    }
}

/// The body as a JSON object, or the response that refuses it: 413 when it is too large, 400
/// `[invalidJSON]` when it is not a JSON object.
#[allow(clippy::result_large_err)]
pub fn json_object(request: &Request) -> Result<serde_json::Map<String, Value>, Response<Body>> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(errors(
            StatusCode::PAYLOAD_TOO_LARGE,
            &Errors::general(
                "[tooLarge]body",
                format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
            ),
        ));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(errors(
            StatusCode::BAD_REQUEST,
            &Errors::general(
                "[invalidJSON]",
                "Unable to parse the request body as a JSON object.",
            ),
        )),
    }
}

/// Cookies are `Secure` unless the request came over plain HTTP to this machine's loopback (`make
/// dev`, `cargo lambda watch`), where a browser would otherwise drop them. API Gateway always says
/// `X-Forwarded-Proto: https`; the request URI is no guide, as lambda_http writes `https` into it
/// whenever that header is missing.
pub fn served_over_plain_loopback(request: &Request) -> bool {
    let https =
        header_str(request, "x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let host = header_str(request, "host").unwrap_or_default();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !https && loopback
}

pub fn cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The `access_token` and `refresh_token` cookies a login or a refresh sets, as FusionAuth sets
/// them: both `HttpOnly; SameSite=Lax`, the refresh token's for as long as it lives.
pub fn set_token_cookies(
    response: &mut Response<Body>,
    access: Option<&crate::session::AccessToken>,
    refresh: Option<&crate::session::IssuedRefreshToken>,
    plain_loopback: bool,
) {
    let secure = if plain_loopback { "" } else { "; Secure" };
    let mut cookies = Vec::new();
    if let Some(access) = access {
        cookies.push(format!(
            "access_token={}; Path=/; HttpOnly; SameSite=Lax{secure}",
            access.token
        ));
    }
    if let Some(refresh) = refresh {
        cookies.push(format!(
            "refresh_token={}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{secure}",
            refresh.token, refresh.lifetime_seconds
        ));
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

/// The request's query parameters, decoded. lambda_http's own map is not used: `cargo lambda
/// watch` and API Gateway fill it differently, the raw query string is the same in both.
pub fn query_params(request: &Request) -> Vec<(String, String)> {
    request
        .uri()
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The first value of the query parameter `name`, when it is not blank.
pub fn query_param<'q>(params: &'q [(String, String)], name: &str) -> Option<&'q str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The body as a JSON object, an empty one when there is no body.
#[allow(clippy::result_large_err)]
pub fn optional_json_object(
    request: &Request,
) -> Result<serde_json::Map<String, Value>, Response<Body>> {
    let empty = match request.body() {
        Body::Empty => true,
        Body::Text(text) => text.trim().is_empty(),
        Body::Binary(bytes) => bytes.iter().all(u8::is_ascii_whitespace),
        _ => true,
    };
    if empty {
        return Ok(serde_json::Map::new());
    }
    json_object(request)
}

/// Where the client reached this service: `https://` and the host it asked for (`http://` on
/// plain loopback), for the URLs a discovery document names.
pub fn base_url(request: &Request) -> String {
    let host = header_str(request, "host")
        .map(str::to_owned)
        .or_else(|| request.uri().host().map(str::to_owned))
        .unwrap_or_else(|| "localhost".to_owned());
    let scheme = if served_over_plain_loopback(request) {
        "http"
    } else {
        "https"
    };
    format!("{scheme}://{host}")
}

/// A JSON response anyone may cache for `max_age_seconds` (public keys, discovery): a resource
/// server fetching the JWKS at every request costs it a round trip and us an invocation.
pub fn public_json<T: Serialize>(value: &T, max_age_seconds: u32) -> Response<Body> {
    let mut response = json(StatusCode::OK, value);
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age_seconds}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

fn base(status: StatusCode) -> lambda_http::http::response::Builder {
    Response::builder()
        .status(status)
        .header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// A JSON response with FusionAuth's content type.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(body) => base(status)
            .header(header::CONTENT_TYPE, JSON)
            .body(Body::Text(body))
            .unwrap_or_else(|_| internal_error()),
        Err(_) => internal_error(),
    }
}

/// A response without a body and without a JSON content type (FusionAuth's 401, 404, …).
pub fn empty(status: StatusCode) -> Response<Body> {
    base(status)
        .body(Body::Empty)
        .unwrap_or_else(|_| internal_error())
}

pub fn errors(status: StatusCode, errors: &Errors) -> Response<Body> {
    json(status, errors)
}

/// 500 with an `Errors` body; the cause goes to the log, never to the client, and the failing
/// operation to the `DependencyFailures` metric.
pub fn dependency_failed(error: &crate::ports::StoreError) -> Response<Body> {
    tracing::error!(error = %error, "a dependency failed");
    crate::metrics::dependency_failure(error.operation);
    errors(
        StatusCode::INTERNAL_SERVER_ERROR,
        &Errors::general(
            "[InternalError]",
            "The request could not be completed. Try again later.",
        ),
    )
}

fn internal_error() -> Response<Body> {
    let mut response = Response::new(Body::Text(
        r#"{"fieldErrors":{},"generalErrors":[{"code":"[InternalError]","message":"The request could not be completed."}]}"#.to_owned(),
    ));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
    use lambda_http::http::Method;

    fn event(headers: &[(&'static str, &'static [u8])], query: &str) -> LambdaRequest {
        let mut event = ApiGatewayV2httpRequest::default();
        event.raw_path = Some("/api/passwordless/login".into());
        event.raw_query_string = Some(query.into());
        event.request_context.http.method = Method::POST;
        event.request_context.domain_name = Some("api.example.com".into());
        for (name, value) in headers {
            event
                .headers
                .append(*name, HeaderValue::from_bytes(value).unwrap());
        }
        LambdaRequest::ApiGatewayV2(event)
    }

    fn is_valid_proto(value: &[u8]) -> bool {
        value == b"https"
    }

    fn is_valid_host(value: &[u8]) -> bool {
        value == b"api.example.com"
    }

    fn to_request(mut event: LambdaRequest) -> Request {
        make_uri_safe(&mut event);
        Request::from(event)
    }

    #[test]
    fn forwarded_headers_that_make_no_url_are_dropped_before_lambda_http_reads_them() {
        for (proto, host) in [
            (&b""[..], &b"api.example.com"[..]),
            (b" ", b"api.example.com"),
            (b"ht tp", b"api.example.com"),
            (b"1", b"api.example.com"),
            (b"https", b"a b"),
            (b"https", b"user@evil/x"),
            (b"\xff", b"\xfe"),
        ] {
            let request = to_request(event(&[("x-forwarded-proto", proto), ("host", host)], ""));
            assert_eq!(request.uri().path(), "/api/passwordless/login");
            assert_eq!(request.uri().host(), Some("api.example.com"));
            assert!(!is_valid_proto(proto) || !is_valid_host(host));
        }
        let request = to_request(event(&[("x-forwarded-proto", b"%zz <>")], "a=<b> c"));
        assert_eq!(request.uri().path(), "/api/passwordless/login");
    }

    #[test]
    fn valid_forwarded_headers_are_kept() {
        let request = to_request(event(
            &[
                ("x-forwarded-proto", b"https"),
                ("host", b"api.example.com:443"),
            ],
            "a=b",
        ));
        assert_eq!(request.headers()["x-forwarded-proto"], "https");
        assert_eq!(request.uri().host(), Some("api.example.com"));
        assert_eq!(request.uri().query(), Some("a=b"));
    }

    #[test]
    fn a_tenant_header_that_is_not_text_scopes_to_no_tenant() {
        let with = |value: &[u8]| {
            let mut request = Request::new(Body::Empty);
            request
                .headers_mut()
                .insert(TENANT_HEADER, HeaderValue::from_bytes(value).unwrap());
            tenant_scope(&request)
        };
        assert_eq!(with(b"\xc2\x84"), Some(uuid::Uuid::nil()));
        assert_eq!(with(b"not-a-uuid"), Some(uuid::Uuid::nil()));
        assert_eq!(with(b"  "), None);
        let id = "f24aca2b-ce4a-4dad-951a-c9d690e71415";
        assert_eq!(with(id.as_bytes()), uuid::Uuid::parse_str(id).ok());
        assert_eq!(tenant_scope(&Request::new(Body::Empty)), None);
    }

    #[test]
    fn the_fallback_500_is_not_cached() {
        assert_eq!(
            internal_error().headers()[header::CACHE_CONTROL],
            "no-store"
        );
    }
}
