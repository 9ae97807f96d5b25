//! The rate limiter in memory: counts by key and window.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::ports::{RateLimiter, StoreError};

/// Counts in memory, by key and window.
#[derive(Default)]
pub struct MemoryRateLimiter {
    pub counts: Mutex<HashMap<(String, i64), u32>>,
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn try_acquire(
        &self,
        key: &str,
        _owner: Option<uuid::Uuid>,
        limit: u32,
        period_seconds: u32,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let window = crate::ports::rate_window(now_millis, period_seconds);
        let mut counts = lock(&self.counts);
        let count = counts.entry((key.to_owned(), window)).or_default();
        if *count >= limit {
            return Ok(false);
        }
        *count += 1;
        Ok(true)
    }
}
