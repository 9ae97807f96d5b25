//! The hosted login after the login id page (issue 24): the pending browser login and its
//! cookie, the waiting page (match code, typed one-time code), the magic link opened in the same
//! browser or on another device, and the response back, through the authorize,
//! authorize-wait and landing functions' handlers against DynamoDB and SES on moto.

use crate::helpers::*;
use crate::hosted::*;
use crate::oauth2::{csrf_of, exchange, problem_of, redirected, REDIRECT, VERIFIER};

#[tokio::test]
async fn a_login_id_post_sets_the_pending_cookie_and_the_waiting_page_shows_the_match_code() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[("state", "s1")]), RICHARD).await;
    let cookie = set_cookie(&began.response, "fusionauth.pending").unwrap();
    for attribute in [
        "Path=/",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Max-Age=180",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="));
    assert_eq!(began.pending.len(), 43);
    // Stored by its hash only.
    let items = app.code_items().await;
    let pk = format!(
        "PENDINGLOGIN#{}",
        passwordless::codes::hash_secret(&began.pending)
    );
    assert!(items.iter().any(|i| i["pk"].as_s().unwrap() == &pk));
    assert!(!format!("{items:?}").contains(&began.pending));

    let page = waiting_page(&app, Some(&began.pending)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("<meta http-equiv=\"refresh\" content=\"3\">"));
    let match_code = match_code_of(&page);
    assert!(match_code.len() == 2 && match_code.bytes().all(|b| b.is_ascii_digit()));
    assert!(page.body.contains(&format!(">{match_code}<")));
    assert!(page
        .body
        .contains("<form method=\"post\" action=\"/oauth2/authorize/wait\">"));
    assert!(page
        .body
        .contains("name=\"oneTimeCode\" inputmode=\"numeric\" autocomplete=\"one-time-code\""));
    csrf_of(&page, "authorize_wait_csrf");
    assert_eq!(page.header("cache-control"), Some("no-store"));
    // The email went out with the link and its one-time code.
    let (link, one_time_code) = email_of(&began.pending).await;
    assert!(!link.is_empty() && !one_time_code.is_empty());
    // Without the cookie there is nothing to wait for.
    let none = waiting_page(&app, None).await;
    assert!(none.body.contains("data-page=\"expired\""), "{}", none.body);
    assert!(!none.body.contains("data-match-code"));
}

/// The page with its CSRF value and match code blanked.
fn blanked(page: &TestResponse) -> String {
    let csrf = csrf_of(page, "authorize_wait_csrf");
    page.body
        .replace(&csrf, "CSRF")
        .replace(&format!("\"{}\"", match_code_of(page)), "\"NN\"")
        .replace(&format!(">{}<", match_code_of(page)), ">NN<")
}

#[tokio::test]
async fn known_unknown_and_unregistered_login_ids_get_the_same_answers_and_only_the_known_a_message(
) {
    let app = TestApp::spawn().await;
    let known = begin(&app, &request_query(&[]), RICHARD).await;
    let unknown = begin(&app, &request_query(&[]), "nobody@piedpiper.com").await;
    // Gavin has an account in the tenant but no registration to the web app.
    let unregistered = begin(&app, &request_query(&[]), "gavin@hooli.com").await;
    let pages = [
        waiting_page(&app, Some(&known.pending)).await,
        waiting_page(&app, Some(&unknown.pending)).await,
        waiting_page(&app, Some(&unregistered.pending)).await,
    ];
    let statuses: Vec<u16> = pages.iter().map(|p| p.status).collect();
    assert_eq!(statuses, [200, 200, 200]);
    assert_eq!(blanked(&pages[0]), blanked(&pages[1]));
    assert_eq!(blanked(&pages[0]), blanked(&pages[2]));
    let without_value = |b: &Began| {
        let c = set_cookie(&b.response, "fusionauth.pending").unwrap();
        c.replacen(&b.pending, "V", 1)
    };
    assert_eq!(without_value(&known), without_value(&unknown));
    let hash = passwordless::codes::hash_secret(&unknown.pending);
    assert!(emails_containing(&hash).await.is_empty());
    // A wrong code for an unknown login id is the same wrong-code page.
    let typed = type_code(&app, &unknown.pending, "123456").await;
    let typed_known = type_code(&app, &known.pending, "000000").await;
    assert_eq!(typed.status, typed_known.status);
    assert_eq!(problem_of(&typed), problem_of(&typed_known));
}

