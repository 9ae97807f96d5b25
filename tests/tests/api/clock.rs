//! A clock the tests set: `TestApp::spawn_with_clock` wires it into the handlers in place of the
//! wall clock, so that expiry is tested at exact instants instead of by sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use passwordless::system::{Clock, SystemClock};

use crate::helpers::{TestApp, EXAMPLE_KICKSTART};

/// Stands at the instant a test sets, in epoch milliseconds.
#[derive(Debug)]
pub struct TestClock(AtomicI64);

impl TestClock {
    /// A clock standing at the current wall-clock time.
    pub fn now() -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(SystemClock.now_millis())))
    }

    pub fn set(&self, millis: i64) {
        self.0.store(millis, Ordering::SeqCst);
    }

    pub fn advance(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl TestApp {
    /// `TestApp::spawn()` with the handlers reading `clock`.
    pub async fn spawn_with_clock(clock: Arc<TestClock>) -> Self {
        Self::spawn_with_clock_and(EXAMPLE_KICKSTART, clock).await
    }

    pub async fn spawn_with_clock_and(kickstart_json: &str, clock: Arc<TestClock>) -> Self {
        let mut app = Self::spawn_with(kickstart_json).await;
        app.set_clock(clock);
        app
    }
}
