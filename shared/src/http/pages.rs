//! The HTML pages the landing function serves: one template, compiled once per container, in the
//! languages below; every value from data or the URL is HTML-escaped (MiniJinja's auto-escape).
//! Pages carry no script and no third-party resource: the one inline stylesheet is allowed by
//! its hash in a strict CSP.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use sha2::{Digest, Sha256};

mod words;

pub use words::{accept_language, language, Text, ENGLISH, FRENCH, GERMAN};

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1f2328;margin:0}\
main{max-width:28rem;margin:12vh auto;background:#fff;padding:2rem;border-radius:12px;box-shadow:0 1px 4px #0002}\
h1{font-size:1.4rem;margin-top:0}button{font-size:1.1rem;padding:.7rem 1.4rem;border:0;border-radius:8px;background:#2563eb;color:#fff;cursor:pointer;width:100%}\
input{font-size:1.2rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.3rem 0 1rem;letter-spacing:.2rem}\
.problem{color:#b42318}.match{font-size:2.4rem;font-weight:700;text-align:center;letter-spacing:.4rem}footer{margin-top:1.5rem;color:#59636e;font-size:.85rem}";

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{ heading }}</title>{% if refresh %}<meta http-equiv="refresh" content="{{ refresh }}">{% endif %}<style>{{ style }}</style></head>
<body><main data-page="{{ page }}">
<h1>{{ heading }}</h1>
{% if problem %}<p class="problem" role="alert">{{ problem }}</p>{% endif %}
<p>{{ message }}</p>
{% if match_code %}<p class="match" data-match-code="{{ match_code }}">{{ match_code }}</p>
{% endif %}{% if form %}<form method="post" action="{{ form.action|attr }}">
<input type="hidden" name="csrf" value="{{ form.csrf }}">
{% for field in form.hidden %}<input type="hidden" name="{{ field[0] }}" value="{{ field[1] }}">
{% endfor %}{% if form.client_id %}<input type="hidden" name="client_id" value="{{ form.client_id }}">
{% endif %}{% if form.login_id %}<label for="loginId">{{ form.login_id }}</label>
{% if form.any_login_id %}<input id="loginId" name="loginId" type="text" autocomplete="username" value="{{ form.login_hint }}" required>
{% else %}<input id="loginId" name="loginId" type="email" autocomplete="email" required>
{% endif %}{% endif %}{% if form.one_time_code %}<label for="oneTimeCode">{{ form.one_time_code }}</label>
<input id="oneTimeCode" name="oneTimeCode"{% if not form.alphanumeric_code %} inputmode="numeric"{% endif %} autocomplete="one-time-code" required>
{% endif %}{% if form.match_code %}<label for="matchCode">{{ form.match_code }}</label>
<input id="matchCode" name="matchCode" inputmode="numeric" autocomplete="off" maxlength="2" required>
{% endif %}<button type="submit">{{ form.button }}</button>
</form>{% if form.link %}
<p><a href="{{ form.link.href|attr }}">{{ form.link.text }}</a></p>{% endif %}{% endif %}
{% if footer %}<footer>{{ footer }}</footer>{% endif %}
</main></body></html>
"#;

/// `response_mode=form_post`: a form of the response's parameters that the one script (allowed
/// by its nonce) submits; without script, its button does.
const FORM_POST: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="robots" content="noindex, nofollow">
<title>Continue</title></head>
<body><form method="post" action="{{ action|attr }}">
{% for field in params %}<input type="hidden" name="{{ field[0] }}" value="{{ field[1] }}">
{% endfor %}<noscript><button type="submit">Continue</button></noscript>
</form>
<script nonce="{{ nonce }}">document.forms[0].submit()</script>
</body></html>
"#;

/// Which page, for the `data-page` attribute tests and operators can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageKind {
    Continue,
    /// `/oauth2/authorize`'s login id page.
    LoginId,
    /// The page that waits for the link and takes the one-time code.
    Waiting,
    /// A link opened in another browser: the match code approves the pending login.
    Approve,
    /// Approved from this device: the other device signs in.
    Approved,
    /// The fallback page: a login id and the one-time code of a link that got mangled.
    EnterCode,
    Expired,
    Unusable,
    Refused,
    Forbidden,
    Error,
    /// `/oauth2/logout` without a valid `id_token_hint`: "sign out?".
    ConfirmLogout,
    SignedOut,
}

/// The form of a page.
#[derive(Default, Serialize)]
pub struct Form<'a> {
    pub action: &'a str,
    pub csrf: &'a str,
    pub button: String,
    /// The label of the one-time code field, for a FormField code and on the fallback page.
    pub one_time_code: Option<&'static str>,
    /// The label of the login id field, on the fallback page.
    pub login_id: Option<&'static str>,
    /// The application the fallback page is for, posted back with the form.
    pub client_id: Option<String>,
    /// Posted back as they are: the authorization request's parameters.
    pub hidden: Vec<(String, String)>,
    /// The login id field takes an email address, a username or a phone number
    /// (`autocomplete="username"`), prefilled with this.
    pub any_login_id: bool,
    pub login_hint: String,
    /// The one-time code is not digits only: no numeric keyboard.
    pub alphanumeric_code: bool,
    /// The label of the match code field, on the approval page.
    pub match_code: Option<&'static str>,
    /// A link below the form, to another page of this site.
    pub link: Option<Link<'a>>,
}

