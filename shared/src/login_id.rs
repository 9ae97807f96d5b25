//! Client input parsed once at the boundary: login ids, identity types, phone numbers.
//!
//! Email addresses and usernames match case-insensitively but with white space kept (FusionAuth
//! uses the value "exactly as provided"); phone numbers in any format match by their E.164 form,
//! with the US as the country when none is given.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentityType {
    #[serde(rename = "email")]
    Email,
    #[serde(rename = "phoneNumber")]
    PhoneNumber,
    #[serde(rename = "username")]
    Username,
}

impl IdentityType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::PhoneNumber => "phoneNumber",
            Self::Username => "username",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "email" => Some(Self::Email),
            "phoneNumber" => Some(Self::PhoneNumber),
            "username" => Some(Self::Username),
            _ => None,
        }
    }
}

/// A phone number in canonical E.164 form (`+13035551212`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a number in E.164, national or international format; national numbers are taken
    /// as US/NANP numbers.
    pub fn parse(input: &str) -> Option<Self> {
        let trimmed = input.trim();
        if trimmed.is_empty() || trimmed.len() > 64 {
            return None;
        }
        let parsed = phonenumber::parse(Some(phonenumber::country::Id::US), trimmed).ok()?;
        if !phonenumber::is_valid(&parsed) {
            return None;
        }
        Some(Self(
            parsed.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, for logs that must not hold the number.
    pub fn redacted(&self) -> String {
        redact_phone(&self.0)
    }
}

/// Where an SMS goes, as the SMS guard and the metrics see it: the destination's region and the
/// prefix its velocity is counted under, never the whole number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsDestination {
    /// The ISO 3166-1 region the number belongs to (`US`, `CA`, `JM`), as libphonenumber's
    /// metadata says; `ZZ` where it names none. Calling code 1 alone would not tell the US from
    /// Jamaica, a classic SMS-pumping destination.
    pub country: String,
    /// `+`, the calling code and the first `prefix_digits` digits of the national number
    /// (`+1303` for `+13035551212` with 3).
    pub prefix: String,
}

impl SmsDestination {
    /// The destination of an E.164 number; `None` for one that does not parse.
    pub fn of(e164: &str, prefix_digits: u32) -> Option<Self> {
        let parsed = phonenumber::parse(None, e164).ok()?;
        let country = parsed
            .country()
            .id()
            .map(|id| id.as_ref().to_owned())
            .unwrap_or_else(|| "ZZ".to_owned());
        let national = parsed.national().value().to_string();
        let digits = national.len().min(prefix_digits as usize);
        Some(Self {
            country,
            prefix: format!("+{}{}", parsed.code().value(), &national[..digits]),
        })
    }
}

/// Whether `code` is a region libphonenumber knows (`US`, `GB`), as the SMS guard's allowlist
/// names them.
pub fn is_region(code: &str) -> bool {
    code.parse::<phonenumber::country::Id>().is_ok()
}

/// `+1******1212`: enough for an operator to tell numbers apart, too little to dial.
pub fn redact_phone(e164: &str) -> String {
    let digits: Vec<char> = e164.chars().collect();
    let keep = digits.len().saturating_sub(4);
    digits
        .iter()
        .enumerate()
        .map(|(i, c)| if i < 2 || i >= keep { *c } else { '*' })
        .collect()
}

/// `r***@piedpiper.com`: the domain and first letter only.
pub fn redact_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// `text` with every email address and phone number in it redacted as [`redact_email`] and
/// [`redact_phone`] do: dependency errors (SES, SNS) may quote the recipient, and go to the logs.
pub fn redact_addresses(text: &str) -> String {
    let in_address = |c: char| c.is_alphanumeric() || "@.+-_%'".contains(c);
    let mut redacted = String::with_capacity(text.len());
    let mut token = String::new();
    for c in text.chars() {
        if in_address(c) {
            token.push(c);
            continue;
        }
        redacted.push_str(&redact_token(&token));
        token.clear();
        redacted.push(c);
    }
    redacted.push_str(&redact_token(&token));
    redacted
}

fn redact_token(token: &str) -> String {
    let trimmed = token.trim_end_matches(['.', '-', '\'']);
    if let Some((local, domain)) = trimmed.split_once('@') {
        if !local.is_empty() && domain.contains('.') {
            return redact_email(token);
        }
    }
    let digits = token.chars().filter(char::is_ascii_digit).count();
    if digits >= 7
        && token
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.".contains(c))
    {
        return redact_phone(token);
    }
    token.to_owned()
}

/// The canonical form of an email address or username: lowercase, white space kept.
pub fn canonical_text(value: &str) -> String {
    value.to_lowercase()
}

/// The identity a login id could name, in canonical form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdentityKey {
    pub kind: IdentityType,
    pub value: String,
}

