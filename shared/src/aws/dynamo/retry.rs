//! Sending again what a batch call left undone: DynamoDB answers `BatchGetItem` and
//! `BatchWriteItem` under load with the keys or writes it did not get to (`UnprocessedKeys`,
//! `UnprocessedItems`) instead of an error, so the SDK's own retries never see them.
//!
//! Every such loop waits before each new call with exponential backoff and *full jitter* (a
//! uniformly random wait between zero and `min(CAP, BASE * 2^attempt)`, as AWS's "Exponential
//! Backoff and Jitter" recommends): callers that were throttled together do not come back
//! together, and a partition that is throttling gets time to drain.

use std::future::Future;
use std::time::Duration;

use crate::ports::StoreError;

/// The first retry's ceiling is `2 * BASE`; each next one doubles, up to [`CAP`].
const BASE: Duration = Duration::from_millis(25);
/// The longest wait before one retry.
const CAP: Duration = Duration::from_secs(1);
/// How many calls a batch makes at most (the first and its retries): the waits before them add
/// up to at most 3.55 s (half that on average), within the functions' 10 s timeout.
pub(super) const TRIES: u32 = 8;

/// The ceiling of the wait before retry `attempt` (1 for the first retry).
fn ceiling(attempt: u32) -> Duration {
    BASE.saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(CAP)
}

/// The wait before retry `attempt` for the uniformly random `random`: `random / 2^64` of the
/// ceiling.
fn full_jitter(attempt: u32, random: u64) -> Duration {
    let ceiling = ceiling(attempt).as_micros() as u64;
    let micros = (u128::from(ceiling) * u128::from(random)) >> 64;
    Duration::from_micros(micros as u64)
}

/// A fresh wait before retry `attempt` (1 for the first retry).
pub(super) fn backoff(attempt: u32) -> Duration {
    // The first 48 bits of a v4 id are random (its version and variant bits come later).
    let random = uuid::Uuid::new_v4().as_u64_pair().0;
    full_jitter(attempt, random)
}

/// Sends `first`, then what each call left undone, waiting [`backoff`] before each retry, at
/// most [`TRIES`] calls; gathers what the calls found. `send` answers what it found and what is
/// left (`None` once everything was done). What is still left after the last call is an error:
/// never a partial answer taken for a whole one.
pub(super) async fn until_processed<R, T, F, Fut>(
    operation: &'static str,
    first: R,
    mut send: F,
) -> Result<Vec<T>, StoreError>
where
    F: FnMut(R) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<R>), StoreError>>,
{
    let mut found = Vec::new();
    let mut pending = Some(first);
    for attempt in 0..TRIES {
        let Some(request) = pending.take() else {
            break;
        };
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let (items, left) = send(request).await?;
        found.extend(items);
        pending = left;
    }
    match pending {
        None => Ok(found),
        Some(_) => Err(StoreError::new(operation, "left unprocessed after retries")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_wait_lies_between_zero_and_a_ceiling_that_doubles_up_to_one_second() {
        let ceilings: Vec<u128> = (1..=8).map(|a| ceiling(a).as_millis()).collect();
        assert_eq!(ceilings, [50, 100, 200, 400, 800, 1000, 1000, 1000]);
        for attempt in 1..=8 {
            assert_eq!(full_jitter(attempt, 0), Duration::ZERO);
            let longest = full_jitter(attempt, u64::MAX);
            assert!(longest < ceiling(attempt), "{attempt}: {longest:?}");
            assert!(
                longest + Duration::from_micros(1) >= ceiling(attempt),
                "{attempt}: {longest:?}"
            );
            assert_eq!(full_jitter(attempt, 1 << 63), ceiling(attempt) / 2);
        }
        assert_eq!(ceiling(u32::MAX), CAP);
    }

    #[test]
    fn the_waits_are_spread_over_their_whole_range_not_bunched() {
        let waits: Vec<Duration> = (0..2_000).map(|_| backoff(3)).collect();
        assert!(waits.iter().all(|w| *w < ceiling(3)));
        // Full jitter: about a quarter of the draws in each quarter of [0, 400 ms).
        for quarter in 0..4u32 {
            let (low, high) = (ceiling(3) * quarter / 4, ceiling(3) * (quarter + 1) / 4);
            let inside = waits.iter().filter(|w| **w >= low && **w < high).count();
            assert!((350..650).contains(&inside), "{quarter}: {inside}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn what_is_left_is_sent_again_until_done_and_never_past_the_tries() {
        // Each call does one of what it is given and leaves the rest.
        let one_at_a_time = |left: u32| async move {
            Ok::<_, StoreError>((vec![left], (left > 1).then_some(left - 1)))
        };
        let done = until_processed("test", 3, one_at_a_time).await.unwrap();
        assert_eq!(done, [3, 2, 1]);
        let mut calls = 0;
        let never_done = until_processed("test", 100, |left: u32| {
            calls += 1;
            one_at_a_time(left)
        })
        .await;
        assert!(never_done.is_err());
        assert_eq!(calls, TRIES);
    }
}