/// A plain link (no script): its target on this site and its words.
#[derive(Serialize)]
pub struct Link<'a> {
    pub href: &'a str,
    pub text: &'static str,
}

/// A page to render, in one language.
pub struct Page<'a> {
    pub kind: PageKind,
    pub status: StatusCode,
    pub text: &'static Text,
    pub heading: String,
    pub message: String,
    pub problem: Option<&'static str>,
    pub form: Option<Form<'a>>,
    pub footer: Option<String>,
    /// The origin a form post may redirect to, besides this one.
    pub redirect_origin: Option<&'a str>,
    /// Seconds after which the page reloads itself (meta refresh).
    pub refresh: Option<u32>,
    /// The two digits the waiting page shows (`data-match-code`).
    pub match_code: Option<&'a str>,
}

impl Page<'_> {
    /// A page that only says something: a heading and a message, no form.
    pub fn message(
        kind: PageKind,
        status: StatusCode,
        text: &'static Text,
        heading: &str,
        message: &str,
    ) -> Self {
        Page {
            kind,
            status,
            text,
            heading: heading.to_owned(),
            message: message.to_owned(),
            problem: None,
            form: None,
            footer: None,
            redirect_origin: None,
            refresh: None,
            match_code: None,
        }
    }
}

#[derive(Serialize)]
struct Context<'a> {
    lang: &'a str,
    heading: &'a str,
    message: &'a str,
    problem: Option<&'a str>,
    form: Option<&'a Form<'a>>,
    footer: Option<&'a str>,
    style: minijinja::Value,
    page: PageKind,
    refresh: Option<u32>,
    match_code: Option<&'a str>,
}

/// The template and the stylesheet's CSP hash, made once per container.
pub struct Pages {
    env: Environment<'static>,
    style_hash: String,
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

impl Pages {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        // A form's action is a path or a validated redirect URI: escaped as an attribute value,
        // its slashes left as they are (`action="/oauth2/authorize"`, as pages are matched).
        env.add_filter("attr", |value: String| {
            minijinja::Value::from_safe_string(escape_attribute(&value))
        });
        // A template error here is a bug in the constant above, which every test renders.
        let _ = env.add_template("page.html", PAGE);
        let _ = env.add_template("form_post.html", FORM_POST);
        Self {
            env,
            style_hash: STANDARD.encode(Sha256::digest(STYLE.as_bytes())),
        }
    }

