//! What a resource server uses to trust our tokens, through each function with its own role:
//! the JWKS (public keys only, cacheable), `/api/jwt/public-key`, the discovery document (per
//! tenant too) and `/api/jwt/validate` (algorithm pinned to the key the `kid` names).

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::tokens::{
    kickstart_with_asymmetric_keys, logged_in_token, ADMIN_APP, EC_KEY_ID, EC_PUBLIC, RSA_KEY_ID,
    RSA_PUBLIC,
};

const HS256_KEY_ID: &str = "0c1f3e7a-5b0e-4c3f-9d55-2a8f1d7e6b01";

#[tokio::test]
async fn the_jwks_publishes_every_rs256_and_es256_key_and_an_es256_token_verifies_with_it_alone() {
    let app = TestApp::spawn_with(&kickstart_with_asymmetric_keys().to_string()).await;
    let jwks = app.jwks().await;
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.header("cache-control"), Some("public, max-age=300"));
    let set = jwks.json();
    let keys = set["keys"].as_array().unwrap();
    let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2, "{set}");
    assert!(
        kids.contains(&RSA_KEY_ID) && kids.contains(&EC_KEY_ID),
        "{set}"
    );
    assert!(
        !kids.contains(&HS256_KEY_ID),
        "an HS256 secret is never published"
    );
    for key in keys {
        assert_eq!(key["use"], "sig");
        assert!(
            key.get("d").is_none() && key.get("p").is_none(),
            "a private part: {key}"
        );
    }
    // A resource server with only the JWKS verifies an ES256 token.
    let token = logged_in_token(&app, "jared@piedpiper.com", ADMIN_APP).await;
    let kid = decode_header(&token).unwrap().kid.unwrap();
    let jwk: Jwk = serde_json::from_value(
        keys.iter()
            .find(|k| k["kid"] == kid.as_str())
            .unwrap()
            .clone(),
    )
    .unwrap();
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[ADMIN_APP]);
    validation.set_issuer(&["piedpiper.com"]);
    let verified = decode::<Value>(&token, &DecodingKey::from_jwk(&jwk).unwrap(), &validation);
    assert_eq!(verified.unwrap().claims["applicationId"], ADMIN_APP);
}

#[tokio::test]
async fn the_jwks_function_can_read_no_signing_key_as_on_aws() {
    let app = TestApp::spawn_with(&kickstart_with_asymmetric_keys().to_string()).await;
    let read = app
        .jwks_fn
        .services
        .directory
        .signing_key(EC_KEY_ID.parse().unwrap())
        .await;
    let error = read
        .expect_err("the JWKS role reads only the published keys")
        .to_string();
    assert!(
        error.contains("AccessDenied") || error.contains("not authorized"),
        "{error}"
    );
}

#[tokio::test]
async fn a_public_key_is_found_by_key_id_and_by_application_and_an_hmac_key_has_none() {
    let app = TestApp::spawn_with(&kickstart_with_asymmetric_keys().to_string()).await;
    let by_kid = app.public_key(&format!("kid={EC_KEY_ID}")).await;
    assert_eq!(by_kid.status, 200);
    assert_eq!(
        by_kid.json()["publicKey"].as_str().unwrap().trim(),
        EC_PUBLIC.trim()
    );
    let admin = app.public_key(&format!("applicationId={ADMIN_APP}")).await;
    assert_eq!(
        admin.json()["publicKey"].as_str().unwrap().trim(),
        EC_PUBLIC.trim()
    );
    // The web application has no key of its own: its tenant's.
    let web = app.public_key(&format!("applicationId={WEB_APP}")).await;
    assert_eq!(
        web.json()["publicKey"].as_str().unwrap().trim(),
        RSA_PUBLIC.trim()
    );
    let all = app.public_key("").await.json();
    assert_eq!(all["publicKeys"].as_object().unwrap().len(), 2, "{all}");
    for query in [
        format!("kid={HS256_KEY_ID}"),
        "kid=not-a-uuid".to_owned(),
        "applicationId=00000000-0000-0000-0000-00000000dead".to_owned(),
    ] {
        assert_eq!(app.public_key(&query).await.status, 404, "{query}");
    }
}

#[tokio::test]
async fn discovery_describes_the_named_or_default_tenant_with_endpoints_that_exist() {
    let app = TestApp::spawn().await;
    for (path, query) in [
        ("/.well-known/openid-configuration", ""),
        (&*format!("/{TENANT}/.well-known/openid-configuration"), ""),
        (
            "/.well-known/openid-configuration",
            &*format!("tenantId={TENANT}"),
        ),
    ] {
        let response = app.discovery(path, query).await;
        assert_eq!(response.status, 200, "{path}?{query}");
        let document = response.json();
        assert_eq!(document["issuer"], "piedpiper.com");
        assert_eq!(
            document["jwks_uri"],
            "https://abc123.execute-api.us-east-1.amazonaws.com/.well-known/jwks.json"
        );
        assert_eq!(
            document["id_token_signing_alg_values_supported"],
            json!(["HS256", "RS256"]),
            "the example's HS256 id tokens, and RS256 as OpenID Connect Discovery requires"
        );
    }
    let unknown = app
        .discovery(
            "/00000000-0000-0000-0000-00000000dead/.well-known/openid-configuration",
            "",
        )
        .await;
    assert_eq!(unknown.status, 404);
    let garbage = app
        .discovery("/x/.well-known/openid-configuration", "")
        .await;
    assert_eq!(garbage.status, 404);
}

