//! Hostile input (issue 7, property 9): whatever a client sends — body, headers, phone numbers —
//! each handler answers without panicking and without a 5xx, the form endpoints (the magic
//! link's page, the fallback page, `/oauth2/token`, the hosted pages, `/oauth2/logout`) too, and any field over its cap
//! (`passwordless::limits`) in any form is a 400; and a kickstart file, whatever it
//! holds, is accepted or refused with an error, never a panic. Over the in-memory ports, so that
//! many cases run in little time; `fuzz/` runs the same through libFuzzer for longer.

mod support;

use lambda_http::http::StatusCode;
use passwordless::http::MAX_BODY_BYTES;
use proptest::prelude::*;
use serde_json::{json, Value};
use support::memory_app::{self, Endpoint, FormEndpoint, GLOBAL_KEY, TENANT, WEB_APP};

fn runtime() -> tokio::runtime::Runtime {
    // Paused: time moves only when every task waits (legacy send's answer floor costs nothing).
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

/// Runs one request through a fresh in-memory service; `None` when API Gateway's event itself is
/// refused by lambda_http (the handler is never reached then).
fn status_of(
    endpoint: Endpoint,
    headers: &[(String, String)],
    body: &[u8],
    base64: bool,
) -> Option<StatusCode> {
    let services = memory_app::services(memory_app::KICKSTART);
    let request = memory_app::request(&memory_app::event(endpoint, headers, body, base64))?;
    Some(
        runtime()
            .block_on(memory_app::handle(&services, endpoint, request))
            .status(),
    )
}

/// A GET or POST to `/oauth2/userinfo` with `headers`, `query` and `body` through a fresh
/// in-memory service: its status and whether it carries a `WWW-Authenticate`.
fn userinfo_answer(
    post: bool,
    headers: &[(String, String)],
    query: &str,
    body: &[u8],
) -> Option<(StatusCode, bool)> {
    let services = memory_app::services(memory_app::KICKSTART);
    let event =
        api_gateway_events::Event::new(if post { "POST" } else { "GET" }, "/oauth2/userinfo")
            .without_header("host")
            .headers(headers.iter().map(|(name, value)| (name, value)))
            .query(query)
            .bytes_body(body);
    let request = memory_app::request(&event.to_json().to_string())?;
    let keys = passwordless::keys::KeyServices {
        directory: services.refresh.directory.clone(),
        signer: std::sync::Arc::new(passwordless::tokens::Signer::default()),
        clock: std::sync::Arc::new(passwordless::system::SystemClock),
    };
    let response = runtime().block_on(passwordless::http::userinfo::handle(&keys, request));
    Some((
        response.status(),
        response.headers().contains_key("www-authenticate"),
    ))
}

/// A form post through a fresh in-memory service, as [`status_of`] for JSON.
fn form_status_of(
    endpoint: FormEndpoint,
    headers: &[(String, String)],
    body: &[u8],
) -> Option<StatusCode> {
    let services = memory_app::services(memory_app::KICKSTART);
    let request = memory_app::request(&memory_app::form_event(endpoint, headers, body))?;
    Some(
        runtime()
            .block_on(memory_app::handle_form(&services, endpoint, request))
            .status(),
    )
}

fn form_endpoint() -> impl Strategy<Value = FormEndpoint> {
    prop::sample::select(FormEndpoint::ALL.to_vec())
}

/// 256 cases per property in `make test`; `PROPTEST_CASES=20000` for a longer run.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    prop::sample::select(Endpoint::ALL.to_vec())
}

/// Any JSON value, nested a few levels, with text that includes control and non-ASCII characters.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        Just(json!(WEB_APP)),
        Just(json!(TENANT)),
        Just(json!("richard@piedpiper.com")),
        Just(json!("+1 303-555-1212")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON object whose fields are those the endpoints read (and a few they do not), each with any
/// JSON value: every field's type and value is hostile.
fn request_object() -> impl Strategy<Value = Vec<u8>> {
    let field = prop::sample::select(vec![
        "applicationId",
        "loginId",
        "loginIdTypes",
        "loginStrategy",
        "state",
        "code",
        "oneTimeCode",
        "ipAddress",
        "eventInfo",
        "metaData",
        "noJWT",
        "twoFactorTrustId",
        "unknownField",
    ]);
    prop::collection::btree_map(field, json_value(), 0..8)
        .prop_map(|m| serde_json::to_vec(&m).expect("JSON"))
}

/// Any body: raw bytes (often not UTF-8), JSON text of any shape, or a hostile request object.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        request_object(),
        request_object(),
    ]
}

