//! A local Lambda Runtime API (the interface a `provided.al2023` bootstrap polls), enough for one
//! function process at a time:
//!
//! - `GET /2018-06-01/runtime/invocation/next` blocks until an event is queued, then answers it
//!   with `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`, `-Invoked-Function-Arn`, `-Trace-Id`;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `.../{id}/error` complete it;
//! - `POST /2018-06-01/runtime/init/error` reports a failed init.
//!
//! Plain HTTP/1.1 over std threads (keep-alive, `Content-Length` or chunked bodies): nothing in
//! it competes with the measured process for more than a wake-up.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PREFIX: &str = "/2018-06-01/runtime/";

/// How an invocation ended.
#[derive(Debug)]
pub enum Outcome {
    Response(Invocation),
    Error(Invocation),
    InitError { body: Vec<u8> },
}

/// One completed invocation: the body the function posted, when the event was handed to it and
/// when its answer had arrived in full.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub body: Vec<u8>,
    pub handed: Instant,
    pub done: Instant,
}

impl Invocation {
    pub fn millis(&self) -> f64 {
        (self.done - self.handed).as_secs_f64() * 1000.0
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, Vec<u8>)>,
    handed: HashMap<String, Instant>,
    first_next: Option<Instant>,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    outcomes: Mutex<Sender<Outcome>>,
    function_name: String,
}

pub struct Emulator {
    port: u16,
    shared: Arc<Shared>,
    outcomes: Receiver<Outcome>,
    counter: AtomicU64,
}

impl Emulator {
    /// Listens on a free loopback port.
    pub fn start(function_name: &str) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let (tx, rx) = channel();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            outcomes: Mutex::new(tx),
            function_name: function_name.to_owned(),
        });
        let accept_shared = shared.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.state.lock().expect("state").closed {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let _ = stream.set_nodelay(true);
                let conn_shared = accept_shared.clone();
                thread::spawn(move || {
                    let _ = serve(stream, &conn_shared);
                });
            }
        });
        Ok(Self {
            port,
            shared,
            outcomes: rx,
            counter: AtomicU64::new(0),
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn runtime_api(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// When the function first asked for an event: the end of its init.
    pub fn first_next(&self) -> Option<Instant> {
        self.shared.state.lock().expect("state").first_next
    }

    /// Waits until the function has asked for its first event (its init is over).
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.state.lock().expect("state");
        while state.first_next.is_none() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .shared
                .wake
                .wait_timeout(state, deadline - now)
                .expect("state")
                .0;
        }
        true
    }

    /// Queues an event; the function gets it at its next poll.
    pub fn enqueue(&self, payload: &serde_json::Value) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let request_id = format!(
            "8f5e1c2a-0000-4000-8000-{:012x}",
            n + (u64::from(self.port) << 24)
        );
        let mut state = self.shared.state.lock().expect("state");
        state
            .queue
            .push_back((request_id.clone(), payload.to_string().into_bytes()));
        self.shared.wake.notify_all();
        request_id
    }

    /// The next outcome the function reports.
    pub fn outcome(&self, timeout: Duration) -> Result<Outcome, String> {
        match self.outcomes.recv_timeout(timeout) {
            Ok(outcome) => Ok(outcome),
            Err(RecvTimeoutError::Timeout) => Err(format!("no answer within {timeout:?}")),
            Err(RecvTimeoutError::Disconnected) => Err("the emulator stopped".into()),
        }
    }

    /// Queues an event and waits for its response.
    pub fn invoke(&self, payload: &serde_json::Value) -> Result<Invocation, String> {
        let id = self.enqueue(payload);
        match self.outcome(Duration::from_secs(30))? {
            Outcome::Response(inv) if inv.request_id == id => Ok(inv),
            Outcome::Response(inv) => Err(format!("a response for {}", inv.request_id)),
            Outcome::Error(inv) => Err(format!(
                "invocation error: {}",
                String::from_utf8_lossy(&inv.body)
            )),
            Outcome::InitError { body } => {
                Err(format!("init error: {}", String::from_utf8_lossy(&body)))
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.state.lock().expect("state").closed = true;
        self.shared.wake.notify_all();
        // Wakes the accept loop so that it sees `closed`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut content_length = 0usize;
    let mut chunked = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                && value.eq_ignore_ascii_case("chunked")
            {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size_text = line.trim().split(';').next().unwrap_or("0");
            let size = usize::from_str_radix(size_text, 16).unwrap_or(0);
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else {
        body.resize(content_length, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(Some(Request { method, path, body }))
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    stream.write_all(&out)?;
    stream.flush()
}

fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader)? {
        let done = Instant::now();
        let route = request.path.strip_prefix(PREFIX).unwrap_or_default();
        match (request.method.as_str(), route) {
            ("GET", "invocation/next") => {
                let (id, payload) = {
                    let mut state = shared.state.lock().expect("state");
                    if state.first_next.is_none() {
                        state.first_next = Some(Instant::now());
                        shared.wake.notify_all();
                    }
                    loop {
                        if state.closed {
                            return Ok(());
                        }
                        if let Some(next) = state.queue.pop_front() {
                            state.handed.insert(next.0.clone(), Instant::now());
                            break next;
                        }
                        state = shared.wake.wait(state).expect("state");
                    }
                };
                let deadline = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis()
                    + 30_000;
                let arn = format!(
                    "arn:aws:lambda:us-east-1:123456789012:function:{}",
                    shared.function_name
                );
                respond(
                    &mut writer,
                    "200 OK",
                    &[
                        ("Lambda-Runtime-Aws-Request-Id", id.clone()),
                        ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
                        ("Lambda-Runtime-Invoked-Function-Arn", arn),
                        (
                            "Lambda-Runtime-Trace-Id",
                            format!(
                                "Root=1-00000000-{};Parent=0000000000000001;Sampled=0",
                                &id[24..]
                            ),
                        ),
                    ],
                    &payload,
                )?;
            }
            ("POST", "init/error") => {
                respond(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#)?;
                let _ = shared
                    .outcomes
                    .lock()
                    .expect("outcomes")
                    .send(Outcome::InitError { body: request.body });
            }
            ("POST", route) if route.starts_with("invocation/") => {
                let rest = &route["invocation/".len()..];
                let (id, kind) = rest.split_once('/').unwrap_or((rest, ""));
                let handed = shared.state.lock().expect("state").handed.remove(id);
                let Some(handed) = handed else {
                    respond(
                        &mut writer,
                        "400 Bad Request",
                        &[],
                        br#"{"errorMessage":"unknown request id"}"#,
                    )?;
                    continue;
                };
                respond(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#)?;
                let invocation = Invocation {
                    request_id: id.to_owned(),
                    body: request.body,
                    handed,
                    done,
                };
                let outcome = if kind == "response" {
                    Outcome::Response(invocation)
                } else {
                    Outcome::Error(invocation)
                };
                let _ = shared.outcomes.lock().expect("outcomes").send(outcome);
            }
            _ => {
                respond(
                    &mut writer,
                    "404 Not Found",
                    &[],
                    br#"{"errorMessage":"not found"}"#,
                )?;
            }
        }
    }
    Ok(())
}
