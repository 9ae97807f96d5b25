//! The fallback page of a mangled link (issue 23, item 2), through the landing function's handler
//! against DynamoDB on moto: a short code alone never logs anyone in. The page takes only the
//! fallback of a link's code that send emailed to the very address typed; a FormField code's
//! one-time code, a code never sent and a code sent by SMS are refused with the page a wrong
//! code gets, and so is every try once the user's budget for the day is spent.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::oauth2::{
    code_entry_event, enter_code, entry_csrf, exchange, fallback_from_email, problem_of,
    redirected, start, web_state, REDIRECT, VERIFIER,
};
use passwordless::oauth2::landing::{FALLBACK_MIN_DURATION, FALLBACK_TRIES_PER_USER_PER_DAY};

const RICHARD: &str = "richard@piedpiper.com";
const RICHARD_PHONE: &str = "+13035551212";

/// Posts the fallback page's form (with the CSRF value of a freshly opened page).
async fn try_fallback(app: &TestApp, login_id: &str, one_time_code: &str) -> TestResponse {
    let page = app
        .landing_event(code_entry_event("GET", &format!("client_id={WEB_APP}")).to_json())
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = entry_csrf(&page);
    enter_code(
        app,
        Some(&csrf),
        &[
            ("csrf", &csrf),
            ("client_id", WEB_APP),
            ("loginId", login_id),
            ("oneTimeCode", one_time_code),
        ],
    )
    .await
}

/// The one-time code a code's item holds (sealed under the code, which the test has from start):
/// what someone who read it from an SMS, or from a template that shows it, would type.
async fn one_time_code_in_table(app: &TestApp, code: &str) -> String {
    let key = format!("CODE#{}", passwordless::codes::hash_secret(code));
    let item = app
        .code_items()
        .await
        .into_iter()
        .find(|item| item["pk"].as_s().is_ok_and(|pk| *pk == key))
        .expect("the code's item");
    let doc: Value = serde_json::from_str(item["doc"].as_s().unwrap()).unwrap();
    let sealed = doc["sealedOneTimeCode"]
        .as_str()
        .expect("a sealed one-time code");
    passwordless::codes::unseal_one_time_code(code, sealed).expect("it unseals with its code")
}

/// The page with its CSRF value blanked: what must be the same for every refusal.
fn page_without_csrf(response: &TestResponse) -> (u16, String) {
    let csrf = entry_csrf(response);
    (response.status, response.body.replace(&csrf, "CSRF"))
}

fn wrong_of(one_time_code: &str) -> &'static str {
    if one_time_code == "000000" {
        "111111"
    } else {
        "000000"
    }
}

fn refusal_reasons(response: &TestResponse) -> Vec<String> {
    response
        .metric("FallbackRefused")
        .iter()
        .map(|line| line["Reason"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_form_field_codes_one_time_code_read_from_an_sms_does_not_pass_the_fallback_page() {
    let app = TestApp::spawn().await;
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": RICHARD_PHONE,
            "loginIdTypes": ["phoneNumber"], "loginStrategy": "FormField", "state": web_state()}))
        .await;
    let code = started["code"].as_str().unwrap();
    assert_eq!(app.send(json!({"code": code})).await.status, 200);
    let one_time_code = started["oneTimeCode"].as_str().unwrap();
    assert_eq!(
        sms_containing(RICHARD_PHONE, one_time_code).await.len(),
        1,
        "the one-time code went out by SMS"
    );

    let refused = try_fallback(&app, RICHARD, one_time_code).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.header("location").is_none());
    assert_eq!(refusal_reasons(&refused), ["wrong"]);

    let page = crate::oauth2::open(&app, "GET", code).await;
    assert_eq!(
        page.status, 200,
        "the code itself is still live: {}",
        page.body
    );
}

