//! The words of the pages, in each language they are offered in, and how a page's language is
//! chosen (the user's, then the browser's `Accept-Language`, then English).

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
    /// The waiting page's link to its variant that does not reload (a half-typed code stays).
    pub enter_code_link: &'static str,
    /// That variant's link back to the page that reloads itself.
    pub check_again_link: &'static str,
    pub finished_heading: &'static str,
    pub finished_message: &'static str,
    pub approve_heading: &'static str,
    pub approve_message: &'static str,
    /// Who began the login the approval page is for: `{device}` and `{when}`.
    pub started_by: &'static str,
    /// The same without the time, when it is not known.
    pub started_by_undated: &'static str,
    /// `{browser}` and `{os}`, as a device.
    pub browser_on_os: &'static str,
    pub unknown_browser: &'static str,
    pub just_now: &'static str,
    pub one_minute_ago: &'static str,
    /// `{n}` minutes.
    pub minutes_ago: &'static str,
    pub is_this_you: &'static str,
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
    enter_code_link: "Enter the code",
    check_again_link: "Check again",
    finished_heading: "This sign-in is finished",
    finished_message: "This sign-in was completed or has expired. Go back to the application to sign in again.",
    approve_heading: "Is this you signing in to {app}?",
    approve_message: "This link was opened on a device other than the one where the sign-in started. Only if you started it, enter the number that device shows.",
    started_by: "This sign-in was started in {device} {when}.",
    started_by_undated: "This sign-in was started in {device}.",
    browser_on_os: "{browser} on {os}",
    unknown_browser: "an unknown browser",
    just_now: "just now",
    one_minute_ago: "1 minute ago",
    minutes_ago: "{n} minutes ago",
    is_this_you: "Is this you?",
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
    enter_code_link: "Code eingeben",
    check_again_link: "Erneut prüfen",
    finished_heading: "Diese Anmeldung ist beendet",
    finished_message: "Diese Anmeldung wurde abgeschlossen oder ist abgelaufen. Melden Sie sich in der Anwendung erneut an.",
    approve_heading: "Melden Sie sich gerade bei {app} an?",
    approve_message: "Dieser Link wurde auf einem anderen Gerät geöffnet als dem, auf dem die Anmeldung begann. Nur wenn Sie sie begonnen haben, geben Sie die Zahl ein, die jenes Gerät zeigt.",
    started_by: "Diese Anmeldung wurde {when} in {device} begonnen.",
    started_by_undated: "Diese Anmeldung wurde in {device} begonnen.",
    browser_on_os: "{browser} unter {os}",
    unknown_browser: "einem unbekannten Browser",
    just_now: "gerade eben",
    one_minute_ago: "vor 1 Minute",
    minutes_ago: "vor {n} Minuten",
    is_this_you: "Sind Sie das?",
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
    enter_code_link: "Saisir le code",
    check_again_link: "Vérifier à nouveau",
    finished_heading: "Cette connexion est terminée",
    finished_message: "Cette connexion a abouti ou a expiré. Retournez dans l'application pour vous reconnecter.",
    approve_heading: "Est-ce vous qui vous connectez à {app} ?",
    approve_message: "Ce lien a été ouvert sur un autre appareil que celui où la connexion a commencé. Seulement si vous l'avez commencée, saisissez le nombre affiché sur cet appareil.",
    started_by: "Cette connexion a été commencée {when} dans {device}.",
    started_by_undated: "Cette connexion a été commencée dans {device}.",
    browser_on_os: "{browser} sur {os}",
    unknown_browser: "un navigateur inconnu",
    just_now: "à l'instant",
    one_minute_ago: "il y a 1 minute",
    minutes_ago: "il y a {n} minutes",
    is_this_you: "Est-ce vous ?",
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
