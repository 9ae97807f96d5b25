//! The kickstart rules, file by file and object by object.

use super::*;

const EXAMPLE: &str = include_str!("../../../kickstart/demo.json");

#[test]
fn the_demo_kickstart_loads() {
    let kickstart = parse(EXAMPLE).unwrap();
    assert!(!kickstart.users.is_empty());
    assert!(kickstart.api_keys.iter().all(|(hash, _)| hash.len() == 64));
}

#[test]
fn identities_are_derived_in_canonical_form() {
    let kickstart = parse(
        r#"{"tenants":[{"id":"f24aca2b-ce4a-4dad-951a-c9d690e71415"}],
            "users":[{"id":"00000000-0000-0001-0000-000000000001",
                      "tenantId":"f24aca2b-ce4a-4dad-951a-c9d690e71415",
                      "email":"Richard@PiedPiper.com","username":"Richard",
                      "phoneNumber":"(303) 555-1212"}]}"#,
    )
    .unwrap();
    let user = &kickstart.users[0];
    assert_eq!(user.email.as_deref(), Some("richard@piedpiper.com"));
    assert_eq!(user.phone_number.as_deref(), Some("+13035551212"));
    let values: Vec<_> = user.identities.iter().map(|i| i.value.as_str()).collect();
    assert_eq!(values, ["richard@piedpiper.com", "+13035551212", "richard"]);
}

#[test]
fn a_bad_file_is_refused_naming_the_object_and_field() {
    let err = parse(
        r#"{"users":[{"id":"00000000-0000-0001-0000-000000000001",
                      "tenantId":"f24aca2b-ce4a-4dad-951a-c9d690e71415",
                      "phoneNumber":"not a phone"}]}"#,
    )
    .unwrap_err();
    assert_eq!(
        (err.object.as_str(), err.field.as_str()),
        ("users[0]", "phoneNumber")
    );

    let err = parse(r#"{"tenants":[{"id":"x"}]}"#).unwrap_err();
    assert_eq!(
        (err.object.as_str(), err.field.as_str()),
        ("tenants[0]", "id")
    );
}

#[test]
fn an_es256_key_on_another_curve_is_refused_at_load_not_at_login() {
    // A P-384 key: a PEM parser took it, the P-256 signer would not.
    let err = parse(P384_KEY_KICKSTART).unwrap_err();
    assert_eq!(
        (err.object.as_str(), err.field.as_str()),
        ("keys[0]", "privateKey")
    );
}

const P384_KEY_KICKSTART: &str = r#"{"keys": [{"id": "a0000000-0000-4000-8000-000000000384", "algorithm": "ES256", "privateKey": "-----BEGIN PRIVATE KEY-----\nMIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDj7wx8BciS2WxHE0ny\n6cicXmJXMpET6HzZfnlbvnBC7zBGykVzNAmk2dmHdoP2wCGhZANiAAS3C4betHd2\nKknn7AGYp+bowFef18Rcb4vHwfX8mDqfkhFHxQFe8FptTa1ifdTCBf5FVrbTjxdF\n9RZVi8EU2MknPbIp+ZFfu6B9QLNm2zpV6A9IVJw8DWFIX/0JAxHHIl0=\n-----END PRIVATE KEY-----\n"}]}"#;

#[test]
fn two_users_of_a_tenant_cannot_share_an_identity() {
    let err = parse(
        r#"{"users":[
          {"id":"00000000-0000-0001-0000-000000000001","tenantId":"f24aca2b-ce4a-4dad-951a-c9d690e71415","email":"a@b.com"},
          {"id":"00000000-0000-0001-0000-000000000002","tenantId":"f24aca2b-ce4a-4dad-951a-c9d690e71415","email":"A@b.com"}]}"#,
    )
    .unwrap_err();
    assert_eq!(
        (err.object.as_str(), err.field.as_str()),
        ("users[1]", "email")
    );
}

