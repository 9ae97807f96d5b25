//! Who may call the User, Registration and Import APIs, and in which tenant.
//!
//! The API key (raw, in `Authorization`) must exist and, when it lists endpoint permissions,
//! allow the method on the endpoint FusionAuth names the call by: [`USER_PATH`] for every
//! `/api/user/{userId}` form, [`SEARCH_PATH`], [`REGISTRATION_PATH`], [`IMPORT_PATH`].
//!
//! The tenant, as FusionAuth's docs put it (user-api.md §2): a tenant-locked key fixes it (a
//! header naming another tenant is refused like a bad key), else the `X-FusionAuth-TenantId`
//! header names it. A call that creates users or looks one up by an address ([`TenantRule::Create`],
//! [`TenantRule::Ambiguous`]) needs one tenant: with a single tenant loaded that one, with more
//! `[TenantIdRequired]`. A call that names a user by id ([`TenantRule::Scoped`]) needs none; a
//! tenant, when there is one, restricts what it sees (another tenant's user reads as missing).

use uuid::Uuid;

use super::UserError;
use crate::errors::{Errors, FieldProblem};
use crate::model::ApiKey;
use crate::ports::Directory;
use crate::start::{self, StartError};

pub use crate::start::Credentials;

/// The endpoint (as API key permissions name it) of every `/api/user[/{userId}]` call.
pub const USER_PATH: &str = "/api/user";
/// `GET|POST /api/user/search`.
pub const SEARCH_PATH: &str = "/api/user/search";
/// Every `/api/user/registration…` call.
pub const REGISTRATION_PATH: &str = "/api/user/registration";
/// `POST /api/user/import`.
pub const IMPORT_PATH: &str = "/api/user/import";

/// Which of FusionAuth's tenant rules a call follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantRule {
    /// Creates users (create, combined registration, import): a tenant is required once more
    /// than one exists.
    Create,
    /// Finds a user by email, username or login id: the same, since an address names no tenant.
    Ambiguous,
    /// Names a user by id: the tenant, when one is given, restricts.
    Scoped,
}

/// The caller, authorized: its key and the tenant the call is in.
#[derive(Clone, Debug, PartialEq)]
pub struct Caller {
    pub api_key: ApiKey,
    /// Always `Some` under [`TenantRule::Create`] and [`TenantRule::Ambiguous`]; under
    /// [`TenantRule::Scoped`], `None` when neither the key nor the header names a tenant.
    pub tenant_id: Option<Uuid>,
}

impl Caller {
    /// Whether an object of `tenant` is visible to this caller.
    pub fn sees(&self, tenant: Uuid) -> bool {
        self.tenant_id.is_none_or(|t| t == tenant)
    }

    /// The tenant of a [`TenantRule::Create`] or [`TenantRule::Ambiguous`] call.
    pub fn required_tenant(&self) -> Result<Uuid, UserError> {
        self.tenant_id.ok_or_else(tenant_id_required)
    }
}

/// Authenticates the key, checks its permission for `credentials.method` on `path` and resolves
/// the tenant by `rule`.
pub async fn authorize(
    directory: &dyn Directory,
    credentials: &Credentials<'_>,
    path: &str,
    rule: TenantRule,
) -> Result<Caller, UserError> {
    let scope = start::authorize(directory, *credentials, path)
        .await
        .map_err(|error| match error {
            StartError::Invalid(errors) => UserError::Invalid(errors),
            StartError::Dependency(error) => UserError::Dependency(error),
            StartError::Unauthorized | StartError::UserNotFound => UserError::Unauthorized,
        })?;
    let tenant_id = match (rule, scope.tenant_id) {
        (TenantRule::Scoped, tenant) => tenant,
        (TenantRule::Create | TenantRule::Ambiguous, named) => {
            Some(resolve_tenant(directory, named).await?)
        }
    };
    Ok(Caller {
        api_key: scope.api_key,
        tenant_id,
    })
}

/// The one tenant a create or an address lookup is in: the one named (which must exist), else
/// the only one loaded.
async fn resolve_tenant(directory: &dyn Directory, named: Option<Uuid>) -> Result<Uuid, UserError> {
    if let Some(tenant) = named {
        return match directory.tenant(tenant).await? {
            Some(_) => Ok(tenant),
            None => Err(UserError::field("tenantId", FieldProblem::Invalid)),
        };
    }
    let published = directory.published().await?;
    let mut known = published.tenant_ids;
    if known.is_empty() {
        known.extend(published.default_tenant_id);
    }
    match known.as_slice() {
        [only] => Ok(*only),
        _ => Err(tenant_id_required()),
    }
}

