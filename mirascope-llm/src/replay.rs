//! A loopback HTTP server that replays recorded provider exchanges (feature `replay`).
//!
//! Point a provider at [`ReplayServer::base_url`] and calls go over real HTTP to recorded
//! answers: JSON bodies, SSE streams (served as recorded), and error statuses. The server keeps
//! every request it received, so tests can compare what the client sent with the recording.
//!
//! ```
//! use mirascope_llm::replay::{Exchange, Matching, ReplayServer};
//! let exchange: Exchange = serde_json::from_value(serde_json::json!({
//!     "request": {"method": "POST", "path": "/v1/responses", "json": {"model": "gpt-4o-mini"}},
//!     "response": {"status": 200, "headers": {"content-type": "application/json"}, "json": {"ok": true}}
//! })).unwrap();
//! let server = ReplayServer::start(vec![exchange], Matching::Sequential).unwrap();
//! assert!(server.base_url().starts_with("http://127.0.0.1:"));
//! ```
//!
//! Layer: test support (feature `replay`; the crate docs list the layers).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// `POST`, ...
    pub method: String,
    /// Path and query, from the server root.
    pub path: String,
    /// The JSON body.
    #[serde(default)]
    pub json: Option<Value>,
}

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers (at least `content-type`).
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// A JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// An SSE body, served as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<String>,
    /// Wait this long before answering (to exercise timeouts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

/// One request and the answer to give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// What was asked.
    pub request: RecordedRequest,
    /// What to answer.
    pub response: RecordedResponse,
}

/// How requests are paired with exchanges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    /// The i-th request gets the i-th exchange, whatever it asks (retries included).
    Sequential,
    /// Each request gets the first unused exchange with the same method, path and JSON body
    /// (compared as JSON values, so key order does not matter).
    ByRequest,
    /// Every request gets the answers in turn, starting over at the end (load tests, benches).
    Repeat,
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    /// The method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The headers (names lowercase).
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Bytes,
}

impl ReceivedRequest {
    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    exchanges: Vec<Exchange>,
    used: Vec<bool>,
    matching: Matching,
    received: Vec<ReceivedRequest>,
    /// Requests served (the received list stops growing at [`MAX_KEPT`] in `Repeat` mode).
    count: usize,
}

/// How many requests a `Repeat` server keeps for inspection.
const MAX_KEPT: usize = 10_000;

/// The running server; stops when dropped.
pub struct ReplayServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for ReplayServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl ReplayServer {
    /// Starts serving `exchanges` on `127.0.0.1` (a free port), on a thread of its own.
    pub fn start(exchanges: Vec<Exchange>, matching: Matching) -> std::io::Result<Self> {
        let used = vec![false; exchanges.len()];
        let state = Arc::new(Mutex::new(State {
            exchanges,
            used,
            matching,
            received: Vec::new(),
            count: 0,
        }));
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let thread_state = state.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("mirascope-replay".into())
            .spawn(move || {
                runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else { return };
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let _ = stream.set_nodelay(true);
                            let state = thread_state.clone();
                            tokio::spawn(async move {
                                let service = service_fn(move |req| handle(state.clone(), req));
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
            });
            })?;
        Ok(ReplayServer {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.state
            .lock()
            .map(|s| s.received.clone())
            .unwrap_or_default()
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn error_response(status: u16, message: String) -> hyper::Response<Full<Bytes>> {
    let body = serde_json::json!({"error": {"type": "replay_error", "message": message}});
    let mut resp = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

/// A short description of where two JSON values differ (for "no recording matches" errors).
pub fn json_diff(expected: &Value, actual: &Value) -> Vec<String> {
    fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) => walk(&format!("{path}.{k}"), v, w, out),
                        None => {
                            out.push(format!("{path}.{k}: only in expected ({})", show_value(v)))
                        }
                    }
                }
                for (k, v) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                    out.push(format!("{path}.{k}: only in actual ({})", show_value(v)));
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    walk(&format!("{path}[{i}]"), v, w, out);
                }
            }
            _ if a == b => {}
            _ => out.push(format!("{path}: {}", show_difference(a, b))),
        }
    }
    let mut out = Vec::new();
    walk("$", expected, actual, &mut out);
    out
}

/// How many characters of a value a diff shows.
const SHOWN_CHARS: usize = 120;

