//! Id tokens any relying party verifies (issue 24, item 7), through the landing and token
//! functions' handlers against DynamoDB on moto: `jwtConfiguration.idTokenKeyId` (the
//! application's wins over the tenant's) picks the key; an RS256 or ES256 id token verifies with
//! the JWKS key its `kid` names; an HMAC one with the client secret (OIDC Core 10.1), never with
//! the unpublished HMAC key; `at_hash` uses the algorithm's hash; the refresh grant's id token
//! follows the same rules; and discovery lists exactly the algorithms configured.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use sha2::Digest;

use crate::helpers::*;
use crate::oauth2::{
    exchange, id_claims, open_and_click, redirected, start, token, web_state, REDIRECT, VERIFIER,
    WEB_SECRET,
};
use crate::tokens::{kickstart_with_asymmetric_keys, EC_KEY_ID, RSA_KEY_ID};

const HS256_KEY_ID: &str = "0c1f3e7a-5b0e-4c3f-9d55-2a8f1d7e6b01";
const HS512_KEY_ID: &str = "0c1f3e7a-5b0e-4c3f-9d55-2a8f1d7e6b05";
/// 64 bytes: as long as HS512's hash, as RFC 7518 3.2 asks of its key.
const LONG_WEB_SECRET: &str = "pied-piper-web-client-secret-of-sixty-four-bytes-0123456789abcde";

/// The tokens of Richard's code grant to the web app (scope `openid offline_access`).
async fn web_tokens(app: &TestApp) -> Value {
    let code = start(app, WEB_APP, "richard@piedpiper.com", web_state()).await;
    let query = redirected(&open_and_click(app, &code).await, REDIRECT);
    let answer = exchange(app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

/// `grant_type=refresh_token` for the web app (a public client: no secret needed).
async fn refreshed(app: &TestApp, refresh_token: &str) -> Value {
    let answer = token(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", WEB_APP),
        ],
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

/// The claims of `jwt` verified with the key of the service's JWKS that its `kid` names, as
/// authlib and go-oidc verify an id token; panics if no published key verifies it.
async fn verified_with_jwks(app: &TestApp, jwt: &str, audience: &str) -> (Algorithm, Value) {
    let header = decode_header(jwt).expect("a JWS header");
    let kid = header.kid.clone().expect("an id token names its key");
    let set: JwkSet = serde_json::from_str(&app.jwks().await.body).expect("a JWK set");
    let jwk = set
        .find(&kid)
        .unwrap_or_else(|| panic!("the JWKS publishes no key {kid}"));
    let key = DecodingKey::from_jwk(jwk).expect("a usable JWK");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&["piedpiper.com"]);
    let claims = decode::<Value>(jwt, &key, &validation)
        .unwrap_or_else(|e| panic!("{e}: {jwt}"))
        .claims;
    (header.alg, claims)
}

/// OIDC Core 3.1.3.6: base64url of the left half of the access token's hash.
fn at_hash<D: Digest>(access_token: &str) -> String {
    let digest = D::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[tokio::test]
async fn an_rs256_id_token_key_of_the_tenant_signs_id_tokens_the_jwks_verifies_in_both_grants() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["keys"] = kickstart_with_asymmetric_keys()["keys"].clone();
    kickstart["tenants"][0]["jwtConfiguration"]["idTokenKeyId"] = json!(RSA_KEY_ID);
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let tokens = web_tokens(&app).await;
    let access = tokens["access_token"].as_str().unwrap();
    let (alg, id) = verified_with_jwks(&app, tokens["id_token"].as_str().unwrap(), WEB_APP).await;
    assert_eq!(alg, Algorithm::RS256);
    assert_eq!(
        decode_header(access).unwrap().alg,
        Algorithm::HS256,
        "the access token keeps its own key"
    );
    assert_eq!(id["at_hash"], at_hash::<sha2::Sha256>(access));
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["sub"], tokens["userId"]);

    let again = refreshed(&app, tokens["refresh_token"].as_str().unwrap()).await;
    let (alg, refreshed_id) =
        verified_with_jwks(&app, again["id_token"].as_str().unwrap(), WEB_APP).await;
    assert_eq!(alg, Algorithm::RS256);
    assert_eq!(
        refreshed_id["at_hash"],
        at_hash::<sha2::Sha256>(again["access_token"].as_str().unwrap())
    );
    assert_eq!(refreshed_id["sub"], id["sub"]);
}

#[tokio::test]
async fn the_applications_id_token_key_wins_over_the_tenants() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["keys"] = kickstart_with_asymmetric_keys()["keys"].clone();
    kickstart["tenants"][0]["jwtConfiguration"]["idTokenKeyId"] = json!(RSA_KEY_ID);
    kickstart["applications"][0]["jwtConfiguration"] = json!({"idTokenKeyId": EC_KEY_ID});
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let tokens = web_tokens(&app).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(
        decode_header(id_token).unwrap().kid.as_deref(),
        Some(EC_KEY_ID)
    );
    let (alg, id) = verified_with_jwks(&app, id_token, WEB_APP).await;
    assert_eq!(alg, Algorithm::ES256);
    assert_eq!(
        id["at_hash"],
        at_hash::<sha2::Sha256>(tokens["access_token"].as_str().unwrap())
    );
    // Discovery lists what the tenant and its applications sign id tokens with.
    let document = app
        .discovery("/.well-known/openid-configuration", "")
        .await
        .json();
    assert_eq!(
        document["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256"]),
        "the tenant's RS256 (its other applications' too) and the web app's ES256"
    );
}

