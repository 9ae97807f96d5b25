//! Start Passwordless Login: authenticate the API key, resolve the user from the login id, and
//! store a fresh code that supersedes the user's earlier ones.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::codes;
use crate::errors::{Errors, FieldProblem};
use crate::login_id::LoginIdTypes;
use crate::model::{ApiKey, Application, LoginStrategy, PendingCode, Tenant, MAX_CODE_TTL_SECONDS};
use crate::ports::{Directory, Services, StoreError, Wanted};

pub const START_PATH: &str = "/api/passwordless/start";

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
            .field("code", &"<redacted>")
            .field(
                "one_time_code",
                &self.one_time_code.as_ref().map(|_| "<redacted>"),
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
    services: &Services,
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
pub async fn save(services: &Services, started: &Started) -> Result<(), StoreError> {
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
    services: &Services,
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
    services: &Services,
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
    let found = records.identity.ok_or(StartError::UserNotFound)?;

    let strategy = command
        .login_strategy
        .or(application.passwordless_configuration.login_strategy)
        .unwrap_or_else(|| LoginStrategy::default_for(found.identity.kind));
    let config = &tenant.external_identifier_configuration;
    let code = codes::generate(
        config.passwordless_login_generator,
        services.random.as_ref(),
    );
    let one_time_code = (strategy == LoginStrategy::FormField).then(|| {
        codes::generate(
            config.passwordless_login_one_time_code_generator,
            services.random.as_ref(),
        )
    });
    let ttl_seconds = config
        .passwordless_login_time_to_live_in_seconds
        .clamp(1, MAX_CODE_TTL_SECONDS);
    let now = services.clock.now_millis();
    let pending = PendingCode {
        code_hash: codes::hash_secret(&code),
        one_time_code_hash: one_time_code
            .as_deref()
            .map(|otc| codes::hash_one_time_code(&code, otc)),
        sealed_one_time_code: one_time_code
            .as_deref()
            .map(|otc| codes::seal_one_time_code(&code, otc)),
        user_id: found.user_id,
        tenant_id: tenant.id,
        application_id: application.id,
        identity_type: found.identity.kind,
        identity_value: found.identity.value,
        strategy,
        state: command.state,
        created_at_millis: now,
        expires_at_millis: now + i64::from(ttl_seconds) * 1000,
        user: found.user,
        delivered_to: Vec::new(),
    };
    Ok(Started {
        code,
        one_time_code,
        pending,
        tenant,
        application,
    })
}
