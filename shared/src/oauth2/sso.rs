//! The SSO session: a browser that completed a hosted login keeps a `fusionauth.sso` cookie
//! (a random 256-bit value; the store keeps only its SHA-256), and a later `/oauth2/authorize`
//! of any application of the same tenant answers at once while it lasts. It lasts a fixed time
//! from the login, the tenant's `ssoConfiguration.deviceTrustTimeToLiveInSeconds`
//! ([`crate::model::SsoConfiguration::session_seconds`]); logging out ends it.

use uuid::Uuid;

use crate::codes;
use crate::model::{SsoSession, Tenant};
use crate::ports::{SsoSessions, StoreError};
use crate::system::Random;

/// FusionAuth's name for the cookie.
pub const SSO_COOKIE: &str = "fusionauth.sso";

/// The `Set-Cookie` value of a session: host-only (no `Domain`), the whole site, never readable
/// by script, only over HTTPS (browsers treat `http://localhost` as secure too), sent on
/// top-level navigations from other sites (the authorize redirect) but not on their
/// subrequests or posts.
pub fn session_cookie(secret: &str, max_age: i64) -> String {
    format!(
        "{SSO_COOKIE}={secret}; Max-Age={}; Path=/; HttpOnly; Secure; SameSite=Lax",
        max_age.max(0)
    )
}

/// The `Set-Cookie` value that removes the session's cookie from the browser.
pub fn clear_cookie() -> String {
    session_cookie("", 0)
}

/// A cookie value that can be a session's: exactly what [`start_session`] hands out (43
/// base64url characters). Anything else is no session, and is never looked up.
pub fn parse_secret(value: &str) -> Option<&str> {
    let fine = value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    fine.then_some(value)
}

/// Starts a session for a login the person just completed: stores it and answers the cookie
/// that carries it (its `Max-Age` the session's lifetime) with the session.
pub async fn start_session(
    sessions: &dyn SsoSessions,
    random: &dyn Random,
    tenant: &Tenant,
    user_id: Uuid,
    authenticated_at_millis: i64,
    now_millis: i64,
) -> Result<(String, SsoSession), StoreError> {
    let id = Uuid::new_v4();
    start_session_with_id(
        sessions,
        random,
        tenant,
        id,
        user_id,
        authenticated_at_millis,
        now_millis,
    )
    .await
}

/// [`start_session`] for a session whose id was chosen before (the id tokens of the login that
/// starts it already carry it as `sid`).
pub async fn start_session_with_id(
    sessions: &dyn SsoSessions,
    random: &dyn Random,
    tenant: &Tenant,
    id: Uuid,
    user_id: Uuid,
    authenticated_at_millis: i64,
    now_millis: i64,
) -> Result<(String, SsoSession), StoreError> {
    let secret = codes::generate_id(random);
    let seconds = tenant.sso_configuration.session_seconds();
    let session = SsoSession {
        id,
        id_hash: codes::hash_secret(&secret),
        tenant_id: tenant.id,
        user_id,
        authenticated_at_millis,
        expires_at_millis: now_millis + i64::from(seconds) * 1000,
        refresh_token_ids: Vec::new(),
    };
    sessions.create(&session).await?;
    tracing::info!(user_id = %user_id, session_id = %session.id, "SSO session started");
    Ok((session_cookie(&secret, i64::from(seconds)), session))
}

