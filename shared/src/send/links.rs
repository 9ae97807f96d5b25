//! The links a message carries: the magic link that completes the login, and the fallback page
//! that takes the login id and the one-time code when the link gets mangled.

use serde_json::{Map, Value};

use crate::model::{Application, Tenant};

/// `{baseURL}/oauth2/passwordless/{code}?tenantId={tenantId}` and then each `state` entry as a
/// query parameter, URL-encoded. The base is the application's, else the tenant's, else the
/// configured default.
pub fn magic_link(
    default_base_url: Option<&str>,
    tenant: &Tenant,
    application: &Application,
    code: &str,
    state: Option<&Map<String, Value>>,
) -> String {
    let base = base_url(default_base_url, tenant, application);
    let mut link = format!(
        "{base}/oauth2/passwordless/{}?tenantId={}",
        url_encode(code),
        tenant.id
    );
    for (key, value) in state.into_iter().flatten() {
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        link.push('&');
        link.push_str(&url_encode(key));
        link.push('=');
        link.push_str(&url_encode(&value));
    }
    link
}

/// The landing page that takes a login id and the one-time code a link's message carries, for
/// the application: `{baseURL}/oauth2/passwordless?client_id={applicationId}`.
pub fn fallback_link(
    default_base_url: Option<&str>,
    tenant: &Tenant,
    application: &Application,
) -> String {
    format!(
        "{}/oauth2/passwordless?client_id={}",
        base_url(default_base_url, tenant, application),
        application.id
    )
}

fn base_url<'a>(
    default_base_url: Option<&'a str>,
    tenant: &'a Tenant,
    application: &'a Application,
) -> &'a str {
    application
        .base_url
        .as_deref()
        .or(tenant.base_url.as_deref())
        .or(default_base_url)
        .unwrap_or("")
        .trim_end_matches('/')
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tenant(base: Option<&str>) -> Tenant {
        serde_json::from_value(
            json!({"id": "f24aca2b-ce4a-4dad-951a-c9d690e71415", "baseURL": base}),
        )
        .unwrap()
    }

    fn application(base: Option<&str>) -> Application {
        serde_json::from_value(json!({
            "id": "10000000-0000-0002-0000-000000000001",
            "tenantId": "f24aca2b-ce4a-4dad-951a-c9d690e71415", "baseURL": base
        }))
        .unwrap()
    }

    #[test]
    fn the_magic_link_carries_the_code_the_tenant_and_the_state_url_encoded() {
        let state = json!({"redirect_uri": "https://app.example/cb?x=1", "n": 2});
        let link = magic_link(
            None,
            &tenant(None),
            &application(Some("https://piedpiper.com/")),
            "abc_-123",
            state.as_object(),
        );
        assert_eq!(
            link,
            "https://piedpiper.com/oauth2/passwordless/abc_-123?tenantId=f24aca2b-ce4a-4dad-951a-c9d690e71415&n=2&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1"
        );
    }

    #[test]
    fn the_base_url_falls_back_from_application_to_tenant_to_the_default() {
        let link = magic_link(
            Some("https://default"),
            &tenant(Some("https://t")),
            &application(None),
            "c",
            None,
        );
        assert!(link.starts_with("https://t/oauth2/passwordless/c?"));
        let link = magic_link(
            Some("https://default"),
            &tenant(None),
            &application(None),
            "c",
            None,
        );
        assert!(link.starts_with("https://default/oauth2/passwordless/c?"));
    }
}
