//! Time and randomness, the two things every use case draws from the outside world: the
//! [`Clock`] and [`Random`] traits and their implementations on the operating system. This module
//! depends on nothing else of the crate, so that codes, tokens and ports can all use it.

/// Milliseconds since the epoch.
pub trait Clock: Send + Sync {
    fn now_millis(&self) -> i64;
}

/// Fills buffers with random bytes.
pub trait Random: Send + Sync {
    fn fill(&self, buf: &mut [u8]);
}

/// The wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }
}

/// The operating system's CSPRNG (`getrandom`), which never blocks once the kernel is seeded.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // getrandom fails only where the OS has no entropy source at all; Lambda always has one.
        getrandom::fill(buf).expect("the OS random source is available");
    }
}
