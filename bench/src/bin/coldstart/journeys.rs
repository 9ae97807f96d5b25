//! Whole logins (issue 26), each request's AWS calls, sequential waves and DynamoDB capacity
//! counted by the proxy, and what the functions wrote to their logs: the email-code journey
//! (start with a one-time code, send, login with it) and the magic link (start, send, the
//! landing page opened and its button pressed, the authorization code exchanged), for a user of
//! about 1 KB and one whose `data` is about 20 KB, both made through the User API.
//!
//! Each function of a journey runs in a process of its own whose stdout and stderr go to a
//! file of its own: a request's log bytes are what its file grew by (once it stopped growing),
//! and its EMF documents the lines of them that are JSON with an `_aws` key.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::{
    authorization_code_of, csrf_of, expect_status, proxy_call, users, Function, Paths, Result,
};

/// The functions a journey goes through, and the User API that makes its users.
const JOURNEY_FUNCTIONS: [&str; 6] = ["start", "send", "login", "landing", "token", "registration"];

/// The users measured: a label, and how many bytes of padding their `data` holds.
const USERS: [(&str, usize); 2] = [("1 KB user", 400), ("20 KB user", 20_000)];

struct Logged {
    function: Function,
    log: PathBuf,
}

struct Journeys<'a> {
    proxy: &'a str,
    functions: Vec<Logged>,
    emf: Vec<Value>,
}

/// A file's length, 0 when it does not exist yet.
fn length(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Waits until `path` has not grown for 30 ms (at most 2 s): a function may write its last
/// lines after its response was posted.
fn settled(path: &Path) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut last = length(path);
    let mut still = 0;
    while still < 3 && Instant::now() < deadline {
        sleep(Duration::from_millis(10));
        let now = length(path);
        if now == last {
            still += 1;
        } else {
            (last, still) = (now, 0);
        }
    }
    last
}

impl Journeys<'_> {
    fn function(&self, name: &str) -> &Logged {
        let i = JOURNEY_FUNCTIONS
            .iter()
            .position(|n| *n == name)
            .unwrap_or(0);
        &self.functions[i]
    }

    /// One measured request: its response body (parsed), and its row.
    fn step(
        &mut self,
        label: &str,
        name: &str,
        event: &Value,
        want: u16,
    ) -> Result<(Vec<u8>, Value, Value)> {
        let logged = self.function(name);
        let log_before = settled(&logged.log);
        proxy_call(self.proxy, "POST", "/__reset")?;
        let (invocation, status, body) = logged.function.invoke(event)?;
        expect_status(label, status, want, &body)?;
        let mut row = proxy_call(self.proxy, "GET", "/__stats")?;
        let log_after = settled(&logged.log);
        let written = fs::read(&logged.log).map_err(|e| e.to_string())?;
        let from = usize::try_from(log_before).unwrap_or(0).min(written.len());
        let new_lines = String::from_utf8_lossy(&written[from..]).into_owned();
        let mut emf_docs = 0;
        for line in new_lines.lines() {
            if let Ok(doc) = serde_json::from_str::<Value>(line) {
                if doc.get("_aws").is_some() {
                    emf_docs += 1;
                    self.emf.push(doc);
                }
            }
        }
        row["label"] = json!(label);
        row["function"] = json!(name);
        row["status"] = json!(status);
        row["log_bytes"] = json!(log_after.saturating_sub(log_before));
        row["emf_docs"] = json!(emf_docs);
        row["invoke_ms"] = json!(invocation.millis());
        Ok((invocation.body, body, row))
    }

    /// A user made through the User API (a registration with the user created), `padding`
    /// bytes in its `data`: its login id, and the size of the largest item the creation wrote.
    fn create_user(&mut self, label: &str, padding: usize) -> Result<(String, Value)> {
        let email = format!(
            "journey-{}-{}@bench.example.com",
            padding,
            std::process::id()
        );
        let data = json!({"notes": "x".repeat(padding)});
        let event = users::register_event_with_data(&email, &data);
        let (_, body, row) = self.step(
            &format!("registration ({label})"),
            "registration",
            &event,
            200,
        )?;
        let item_bytes = row["writes"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|w| w["items"].as_array().cloned().unwrap_or_default())
            .filter_map(|i| i["after"].as_u64())
            .max();
        let id = body["user"]["id"].clone();
        Ok((
            email,
            json!({"id": id, "data_padding": padding, "item_bytes": item_bytes}),
        ))
    }

    /// Start with a one-time code, send, login with the one-time code.
    fn email_code(&mut self, login_id: &str) -> Result<Vec<Value>> {
        let event = bench::start_event_for(login_id, Some("FormField"));
        let (_, body, start) = self.step("start (FormField)", "start", &event, 200)?;
        let code = body["code"]
            .as_str()
            .ok_or("start gave no code")?
            .to_owned();
        let otc = body["oneTimeCode"]
            .as_str()
            .ok_or("start gave no one-time code")?
            .to_owned();
        let (_, _, send) = self.step("send (email)", "send", &bench::send_event(&code), 200)?;
        let event = bench::login_event(&code, Some(&otc));
        let (_, _, login) = self.step("login (one-time code)", "login", &event, 200)?;
        Ok(vec![start, send, login])
    }

    /// Start (OAuth), send, the landing page opened, its button pressed, the code exchanged.
    fn magic_link(&mut self, login_id: &str) -> Result<Vec<Value>> {
        let event = bench::oauth_start_event_for(login_id);
        let (_, body, start) = self.step("start (OAuth)", "start", &event, 200)?;
        let code = body["code"]
            .as_str()
            .ok_or("start gave no code")?
            .to_owned();
        let (_, _, send) = self.step("send (email)", "send", &bench::send_event(&code), 200)?;
        let event = bench::landing_event(&code);
        let (page, _, open) = self.step("landing (open)", "landing", &event, 200)?;
        let csrf = csrf_of(&page).ok_or("the page set no CSRF cookie")?;
        let event = bench::click_event(&code, &csrf, &page);
        let (clicked, _, click) = self.step("landing (click)", "landing", &event, 303)?;
        let authorization_code = authorization_code_of(&clicked)?;
        let event = bench::token_event(&authorization_code);
        let (_, _, token) = self.step("token (authorization code)", "token", &event, 200)?;
        Ok(vec![start, send, open, click, token])
    }
}