#[tokio::test]
async fn validate_answers_the_claims_of_our_own_unexpired_tokens_and_401_for_anything_else() {
    let mut app = TestApp::spawn_with(&kickstart_with_asymmetric_keys().to_string()).await;
    for (login_id, application) in [
        ("richard@piedpiper.com", WEB_APP),
        ("jared@piedpiper.com", ADMIN_APP),
    ] {
        let token = logged_in_token(&app, login_id, application).await;
        let valid = app.validate(&format!("Bearer {token}")).await;
        assert_eq!(valid.status, 200, "{}", valid.body);
        assert_eq!(valid.json()["jwt"]["applicationId"], application);

        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut flipped = signature.to_owned();
        flipped.replace_range(
            ..2,
            if signature.starts_with("AA") {
                "BB"
            } else {
                "AA"
            },
        );
        for bad in [
            format!("Bearer {input}.{flipped}"),
            format!("Bearer {input}"),
            token.clone(),
            "Bearer ".to_owned(),
            "Bearer a.b.c".to_owned(),
        ] {
            let refused = app.validate(&bad).await;
            assert_eq!(refused.status, 401, "{bad}");
            assert_eq!(refused.body, "");
        }
    }
    // alg confusion: HS256 "signed" with the RSA public key as the secret, naming the RSA key.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some(RSA_KEY_ID.to_owned()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &json!({"sub": "x", "exp": 4_000_000_000i64}),
        &jsonwebtoken::EncodingKey::from_secret(RSA_PUBLIC.as_bytes()),
    )
    .unwrap();
    assert_eq!(app.validate(&format!("Bearer {forged}")).await.status, 401);
    // An hour and a second later the token has expired.
    let token = logged_in_token(&app, "richard@piedpiper.com", WEB_APP).await;
    let clock = crate::clock::TestClock::now();
    clock.advance(3_601_000);
    app.set_clock(clock);
    assert_eq!(app.validate(&format!("Bearer {token}")).await.status, 401);
}

/// An operator replaces the signing key's material under the same id (a kickstart reloaded with
/// a new secret, as after a leak): a warm login function signs the next token with the new
/// secret at once, and a warm validate function verifies with it, never with the old one.
#[tokio::test]
async fn a_key_replaced_under_its_id_signs_and_verifies_with_its_new_material_in_a_warm_function() {
    use base64::Engine;
    let mut app = TestApp::spawn().await;
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let verifies = |token: &str, secret: &str| {
        let secret = base64::engine::general_purpose::STANDARD
            .decode(secret)
            .unwrap();
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_audience(&[WEB_APP]);
        validation.set_issuer(&["piedpiper.com"]);
        decode::<Value>(token, &DecodingKey::from_secret(&secret), &validation).is_ok()
    };
    let old_secret = kickstart["keys"][0]["secret"].as_str().unwrap().to_owned();
    let before = logged_in_token(&app, "richard@piedpiper.com", WEB_APP).await;
    assert!(verifies(&before, &old_secret));
    let validated = app.validate(&format!("Bearer {before}")).await;
    assert_eq!(validated.status, 200, "{}", validated.body);

    let new_secret = base64::engine::general_purpose::STANDARD
        .encode("a replacement secret of 32 bytes, fresh from the operator");
    kickstart["keys"][0]["secret"] = json!(new_secret);
    assert_eq!(kickstart["keys"][0]["id"], HS256_KEY_ID);
    app.reload(&kickstart.to_string()).await;

    let after = logged_in_token(&app, "richard@piedpiper.com", WEB_APP).await;
    assert_eq!(
        decode_header(&after).unwrap().kid.as_deref(),
        Some(HS256_KEY_ID)
    );
    assert!(verifies(&after, &new_secret), "signed with the new secret");
    assert!(!verifies(&after, &old_secret), "not with the old one");
    let validated = app.validate(&format!("Bearer {after}")).await;
    assert_eq!(validated.status, 200, "{}", validated.body);
    let stale = app.validate(&format!("Bearer {before}")).await;
    assert_eq!(
        stale.status, 401,
        "the old secret verifies nothing any more"
    );
}

/// A key id as FusionAuth generates them: not a UUID, not the key's `id`.
const FUSIONAUTH_KID: &str = "Gq3_fusionauth-kid.9f2c";

