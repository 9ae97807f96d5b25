//! What a login comes to: [`LoginOutcome`] (in FusionAuth's order, each answered by the HTTP edge
//! with its own status), [`LoggedIn`] for a completed one, and [`LoginError`]. Their `Debug`
//! impls redact every id and token that completes a login, and show users by id only, so that an
//! outcome can be logged whole.

use serde_json::{Map, Value};

use super::{AccessToken, IssuedRefreshToken, LoggedInKind, VerificationIds};
use crate::errors::Errors;
use crate::model::{User, UserAction};
use crate::ports::StoreError;

/// What a login attempt came to.
pub enum LoginOutcome {
    LoggedIn(Box<LoggedIn>),
    /// The user must change their password first: an id for that, no login.
    PasswordChangeRequired {
        change_password_id: String,
        reason: String,
    },
    /// Two-factor authentication is required: an id to complete it with, and the methods.
    TwoFactorRequired {
        two_factor_id: String,
        methods: Vec<Value>,
    },
    /// Actions that prevent login, as the user has them.
    Prevented(Vec<UserAction>),
    Locked,
    Expired,
    /// An unknown, expired, used or superseded code, a code of another application, a wrong
    /// one-time code, or a user gone or inactive: alike.
    NotFound,
    /// The user's budget of one-time codes compared is spent for this window.
    TooManyAttempts,
}

/// Redacts the change-password and two-factor ids (each completes a login) and, through
/// [`LoggedIn`], the tokens; the two-factor methods (addresses, numbers) show as a count.
impl std::fmt::Debug for LoginOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::redact::REDACTED;
        match self {
            LoginOutcome::LoggedIn(logged_in) => {
                f.debug_tuple("LoggedIn").field(logged_in).finish()
            }
            LoginOutcome::PasswordChangeRequired { reason, .. } => f
                .debug_struct("PasswordChangeRequired")
                .field("change_password_id", &REDACTED)
                .field("reason", reason)
                .finish(),
            LoginOutcome::TwoFactorRequired { methods, .. } => f
                .debug_struct("TwoFactorRequired")
                .field("two_factor_id", &REDACTED)
                .field("methods", &methods.len())
                .finish(),
            LoginOutcome::Prevented(actions) => f.debug_tuple("Prevented").field(actions).finish(),
            LoginOutcome::Locked => f.write_str("Locked"),
            LoginOutcome::Expired => f.write_str("Expired"),
            LoginOutcome::NotFound => f.write_str("NotFound"),
            LoginOutcome::TooManyAttempts => f.write_str("TooManyAttempts"),
        }
    }
}

/// A completed login.
pub struct LoggedIn {
    pub kind: LoggedInKind,
    /// None with `noJWT`.
    pub access_token: Option<AccessToken>,
    pub refresh_token: Option<IssuedRefreshToken>,
    pub verification: VerificationIds,
    /// The start's `state`.
    pub state: Option<Map<String, Value>>,
    pub user: User,
    /// When the login happened (epoch milliseconds): the tokens' `auth_time`, also an id_token's.
    pub authenticated_at_millis: i64,
}

/// The tokens and ids redacted (by their own `Debug`), the user by id: no address in a log.
impl std::fmt::Debug for LoggedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedIn")
            .field("kind", &self.kind)
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("verification", &self.verification)
            .field("user_id", &self.user.id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the request is invalid")]
    Invalid(Errors),
    #[error(transparent)]
    Dependency(#[from] StoreError),
}