/// The journeys, measured warm, each user's first login (which verifies its address, a
/// one-off change of the user) done before and not counted.
pub fn measure(paths: &Paths, proxy: &str) -> Result<Value> {
    let dir = match paths.log.parent() {
        Some(parent) if paths.log != Path::new("/dev/null") => parent.join("journey-logs"),
        _ => std::env::temp_dir().join(format!("journey-logs-{}", std::process::id())),
    };
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut functions = Vec::new();
    for name in JOURNEY_FUNCTIONS {
        let log = dir.join(format!("{name}.log"));
        let _ = fs::remove_file(&log);
        let function = Function::spawn(&paths.binary(name), name, Some(proxy), &log)?;
        function.ready()?;
        functions.push(Logged { function, log });
    }
    proxy_call(proxy, "POST", "/__capacity?on=1")?;
    let mut journeys = Journeys {
        proxy,
        functions,
        emf: Vec::new(),
    };
    // Warm: every function once on the benchmark user (caches, connections), uncounted.
    journeys.email_code(bench::EMAIL)?;
    journeys.magic_link(bench::EMAIL)?;
    journeys.emf.clear();
    let mut users = Map::new();
    let mut measured = Map::new();
    for (label, padding) in USERS {
        let (login_id, user) = journeys.create_user(label, padding)?;
        users.insert(label.to_owned(), user);
        let kept = journeys.emf.len();
        journeys.email_code(&login_id)?;
        journeys.emf.truncate(kept);
        let steps = journeys.email_code(&login_id)?;
        measured.insert(format!("email-code ({label})"), json!({"steps": steps}));
        let steps = journeys.magic_link(&login_id)?;
        measured.insert(format!("magic link ({label})"), json!({"steps": steps}));
    }
    proxy_call(proxy, "POST", "/__capacity?on=0")?;
    Ok(json!({"users": users, "journeys": measured, "emf": journeys.emf}))
}