#[tokio::test]
async fn a_kickstart_keys_own_kid_is_kept_so_tokens_fusionauth_minted_still_validate() {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let mut kickstart = kickstart_with_asymmetric_keys();
    for key in kickstart["keys"].as_array_mut().unwrap() {
        if key["id"] == EC_KEY_ID {
            key["kid"] = json!(FUSIONAUTH_KID);
        }
    }
    let app = TestApp::spawn_with(&kickstart.to_string()).await;

    let set = app.jwks().await.json();
    let kids: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&FUSIONAUTH_KID), "{set}");
    assert!(
        !kids.contains(&EC_KEY_ID),
        "the key's own kid, not its id: {set}"
    );
    let by_kid = app.public_key(&format!("kid={FUSIONAUTH_KID}")).await;
    assert_eq!(by_kid.status, 200, "{}", by_kid.body);
    assert!(by_kid.json()["publicKey"]
        .as_str()
        .unwrap()
        .contains("BEGIN PUBLIC KEY"));
    let all = app.public_key("").await.json();
    assert!(all["publicKeys"][FUSIONAUTH_KID].is_string(), "{all}");

    // Our tokens carry it...
    let ours = logged_in_token(&app, "jared@piedpiper.com", ADMIN_APP).await;
    assert_eq!(
        decode_header(&ours).unwrap().kid.as_deref(),
        Some(FUSIONAUTH_KID)
    );
    assert_eq!(app.validate(&format!("Bearer {ours}")).await.status, 200);

    // ...and a token FusionAuth minted with that key before the migration validates.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(FUSIONAUTH_KID.to_owned());
    let claims = json!({"sub": "00000000-0000-0001-0000-000000000002", "iss": "piedpiper.com",
        "aud": ADMIN_APP, "applicationId": ADMIN_APP, "iat": now, "exp": now + 600,
        "authenticationType": "PASSWORDLESS"});
    let minted = encode(
        &header,
        &claims,
        &EncodingKey::from_ec_pem(crate::tokens::EC_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    let validated = app.validate(&format!("Bearer {minted}")).await;
    assert_eq!(validated.status, 200, "{}", validated.body);
    assert_eq!(validated.json()["jwt"]["aud"], ADMIN_APP);
    // A kid that names no key stays unknown.
    let mut stranger = Header::new(Algorithm::ES256);
    stranger.kid = Some("another-kid".to_owned());
    let forged = encode(
        &stranger,
        &claims,
        &EncodingKey::from_ec_pem(crate::tokens::EC_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(app.validate(&format!("Bearer {forged}")).await.status, 401);
}

#[tokio::test]
async fn a_tenant_whose_issuer_is_its_path_on_loopback_is_discovered_under_it_with_every_field() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let issuer = format!("http://127.0.0.1:9011/{TENANT}");
    kickstart["tenants"][0]["issuer"] = json!(issuer);
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    // `{issuer}/.well-known/openid-configuration`, as openid-client and go-oidc build it, over
    // plain HTTP to the loopback (`make dev`).
    let event =
        api_gateway_events::Event::get(&format!("/{TENANT}/.well-known/openid-configuration"))
            .header("host", "127.0.0.1:9011")
            .without_header("x-forwarded-proto");
    let response = TestResponse::from(
        passwordless::http::discovery::handle(&app.discovery_fn.services, request(event.to_json()))
            .await,
    );
    assert_eq!(response.status, 200, "{}", response.body);
    let document = response.json();
    assert_eq!(document["issuer"], json!(issuer), "byte for byte");
    let root = "http://127.0.0.1:9011";
    for (field, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("userinfo_endpoint", "/oauth2/userinfo"),
        ("end_session_endpoint", "/oauth2/logout"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(document[field], format!("{root}{path}"), "{field}");
    }
    for (field, value) in [
        ("response_types_supported", json!(["code"])),
        ("response_modes_supported", json!(["query", "form_post"])),
        (
            "grant_types_supported",
            json!(["authorization_code", "refresh_token"]),
        ),
        ("subject_types_supported", json!(["public"])),
        (
            "token_endpoint_auth_methods_supported",
            json!(["client_secret_basic", "client_secret_post", "none"]),
        ),
        ("code_challenge_methods_supported", json!(["S256"])),
        (
            "authorization_response_iss_parameter_supported",
            json!(true),
        ),
        ("request_uri_parameter_supported", json!(false)),
        ("request_parameter_supported", json!(false)),
        ("claims_parameter_supported", json!(false)),
    ] {
        assert_eq!(document[field], value, "{field}");
    }
    let scopes = document["scopes_supported"].as_array().unwrap();
    for scope in ["openid", "offline_access", "email", "profile", "phone"] {
        assert!(scopes.contains(&json!(scope)), "{scope}");
    }
    let claims = document["claims_supported"].as_array().unwrap();
    for claim in [
        "sub",
        "email",
        "email_verified",
        "name",
        "phone_number",
        "auth_time",
    ] {
        assert!(claims.contains(&json!(claim)), "{claim}");
    }
    assert!(document["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("RS256")));
}
