//! The FusionAuth user object of a request, parsed once into a [`User`]: every field checked,
//! every problem reported at once with FusionAuth's codes under the field's path
//! (`[notEmail]user.email`, `[couldNotConvert]user.expiry`, `[tooLong]user.firstName`…), and the
//! user's identities derived ([`User::derive_identities`]).
//!
//! What this service does not keep is ignored as FusionAuth ignores unknown fields: `password`
//! and its hash fields (a passwordless service stores no password), `memberships`, `twoFactor`,
//! `usernameStatus`, `parentEmail`.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::errors::{Errors, FieldProblem};
use crate::limits;
use crate::login_id::{canonical_text, PhoneNumber};
use crate::model::{is_email, Registration, User};

/// What the user object is for: what it may set, and what a field left out means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserInput {
    /// `POST /api/user`: a new user, active, unverified.
    Create,
    /// `PUT`/`PATCH /api/user/{userId}`: the user's new profile and login ids (the caller keeps
    /// what the API does not let a client change: state, registrations, verification).
    Replace,
    /// `POST /api/user/import`: also `active` (FusionAuth's default: false), `verified`,
    /// `insertInstant`, `tenantId` and `registrations`.
    Import,
}

/// A first, middle, last or full name, an image URL… : FusionAuth's column widths.
const NAME: usize = 255;
/// `preferredLanguages` holds at most this many locales (FusionAuth's rule).
const MAX_PREFERRED_LANGUAGES: usize = 20;
/// How deeply `data` may nest: far more than any profile needs, well inside what the store and a
/// JSON parser reading the stored user again accept.
pub const MAX_DATA_DEPTH: usize = 32;

/// Parses the user object `object` of a request, naming fields `"{prefix}.{field}"`. The user
/// has the object's `id` where it gives one (else the nil id) and, for an import, its
/// `tenantId` (else the nil id): the caller sets both as the call decides.
pub fn parse_user(object: &Value, prefix: &str, purpose: UserInput) -> Result<User, Errors> {
    let mut errors = Errors::default();
    let Some(fields) = object.as_object() else {
        errors.add_field(prefix, FieldProblem::CouldNotConvert);
        return Err(errors);
    };
    let mut reader = Reader {
        fields,
        prefix,
        errors: &mut errors,
    };
    let mut user = User::new(Uuid::nil(), Uuid::nil());
    user.id = reader.uuid("id").unwrap_or(Uuid::nil());
    user.email = reader.text("email", limits::LOGIN_ID);
    user.username = reader.text("username", limits::LOGIN_ID);
    user.phone_number = reader.text("phoneNumber", limits::LOGIN_ID);
    user.first_name = reader.text("firstName", NAME);
    user.middle_name = reader.text("middleName", NAME);
    user.last_name = reader.text("lastName", NAME);
    user.full_name = reader.text("fullName", NAME);
    user.birth_date = reader.text("birthDate", 10);
    user.image_url = reader.text("imageUrl", limits::URL);
    user.mobile_phone = reader.text("mobilePhone", limits::LOGIN_ID);
    user.timezone = reader.text("timezone", limits::KEYWORD);
    user.preferred_languages = reader.languages();
    user.data = reader.data();
    user.expiry = reader.integer("expiry");
    user.password_change_required = reader.boolean("passwordChangeRequired").unwrap_or(false);
    if purpose == UserInput::Import {
        user.tenant_id = reader.uuid("tenantId").unwrap_or(Uuid::nil());
        user.active = reader.boolean("active").unwrap_or(false);
        user.verified = reader.boolean("verified").unwrap_or(false);
        user.insert_instant = reader.integer("insertInstant");
        user.registrations = reader.registrations();
    }
    check_birth_date(&mut reader, user.birth_date.as_deref());
    check_identities(&mut reader, &user);
    if !errors.is_empty() {
        return Err(errors);
    }
    let reason = (purpose == UserInput::Import).then_some("Import");
    if user.derive_identities(reason).is_err() {
        // check_identities found every problem derive_identities can: it cannot get here.
        errors.add_field(&format!("{prefix}.email"), FieldProblem::Invalid);
        return Err(errors);
    }
    if purpose == UserInput::Import && user.verified {
        // FusionAuth: `verified` on an import marks the email and the phone number verified.
        for identity in &mut user.identities {
            if identity.kind == crate::login_id::IdentityType::PhoneNumber {
                identity.verified = true;
                identity.verified_reason = Some("Import".to_owned());
            }
        }
    }
    Ok(user)
}

/// Reads the fields of one user object, recording each problem under its path.
struct Reader<'a> {
    fields: &'a Map<String, Value>,
    prefix: &'a str,
    errors: &'a mut Errors,
}

