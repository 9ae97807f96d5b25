//! The warning about a tenant `issuer` that a standard OpenID Connect library cannot discover:
//! the issuer must be the URL the service is reached at (OpenID Connect Discovery 4.3: the
//! document's `issuer` is the URL the relying party put in front of
//! `/.well-known/openid-configuration`, byte for byte). FusionAuth accepts any text (its default
//! is `acme.com`), so this warns and never refuses: a file made for FusionAuth still loads.

use super::Kickstart;
use crate::model::Tenant;

/// One line per tenant whose issuer strict relying parties (openid-client, go-oidc, Spring
/// Security) would refuse, saying why.
pub fn issuer_warnings(kickstart: &Kickstart) -> Vec<String> {
    kickstart
        .tenants
        .iter()
        .enumerate()
        .filter_map(|(i, tenant)| {
            issuer_problem(tenant).map(|problem| {
                format!(
                    "tenants[{i}]: issuer {:?} {problem}; OpenID Connect libraries discover a \
                     provider at {{issuer}}/.well-known/openid-configuration, so the issuer must \
                     be this service's URL (https://your-host, or https://your-host/{})",
                    tenant.issuer, tenant.id
                )
            })
        })
        .collect()
}

/// Why `tenant`'s issuer is not a discoverable URL of this service, if it is not.
pub fn issuer_problem(tenant: &Tenant) -> Option<String> {
    let issuer = tenant.issuer.as_str();
    let (secure, rest) = match issuer.strip_prefix("https://") {
        Some(rest) => (true, rest),
        None => match issuer.strip_prefix("http://") {
            Some(rest) => (false, rest),
            None => return Some("is not an https URL".to_owned()),
        },
    };
    if issuer.contains(['?', '#']) {
        return Some("has a query or a fragment".to_owned());
    }
    if issuer.ends_with('/') {
        return Some("ends with a slash (RPs compare the issuer byte for byte)".to_owned());
    }
    if issuer.bytes().any(|b| !b.is_ascii_graphic()) {
        return Some("has spaces or characters that are not ASCII".to_owned());
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    if host.is_empty() || authority.contains('@') {
        return Some("names no host".to_owned());
    }
    if !secure && !["127.0.0.1", "localhost", "[::1]"].contains(&host) {
        return Some(
            "is http, which is for a loopback host only (127.0.0.1, localhost, [::1])".to_owned(),
        );
    }
    if !path.is_empty() && path != format!("/{}", tenant.id) {
        return Some(format!(
            "has a path other than /{}, and this service serves discovery only at the host's \
             root and under /{{tenantId}}",
            tenant.id
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(issuer: &str) -> Tenant {
        serde_json::from_value(serde_json::json!({
            "id": "f24aca2b-ce4a-4dad-951a-c9d690e71415", "issuer": issuer
        }))
        .unwrap()
    }

    #[test]
    fn an_https_url_or_an_http_loopback_url_without_query_fragment_or_trailing_slash_passes() {
        for fine in [
            "https://auth.example.com",
            "https://auth.example.com:8443",
            "https://example.com/f24aca2b-ce4a-4dad-951a-c9d690e71415",
            "http://127.0.0.1:9011",
            "http://localhost:9011",
            "http://[::1]:9011",
            "http://127.0.0.1:9011/f24aca2b-ce4a-4dad-951a-c9d690e71415",
        ] {
            assert_eq!(issuer_problem(&tenant(fine)), None, "{fine}");
        }
    }

    #[test]
    fn fusionauths_default_issuer_and_other_undiscoverable_ones_are_warned_about() {
        for (bad, why) in [
            ("acme.com", "not an https URL"),
            ("piedpiper.com", "not an https URL"),
            ("", "not an https URL"),
            ("http://auth.example.com", "loopback"),
            ("http://127.0.0.2.example.com", "loopback"),
            ("https://auth.example.com/", "slash"),
            ("https://auth.example.com?x=1", "query"),
            ("https://auth.example.com#x", "fragment"),
            ("https://:443", "no host"),
            ("https://user@auth.example.com", "no host"),
            ("https://auth.example.com/auth", "path"),
            ("https://auth .example.com", "spaces"),
        ] {
            let problem = issuer_problem(&tenant(bad)).unwrap_or_default();
            assert!(problem.contains(why), "{bad:?}: {problem:?}");
        }
    }

    #[test]
    fn the_warning_names_the_tenant_and_says_what_the_issuer_must_be() {
        let kickstart = Kickstart {
            tenants: vec![tenant("https://ok.example.com"), tenant("acme.com")],
            ..Kickstart::default()
        };
        let warnings = issuer_warnings(&kickstart);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("tenants[1]: issuer \"acme.com\""));
        assert!(warnings[0].contains("must be this service's URL"));
    }
}
