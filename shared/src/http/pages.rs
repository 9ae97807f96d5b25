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
</form>{% endif %}
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

/// The words of the pages in one language. `{app}` stands for the application's name.
pub struct Text {
    pub lang: &'static str,
    pub continue_heading: &'static str,
    pub continue_message: &'static str,
    pub continue_button: &'static str,
    pub one_time_code_label: &'static str,
    pub wrong_one_time_code: &'static str,
    pub enter_code_heading: &'static str,
    pub enter_code_message: &'static str,
    pub login_id_label: &'static str,
    pub enter_code_button: &'static str,
    pub wrong_fallback: &'static str,
    pub expired_heading: &'static str,
    pub expired_message: &'static str,
    pub unusable_heading: &'static str,
    pub unusable_message: &'static str,
    pub forbidden_heading: &'static str,
    pub forbidden_message: &'static str,
    pub refused_heading: &'static str,
    pub password_change: &'static str,
    pub two_factor: &'static str,
    pub prevented: &'static str,
    pub locked: &'static str,
    pub user_expired: &'static str,
    pub too_many: &'static str,
    pub verification: &'static str,
    pub not_registered: &'static str,
    pub error_heading: &'static str,
    pub error_message: &'static str,
    pub bad_request_message: &'static str,
    pub login_id_heading: &'static str,
    pub login_id_message: &'static str,
    pub any_login_id_label: &'static str,
    pub login_id_button: &'static str,
    pub invalid_client_heading: &'static str,
    pub invalid_client_message: &'static str,
    pub waiting_heading: &'static str,
    pub waiting_message: &'static str,
    pub waiting_button: &'static str,
    pub wrong_waiting_code: &'static str,
    pub finished_heading: &'static str,
    pub finished_message: &'static str,
    pub approve_heading: &'static str,
    pub approve_message: &'static str,
    pub match_code_label: &'static str,
    pub approve_button: &'static str,
    pub wrong_match_code: &'static str,
    pub approved_heading: &'static str,
    pub approved_message: &'static str,
}

pub static ENGLISH: Text = Text {
    lang: "en",
    continue_heading: "Sign in to {app}",
    continue_message: "Press the button to finish signing in. This link works once.",
    continue_button: "Continue to {app}",
    one_time_code_label: "The code from your message",
    wrong_one_time_code: "That code is not right. Check the message and try again.",
    enter_code_heading: "Sign in to {app} with a code",
    enter_code_message: "If the link in your message does not work, enter your email address and the code from that message.",
    login_id_label: "Your email address",
    enter_code_button: "Sign in",
    wrong_fallback: "That email address and code do not match a current sign-in. Check the newest message, or ask for a new one.",
    expired_heading: "This link has expired",
    expired_message: "Sign-in links work once and only for a few minutes. Go back to the application and ask for a new link.",
    unusable_heading: "This link cannot be used here",
    unusable_message: "The application did not set this link up for signing in on this page. Go back to the application and sign in there.",
    forbidden_heading: "Please open the link again",
    forbidden_message: "This page could not be confirmed. Open the link from your message again and press the button once.",
    refused_heading: "You cannot sign in yet",
    password_change: "You need to change your password first. Go back to the application.",
    two_factor: "Your account uses two-factor authentication. Go back to the application to finish signing in.",
    prevented: "Your account has been restricted. Contact the application's support.",
    locked: "Your account is locked. Contact the application's support.",
    user_expired: "Your account has expired. Contact the application's support.",
    too_many: "Too many codes were tried. Wait a while, then ask for a new link.",
    verification: "Your email address or registration must be verified first. Go back to the application.",
    not_registered: "You are not registered for this application.",
    error_heading: "Something went wrong",
    error_message: "We could not finish signing you in. Please try again in a moment; if the link no longer works, ask for a new one.",
    bad_request_message: "This request could not be read. Open the link from your message again.",
    login_id_heading: "Sign in to {app}",
    login_id_message: "Enter your email address, username or phone number. We will send you a sign-in link and a code.",
    any_login_id_label: "Email, username or phone number",
    login_id_button: "Continue",
    invalid_client_heading: "This sign-in request cannot be used",
    invalid_client_message: "The application sent a sign-in request with an unknown client or return address. Go back to the application and try again.",
    waiting_heading: "Check your messages",
    waiting_message: "If the account exists, we sent it a sign-in link and a code. Open the link on this device or another one, or type the code here. If you open the link on another device, enter this number there:",
    waiting_button: "Sign in",
    wrong_waiting_code: "That code is not right. Check the newest message and try again.",
    finished_heading: "This sign-in is finished",
    finished_message: "This sign-in was completed or has expired. Go back to the application to sign in again.",
    approve_heading: "Is this you signing in to {app}?",
    approve_message: "This link was opened on a device other than the one where the sign-in started. Only if you started it, enter the number that device shows.",
    match_code_label: "The number shown on the other device",
    approve_button: "Approve the sign-in",
    wrong_match_code: "That number is not right. Look at the other device and try again.",
    approved_heading: "You are signed in on your other device",
    approved_message: "You are signed in on your other device. You can close this page.",
};