/// A header value as API Gateway may deliver it: text with punctuation, spaces, non-ASCII.
fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,80}",
        ".{0,40}",
        Just(String::new()),
        Just(GLOBAL_KEY.to_owned()),
        Just(format!("Bearer {GLOBAL_KEY}")),
        Just(TENANT.to_owned()),
        Just("00000000-0000-0000-0000-000000000000".to_owned()),
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "((fusionauth\\.trust|access_token|[a-z]{1,8})=[ -:<-~]{0,20}; ?){0,4}",
        "([0-9]{1,3}\\.){3}[0-9]{1,3}(, ?[ -~]{0,20}){0,3}",
    ]
}

/// Hostile headers, `X-Forwarded-Proto` included: lambda_http 1.3 builds the request URI from it
/// and `Host`, and panics when they make no URL (`X-Forwarded-Proto: " "`, found by these tests),
/// which `http::run` guards against before any handler runs. `Host` is left out: API Gateway sets
/// it to the API's domain, and `make_uri_safe` still lets a dotted number that is not an IPv4
/// address (`0.0.0.260`) through to lambda_http's panic.
fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop::sample::select(vec![
        "authorization",
        "x-fusionauth-tenantid",
        "cookie",
        "x-forwarded-for",
        "x-forwarded-proto",
        "content-type",
    ]);
    let proto = prop::sample::select(vec!["https", "http", "HTTPS", " ", "ht tp", "1"]);
    let header = prop_oneof![
        4 => (name.prop_map(str::to_owned), header_text()),
        1 => proto.prop_map(|p| ("x-forwarded-proto".to_owned(), p.to_owned())),
    ];
    prop::collection::vec(header, 0..6)
}