#[tokio::test]
async fn an_hmac_id_token_is_signed_with_the_client_secret_and_not_with_the_hmac_key() {
    let app = TestApp::spawn().await;
    let tokens = web_tokens(&app).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let header = decode_header(id_token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.kid.as_deref(), Some(HS256_KEY_ID));
    let id = id_claims(id_token, WEB_APP, WEB_SECRET);
    assert_eq!(
        id["at_hash"],
        at_hash::<sha2::Sha256>(tokens["access_token"].as_str().unwrap())
    );
    let hmac_key = STANDARD
        .decode("c2VjcmV0LWZvci1sb2NhbC1kZXZlbG9wbWVudC1vbmx5LWNoYW5nZS1tZQ==")
        .unwrap();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[WEB_APP]);
    assert!(
        decode::<Value>(id_token, &DecodingKey::from_secret(&hmac_key), &validation).is_err(),
        "the HS256 key, which no relying party has, does not verify it"
    );
    let again = refreshed(&app, tokens["refresh_token"].as_str().unwrap()).await;
    let refreshed_id = id_claims(again["id_token"].as_str().unwrap(), WEB_APP, WEB_SECRET);
    assert_eq!(refreshed_id["sub"], id["sub"]);
}

#[tokio::test]
async fn an_hs512_id_token_key_signs_with_the_client_secret_and_hashes_at_hash_with_sha512() {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    kickstart["keys"].as_array_mut().unwrap().push(json!({
        "id": HS512_KEY_ID, "algorithm": "HS512", "name": "HS512 id tokens",
        "secret": STANDARD.encode([7u8; 64]),
    }));
    let web = &mut kickstart["applications"][0];
    web["jwtConfiguration"] = json!({"idTokenKeyId": HS512_KEY_ID});
    web["oauthConfiguration"]["clientSecret"] = json!(LONG_WEB_SECRET);
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let tokens = web_tokens(&app).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(decode_header(id_token).unwrap().alg, Algorithm::HS512);
    let id = id_claims(id_token, WEB_APP, LONG_WEB_SECRET);
    assert_eq!(
        id["at_hash"],
        at_hash::<sha2::Sha512>(tokens["access_token"].as_str().unwrap())
    );
    let document = app
        .discovery("/.well-known/openid-configuration", "")
        .await
        .json();
    assert_eq!(
        document["id_token_signing_alg_values_supported"],
        json!(["HS256", "HS512", "RS256"])
    );
}