#[tokio::test]
async fn a_link_code_never_sent_is_refused_at_the_fallback_page_and_taken_once_emailed() {
    let app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, RICHARD, web_state()).await;
    let one_time_code = one_time_code_in_table(&app, &code).await;

    let unsent = try_fallback(&app, RICHARD, &one_time_code).await;
    assert_eq!(unsent.status, 400, "{}", unsent.body);
    assert!(unsent.header("location").is_none());

    let (_, emailed) = fallback_from_email(&app, &code).await;
    assert_eq!(emailed, one_time_code);
    let sent = try_fallback(&app, RICHARD, &emailed).await;
    let query = redirected(&sent, REDIRECT);
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
}

#[tokio::test]
async fn a_link_code_sent_by_sms_is_refused_at_the_fallback_page_even_with_its_one_time_code() {
    let app = TestApp::spawn().await;
    let started = app
        .start_code(json!({"applicationId": WEB_APP, "loginId": RICHARD_PHONE,
            "loginIdTypes": ["phoneNumber"], "loginStrategy": "ClickableLink",
            "state": web_state()}))
        .await;
    let code = started["code"].as_str().unwrap().to_owned();
    assert_eq!(app.send(json!({"code": code})).await.status, 200);
    assert_eq!(sms_containing(RICHARD_PHONE, &code).await.len(), 1);
    let one_time_code = one_time_code_in_table(&app, &code).await;

    let refused = try_fallback(&app, RICHARD, &one_time_code).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.header("location").is_none());
}

#[tokio::test]
async fn the_fallback_takes_only_the_address_the_email_went_to() {
    let app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, RICHARD, web_state()).await;
    let (_, one_time_code) = fallback_from_email(&app, &code).await;

    // Richard's username finds Richard, but the email did not go to "richard".
    let username = try_fallback(&app, "richard", &one_time_code).await;
    assert_eq!(username.status, 400, "{}", username.body);
    assert!(username.header("location").is_none());

    let address = try_fallback(&app, "Richard@PiedPiper.com", &one_time_code).await;
    redirected(&address, REDIRECT);
}

#[tokio::test]
async fn a_spent_daily_budget_reads_as_a_wrong_code_and_then_even_the_right_code_fails() {
    let app = TestApp::spawn().await;
    let code = start(&app, WEB_APP, RICHARD, web_state()).await;
    let (_, one_time_code) = fallback_from_email(&app, &code).await;
    let wrong = wrong_of(&one_time_code);

    let began = std::time::Instant::now();
    let nobody = try_fallback(&app, "nobody@piedpiper.com", &one_time_code).await;
    assert!(
        began.elapsed() >= FALLBACK_MIN_DURATION,
        "{:?}",
        began.elapsed()
    );
    assert_eq!(nobody.status, 400, "{}", nobody.body);
    let reference = page_without_csrf(&nobody);
    for attempt in 0..FALLBACK_TRIES_PER_USER_PER_DAY {
        let began = std::time::Instant::now();
        let refused = try_fallback(&app, RICHARD, wrong).await;
        assert!(
            began.elapsed() >= FALLBACK_MIN_DURATION,
            "{:?}",
            began.elapsed()
        );
        assert_eq!(page_without_csrf(&refused), reference, "try {attempt}");
        assert_eq!(refusal_reasons(&refused), ["wrong"]);
    }

    // A new code, mailed: its right fallback finds the day's budget spent.
    let code = start(&app, WEB_APP, RICHARD, web_state()).await;
    let (_, one_time_code) = fallback_from_email(&app, &code).await;
    let began = std::time::Instant::now();
    let spent = try_fallback(&app, RICHARD, &one_time_code).await;
    assert!(
        began.elapsed() >= FALLBACK_MIN_DURATION,
        "{:?}",
        began.elapsed()
    );
    assert!(spent.header("location").is_none(), "the right code fails");
    assert_eq!(page_without_csrf(&spent), reference, "the same page");
    assert_eq!(problem_of(&spent), problem_of(&nobody));
    assert_eq!(refusal_reasons(&spent), ["budget"]);

    // The link itself still works: the budget is the fallback's only.
    let clicked = crate::oauth2::open_and_click(&app, &code).await;
    redirected(&clicked, REDIRECT);
}
