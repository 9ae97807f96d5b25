//! What a login presents and reads: the hashes of the code (and one-time code) it presents, what
//! the code's use came to, and the read of the code's tenant and user (with the user's code
//! pointer for a link, whose use did not look), made after the use or beside it.

use super::*;

/// The read of an [`ExpectedUser`] made beside the code's use, with its pointer.
pub(super) struct EarlyRead {
    pub(super) expected: ExpectedUser,
    pub(super) records: Result<crate::ports::Records, StoreError>,
}

impl EarlyRead {
    /// The records, when they are those of the code this attempt used.
    pub(super) fn of(
        self,
        pending: &PendingCode,
    ) -> Option<Result<crate::ports::Records, StoreError>> {
        let bears_out = !pending.sign_up
            && self.expected.tenant_id == pending.tenant_id
            && self.expected.user_id == pending.user_id;
        if !bears_out {
            tracing::info!("the landing page's user was not the code's: read again");
        }
        bears_out.then_some(self.records)
    }
}

/// The hashes the login presents: the code's and, with a one-time code, the one-time code's.
/// A code started for another application than the login names is not found, and stays valid
/// for its own.
pub(super) fn presented_hashes(
    command: &LoginCommand,
    proof: Proof<'_>,
) -> (String, Option<String>) {
    match proof {
        Proof::Code | Proof::LinkClick => (
            codes::hash_secret(&command.code),
            command
                .one_time_code
                .as_deref()
                .map(|otc| codes::hash_one_time_code(&command.code, otc)),
        ),
        Proof::Approved { code_hash } => (code_hash.to_owned(), None),
        Proof::Fallback {
            code_hash,
            address_hash,
            one_time_code,
        } => (
            code_hash.to_owned(),
            Some(codes::hash_fallback_code(
                code_hash,
                address_hash,
                one_time_code,
            )),
        ),
    }
}

/// The code this attempt used up, or the outcome its use came to.
pub(super) fn used_code(consumed: Consumed) -> Step<PendingCode> {
    match consumed {
        Consumed::Code(pending) => Ok(*pending),
        Consumed::NotFound => Err(Stop::Outcome(LoginOutcome::NotFound)),
        Consumed::AttemptBudgetSpent => Err(Stop::Outcome(LoginOutcome::TooManyAttempts)),
    }
}

/// The tenant and the user the code was started for, in one read.
/// With `newest`, also whether the code is still its user's newest (a link's code, whose use
/// did not look): a code the user's pointer names no more is not found.
pub(super) async fn read_user(attempt: &Attempt<'_>, newest: bool) -> Step<(Tenant, User)> {
    let records = attempt
        .services
        .directory
        .records(&Wanted {
            tenant: Some(attempt.pending.tenant_id),
            user: Some(attempt.pending.user_id),
            newest_code: newest.then_some(attempt.pending.user_id),
            ..Wanted::default()
        })
        .await?;
    found_user(attempt, records, newest)
}

/// The tenant and the user of `records`, read for the attempt's code (with `newest`, with its
/// user's pointer); not found where either is missing or the pointer names another code.
pub(super) fn found_user(
    attempt: &Attempt<'_>,
    records: crate::ports::Records,
    newest: bool,
) -> Step<(Tenant, User)> {
    if newest && superseded(attempt.pending, records.newest_code.as_deref()) {
        return Err(Stop::Outcome(LoginOutcome::NotFound));
    }
    match (records.tenant, records.user) {
        (Some(tenant), Some(user)) => Ok((tenant, user)),
        _ => Err(Stop::Outcome(LoginOutcome::NotFound)),
    }
}

/// Whether the user's pointer names another code than `pending`. A pointer that is absent names
/// none: a start writes it beside its code, and answers the code only once both are written.
pub(super) fn superseded(pending: &PendingCode, newest: Option<&str>) -> bool {
    newest.is_some_and(|newest| newest != pending.code_hash)
}
