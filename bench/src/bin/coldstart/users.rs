//! The User and Registration APIs and the import (issue 25) in the benchmarks: the event each
//! function's cold start is timed with, and each call's AWS calls (`trips`).

use std::sync::atomic::{AtomicUsize, Ordering};

use api_gateway_events::Event;
use serde_json::{json, Value};

use super::{expect_status, proxy_call, stats_row, Function, Result};

/// The functions of the users issue, cold-started like the others.
pub const USER_FUNCTIONS: [&str; 3] = ["user", "registration", "user-import"];

/// Users a benchmark creates are new each time: an address of their own.
fn new_address(what: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{what}-{}-{n}@bench.example.com", std::process::id())
}

fn api(method: &str, path: &str, query: &str, body: Option<&Value>) -> Value {
    let mut event = Event::new(method, path)
        .query(query)
        .header("authorization", bench::API_KEY)
        .user_agent("bench")
        .request_id("bench-request");
    match body {
        Some(body) => event = event.json_body(body),
        None => event = event.without_header("content-type"),
    }
    event.to_json()
}

fn create_event(email: &str) -> Value {
    api(
        "POST",
        "/api/user",
        "",
        Some(&json!({"user": {"email": email}})),
    )
}

fn register_event(email: &str) -> Value {
    api(
        "POST",
        "/api/user/registration",
        "",
        Some(&json!({"user": {"email": email},
                     "registration": {"applicationId": bench::APPLICATION}})),
    )
}

/// A registration that creates its user, whose `data` is `data` (the journeys' users).
pub fn register_event_with_data(email: &str, data: &Value) -> Value {
    api(
        "POST",
        "/api/user/registration",
        "",
        Some(&json!({"user": {"email": email, "data": data},
                     "registration": {"applicationId": bench::APPLICATION}})),
    )
}

/// An import of `count` new users, each registered to the benchmark application.
fn import_event(count: usize) -> Value {
    let users: Vec<Value> = (0..count)
        .map(|_| {
            json!({"email": new_address("imported"), "active": true, "verified": true,
                   "registrations": [{"applicationId": bench::APPLICATION}]})
        })
        .collect();
    api(
        "POST",
        "/api/user/import",
        "",
        Some(&json!({"users": users})),
    )
}

/// The event `name`'s cold start is timed with (a new user each time), and the status it answers.
pub fn cold_event(name: &str) -> Result<(Value, u16)> {
    Ok(match name {
        "user" => (create_event(&new_address("cold")), 200),
        "registration" => (register_event(&new_address("cold")), 200),
        "user-import" => (import_event(1), 200),
        other => return Err(format!("no event for {other}")),
    })
}

/// The three functions, warm.
pub struct Users<'a> {
    pub user: &'a Function,
    pub registration: &'a Function,
    pub import: &'a Function,
}

/// Each call of the User and Registration APIs once, its AWS calls counted; the first pass
/// warms the functions and is not counted.
pub fn calls(f: &Users, proxy: &str) -> Result<Vec<(String, Value)>> {
    let mut rows = Vec::new();
    for counted in [false, true] {
        let mut step = |label: &str, function: &Function, event: &Value| -> Result<Value> {
            proxy_call(proxy, "POST", "/__reset")?;
            let (_, status, body) = function.invoke(event)?;
            expect_status(label, status, 200, &body)?;
            let row = stats_row(proxy, status)?;
            if counted {
                rows.push((label.to_owned(), row));
            }
            Ok(body)
        };
        let email = new_address("trips");
        let created = step("user (create)", f.user, &create_event(&email))?;
        let id = created["user"]["id"]
            .as_str()
            .ok_or("the create gave no user id")?
            .to_owned();
        let path = format!("/api/user/{id}");
        step(
            "user (retrieve by id)",
            f.user,
            &api("GET", &path, "", None),
        )?;
        step(
            "user (retrieve by email)",
            f.user,
            &api(
                "GET",
                "/api/user",
                &format!("email={}", email.replace('@', "%40")),
                None,
            ),
        )?;
        step(
            "user (patch)",
            f.user,
            &api(
                "PATCH",
                &path,
                "",
                Some(&json!({"user": {"firstName": "Ada"}})),
            ),
        )?;
        step(
            "registration (existing user)",
            f.registration,
            &api(
                "POST",
                &format!("/api/user/registration/{id}"),
                "",
                Some(&json!({"registration": {"applicationId": bench::APPLICATION}})),
            ),
        )?;
        step(
            "registration (retrieve)",
            f.registration,
            &api(
                "GET",
                &format!("/api/user/registration/{id}/{}", bench::APPLICATION),
                "",
                None,
            ),
        )?;
        step(
            "registration (user and registration created)",
            f.registration,
            &register_event(&new_address("trips")),
        )?;
        step("user (deactivate)", f.user, &api("DELETE", &path, "", None))?;
        step(
            "user (hard delete)",
            f.user,
            &api("DELETE", &path, "hardDelete=true", None),
        )?;
        step("user-import (100 users)", f.import, &import_event(100))?;
    }
    Ok(rows)
}
