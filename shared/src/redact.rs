//! `Debug` of what holds a secret (a code, a one-time code, a refresh token, an authorization
//! code, a code verifier, an API key, a JWT, a verification or two-factor id): the secret shows
//! as `<redacted>`, so that a value logged with `{:?}` logs nobody in. Each such type writes its
//! `Debug` by hand with these two, and the test below formats every one of them.

/// What a secret's place shows.
pub const REDACTED: &str = "<redacted>";

/// `Some("<redacted>")` for a secret that is there, `None` for one that is not: whether it was
/// given is worth a log line, its value never.
pub fn redacted<T>(secret: &Option<T>) -> Option<&'static str> {
    secret.as_ref().map(|_| REDACTED)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use crate::login::{LoggedIn, LoggedInKind, LoginOutcome, VerificationIds};
    use crate::oauth2::landing::{ClickCommand, Clicked, CodeRedirect};
    use crate::ports::{Email, Sms};
    use crate::refresh::Exchanged;
    use crate::session::{AccessToken, IssuedRefreshToken};
    use crate::templates::RenderedEmail;

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtand0In0.c2lnbmF0dXJlLXNlY3JldA";
    const REFRESH_TOKEN: &str = "refresh-token-secret-0123456789abcdefghijklmnop";
    const LINK_CODE: &str = "link-code-secret-0123456789abcdefghijklmnopq";
    const ONE_TIME_CODE: &str = "917364";
    const AUTHORIZATION_CODE: &str = "authorization-code-secret-0123456789";
    const VERIFICATION_ID: &str = "verification-id-secret-0123456789";
    const TWO_FACTOR_ID: &str = "two-factor-id-secret-0123456789";
    const CHANGE_PASSWORD_ID: &str = "change-password-id-secret-0123456789";
    const TRUST_ID: &str = "trust-id-secret-0123456789";
    const PENDING_COOKIE: &str = "pending-login-cookie-secret-0123456789";
    const SECRETS: [&str; 10] = [
        JWT,
        REFRESH_TOKEN,
        LINK_CODE,
        ONE_TIME_CODE,
        AUTHORIZATION_CODE,
        VERIFICATION_ID,
        TWO_FACTOR_ID,
        CHANGE_PASSWORD_ID,
        TRUST_ID,
        PENDING_COOKIE,
    ];

    fn assert_redacted(debug: String) {
        for secret in SECRETS {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(debug.contains(super::REDACTED), "{debug}");
    }

    fn access_token() -> AccessToken {
        AccessToken {
            token: JWT.to_owned(),
            expires_at_millis: 1_700_000_000_000,
        }
    }

    fn refresh_token() -> IssuedRefreshToken {
        IssuedRefreshToken {
            token: REFRESH_TOKEN.to_owned(),
            id: Uuid::from_u128(1),
            lifetime_seconds: 3600,
        }
    }

    fn verification_ids() -> VerificationIds {
        VerificationIds {
            email: Some(VERIFICATION_ID.to_owned()),
            identity: Some(VERIFICATION_ID.to_owned()),
            registration: Some(VERIFICATION_ID.to_owned()),
        }
    }

    fn logged_in() -> LoggedIn {
        let user = serde_json::from_value(json!({
            "id": Uuid::from_u128(2), "tenantId": Uuid::from_u128(3),
            "email": "richard@piedpiper.com"
        }))
        .expect("a user");
        LoggedIn {
            kind: LoggedInKind::Complete,
            access_token: Some(access_token()),
            refresh_token: Some(refresh_token()),
            verification: verification_ids(),
            state: None,
            user,
            authenticated_at_millis: 1_700_000_000_000,
        }
    }

    fn granted() -> crate::refresh::Granted {
        let logged_in = logged_in();
        crate::refresh::Granted {
            tenant: serde_json::from_value(json!({"id": Uuid::from_u128(3), "name": "Pied Piper"}))
                .expect("a tenant"),
            application: serde_json::from_value(
                json!({"id": Uuid::from_u128(4), "tenantId": Uuid::from_u128(3), "name": "Web"}),
            )
            .expect("an application"),
            user: logged_in.user,
            auth_time: 1_700_000_000,
            scope: Some("openid offline_access".to_owned()),
        }
    }

    #[test]
    fn every_type_that_holds_a_secret_debugs_without_it() {
        assert_redacted(format!("{:?}", access_token()));
        assert_redacted(format!("{:?}", verification_ids()));
        assert_redacted(format!("{:?}", logged_in()));
        assert_redacted(format!(
            "{:?}",
            LoginOutcome::LoggedIn(Box::new(logged_in()))
        ));
        assert_redacted(format!(
            "{:?}",
            LoginOutcome::TwoFactorRequired {
                two_factor_id: TWO_FACTOR_ID.to_owned(),
                methods: vec![json!({"id": "m1", "method": "email", "email": "r@piedpiper.com"})],
            }
        ));
        assert_redacted(format!(
            "{:?}",
            LoginOutcome::PasswordChangeRequired {
                change_password_id: CHANGE_PASSWORD_ID.to_owned(),
                reason: "Administrative".to_owned(),
            }
        ));
        assert_redacted(format!(
            "{:?}",
            ClickCommand {
                one_time_code: Some(ONE_TIME_CODE.to_owned()),
                ip_address: Some("192.0.2.1".to_owned()),
                trust_id: Some(TRUST_ID.to_owned()),
                pending_cookie: Some(PENDING_COOKIE.to_owned()),
                user_hint: None,
            }
        ));
        assert_redacted(format!(
            "{:?}",
            Clicked::Redirect(
                CodeRedirect {
                    redirect_uri: crate::oauth2::RedirectUri::parse(
                        "https://piedpiper.com/callback"
                    )
                    .expect("a redirect URI"),
                    mode: crate::oauth2::ResponseMode::Query,
                    params: vec![
                        ("code".to_owned(), AUTHORIZATION_CODE.to_owned()),
                        ("state".to_owned(), "xyz".to_owned()),
                    ],
                },
                crate::oauth2::hosted::SignedIn {
                    tenant_id: uuid::Uuid::nil(),
                    user_id: uuid::Uuid::nil(),
                    authenticated_at_millis: 0,
                    refresh_token_id: None,
                    hosted: true,
                    sso_cookie: Some(format!("fusionauth.sso={TRUST_ID}")),
                }
            )
        ));
        assert_redacted(format!(
            "{:?}",
            Exchanged {
                access_token: access_token(),
                refresh_token: refresh_token(),
                granted: granted(),
            }
        ));
        let text = format!("https://piedpiper.com/oauth2/passwordless/{LINK_CODE} {ONE_TIME_CODE}");
        assert_redacted(format!(
            "{:?}",
            Email {
                from_address: "no-reply@piedpiper.com".to_owned(),
                from_name: None,
                to: "richard@piedpiper.com".to_owned(),
                subject: "Your login".to_owned(),
                html: text.clone(),
                text: text.clone(),
            }
        ));
        assert_redacted(format!(
            "{:?}",
            Sms {
                to: "+13035551212".to_owned(),
                text: text.clone(),
            }
        ));
        assert_redacted(format!(
            "{:?}",
            RenderedEmail {
                from_name: None,
                subject: "Your login".to_owned(),
                html: text.clone(),
                text,
            }
        ));
    }

    #[test]
    fn what_is_not_secret_still_shows() {
        let debug = format!("{:?}", logged_in());
        assert!(debug.contains("Complete"), "{debug}");
        assert!(debug.contains(&Uuid::from_u128(2).to_string()), "{debug}");
        let debug = format!("{:?}", access_token());
        assert!(debug.contains("1700000000000"), "{debug}");
    }
}