#[test]
fn a_code_lifetime_over_ten_minutes_is_refused() {
    let err = parse(
        r#"{"tenants":[{"id":"f24aca2b-ce4a-4dad-951a-c9d690e71415",
            "externalIdentifierConfiguration":{"passwordlessLoginTimeToLiveInSeconds":601}}]}"#,
    )
    .unwrap_err();
    assert!(err.field.ends_with("passwordlessLoginTimeToLiveInSeconds"));
}

#[test]
fn a_users_share_of_an_enabled_sms_bucket_must_be_above_zero() {
    let guard = |guard: serde_json::Value| {
        parse(
            &serde_json::json!({"tenants": [{"id": "f24aca2b-ce4a-4dad-951a-c9d690e71415",
                "smsGuardConfiguration": guard}]})
            .to_string(),
        )
    };
    let err = guard(serde_json::json!({"perUserPrefixLimit": 0})).unwrap_err();
    assert_eq!(err.field, "smsGuardConfiguration.perUserPrefixLimit");
    let err = guard(serde_json::json!({"perUserDailyLimit": 0})).unwrap_err();
    assert_eq!(err.field, "smsGuardConfiguration.perUserDailyLimit");
    // A share of a bucket that is off is never used.
    assert!(guard(serde_json::json!({
        "prefixRateLimit": {"enabled": false}, "perUserPrefixLimit": 0
    }))
    .is_ok());
}

/// A tenant whose code generators are `code` and `one_time_code` (`[type, length]`).
fn tenant_with_generators(code: (&str, u32), one_time_code: (&str, u32)) -> String {
    serde_json::json!({"tenants": [{"id": "f24aca2b-ce4a-4dad-951a-c9d690e71415",
        "externalIdentifierConfiguration": {
            "passwordlessLoginGenerator": {"type": code.0, "length": code.1},
            "passwordlessLoginOneTimeCodeGenerator":
                {"type": one_time_code.0, "length": one_time_code.1}}}]})
    .to_string()
}

#[test]
fn a_code_generator_needs_128_bits_counted_from_its_alphabet() {
    let refused = |kind, length| {
        parse(&tenant_with_generators((kind, length), ("randomDigits", 6)))
            .err()
            .map(|e| e.field)
    };
    // 24 digits are about 80 bits: refused, though they are 24 characters.
    assert_eq!(
        refused("randomDigits", 24).as_deref(),
        Some("externalIdentifierConfiguration.passwordlessLoginGenerator")
    );
    assert!(refused("randomDigits", 39).is_none(), "129.6 bits");
    assert!(refused("randomAlpha", 27).is_some(), "126.9 bits");
    assert!(refused("randomAlpha", 28).is_none());
    assert!(refused("randomAlphaNumeric", 25).is_none(), "129.2 bits");
    assert!(refused("randomBytes", 15).is_some());
    assert!(refused("randomBytes", 16).is_none());
}

#[test]
fn a_one_time_code_needs_the_20_bits_of_six_digits() {
    let refused = |kind, length| {
        parse(&tenant_with_generators(("randomBytes", 32), (kind, length)))
            .err()
            .map(|e| e.field)
    };
    assert!(refused("randomDigits", 6).is_none());
    assert_eq!(
        refused("randomDigits", 5).as_deref(),
        Some("externalIdentifierConfiguration.passwordlessLoginOneTimeCodeGenerator")
    );
    assert!(refused("randomAlpha", 4).is_some(), "18.8 bits");
    assert!(refused("randomAlpha", 5).is_none());
    assert!(refused("randomAlphaNumeric", 4).is_none(), "20.7 bits");
    assert!(refused("randomBytes", 8).is_some(), "not typeable");
}

#[test]
fn a_two_factor_secret_is_dropped_when_a_user_is_read() {
    let kickstart = parse(
        r#"{"tenants":[{"id":"f24aca2b-ce4a-4dad-951a-c9d690e71415"}],
            "users":[{"id":"00000000-0000-0001-0000-000000000001",
              "tenantId":"f24aca2b-ce4a-4dad-951a-c9d690e71415", "email":"a@b.example",
              "twoFactor":{"methods":[{"id":"35VW","method":"authenticator",
                                       "secret":"JBSWY3DPEHPK3PXP"}]}}]}"#,
    )
    .unwrap();
    let user = serde_json::to_string(&kickstart.users[0]).unwrap();
    assert!(user.contains("35VW"));
    assert!(!user.contains("JBSWY3DPEHPK3PXP"));
}

