//! Record/replay for your own tests (feature `replay`): run a test once against the live provider,
//! recording every exchange into a cassette file, then replay it offline, deterministically.
//!
//! ```no_run
//! # async fn test() -> Result<(), Box<dyn std::error::Error>> {
//! use mirascope_llm as llm;
//! // Replays tests/cassettes/capital.json; records it instead when MIRASCOPE_RECORD is set
//! // (to `1`, or to this cassette's path).
//! let _cassette = llm::cassette::Cassette::open("tests/cassettes/capital.json", "openai")?;
//! let response = llm::model("openai/gpt-4o-mini")?.call("What is the capital of France?").await?;
//! # Ok(()) }
//! ```
//!
//! Requests are matched on method, path and JSON body (as JSON values: key order does not
//! matter). A request with no recording fails with a clear error naming the nearest recorded
//! request and how it differs. Cassettes never contain headers, so API keys and auth headers are
//! never written.
//!
//! Layer: test support (record and replay, feature `replay`; the crate docs list the layers).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::registry;
use crate::replay::{Exchange, Matching, RecordedRequest, RecordedResponse, ReplayServer};

/// Record or replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward to the live provider and write every exchange to the cassette.
    Record,
    /// Answer from the cassette; unrecorded requests fail.
    Replay,
}

impl Mode {
    /// `Record` when `MIRASCOPE_RECORD` is `1`/`true`/`all` or names `path`, else `Replay`.
    pub fn from_env(path: &Path) -> Mode {
        match std::env::var("MIRASCOPE_RECORD") {
            Ok(v) if ["1", "true", "all"].contains(&v.trim().to_ascii_lowercase().as_str()) => {
                Mode::Record
            }
            Ok(v) if !v.trim().is_empty() && Path::new(v.trim()) == path => Mode::Record,
            _ => Mode::Replay,
        }
    }
}

/// The cassette file: `{"exchanges": [...]}`, the format of the conformance fixtures.
fn read(path: &Path) -> Result<Vec<Exchange>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::InvalidRequest(format!(
            "cannot read cassette {}: {e} (record it with MIRASCOPE_RECORD=1)",
            path.display()
        ))
    })?;
    parse(&text, path)
}

/// Parses a cassette's text (`path` only names it in errors). Anything that is not a cassette is
/// an `InvalidRequest` error, never a panic (fuzzed in `fuzz.rs`).
pub(crate) fn parse(text: &str, path: &Path) -> Result<Vec<Exchange>> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        Error::InvalidRequest(format!("cassette {} is not JSON: {e}", path.display()))
    })?;
    serde_json::from_value(
        v.get("exchanges")
            .cloned()
            .unwrap_or(Value::Array(Vec::new())),
    )
    .map_err(|e| {
        Error::InvalidRequest(format!(
            "cassette {} has malformed exchanges: {e}",
            path.display()
        ))
    })
}

/// A cassette in use: the provider points at it until it is dropped (recordings are written then).
pub struct Cassette {
    previous: Option<registry::ScopeSnapshot>,
    path: PathBuf,
    mode: Mode,
    replay: Option<ReplayServer>,
    recorder: Option<Recorder>,
}

impl std::fmt::Debug for Cassette {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cassette")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish()
    }
}

impl Cassette {
    /// Opens `path` for `provider` (`openai`, `anthropic`, `google`, ...) in the mode
    /// `MIRASCOPE_RECORD` selects.
    pub fn open(path: impl AsRef<Path>, provider: &str) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mode = Mode::from_env(&path);
        Self::with_mode(path, provider, mode)
    }

    /// Opens `path` for `provider` in `mode`.
    pub fn with_mode(path: impl AsRef<Path>, provider: &str, mode: Mode) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let scope = format!("{}/", provider.split(':').next().unwrap_or(provider));
        let upstream = registry::resolve_for(&format!("{scope}cassette"), false).ok();
        let default_base = upstream
            .as_ref()
            .map(|r| r.base_url.clone())
            .unwrap_or_default();
        let prefix = path_prefix(&default_base);
        let previous = Some(registry::snapshot_scope(&scope));
        match mode {
            Mode::Replay => {
                let server = ReplayServer::start(read(&path)?, Matching::ByRequest)
                    .map_err(|e| Error::Runtime(format!("replay server: {e}")))?;
                registry::Provider::new(provider)
                    .scope(scope.as_str())
                    .api_key("cassette-replay")
                    .base_url(format!("{}{prefix}", server.base_url()))
                    .register()?;
                Ok(Cassette {
                    previous,
                    path,
                    mode,
                    replay: Some(server),
                    recorder: None,
                })
            }
            Mode::Record => {
                let upstream = upstream.ok_or_else(|| {
                    Error::InvalidRequest(format!(
                        "cannot record: provider {provider} is not usable (is its API key set?)"
                    ))
                })?;
                let recorder = Recorder::start(origin(&upstream.base_url))?;
                let key = upstream.api_key.as_ref().map(|k| k.expose().to_string());
                let mut registration = registry::Provider::new(provider)
                    .scope(scope.as_str())
                    .base_url(format!("{}{prefix}", recorder.base_url()));
                if let Some(key) = key {
                    registration = registration.api_key(key);
                }
                registration.register()?;
                Ok(Cassette {
                    previous,
                    path,
                    mode,
                    replay: None,
                    recorder: Some(recorder),
                })
            }
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Writes the recorded exchanges now (also done on drop).
    pub fn save(&self) -> Result<()> {
        let Some(r) = &self.recorder else {
            return Ok(());
        };
        let exchanges = r.exchanges.lock().map(|e| e.clone()).unwrap_or_default();
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Runtime(format!("cannot create {}: {e}", dir.display())))?;
        }
        let text =
            serde_json::to_string_pretty(&json!({"exchanges": exchanges})).unwrap_or_default();
        std::fs::write(&self.path, text).map_err(|e| {
            Error::Runtime(format!(
                "cannot write cassette {}: {e}",
                self.path.display()
            ))
        })
    }
}