impl Reader<'_> {
    fn path(&self, field: &str) -> String {
        format!("{}.{field}", self.prefix)
    }

    fn problem(&mut self, field: &str, problem: FieldProblem) {
        let path = self.path(field);
        self.errors.add_field(&path, problem);
    }

    /// A text field: absent, `null` and `""` are none; anything but text cannot be converted.
    fn text(&mut self, field: &str, max: usize) -> Option<String> {
        match self.fields.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.is_empty() => None,
            Some(Value::String(text)) if !limits::within(text, max) => {
                self.problem(field, FieldProblem::TooLong { max });
                None
            }
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => {
                self.problem(field, FieldProblem::CouldNotConvert);
                None
            }
        }
    }

    fn uuid(&mut self, field: &str) -> Option<Uuid> {
        let text = self.text(field, limits::ID)?;
        match Uuid::parse_str(text.trim()) {
            Ok(id) => Some(id),
            Err(_) => {
                self.problem(field, FieldProblem::CouldNotConvert);
                None
            }
        }
    }

    fn integer(&mut self, field: &str) -> Option<i64> {
        match self.fields.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
            Some(_) => {
                self.problem(field, FieldProblem::CouldNotConvert);
                None
            }
        }
    }

    fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.fields.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.problem(field, FieldProblem::CouldNotConvert);
                None
            }
        }
    }

    fn languages(&mut self) -> Vec<String> {
        const FIELD: &str = "preferredLanguages";
        match self.fields.get(FIELD) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.len() > MAX_PREFERRED_LANGUAGES => {
                self.problem(FIELD, FieldProblem::Invalid);
                Vec::new()
            }
            Some(Value::Array(items)) => {
                let mut languages = Vec::new();
                for item in items {
                    match item.as_str() {
                        Some(text) if !text.is_empty() && limits::within(text, limits::KEYWORD) => {
                            languages.push(text.to_owned())
                        }
                        _ => {
                            self.problem(FIELD, FieldProblem::Invalid);
                            return Vec::new();
                        }
                    }
                }
                languages
            }
            Some(_) => {
                self.problem(FIELD, FieldProblem::CouldNotConvert);
                Vec::new()
            }
        }
    }

    fn data(&mut self) -> Map<String, Value> {
        data_object(self.fields.get("data")).unwrap_or_else(|problem| {
            self.problem("data", problem);
            Map::new()
        })
    }

    fn registrations(&mut self) -> Vec<Registration> {
        const FIELD: &str = "registrations";
        let items = match self.fields.get(FIELD) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.problem(FIELD, FieldProblem::CouldNotConvert);
                return Vec::new();
            }
        };
        let mut registrations = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let field = format!("{FIELD}[{index}]");
            if item.get("applicationId").is_none_or(Value::is_null) {
                self.problem(&format!("{field}.applicationId"), FieldProblem::Missing);
                continue;
            }
            match serde_json::from_value::<Registration>(item.clone()) {
                Ok(registration) => registrations.push(registration),
                Err(_) => self.problem(&field, FieldProblem::CouldNotConvert),
            }
        }
        registrations
    }
}

/// A `data` object (a user's or a registration's): absent or `null` is empty; anything but an
/// object, or an object nesting deeper than [`MAX_DATA_DEPTH`], is refused.
pub fn data_object(value: Option<&Value>) -> Result<Map<String, Value>, FieldProblem> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(data)) if depth(data) > MAX_DATA_DEPTH => Err(FieldProblem::Invalid),
        Some(Value::Object(data)) => Ok(data.clone()),
        Some(_) => Err(FieldProblem::CouldNotConvert),
    }
}

/// How deeply objects and arrays nest inside `data` (a flat object is 1).
pub fn depth(data: &Map<String, Value>) -> usize {
    fn of(value: &Value) -> usize {
        match value {
            Value::Object(map) => 1 + map.values().map(of).max().unwrap_or(0),
            Value::Array(items) => 1 + items.iter().map(of).max().unwrap_or(0),
            _ => 0,
        }
    }
    1 + data.values().map(of).max().unwrap_or(0)
}

