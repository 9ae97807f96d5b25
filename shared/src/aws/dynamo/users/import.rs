//! Import: new users in as few transactions as DynamoDB allows (100 items, 4 MB each), each
//! user whole or not at all, in order. A transaction cancelled by taken ids or identities is
//! tried again without the users that caused it, so the outcome of each user is exact.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::{creation_refusal, creation_writes, new_revision, Transacted};
use crate::aws::dynamo::keys::{identity_key, user_key};
use crate::aws::dynamo::DynamoStore;
use crate::model::User;
use crate::ports::{StoreError, UserWrite};

/// DynamoDB's cap on the items of one transaction.
const ITEMS: usize = 100;
/// Under DynamoDB's 4 MB cap on a transaction, with room for keys and attribute names.
const BYTES: usize = 3_500_000;

/// The partition keys a user's creation writes: its user item, then its identity items.
fn keys_of(user: &User) -> Vec<String> {
    let mut keys = vec![user_key(user.id).0];
    keys.extend(
        user.identity_keys()
            .iter()
            .map(|key| identity_key(user.tenant_id, key).0),
    );
    keys
}

/// What `user` comes to against the keys earlier users of the import were written with.
fn refused_by_earlier(user: &User, claimed: &HashSet<String>) -> Option<UserWrite> {
    let keys = keys_of(user);
    if claimed.contains(&keys[0]) {
        return Some(UserWrite::Conflict);
    }
    let taken: Vec<_> = user
        .identities
        .iter()
        .zip(&keys[1..])
        .filter(|(_, key)| claimed.contains(*key))
        .map(|(identity, _)| identity.kind)
        .collect();
    (!taken.is_empty()).then_some(UserWrite::Taken(taken))
}

/// Roughly what a user's creation weighs in a transaction: its document on every item.
fn weight(user: &User) -> usize {
    let document = serde_json::to_string(user).map(|d| d.len()).unwrap_or(0);
    (document + 512) * (1 + user.identities.len())
}

/// The users of one transaction being gathered.
#[derive(Default)]
struct Chunk {
    users: Vec<usize>,
    keys: HashSet<String>,
    items: usize,
    bytes: usize,
}

impl DynamoStore {
    pub(super) async fn import_users(&self, users: &[User]) -> Result<Vec<UserWrite>, StoreError> {
        let mut outcomes: Vec<Option<UserWrite>> = vec![None; users.len()];
        let mut claimed = HashSet::new();
        let mut chunk = Chunk::default();
        for (index, user) in users.iter().enumerate() {
            let keys = keys_of(user);
            // One transaction may not write an item twice, and has its caps: a user that
            // shares a key with one gathered already, or would not fit, starts the next.
            let shares = keys.iter().any(|k| chunk.keys.contains(k));
            // Each user's items: its keys and its state item.
            let full = chunk.items + keys.len() + 1 > ITEMS || chunk.bytes + weight(user) > BYTES;
            if !chunk.users.is_empty() && (shares || full) {
                self.write_chunk(
                    users,
                    &std::mem::take(&mut chunk),
                    &mut outcomes,
                    &mut claimed,
                )
                .await?;
            }
            if let Some(refused) = refused_by_earlier(user, &claimed) {
                outcomes[index] = Some(refused);
                continue;
            }
            chunk.users.push(index);
            chunk.items += keys.len() + 1;
            chunk.bytes += weight(user);
            chunk.keys.extend(keys);
        }
        self.write_chunk(users, &chunk, &mut outcomes, &mut claimed)
            .await?;
        outcomes
            .into_iter()
            .map(|o| o.ok_or_else(|| StoreError::new("import users", "a user was left out")))
            .collect()
    }

    /// Writes the chunk's users in one transaction, again without those refused until the rest
    /// is written; records each user's outcome, and the keys of those written.
    async fn write_chunk(
        &self,
        users: &[User],
        chunk: &Chunk,
        outcomes: &mut [Option<UserWrite>],
        claimed: &mut HashSet<String>,
    ) -> Result<(), StoreError> {
        let mut remaining = chunk.users.clone();
        // One revision per user for every try: a try that got through is recognised by it.
        let revisions: HashMap<usize, String> =
            chunk.users.iter().map(|&i| (i, new_revision())).collect();
        let revision_of = |index: usize| revisions[&index].as_str();
        while !remaining.is_empty() {
            // Each user's parts, and where they start in the transaction.
            let mut writes: Vec<TransactWriteItem> = Vec::new();
            let mut starts = Vec::new();
            for &index in &remaining {
                starts.push(writes.len());
                writes.extend(creation_writes(
                    &self.tables.directory,
                    &users[index],
                    revision_of(index),
                )?);
            }
            let failed = match self.transact(writes, "import users").await? {
                Transacted::Written => {
                    for &index in &remaining {
                        outcomes[index] = Some(UserWrite::Written);
                        claimed.extend(keys_of(&users[index]));
                    }
                    return Ok(());
                }
                Transacted::Refused(failed) => failed,
            };
            // Users refused for their id may be this import's own, written by a try whose
            // answer was lost.
            let id_refused: Vec<_> = remaining
                .iter()
                .zip(&starts)
                .filter(|(_, start)| failed.contains(start))
                .map(|(&index, _)| users[index].id)
                .collect();
            let stored = match id_refused.is_empty() {
                true => Default::default(),
                false => self.stored_revisions(&id_refused).await?,
            };
            let mut kept = Vec::new();
            for (&index, &start) in remaining.iter().zip(&starts) {
                let user = &users[index];
                let parts = 1 + user.identities.len();
                if stored.get(&user.id).and_then(Option::as_deref) == Some(revision_of(index)) {
                    outcomes[index] = Some(UserWrite::Written);
                    claimed.extend(keys_of(user));
                } else if failed.iter().any(|&f| f >= start && f < start + parts) {
                    outcomes[index] = Some(creation_refusal(user, start, &failed));
                } else {
                    kept.push(index);
                }
            }
            remaining = kept;
        }
        Ok(())
    }
}
