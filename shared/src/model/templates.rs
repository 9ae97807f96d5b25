//! FusionAuth's email and message (SMS) templates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// FusionAuth's email template, with MiniJinja syntax (`{{ link }}`) in place of FreeMarker.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EmailTemplate {
    pub id: Uuid,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_from_name: Option<String>,
    pub default_subject: String,
    pub default_html_template: String,
    pub default_text_template: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized_from_names: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized_subjects: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized_html_templates: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized_text_templates: BTreeMap<String, String>,
}

/// FusionAuth's message (SMS) template.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MessageTemplate {
    pub id: Uuid,
    #[serde(default)]
    pub name: String,
    pub default_template: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized_templates: BTreeMap<String, String>,
}