pub static GERMAN: Text = Text {
    lang: "de",
    continue_heading: "Bei {app} anmelden",
    continue_message: "Drücken Sie die Schaltfläche, um die Anmeldung abzuschließen. Dieser Link funktioniert einmal.",
    continue_button: "Weiter zu {app}",
    one_time_code_label: "Der Code aus Ihrer Nachricht",
    wrong_one_time_code: "Dieser Code ist nicht richtig. Prüfen Sie die Nachricht und versuchen Sie es erneut.",
    enter_code_heading: "Mit einem Code bei {app} anmelden",
    enter_code_message: "Wenn der Link in Ihrer Nachricht nicht funktioniert, geben Sie Ihre E-Mail-Adresse und den Code aus dieser Nachricht ein.",
    login_id_label: "Ihre E-Mail-Adresse",
    enter_code_button: "Anmelden",
    wrong_fallback: "E-Mail-Adresse und Code passen zu keiner aktuellen Anmeldung. Prüfen Sie die neueste Nachricht oder fordern Sie eine neue an.",
    expired_heading: "Dieser Link ist abgelaufen",
    expired_message: "Anmeldelinks funktionieren einmal und nur wenige Minuten. Fordern Sie in der Anwendung einen neuen Link an.",
    unusable_heading: "Dieser Link kann hier nicht verwendet werden",
    unusable_message: "Die Anwendung hat diesen Link nicht für die Anmeldung auf dieser Seite eingerichtet. Melden Sie sich in der Anwendung an.",
    forbidden_heading: "Bitte öffnen Sie den Link erneut",
    forbidden_message: "Diese Seite konnte nicht bestätigt werden. Öffnen Sie den Link aus Ihrer Nachricht erneut.",
    refused_heading: "Sie können sich noch nicht anmelden",
    password_change: "Sie müssen zuerst Ihr Passwort ändern. Gehen Sie zurück zur Anwendung.",
    two_factor: "Ihr Konto nutzt Zwei-Faktor-Authentifizierung. Schließen Sie die Anmeldung in der Anwendung ab.",
    prevented: "Ihr Konto wurde eingeschränkt. Wenden Sie sich an den Support.",
    locked: "Ihr Konto ist gesperrt. Wenden Sie sich an den Support.",
    user_expired: "Ihr Konto ist abgelaufen. Wenden Sie sich an den Support.",
    too_many: "Zu viele Codes wurden versucht. Warten Sie und fordern Sie einen neuen Link an.",
    verification: "Ihre E-Mail-Adresse oder Registrierung muss zuerst bestätigt werden.",
    not_registered: "Sie sind für diese Anwendung nicht registriert.",
    error_heading: "Etwas ist schiefgelaufen",
    error_message: "Die Anmeldung konnte nicht abgeschlossen werden. Versuchen Sie es gleich noch einmal.",
    bad_request_message: "Diese Anfrage konnte nicht gelesen werden. Öffnen Sie den Link erneut.",
    login_id_heading: "Bei {app} anmelden",
    login_id_message: "Geben Sie Ihre E-Mail-Adresse, Ihren Benutzernamen oder Ihre Telefonnummer ein. Wir senden Ihnen einen Anmeldelink und einen Code.",
    any_login_id_label: "E-Mail, Benutzername oder Telefonnummer",
    login_id_button: "Weiter",
    invalid_client_heading: "Diese Anmeldeanfrage kann nicht verwendet werden",
    invalid_client_message: "Die Anwendung hat eine Anmeldeanfrage mit unbekanntem Client oder unbekannter Rücksprungadresse gesendet. Gehen Sie zurück zur Anwendung.",
    waiting_heading: "Prüfen Sie Ihre Nachrichten",
    waiting_message: "Falls das Konto existiert, haben wir ihm einen Anmeldelink und einen Code gesendet. Öffnen Sie den Link auf diesem oder einem anderen Gerät oder geben Sie den Code hier ein. Auf einem anderen Gerät geben Sie dort diese Zahl ein:",
    waiting_button: "Anmelden",
    wrong_waiting_code: "Dieser Code ist nicht richtig. Prüfen Sie die neueste Nachricht.",
    finished_heading: "Diese Anmeldung ist beendet",
    finished_message: "Diese Anmeldung wurde abgeschlossen oder ist abgelaufen. Melden Sie sich in der Anwendung erneut an.",
    approve_heading: "Melden Sie sich gerade bei {app} an?",
    approve_message: "Dieser Link wurde auf einem anderen Gerät geöffnet als dem, auf dem die Anmeldung begann. Nur wenn Sie sie begonnen haben, geben Sie die Zahl ein, die jenes Gerät zeigt.",
    match_code_label: "Die Zahl auf dem anderen Gerät",
    approve_button: "Anmeldung bestätigen",
    wrong_match_code: "Diese Zahl ist nicht richtig. Sehen Sie auf dem anderen Gerät nach.",
    approved_heading: "Sie sind auf Ihrem anderen Gerät angemeldet",
    approved_message: "Sie sind auf Ihrem anderen Gerät angemeldet. Sie können diese Seite schließen.",
};