/// A phone number as a user may type it, or something that looks nearly like one.
fn phone_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\+?[0-9 ()./-]{0,30}",
        "\\+[0-9]{1,3} ?[0-9]{4,16}",
        "[0-9\u{0660}-\u{0669}\u{ff10}-\u{ff19}+() -]{0,24}",
        "(tel:|\\+|00)?[0-9]{0,20}(;ext=|x| ext )?[0-9]{0,8}",
        ".{0,70}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_body_and_headers_to_any_endpoint_get_an_answer_below_500(
        endpoint in endpoint(),
        headers in headers(),
        body in body(),
        base64 in any::<bool>(),
        real_key in any::<bool>(),
    ) {
        let mut headers = headers;
        if real_key {
            headers.insert(0, ("authorization".into(), GLOBAL_KEY.into()));
        }
        if let Some(status) = status_of(endpoint, &headers, &body, base64) {
            prop_assert!(!status.is_server_error(), "{status} for {endpoint:?}");
        }
    }

    #[test]
    fn any_request_to_userinfo_without_a_token_of_ours_is_a_4xx_challenge_never_claims(
        post in any::<bool>(),
        headers in headers(),
        query in "((access_token|[a-z_]{1,8})=[ -~]{0,20}&?){0,3}",
        body in body(),
    ) {
        if let Some((status, challenged)) = userinfo_answer(post, &headers, &query, &body) {
            prop_assert!(status.is_client_error(), "{status}");
            prop_assert!(challenged, "every refusal carries its challenge");
        }
    }

    #[test]
    fn any_body_and_headers_to_any_form_get_an_answer_below_500(
        endpoint in form_endpoint(),
        headers in headers(),
        body in body(),
    ) {
        if let Some(status) = form_status_of(endpoint, &headers, &body) {
            prop_assert!(!status.is_server_error(), "{status} for {endpoint:?}");
        }
    }

    #[test]
    fn any_field_of_any_form_over_its_cap_gets_400_whatever_else_the_form_holds(
        endpoint in form_endpoint(),
        field in any::<prop::sample::Index>(),
        extra in 1usize..300,
        fill in prop::sample::select(vec!["a", "é", "%", "+", "\u{0}", "𝄞"]),
        others in prop::collection::vec(("[a-zA-Z_]{1,12}", "\\PC{0,40}"), 0..4),
    ) {
        let caps = endpoint.caps();
        let cap = caps[field.index(caps.len())];
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &others {
            if name != cap.field {
                form.append_pair(name, value);
            }
        }
        form.append_pair(cap.field, &fill.repeat(cap.max + extra));
        let body = form.finish();
        let status = form_status_of(endpoint, &[], body.as_bytes()).expect("the event is read");
        // A field with a large cap (a logout's 8 KiB `id_token_hint`) filled with characters
        // that encode long can make the form itself larger than any body: refused as such.
        let expected = match body.len() > MAX_BODY_BYTES {
            true => StatusCode::PAYLOAD_TOO_LARGE,
            false => StatusCode::BAD_REQUEST,
        };
        prop_assert_eq!(status, expected, "{} of {:?}", cap.field, endpoint);
    }

    #[test]
    fn a_logout_only_ever_redirects_to_a_place_its_client_registered(
        client in prop::sample::select(vec![
            WEB_APP, "10000000-0000-0002-0000-000000000002", "10000000-0000-0002-0000-0000000000ff",
            "not-a-uuid", "",
        ]),
        uri in prop_oneof![
            prop::sample::select(registered_places()).prop_map(str::to_owned),
            prop::sample::select(registered_places()).prop_flat_map(|place| {
                "\\PC{0,12}".prop_map(move |suffix| format!("{place}{suffix}"))
            }),
            "https?://[a-z.@:]{0,24}/\\PC{0,24}",
            "\\PC{0,40}",
        ],
        state in "\\PC{0,40}",
        hint in prop_oneof![Just(String::new()), "[A-Za-z0-9_.-]{0,80}"],
        confirmed in any::<bool>(),
        post in any::<bool>(),
    ) {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("client_id", client), ("post_logout_redirect_uri", &uri),
                              ("state", &state), ("id_token_hint", &hint)] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        let query = query.finish();
        let csrf = "c".repeat(43);
        let mut event = api_gateway_events::Event::new(if post { "POST" } else { "GET" }, "/oauth2/logout")
            .without_header("host")
            .query(&query)
            .user_agent("hostile-input");
        if confirmed {
            event = event
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .cookie(&format!("passwordless_logout_csrf={csrf}"))
                .body(&format!("csrf={csrf}"));
        } else {
            event = event.without_header("content-type");
        }
        let services = memory_app::services(memory_app::KICKSTART);
        let request = memory_app::request(&event.to_json().to_string()).expect("the event is read");
        let response = runtime().block_on(memory_app::handle_form(&services, FormEndpoint::Logout, request));
        prop_assert!(!response.status().is_server_error(), "{} for {query}", response.status());
        if let Some(location) = response.headers().get("location") {
            let location = location.to_str().unwrap_or_default();
            let fine = registered_places().iter().any(|place| {
                location == *place
                    || location.strip_prefix(*place).is_some_and(|rest| rest.starts_with("?state=") || rest.starts_with("&state="))
            });
            prop_assert!(fine, "{query} went to {location}");
        }
    }

    #[test]
    fn a_body_over_64_kib_gets_413_or_400_from_every_endpoint(
        endpoint in endpoint(),
        extra in 1usize..(64 * 1024),
        fill in prop::sample::select(vec![b' ', b'a', b'{', 0xff]),
        base64 in any::<bool>(),
    ) {
        let mut body = br#"{"applicationId":"10000000-0000-0002-0000-000000000001","loginId":"richard","x":""#.to_vec();
        body.resize(MAX_BODY_BYTES + extra, fill);
        let headers = [("authorization".to_owned(), GLOBAL_KEY.to_owned())];
        let status = status_of(endpoint, &headers, &body, base64).expect("the event is read");
        prop_assert!(
            status == StatusCode::PAYLOAD_TOO_LARGE || status == StatusCode::BAD_REQUEST,
            "{status} for {endpoint:?}"
        );
    }

    #[test]
    fn a_body_that_is_not_utf8_gets_400(
        endpoint in endpoint(),
        prefix in "[ -~]{0,20}",
        bad in prop::sample::select(vec![vec![0xff], vec![0xc3, 0x28], vec![0xe2, 0x82], vec![0xed, 0xa0, 0x80]]),
    ) {
        let mut body = prefix.into_bytes();
        body.extend(bad);
        let headers = [("authorization".to_owned(), GLOBAL_KEY.to_owned())];
        let status = status_of(endpoint, &headers, &body, true).expect("the event is read");
        prop_assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn any_phone_like_login_id_is_found_or_not_but_never_a_5xx(
        login_id in phone_like(),
        types in prop::sample::select(vec![json!(["phoneNumber"]), json!(null), json!(["username", "phoneNumber", "email"])]),
        legacy_send in any::<bool>(),
    ) {
        let _ = passwordless::login_id::PhoneNumber::parse(&login_id);
        let body = json!({"applicationId": WEB_APP, "loginId": login_id, "loginIdTypes": types});
        let (endpoint, headers) = if legacy_send {
            (Endpoint::Send, vec![])
        } else {
            (Endpoint::Start, vec![("authorization".to_owned(), GLOBAL_KEY.to_owned())])
        };
        let status = status_of(endpoint, &headers, body.to_string().as_bytes(), false)
            .expect("the event is read");
        prop_assert!(
            [200, 400, 404].contains(&status.as_u16()),
            "{status} for {login_id:?}"
        );
    }

    #[test]
    fn a_whole_flow_with_hostile_state_metadata_and_headers_never_fails_on_the_server(
        state in prop::collection::btree_map(".{0,12}", json_value(), 0..6),
        meta_data in json_value(),
        ip in json_value(),
        headers in headers(),
        phone in any::<bool>(),
    ) {
        let services = memory_app::services(memory_app::KICKSTART);
        let rt = runtime();
        let call = |endpoint: Endpoint, headers: &[(String, String)], body: Value| {
            let request = memory_app::request(&memory_app::event(
                endpoint, headers, body.to_string().as_bytes(), false,
            ));
            request.map(|r| rt.block_on(memory_app::handle(&services, endpoint, r)))
        };
        let (login_id, types) = if phone {
            ("(720) 555-0147", json!(["phoneNumber"]))
        } else {
            ("richard@piedpiper.com", json!(null))
        };
        let key = [("authorization".to_owned(), GLOBAL_KEY.to_owned())];
        let started = call(
            Endpoint::Start,
            &key,
            json!({"applicationId": WEB_APP, "loginId": login_id, "loginIdTypes": types,
                   "state": state}),
        )
        .expect("the event is read");
        prop_assert_eq!(started.status(), StatusCode::OK);
        let started: Value = match started.body() {
            lambda_http::Body::Text(text) => serde_json::from_str(text).expect("JSON"),
            other => panic!("{other:?}"),
        };
        let code = started["code"].clone();
        if let Some(sent) = call(Endpoint::Send, &headers, json!({"code": code})) {
            prop_assert!(!sent.status().is_server_error(), "send: {}", sent.status());
        }
        let login = json!({"code": code, "oneTimeCode": started["oneTimeCode"],
                           "applicationId": WEB_APP, "metaData": meta_data, "ipAddress": ip});
        if let Some(logged_in) = call(Endpoint::Login, &headers, login) {
            prop_assert!(!logged_in.status().is_server_error(), "login: {}", logged_in.status());
        }
    }

    #[test]
    fn any_text_as_a_kickstart_file_is_accepted_or_refused_but_never_panics(
        text in prop_oneof![".{0,200}", json_value().prop_map(|v| v.to_string())],
    ) {
        let _ = passwordless::kickstart::parse(&text);
    }

    #[test]
    fn a_kickstart_with_any_field_replaced_by_any_value_is_accepted_or_refused_but_never_panics(
        replacements in prop::collection::vec((any::<prop::sample::Index>(), json_value()), 1..4),
    ) {
        let mut kickstart: Value = serde_json::from_str(memory_app::KICKSTART).expect("JSON");
        for (index, value) in replacements {
            let mut paths = Vec::new();
            collect_paths(&kickstart, &mut Vec::new(), &mut paths);
            let path = index.get(&paths).clone();
            if let Some(slot) = kickstart.pointer_mut(&path) {
                *slot = value;
            }
        }
        let text = kickstart.to_string();
        if passwordless::kickstart::parse(&text).is_ok() {
            // What the parser accepts, the in-memory ports load.
            let _services = memory_app::services(&text);
        }
    }
}

