//! Issued tokens (issue 7, property 11), beyond what `login.rs` checks for the HS256 default:
//! with RS256 and ES256 keys too, the JWT header pins `alg` to the signing key's algorithm and its
//! `kid` names a key of the kickstart that verifies it; `iss`, `aud` and `exp` are set and
//! enforced; and every cookie is `HttpOnly`, `SameSite=Lax`, `Secure` (but over plain HTTP to the
//! loopback), without `Domain`.

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use crate::helpers::*;

pub(crate) const ADMIN_APP: &str = "10000000-0000-0002-0000-000000000002";
pub(crate) const RSA_KEY_ID: &str = "0c1f3e7a-5b0e-4c3f-9d55-2a8f1d7e6b02";
pub(crate) const EC_KEY_ID: &str = "0c1f3e7a-5b0e-4c3f-9d55-2a8f1d7e6b03";

/// Throwaway keys made for these tests (`openssl genpkey`); they sign nothing else.
const RSA_PRIVATE: &str = r"-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDmNLQMuk6VMaEO
V9tlkdzPBTm/ur2pZ3mTK26WXnxrtEEID6AJOszPAHWEJ7XnJl9EoZh9WcWnx4Qy
AeOi4/GbVHhxrY+Dg/6XlbN4fjM05QMCrVXV7EhjNsC1LxhxDoGAWC7SuF0vGvWb
++R0UV/ShwD+I5nOIiiws/YzWXmP7K8rqCCXcFfDGyHdF1Hva9RCtiz+mTMi9Kop
0R0rQB2yB/tx4e7cZ8Fsv0Oms8ldEDU2sXX7Wk7LrA7sdOFHAJRfe4qVeXAlRa35
mZfAB4JwJe1c/T8e51T1JTj0vgb5F3eYqklryGQqC09cwvY/qdnEKiGvl0Jo1Zon
LHz60fS1AgMBAAECggEAAs1b7ra626aPwRKxNT6OC0gTQKH3io8bo/64mSR7y7zV
ONGl307jrNZi19G67V4idT2pU0dLOGRdl9U9jd9L8tnXoHyeHVn3OKWmGl6g5XEv
NPJis9itNeX1+Q6ic8fbLDKGmWKModTobfZmPMM70R57FNzek6uHRsVeBxh8+hM/
0nSVc+k6RG0xIefU7WHT35fVcfQxTKQOmaf+p0L1fOKBIlbdIMNItezW9cd/hjhy
IdHsWjil/SjfVzuqgIDbpeJvz7Rl3OTqidJ2YZNPN6gwkkQ99MNyXW9P2NX9LhWF
84E56lluO3bByVJYujMZJz0l0EsMNZq7gF9A1dg1gQKBgQD2gTk9qrY9KWLLNGOk
z3GBKz1IBle1BYr3mpFdNP6kzCEoU96WPNjwaklszI/v8J25ux2OHs6vUwkB4CBC
w7/v8sdzOd/wxrtJq3ghqCDaDX92uO8GNtlsRRvlTNRisK6hj3E+Hiyz6CCTG/Ie
/NLxY+X/G+nweHQdbnc7AeBQgQKBgQDvEsG1cD03MQnot/TK+v4DX3LI9XvlVqjr
DNoVuJs+tFMfisy5GBXDtIuJefaBL3w8qTVYNhOyyXf4PGIun7KDnV+NAOCi0MXH
yesp3eq8SsXWr1jXRSWx2fALpWXn+EdzbgJvpCQLv6JKoOInZETxvAclkG6pvLvy
nqIY8hxKNQKBgQCUsSZCGHONOSWqxZNFmwwwilCQ3aKSQyGsccQ1oP3pkmh91vlx
Tordmn9n7Yz1gwLhQgl17QdnooLQas2K+GES8DN3QfXfW0EmExSH2M7YOUQl7S/h
Y7yLHrTRACMs1L7CHbCFc9YrP15G3piSMJddnJDj7YaT01TXXAb3xQ32AQKBgQCb
XGgPnaHaZP7YgfsNkXBTBssUNxtNnTRmk1KB/Ra99/dwrwV9X159cK2hKGX967rj
vN5Stcm1TOGuqqbvP46Fo1Z9zk0s4Vk2DUzKR1GNDVZlvkuQkXn+iu9I0jJYPetI
4vuoS1W1YNJ5hvWQvcNkCFnommSf32uQLnCOn3+s5QKBgD8AILMqb7h8lBFPM6eV
CnTVJSKDMTOvT3/l2Sox0/p895ScQbElQxxFk4NanSWQSqRhduBuBIYO+Y/WECG6
ZddkrE+urDRy1VopGdpVGGysCyUOEkYq7DqU7+eu4E1jXq/v0oTQns5UnXZMcXZH
ON3bf4v5octmyzOoTHztZzb6
-----END PRIVATE KEY-----";
pub(crate) const RSA_PUBLIC: &str = r"-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA5jS0DLpOlTGhDlfbZZHc
zwU5v7q9qWd5kytull58a7RBCA+gCTrMzwB1hCe15yZfRKGYfVnFp8eEMgHjouPx
m1R4ca2Pg4P+l5WzeH4zNOUDAq1V1exIYzbAtS8YcQ6BgFgu0rhdLxr1m/vkdFFf
0ocA/iOZziIosLP2M1l5j+yvK6ggl3BXwxsh3RdR72vUQrYs/pkzIvSqKdEdK0Ad
sgf7ceHu3GfBbL9DprPJXRA1NrF1+1pOy6wO7HThRwCUX3uKlXlwJUWt+ZmXwAeC
cCXtXP0/HudU9SU49L4G+Rd3mKpJa8hkKgtPXML2P6nZxCohr5dCaNWaJyx8+tH0
tQIDAQAB
-----END PUBLIC KEY-----";
pub(crate) const EC_PRIVATE: &str = r"-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgEW93EMQP5Y4VVxBw
CVzc1Xmwx338vLE7f1ylsu9/AXuhRANCAAQ1z9XaAGIU4ZelroQ7sQYhZOSCGU4I
wZ00D96ayxvrhZJgbwxgp/uiaLF3+kOnP2JWIqbJOqkbxTKcjQyTZyQj
-----END PRIVATE KEY-----";
pub(crate) const EC_PUBLIC: &str = r"-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENc/V2gBiFOGXpa6EO7EGIWTkghlO
CMGdNA/emssb64WSYG8MYKf7omixd/pDpz9iViKmyTqpG8UynI0Mk2ckIw==
-----END PUBLIC KEY-----";