pub static FRENCH: Text = Text {
    lang: "fr",
    continue_heading: "Connexion à {app}",
    continue_message: "Appuyez sur le bouton pour terminer la connexion. Ce lien ne fonctionne qu'une fois.",
    continue_button: "Continuer vers {app}",
    one_time_code_label: "Le code de votre message",
    wrong_one_time_code: "Ce code n'est pas correct. Vérifiez le message et réessayez.",
    enter_code_heading: "Connexion à {app} avec un code",
    enter_code_message: "Si le lien de votre message ne fonctionne pas, saisissez votre adresse e-mail et le code de ce message.",
    login_id_label: "Votre adresse e-mail",
    enter_code_button: "Se connecter",
    wrong_fallback: "Cette adresse e-mail et ce code ne correspondent à aucune connexion en cours. Vérifiez le message le plus récent ou demandez-en un nouveau.",
    expired_heading: "Ce lien a expiré",
    expired_message: "Les liens de connexion ne fonctionnent qu'une fois et quelques minutes. Retournez dans l'application pour en demander un nouveau.",
    unusable_heading: "Ce lien ne peut pas être utilisé ici",
    unusable_message: "L'application n'a pas prévu ce lien pour une connexion sur cette page. Connectez-vous dans l'application.",
    forbidden_heading: "Veuillez rouvrir le lien",
    forbidden_message: "Cette page n'a pas pu être confirmée. Rouvrez le lien de votre message.",
    refused_heading: "Vous ne pouvez pas encore vous connecter",
    password_change: "Vous devez d'abord changer votre mot de passe. Retournez dans l'application.",
    two_factor: "Votre compte utilise l'authentification à deux facteurs. Terminez la connexion dans l'application.",
    prevented: "Votre compte a été restreint. Contactez le support.",
    locked: "Votre compte est verrouillé. Contactez le support.",
    user_expired: "Votre compte a expiré. Contactez le support.",
    too_many: "Trop de codes ont été essayés. Patientez puis demandez un nouveau lien.",
    verification: "Votre adresse e-mail ou votre inscription doit d'abord être vérifiée.",
    not_registered: "Vous n'êtes pas inscrit à cette application.",
    error_heading: "Une erreur s'est produite",
    error_message: "La connexion n'a pas pu aboutir. Réessayez dans un instant.",
    bad_request_message: "Cette requête n'a pas pu être lue. Rouvrez le lien de votre message.",
    login_id_heading: "Connexion à {app}",
    login_id_message: "Saisissez votre adresse e-mail, votre nom d'utilisateur ou votre numéro de téléphone. Nous vous enverrons un lien de connexion et un code.",
    any_login_id_label: "E-mail, nom d'utilisateur ou téléphone",
    login_id_button: "Continuer",
    invalid_client_heading: "Cette demande de connexion ne peut pas être utilisée",
    invalid_client_message: "L'application a envoyé une demande de connexion avec un client ou une adresse de retour inconnus. Retournez dans l'application.",
    waiting_heading: "Consultez vos messages",
    waiting_message: "Si le compte existe, nous lui avons envoyé un lien de connexion et un code. Ouvrez le lien sur cet appareil ou un autre, ou saisissez le code ici. Sur un autre appareil, saisissez-y ce nombre :",
    waiting_button: "Se connecter",
    wrong_waiting_code: "Ce code n'est pas correct. Vérifiez le message le plus récent.",
    finished_heading: "Cette connexion est terminée",
    finished_message: "Cette connexion a abouti ou a expiré. Retournez dans l'application pour vous reconnecter.",
    approve_heading: "Est-ce vous qui vous connectez à {app} ?",
    approve_message: "Ce lien a été ouvert sur un autre appareil que celui où la connexion a commencé. Seulement si vous l'avez commencée, saisissez le nombre affiché sur cet appareil.",
    match_code_label: "Le nombre affiché sur l'autre appareil",
    approve_button: "Approuver la connexion",
    wrong_match_code: "Ce nombre n'est pas correct. Regardez l'autre appareil.",
    approved_heading: "Vous êtes connecté sur votre autre appareil",
    approved_message: "Vous êtes connecté sur votre autre appareil. Vous pouvez fermer cette page.",
};

const LANGUAGES: [&Text; 3] = [&ENGLISH, &GERMAN, &FRENCH];

/// The first of `preferred` (the user's languages, then the browser's `Accept-Language`) that
/// the pages have, matched on the primary subtag (`de-AT` → `de`); English otherwise.
pub fn language<'a>(preferred: impl IntoIterator<Item = &'a str>) -> &'static Text {
    preferred
        .into_iter()
        .filter_map(|tag| tag.split(['-', '_']).next())
        .find_map(|primary| {
            LANGUAGES
                .iter()
                .copied()
                .find(|t| t.lang.eq_ignore_ascii_case(primary.trim()))
        })
        .unwrap_or(&ENGLISH)
}

/// `Accept-Language`'s tags in order of preference (q-values honoured, `q=0` dropped).
pub fn accept_language(header: Option<&str>) -> Vec<&str> {
    let mut tags: Vec<(&str, f32)> = header
        .unwrap_or_default()
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && q > 0.0).then_some((tag, q))
        })
        .collect();
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    tags.into_iter().map(|(tag, _)| tag).collect()
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
