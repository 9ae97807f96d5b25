//! Start Passwordless Login: authenticate the API key, resolve the user from the login id, and
//! store a fresh code that supersedes the user's earlier ones.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::codes;
use crate::errors::{Errors, FieldProblem};
use crate::login_id::LoginIdTypes;
use crate::model::{
    ApiKey, Application, LoginStrategy, PendingCode, Tenant, User, MAX_CODE_TTL_SECONDS,
};
use std::sync::Arc;

use crate::ports::{Directory, PendingCodes, StoreError, Wanted};
use crate::system::{Clock, Random};

pub const START_PATH: &str = "/api/passwordless/start";

/// What starting a login runs on, built once per container.
#[derive(Clone)]
pub struct StartServices {
    pub directory: Arc<dyn Directory>,
    pub codes: Arc<dyn PendingCodes>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
}

/// A start request, parsed: every field is known to be well formed.
#[derive(Clone, Debug, PartialEq)]
pub struct StartCommand {
    pub application_id: Uuid,
    pub login_id: String,
    pub login_id_types: LoginIdTypes,
    pub login_strategy: Option<LoginStrategy>,
    pub state: Option<Map<String, Value>>,
}

/// Who is calling: the API key that authenticated, and the tenant the call is scoped to.
#[derive(Clone, Debug, PartialEq)]
pub struct Scope {
    pub api_key: ApiKey,
    pub tenant_id: Option<Uuid>,
}

#[derive(PartialEq)]
pub struct Started {
    pub code: String,
    pub one_time_code: Option<String>,
    pub pending: PendingCode,
    pub tenant: Tenant,
    pub application: Application,
}

/// Redacts the code and the one-time code: a `Started` in a log line must not log anyone in.
impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started")
            .field("code", &crate::redact::REDACTED)
            .field(
                "one_time_code",
                &crate::redact::redacted(&self.one_time_code),
            )
            .field("pending", &self.pending)
            .field("tenant", &self.tenant.id)
            .field("application", &self.application.id)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the API key is missing, unknown or not allowed here")]
    Unauthorized,
    #[error("the request is invalid")]
    Invalid(Errors),
    #[error("no user has that login id")]
    UserNotFound,
    #[error(transparent)]
    Dependency(#[from] StoreError),
}

/// The credentials a start request presents: the raw API key, the `X-FusionAuth-TenantId` header.
/// Not `Debug`: it holds the raw key, which is never logged.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub api_key: Option<&'a str>,
    pub tenant_header: Option<&'a str>,
    pub method: &'a str,
}

/// Authenticates the raw API key (FusionAuth sends it without `Bearer`) and scopes the call to a
/// tenant: the `X-FusionAuth-TenantId` header, or the key's lock. A header that contradicts a
/// locked key is refused like a bad key.
pub async fn authorize(
    directory: &dyn Directory,
    credentials: Credentials<'_>,
    path: &str,
) -> Result<Scope, StartError> {
    let key = directory.api_key(&key_hash(credentials)?).await?;
    scope(key, credentials, path)
}

/// The hash an API key is stored under; a missing or blank key is refused before any read.
fn key_hash(credentials: Credentials<'_>) -> Result<String, StartError> {
    credentials
        .api_key
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(codes::hash_secret)
        .ok_or(StartError::Unauthorized)
}

/// [`authorize`] with the key already read (`None`: no key has that hash).
fn scope(
    key: Option<ApiKey>,
    credentials: Credentials<'_>,
    path: &str,
) -> Result<Scope, StartError> {
    let key = key.ok_or(StartError::Unauthorized)?;
    if !key.may_call(credentials.method, path) {
        return Err(StartError::Unauthorized);
    }
    let header = credentials
        .tenant_header
        .map(str::trim)
        .filter(|h| !h.is_empty());
    let tenant_id = match (header, key.tenant_id) {
        (None, lock) => lock,
        (Some(h), lock) => match (Uuid::parse_str(h), lock) {
            (Ok(id), Some(locked)) if id != locked => return Err(StartError::Unauthorized),
            (Err(_), Some(_)) => return Err(StartError::Unauthorized),
            (Ok(id), _) => Some(id),
            (Err(_), None) => {
                return Err(StartError::Invalid(Errors::general(
                    "[invalid]tenantId",
                    "The X-FusionAuth-TenantId header is not a valid tenant Id.",
                )))
            }
        },
    };
    Ok(Scope {
        api_key: key,
        tenant_id,
    })
}