/// The example kickstart with an RS256 key for the tenant and an ES256 key for the admin
/// application (an application's key wins over its tenant's).
pub(crate) fn kickstart_with_asymmetric_keys() -> Value {
    let mut kickstart: Value = serde_json::from_str(EXAMPLE_KICKSTART).unwrap();
    let keys = kickstart["keys"].as_array_mut().unwrap();
    keys.push(
        json!({"id": RSA_KEY_ID, "algorithm": "RS256", "name": "RSA test key",
                     "publicKey": RSA_PUBLIC, "privateKey": RSA_PRIVATE}),
    );
    keys.push(
        json!({"id": EC_KEY_ID, "algorithm": "ES256", "name": "EC test key",
                     "publicKey": EC_PUBLIC, "privateKey": EC_PRIVATE}),
    );
    kickstart["tenants"][0]["jwtConfiguration"]["accessTokenKeyId"] = json!(RSA_KEY_ID);
    kickstart["applications"][1]["jwtConfiguration"] = json!({"accessTokenKeyId": EC_KEY_ID});
    kickstart
}

/// The key of `kickstart` a token's `kid` names, as a verifier would find it.
fn verifier_for(kickstart: &Value, kid: &str) -> (Algorithm, DecodingKey) {
    let key = kickstart["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == kid)
        .unwrap_or_else(|| panic!("kid {kid} names no key of the kickstart"));
    match key["algorithm"].as_str().unwrap() {
        "RS256" => (
            Algorithm::RS256,
            DecodingKey::from_rsa_pem(key["publicKey"].as_str().unwrap().as_bytes()).unwrap(),
        ),
        "ES256" => (
            Algorithm::ES256,
            DecodingKey::from_ec_pem(key["publicKey"].as_str().unwrap().as_bytes()).unwrap(),
        ),
        other => panic!("{other}"),
    }
}

pub(crate) async fn logged_in_token(app: &TestApp, login_id: &str, application: &str) -> String {
    app.log_in(login_id, application).await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn rs256_and_es256_tokens_pin_alg_to_their_key_and_their_kid_finds_the_key_that_verifies_them(
) {
    let kickstart = kickstart_with_asymmetric_keys();
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    for (login_id, application, expected_kid, expected_alg) in [
        (
            "richard@piedpiper.com",
            WEB_APP,
            RSA_KEY_ID,
            Algorithm::RS256,
        ),
        (
            "jared@piedpiper.com",
            ADMIN_APP,
            EC_KEY_ID,
            Algorithm::ES256,
        ),
    ] {
        let token = logged_in_token(&app, login_id, application).await;
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, expected_alg, "{login_id}");
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let kid = header.kid.expect("the header has a kid");
        assert_eq!(kid, expected_kid);

        let (alg, key) = verifier_for(&kickstart, &kid);
        let mut validation = Validation::new(alg);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&["piedpiper.com"]);
        validation.set_audience(&[application]);
        let claims = decode::<Value>(&token, &key, &validation)
            .unwrap_or_else(|e| panic!("{login_id}: {e}"))
            .claims;
        assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());

        // Verified only as its own algorithm: the HS256 secret of the tenant does not verify it.
        let hs = DecodingKey::from_base64_secret(kickstart["keys"][0]["secret"].as_str().unwrap())
            .unwrap();
        assert!(decode::<Value>(&token, &hs, &Validation::new(Algorithm::HS256)).is_err());
    }
}