/// A value for a diff line: its JSON, cut to about 120 characters with its full length shown
/// (base64 images, long prompts).
pub fn show_value(v: &Value) -> String {
    let text = v.to_string();
    let count = text.chars().count();
    if count <= SHOWN_CHARS {
        return text;
    }
    let head: String = text.chars().take(SHOWN_CHARS).collect();
    format!("{head}... ({count} chars)")
}

/// `expected X, got Y` for a diff line; long values are cut around the first character where
/// they differ, and that offset is named.
pub fn show_difference(expected: &Value, actual: &Value) -> String {
    let (e, a) = (expected.to_string(), actual.to_string());
    if e.chars().count() <= SHOWN_CHARS && a.chars().count() <= SHOWN_CHARS {
        return format!("expected {e}, got {a}");
    }
    let (ec, ac): (Vec<char>, Vec<char>) = (e.chars().collect(), a.chars().collect());
    let first = ec.iter().zip(&ac).take_while(|(x, y)| x == y).count();
    let start = first.saturating_sub(40);
    let cut = |c: &[char]| -> String {
        let end = (start + SHOWN_CHARS).min(c.len());
        let mut s: String = c[start.min(c.len())..end].iter().collect();
        if start > 0 {
            s.insert_str(0, "...");
        }
        if end < c.len() {
            s.push_str("...");
        }
        s
    };
    format!(
        "first difference at character {first}; expected ({} chars) {}, got ({} chars) {}",
        ec.len(),
        cut(&ec),
        ac.len(),
        cut(&ac)
    )
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Ok(error_response(
                400,
                format!("cannot read request body: {e}"),
            ))
        }
    };
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    let chosen = {
        let Ok(mut s) = state.lock() else {
            return Ok(error_response(500, "replay state poisoned".into()));
        };
        let seq = s.count;
        s.count += 1;
        if s.matching != Matching::Repeat || s.received.len() < MAX_KEPT {
            s.received.push(ReceivedRequest {
                method: method.clone(),
                path: path.clone(),
                headers,
                body,
            });
        }
        let index = match s.matching {
            Matching::Sequential => (seq < s.exchanges.len()).then_some(seq),
            Matching::Repeat => {
                let n = s.exchanges.len();
                (n > 0).then(|| seq % n)
            }
            Matching::ByRequest => s.exchanges.iter().enumerate().position(|(i, e)| {
                !s.used[i]
                    && e.request.method.eq_ignore_ascii_case(&method)
                    && e.request.path == path
                    && e.request.json == json
            }),
        };
        match index {
            Some(i) => {
                s.used[i] = s.matching != Matching::Repeat;
                Ok(s.exchanges[i].response.clone())
            }
            None => {
                let nearest = s
                    .exchanges
                    .iter()
                    .min_by_key(|e| {
                        let path_penalty = usize::from(e.request.path != path) * 1000;
                        let diffs = match (&e.request.json, &json) {
                            (Some(a), Some(b)) => json_diff(a, b).len(),
                            _ => 100,
                        };
                        path_penalty + diffs
                    })
                    .map(|e| {
                        let diff = match (&e.request.json, &json) {
                            (Some(a), Some(b)) => json_diff(a, b).join("; "),
                            _ => String::new(),
                        };
                        format!(
                            "nearest recorded request: {} {} ({diff})",
                            e.request.method, e.request.path
                        )
                    })
                    .unwrap_or_else(|| "there are no recorded exchanges".into());
                Err(format!(
                    "no recorded exchange matches {method} {path}; {nearest}"
                ))
            }
        }
    };
    let recorded = match chosen {
        Ok(r) => r,
        // 404 (not a 5xx): a missing recording must not be retried.
        Err(message) => return Ok(error_response(404, message)),
    };
    if let Some(ms) = recorded.delay_ms {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let body = match (&recorded.json, &recorded.sse) {
        (_, Some(sse)) => Bytes::from(sse.clone()),
        (Some(j), None) => Bytes::from(j.to_string()),
        (None, None) => Bytes::new(),
    };
    let mut resp = hyper::Response::new(Full::new(body));
    *resp.status_mut() = hyper::StatusCode::from_u16(recorded.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in &recorded.headers {
        if let (Ok(name), Some(Ok(value))) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            v.as_str().map(hyper::header::HeaderValue::from_str),
        ) {
            resp.headers_mut().insert(name, value);
        }
    }
    Ok(resp)
}
