//! Stand-ins for the clock and the random source: a clock that moves only when told, and a
//! random source that repeats one byte.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::system::{Clock, Random};

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct FixedClock(pub AtomicI64);

impl FixedClock {
    pub fn at(millis: i64) -> Self {
        Self(AtomicI64::new(millis))
    }
    pub fn advance_millis(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Fills buffers with one repeated byte: a predictable stand-in for the CSPRNG in benchmarks.
#[derive(Debug, Default)]
pub struct SameByteRandom(pub u8);

impl Random for SameByteRandom {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(self.0);
    }
}
