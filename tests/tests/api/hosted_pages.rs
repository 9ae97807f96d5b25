//! The hosted pages' follow-ups: the waiting page's "Enter the code" variant, which does not
//! reload itself (a reload throws away a half-typed code), and the approval page on another
//! device saying which browser and OS started the login, and when.

use crate::clock::TestClock;
use crate::helpers::*;
use crate::hosted::*;
use crate::oauth2::{csrf_of, exchange, problem_of, redirected, REDIRECT, VERIFIER};

const ENTRY: &str = "entry=code";
const REFRESH: &str = "<meta http-equiv=\"refresh\"";

/// The waiting page's variant without the meta refresh, in `language`.
async fn entry_page(app: &TestApp, pending: &str, language: &str) -> TestResponse {
    app.authorize_wait_event(
        browser_event("GET", WAIT)
            .query(ENTRY)
            .header("accept-language", language)
            .cookie(&format!("fusionauth.pending={pending}"))
            .to_json(),
    )
    .await
}

/// Types `one_time_code` into the variant's form (with its CSRF value and hidden fields).
async fn type_code_on_entry_page(
    app: &TestApp,
    pending: &str,
    one_time_code: &str,
) -> TestResponse {
    let page = entry_page(app, pending, "en").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = csrf_of(&page, "authorize_wait_csrf");
    let mut fields = hidden_fields(&page.body);
    fields.push(("oneTimeCode".into(), one_time_code.into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.authorize_wait_event(
        browser_event("POST", WAIT)
            .header("content-type", "application/x-www-form-urlencoded")
            .cookie(&format!("fusionauth.pending={pending}"))
            .cookie(&format!("authorize_wait_csrf={csrf}"))
            .body(&form(&pairs))
            .to_json(),
    )
    .await
}

fn assert_strict_page(page: &TestResponse) {
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!page.body.contains("<script"), "{}", page.body);
}

#[tokio::test]
async fn the_refreshing_waiting_page_links_to_a_code_entry_page_that_does_not_refresh() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[]), RICHARD).await;
    let waiting = waiting_page(&app, Some(&began.pending)).await;
    assert!(waiting.body.contains(REFRESH), "{}", waiting.body);
    assert!(
        waiting
            .body
            .contains("<a href=\"/oauth2/authorize/wait?entry=code\">Enter the code</a>"),
        "{}",
        waiting.body
    );

    let entry = entry_page(&app, &began.pending, "en").await;
    assert_eq!(entry.status, 200, "{}", entry.body);
    assert!(!entry.body.contains(REFRESH), "{}", entry.body);
    assert!(entry
        .body
        .contains("<form method=\"post\" action=\"/oauth2/authorize/wait\">"));
    assert!(entry
        .body
        .contains("name=\"oneTimeCode\" inputmode=\"numeric\" autocomplete=\"one-time-code\""));
    assert!(
        entry
            .body
            .contains("<a href=\"/oauth2/authorize/wait\">Check again</a>"),
        "{}",
        entry.body
    );
    assert!(!entry.body.contains("Enter the code</a>"));
    assert_eq!(match_code_of(&entry), match_code_of(&waiting));
    assert_strict_page(&entry);
    assert!(set_cookie(&entry, "authorize_wait_csrf").is_some());

    for (language, enter, check) in [
        ("de", "Code eingeben", "Erneut prüfen"),
        ("fr", "Saisir le code", "Vérifier à nouveau"),
    ] {
        let waiting = app
            .authorize_wait_event(
                browser_event("GET", WAIT)
                    .header("accept-language", language)
                    .cookie(&format!("fusionauth.pending={}", began.pending))
                    .to_json(),
            )
            .await;
        assert!(
            waiting.body.contains(&format!("{enter}</a>")),
            "{}",
            waiting.body
        );
        let entry = entry_page(&app, &began.pending, language).await;
        assert!(
            entry.body.contains(&format!("{check}</a>")),
            "{}",
            entry.body
        );
    }
}

#[tokio::test]
async fn a_wrong_code_on_the_code_entry_page_shows_it_again_and_the_right_one_completes() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[("state", "typed")]), RICHARD).await;
    let (_, right) = email_of(&began.pending).await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let again = type_code_on_entry_page(&app, &began.pending, wrong).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(!problem_of(&again).is_empty());
    assert!(!again.body.contains(REFRESH), "{}", again.body);
    assert!(again.body.contains("Check again</a>"), "{}", again.body);
    assert_strict_page(&again);

    let done = type_code_on_entry_page(&app, &began.pending, &right).await;
    let query = redirected(&done, REDIRECT);
    assert_eq!(query["state"], "typed");
    assert_eq!(query["iss"], "piedpiper.com");
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
}

