//! `/oauth2/userinfo` as a use case (OIDC Core 5.3): the claims an access token's scopes allow,
//! under FusionAuth's `Strict` scope handling (1.50+): `sub` always; `email` gives `email` and
//! `email_verified`; `profile` the names, `preferred_username`, `picture` and `birthdate`;
//! `phone` `phone_number` and `phone_number_verified`. A claim without a value is left out,
//! never `null`.
//!
//! The token is one of ours ([`crate::keys::validate`]: our key, its own algorithm, unexpired),
//! an access token (an id token is not one), granted with `openid` (a login API token has no
//! OAuth scope: 403, as FusionAuth's `Strict` policy answers). The user is read at every call:
//! one deleted, deactivated or expired since the token was issued gets nothing.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::keys::{self, KeyServices};
use crate::login_id::IdentityType;
use crate::model::User;
use crate::ports::{StoreError, Wanted};

/// Why a userinfo request gets no claims; [`crate::http::userinfo`] answers each as RFC 6750 3.1
/// says.
#[derive(Debug, thiserror::Error)]
pub enum UserinfoError {
    /// 401 `invalid_token`, with this description.
    #[error("invalid_token: {0}")]
    InvalidToken(&'static str),
    /// 403 `insufficient_scope`: the token was not granted `openid`.
    #[error("insufficient_scope")]
    InsufficientScope,
    #[error(transparent)]
    Dependency(#[from] StoreError),
}

/// The claims `access_token` gives its bearer.
pub async fn userinfo(
    services: &KeyServices,
    access_token: &str,
) -> Result<Map<String, Value>, UserinfoError> {
    let token = keys::validate(services, access_token)
        .await?
        .map_err(|_| UserinfoError::InvalidToken("the access token is invalid or has expired"))?;
    if token.contains_key("at_hash") {
        return Err(UserinfoError::InvalidToken(
            "an id token is not an access token",
        ));
    }
    let text = |name: &str| token.get(name).and_then(Value::as_str);
    let uuid = |name: &str| text(name).and_then(|v| Uuid::parse_str(v).ok());
    let scopes: Vec<&str> = text("scope").unwrap_or_default().split(' ').collect();
    if !scopes.contains(&"openid") {
        return Err(UserinfoError::InsufficientScope);
    }
    let (Some(user_id), Some(tenant_id)) = (uuid("sub"), uuid("tid")) else {
        return Err(UserinfoError::InvalidToken(
            "the access token names no user",
        ));
    };
    crate::metrics::set_tenant(tenant_id);
    let application_id = uuid("aud");
    let records = services
        .directory
        .records(&Wanted {
            user: Some(user_id),
            application: application_id,
            ..Wanted::default()
        })
        .await?;
    let now = services.clock.now_millis();
    let user = records
        .user
        .filter(|user| user.tenant_id == tenant_id && user.active)
        .filter(|user| user.expiry.is_none_or(|expiry| expiry > now))
        .ok_or(UserinfoError::InvalidToken(
            "the user no longer exists or cannot sign in",
        ))?;
    if application_id.is_some() && records.application.is_none() {
        return Err(UserinfoError::InvalidToken(
            "the application no longer exists",
        ));
    }
    Ok(claims(&user, &scopes))
}

/// The user's claims for `scopes`, Strict: only what a scope asks for, only what has a value.
pub fn claims(user: &User, scopes: &[&str]) -> Map<String, Value> {
    let mut claims = Map::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            claims.insert(name.to_owned(), value);
        }
    };
    let text = |value: &Option<String>| {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| Value::String(v.to_owned()))
    };
    put("sub", Some(Value::String(user.id.to_string())));
    if scopes.contains(&"email") {
        put("email", text(&user.email));
        // As the id token says it: the user's verification, for an email address.
        put(
            "email_verified",
            user.email.as_ref().map(|_| Value::Bool(user.verified)),
        );
    }
    if scopes.contains(&"profile") {
        put("name", text(&user.full_name));
        put("given_name", text(&user.first_name));
        put("family_name", text(&user.last_name));
        put("middle_name", text(&user.middle_name));
        put("preferred_username", text(&user.username));
        put("picture", text(&user.image_url));
        put("birthdate", text(&user.birth_date));
    }
    if scopes.contains(&"phone") {
        // FusionAuth: the phone number identity, else the mobile phone.
        let (number, verified) = match &user.phone_number {
            Some(number) => {
                let verified = user
                    .identities
                    .iter()
                    .any(|i| i.kind == IdentityType::PhoneNumber && i.verified);
                (Some(number), verified)
            }
            None => (user.mobile_phone.as_ref(), false),
        };
        if let Some(number) = number.filter(|n| !n.is_empty()) {
            put("phone_number", Some(Value::String(number.clone())));
            put("phone_number_verified", Some(Value::Bool(verified)));
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(extra: Value) -> User {
        let mut base = json!({
            "id": "00000000-0000-0001-0000-000000000001",
            "tenantId": "f24aca2b-ce4a-4dad-951a-c9d690e71415",
        });
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn openid_alone_gives_only_sub() {
        let richard = user(json!({"email": "r@p.com", "firstName": "Richard"}));
        assert_eq!(
            Value::Object(claims(&richard, &["openid"])),
            json!({"sub": "00000000-0000-0001-0000-000000000001"})
        );
    }

    #[test]
    fn each_scope_gives_its_claims_and_a_claim_without_a_value_is_left_out_not_null() {
        let richard = user(json!({
            "email": "r@p.com", "verified": true, "username": "richard",
            "firstName": "Richard", "lastName": "Hendricks", "middleName": "",
            "phoneNumber": "+13035551212",
            "identities": [{"type": "phoneNumber", "value": "+13035551212", "verified": true}],
        }));
        let all = claims(&richard, &["openid", "email", "profile", "phone"]);
        assert_eq!(
            Value::Object(all),
            json!({
                "sub": "00000000-0000-0001-0000-000000000001",
                "email": "r@p.com", "email_verified": true,
                "given_name": "Richard", "family_name": "Hendricks",
                "preferred_username": "richard",
                "phone_number": "+13035551212", "phone_number_verified": true,
            })
        );
        let email_only = claims(&richard, &["openid", "email"]);
        assert_eq!(email_only.len(), 3);
    }

    #[test]
    fn the_mobile_phone_stands_in_for_a_missing_phone_number_unverified() {
        let dinesh = user(json!({"mobilePhone": "+17205550147"}));
        assert_eq!(
            Value::Object(claims(&dinesh, &["openid", "phone"])),
            json!({"sub": "00000000-0000-0001-0000-000000000001",
                "phone_number": "+17205550147", "phone_number_verified": false})
        );
        assert_eq!(
            claims(&user(json!({})), &["openid", "phone", "email"]).len(),
            1
        );
    }
}
