//! SSO sessions in memory, kept as the Codes table keeps them: an ended session stays, marked,
//! and is found no more.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use uuid::Uuid;

use super::lock;
use crate::model::SsoSession;
use crate::ports::{SsoSessions, StoreError};

#[derive(Default)]
pub struct MemorySsoSessions {
    /// By the cookie's hash: the session, and whether it has ended.
    sessions: Mutex<HashMap<String, (SsoSession, bool)>>,
}

#[async_trait]
impl SsoSessions for MemorySsoSessions {
    async fn create(&self, session: &SsoSession) -> Result<(), StoreError> {
        let mut sessions = lock(&self.sessions);
        match sessions.get(&session.id_hash) {
            Some((existing, _)) if existing != session => Err(StoreError::new(
                "create SSO session",
                "a session with this id exists",
            )),
            _ => {
                sessions.insert(session.id_hash.clone(), (session.clone(), false));
                Ok(())
            }
        }
    }

    async fn find(&self, id_hash: &str) -> Result<Option<SsoSession>, StoreError> {
        Ok(match lock(&self.sessions).get(id_hash) {
            Some((session, false)) => Some(session.clone()),
            _ => None,
        })
    }

    async fn add_refresh_token(
        &self,
        id_hash: &str,
        refresh_token_id: Uuid,
    ) -> Result<(), StoreError> {
        match lock(&self.sessions).get_mut(id_hash) {
            Some((session, false)) => {
                if !session.refresh_token_ids.contains(&refresh_token_id) {
                    session.refresh_token_ids.push(refresh_token_id);
                }
                Ok(())
            }
            _ => Err(StoreError::new(
                "add refresh token to SSO session",
                "the session has ended",
            )),
        }
    }

    async fn end(&self, id_hash: &str) -> Result<Option<SsoSession>, StoreError> {
        Ok(match lock(&self.sessions).get_mut(id_hash) {
            Some((session, ended @ false)) => {
                *ended = true;
                Some(session.clone())
            }
            _ => None,
        })
    }
}
