//! Every cap on what a client may send, in one place: the body size, and for each field of each
//! JSON body, form and query string a function reads, its longest value in characters. Each edge
//! module (`http/…`) applies its table where it reads the input, before anything else looks at
//! it: a JSON field over its cap is FusionAuth's 400 `[tooLong]field` ("The [field] property is
//! too long. The maximum length is [n]."), a form field over its cap the page's 400 (or, at
//! `/oauth2/token`, OAuth's `invalid_request`). Sizes are FusionAuth's where it has one (a login
//! id is 255, its column width), else the longest a valid value can be with room to spare.
//! Objects (`state`, `metaData`) are bounded by the body alone.

use serde_json::{Map, Value};

use crate::errors::{Errors, FieldProblem};

/// Request bodies larger than this are refused with 413 before parsing. The largest legitimate
/// body (a start with a generous `state`) is a few kilobytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An email address, username or phone number: FusionAuth's column width, and well inside a
/// DynamoDB key (at most 2,048 bytes), which every login id becomes part of.
pub const LOGIN_ID: usize = 255;
/// A passwordless code: 43 characters by default, at most 128 as a tenant's generator makes it.
pub const CODE: usize = 255;
/// A one-time code: 6 digits by default, at most 32 as a tenant's generator makes it.
pub const ONE_TIME_CODE: usize = 64;
/// A UUID, in any form `Uuid::parse_str` reads (the URN form is 45 characters).
pub const ID: usize = 64;
/// A `loginStrategy` (`ClickableLink`, `FormField`) or a `loginIdTypes` entry.
pub const KEYWORD: usize = 64;
/// An IP address as text (IPv6 with a zone is the longest).
pub const IP_ADDRESS: usize = 64;
/// A two-factor trust id, a refresh token, a CSRF value: ours are 43–86 characters.
pub const OPAQUE_TOKEN: usize = 255;
/// A JWT in `Authorization: Bearer` or the `access_token` cookie.
pub const JWT: usize = 8 * 1024;
/// A redirect URI (as browsers and FusionAuth bound URLs).
pub const URL: usize = 2048;
/// A `scope` of space-separated scopes.
pub const SCOPE: usize = 1024;
/// A PKCE `code_verifier` (RFC 7636 4.1: 43 to 128 characters).
pub const CODE_VERIFIER: usize = 128;
/// Any form field a page or `/oauth2/token` does not read: ignored, but not unbounded.
pub const UNREAD_FORM_FIELD: usize = 2048;

/// A field and its cap, in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cap {
    pub field: &'static str,
    pub max: usize,
}

const fn cap(field: &'static str, max: usize) -> Cap {
    Cap { field, max }
}

/// `POST /api/passwordless/start`, and the legacy usage of send, which starts.
pub const START: &[Cap] = &[
    cap("applicationId", ID),
    cap("loginId", LOGIN_ID),
    cap("loginStrategy", KEYWORD),
];
/// `POST /api/passwordless/send`: the code usage, and the legacy one (which reads no strategy).
pub const SEND: &[Cap] = &[
    cap("code", CODE),
    cap("applicationId", ID),
    cap("loginId", LOGIN_ID),
];
/// `POST /api/passwordless/login`.
pub const LOGIN: &[Cap] = &[
    cap("code", CODE),
    cap("oneTimeCode", ONE_TIME_CODE),
    cap("applicationId", ID),
    cap("twoFactorTrustId", OPAQUE_TOKEN),
    cap("ipAddress", IP_ADDRESS),
    cap("eventInfo.ipAddress", IP_ADDRESS),
];
/// `POST /api/jwt/refresh`: the body's `refreshToken`, and the `refresh_token` cookie by the same
/// cap.
pub const REFRESH: &[Cap] = &[cap("refreshToken", OPAQUE_TOKEN)];
/// `DELETE /api/jwt/refresh`, in the query string or the body.
pub const REVOKE: &[Cap] = &[
    cap("token", OPAQUE_TOKEN),
    cap("userId", ID),
    cap("applicationId", ID),
];
/// `POST /oauth2/token` (form).
pub const TOKEN_FORM: &[Cap] = &[
    cap("grant_type", KEYWORD * 2),
    cap("code", CODE),
    cap("redirect_uri", URL),
    cap("client_id", ID),
    cap("client_secret", OPAQUE_TOKEN),
    cap("code_verifier", CODE_VERIFIER),
    cap("refresh_token", OPAQUE_TOKEN),
    cap("scope", SCOPE),
];
/// The magic link's page and the fallback page (`/oauth2/passwordless`): their forms.
pub const LANDING_FORMS: &[Cap] = &[
    cap("csrf", OPAQUE_TOKEN),
    cap("client_id", ID),
    cap("loginId", LOGIN_ID),
    cap("oneTimeCode", ONE_TIME_CODE),
];

