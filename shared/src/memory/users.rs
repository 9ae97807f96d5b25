//! The [`UserStore`] in memory, over a [`MemoryDirectory`]'s users and identities, so that a user
//! it writes is what `Directory::user` and `find_identity` read. Each write holds both locks, as
//! DynamoDB's transaction holds its items: the same rules, proven for DynamoDB by the
//! integration tests (tests/tests/api/user_store.rs).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::{lock, MemoryDirectory};
use crate::login_id::{IdentityKey, IdentityType};
use crate::model::User;
use crate::ports::{StoreError, UserStore, UserWrite};

/// Users written into `directory`. A delete removes the user and its identities; the other
/// in-memory stores (codes, sessions) are apart from it and keep what they hold.
pub struct MemoryUserStore {
    pub directory: Arc<MemoryDirectory>,
}

type Identities = HashMap<(Uuid, IdentityKey), Uuid>;

fn keys(user: &User) -> Vec<((Uuid, IdentityKey), IdentityType)> {
    user.identity_keys()
        .into_iter()
        .map(|key| {
            let kind = key.kind;
            ((user.tenant_id, key), kind)
        })
        .collect()
}

/// The identities of `user` that another user has.
fn taken(identities: &Identities, user: &User) -> Vec<IdentityType> {
    keys(user)
        .into_iter()
        .filter(|(key, _)| identities.get(key).is_some_and(|owner| *owner != user.id))
        .map(|(_, kind)| kind)
        .collect()
}

fn with_new_revision(user: &User) -> User {
    User {
        revision: Some(Uuid::new_v4().to_string()),
        ..user.clone()
    }
}

impl MemoryUserStore {
    fn create_one(&self, user: &User) -> UserWrite {
        let mut identities = lock(&self.directory.identities);
        let mut users = lock(&self.directory.users);
        if users.contains_key(&user.id) {
            return UserWrite::Conflict;
        }
        let taken = taken(&identities, user);
        if !taken.is_empty() {
            return UserWrite::Taken(taken);
        }
        for (key, _) in keys(user) {
            identities.insert(key, user.id);
        }
        users.insert(user.id, with_new_revision(user));
        UserWrite::Written
    }
}

#[async_trait]
impl UserStore for MemoryUserStore {
    async fn create(&self, user: &User) -> Result<UserWrite, StoreError> {
        Ok(self.create_one(user))
    }

    async fn replace(&self, current: &User, next: &User) -> Result<UserWrite, StoreError> {
        if current.id != next.id {
            return Err(StoreError::new("replace user", "a user's id never changes"));
        }
        let mut identities = lock(&self.directory.identities);
        let mut users = lock(&self.directory.users);
        match users.get(&current.id) {
            Some(stored) if stored.revision == current.revision => {}
            _ => return Ok(UserWrite::Conflict),
        }
        let taken = taken(&identities, next);
        if !taken.is_empty() {
            return Ok(UserWrite::Taken(taken));
        }
        for (key, _) in keys(current) {
            if identities.get(&key) == Some(&current.id) {
                identities.remove(&key);
            }
        }
        for (key, _) in keys(next) {
            identities.insert(key, next.id);
        }
        users.insert(next.id, with_new_revision(next));
        Ok(UserWrite::Written)
    }

    async fn delete(&self, user: &User) -> Result<UserWrite, StoreError> {
        let mut identities = lock(&self.directory.identities);
        let mut users = lock(&self.directory.users);
        match users.get(&user.id) {
            Some(stored) if stored.revision != user.revision => return Ok(UserWrite::Conflict),
            // Gone already: what was asked.
            _ => {}
        }
        identities.retain(|_, owner| *owner != user.id);
        users.remove(&user.id);
        Ok(UserWrite::Written)
    }

