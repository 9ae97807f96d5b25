//! Pending browser logins in memory, with the DynamoDB adapter's rules: created once, found
//! until they expire, each move from one status to the next once (a retry of the same attempt
//! finds its own mark), wrong answers counted only while waiting.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::model::{PendingLogin, PendingLoginStatus};
use crate::ports::{PendingLogins, StoreError};

/// A pending login with the attempt that last wrote it.
#[derive(Default)]
pub struct MemoryPendingLogins {
    logins: Mutex<HashMap<String, (PendingLogin, Option<String>)>>,
}

#[async_trait]
impl PendingLogins for MemoryPendingLogins {
    async fn create(&self, login: &PendingLogin) -> Result<(), StoreError> {
        lock(&self.logins)
            .entry(login.id_hash.clone())
            .or_insert_with(|| (login.clone(), None));
        Ok(())
    }

    async fn find(
        &self,
        id_hash: &str,
        now_millis: i64,
    ) -> Result<Option<PendingLogin>, StoreError> {
        Ok(lock(&self.logins)
            .get(id_hash)
            .filter(|(login, _)| login.expires_at_millis > now_millis)
            .map(|(login, _)| login.clone()))
    }

    async fn transition(
        &self,
        id_hash: &str,
        from: PendingLoginStatus,
        to: PendingLoginStatus,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<bool, StoreError> {
        let mut logins = lock(&self.logins);
        let Some((login, mark)) = logins.get_mut(id_hash) else {
            return Ok(false);
        };
        let retried = login.status == to && mark.as_deref() == Some(attempt_id);
        if login.expires_at_millis <= now_millis || !(login.status == from || retried) {
            return Ok(false);
        }
        login.status = to;
        *mark = Some(attempt_id.to_owned());
        Ok(true)
    }

    async fn count_wrong(
        &self,
        id_hash: &str,
        attempt_id: &str,
        now_millis: i64,
    ) -> Result<Option<u32>, StoreError> {
        let mut logins = lock(&self.logins);
        let Some((login, mark)) = logins.get_mut(id_hash) else {
            return Ok(None);
        };
        if mark.as_deref() == Some(attempt_id) {
            return Ok(Some(login.wrong_tries));
        }
        if login.expires_at_millis <= now_millis || login.status != PendingLoginStatus::Waiting {
            return Ok(None);
        }
        login.wrong_tries += 1;
        *mark = Some(attempt_id.to_owned());
        Ok(Some(login.wrong_tries))
    }
}
