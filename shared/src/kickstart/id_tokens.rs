//! Which key signs each tenant's and application's id tokens, as far as the file tells
//! ([`crate::oauth2::id_token_key_id`]'s rule). An HMAC key signs with the client secret (OIDC
//! Core 10.1), so an OAuth application (one with redirect URLs) whose id tokens are HMAC keeps
//! its secret, which must be as long as the algorithm's hash; every other application keeps
//! only the secret's hash.

use std::collections::HashMap;

use uuid::Uuid;

use super::{Kickstart, KickstartError};
use crate::model::{IdTokenSigner, SigningAlgorithm, Tenant};
use crate::oauth2::id_token_key_id;

/// Keeps the client secret of the applications that sign HMAC id tokens with it, drops every
/// other one; refuses an OAuth application whose HMAC id tokens have no secret to sign with,
/// or too short a one.
pub(super) fn settle_secrets(kickstart: &mut Kickstart) -> Result<(), KickstartError> {
    let algorithms = algorithms(kickstart);
    let tenants: HashMap<Uuid, Tenant> = kickstart
        .tenants
        .iter()
        .map(|t| (t.id, t.clone()))
        .collect();
    for (i, application) in kickstart.applications.iter_mut().enumerate() {
        let secret = application.oauth_configuration.id_token_secret.take();
        let tenant = tenants.get(&application.tenant_id);
        let key = key_of(tenant, application);
        let Some((key, algorithm)) = key.and_then(|k| algorithms.get(&k).map(|a| (k, *a))) else {
            // A key or tenant outside the file: the secret is kept if the key turns out HMAC.
            application.oauth_configuration.id_token_secret = secret;
            continue;
        };
        let oauth = !application
            .oauth_configuration
            .authorized_redirect_urls
            .is_empty();
        if !algorithm.is_hmac() || !oauth {
            continue;
        }
        let least = algorithm.min_secret_bytes();
        match secret {
            Some(secret) if secret.0.len() >= least => {
                application.oauth_configuration.id_token_secret = Some(secret);
            }
            _ => {
                return Err(KickstartError::new(
                    &format!("applications[{i}]"),
                    "oauthConfiguration.clientSecret",
                    format!(
                        "its id tokens are signed with the {algorithm:?} key {key}, which signs \
                         with the client secret (OIDC Core 10.1): give a clientSecret of at \
                         least {least} bytes, or an RS256/ES256 jwtConfiguration.idTokenKeyId"
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// The id token algorithm of each tenant and OAuth application (one with redirect URLs: no
/// other gets id tokens) of the file whose key is in it: what discovery lists.
pub(super) fn signers(kickstart: &Kickstart) -> Vec<IdTokenSigner> {
    let algorithms = algorithms(kickstart);
    let tenants: HashMap<Uuid, &Tenant> = kickstart.tenants.iter().map(|t| (t.id, t)).collect();
    let of_tenants = kickstart.tenants.iter().filter_map(|tenant| {
        let key = id_token_key_id(tenant, None)?;
        Some(IdTokenSigner {
            tenant_id: tenant.id,
            owner: tenant.id,
            algorithm: *algorithms.get(&key)?,
        })
    });
    let oauth = kickstart
        .applications
        .iter()
        .filter(|a| !a.oauth_configuration.authorized_redirect_urls.is_empty());
    let of_applications = oauth.filter_map(|application| {
        let key = key_of(tenants.get(&application.tenant_id).copied(), application)?;
        Some(IdTokenSigner {
            tenant_id: application.tenant_id,
            owner: application.id,
            algorithm: *algorithms.get(&key)?,
        })
    });
    of_tenants.chain(of_applications).collect()
}

fn algorithms(kickstart: &Kickstart) -> HashMap<Uuid, SigningAlgorithm> {
    kickstart.keys.iter().map(|k| (k.id, k.algorithm)).collect()
}

/// The application's id token key, with its tenant's settings when the tenant is in the file.
fn key_of(tenant: Option<&Tenant>, application: &crate::model::Application) -> Option<Uuid> {
    match tenant {
        Some(tenant) => id_token_key_id(tenant, Some(application)),
        None => application
            .jwt_configuration
            .id_token_key_id
            .or(application.jwt_configuration.access_token_key_id),
    }
}