/// The live session of `tenant` the cookie value names, if any: an unknown, ended or expired
/// session, or one of another tenant, is none.
pub async fn current_session(
    sessions: &dyn SsoSessions,
    cookie_value: Option<&str>,
    tenant_id: Uuid,
    now_millis: i64,
) -> Result<Option<SsoSession>, StoreError> {
    let Some(secret) = cookie_value.and_then(parse_secret) else {
        return Ok(None);
    };
    let session = sessions.find(&codes::hash_secret(secret)).await?;
    Ok(session.filter(|s| s.tenant_id == tenant_id && s.is_live(now_millis)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MemorySsoSessions, SameByteRandom};
    use crate::system::OsRandom;

    fn tenant(seconds: Option<u32>) -> Tenant {
        let mut tenant: Tenant = serde_json::from_value(serde_json::json!({
            "id": "f24aca2b-ce4a-4dad-951a-c9d690e71415",
        }))
        .unwrap();
        tenant
            .sso_configuration
            .device_trust_time_to_live_in_seconds = seconds;
        tenant
    }

    fn cookie_value(set_cookie: &str) -> &str {
        set_cookie
            .strip_prefix("fusionauth.sso=")
            .and_then(|rest| rest.split(';').next())
            .unwrap()
    }

    #[test]
    fn the_cookie_is_host_only_http_only_secure_lax_for_the_whole_site() {
        let cookie = session_cookie("abc", 3600);
        assert_eq!(
            cookie,
            "fusionauth.sso=abc; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
        assert!(!cookie.to_ascii_lowercase().contains("domain="));
        assert_eq!(
            clear_cookie(),
            "fusionauth.sso=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn the_session_lasts_the_tenants_device_trust_time_else_fusionauths_year() {
        assert_eq!(tenant(Some(600)).sso_configuration.session_seconds(), 600);
        assert_eq!(tenant(None).sso_configuration.session_seconds(), 31_536_000);
        assert_eq!(
            tenant(Some(0)).sso_configuration.session_seconds(),
            31_536_000
        );
        let parsed: Tenant = serde_json::from_value(serde_json::json!({
            "id": "f24aca2b-ce4a-4dad-951a-c9d690e71415",
            "ssoConfiguration": {"deviceTrustTimeToLiveInSeconds": 7200},
        }))
        .unwrap();
        assert_eq!(parsed.sso_configuration.session_seconds(), 7200);
    }

    #[tokio::test]
    async fn a_started_session_is_stored_by_the_hash_of_its_cookie_and_found_by_the_cookie() {
        let sessions = MemorySsoSessions::default();
        let tenant = tenant(Some(600));
        let user = Uuid::new_v4();
        let (cookie, session) = start_session(&sessions, &OsRandom, &tenant, user, 1_000, 2_000)
            .await
            .unwrap();
        let secret = cookie_value(&cookie);
        assert!(cookie.contains("Max-Age=600;"));
        assert_eq!(session.id_hash, codes::hash_secret(secret));
        assert_ne!(session.id_hash, secret);
        assert_eq!(session.authenticated_at_millis, 1_000);
        assert_eq!(session.expires_at_millis, 2_000 + 600_000);
        let found = current_session(&sessions, Some(secret), tenant.id, 2_001)
            .await
            .unwrap();
        assert_eq!(found, Some(session));
    }

    #[tokio::test]
    async fn an_expired_ended_foreign_or_malformed_session_is_no_session() {
        let sessions = MemorySsoSessions::default();
        let tenant = tenant(Some(60));
        let (cookie, session) = start_session(&sessions, &OsRandom, &tenant, Uuid::new_v4(), 0, 0)
            .await
            .unwrap();
        let secret = cookie_value(&cookie).to_owned();
        let current = |value: Option<String>, tenant_id, now| {
            let sessions = &sessions;
            async move {
                current_session(sessions, value.as_deref(), tenant_id, now)
                    .await
                    .unwrap()
            }
        };
        assert!(current(Some(secret.clone()), tenant.id, 59_999)
            .await
            .is_some());
        assert!(current(Some(secret.clone()), tenant.id, 60_000)
            .await
            .is_none());
        assert!(current(Some(secret.clone()), Uuid::new_v4(), 1)
            .await
            .is_none());
        assert!(current(Some(format!("{secret}x")), tenant.id, 1)
            .await
            .is_none());
        assert!(current(Some("a".repeat(43)), tenant.id, 1).await.is_none());
        assert!(current(None, tenant.id, 1).await.is_none());
        assert_eq!(
            sessions.end(&session.id_hash).await.unwrap(),
            Some(session.clone())
        );
        assert!(current(Some(secret), tenant.id, 1).await.is_none());
    }

    #[tokio::test]
    async fn a_session_keeps_its_refresh_tokens_once_each_and_ends_once() {
        let sessions = MemorySsoSessions::default();
        let (_, session) = start_session(
            &sessions,
            &SameByteRandom(7),
            &tenant(None),
            Uuid::new_v4(),
            0,
            0,
        )
        .await
        .unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        for id in [a, b, a] {
            sessions
                .add_refresh_token(&session.id_hash, id)
                .await
                .unwrap();
        }
        let ended = sessions.end(&session.id_hash).await.unwrap().unwrap();
        assert_eq!(ended.refresh_token_ids, vec![a, b]);
        assert_eq!(sessions.end(&session.id_hash).await.unwrap(), None);
        assert!(sessions
            .add_refresh_token(&session.id_hash, Uuid::new_v4())
            .await
            .is_err());
    }
}