/// A file with an HS384 key and an RS-less tenant whose `idTokenKeyId` is that key, and an OAuth
/// application with `secret` (or none).
fn hmac_id_token_file(secret: Option<&str>, redirect: bool) -> String {
    let secret = secret.map_or(String::new(), |s| format!(r#""clientSecret":"{s}","#));
    let redirect = if redirect {
        r#""authorizedRedirectURLs":["https://app.example/cb"]"#
    } else {
        r#""authorizedRedirectURLs":[]"#
    };
    format!(
        r#"{{"keys":[{{"id":"0c1f3e7a-5b0e-4c3f-9d55-2a8f1d7e6b01","algorithm":"HS384",
             "secret":"c2VjcmV0LWZvci1sb2NhbC1kZXZlbG9wbWVudC1vbmx5LWNoYW5nZS1tZS1wbGVhc2UtY2hhbmdlLW1l"}}],
            "tenants":[{{"id":"f24aca2b-ce4a-4dad-951a-c9d690e71415","issuer":"https://a.example",
                "jwtConfiguration":{{"idTokenKeyId":"0c1f3e7a-5b0e-4c3f-9d55-2a8f1d7e6b01"}}}}],
            "applications":[{{"id":"10000000-0000-0002-0000-000000000001",
                "tenantId":"f24aca2b-ce4a-4dad-951a-c9d690e71415",
                "oauthConfiguration":{{{secret}{redirect}}}}}]}}"#
    )
}

#[test]
fn an_oauth_application_whose_id_tokens_are_hmac_keeps_its_client_secret_to_sign_them() {
    let secret = "a-client-secret-of-forty-eight-bytes-0123456789ab";
    let kickstart = parse(&hmac_id_token_file(Some(secret), true)).unwrap();
    let oauth = &kickstart.applications[0].oauth_configuration;
    assert_eq!(
        oauth.id_token_secret.as_ref().map(|s| s.0.as_str()),
        Some(secret)
    );
    assert!(
        !format!("{oauth:?}").contains(secret),
        "the secret is never logged"
    );
    let published = kickstart.published();
    assert!(published
        .id_token_signers
        .iter()
        .all(|s| s.algorithm == crate::model::SigningAlgorithm::HS384));
    assert_eq!(
        published.id_token_signers.len(),
        2,
        "the tenant and its application"
    );
}

#[test]
fn an_hmac_id_token_needs_a_client_secret_as_long_as_its_hash() {
    for secret in [
        None,
        Some("only-forty-seven-bytes-of-client-secret-0123456"),
    ] {
        let err = parse(&hmac_id_token_file(secret, true)).unwrap_err();
        assert_eq!(
            (err.object.as_str(), err.field.as_str()),
            ("applications[0]", "oauthConfiguration.clientSecret"),
            "{secret:?}"
        );
        assert!(err.message.contains("at least 48 bytes"), "{}", err.message);
    }
}

#[test]
fn a_client_secret_is_kept_only_where_hmac_id_tokens_need_it() {
    // No redirect URL: no id token is ever issued to the application.
    let kickstart = parse(&hmac_id_token_file(Some("short-but-16-chars"), false)).unwrap();
    assert_eq!(
        kickstart.applications[0]
            .oauth_configuration
            .id_token_secret,
        None
    );
    // The example's id tokens are HS256 too; an RS256 idTokenKeyId keeps no secret.
    let example = parse(include_str!(
        "../../../tests/fixtures/kickstart.example.json"
    ))
    .unwrap();
    assert!(example.applications[0]
        .oauth_configuration
        .id_token_secret
        .is_some());
    let es256 = parse(include_str!("../../../tests/fixtures/kickstart.es256.json")).unwrap();
    assert!(es256
        .applications
        .iter()
        .all(|a| a.oauth_configuration.id_token_secret.is_none()));
}
