//! Drives the functions' release binaries under the local Runtime API emulator and prints JSON
//! results (one object) on stdout.
//!
//! ```text
//! coldstart cold  BIN_DIR HELLO RUNS PROXY_URL
//!                                           spawn → response posted, per function and hello world,
//!                                           and how much of it was spent waiting on AWS (the proxy)
//! coldstart warm  BIN_DIR ITERATIONS        first vs warm invocation, VmHWM after the loop
//! coldstart trips BIN_DIR PROXY_URL         AWS calls per request, counted by the proxy, with
//!                                           their sequential waves and DynamoDB capacity
//! coldstart journeys BIN_DIR PROXY_URL      whole logins (journeys.rs): each request's calls,
//!                                           waves, capacity, log bytes and EMF documents
//! ```
//!
//! The environment (AWS endpoint, credentials, region, table names) is passed on to the
//! functions together with the variables Lambda sets; nothing else is.

mod hosted;
mod journeys;
mod users;

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bench::emulator::{Emulator, Invocation};
use bench::{
    cpu_ms, get_event, login_event, median, memory_kib, refresh_event, response_status_and_body,
    revoke_event, send_event, start_event,
};
use serde_json::{json, Map, Value};

const PASSED_ON: &[&str] = &[
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "DIRECTORY_TABLE",
    "CODES_TABLE",
    "DIRECTORY_CACHE_SECONDS",
    "DEFAULT_BASE_URL",
    "RUST_LOG",
];

type Result<T> = std::result::Result<T, String>;

/// A function process under its own emulator.
struct Function {
    name: String,
    emulator: Emulator,
    child: Child,
    spawned: Instant,
}

impl Function {
    fn spawn(binary: &Path, name: &str, endpoint: Option<&str>, log: &Path) -> Result<Self> {
        let emulator = Emulator::start(name).map_err(|e| e.to_string())?;
        let mut command = Command::new(binary);
        command.env_clear();
        for var in PASSED_ON {
            if let Ok(value) = std::env::var(var) {
                command.env(var, value);
            }
        }
        if let Some(endpoint) = endpoint {
            command.env("AWS_ENDPOINT_URL", endpoint);
        }
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
        command
            .env("AWS_LAMBDA_RUNTIME_API", emulator.runtime_api())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/28/[$LATEST]bench")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            // As template.yaml's LoggingConfig makes Lambda set them (JSON logs at INFO).
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
            .env("AWS_DEFAULT_REGION", &region)
            .env("AWS_REGION", &region)
            .env("LAMBDA_TASK_ROOT", "/var/task")
            .env("LAMBDA_RUNTIME_DIR", "/var/runtime")
            .env("_HANDLER", "bootstrap")
            .env("TZ", ":UTC")
            .env("LANG", "en_US.UTF-8")
            .env("PATH", "/usr/local/bin:/usr/bin/:/bin");
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let spawned = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        Ok(Self {
            name: name.to_owned(),
            emulator,
            child,
            spawned,
        })
    }

    fn invoke(&self, event: &Value) -> Result<(Invocation, u16, Value)> {
        let invocation = self
            .emulator
            .invoke(event)
            .map_err(|e| format!("{}: {e}", self.name))?;
        let (status, body) = response_status_and_body(&invocation.body);
        Ok((invocation, status, body))
    }

    fn ready(&self) -> Result<()> {
        if self.emulator.wait_ready(Duration::from_secs(30)) {
            Ok(())
        } else {
            Err(format!("{} did not poll for an event", self.name))
        }
    }

    fn memory_kib(&self) -> Option<(u64, u64)> {
        memory_kib(self.child.id())
    }

    fn cpu_ms(&self) -> Option<f64> {
        cpu_ms(self.child.id())
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn expect_status(what: &str, got: u16, want: u16, body: &Value) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: status {got}, expected {want}: {body}"))
    }
}

struct Paths {
    bin_dir: PathBuf,
    log: PathBuf,
}

impl Paths {
    fn binary(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }
}