impl Drop for Cassette {
    fn drop(&mut self) {
        if let Err(e) = self.save() {
            tracing::error!(target: "mirascope_llm", "{e}");
        }
        drop(self.replay.take());
        drop(self.recorder.take());
        if let Some(p) = self.previous.take() {
            registry::restore_scope(p);
        }
    }
}

/// `https://api.openai.com/v1` -> `https://api.openai.com`.
fn origin(base: &str) -> String {
    match base.split_once("://") {
        Some((scheme, rest)) => {
            format!("{scheme}://{}", rest.split('/').next().unwrap_or_default())
        }
        None => base.to_string(),
    }
}

/// `https://api.openai.com/v1` -> `/v1`.
fn path_prefix(base: &str) -> String {
    base.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
        .unwrap_or_default()
}

/// A loopback proxy that forwards to the live provider and keeps every exchange.
struct Recorder {
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Recorder {
    fn start(upstream_origin: String) -> Result<Self> {
        let exchanges: Arc<Mutex<Vec<Exchange>>> = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Error::Runtime(e.to_string()))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::Runtime(e.to_string()))?;
        let base = format!(
            "http://{}",
            listener
                .local_addr()
                .map_err(|e| Error::Runtime(e.to_string()))?
        );
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let sink = exchanges.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Runtime(e.to_string()))?;
        let client = reqwest::Client::new();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let (sink, client, upstream) = (sink.clone(), client.clone(), upstream_origin.clone());
                            tokio::spawn(async move {
                                let service = hyper::service::service_fn(move |req| forward(req, client.clone(), upstream.clone(), sink.clone()));
                                let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), service).await;
                            });
                        }
                    }
                }
            });
        });
        Ok(Recorder {
            exchanges,
            base,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    fn base_url(&self) -> &str {
        &self.base
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn forward(
    req: hyper::Request<hyper::body::Incoming>,
    client: reqwest::Client,
    upstream: String,
    sink: Arc<Mutex<Vec<Exchange>>>,
) -> std::result::Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let mut headers = req.headers().clone();
    headers.remove(http::header::HOST);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let upstream_resp = client
        .request(method.clone(), format!("{upstream}{path}"))
        .headers(headers)
        .body(body.clone())
        .send()
        .await;
    let (status, content_type, bytes) = match upstream_resp {
        Ok(r) => {
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json")
                .to_string();
            (status, ct, r.bytes().await.unwrap_or_default())
        }
        Err(e) => (
            502,
            "application/json".to_string(),
            Bytes::from(
                json!({"error": {"type": "recording_error", "message": e.to_string()}}).to_string(),
            ),
        ),
    };
    let mut recorded_headers = Map::new();
    recorded_headers.insert("content-type".into(), Value::String(content_type.clone()));
    let is_sse = content_type.starts_with("text/event-stream");
    let response = RecordedResponse {
        status,
        headers: recorded_headers,
        json: if is_sse {
            None
        } else {
            serde_json::from_slice(&bytes).ok()
        },
        sse: is_sse.then(|| String::from_utf8_lossy(&bytes).into_owned()),
        delay_ms: None,
    };
    if let Ok(mut s) = sink.lock() {
        s.push(Exchange {
            request: RecordedRequest {
                method: method.to_string(),
                path,
                json: serde_json::from_slice(&body).ok(),
            },
            response,
        });
    }
    let mut resp = hyper::Response::new(Full::new(bytes));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    if let Ok(v) = http::HeaderValue::from_str(&content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts() {
        assert_eq!(
            origin("https://api.openai.com/v1"),
            "https://api.openai.com"
        );
        assert_eq!(path_prefix("https://api.openai.com/v1"), "/v1");
        assert_eq!(path_prefix("https://api.anthropic.com"), "");
        assert_eq!(Mode::from_env(Path::new("nope.json")), Mode::Replay);
    }
}
