//! The Registration API (`/api/user/registration…`): the route and body read, the caller
//! authorized (a bad key is 401 before a bad body is 400, as FusionAuth answers), the use case of
//! [`crate::users::registration`] run, and its outcome mapped to a response in one place.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{header_str, json_object, tenant_header};
use crate::errors::{Errors, FieldProblem};
use crate::ports::UserWrite;
use crate::users::access::{self, Credentials, TenantRule, REGISTRATION_PATH};
use crate::users::input::{parse_user, UserInput};
use crate::users::registration::{
    self, ChangeKind, RegistrationError, RegistrationRequest, RegistrationServices,
};
use crate::users::{self as user_api, UserError};

/// A call of the Registration API, as its method and path name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// `POST /api/user/registration[/{userId}]`: register an existing user, or with a `user` in
    /// the body create one registered.
    Register(Option<Uuid>),
    /// `GET /api/user/registration/{userId}/{applicationId}`.
    Retrieve(Uuid, Uuid),
    /// `PUT|PATCH /api/user/registration/{userId}[/{applicationId}]` (the Python client sends
    /// the short form, the application in the body).
    Change(Uuid, Option<Uuid>, ChangeKind),
    /// `DELETE /api/user/registration/{userId}/{applicationId}`.
    Delete(Uuid, Uuid),
}

/// Why a path is not a route: a method the path does not take (405), or an id that is no UUID.
enum Unrouted {
    Method,
    NotFound,
    BadId(&'static str),
}

fn route(method: &Method, path: &str) -> Result<Route, Unrouted> {
    let rest = path
        .strip_prefix(REGISTRATION_PATH)
        .ok_or(Unrouted::NotFound)?;
    // Every segment counts, an empty one too: `/api/user/registration//{applicationId}` names
    // no user, it is not the short form.
    let segments: Vec<&str> = match rest.strip_prefix('/') {
        None if rest.is_empty() => Vec::new(),
        None => return Err(Unrouted::NotFound),
        Some(rest) => rest.split('/').collect(),
    };
    let id = |at: usize, name: &'static str| -> Result<Uuid, Unrouted> {
        Uuid::parse_str(segments[at]).map_err(|_| Unrouted::BadId(name))
    };
    match (method.as_str(), segments.len()) {
        ("POST", 0) => Ok(Route::Register(None)),
        ("POST", 1) => Ok(Route::Register(Some(id(0, "userId")?))),
        ("PUT", 1) => Ok(Route::Change(id(0, "userId")?, None, ChangeKind::Replace)),
        ("PATCH", 1) => Ok(Route::Change(id(0, "userId")?, None, ChangeKind::Merge)),
        ("GET", 2) => Ok(Route::Retrieve(id(0, "userId")?, id(1, "applicationId")?)),
        ("PUT", 2) => Ok(Route::Change(
            id(0, "userId")?,
            Some(id(1, "applicationId")?),
            ChangeKind::Replace,
        )),
        ("PATCH", 2) => Ok(Route::Change(
            id(0, "userId")?,
            Some(id(1, "applicationId")?),
            ChangeKind::Merge,
        )),
        ("DELETE", 2) => Ok(Route::Delete(id(0, "userId")?, id(1, "applicationId")?)),
        (_, 0..=2) => Err(Unrouted::Method),
        _ => Err(Unrouted::NotFound),
    }
}

pub async fn handle(services: &RegistrationServices, request: Request) -> Response<Body> {
    let credentials = Credentials {
        api_key: header_str(&request, "authorization"),
        tenant_header: tenant_header(&request),
        method: request.method().as_str(),
    };
    let route = route(request.method(), request.uri().path());
    // GET and DELETE take no body (a DELETE may carry `eventInfo`, ignored).
    let reads_body = matches!(route, Ok(Route::Register(_) | Route::Change(..)));
    let body = if reads_body {
        Some(json_object(&request))
    } else {
        None
    };
    let creates_user = match (&route, &body) {
        (Ok(Route::Register(None)), _) => true,
        (Ok(Route::Register(Some(_))), Some(Ok(body))) => has_user(body),
        _ => false,
    };
    let rule = if creates_user {
        TenantRule::Create
    } else {
        TenantRule::Scoped
    };
    let caller = match access::authorize(
        services.directory.as_ref(),
        &credentials,
        REGISTRATION_PATH,
        rule,
    )
    .await
    {
        Ok(caller) => caller,
        Err(error) => return error_response(error.into()),
    };
    let route = match route {
        Ok(route) => route,
        Err(Unrouted::Method) => return super::empty(StatusCode::METHOD_NOT_ALLOWED),
        Err(Unrouted::NotFound) => return super::empty(StatusCode::NOT_FOUND),
        Err(Unrouted::BadId(name)) => {
            return super::errors(
                StatusCode::BAD_REQUEST,
                &Errors::field(name, FieldProblem::CouldNotConvert),
            )
        }
    };
    let body = match body.transpose() {
        Ok(body) => body.unwrap_or_default(),
        Err(refusal) => return refusal,
    };
    let scope = caller.tenant_id;
    let answer = match route {
        Route::Register(user_id) if creates_user => match caller.required_tenant() {
            Ok(tenant) => create_registered(services, tenant, user_id, &body).await,
            Err(error) => Err(error.into()),
        },
        Route::Register(None) => Err(RegistrationError::Invalid(Errors::field(
            "user",
            FieldProblem::Missing,
        ))),
        Route::Register(Some(user_id)) => match registration::parse_request(&body, None) {
            Ok(request) => registration::register(services, scope, user_id, &request)
                .await
                .map(|registered| json!({"registration": registered.registration})),
            Err(errors) => Err(RegistrationError::Invalid(errors)),
        },
        Route::Retrieve(user_id, application_id) => {
            registration::retrieve(services, scope, user_id, application_id)
                .await
                .map(|registration| json!({"registration": registration}))
        }
        Route::Change(user_id, application_id, kind) => {
            registration::update(services, scope, user_id, application_id, &body, kind)
                .await
                .map(|registered| json!({"registration": registered.registration}))
        }
        Route::Delete(user_id, application_id) => {
            return match registration::remove(services, scope, user_id, application_id).await {
                Ok(()) => super::empty(StatusCode::OK),
                Err(error) => error_response(error),
            }
        }
    };
    match answer {
        Ok(value) => super::json(StatusCode::OK, &value),
        Err(error) => error_response(error),
    }
}

