//! A hosted login's link opened on another device: the match code approves the pending login.

use super::{count_wrong, WRONG_TRIES};
use crate::codes;
use crate::model::{Device, PendingLogin, PendingLoginStatus};
use crate::oauth2::landing::{look, Landing, LandingServices, LinkCode, Looked};
use crate::ports::StoreError;

/// Who began a pending login, as the approval page names them ("Chrome on Linux, 2 minutes
/// ago"): the family of the browser that posted the login id, and how long ago.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requester {
    pub device: Device,
    /// Whole minutes since the login id post; `None` when not known.
    pub minutes_ago: Option<i64>,
}

impl Requester {
    fn of(pending: &PendingLogin, now_millis: i64) -> Self {
        Self {
            device: pending.device,
            minutes_ago: (pending.started_at_millis > 0)
                .then(|| (now_millis - pending.started_at_millis).max(0) / 60_000),
        }
    }
}

/// The approval page's `landing` with who began its pending login (none when it is gone).
pub async fn requester(
    services: &LandingServices,
    mut landing: Landing,
) -> Result<Landing, StoreError> {
    if let Some(pending_login) = landing.pending_login.as_deref() {
        let now = services.login.clock.now_millis();
        landing.requester = services
            .pending_logins
            .find(pending_login, now)
            .await?
            .map(|pending| Requester::of(&pending, now));
    }
    Ok(landing)
}

/// What approving from another device came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Approval {
    /// The waiting browser completes at its next look; this device gets nothing more.
    Approved,
    /// Not the match code: the approval page again.
    Wrong(Box<Landing>),
    /// That was the last wrong try: the pending login is refused.
    Refused,
    /// No hosted login's live link, or its pending login is gone, refused, approved or
    /// completed already.
    Finished,
}

/// The link opened in a browser without the pending login's cookie: the match code the waiting
/// page shows approves the pending login. Nothing here uses the code or issues anything.
pub async fn approve(
    services: &LandingServices,
    code: &LinkCode,
    match_code: &str,
) -> Result<Approval, StoreError> {
    let code_hash = codes::hash_secret(code.as_str());
    let Looked::Live(live) = look(services, &code_hash).await? else {
        return Ok(Approval::Finished);
    };
    let Some(pending_login) = live.landing.pending_login.as_deref() else {
        return Ok(Approval::Finished);
    };
    let now = services.login.clock.now_millis();
    let Some(pending) = services.pending_logins.find(pending_login, now).await? else {
        return Ok(Approval::Finished);
    };
    // The link's code must be the one this pending login sent.
    let ours = pending
        .code_hash
        .as_deref()
        .is_some_and(|hash| codes::same_secret(hash, &code_hash));
    if !ours || pending.status != PendingLoginStatus::Waiting {
        return Ok(Approval::Finished);
    }
    let attempt = codes::generate_id(services.login.random.as_ref());
    if codes::same_secret(match_code.trim(), &pending.match_code) {
        let approved = services
            .pending_logins
            .transition(
                pending_login,
                PendingLoginStatus::Waiting,
                PendingLoginStatus::Approved,
                &attempt,
                now,
            )
            .await?;
        tracing::info!(approved, "a pending login approved from another device");
        return Ok(if approved {
            Approval::Approved
        } else {
            Approval::Finished
        });
    }
    tracing::warn!("a wrong match code");
    Ok(match count_wrong(services, &pending).await? {
        Some(tries) if tries < WRONG_TRIES => {
            let mut landing = live.landing;
            landing.requester = Some(Requester::of(&pending, now));
            Approval::Wrong(Box::new(landing))
        }
        Some(_) => Approval::Refused,
        None => Approval::Finished,
    })
}