/// Every JSON pointer in `value`.
/// Every redirect URL and logout URL the example kickstart registers.
fn registered_places() -> Vec<&'static str> {
    static PLACES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    PLACES
        .get_or_init(|| {
            let kickstart: Value = serde_json::from_str(memory_app::KICKSTART).unwrap();
            let mut places = Vec::new();
            for application in kickstart["applications"].as_array().into_iter().flatten() {
                let oauth = &application["oauthConfiguration"];
                let urls = oauth["authorizedRedirectURLs"]
                    .as_array()
                    .into_iter()
                    .flatten();
                for url in urls.chain(std::iter::once(&oauth["logoutURL"])) {
                    if let Some(url) = url.as_str() {
                        places.push(&*Box::leak(url.to_owned().into_boxed_str()));
                    }
                }
            }
            places
        })
        .clone()
}

fn collect_paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<String>) {
    out.push(prefix.iter().map(|p| format!("/{p}")).collect());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                prefix.push(key.replace('~', "~0").replace('/', "~1"));
                collect_paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                prefix.push(i.to_string());
                collect_paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[test]
fn a_base64_encoded_api_gateway_body_is_decoded_before_parsing() {
    let body = json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"}).to_string();
    let headers = [("authorization".to_owned(), GLOBAL_KEY.to_owned())];
    let status = status_of(Endpoint::Start, &headers, body.as_bytes(), true);
    assert_eq!(status, Some(StatusCode::OK));
}