/// FusionAuth tells a combined registration from registering an existing user by the presence
/// of a `user` object.
fn has_user(body: &Map<String, Value>) -> bool {
    body.get("user").is_some_and(|user| !user.is_null())
}

/// The user of the body and its registration, created together; every error of both at once.
async fn create_registered(
    services: &RegistrationServices,
    tenant: Uuid,
    path_user: Option<Uuid>,
    body: &Map<String, Value>,
) -> Result<Value, RegistrationError> {
    let user = match body.get("user").filter(|u| !u.is_null()) {
        Some(user) => parse_user(user, "user", UserInput::Create),
        None => Err(Errors::field("user", FieldProblem::Missing)),
    };
    let user = user.and_then(|mut user| match body.get("skipVerification") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(user),
        Some(Value::Bool(true)) => {
            crate::users::create::skip_verification(&mut user);
            Ok(user)
        }
        Some(_) => Err(Errors::field(
            "skipVerification",
            FieldProblem::CouldNotConvert,
        )),
    });
    let request = registration::parse_request(body, None);
    let (mut user, request): (_, RegistrationRequest) = match (user, request) {
        (Ok(user), Ok(request)) => (user, request),
        (user, request) => {
            let mut errors = Errors::default();
            for part in [user.err(), request.err()].into_iter().flatten() {
                errors.field_errors.extend(part.field_errors);
                errors.general_errors.extend(part.general_errors);
            }
            return Err(RegistrationError::Invalid(errors));
        }
    };
    user.id = match (path_user, user.id) {
        (Some(id), _) => id,
        (None, id) if !id.is_nil() => id,
        (None, _) => user_api::new_user_id(services.random.as_ref()),
    };
    user.tenant_id = tenant;
    user.active = true;
    let now = services.clock.now_millis();
    user.insert_instant = Some(now);
    user.last_update_instant = Some(now);
    let (written, registered) = registration::create_registered(services, user, &request).await?;
    match written {
        UserWrite::Written => Ok(json!({
            "user": registered.user,
            "registration": registered.registration,
        })),
        // As the User API words a taken id.
        UserWrite::Conflict => Err(RegistrationError::Invalid(Errors::field(
            "userId",
            FieldProblem::Duplicate,
        ))),
        UserWrite::Taken(kinds) => Err(RegistrationError::Invalid(user_api::taken_errors(
            "user", &kinds,
        ))),
    }
}

impl From<UserError> for RegistrationError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Unauthorized => Self::Unauthorized,
            UserError::NotFound => Self::NotFound,
            UserError::Invalid(errors) => Self::Invalid(errors),
            UserError::Conflict => Self::Contended,
            UserError::Dependency(error) => Self::Dependency(error),
        }
    }
}

/// The one place a registration outcome becomes a status.
fn error_response(error: RegistrationError) -> Response<Body> {
    match error {
        RegistrationError::Unauthorized => super::empty(StatusCode::UNAUTHORIZED),
        RegistrationError::Invalid(errors) => super::errors(StatusCode::BAD_REQUEST, &errors),
        RegistrationError::NotFound => super::empty(StatusCode::NOT_FOUND),
        RegistrationError::Contended => super::errors(
            StatusCode::CONFLICT,
            &Errors::general(
                "[conflict]",
                "The user was changed by another request at the same time. Try again.",
            ),
        ),
        RegistrationError::Dependency(error) => super::dependency_failed(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(method: Method, path: &str) -> Option<Route> {
        route(&method, path).ok()
    }

    #[test]
    fn both_path_forms_of_a_change_are_routes() {
        let (user, app) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(
            routed(Method::PUT, &format!("/api/user/registration/{user}")),
            Some(Route::Change(user, None, ChangeKind::Replace))
        );
        assert_eq!(
            routed(
                Method::PATCH,
                &format!("/api/user/registration/{user}/{app}")
            ),
            Some(Route::Change(user, Some(app), ChangeKind::Merge))
        );
        assert_eq!(
            routed(
                Method::DELETE,
                &format!("/api/user/registration/{user}/{app}")
            ),
            Some(Route::Delete(user, app))
        );
        assert_eq!(
            routed(Method::POST, "/api/user/registration"),
            Some(Route::Register(None))
        );
    }

    #[test]
    fn a_method_a_path_does_not_take_or_a_bad_id_is_no_route() {
        assert!(matches!(
            route(&Method::GET, "/api/user/registration"),
            Err(Unrouted::Method)
        ));
        assert!(matches!(
            route(&Method::GET, "/api/user/registration/nope/x"),
            Err(Unrouted::BadId("userId"))
        ));
        assert!(matches!(
            route(&Method::GET, "/api/user/registrationx"),
            Err(Unrouted::NotFound)
        ));
        assert!(matches!(
            route(&Method::GET, "/api/user/registration/a/b/c"),
            Err(Unrouted::NotFound)
        ));
        assert!(matches!(
            route(
                &Method::GET,
                "/api/user/registration//00000000-0000-0000-0000-000000000001"
            ),
            Err(Unrouted::BadId("userId"))
        ));
    }
}
