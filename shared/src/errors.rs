//! FusionAuth's `Errors` object: field errors keyed by field name and general errors, each with a
//! code in FusionAuth's style (`[blank]loginId`, `[invalid]applicationId`…) and a message.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ErrorEntry {
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Errors {
    pub field_errors: BTreeMap<String, Vec<ErrorEntry>>,
    pub general_errors: Vec<ErrorEntry>,
}

impl Errors {
    pub fn general(code: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add_general(code, message);
        errors
    }

    pub fn field(field: &str, kind: FieldProblem) -> Self {
        let mut errors = Self::default();
        errors.add_field(field, kind);
        errors
    }

    pub fn add_general(&mut self, code: impl Into<String>, message: impl Into<String>) {
        self.general_errors.push(ErrorEntry {
            code: code.into(),
            message: message.into(),
        });
    }

    /// Adds a field error whose code or message no [`FieldProblem`] words (`[duplicate]registration`,
    /// a message naming an import's index).
    pub fn add_field_entry(
        &mut self,
        field: &str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.field_errors
            .entry(field.to_owned())
            .or_default()
            .push(ErrorEntry {
                code: code.into(),
                message: message.into(),
            });
    }

    /// Adds `[kind]field` with FusionAuth's wording for that kind.
    pub fn add_field(&mut self, field: &str, kind: FieldProblem) {
        let message = match kind {
            FieldProblem::Blank => format!("You must specify the [{field}] property."),
            FieldProblem::Invalid => format!("The [{field}] property is invalid."),
            FieldProblem::CouldNotConvert => {
                format!("Invalid [{field}]. The value could not be converted to the expected type.")
            }
            FieldProblem::Missing => format!("The [{field}] property is required."),
            FieldProblem::TooLong { max } => {
                format!("The [{field}] property is too long. The maximum length is [{max}].")
            }
            FieldProblem::NotEmail => format!("The [{field}] property must be an email address."),
            FieldProblem::InvalidPhone => {
                format!("The [{field}] property is not a valid phone number.")
            }
            FieldProblem::Duplicate => {
                format!("A User with this [{field}] value already exists.")
            }
        };
        self.add_field_entry(field, format!("[{}]{field}", kind.as_str()), message);
    }

    pub fn is_empty(&self) -> bool {
        self.field_errors.is_empty() && self.general_errors.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    Blank,
    Invalid,
    CouldNotConvert,
    Missing,
    /// Longer than `max` characters.
    TooLong {
        max: usize,
    },
    /// Not an email address (FusionAuth's syntax check).
    NotEmail,
    /// Not a phone number.
    InvalidPhone,
    /// Another object of the tenant has this value already.
    Duplicate,
}

impl FieldProblem {
    fn as_str(self) -> &'static str {
        match self {
            Self::Blank => "blank",
            Self::Invalid => "invalid",
            Self::CouldNotConvert => "couldNotConvert",
            Self::Missing => "missing",
            Self::TooLong { .. } => "tooLong",
            Self::NotEmail => "notEmail",
            Self::InvalidPhone => "invalidPhone",
            Self::Duplicate => "duplicate",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_as_fusionauth_sends_them() {
        let mut errors = Errors::field("loginId", FieldProblem::Blank);
        errors.add_field("applicationId", FieldProblem::CouldNotConvert);
        let json = serde_json::to_value(&errors).unwrap();
        assert_eq!(json["fieldErrors"]["loginId"][0]["code"], "[blank]loginId");
        assert_eq!(
            json["fieldErrors"]["applicationId"][0]["code"],
            "[couldNotConvert]applicationId"
        );
        assert_eq!(json["generalErrors"], serde_json::json!([]));
    }
}
