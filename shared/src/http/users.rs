//! The User API's edge (`functions/user`): `POST /api/user[/{userId}]`, `GET /api/user/{userId}`,
//! `GET /api/user?email=|username=|loginId=[&loginIdTypes=…]`, `PUT /api/user/{userId}
//! [?reactivate=true]`, `PATCH /api/user/{userId}`, `DELETE /api/user/{userId}[?hardDelete=true]`
//! (or `{"hardDelete": true}` in the body) and `GET|POST /api/user/search` by ids.
//!
//! The API key is checked before anything else is read: 401 (empty) without a key permitted the
//! call. Then the request is parsed whole (400 with FusionAuth's `Errors`), then the use case
//! runs; [`error_response`] is the one place a [`UserError`] becomes a response.

// Each step answers the response that refuses the request, as the other edge modules do: one
// short-lived value per request, where a box would be an allocation for nothing.
#![allow(clippy::result_large_err)]

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{header_str, json_object, optional_json_object, query_params, tenant_header};
use crate::errors::{Errors, FieldProblem};
use crate::limits;
use crate::login_id::LoginIdTypes;
use crate::users::access::{self, Caller, Credentials, TenantRule, SEARCH_PATH, USER_PATH};
use crate::users::create::{self, CreateUser};
use crate::users::input::{parse_user, UserInput};
use crate::users::retrieve::{self, MAX_SEARCH_IDS};
use crate::users::{change, remove, shown, UserError, UserServices};

/// What a request asks for, by method and path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// `POST /api/user` (`None`) or `POST /api/user/{userId}`.
    Create(Option<Segment>),
    /// `GET /api/user?…`.
    Lookup,
    Retrieve(Segment),
    Update(Segment),
    Patch(Segment),
    Delete(Segment),
    Search,
    /// A method this path does not take.
    MethodNotAllowed,
    NotFound,
}

/// The `{userId}` path segment: an id, or something that is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Segment {
    Id(Uuid),
    NotAnId,
}

fn route(request: &Request) -> Route {
    let path = request.uri().path().trim_end_matches('/');
    let Some(rest) = path.strip_prefix(USER_PATH) else {
        return Route::NotFound;
    };
    let method = request.method();
    if rest.is_empty() {
        return match *method {
            Method::POST => Route::Create(None),
            Method::GET => Route::Lookup,
            _ => Route::MethodNotAllowed,
        };
    }
    let Some(segment) = rest.strip_prefix('/').filter(|s| !s.contains('/')) else {
        return Route::NotFound;
    };
    if segment == "search" {
        return match *method {
            Method::GET | Method::POST => Route::Search,
            _ => Route::MethodNotAllowed,
        };
    }
    let segment = match Uuid::parse_str(segment) {
        Ok(id) if segment.len() <= limits::ID => Segment::Id(id),
        _ => Segment::NotAnId,
    };
    match *method {
        Method::POST => Route::Create(Some(segment)),
        Method::GET => Route::Retrieve(segment),
        Method::PUT => Route::Update(segment),
        Method::PATCH => Route::Patch(segment),
        Method::DELETE => Route::Delete(segment),
        _ => Route::MethodNotAllowed,
    }
}

/// What an edge step answers: the body of a 200, or the response that refuses the request.
type Answer<T> = Result<T, Response<Body>>;

pub async fn handle(services: &UserServices, request: Request) -> Response<Body> {
    let route = route(&request);
    let (path, rule) = match route {
        Route::NotFound => return super::empty(StatusCode::NOT_FOUND),
        Route::MethodNotAllowed => return super::empty(StatusCode::METHOD_NOT_ALLOWED),
        Route::Search => (SEARCH_PATH, TenantRule::Scoped),
        Route::Create(_) => (USER_PATH, TenantRule::Create),
        Route::Lookup => (USER_PATH, TenantRule::Ambiguous),
        _ => (USER_PATH, TenantRule::Scoped),
    };
    let credentials = Credentials {
        api_key: header_str(&request, "authorization"),
        tenant_header: tenant_header(&request),
        method: request.method().as_str(),
    };
    let caller =
        match access::authorize(services.directory.as_ref(), &credentials, path, rule).await {
            Ok(caller) => caller,
            Err(error) => return error_response(error),
        };
    let answer = match route {
        Route::Create(segment) => create(services, &caller, &request, segment).await,
        Route::Lookup => lookup(services, &caller, &request).await,
        Route::Retrieve(segment) => retrieve(services, &caller, segment).await,
        Route::Update(segment) => update(services, &caller, &request, segment).await,
        Route::Patch(segment) => patch(services, &caller, &request, segment).await,
        Route::Delete(segment) => delete(services, &caller, &request, segment).await,
        Route::Search => search(services, &caller, &request).await,
        Route::NotFound | Route::MethodNotAllowed => Err(super::empty(StatusCode::NOT_FOUND)),
    };
    match answer {
        Ok(Some(body)) => super::json(StatusCode::OK, &body),
        Ok(None) => super::empty(StatusCode::OK),
        Err(response) => response,
    }
}