#[tokio::test]
async fn a_token_does_not_verify_for_another_audience_or_issuer_and_expires_after_the_tenants_hour()
{
    let kickstart = kickstart_with_asymmetric_keys();
    let app = TestApp::spawn_with(&kickstart.to_string()).await;
    let token = logged_in_token(&app, "richard@piedpiper.com", WEB_APP).await;
    let (alg, key) = verifier_for(&kickstart, RSA_KEY_ID);

    let mut other_audience = Validation::new(alg);
    other_audience.set_audience(&[ADMIN_APP]);
    assert!(decode::<Value>(&token, &key, &other_audience).is_err());

    let mut other_issuer = Validation::new(alg);
    other_issuer.set_audience(&[WEB_APP]);
    other_issuer.set_issuer(&["hooli.com"]);
    assert!(decode::<Value>(&token, &key, &other_issuer).is_err());

    let mut right = Validation::new(alg);
    right.set_audience(&[WEB_APP]);
    right.set_issuer(&["piedpiper.com"]);
    let claims = decode::<Value>(&token, &key, &right).unwrap().claims;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
}

/// Each `Set-Cookie` as (name, lower-cased attribute names).
fn cookie_attributes(response: &TestResponse) -> Vec<(String, Vec<String>)> {
    response
        .cookies()
        .iter()
        .map(|cookie| {
            let mut parts = cookie.split(';').map(str::trim);
            let name = parts.next().unwrap().split('=').next().unwrap().to_owned();
            let attributes = parts
                .map(|p| p.split('=').next().unwrap().to_ascii_lowercase())
                .collect();
            (name, attributes)
        })
        .collect()
}

#[tokio::test]
async fn every_cookie_is_http_only_same_site_lax_without_domain_and_secure_but_on_plain_http_loopback(
) {
    let app = TestApp::spawn().await;
    let api = "abc123.execute-api.us-east-1.amazonaws.com";
    for (proto, host, secure) in [
        ("https", api, true),
        ("HTTPS", api, true),
        ("http", api, true),
        ("http", "127.0.0.1:9011", false),
    ] {
        let code = app
            .start_code(json!({"applicationId": WEB_APP, "loginId": "richard@piedpiper.com"}))
            .await["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let body = json!({"code": code, "applicationId": WEB_APP}).to_string();
        let response = app
            .login_event(event(
                "/api/passwordless/login",
                &[("x-forwarded-proto", proto), ("host", host)],
                &body,
            ))
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        let cookies = cookie_attributes(&response);
        let names: Vec<&str> = cookies.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["access_token", "refresh_token"], "{proto}");
        for (name, attributes) in &cookies {
            assert!(
                attributes.contains(&"httponly".to_owned()),
                "{proto} {name}"
            );
            assert!(response
                .cookies()
                .iter()
                .any(|c| c.starts_with(name.as_str()) && c.contains("SameSite=Lax")));
            assert!(!attributes.contains(&"domain".to_owned()), "{proto} {name}");
            assert_eq!(
                attributes.contains(&"secure".to_owned()),
                secure,
                "{proto} {name}"
            );
        }
    }
}