/// `/oauth2/logout`'s query and form fields.
pub const LOGOUT_FORM: &[Cap] = &[
    cap("csrf", OPAQUE_TOKEN),
    cap("id_token_hint", JWT),
    cap("client_id", ID),
    cap("post_logout_redirect_uri", URL),
    cap("state", URL),
    cap("tenantId", ID),
];
/// `POST /api/logout`'s query and JSON fields.
pub const API_LOGOUT: &[Cap] = &[cap("refreshToken", OPAQUE_TOKEN), cap("global", KEYWORD)];

/// Whether `value` has at most `max` characters (bytes first: most values are short ASCII).
pub fn within(value: &str, max: usize) -> bool {
    value.len() <= max || value.chars().count() <= max
}

/// The cap of `field` in `caps`.
pub fn of(caps: &[Cap], field: &str) -> Option<usize> {
    caps.iter().find(|c| c.field == field).map(|c| c.max)
}

/// The text fields of a JSON body over their caps, as FusionAuth's `[tooLong]field` errors
/// (empty when every field is within its cap). A dotted field (`eventInfo.ipAddress`) is one
/// inside an object, named as FusionAuth names it.
pub fn json_fields_over(body: &Map<String, Value>, caps: &[Cap]) -> Errors {
    let mut errors = Errors::default();
    for cap in caps {
        if text_at(body, cap.field).is_some_and(|text| !within(text, cap.max)) {
            errors.add_field(cap.field, FieldProblem::TooLong { max: cap.max });
        }
    }
    errors
}

/// The text at a dotted `path` of `body`, if there is text there.
fn text_at<'b>(body: &'b Map<String, Value>, path: &str) -> Option<&'b str> {
    let (object, last) = match path.rsplit_once('.') {
        None => (body, path),
        Some((parents, last)) => {
            let mut object = body;
            for name in parents.split('.') {
                object = object.get(name)?.as_object()?;
            }
            (object, last)
        }
    };
    object.get(last)?.as_str()
}

/// The first field of a form over its cap (a field not in `caps`: [`UNREAD_FORM_FIELD`]).
pub fn form_field_over<'f>(
    form: impl IntoIterator<Item = (&'f str, &'f str)>,
    caps: &[Cap],
) -> Option<&'f str> {
    form.into_iter()
        .find(|(name, value)| !within(value, of(caps, name).unwrap_or(UNREAD_FORM_FIELD)))
        .map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cap_counts_characters_not_bytes() {
        assert!(within(&"é".repeat(255), LOGIN_ID));
        assert!(!within(&"a".repeat(256), LOGIN_ID));
    }

    #[test]
    fn every_text_field_over_its_cap_is_a_too_long_error_with_fusionauths_wording() {
        let body = json!({"loginId": "a".repeat(256), "applicationId": "b".repeat(65),
                          "loginStrategy": "FormField", "state": {"x": "c".repeat(5000)}});
        let errors = json_fields_over(body.as_object().unwrap(), START);
        assert_eq!(errors.field_errors.len(), 2);
        let login_id = &errors.field_errors["loginId"][0];
        assert_eq!(login_id.code, "[tooLong]loginId");
        assert_eq!(
            login_id.message,
            "The [loginId] property is too long. The maximum length is [255]."
        );
        assert_eq!(
            errors.field_errors["applicationId"][0].code,
            "[tooLong]applicationId"
        );
    }

    #[test]
    fn a_field_inside_an_object_is_capped_under_its_dotted_name() {
        let body = json!({"code": "c", "eventInfo": {"ipAddress": "1".repeat(65)}});
        let errors = json_fields_over(body.as_object().unwrap(), LOGIN);
        assert_eq!(
            errors.field_errors["eventInfo.ipAddress"][0].code,
            "[tooLong]eventInfo.ipAddress"
        );
        let fine = json!({"code": "c", "eventInfo": "not an object"});
        assert!(json_fields_over(fine.as_object().unwrap(), LOGIN).is_empty());
    }

    #[test]
    fn a_form_field_over_its_cap_or_an_unread_one_over_the_default_is_named() {
        let long_id = "a".repeat(256);
        let form = [("csrf", "x"), ("loginId", long_id.as_str())];
        assert_eq!(form_field_over(form, LANDING_FORMS), Some("loginId"));
        let unread = "a".repeat(UNREAD_FORM_FIELD + 1);
        assert_eq!(
            form_field_over([("other", unread.as_str())], LANDING_FORMS),
            Some("other")
        );
        assert_eq!(
            form_field_over([("loginId", "richard")], LANDING_FORMS),
            None
        );
    }

    #[test]
    fn every_table_names_each_field_once() {
        for table in [
            START,
            SEND,
            LOGIN,
            REFRESH,
            REVOKE,
            TOKEN_FORM,
            LANDING_FORMS,
            LOGOUT_FORM,
            API_LOGOUT,
        ] {
            for (i, cap) in table.iter().enumerate() {
                assert!(
                    !table[i + 1..].iter().any(|c| c.field == cap.field),
                    "{}",
                    cap.field
                );
            }
        }
    }
}