#[tokio::test]
async fn the_emailed_one_time_code_typed_on_the_waiting_page_completes_the_login() {
    let app = TestApp::spawn().await;
    let began = begin(
        &app,
        &request_query(&[("state", "xyz/ä&1"), ("nonce", "n-7")]),
        RICHARD,
    )
    .await;
    let (_, one_time_code) = email_of(&began.pending).await;
    let done = type_code(&app, &began.pending, &one_time_code).await;
    let query = redirected(&done, REDIRECT);
    assert_eq!(query["state"], "xyz/ä&1");
    assert_eq!(query["iss"], "piedpiper.com");
    let cleared = set_cookie(&done, "fusionauth.pending").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // The browser that completed it gets the SSO session, holding the login's refresh token.
    let sso = cookie_value(set_cookie(&done, "fusionauth.sso").expect("an SSO session cookie"));
    let session = app
        .code_items()
        .await
        .into_iter()
        .find(|i| {
            i["pk"].as_s().unwrap() == &format!("SSO#{}", passwordless::codes::hash_secret(&sso))
        })
        .expect("the session is stored by its hash");
    assert!(!format!("{session:?}").contains(&sso));
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let id_token = tokens.json()["id_token"].as_str().unwrap().to_owned();
    let claims = crate::oauth2::id_claims(&id_token, WEB_APP, crate::oauth2::WEB_SECRET);
    assert_eq!(claims["nonce"], "n-7");
    // The id token's sid is the session the browser got.
    let sid = claims["sid"].as_str().expect("a sid").to_owned();
    assert!(format!("{session:?}").contains(&sid), "{sid} {session:?}");
    // Completed: the waiting page has nothing more to give.
    let after = waiting_page(&app, Some(&began.pending)).await;
    assert!(after.header("location").is_none());
}

#[tokio::test]
async fn wrong_one_time_codes_are_counted_and_the_third_refuses_the_pending_login() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[("state", "s")]), RICHARD).await;
    let (_, right) = email_of(&began.pending).await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..2 {
        let again = type_code(&app, &began.pending, wrong).await;
        assert_eq!(again.status, 400, "{}", again.body);
        assert!(again.body.contains("data-match-code"));
        assert!(!problem_of(&again).is_empty());
    }
    let refused = type_code(&app, &began.pending, wrong).await;
    let query = redirected(&refused, REDIRECT);
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], "s");
    assert!(!query.contains_key("code"));
    // Even the right code no longer completes it.
    let page = waiting_page(&app, Some(&began.pending)).await;
    assert_eq!(redirected(&page, REDIRECT)["error"], "access_denied");
}

#[tokio::test]
async fn the_link_opened_in_the_same_browser_completes_there_with_its_button() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[("state", "same")]), RICHARD).await;
    let (code, _) = email_of(&began.pending).await;
    let page = open_link(&app, &code, Some(&began.pending)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("data-page=\"continue\""),
        "{}",
        page.body
    );
    let clicked = post_link(&app, &code, &page, Some(&began.pending), &[]).await;
    let query = redirected(&clicked, REDIRECT);
    assert_eq!(query["state"], "same");
    assert_eq!(query["iss"], "piedpiper.com");
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(set_cookie(&clicked, "fusionauth.sso").is_some());
    // The waiting tab then finds it finished, with no second code.
    let after = waiting_page(&app, Some(&began.pending)).await;
    assert_eq!(after.status, 200);
    assert!(after.header("location").is_none());
}

#[tokio::test]
async fn the_link_on_another_device_approves_with_the_match_code_and_the_waiting_page_completes() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[("state", "other")]), RICHARD).await;
    let (code, one_time_code) = email_of(&began.pending).await;
    let match_code = match_code_of(&waiting_page(&app, Some(&began.pending)).await);

    // Another browser: no cookie, or another login's.
    let page = open_link(&app, &code, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-page=\"approve\""), "{}", page.body);
    assert!(page.body.contains("name=\"matchCode\""));
    assert!(!page.body.contains("data-match-code"));
    // Its button alone completes nothing here: the approval page again.
    let pressed = post_link(&app, &code, &page, Some("another-browser"), &[]).await;
    assert_eq!(pressed.status, 200, "{}", pressed.body);
    assert!(pressed.body.contains("data-page=\"approve\""));
    assert!(pressed.header("location").is_none());

    let wrong = format!("{:02}", (match_code.parse::<u32>().unwrap() + 1) % 100);
    let refused = post_link(&app, &code, &page, None, &[("matchCode", &wrong)]).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("data-page=\"approve\""));
    assert!(!problem_of(&refused).is_empty());
    // Still waiting.
    assert_eq!(waiting_page(&app, Some(&began.pending)).await.status, 200);

    let approved = post_link(&app, &code, &page, None, &[("matchCode", &match_code)]).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert!(approved.body.contains("signed in on your other device"));
    assert!(approved.header("location").is_none());
    assert!(!approved.body.contains(&one_time_code));
    assert!(!approved.body.contains("code="));
    assert!(set_cookie(&approved, "fusionauth.sso").is_none());
    assert!(set_cookie(&approved, "access_token").is_none());

    let done = waiting_page(&app, Some(&began.pending)).await;
    assert!(set_cookie(&done, "fusionauth.sso").is_some());
    let query = redirected(&done, REDIRECT);
    assert_eq!(query["state"], "other");
    assert_eq!(query["iss"], "piedpiper.com");
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    // Once only.
    let again = waiting_page(&app, Some(&began.pending)).await;
    assert!(again.header("location").is_none());
    let replay = post_link(&app, &code, &page, None, &[("matchCode", &match_code)]).await;
    assert!(!replay.body.contains("signed in on your other device"));
}