/// The one place a User API error becomes a response: 401 and 404 with no body (as FusionAuth),
/// 400 with its `Errors`, 409 when the user kept changing under the write, 500 when a
/// dependency failed.
pub fn error_response(error: UserError) -> Response<Body> {
    match error {
        UserError::Unauthorized => super::empty(StatusCode::UNAUTHORIZED),
        UserError::NotFound => super::empty(StatusCode::NOT_FOUND),
        UserError::Invalid(errors) => super::errors(StatusCode::BAD_REQUEST, &errors),
        UserError::Conflict => super::errors(
            StatusCode::CONFLICT,
            &Errors::general(
                "[conflict]",
                "The user was changed by another request at the same time. Try again.",
            ),
        ),
        UserError::Dependency(error) => super::dependency_failed(&error),
    }
}

/// A 400 with one field error.
fn bad(field: &str, problem: FieldProblem) -> Response<Body> {
    error_response(UserError::field(field, problem))
}

/// The id of the `{userId}` segment; one that is no id names no user (404).
fn user_id(segment: Segment) -> Answer<Uuid> {
    match segment {
        Segment::Id(id) => Ok(id),
        Segment::NotAnId => Err(super::empty(StatusCode::NOT_FOUND)),
    }
}

/// The `user` object of a body: `[missing]user` when there is none.
fn user_object(object: &Map<String, Value>) -> Answer<&Value> {
    match object.get("user") {
        None | Some(Value::Null) => Err(bad("user", FieldProblem::Missing)),
        Some(user) => Ok(user),
    }
}

/// A top-level boolean of a body (`skipVerification`, `hardDelete`).
fn flag(object: &Map<String, Value>, name: &str) -> Answer<bool> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(name, FieldProblem::CouldNotConvert)),
    }
}

/// A query flag given as `true`.
fn query_flag(params: &[(String, String)], name: &str) -> bool {
    params
        .iter()
        .any(|(k, v)| k == name && v.trim().eq_ignore_ascii_case("true"))
}

fn user_body(result: Result<crate::model::User, UserError>) -> Answer<Option<Value>> {
    result
        .map(|user| Some(shown(&user)))
        .map_err(error_response)
}

async fn create(
    services: &UserServices,
    caller: &Caller,
    request: &Request,
    segment: Option<Segment>,
) -> Answer<Option<Value>> {
    let user_id = match segment {
        None => None,
        Some(Segment::Id(id)) => Some(id),
        Some(Segment::NotAnId) => return Err(bad("userId", FieldProblem::CouldNotConvert)),
    };
    let object = json_object(request)?;
    let skip_verification = flag(&object, "skipVerification")?;
    let user = parse_user(user_object(&object)?, "user", UserInput::Create)
        .map_err(|errors| error_response(UserError::Invalid(errors)))?;
    let command = CreateUser {
        user_id,
        user,
        skip_verification,
    };
    user_body(create::create(services, caller, command).await)
}

async fn retrieve(
    services: &UserServices,
    caller: &Caller,
    segment: Segment,
) -> Answer<Option<Value>> {
    let id = user_id(segment)?;
    user_body(retrieve::by_id(services, caller, id).await)
}

/// `?email=`, `?username=`, `?loginId=` (with `loginIdTypes`, default email and username).
async fn lookup(
    services: &UserServices,
    caller: &Caller,
    request: &Request,
) -> Answer<Option<Value>> {
    let params = query_params(request);
    let value = |name: &str| -> Answer<Option<String>> {
        match params.iter().find(|(k, _)| k == name).map(|(_, v)| v) {
            Some(v) if !limits::within(v, limits::LOGIN_ID) => Err(bad(
                name,
                FieldProblem::TooLong {
                    max: limits::LOGIN_ID,
                },
            )),
            Some(v) if !v.is_empty() => Ok(Some(v.clone())),
            _ => Ok(None),
        }
    };
    let (login_id, types) = if let Some(email) = value("email")? {
        (email, LoginIdTypes::parse(["email"]))
    } else if let Some(username) = value("username")? {
        (username, LoginIdTypes::parse(["username"]))
    } else if let Some(login_id) = value("loginId")? {
        let named: Vec<&str> = params
            .iter()
            .filter(|(k, _)| k == "loginIdTypes")
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        (login_id, LoginIdTypes::parse(named))
    } else {
        return Err(super::errors(
            StatusCode::BAD_REQUEST,
            &Errors::general(
                "[missing]loginId",
                "Name the user: a userId in the path, or an email, username or loginId parameter.",
            ),
        ));
    };
    let types = types.ok_or_else(|| bad("loginIdTypes", FieldProblem::Invalid))?;
    user_body(retrieve::by_login_id(services, caller, &login_id, &types).await)
}