/// A fresh code for the benchmark user, minted by a warm start function.
fn mint(minter: &Function, strategy: Option<&str>) -> Result<(String, Option<String>)> {
    let (_, status, body) = minter.invoke(&start_event(strategy))?;
    expect_status("start (minting a code)", status, 200, &body)?;
    let code = body["code"]
        .as_str()
        .ok_or("start gave no code")?
        .to_owned();
    let otc = body["oneTimeCode"].as_str().map(str::to_owned);
    Ok((code, otc))
}

/// A fresh login of the benchmark user by warm start and login functions: its JWT and refresh
/// token.
fn mint_login(start: &Function, login: &Function) -> Result<(String, String)> {
    let (code, _) = mint(start, None)?;
    let (_, status, body) = login.invoke(&login_event(&code, None))?;
    expect_status("login (minting tokens)", status, 200, &body)?;
    let text = |name: &str| {
        body[name]
            .as_str()
            .map(str::to_owned)
            .ok_or(format!("login gave no {name}"))
    };
    Ok((text("token")?, text("refreshToken")?))
}

/// A fresh authorization code: an OAuth start, the landing page's GET (its CSRF cookie) and
/// its button's post, by warm start and landing functions.
fn mint_authorization_code(start: &Function, landing: &Function) -> Result<String> {
    let (_, status, body) = start.invoke(&bench::oauth_start_event())?;
    expect_status("start (OAuth)", status, 200, &body)?;
    let code = body["code"]
        .as_str()
        .ok_or("start gave no code")?
        .to_owned();
    let (page, status, _) = landing.invoke(&bench::landing_event(&code))?;
    expect_status("landing (minting)", status, 200, &Value::Null)?;
    let csrf = csrf_of(&page.body).ok_or("the page set no CSRF cookie")?;
    let (clicked, status, _) = landing.invoke(&bench::click_event(&code, &csrf, &page.body))?;
    expect_status("landing click (minting)", status, 303, &Value::Null)?;
    let response: Value = serde_json::from_slice(&clicked.body).unwrap_or(Value::Null);
    let location = response["headers"]["location"]
        .as_str()
        .ok_or("the click did not redirect")?;
    location
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("code="))
        .map(str::to_owned)
        .ok_or_else(|| "the redirect carries no code".to_owned())
}