#[tokio::test]
async fn three_wrong_match_codes_refuse_the_pending_login_and_the_waiting_page_says_access_denied()
{
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[]), RICHARD).await;
    let (code, _) = email_of(&began.pending).await;
    let match_code = match_code_of(&waiting_page(&app, Some(&began.pending)).await);
    let wrong = format!("{:02}", (match_code.parse::<u32>().unwrap() + 1) % 100);
    let page = open_link(&app, &code, None).await;
    for expected in [400, 400, 403] {
        let answer = post_link(&app, &code, &page, None, &[("matchCode", &wrong)]).await;
        assert_eq!(answer.status, expected, "{}", answer.body);
    }
    let right = post_link(&app, &code, &page, None, &[("matchCode", &match_code)]).await;
    assert!(!right.body.contains("signed in on your other device"));
    let done = waiting_page(&app, Some(&began.pending)).await;
    let query = redirected(&done, REDIRECT);
    assert_eq!(query["error"], "access_denied");
    assert!(!query.contains_key("state"));
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn the_authorization_response_in_form_post_mode_is_posted_to_the_client() {
    let app = TestApp::spawn().await;
    let began = begin(
        &app,
        &request_query(&[("response_mode", "form_post"), ("state", "fp")]),
        RICHARD,
    )
    .await;
    let (_, one_time_code) = email_of(&began.pending).await;
    let done = type_code(&app, &began.pending, &one_time_code).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let fields = hidden_fields(&done.body);
    let code = fields
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.clone())
        .expect("a code field");
    assert!(fields.contains(&("state".into(), "fp".into())));
    assert!(fields.contains(&("iss".into(), "piedpiper.com".into())));
    let tokens = exchange(&app, &code, VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
}

#[tokio::test]
async fn the_fallback_page_does_not_take_a_hosted_logins_code_which_only_its_waiting_page_takes() {
    let app = TestApp::spawn().await;
    let began = begin(&app, &request_query(&[]), RICHARD).await;
    let (_, one_time_code) = email_of(&began.pending).await;
    let page = app
        .landing_event(
            crate::oauth2::code_entry_event("GET", &format!("client_id={WEB_APP}")).to_json(),
        )
        .await;
    let csrf = crate::oauth2::entry_csrf(&page);
    let entered = crate::oauth2::enter_code(
        &app,
        Some(&csrf),
        &[
            ("csrf", &csrf),
            ("client_id", WEB_APP),
            ("loginId", RICHARD),
            ("oneTimeCode", &one_time_code),
        ],
    )
    .await;
    assert_eq!(entered.status, 400, "{}", entered.body);
    assert!(entered.header("location").is_none());
    // The waiting page still takes it.
    let done = type_code(&app, &began.pending, &one_time_code).await;
    assert!(redirected(&done, REDIRECT).contains_key("code"));
}

#[tokio::test]
async fn a_hosted_logins_link_code_is_not_a_login_at_the_login_api() {
    let app = TestApp::spawn().await;
    // The admin console requires no PKCE: only the hosted login binds its code.
    let query = format!(
        "client_id={}&redirect_uri={}&response_type=code",
        crate::oauth2::ADMIN_APP,
        "https%3A%2F%2Fadmin.piedpiper.com%2Fcallback%3Ffrom%3Demail"
    );
    let began = begin(&app, &query, "jared@piedpiper.com").await;
    let (code, _) = email_of(&began.pending).await;
    let login = app
        .login(serde_json::json!({"code": code, "applicationId": crate::oauth2::ADMIN_APP}))
        .await;
    assert_eq!(login.status, 404, "{}", login.body);
    assert!(login.body.is_empty());
}