    async fn import(&self, users: &[User]) -> Result<Vec<UserWrite>, StoreError> {
        Ok(users.iter().map(|user| self.create_one(user)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Directory;

    fn user(fields: serde_json::Value) -> User {
        let mut document = serde_json::json!({"id": Uuid::new_v4(), "tenantId": Uuid::nil()});
        for (name, value) in fields.as_object().unwrap() {
            document[name] = value.clone();
        }
        let mut user: User = serde_json::from_value(document).unwrap();
        user.derive_identities(None).unwrap();
        user
    }

    fn email(address: &str) -> IdentityKey {
        IdentityKey {
            kind: IdentityType::Email,
            value: address.to_owned(),
        }
    }

    async fn owner(store: &MemoryUserStore, address: &str) -> Option<Uuid> {
        store
            .directory
            .find_identity(Uuid::nil(), &[email(address)])
            .await
            .unwrap()
            .map(|m| m.user_id)
    }

    fn store() -> MemoryUserStore {
        MemoryUserStore {
            directory: Arc::new(MemoryDirectory::default()),
        }
    }

    #[tokio::test]
    async fn a_created_user_is_what_the_directory_reads_and_its_address_is_taken() {
        let store = store();
        let first = user(serde_json::json!({"email": "A@B.example"}));
        assert_eq!(store.create(&first).await.unwrap(), UserWrite::Written);
        assert_eq!(owner(&store, "a@b.example").await, Some(first.id));
        let stored = store.directory.user(first.id).await.unwrap().unwrap();
        assert!(stored.revision.is_some());

        let second = user(serde_json::json!({"email": "a@b.example"}));
        assert_eq!(
            store.create(&second).await.unwrap(),
            UserWrite::Taken(vec![IdentityType::Email])
        );
        assert_eq!(store.directory.user(second.id).await.unwrap(), None);
        let same_id = user(serde_json::json!({"id": first.id, "email": "c@b.example"}));
        assert_eq!(store.create(&same_id).await.unwrap(), UserWrite::Conflict);
    }

    #[tokio::test]
    async fn a_replace_of_a_stale_read_is_a_conflict_and_a_fresh_one_moves_the_address() {
        let store = store();
        let created = user(serde_json::json!({"email": "old@b.example"}));
        store.create(&created).await.unwrap();
        let read = store.directory.user(created.id).await.unwrap().unwrap();
        let mut next = User {
            email: Some("new@b.example".to_owned()),
            ..read.clone()
        };
        next.derive_identities(None).unwrap();

        assert_eq!(
            store.replace(&read, &next).await.unwrap(),
            UserWrite::Written
        );
        assert_eq!(
            store.replace(&read, &next).await.unwrap(),
            UserWrite::Conflict
        );
        assert_eq!(owner(&store, "old@b.example").await, None);
        assert_eq!(owner(&store, "new@b.example").await, Some(created.id));
    }

    #[tokio::test]
    async fn a_delete_frees_the_address_and_an_import_is_exact_per_user() {
        let store = store();
        let created = user(serde_json::json!({"email": "gone@b.example"}));
        store.create(&created).await.unwrap();
        let read = store.directory.user(created.id).await.unwrap().unwrap();
        let stale = User {
            revision: Some("another".to_owned()),
            ..read.clone()
        };
        assert_eq!(store.delete(&stale).await.unwrap(), UserWrite::Conflict);
        assert_eq!(owner(&store, "gone@b.example").await, Some(created.id));
        assert_eq!(store.delete(&read).await.unwrap(), UserWrite::Written);
        assert_eq!(store.delete(&read).await.unwrap(), UserWrite::Written);
        assert_eq!(owner(&store, "gone@b.example").await, None);
        assert_eq!(store.directory.user(created.id).await.unwrap(), None);

        let users = [
            user(serde_json::json!({"email": "gone@b.example"})),
            user(serde_json::json!({"email": "GONE@b.example"})),
            user(serde_json::json!({"email": "other@b.example"})),
        ];
        assert_eq!(
            store.import(&users).await.unwrap(),
            [
                UserWrite::Written,
                UserWrite::Taken(vec![IdentityType::Email]),
                UserWrite::Written
            ]
        );
    }
}
