//! `POST /api/user/import`: the body read (a larger one than other calls take: up to
//! [`MAX_IMPORT_BODY_BYTES`] and [`MAX_USERS`] users), every user parsed as FusionAuth's import
//! reads it, each put in its tenant, then [`crate::users::import`]. 200 with no body.

use std::collections::HashMap;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{header_str, tenant_header};
use crate::errors::{Errors, FieldProblem};
use crate::model::User;
use crate::users::access::{self, Caller, Credentials, TenantRule, IMPORT_PATH};
use crate::users::import::{self, ImportError, ImportServices, MAX_USERS};
use crate::users::input::{parse_user, UserInput};
use crate::users::registration::random_uuid;
use crate::users::UserError;

/// The largest import body: Lambda's synchronous request limit (6 MB) is the real bound.
pub const MAX_IMPORT_BODY_BYTES: usize = 6 * 1024 * 1024;

pub async fn handle(services: &ImportServices, request: Request) -> Response<Body> {
    let credentials = Credentials {
        api_key: header_str(&request, "authorization"),
        tenant_header: tenant_header(&request),
        method: request.method().as_str(),
    };
    let caller = match access::authorize(
        services.directory.as_ref(),
        &credentials,
        IMPORT_PATH,
        TenantRule::Scoped,
    )
    .await
    {
        Ok(caller) => caller,
        Err(error) => return super::users::error_response(error),
    };
    if request.method().as_str() != "POST" {
        return super::empty(StatusCode::METHOD_NOT_ALLOWED);
    }
    let body = match body_object(&request) {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let (users, validate) = match parse(&body) {
        Ok(parsed) => parsed,
        Err(errors) => return super::errors(StatusCode::BAD_REQUEST, &errors),
    };
    let mut users = match placed(services, &credentials, &caller, users).await {
        Ok(users) => users,
        Err(error) => return super::users::error_response(error),
    };
    match import::import(services, &mut users, validate).await {
        Ok(()) => super::empty(StatusCode::OK),
        Err(ImportError::Invalid(errors)) => super::errors(StatusCode::BAD_REQUEST, &errors),
        Err(ImportError::Dependency(error)) => super::dependency_failed(&error),
    }
}

/// The body as a JSON object: 413 over [`MAX_IMPORT_BODY_BYTES`], 400 `[invalidJSON]` when it is
/// not one (not UTF-8, not JSON, nested past the parser's depth, not an object).
#[allow(clippy::result_large_err)]
fn body_object(request: &Request) -> Result<Map<String, Value>, Response<Body>> {
    let bytes: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_IMPORT_BODY_BYTES {
        return Err(super::errors(
            StatusCode::PAYLOAD_TOO_LARGE,
            &Errors::general(
                "[tooLarge]body",
                format!("The request body is larger than {MAX_IMPORT_BODY_BYTES} bytes."),
            ),
        ));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(super::errors(
            StatusCode::BAD_REQUEST,
            &Errors::general(
                "[invalidJSON]",
                "Unable to parse the request body as a JSON object.",
            ),
        )),
    }
}

/// `users` (each as an import reads a user, fields named `users[i].…`) and
/// `validateDbConstraints`, every error at once.
fn parse(body: &Map<String, Value>) -> Result<(Vec<User>, bool), Errors> {
    let mut errors = Errors::default();
    let validate = match body.get("validateDbConstraints") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(validate)) => *validate,
        Some(_) => {
            errors.add_field("validateDbConstraints", FieldProblem::CouldNotConvert);
            false
        }
    };
    let users = match body.get("users") {
        None | Some(Value::Null) => {
            errors.add_field("users", FieldProblem::Blank);
            return Err(errors);
        }
        Some(Value::Array(users)) if users.is_empty() => {
            errors.add_field("users", FieldProblem::Blank);
            return Err(errors);
        }
        Some(Value::Array(users)) if users.len() > MAX_USERS => {
            errors.add_field_entry(
                "users",
                "[tooMany]users",
                format!("An import takes at most [{MAX_USERS}] users: split it into several."),
            );
            return Err(errors);
        }
        Some(Value::Array(users)) => users,
        Some(_) => {
            errors.add_field("users", FieldProblem::CouldNotConvert);
            return Err(errors);
        }
    };
    let mut parsed = Vec::with_capacity(users.len());
    for (index, user) in users.iter().enumerate() {
        match parse_user(user, &format!("users[{index}]"), UserInput::Import) {
            Ok(user) => parsed.push(user),
            Err(problems) => {
                errors.field_errors.extend(problems.field_errors);
                errors.general_errors.extend(problems.general_errors);
            }
        }
    }
    if errors.is_empty() {
        Ok((parsed, validate))
    } else {
        Err(errors)
    }
}

/// Each user in its tenant and with an id: the caller's tenant (tenant-locked key or header)
/// when there is one, else the user's `tenantId` (which must exist), else the only tenant
/// (`[TenantIdRequired]` when there are several); an id made for a user without one.
async fn placed(
    services: &ImportServices,
    credentials: &Credentials<'_>,
    caller: &Caller,
    mut users: Vec<User>,
) -> Result<Vec<User>, UserError> {
    let mut only_tenant = None;
    let mut tenants: HashMap<Uuid, bool> = HashMap::new();
    let mut errors = Errors::default();
    for (index, user) in users.iter_mut().enumerate() {
        if user.id.is_nil() {
            user.id = random_uuid(services.random.as_ref());
        }
        user.tenant_id = match (caller.tenant_id, user.tenant_id) {
            (Some(tenant), _) => tenant,
            (None, named) if !named.is_nil() => {
                let exists = match tenants.get(&named) {
                    Some(exists) => *exists,
                    None => {
                        let exists = services.directory.tenant(named).await?.is_some();
                        *tenants.entry(named).or_insert(exists)
                    }
                };
                if !exists {
                    errors.add_field(&format!("users[{index}].tenantId"), FieldProblem::Invalid);
                }
                named
            }
            (None, _) => match only_tenant {
                Some(tenant) => tenant,
                None => {
                    let create = access::authorize(
                        services.directory.as_ref(),
                        credentials,
                        IMPORT_PATH,
                        TenantRule::Create,
                    )
                    .await?;
                    let tenant = create.required_tenant()?;
                    only_tenant = Some(tenant);
                    tenant
                }
            },
        };
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        Err(UserError::Invalid(errors))
    }
}
