//! Every write of a pending browser login survives the SDK's retry: the write is applied at moto
//! and its response lost, the SDK sends the very same request again, and the page still answers
//! as for one write, with nothing counted twice (as lost_responses.rs does for the older writes).

use crate::fault_injection::{spawn_with_faults, Fault};
use crate::hosted::*;
use crate::oauth2::{exchange, redirected, REDIRECT, VERIFIER};

/// The pending login's item.
async fn pending_item(
    app: &crate::helpers::TestApp,
    pending: &str,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    let pk = format!("PENDINGLOGIN#{}", passwordless::codes::hash_secret(pending));
    app.code_items()
        .await
        .into_iter()
        .find(|i| i["pk"].as_s().is_ok_and(|p| *p == pk))
        .expect("the pending login's item")
}

#[tokio::test]
async fn a_lost_response_to_storing_the_pending_login_still_leads_to_the_waiting_page() {
    let (app, faults) = spawn_with_faults().await;
    // The start is one transaction; the first PutItem is the pending login's.
    faults.next("PutItem", Fault::LoseResponse, 1);
    let began = begin(&app, &request_query(&[]), RICHARD).await;
    assert_eq!(faults.injected("PutItem", Fault::LoseResponse), 1);
    let page = waiting_page(&app, Some(&began.pending)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-match-code"));
}

#[tokio::test]
async fn a_lost_response_to_the_approval_still_approves_and_the_waiting_page_completes() {
    let (app, faults) = spawn_with_faults().await;
    let began = begin(&app, &request_query(&[("state", "lost")]), RICHARD).await;
    let (code, _) = email_of(&began.pending).await;
    let match_code = match_code_of(&waiting_page(&app, Some(&began.pending)).await);
    let page = open_link(&app, &code, None).await;

    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let approved = post_link(&app, &code, &page, None, &[("matchCode", &match_code)]).await;
    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert!(approved.body.contains("signed in on your other device"));

    // The move to completed, lost too: the waiting page still completes, once.
    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let done = waiting_page(&app, Some(&began.pending)).await;
    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 2);
    let query = redirected(&done, REDIRECT);
    assert_eq!(query["state"], "lost");
    let tokens = exchange(&app, &query["code"], VERIFIER, REDIRECT).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
}

#[tokio::test]
async fn a_lost_response_to_counting_a_wrong_match_code_counts_it_once() {
    let (app, faults) = spawn_with_faults().await;
    let began = begin(&app, &request_query(&[]), RICHARD).await;
    let (code, _) = email_of(&began.pending).await;
    let match_code = match_code_of(&waiting_page(&app, Some(&began.pending)).await);
    let wrong = format!("{:02}", (match_code.parse::<u32>().unwrap() + 1) % 100);
    let page = open_link(&app, &code, None).await;

    faults.next("UpdateItem", Fault::LoseResponse, 1);
    let refused = post_link(&app, &code, &page, None, &[("matchCode", &wrong)]).await;
    assert_eq!(faults.injected("UpdateItem", Fault::LoseResponse), 1);
    assert_eq!(refused.status, 400, "{}", refused.body);
    let item = pending_item(&app, &began.pending).await;
    assert_eq!(item["wrongTries"].as_n().unwrap(), "1");
    // Two more wrong ones are still allowed before the refusal: one, then the last.
    assert_eq!(
        post_link(&app, &code, &page, None, &[("matchCode", &wrong)])
            .await
            .status,
        400
    );
    let right = post_link(&app, &code, &page, None, &[("matchCode", &match_code)]).await;
    assert!(
        right.body.contains("signed in on your other device"),
        "{}",
        right.body
    );
}