/// `birthDate` is FusionAuth's `YYYY-MM-DD`.
fn check_birth_date(reader: &mut Reader<'_>, birth_date: Option<&str>) {
    let Some(date) = birth_date else { return };
    let parts: Vec<&str> = date.split('-').collect();
    let valid = matches!(parts.as_slice(), [y, m, d]
        if y.len() == 4 && m.len() == 2 && d.len() == 2
            && [y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
            && (1..=12).contains(&m.parse::<u32>().unwrap_or(0))
            && (1..=31).contains(&d.parse::<u32>().unwrap_or(0)));
    if !valid {
        reader.problem("birthDate", FieldProblem::CouldNotConvert);
    }
}

/// The problems [`User::derive_identities`] would stop at, all of them: an email that is not
/// one, a phone number that does not parse, a blank username, none of the three.
fn check_identities(reader: &mut Reader<'_>, user: &User) {
    if let Some(email) = user.email.as_deref() {
        if !is_email(&canonical_text(email.trim())) {
            reader.problem("email", FieldProblem::NotEmail);
        }
    }
    if let Some(phone) = user.phone_number.as_deref() {
        if PhoneNumber::parse(phone).is_none() {
            reader.problem("phoneNumber", FieldProblem::InvalidPhone);
        }
    }
    if let Some(username) = user.username.as_deref() {
        if username.trim().is_empty() {
            reader.problem("username", FieldProblem::Blank);
        }
    }
    // A login id refused already (not text, too long) is not also reported missing.
    let refused = ["email", "username", "phoneNumber"]
        .iter()
        .any(|field| reader.errors.field_errors.contains_key(&reader.path(field)));
    let none_given =
        user.email.is_none() && user.username.is_none() && user.phone_number.is_none() && !refused;
    if none_given {
        reader.problem("email", FieldProblem::Blank);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codes(result: Result<User, Errors>) -> Vec<String> {
        let errors = result.expect_err("the user should be refused");
        let mut codes: Vec<String> = errors
            .field_errors
            .values()
            .flatten()
            .map(|e| e.code.clone())
            .collect();
        codes.sort();
        codes
    }

    #[test]
    fn a_user_with_an_email_is_parsed_with_its_email_identity_canonical_and_primary() {
        let user = parse_user(
            &json!({"email": " Ada@Example.COM ", "firstName": "Ada", "data": {"a": [1]}, "expiry": 5}),
            "user",
            UserInput::Create,
        )
        .unwrap();
        assert_eq!(user.email.as_deref(), Some("ada@example.com"));
        assert_eq!(user.first_name.as_deref(), Some("Ada"));
        assert_eq!(user.expiry, Some(5));
        assert!(user.active && !user.verified);
        assert_eq!(user.identities.len(), 1);
        assert!(user.identities[0].primary && !user.identities[0].verified);
    }

    #[test]
    fn every_problem_of_a_user_object_is_reported_at_once_with_fusionauths_codes() {
        let result = parse_user(
            &json!({"email": "a@b_c.com", "phoneNumber": "not a phone", "firstName": 7,
                    "expiry": "soon", "birthDate": "1990-13-01", "data": [],
                    "lastName": "x".repeat(256)}),
            "user",
            UserInput::Create,
        );
        assert_eq!(
            codes(result),
            [
                "[couldNotConvert]user.birthDate",
                "[couldNotConvert]user.data",
                "[couldNotConvert]user.expiry",
                "[couldNotConvert]user.firstName",
                "[invalidPhone]user.phoneNumber",
                "[notEmail]user.email",
                "[tooLong]user.lastName",
            ]
        );
    }

    #[test]
    fn a_user_without_email_username_or_phone_number_is_blank_email() {
        for object in [
            json!({}),
            json!({"email": ""}),
            json!({"email": null, "firstName": "A"}),
        ] {
            assert_eq!(
                codes(parse_user(&object, "user", UserInput::Create)),
                ["[blank]user.email"]
            );
        }
        assert_eq!(
            codes(parse_user(
                &json!({"username": "  "}),
                "user",
                UserInput::Create
            )),
            ["[blank]user.username"]
        );
    }

    #[test]
    fn a_user_object_that_is_not_an_object_cannot_be_converted() {
        for object in [json!([]), json!("a@b.c"), json!(null), json!(1)] {
            assert_eq!(
                codes(parse_user(&object, "user", UserInput::Create)),
                ["[couldNotConvert]user"]
            );
        }
    }

    #[test]
    fn data_nested_past_the_limit_is_invalid() {
        let mut data = json!(1);
        for _ in 0..40 {
            data = json!({ "d": data });
        }
        let result = parse_user(
            &json!({"email": "a@b.co", "data": data}),
            "user",
            UserInput::Create,
        );
        assert_eq!(codes(result), ["[invalid]user.data"]);
    }

    #[test]
    fn an_import_reads_state_and_registrations_and_defaults_to_inactive() {
        let app = Uuid::new_v4();
        let user = parse_user(
            &json!({"email": "a@b.co", "phoneNumber": "+1 415 555 0100", "verified": true,
                    "insertInstant": 42, "registrations": [{"applicationId": app, "roles": ["r"]}]}),
            "users[0]",
            UserInput::Import,
        )
        .unwrap();
        assert!(!user.active);
        assert_eq!(user.insert_instant, Some(42));
        assert_eq!(user.registrations[0].application_id, app);
        assert!(user.identities.iter().all(|i| i.verified));
        assert_eq!(
            user.identities[0].verified_reason.as_deref(),
            Some("Import")
        );
        let refused = parse_user(
            &json!({"email": "a@b.co", "registrations": [{"roles": []}], "active": "yes"}),
            "users[3]",
            UserInput::Import,
        );
        assert_eq!(
            codes(refused),
            [
                "[couldNotConvert]users[3].active",
                "[missing]users[3].registrations[0].applicationId"
            ]
        );
    }

    #[test]
    fn a_create_ignores_state_it_may_not_set() {
        let user = parse_user(
            &json!({"email": "a@b.co", "active": false, "verified": true, "registrations": [{"applicationId": Uuid::new_v4()}]}),
            "user",
            UserInput::Create,
        )
        .unwrap();
        assert!(user.active && !user.verified && user.registrations.is_empty());
    }
}