#[tokio::test]
async fn wrong_codes_on_the_code_entry_page_count_against_the_same_budget() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[]), RICHARD).await;
    let (_, right) = email_of(&began.pending).await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    // One wrong on the refreshing page, two on the variant: the third refuses.
    assert_eq!(type_code(&app, &began.pending, wrong).await.status, 400);
    assert_eq!(
        type_code_on_entry_page(&app, &began.pending, wrong)
            .await
            .status,
        400
    );
    let refused = type_code_on_entry_page(&app, &began.pending, wrong).await;
    assert_eq!(redirected(&refused, REDIRECT)["error"], "access_denied");
    // And a post without the CSRF value changes nothing.
    let forged = app
        .authorize_wait_event(
            browser_event("POST", WAIT)
                .header("content-type", "application/x-www-form-urlencoded")
                .cookie(&format!("fusionauth.pending={}", began.pending))
                .body(&form(&[("entry", "code"), ("oneTimeCode", &right)]))
                .to_json(),
        )
        .await;
    assert!(forged.header("location").is_none(), "{}", forged.body);
    assert_eq!(forged.status, 403, "{}", forged.body);
}

const CHROME_ON_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Safari/537.36";
const SAFARI_ON_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

#[tokio::test]
async fn the_approval_page_says_which_browser_and_os_started_the_login_and_when() {
    let clock = TestClock::now();
    let app = TestApp::spawn_with_clock(clock.clone()).await;
    let began = begin_in(&app, &request_query(&[]), RICHARD, CHROME_ON_LINUX).await;
    let (code, _) = email_of(&began.pending).await;
    let match_code = match_code_of(&waiting_page(&app, Some(&began.pending)).await);

    let page = open_link(&app, &code, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-page=\"approve\""), "{}", page.body);
    assert!(page.body.contains("Chrome on Linux"), "{}", page.body);
    assert!(page.body.contains("just now"), "{}", page.body);
    assert!(page.body.contains("Is this you?"), "{}", page.body);
    assert!(!page.body.contains("126.0") && !page.body.contains("X11"));

    clock.advance(2 * 60_000 + 5_000);
    let later = open_link(&app, &code, None).await;
    assert!(later.body.contains("2 minutes ago"), "{}", later.body);
    // A wrong match code shows it again.
    let wrong = format!("{:02}", (match_code.parse::<u32>().unwrap() + 1) % 100);
    let again = post_link(&app, &code, &later, None, &[("matchCode", &wrong)]).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("Chrome on Linux"), "{}", again.body);
    assert!(again.body.contains("2 minutes ago"), "{}", again.body);
    // The browser that opened it with the pending cookie just continues.
    let same = open_link(&app, &code, Some(&began.pending)).await;
    assert!(
        same.body.contains("data-page=\"continue\""),
        "{}",
        same.body
    );
    // The pending login keeps the family, never the User-Agent itself.
    let items = format!("{:?}", app.code_items().await);
    assert!(
        !items.contains("126.0.6478") && !items.contains("X11"),
        "{items}"
    );
}

#[tokio::test]
async fn the_approval_page_names_safari_on_iphone_and_never_echoes_an_unknown_agent() {
    let app = TestApp::spawn().await;
    let began = begin_in(&app, &request_query(&[]), RICHARD, SAFARI_ON_IPHONE).await;
    let (code, _) = email_of(&began.pending).await;
    let page = open_link(&app, &code, None).await;
    assert!(page.body.contains("Safari on iPhone"), "{}", page.body);

    let hostile = format!("<script>alert(1)</script>{}", "A".repeat(5000));
    let began = begin_in(&app, &request_query(&[]), RICHARD, &hostile).await;
    let (code, _) = email_of(&began.pending).await;
    let page = open_link(&app, &code, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("an unknown browser"), "{}", page.body);
    assert!(!page.body.contains("alert(1)"), "{}", page.body);
    assert!(!page.body.contains("AAAA"));
    let items = format!("{:?}", app.code_items().await);
    assert!(!items.contains("alert(1)"), "{items}");
}