/// `PUT`: the user object replaces the profile; `?reactivate=true` reactivates instead.
async fn update(
    services: &UserServices,
    caller: &Caller,
    request: &Request,
    segment: Segment,
) -> Answer<Option<Value>> {
    let id = user_id(segment)?;
    if query_flag(&query_params(request), "reactivate") {
        return user_body(change::reactivate(services, caller, id).await);
    }
    let object = json_object(request)?;
    let given = parse_user(user_object(&object)?, "user", UserInput::Replace)
        .map_err(|errors| error_response(UserError::Invalid(errors)))?;
    user_body(change::update(services, caller, id, &given).await)
}

async fn patch(
    services: &UserServices,
    caller: &Caller,
    request: &Request,
    segment: Segment,
) -> Answer<Option<Value>> {
    let id = user_id(segment)?;
    let object = json_object(request)?;
    let user = user_object(&object)?;
    user_body(change::patch(services, caller, id, user).await)
}

/// Deactivates, or with `hardDelete` (query or body) deletes for good. 200 with no body.
async fn delete(
    services: &UserServices,
    caller: &Caller,
    request: &Request,
    segment: Segment,
) -> Answer<Option<Value>> {
    let id = user_id(segment)?;
    let object = optional_json_object(request)?;
    let hard = query_flag(&query_params(request), "hardDelete") || flag(&object, "hardDelete")?;
    let done = if hard {
        remove::hard_delete(services, caller, id).await
    } else {
        remove::deactivate(services, caller, id).await
    };
    done.map(|()| None).map_err(error_response)
}

/// By ids only: `GET ?ids=…&ids=…` or `POST {"search": {"ids": […]}}`; an id that is no id is
/// ignored, as FusionAuth ignores it. A query string or an Elasticsearch query is refused with a
/// 400 saying so.
async fn search(
    services: &UserServices,
    caller: &Caller,
    request: &Request,
) -> Answer<Option<Value>> {
    let (field, texts): (&str, Vec<Value>) = if request.method() == Method::POST {
        let object = json_object(request)?;
        let search = match object.get("search") {
            Some(Value::Object(search)) => search.clone(),
            None | Some(Value::Null) => return Err(bad("search", FieldProblem::Missing)),
            Some(_) => return Err(bad("search", FieldProblem::CouldNotConvert)),
        };
        let asked_query = ["queryString", "query"]
            .iter()
            .any(|k| search.get(*k).is_some_and(|v| !v.is_null()));
        match search.get("ids") {
            Some(Value::Array(ids)) if !ids.is_empty() => ("search.ids", ids.clone()),
            Some(Value::Array(_)) | None | Some(Value::Null) if asked_query => {
                return Err(only_ids_supported())
            }
            Some(Value::Array(_)) | None | Some(Value::Null) => {
                return Err(bad("search.ids", FieldProblem::Missing))
            }
            Some(_) => return Err(bad("search.ids", FieldProblem::CouldNotConvert)),
        }
    } else {
        let params = query_params(request);
        let ids: Vec<Value> = params
            .iter()
            .filter(|(k, _)| k == "ids")
            .map(|(_, v)| Value::String(v.clone()))
            .collect();
        if ids.is_empty() {
            if params
                .iter()
                .any(|(k, _)| k == "queryString" || k == "query")
            {
                return Err(only_ids_supported());
            }
            return Err(bad("ids", FieldProblem::Missing));
        }
        ("ids", ids)
    };
    if texts.len() > MAX_SEARCH_IDS {
        return Err(bad(
            field,
            FieldProblem::TooLong {
                max: MAX_SEARCH_IDS,
            },
        ));
    }
    // FusionAuth: "If any Id is invalid, it is ignored."
    let ids: Vec<Uuid> = texts
        .iter()
        .filter_map(|text| {
            text.as_str()
                .filter(|t| t.len() <= limits::ID)
                .and_then(|t| Uuid::parse_str(t.trim()).ok())
        })
        .collect();
    let users = retrieve::search_by_ids(services, caller, &ids)
        .await
        .map_err(error_response)?;
    Ok(Some(json!({ "total": users.len(), "users": users })))
}

fn only_ids_supported() -> Response<Body> {
    super::errors(
        StatusCode::BAD_REQUEST,
        &Errors::general(
            "[notSupported]search.queryString",
            "This service searches users by ids only: send search.ids (GET: ids=…). For an exact address use GET /api/user?email=.",
        ),
    )
}
