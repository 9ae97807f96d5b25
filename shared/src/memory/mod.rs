//! In-memory implementations of the ports, for unit tests and benchmarks. They follow the same
//! rules as the DynamoDB adapter (one user per identity, a new code supersedes the old one) but
//! prove nothing about DynamoDB: the integration tests do that.

mod authorization_codes;
mod codes;
mod directory;
mod outbox;
mod pending_logins;
mod rate_limiter;
mod refresh_tokens;
mod sso_sessions;
mod suppressions;
mod system;
mod users;

use std::sync::{Arc, Mutex};

use crate::ports::Directory;
use crate::system::{Clock, OsRandom, Random, SystemClock};

pub use authorization_codes::MemoryAuthorizationCode;
pub use codes::{MemoryCodeStore, MemorySessions};
pub use directory::MemoryDirectory;
pub use outbox::Outbox;
pub use pending_logins::MemoryPendingLogins;
pub use rate_limiter::MemoryRateLimiter;
pub use refresh_tokens::MemoryRefreshTokens;
pub use sso_sessions::MemorySsoSessions;
pub use suppressions::MemorySuppressions;
pub use system::{FixedClock, SameByteRandom};
pub use users::MemoryUserStore;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The three functions' services in memory, wired as the functions wire the real ones: one
/// directory loaded from `kickstart`, one code store for codes and sessions, one [`Outbox`] for
/// email and SMS, the wall clock and the OS random source. Tests and benchmarks replace what
/// they need (`world.login.clock = …`).
pub struct MemoryServices {
    pub start: crate::start::StartServices,
    pub send: crate::send::SendServices,
    pub login: crate::login::LoginServices,
    pub refresh: crate::refresh::RefreshServices,
    pub codes: Arc<MemoryCodeStore>,
    pub outbox: Arc<Outbox>,
}

pub fn services(kickstart: crate::kickstart::Kickstart) -> MemoryServices {
    let codes = Arc::new(MemoryCodeStore::default());
    let suppressions = Arc::new(MemorySuppressions::default());
    let directory: Arc<dyn Directory> = Arc::new(
        MemoryDirectory::from_kickstart(kickstart).linked(codes.clone(), suppressions.clone()),
    );
    let outbox = Arc::new(Outbox::default());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let random: Arc<dyn Random> = Arc::new(OsRandom);
    let signer = Arc::new(crate::tokens::Signer::default());
    MemoryServices {
        start: crate::start::StartServices {
            directory: directory.clone(),
            codes: codes.clone(),
            clock: clock.clone(),
            random: random.clone(),
        },
        send: crate::send::SendServices {
            directory: directory.clone(),
            codes: codes.clone(),
            rate_limiter: Arc::new(MemoryRateLimiter::default()),
            suppressions,
            mailer: outbox.clone(),
            sms: outbox.clone(),
            clock: clock.clone(),
            random: random.clone(),
            settings: Arc::new(crate::send::DeliverySettings::default()),
        },
        login: crate::login::LoginServices {
            directory: directory.clone(),
            codes: codes.clone(),
            sessions: codes.clone(),
            signer: signer.clone(),
            clock: clock.clone(),
            random: random.clone(),
            users: None,
        },
        refresh: crate::refresh::RefreshServices {
            tokens: Arc::new(MemoryRefreshTokens {
                codes: codes.clone(),
                directory: directory.clone(),
            }),
            directory,
            signer,
            clock,
            random,
        },
        codes,
        outbox,
    }
}