/// The CSRF value a landing page response sets (its cookie).
fn csrf_of(response: &[u8]) -> Option<String> {
    let response: Value = serde_json::from_slice(response).ok()?;
    response["cookies"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|c| c.strip_prefix("passwordless_csrf="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// The status each function's measured event answers with: the landing click redirects.
fn wanted(name: &str) -> u16 {
    match name {
        "landing (click)" => 303,
        _ => 200,
    }
}

/// The event each function of the token lifecycle is measured with.
fn token_event(name: &str, start: &Function, login: &Function) -> Result<Value> {
    Ok(match name {
        "refresh" => refresh_event(&mint_login(start, login)?.1),
        "revoke" => revoke_event(),
        "jwks" => get_event("/.well-known/jwks.json", "", &[]),
        "public-key" => get_event("/api/jwt/public-key", &format!("kid={KEY_ID}"), &[]),
        "openid-configuration" => get_event("/.well-known/openid-configuration", "", &[]),
        "validate" => {
            let bearer = format!("Bearer {}", mint_login(start, login)?.0);
            get_event("/api/jwt/validate", "", &[("authorization", &bearer)])
        }
        "landing" => {
            let (_, status, body) = start.invoke(&bench::oauth_start_event())?;
            expect_status("start (OAuth)", status, 200, &body)?;
            bench::landing_event(body["code"].as_str().ok_or("start gave no code")?)
        }
        other => return Err(format!("no event for {other}")),
    })
}

/// The benchmark kickstart's ES256 key.
const KEY_ID: &str = "b0000000-0000-4000-8000-0000000000e5";

/// The functions of the token lifecycle (issue 15), measured like the passwordless three.
const TOKEN_FUNCTIONS: [&str; 6] = [
    "refresh",
    "revoke",
    "jwks",
    "public-key",
    "openid-configuration",
    "validate",
];

/// The magic link's landing page and the token endpoint (issue 16).
const OAUTH_FUNCTIONS: [&str; 2] = ["landing", "token"];

fn cold(paths: &Paths, hello: &Path, runs: usize, proxy: &str) -> Result<Value> {
    let minter = Function::spawn(&paths.binary("start"), "minter", None, &paths.log)?;
    minter.ready()?;
    let login_minter = Function::spawn(&paths.binary("login"), "login-minter", None, &paths.log)?;
    login_minter.ready()?;
    let landing_minter =
        Function::spawn(&paths.binary("landing"), "landing-minter", None, &paths.log)?;
    landing_minter.ready()?;
    let token_minter = Function::spawn(&paths.binary("token"), "token-minter", None, &paths.log)?;
    token_minter.ready()?;
    let minters = hosted::Minters {
        start: &minter,
        login: &login_minter,
        landing: &landing_minter,
        token: &token_minter,
    };
    let mut names = vec!["hello", "start", "send", "login"];
    names.extend(TOKEN_FUNCTIONS);
    names.extend(OAUTH_FUNCTIONS);
    names.extend(hosted::HOSTED_FUNCTIONS);
    names.extend(users::USER_FUNCTIONS);
    let mut totals: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut inits: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut invokes: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut waits: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut owns: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut cpus: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut calls: Vec<Value> = vec![Value::Null; names.len()];
    // One untimed round first: the page cache holds every binary afterwards.
    for run in 0..=runs {
        for (i, name) in names.iter().enumerate() {
            let (binary, event, want) = match *name {
                "hello" => (hello.to_path_buf(), start_event(None), 200),
                "start" => (paths.binary("start"), start_event(None), 200),
                "send" => (
                    paths.binary("send"),
                    send_event(&mint(&minter, None)?.0),
                    200,
                ),
                "login" => (
                    paths.binary("login"),
                    login_event(&mint(&minter, None)?.0, None),
                    200,
                ),
                "token" => (
                    paths.binary("token"),
                    bench::token_event(&mint_authorization_code(&minter, &landing_minter)?),
                    200,
                ),
                provider if hosted::HOSTED_FUNCTIONS.contains(&provider) => {
                    let (event, want) = hosted::cold_event(provider, &minters)?;
                    (paths.binary(provider), event, want)
                }
                name if users::USER_FUNCTIONS.contains(&name) => {
                    let (event, want) = users::cold_event(name)?;
                    (paths.binary(name), event, want)
                }
                token => (
                    paths.binary(token),
                    token_event(token, &minter, &login_minter)?,
                    200,
                ),
            };
            proxy_call(proxy, "POST", "/__reset")?;
            let function = Function::spawn(&binary, name, Some(proxy), &paths.log)?;
            // The event is queued before the function asks: its first poll gets it at once.
            function.emulator.enqueue(&event);
            let outcome = function
                .emulator
                .outcome(Duration::from_secs(30))
                .map_err(|e| format!("{name}: {e}"))?;
            let invocation = match outcome {
                bench::emulator::Outcome::Response(inv) => inv,
                other => return Err(format!("{name}: {other:?}")),
            };
            // Read before anything else: the process is idle, polling for its next event.
            let cpu = function.cpu_ms().ok_or("no schedstat")?;
            let (status, body) = response_status_and_body(&invocation.body);
            expect_status(name, status, want, &body)?;
            let first_next = function.emulator.first_next().ok_or("no poll")?;
            let waited = proxy_call(proxy, "GET", "/__busy")?["busy_ms"]
                .as_f64()
                .ok_or("the proxy gave no busy_ms")?;
            calls[i] = proxy_call(proxy, "GET", "/__counts")?;
            if run > 0 {
                let total = ms(invocation.done - function.spawned);
                totals[i].push(total);
                waits[i].push(waited);
                owns[i].push(total - waited);
                cpus[i].push(cpu);
                inits[i].push(ms(first_next - function.spawned));
                invokes[i].push(invocation.millis());
            }
        }
    }
    let mut out = Map::new();
    for (i, name) in names.iter().enumerate() {
        out.insert(
            (*name).to_owned(),
            json!({
                "runs": totals[i].len(),
                "total_ms": median(&totals[i]),
                "init_ms": median(&inits[i]),
                "invoke_ms": median(&invokes[i]),
                "aws_wait_ms": median(&waits[i]),
                "own_ms": median(&owns[i]),
                "cpu_ms": median(&cpus[i]),
                "calls": calls[i],
                "total_ms_all": totals[i],
            }),
        );
    }
    Ok(Value::Object(out))
}

fn warm(paths: &Paths, iterations: usize) -> Result<Value> {
    let start = Function::spawn(&paths.binary("start"), "start", None, &paths.log)?;
    let send = Function::spawn(&paths.binary("send"), "send", None, &paths.log)?;
    let login = Function::spawn(&paths.binary("login"), "login", None, &paths.log)?;
    let refresh = Function::spawn(&paths.binary("refresh"), "refresh", None, &paths.log)?;
    let jwks = Function::spawn(&paths.binary("jwks"), "jwks", None, &paths.log)?;
    for f in [&start, &send, &login, &refresh, &jwks] {
        f.ready()?;
    }
    let mut times: [Vec<f64>; 5] = Default::default();
    // Answers other than 200 (moto, single-threaded on a busy machine, can time out) are
    // counted, not fatal: the loop is about the functions' memory and warm times.
    let mut failures = [0usize; 5];
    let jwks_event = get_event("/.well-known/jwks.json", "", &[]);
    let began = Instant::now();
    for _ in 0..iterations {
        let (inv, status, body) = start.invoke(&start_event(None))?;
        times[0].push(inv.millis());
        let Some(code) = body["code"].as_str().filter(|_| status == 200) else {
            failures[0] += 1;
            continue;
        };
        let code = code.to_owned();
        let (inv, status, _) = send.invoke(&send_event(&code))?;
        times[1].push(inv.millis());
        failures[1] += usize::from(status != 200);
        let (inv, status, body) = login.invoke(&login_event(&code, None))?;
        times[2].push(inv.millis());
        failures[2] += usize::from(status != 200);
        if let Some(token) = body["refreshToken"].as_str() {
            let (inv, status, _) = refresh.invoke(&refresh_event(token))?;
            times[3].push(inv.millis());
            failures[3] += usize::from(status != 200);
        }
        let (inv, status, _) = jwks.invoke(&jwks_event)?;
        times[4].push(inv.millis());
        failures[4] += usize::from(status != 200);
    }
    let elapsed = began.elapsed();
    let mut out = Map::new();
    for (i, f) in [&start, &send, &login, &refresh, &jwks].iter().enumerate() {
        if times[i].len() < 2 {
            return Err(format!("{}: too few successful invocations", f.name));
        }
        let (hwm, rss) = f.memory_kib().ok_or("no /proc status")?;
        let warm = median(&times[i][1..]);
        out.insert(
            f.name.clone(),
            json!({
                "iterations": times[i].len(),
                "failures": failures[i],
                "first_ms": times[i][0],
                "second_ms": times[i].get(1),
                "next_20_median_ms": median(&times[i][1..times[i].len().min(21)]),
                "warm_median_ms": warm,
                "vm_hwm_kib": hwm,
                "vm_rss_kib": rss,
            }),
        );
    }
    out.insert("elapsed_s".into(), json!(elapsed.as_secs_f64()));
    Ok(Value::Object(out))
}

/// A tiny HTTP/1.0 client for the counting proxy's own endpoints.
fn proxy_call(proxy: &str, method: &str, path: &str) -> Result<Value> {
    let authority = proxy.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).map_err(|e| format!("proxy: {e}"))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Length: 0\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("{}");
    serde_json::from_str(body).map_err(|e| format!("proxy answer: {e}: {body}"))
}

/// A measured request's row: its status, and what the proxy saw since its last reset (`calls`,
/// `waves`, `waves_all`, `wcu`, `rcu`, `writes`: bench/count_proxy.py).
fn stats_row(proxy: &str, status: u16) -> Result<Value> {
    let mut row = proxy_call(proxy, "GET", "/__stats")?;
    row["status"] = json!(status);
    Ok(row)
}

fn trips(paths: &Paths, proxy: &str) -> Result<Value> {
    // Every counted request's DynamoDB capacity too (the proxy reads the items it touches).
    proxy_call(proxy, "POST", "/__capacity?on=1")?;
    let start = Function::spawn(&paths.binary("start"), "start", Some(proxy), &paths.log)?;
    let send = Function::spawn(&paths.binary("send"), "send", Some(proxy), &paths.log)?;
    let login = Function::spawn(&paths.binary("login"), "login", Some(proxy), &paths.log)?;
    let tokens: Vec<Function> = TOKEN_FUNCTIONS
        .iter()
        .map(|name| Function::spawn(&paths.binary(name), name, Some(proxy), &paths.log))
        .collect::<Result<_>>()?;
    let landing = Function::spawn(&paths.binary("landing"), "landing", Some(proxy), &paths.log)?;
    let token = Function::spawn(&paths.binary("token"), "token", Some(proxy), &paths.log)?;
    let provider: Vec<Function> = hosted::HOSTED_FUNCTIONS
        .iter()
        .map(|name| Function::spawn(&paths.binary(name), name, Some(proxy), &paths.log))
        .collect::<Result<_>>()?;
    let user_functions: Vec<Function> = users::USER_FUNCTIONS
        .iter()
        .map(|name| Function::spawn(&paths.binary(name), name, Some(proxy), &paths.log))
        .collect::<Result<_>>()?;
    for f in [&start, &send, &login, &landing, &token]
        .into_iter()
        .chain(&tokens)
        .chain(&provider)
        .chain(&user_functions)
    {
        f.ready()?;
    }
    let journey = hosted::Hosted {
        authorize: &provider[0],
        wait: &provider[1],
        userinfo: &provider[2],
        logout: &provider[3],
        api_logout: &provider[4],
        landing: &landing,
        token: &token,
    };
    // The hosted pages warm: one whole journey, uncounted.
    hosted::journey(&journey, proxy)?;
    // The landing page and the token endpoint warm: two whole journeys.
    for _ in 0..2 {
        let code = mint_authorization_code(&start, &landing)?;
        token.invoke(&bench::token_event(&code))?;
    }
    // Each token function warm: two invocations first, as a warm container has served others.
    for (name, function) in TOKEN_FUNCTIONS.iter().zip(&tokens) {
        for _ in 0..2 {
            function.invoke(&token_event(name, &start, &login)?)?;
        }
    }
    // Warm caches and connections: two full rounds, and each failure path once.
    for _ in 0..2 {
        let (code, _) = mint(&start, None)?;
        send.invoke(&send_event(&code))?;
        login.invoke(&login_event(&code, None))?;
        login.invoke(&login_event(
            "not-a-code-0000000000000000000000000000000",
            None,
        ))?;
    }
    // The magic link: open (the page), click (the login and the authorization code), exchange;
    // counted here, added to the table at the end (the closure above holds it until then).
    let mut oauth_rows = Vec::new();
    let mut counted = |label: &str, f: &Function, event: &Value, want: u16| -> Result<Vec<u8>> {
        proxy_call(proxy, "POST", "/__reset")?;
        let (invocation, status, _) = f.invoke(event)?;
        expect_status(label, status, want, &Value::Null)?;
        oauth_rows.push((label.to_owned(), stats_row(proxy, status)?));
        Ok(invocation.body)
    };
    let (_, status, body) = start.invoke(&bench::oauth_start_event())?;
    expect_status("start (OAuth)", status, 200, &body)?;
    let code = body["code"].as_str().ok_or("no code")?.to_owned();
    let page = counted(
        "landing (open)",
        &landing,
        &bench::landing_event(&code),
        200,
    )?;
    let csrf = csrf_of(&page).ok_or("the page set no CSRF cookie")?;
    let clicked = counted(
        "landing (click)",
        &landing,
        &bench::click_event(&code, &csrf, &page),
        wanted("landing (click)"),
    )?;
    let authorization_code = authorization_code_of(&clicked)?;
    counted(
        "token (authorization code)",
        &token,
        &bench::token_event(&authorization_code),
        200,
    )?;
    let mut out = Map::new();
    let mut measure = |label: &str, f: &Function, event: &Value, want: u16| -> Result<Value> {
        proxy_call(proxy, "POST", "/__reset")?;
        let (_, status, body) = f.invoke(event)?;
        expect_status(label, status, want, &body)?;
        out.insert(label.to_owned(), stats_row(proxy, status)?);
        Ok(body)
    };
    let body = measure("start", &start, &start_event(None), 200)?;
    let code = body["code"].as_str().ok_or("no code")?.to_owned();
    measure("send (email)", &send, &send_event(&code), 200)?;
    measure("login (success)", &login, &login_event(&code, None), 200)?;
    let body = measure(
        "start (FormField)",
        &start,
        &start_event(Some("FormField")),
        200,
    )?;
    let code = body["code"].as_str().ok_or("no code")?.to_owned();
    let otc = body["oneTimeCode"].as_str().unwrap_or("000000");
    let wrong = if otc == "000000" { "111111" } else { "000000" };
    measure(
        "login (wrong one-time code)",
        &login,
        &login_event(&code, Some(wrong)),
        404,
    )?;
    measure(
        "login (one-time code)",
        &login,
        &login_event(&code, Some(otc)),
        200,
    )?;
    measure(
        "login (unknown code)",
        &login,
        &login_event("unknown-code-000000000000000000000000000000", None),
        404,
    )?;
    for (name, function) in TOKEN_FUNCTIONS.iter().zip(&tokens) {
        let event = token_event(name, &start, &login)?;
        measure(name, function, &event, 200)?;
    }
    let invalid = |path: &str, headers: &[(&str, &str)]| bench::event(path, headers, &json!({}));
    measure(
        "start (invalid body)",
        &start,
        &invalid(
            "/api/passwordless/start",
            &[("authorization", bench::API_KEY)],
        ),
        400,
    )?;
    measure(
        "send (invalid body)",
        &send,
        &invalid("/api/passwordless/send", &[]),
        400,
    )?;
    measure(
        "login (invalid body)",
        &login,
        &invalid("/api/passwordless/login", &[]),
        400,
    )?;
    out.extend(oauth_rows);
    out.extend(hosted::journey(&journey, proxy)?);
    let user_apis = users::Users {
        user: &user_functions[0],
        registration: &user_functions[1],
        import: &user_functions[2],
    };
    out.extend(users::calls(&user_apis, proxy)?);
    proxy_call(proxy, "POST", "/__capacity?on=0")?;
    Ok(Value::Object(out))
}

fn usage() -> String {
    "usage: coldstart cold BIN_DIR HELLO RUNS PROXY_URL | warm BIN_DIR ITERATIONS \
     | trips BIN_DIR PROXY_URL | journeys BIN_DIR PROXY_URL"
        .into()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let log =
        PathBuf::from(std::env::var("BENCH_FUNCTION_LOG").unwrap_or_else(|_| "/dev/null".into()));
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["cold", bin_dir, hello, runs, proxy] => {
            runs.parse().map_err(|_| usage()).and_then(|runs| {
                let paths = Paths {
                    bin_dir: bin_dir.into(),
                    log,
                };
                cold(&paths, Path::new(hello), runs, proxy)
            })
        }
        ["warm", bin_dir, iterations] => iterations.parse().map_err(|_| usage()).and_then(|n| {
            let paths = Paths {
                bin_dir: bin_dir.into(),
                log,
            };
            warm(&paths, n)
        }),
        ["trips", bin_dir, proxy] => {
            let paths = Paths {
                bin_dir: bin_dir.into(),
                log,
            };
            trips(&paths, proxy)
        }
        ["journeys", bin_dir, proxy] => {
            let paths = Paths {
                bin_dir: bin_dir.into(),
                log,
            };
            journeys::measure(&paths, proxy)
        }
        _ => Err(usage()),
    };
    match result {
        Ok(value) => println!("{value}"),
        Err(error) => {
            eprintln!("coldstart: {error}");
            std::process::exit(1);
        }
    }
}

/// The authorization code a landing click's redirect carries (`Location: …?code=…`).
fn authorization_code_of(clicked: &[u8]) -> Result<String> {
    let response: Value = serde_json::from_slice(clicked).unwrap_or(Value::Null);
    Ok(response["headers"]["location"]
        .as_str()
        .and_then(|l| l.split(['?', '&']).find_map(|p| p.strip_prefix("code=")))
        .ok_or("the click did not redirect with a code")?
        .to_owned())
}