    /// The page as an HTML response (headers only, for `head`).
    pub fn render(&self, page: &Page<'_>, head: bool) -> Response<Body> {
        let body = self
            .env
            .get_template("page.html")
            .and_then(|t| {
                t.render(minijinja::value::Serde(Context {
                    lang: page.text.lang,
                    heading: &page.heading,
                    message: &page.message,
                    problem: page.problem,
                    form: page.form.as_ref(),
                    footer: page.footer.as_deref(),
                    style: minijinja::Value::from_safe_string(STYLE.to_owned()),
                    page: page.kind,
                    refresh: page.refresh,
                    match_code: page.match_code,
                }))
            })
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "a page did not render");
                "<!DOCTYPE html><title>Error</title><p>Something went wrong.</p>".to_owned()
            });
        let form_action = match (&page.form, page.redirect_origin) {
            (Some(_), Some(origin)) => format!("'self' {origin}"),
            (Some(_), None) => "'self'".to_owned(),
            (None, _) => "'none'".to_owned(),
        };
        let csp = format!(
            "default-src 'none'; style-src 'sha256-{}'; form-action {form_action}; \
             frame-ancestors 'none'; base-uri 'none'",
            self.style_hash
        );
        let mut response = Response::new(if head { Body::Empty } else { Body::Text(body) });
        *response.status_mut() = page.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        if let Ok(value) = HeaderValue::from_str(&csp) {
            headers.insert("content-security-policy", value);
        }
        response
    }
}

impl Pages {
    /// The authorization response as an auto-submitting form post to the redirect URI: 200,
    /// `no-store`, a CSP that allows only the one nonce'd script and a `form-action` to the
    /// redirect URI's origin.
    pub fn form_post(&self, response: &crate::oauth2::AuthorizationResponse) -> Response<Body> {
        let nonce = crate::codes::generate_id(&crate::system::OsRandom);
        let body = self
            .env
            .get_template("form_post.html")
            .and_then(|t| {
                t.render(minijinja::context! {
                    action => response.redirect_uri.as_str(),
                    params => &response.params,
                    nonce => &nonce,
                })
            })
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "the form post did not render");
                "<!DOCTYPE html><title>Error</title><p>Something went wrong.</p>".to_owned()
            });
        let csp = format!(
            "default-src 'none'; script-src 'nonce-{nonce}'; form-action {}; \
             frame-ancestors 'none'; base-uri 'none'",
            response.redirect_uri.origin()
        );
        let mut page = Response::new(Body::Text(body));
        let headers = page.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        if let Ok(value) = HeaderValue::from_str(&csp) {
            headers.insert("content-security-policy", value);
        }
        page
    }
}

/// HTML-escapes an attribute value (double-quoted): `&`, `<`, `>`, `"` and `'`.
fn escape_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_language_wins_then_the_browsers_then_english() {
        assert_eq!(language(["fr-CA", "de"]).lang, "fr");
        assert_eq!(language(["es", "de-AT"]).lang, "de");
        assert_eq!(
            language(accept_language(Some("es;q=1, fr;q=0.5, de;q=0.8"))).lang,
            "de"
        );
        assert_eq!(language(accept_language(Some("xx, *"))).lang, "en");
        assert_eq!(language(accept_language(Some("fr;q=0"))).lang, "en");
    }

    #[test]
    fn data_on_a_page_is_escaped_and_the_page_is_strict() {
        let pages = Pages::new();
        let page = Page {
            kind: PageKind::Continue,
            status: StatusCode::OK,
            text: &ENGLISH,
            heading: "Sign in to <script>alert(1)</script>".into(),
            message: "\"quoted\" & <b>".into(),
            problem: None,
            form: Some(Form {
                action: "/oauth2/passwordless/abc\"><x",
                csrf: "c",
                button: "Go".into(),
                one_time_code: None,
                login_id: None,
                client_id: Some("\"><script>".into()),
                ..Form::default()
            }),
            footer: None,
            redirect_origin: Some("https://app.example.com"),
            refresh: None,
            match_code: None,
        };
        let response = pages.render(&page, false);
        let Body::Text(html) = response.body() else {
            panic!("no body")
        };
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("abc\"><x"));
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(
            csp.starts_with("default-src 'none'; style-src 'sha256-"),
            "{csp}"
        );
        assert!(
            csp.contains("form-action 'self' https://app.example.com;"),
            "{csp}"
        );
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no remote resource"
        );
    }
}