fn tenant_id_required() -> UserError {
    UserError::Invalid(Errors::general(
        "[TenantIdRequired]",
        "A tenant Id is required when more than one tenant exists: send the X-FusionAuth-TenantId header or use a tenant-locked API key.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryDirectory;
    use crate::model::{ApiKeyPermissions, Published, Tenant};

    const KEY: &str = "a-key-of-the-tests-0000000000000000000";

    fn tenant(id: Uuid) -> Tenant {
        serde_json::from_value(serde_json::json!({ "id": id })).unwrap()
    }

    fn directory(tenants: &[Uuid], key: ApiKey) -> MemoryDirectory {
        let directory = MemoryDirectory::default();
        for id in tenants {
            directory.add_tenant(tenant(*id));
        }
        *directory.published.lock().unwrap() = Published {
            tenant_ids: tenants.to_vec(),
            ..Published::default()
        };
        directory.add_api_key(KEY, key);
        directory
    }

    fn key(tenant_id: Option<Uuid>, endpoints: &[(&str, &[&str])]) -> ApiKey {
        ApiKey {
            id: Uuid::new_v4(),
            tenant_id,
            description: None,
            permissions: Some(ApiKeyPermissions {
                endpoints: endpoints
                    .iter()
                    .map(|(path, methods)| {
                        (
                            path.to_string(),
                            methods.iter().map(|m| m.to_string()).collect(),
                        )
                    })
                    .collect(),
            }),
        }
    }

    fn credentials<'a>(header: Option<&'a str>, method: &'a str) -> Credentials<'a> {
        Credentials {
            api_key: Some(KEY),
            tenant_header: header,
            method,
        }
    }

    fn is_tenant_id_required(result: Result<Caller, UserError>) -> bool {
        matches!(result, Err(UserError::Invalid(e)) if e.general_errors[0].code == "[TenantIdRequired]")
    }

    #[tokio::test]
    async fn with_one_tenant_a_create_needs_no_tenant_and_is_in_that_one() {
        let only = Uuid::new_v4();
        let dir = directory(&[only], key(None, &[]));
        let caller = authorize(
            &dir,
            &credentials(None, "POST"),
            USER_PATH,
            TenantRule::Create,
        )
        .await
        .unwrap();
        assert_eq!(caller.tenant_id, Some(only));
    }

    #[tokio::test]
    async fn with_two_tenants_a_create_or_an_address_lookup_without_a_tenant_is_tenant_id_required()
    {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let dir = directory(&[a, b], key(None, &[]));
        for rule in [TenantRule::Create, TenantRule::Ambiguous] {
            let result = authorize(&dir, &credentials(None, "POST"), USER_PATH, rule).await;
            assert!(is_tenant_id_required(result));
        }
        let header = b.to_string();
        let caller = authorize(
            &dir,
            &credentials(Some(&header), "POST"),
            USER_PATH,
            TenantRule::Create,
        )
        .await
        .unwrap();
        assert_eq!(caller.tenant_id, Some(b));
        let scoped = authorize(
            &dir,
            &credentials(None, "GET"),
            USER_PATH,
            TenantRule::Scoped,
        )
        .await
        .unwrap();
        assert_eq!(scoped.tenant_id, None);
    }

    #[tokio::test]
    async fn a_tenant_locked_key_fixes_the_tenant_and_refuses_a_header_naming_another() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let dir = directory(&[a, b], key(Some(a), &[]));
        let caller = authorize(
            &dir,
            &credentials(None, "POST"),
            USER_PATH,
            TenantRule::Create,
        )
        .await
        .unwrap();
        assert_eq!(caller.tenant_id, Some(a));
        assert!(!caller.sees(b));
        let other = b.to_string();
        let refused = authorize(
            &dir,
            &credentials(Some(&other), "GET"),
            USER_PATH,
            TenantRule::Scoped,
        )
        .await;
        assert!(matches!(refused, Err(UserError::Unauthorized)));
    }

    #[tokio::test]
    async fn a_key_is_allowed_only_the_methods_its_permissions_list_on_the_endpoint() {
        let dir = directory(&[Uuid::new_v4()], key(None, &[(USER_PATH, &["GET"])]));
        assert!(authorize(
            &dir,
            &credentials(None, "GET"),
            USER_PATH,
            TenantRule::Scoped
        )
        .await
        .is_ok());
        for (method, path) in [
            ("POST", USER_PATH),
            ("DELETE", USER_PATH),
            ("GET", SEARCH_PATH),
        ] {
            let refused =
                authorize(&dir, &credentials(None, method), path, TenantRule::Scoped).await;
            assert!(
                matches!(refused, Err(UserError::Unauthorized)),
                "{method} {path}"
            );
        }
    }

    #[tokio::test]
    async fn a_create_in_a_tenant_that_does_not_exist_is_invalid() {
        let dir = directory(&[Uuid::new_v4()], key(None, &[]));
        let unknown = Uuid::new_v4().to_string();
        let result = authorize(
            &dir,
            &credentials(Some(&unknown), "POST"),
            USER_PATH,
            TenantRule::Create,
        )
        .await;
        assert!(
            matches!(result, Err(UserError::Invalid(e)) if e.field_errors.contains_key("tenantId"))
        );
    }
}
