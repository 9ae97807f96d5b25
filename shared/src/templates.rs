//! Messages: the built-in templates and the tenant's or application's own, rendered with
//! MiniJinja (HTML parts escaped), localized by the user's `preferredLanguages`.
//!
//! Variables: `code`, `oneTimeCode` (FormField only), `link`, `fallbackCode` and `fallbackLink`
//! (ClickableLink: the one-time code, and the page that takes it with the login id when the link
//! is mangled), `state`, `user`, `application`, `tenant`, `timeToLive` (seconds) and `signUp`
//! (a hosted sign-up's message: the link finishes signing up, and the code is typed on the page
//! that sent it; the fallback page knows no account yet).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use crate::model::{EmailTemplate, MessageTemplate};

pub const DEFAULT_SUBJECT: &str =
    "{% if signUp %}Finish signing up for {{ application.name }}{% elif oneTimeCode %}Your {{ application.name }} login code{% else %}Log in to {{ application.name }}{% endif %}";

pub const DEFAULT_HTML: &str = r#"<!DOCTYPE html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>Hi{% if user.firstName %} {{ user.firstName }}{% endif %},</p>
{% if signUp %}<p>Finish signing up for {{ application.name }}:</p>
<p><a href="{{ link }}" style="display: inline-block; padding: 10px 18px; background: #2563eb; color: #fff; text-decoration: none; border-radius: 6px">Finish signing up</a></p>
<p>Or open this link: <a href="{{ link }}">{{ link }}</a></p>
{% if fallbackCode %}<p>Or enter this code on the page where you signed up: <strong>{{ fallbackCode }}</strong></p>
{% endif %}<p>It works once, for {{ timeToLive // 60 }} minutes. If you did not ask to sign up, ignore this email: no account is made without it.</p>
{% else %}{% if oneTimeCode %}<p>Your code to log in to {{ application.name }} is</p>
<p style="font-size: 28px; letter-spacing: 4px"><strong>{{ oneTimeCode }}</strong></p>
<p>Or open <a href="{{ link }}">this link</a> and enter the code there.</p>
{% else %}<p><a href="{{ link }}" style="display: inline-block; padding: 10px 18px; background: #2563eb; color: #fff; text-decoration: none; border-radius: 6px">Log in to {{ application.name }}</a></p>
<p>Or open this link: <a href="{{ link }}">{{ link }}</a></p>
{% if fallbackCode %}<p>Link not working? Go to <a href="{{ fallbackLink }}">{{ fallbackLink }}</a>, enter your email address and this code: <strong>{{ fallbackCode }}</strong></p>
{% endif %}{% endif %}<p>It works once, for {{ timeToLive // 60 }} minutes. If you did not ask to log in, ignore this email.</p>
{% endif %}<p>{{ tenant.name }}</p>
</body></html>
"#;

pub const DEFAULT_TEXT: &str = r#"Hi{% if user.firstName %} {{ user.firstName }}{% endif %},

{% if signUp %}Finish signing up for {{ application.name }} with this link:
{{ link }}
{% if fallbackCode %}
Or enter this code on the page where you signed up: {{ fallbackCode }}
{% endif %}
It works once, for {{ timeToLive // 60 }} minutes. If you did not ask to sign up, ignore this email: no account is made without it.
{% else %}{% if oneTimeCode %}Your code to log in to {{ application.name }} is {{ oneTimeCode }}
Or open this link and enter the code there: {{ link }}
{% else %}Log in to {{ application.name }} with this link:
{{ link }}
{% if fallbackCode %}
Link not working? Go to {{ fallbackLink }}
and enter your email address and this code: {{ fallbackCode }}
{% endif %}{% endif %}
It works once, for {{ timeToLive // 60 }} minutes. If you did not ask to log in, ignore this email.
{% endif %}
{{ tenant.name }}
"#;

pub const DEFAULT_SMS: &str = "{% if oneTimeCode %}{{ oneTimeCode }} is your {{ application.name }} login code.{% else %}Log in to {{ application.name }}: {{ link }}{% endif %} It expires in {{ timeToLive // 60 }} min.";

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    // MiniJinja's HTML escaping also turns `/` into `&#x2f;`, which mangles links in mail
    // clients that show the raw text; the five characters that matter are enough.
    env.set_formatter(|out, state, value| {
        if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() {
            if let Some(text) = value.as_str() {
                out.write_str(&escape_html(text))?;
                return Ok(());
            }
        }
        minijinja::escape_formatter(out, state, value)
    });
    env
});

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
#[error("template {name}: {message}")]
pub struct TemplateError {
    pub name: String,
    pub message: String,
}

fn render(name: &str, source: &str, context: &impl Serialize) -> Result<String, TemplateError> {
    ENV.render_named_str(name, source, minijinja::value::Serde(context))
        .map_err(|e| TemplateError {
            name: name.to_owned(),
            message: e.to_string(),
        })
}

/// Whether `source` compiles: kickstart files are checked before anything is stored.
pub fn check(name: &str, source: &str) -> Result<(), String> {
    ENV.template_from_named_str(name, source)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The variant for the first of `languages` that the template has (`fr-CA` falls back to
/// `fr`), else the default.
fn localized<'a>(
    default: &'a str,
    variants: &'a BTreeMap<String, String>,
    languages: &[String],
) -> &'a str {
    languages
        .iter()
        .find_map(|lang| {
            variants.get(lang).or_else(|| {
                let primary = lang.split(['-', '_']).next()?;
                variants.get(primary)
            })
        })
        .map(String::as_str)
        .unwrap_or(default)
}

#[derive(PartialEq, Eq)]
pub struct RenderedEmail {
    pub from_name: Option<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// The bodies carry the link and the one-time code: redacted.
impl std::fmt::Debug for RenderedEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderedEmail")
            .field("from_name", &self.from_name)
            .field("subject", &self.subject)
            .field("html", &crate::redact::REDACTED)
            .field("text", &crate::redact::REDACTED)
            .finish()
    }
}

pub fn render_email(
    template: Option<&EmailTemplate>,
    languages: &[String],
    context: &impl Serialize,
) -> Result<RenderedEmail, TemplateError> {
    let Some(t) = template else {
        return Ok(RenderedEmail {
            from_name: None,
            subject: render("subject.txt", DEFAULT_SUBJECT, context)?,
            html: render("email.html", DEFAULT_HTML, context)?,
            text: render("email.txt", DEFAULT_TEXT, context)?,
        });
    };
    let from_name = languages
        .iter()
        .find_map(|lang| t.localized_from_names.get(lang))
        .or(t.default_from_name.as_ref())
        .cloned();
    Ok(RenderedEmail {
        from_name,
        subject: render(
            "subject.txt",
            localized(&t.default_subject, &t.localized_subjects, languages),
            context,
        )?,
        html: render(
            "email.html",
            localized(
                &t.default_html_template,
                &t.localized_html_templates,
                languages,
            ),
            context,
        )?,
        text: render(
            "email.txt",
            localized(
                &t.default_text_template,
                &t.localized_text_templates,
                languages,
            ),
            context,
        )?,
    })
}

pub fn render_sms(
    template: Option<&MessageTemplate>,
    languages: &[String],
    context: &impl Serialize,
) -> Result<String, TemplateError> {
    let source = match template {
        Some(t) => localized(&t.default_template, &t.localized_templates, languages),
        None => DEFAULT_SMS,
    };
    render("sms.txt", source, context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context(one_time_code: Option<&str>) -> serde_json::Value {
        json!({
            "code": "abc", "oneTimeCode": one_time_code,
            "link": "https://example.com/oauth2/passwordless/abc?tenantId=t&x=%3Cb%3E",
            "user": {"firstName": "<Ada>"}, "application": {"name": "Web"},
            "tenant": {"name": "Demo"}, "timeToLive": 180, "state": {}
        })
    }

    #[test]
    fn the_default_email_carries_the_link_in_both_parts_and_escapes_html() {
        let email = render_email(None, &[], &context(None)).unwrap();
        assert_eq!(email.subject, "Log in to Web");
        assert!(email
            .text
            .contains("https://example.com/oauth2/passwordless/abc"));
        assert!(email
            .html
            .contains("href=\"https://example.com/oauth2/passwordless/abc"));
        assert!(email.html.contains("Hi &lt;Ada&gt;"));
        assert!(email.text.contains("Hi <Ada>"));
        assert!(email.text.contains("for 3 minutes"));
    }

    #[test]
    fn a_sign_up_email_says_finish_signing_up_with_the_link_and_the_code_to_type() {
        let mut ctx = context(None);
        ctx["signUp"] = json!(true);
        ctx["user"] = json!({"email": "new@example.com"});
        ctx["fallbackCode"] = json!("654321");
        ctx["fallbackLink"] = json!("https://example.com/oauth2/passwordless?client_id=a");
        let email = render_email(None, &[], &ctx).unwrap();
        assert_eq!(email.subject, "Finish signing up for Web");
        for part in [&email.text, &email.html] {
            assert!(part.contains("Finish signing up for Web"), "{part}");
            assert!(part.contains("654321"), "{part}");
            assert!(
                part.contains("https://example.com/oauth2/passwordless/abc"),
                "{part}"
            );
            assert!(part.contains("If you did not ask to sign up"), "{part}");
            // The fallback page knows no account yet: the code is typed where it was asked for.
            assert!(!part.contains("client_id=a"), "{part}");
            assert!(!part.contains("ask to log in"), "{part}");
        }
    }

    #[test]
    fn a_form_field_email_carries_the_one_time_code_and_the_link_that_asks_for_it() {
        let email = render_email(None, &[], &context(Some("123456"))).unwrap();
        assert!(email.text.contains("is 123456"));
        assert!(email.html.contains("<strong>123456</strong>"));
        assert!(email
            .text
            .contains("https://example.com/oauth2/passwordless/abc"));
        assert!(email
            .html
            .contains("href=\"https://example.com/oauth2/passwordless/abc"));
        assert_eq!(email.subject, "Your Web login code");
    }

    #[test]
    fn a_link_email_carries_its_fallback_code_and_the_page_that_takes_it() {
        let mut ctx = context(None);
        ctx["fallbackCode"] = json!("654321");
        ctx["fallbackLink"] = json!("https://example.com/oauth2/passwordless?client_id=a");
        let email = render_email(None, &[], &ctx).unwrap();
        for part in [&email.text, &email.html] {
            assert!(part.contains("654321"), "{part}");
            assert!(
                part.contains("https://example.com/oauth2/passwordless?client_id=a"),
                "{part}"
            );
        }
        assert_eq!(email.subject, "Log in to Web", "still a link's email");
        let without = render_email(None, &[], &context(None)).unwrap();
        assert!(!without.text.contains("Link not working"));
    }

    #[test]
    fn the_user_language_picks_the_localized_variant() {
        let template = MessageTemplate {
            id: uuid::Uuid::nil(),
            name: "sms".into(),
            default_template: "Code {{ oneTimeCode }}".into(),
            localized_templates: BTreeMap::from([("fr".into(), "Code : {{ oneTimeCode }}".into())]),
        };
        let ctx = context(Some("42"));
        assert_eq!(
            render_sms(Some(&template), &["fr-CA".into()], &ctx).unwrap(),
            "Code : 42"
        );
        assert_eq!(
            render_sms(Some(&template), &["de".into()], &ctx).unwrap(),
            "Code 42"
        );
    }

    #[test]
    fn a_broken_template_is_reported() {
        assert!(check("x.txt", "{{ unclosed").is_err());
        assert!(check("x.txt", "{{ code }}").is_ok());
    }
}