/// The identity types start compares a login id to, in FusionAuth's precedence: email, then
/// phone number, then username, whatever order the request lists them in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginIdTypes(Vec<IdentityType>);

impl LoginIdTypes {
    /// `None` for a value outside `email`, `phoneNumber`, `username`; an empty list means the
    /// default, as the Java client sends `[]`.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let mut types = Vec::new();
        for value in values {
            let kind = IdentityType::parse(value)?;
            if !types.contains(&kind) {
                types.push(kind);
            }
        }
        if types.is_empty() {
            return Some(Self::default());
        }
        types.sort();
        Some(Self(types))
    }

    pub fn contains(&self, kind: IdentityType) -> bool {
        self.0.contains(&kind)
    }

    /// The candidate identities for `login_id`, in precedence order. A login id that is not a
    /// phone number yields no phone candidate.
    pub fn candidates(&self, login_id: &str) -> Vec<IdentityKey> {
        self.0
            .iter()
            .filter_map(|kind| {
                let value = match kind {
                    IdentityType::Email | IdentityType::Username => canonical_text(login_id),
                    IdentityType::PhoneNumber => PhoneNumber::parse(login_id)?.0,
                };
                Some(IdentityKey { kind: *kind, value })
            })
            .collect()
    }
}

impl Default for LoginIdTypes {
    fn default() -> Self {
        Self(vec![IdentityType::Email, IdentityType::Username])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_numbers_in_error_messages_are_redacted() {
        let message = "MessageRejected: Email address is not verified. The following identities \
                       failed the check: Richard@PiedPiper.com, <jared@piedpiper.com>. \
                       InvalidParameter: PhoneNumber +13035551212 (request 4b1c-77)";
        let redacted = redact_addresses(message);
        assert_eq!(
            redacted,
            "MessageRejected: Email address is not verified. The following identities \
             failed the check: R***@PiedPiper.com, <j***@piedpiper.com>. \
             InvalidParameter: PhoneNumber +1******1212 (request 4b1c-77)"
        );
        let error = crate::ports::StoreError::new("send sms", "to +13035551212 failed");
        assert_eq!(error.to_string(), "send sms: to +1******1212 failed");
    }

    #[test]
    fn phone_numbers_in_any_format_become_e164_with_us_as_default_country() {
        for input in [
            "+1 303-555-1212",
            "(303) 555-1212",
            "303.555.1212",
            "+13035551212",
            "1-303-555-1212",
        ] {
            assert_eq!(
                PhoneNumber::parse(input).map(|p| p.0),
                Some("+13035551212".to_owned()),
                "{input}"
            );
        }
        assert_eq!(
            PhoneNumber::parse("+44 20 7946 0958").map(|p| p.0),
            Some("+442079460958".to_owned())
        );
    }

    #[test]
    fn text_that_is_not_a_phone_number_is_refused() {
        for input in ["", "richard@piedpiper.com", "12", "+1 000", "phone"] {
            assert_eq!(PhoneNumber::parse(input), None, "{input}");
        }
    }

    #[test]
    fn login_id_types_follow_email_phone_username_precedence_whatever_the_request_order() {
        let types = LoginIdTypes::parse(["username", "phoneNumber", "email"]).unwrap();
        let kinds: Vec<_> = types
            .candidates("+1 303 555 1212")
            .iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                IdentityType::Email,
                IdentityType::PhoneNumber,
                IdentityType::Username
            ]
        );
    }

    #[test]
    fn an_empty_login_id_type_list_means_email_and_username() {
        assert_eq!(
            LoginIdTypes::parse(Vec::<&str>::new()),
            Some(LoginIdTypes::default())
        );
        assert_eq!(LoginIdTypes::parse(["email", "fax"]), None);
    }

    #[test]
    fn emails_and_usernames_compare_case_insensitively_but_keep_white_space() {
        let candidates = LoginIdTypes::default().candidates(" Richard@PiedPiper.com");
        assert_eq!(candidates[0].value, " richard@piedpiper.com");
        assert_eq!(candidates[1].kind, IdentityType::Username);
    }

    #[test]
    fn redaction_keeps_too_little_to_contact_anyone() {
        assert_eq!(redact_phone("+13035551212"), "+1******1212");
        assert_eq!(redact_email("richard@piedpiper.com"), "r***@piedpiper.com");
    }
}