/// Authorizes the call, then starts a login for the user `command.login_id` names. The API key
/// and the application are read together, in one round trip (none once cached): a refused key
/// still gets 401 and nothing is written.
pub async fn authorize_and_start(
    services: &StartServices,
    credentials: Credentials<'_>,
    command: StartCommand,
) -> Result<Started, StartError> {
    let key_hash = key_hash(credentials)?;
    let records = services
        .directory
        .records(&Wanted {
            api_key: Some(&key_hash),
            application: Some(command.application_id),
            ..Wanted::default()
        })
        .await?;
    let scope = scope(records.api_key, credentials, START_PATH)?;
    let started = prepare_for(services, scope.tenant_id, command, records.application).await?;
    save(services, &started).await?;
    Ok(started)
}

/// Stores a prepared code as the user's only valid one.
pub async fn save(services: &StartServices, started: &Started) -> Result<(), StoreError> {
    let pending = &started.pending;
    services
        .codes
        .save_pending(pending, crate::login::ATTEMPT_LIMITS)
        .await?;
    tracing::info!(
        user_id = %pending.user_id,
        application_id = %pending.application_id,
        identity_type = pending.identity_type.as_str(),
        strategy = ?pending.strategy,
        "passwordless login started"
    );
    Ok(())
}

/// Everything a start does but store the code: the user found, a fresh code drawn.
pub async fn prepare(
    services: &StartServices,
    tenant_scope: Option<Uuid>,
    command: StartCommand,
) -> Result<Started, StartError> {
    let application = services
        .directory
        .application(command.application_id)
        .await?;
    prepare_for(services, tenant_scope, command, application).await
}

/// [`prepare`] with the application already read (`None`: no such application).
async fn prepare_for(
    services: &StartServices,
    tenant_scope: Option<Uuid>,
    command: StartCommand,
    application: Option<Application>,
) -> Result<Started, StartError> {
    let invalid_application =
        || StartError::Invalid(Errors::field("applicationId", FieldProblem::Invalid));
    let application = application.ok_or_else(invalid_application)?;
    if tenant_scope.is_some_and(|t| t != application.tenant_id) {
        return Err(invalid_application());
    }
    if !application.passwordless_configuration.enabled {
        return Err(StartError::Invalid(Errors::general(
            "[PasswordlessDisabled]",
            "Passwordless login is not enabled for this application.",
        )));
    }
    // The tenant (unless cached) and the identity in one read.
    let candidates = command.login_id_types.candidates(&command.login_id);
    let records = services
        .directory
        .records(&Wanted {
            tenant: Some(application.tenant_id),
            identity: Some((application.tenant_id, &candidates)),
            ..Wanted::default()
        })
        .await?;
    let tenant = records.tenant.ok_or_else(invalid_application)?;
    crate::metrics::set_tenant(tenant.id);
    let found = records.identity.ok_or(StartError::UserNotFound)?;
    Ok(draw(
        services,
        tenant,
        application,
        command,
        Drawn {
            user_id: found.user_id,
            identity: found.identity,
            user: None,
            sign_up: false,
        },
    ))
}

/// Whom a code is drawn for: a user found by the login id, or a sign-up's user to be (the only
/// user a code carries: small, from the form; any other is read where it is needed).
struct Drawn {
    user_id: Uuid,
    identity: crate::login_id::IdentityKey,
    user: Option<User>,
    sign_up: bool,
}

/// A hosted sign-up's code, for the login id page of `application` (in `tenant`) where the
/// login id names no one ([`crate::sign_up::offer`]): everything a start does but store it,
/// for the user the code's login will create (`user`, with its minted id). Reads nothing.
pub fn prepare_sign_up(
    services: &StartServices,
    tenant: Tenant,
    application: Application,
    command: StartCommand,
    user: User,
) -> Option<Started> {
    let identity = user
        .identities
        .iter()
        .find(|i| i.kind == crate::login_id::IdentityType::Email)?;
    let drawn = Drawn {
        user_id: user.id,
        identity: crate::login_id::IdentityKey {
            kind: identity.kind,
            value: identity.value.clone(),
        },
        user: Some(user),
        sign_up: true,
    };
    Some(draw(services, tenant, application, command, drawn))
}

/// Draws a fresh code (and its one-time code) for `drawn`.
fn draw(
    services: &StartServices,
    tenant: Tenant,
    application: Application,
    command: StartCommand,
    drawn: Drawn,
) -> Started {
    let strategy = command
        .login_strategy
        .or(application.passwordless_configuration.login_strategy)
        .unwrap_or_else(|| LoginStrategy::default_for(drawn.identity.kind));
    let config = &tenant.external_identifier_configuration;
    let code = codes::generate(
        config.passwordless_login_generator,
        services.random.as_ref(),
    );
    // Every code gets a one-time code: a FormField login needs it with the code, and a link's
    // email carries it as the fallback for a link that got mangled (send records that fallback
    // once the email is out: a code never mailed has none).
    let one_time_code = codes::generate(
        config.passwordless_login_one_time_code_generator,
        services.random.as_ref(),
    );
    let form_field = strategy == LoginStrategy::FormField;
    let code_hash = codes::hash_secret(&code);
    let ttl_seconds = config
        .passwordless_login_time_to_live_in_seconds
        .clamp(1, MAX_CODE_TTL_SECONDS);
    let now = services.clock.now_millis();
    let pending = PendingCode {
        one_time_code_hash: form_field.then(|| codes::hash_one_time_code(&code, &one_time_code)),
        sealed_one_time_code: Some(codes::seal_one_time_code(&code, &one_time_code)),
        fallback_code_hash: None,
        code_hash,
        user_id: drawn.user_id,
        tenant_id: tenant.id,
        application_id: application.id,
        identity_type: drawn.identity.kind,
        identity_value: drawn.identity.value,
        strategy,
        state: command.state,
        created_at_millis: now,
        expires_at_millis: now + i64::from(ttl_seconds) * 1000,
        user: drawn.user,
        delivered_to: Vec::new(),
        sign_up: drawn.sign_up,
    };
    Started {
        code,
        // FusionAuth answers the one-time code for a FormField start only.
        one_time_code: form_field.then_some(one_time_code),
        pending,
        tenant,
        application,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::login_id::LoginIdTypes;

    const KICKSTART: &str = include_str!("../../tests/fixtures/kickstart.example.json");
    const GLOBAL_KEY: &str = "local-dev-api-key-change-me-0123456789abcdef";
    const LOCKED_KEY: &str = "tenant-locked-key-0123456789abcdef";
    const WEB_APP: &str = "10000000-0000-0002-0000-000000000001";

    fn services() -> StartServices {
        crate::memory::services(crate::kickstart::parse(KICKSTART).unwrap()).start
    }

    fn credentials<'a>(key: Option<&'a str>, tenant: Option<&'a str>) -> Credentials<'a> {
        Credentials {
            api_key: key,
            tenant_header: tenant,
            method: "POST",
        }
    }

    fn command(login_id: &str) -> StartCommand {
        StartCommand {
            application_id: WEB_APP.parse().unwrap(),
            login_id: login_id.into(),
            login_id_types: LoginIdTypes::default(),
            login_strategy: None,
            state: None,
        }
    }

    #[tokio::test]
    async fn a_missing_unknown_or_mismatched_key_is_unauthorized() {
        let services = services();
        let directory = services.directory.as_ref();
        let other_tenant = "00000000-0000-4000-8000-000000000000";
        for credentials in [
            credentials(None, None),
            credentials(Some("  "), None),
            credentials(Some("not-a-key-of-ours-0123456789"), None),
            credentials(Some(LOCKED_KEY), Some(other_tenant)),
            credentials(Some(LOCKED_KEY), Some("not-a-uuid")),
        ] {
            let refused = authorize(directory, credentials, START_PATH).await;
            assert!(
                matches!(refused, Err(StartError::Unauthorized)),
                "{refused:?}"
            );
        }
        let scope = authorize(directory, credentials(Some(LOCKED_KEY), None), START_PATH)
            .await
            .unwrap();
        assert_eq!(
            scope.tenant_id,
            Some("f24aca2b-ce4a-4dad-951a-c9d690e71415".parse().unwrap()),
            "a locked key scopes the call to its tenant"
        );
        let other_path =
            authorize(directory, credentials(Some(LOCKED_KEY), None), "/api/user").await;
        assert!(matches!(other_path, Err(StartError::Unauthorized)));
    }

    #[tokio::test]
    async fn an_unknown_user_is_not_found_and_nothing_is_stored() {
        let services = services();
        let refused = authorize_and_start(
            &services,
            credentials(Some(GLOBAL_KEY), None),
            command("nobody"),
        )
        .await;
        assert!(
            matches!(refused, Err(StartError::UserNotFound)),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn a_new_start_supersedes_the_users_earlier_code() {
        let all = crate::memory::services(crate::kickstart::parse(KICKSTART).unwrap());
        let services = all.start;
        let start = || {
            authorize_and_start(
                &services,
                credentials(Some(GLOBAL_KEY), None),
                command("richard@piedpiper.com"),
            )
        };
        let first = start().await.unwrap();
        let second = start().await.unwrap();
        assert_ne!(first.code, second.code);
        assert_eq!(first.code.len(), 43, "32 random bytes, base64url");
        // What a login sees of the same store: the earlier code is still stored (until its
        // TTL), but the user's pointer names the new one, and only that one logs in.
        let codes = all.login.codes.as_ref();
        assert_eq!(
            codes.newest(second.pending.user_id).await.unwrap(),
            Some(second.pending.code_hash.clone())
        );
        let now = services.clock.now_millis();
        let presented = |code_hash| crate::ports::Presented {
            code_hash,
            one_time_code_hash: None,
            fallback: false,
            application_id: None,
        };
        let limits = crate::login::ATTEMPT_LIMITS;
        let superseded = codes
            .consume(presented(&first.pending.code_hash), "a", now, limits)
            .await
            .unwrap();
        assert_eq!(superseded, crate::ports::Consumed::NotFound);
        let newest = codes
            .consume(presented(&second.pending.code_hash), "b", now, limits)
            .await
            .unwrap();
        assert!(
            matches!(newest, crate::ports::Consumed::Code(_)),
            "{newest:?}"
        );
        assert_eq!(
            second.pending.code_hash,
            codes::hash_secret(&second.code),
            "only the hash is kept"
        );
    }

    #[test]
    fn a_logged_start_shows_neither_code() {
        let started = Started {
            code: "the-long-code-0123456789".into(),
            one_time_code: Some("424242".into()),
            pending: PendingCode {
                code_hash: "h".into(),
                one_time_code_hash: None,
                sealed_one_time_code: None,
                fallback_code_hash: None,
                user_id: Uuid::nil(),
                tenant_id: Uuid::nil(),
                application_id: Uuid::nil(),
                identity_type: crate::login_id::IdentityType::Email,
                identity_value: "a@b.example".into(),
                strategy: LoginStrategy::FormField,
                state: None,
                created_at_millis: 0,
                expires_at_millis: 0,
                user: None,
                delivered_to: Vec::new(),
                sign_up: false,
            },
            tenant: serde_json::from_value(serde_json::json!({"id": Uuid::nil()})).unwrap(),
            application: serde_json::from_value(
                serde_json::json!({"id": Uuid::nil(), "tenantId": Uuid::nil()}),
            )
            .unwrap(),
        };
        let logged = format!("{started:?}");
        assert!(
            !logged.contains("the-long-code") && !logged.contains("424242"),
            "{logged}"
        );
    }
}
