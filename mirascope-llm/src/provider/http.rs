//! The shared HTTP plumbing: one client on one background runtime, retries, timeouts, error
//! mapping, and SSE framing.
//!
//! All provider I/O runs on a small tokio runtime owned by this crate (threads named
//! `mirascope-http`). Futures returned to the user only await a join handle or a channel, so they
//! work under any executor, and the blocking API needs no runtime from the caller. One pooled
//! `reqwest::Client` lives on that runtime, so connections are reused across calls and never
//! outlive the runtime that drives them.
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

use std::sync::OnceLock;
use std::time::Duration;

use backon::Retryable;
use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::retry::{parse_retry_after, RetryPolicy};
pub(crate) use super::sse::SseEvent;
use super::sse::{SseDecoder, SseError};
use super::WireFormat;
use crate::error::{excerpt, ApiError, Error, Result};

/// Per-call transport options.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CallOptions {
    pub retry: RetryPolicy,
    /// The deadline of one attempt of a call: the whole request and answer.
    pub timeout: Duration,
    /// The deadline of one attempt of a stream until the answer's head arrives.
    pub stream_head_timeout: Duration,
    /// The deadline of a whole stream, from its request to its last event (`None`: none).
    pub stream_deadline: Option<Duration>,
    /// The longest wait for the next bytes of an answer (calls) or the next event (streams).
    pub idle_timeout: Duration,
    /// The most bytes one answer may have (a call's body, or all of a stream's events).
    pub max_response_bytes: u64,
    /// The most bytes one streamed event (or one line of it) may have.
    pub max_event_bytes: u64,
}

/// The default deadline of one attempt of a call: 600 s, as the OpenAI and Anthropic SDKs (a
/// non-streamed answer's first byte comes when the whole answer is ready).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// The default time to the answer's head for a stream: 60 s (providers send a stream's head at
/// once, before generating).
pub const DEFAULT_STREAM_HEAD_TIMEOUT: Duration = Duration::from_secs(60);
/// The default deadline of a whole stream: 30 minutes, so that a server sending one event every
/// few seconds forever cannot hold a stream open forever. `Model::with_stream_deadline(None)`
/// lifts it.
pub const DEFAULT_STREAM_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// The default longest silence between an answer's bytes or events: 120 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The connect timeout of every request: 5 s, as the OpenAI and Anthropic SDKs.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The default of [`CallOptions::max_response_bytes`]: 64 MiB, far above any model answer
/// (a 1M-token answer is about 4 MiB of text) and far below what would hurt a service.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// The default of [`CallOptions::max_event_bytes`]: 16 MiB. The largest event a provider sends
/// is the final one that repeats the whole answer (OpenAI's `response.completed`), a few MiB for
/// the longest answers; a stream whose event passes this fails with `Error::EventTooLarge` as
/// soon as it does, instead of holding the bytes of an event that never ends.
pub const DEFAULT_MAX_EVENT_BYTES: u64 = 16 * 1024 * 1024;

/// Transport settings set on a provider registration or a model, each overriding the layer
/// below: built-in defaults, then the provider's, then the model's.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TransportOverrides {
    pub retry: Option<RetryPolicy>,
    pub timeout: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub max_response_bytes: Option<u64>,
    pub stream_deadline: Option<Option<Duration>>,
}

impl CallOptions {
    /// These options with the settings `o` makes.
    pub(crate) fn overlaid(mut self, o: &TransportOverrides) -> Self {
        if let Some(r) = &o.retry {
            self.retry = r.clone();
        }
        if let Some(t) = o.timeout {
            // A timeout set by the program bounds the whole answer, calls and streams alike
            // (head included): the meaning `with_timeout` has always had.
            self.timeout = t;
            self.stream_head_timeout = t;
            self.stream_deadline = Some(self.stream_deadline.map_or(t, |d| d.min(t)));
        }
        if let Some(d) = o.stream_deadline {
            self.stream_deadline = d;
        }
        if let Some(t) = o.idle_timeout {
            self.idle_timeout = t;
        }
        if let Some(b) = o.max_response_bytes {
            self.max_response_bytes = b;
        }
        self
    }
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions {
            retry: RetryPolicy::default(),
            timeout: DEFAULT_TIMEOUT,
            stream_head_timeout: DEFAULT_STREAM_HEAD_TIMEOUT,
            stream_deadline: Some(DEFAULT_STREAM_DEADLINE),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

/// One request, ready to send.
pub(crate) struct HttpRequest {
    pub provider_id: String,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub wire: &'static dyn WireFormat,
    pub options: CallOptions,
    /// The API key the request carries, redacted from every error built from provider text.
    pub secret: Option<crate::registry::ApiKey>,
}

/// The events of a streamed answer, fed by a task on the background runtime. Dropping it stops
/// the task and closes the connection.
pub(crate) struct EventStream {
    rx: mpsc::Receiver<Result<SseEvent>>,
    task: tokio::task::AbortHandle,
    secret: Option<crate::registry::ApiKey>,
}

impl EventStream {
    /// The next event; `None` when the server closed the stream.
    pub fn poll_next(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<SseEvent>>> {
        self.rx.poll_recv(cx)
    }

    /// `err` (from decoding this stream's events) with the request's API key redacted.
    pub fn redact(&self, err: Error) -> Error {
        err.redacted(self.secret.as_ref())
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Transport {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

static TRANSPORT: OnceLock<std::result::Result<Transport, String>> = OnceLock::new();

/// Builds the HTTP runtime and client (TLS roots included, about 100 ms) now, once, so that no
/// call pays for them inside its span: called by `Provider::register` and by `mirascope-ops`'
/// `configure`, at set-up. Later calls return at once.
pub fn warm_up() {
    let _ = transport();
}

/// The transport, built now if it was not (before a call starts its span, so the span and the
/// call's duration do not include building it).
pub(crate) fn ready() -> Result<()> {
    transport().map(|_| ())
}

fn transport() -> Result<&'static Transport> {
    TRANSPORT
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("mirascope-http")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the HTTP runtime: {e}"))?;
            let client = reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .tcp_nodelay(true)
                .user_agent(concat!("mirascope-rs/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
            Ok(Transport { runtime, client })
        })
        .as_ref()
        .map_err(|e| Error::Runtime(e.clone()))
}

/// Builds the header map of a request.
pub(crate) fn headers(pairs: &[(&str, &str)]) -> Result<HeaderMap> {
    // Room for `content-type` and the two trace-context headers added after.
    let mut map = HeaderMap::with_capacity(pairs.len() + 3);
    map.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (k, v) in pairs {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| Error::InvalidRequest(format!("invalid header name {k:?}")))?;
        // The value may be a secret: never echo it in the error.
        let mut value = HeaderValue::from_str(v)
            .map_err(|_| Error::InvalidRequest(format!("invalid value for header {k:?}")))?;
        if name == http::header::AUTHORIZATION || k.contains("key") {
            value.set_sensitive(true);
        }
        map.insert(name, value);
    }
    Ok(map)
}

/// Adds the W3C trace-context headers (`traceparent`, `tracestate`) to `map`. Their names are
/// known, and the values move into the map without a copy; a value that is not a valid header
/// value (a `tracestate` another service set, say) is left out.
pub(crate) fn add_trace_context(map: &mut HeaderMap, cx: crate::genai::TraceContext) {
    let headers = [
        ("traceparent", Some(cx.traceparent)),
        ("tracestate", cx.tracestate),
    ];
    for (name, value) in headers {
        let Some(value) = value else { continue };
        if let Ok(value) = HeaderValue::from_maybe_shared(Bytes::from(value)) {
            map.insert(HeaderName::from_static(name), value);
        }
    }
}

fn map_reqwest_error(provider: &str, timeout: Duration, e: reqwest::Error) -> Error {
    if e.is_builder() {
        // A request that cannot be built is not a connection problem: no retry can fix it.
        return Error::InvalidRequest(format!(
            "provider '{provider}': the request cannot be built: {e}"
        ));
    }
    if e.is_timeout() {
        return Error::Timeout {
            provider: provider.to_string(),
            after: timeout,
        };
    }
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::Connection {
        provider: provider.to_string(),
        message,
    }
}

/// Builds the typed error of an HTTP error answer.
pub(crate) fn api_error(
    wire: &dyn WireFormat,
    provider: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let details = parsed
        .as_ref()
        .map(|b| wire.error_details(b))
        .unwrap_or_default();
    let request_id = ["x-request-id", "request-id"]
        .iter()
        .find_map(|h| {
            headers
                .get(*h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .or_else(|| {
            parsed
                .as_ref()
                .and_then(|b| b.get("request_id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let class = wire.error_class(provider, status, &details, &String::from_utf8_lossy(body));
    Error::Api(Box::new(ApiError {
        provider: provider.to_string(),
        status,
        error_type: details.error_type,
        code: details.code,
        message: details.message,
        body_excerpt: excerpt(body),
        body: parsed,
        retry_after: parse_retry_after(headers),
        request_id,
        class,
    }))
}

async fn send_once(
    client: &reqwest::Client,
    req: &HttpRequest,
    whole_timeout: bool,
) -> Result<reqwest::Response> {
    let mut builder = client
        .post(&req.url)
        .headers(req.headers.clone())
        .body(req.body.clone());
    if whole_timeout {
        builder = builder.timeout(req.options.timeout);
    }
    let send = builder.send();
    // For streams this attempt's deadline covers the wait for the response head.
    let resp = if whole_timeout {
        send.await
    } else {
        let head = req.options.stream_head_timeout;
        match tokio::time::timeout(head, send).await {
            Ok(r) => r,
            Err(_) => {
                return Err(Error::Timeout {
                    provider: req.provider_id.clone(),
                    after: head,
                })
            }
        }
    }
    .map_err(|e| map_reqwest_error(&req.provider_id, req.options.timeout, e))?;
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(resp);
    }
    let headers = resp.headers().clone();
    let body = read_body(resp, req, MAX_ERROR_BODY_BYTES, PastLimit::Truncate)
        .await
        .unwrap_or_default();
    Err(api_error(
        req.wire,
        &req.provider_id,
        status,
        &headers,
        &body,
    ))
}

/// Runs `op` with the request's retry policy, within its total deadline.
async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    provider_default: usize,
    provider: &str,
    op: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let max_retry_after = policy.max_retry_after;
    let attempts = op
        .retry(policy.backoff(provider_default))
        .sleep(tokio::time::sleep)
        .when(Error::is_retryable)
        .adjust(move |e: &Error, dur| match e.retry_after() {
            Some(ra) if ra > max_retry_after => None,
            Some(ra) => dur.map(|_| ra),
            None => dur,
        });
    match tokio::time::timeout(policy.total_deadline, attempts).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout {
            provider: provider.to_string(),
            after: policy.total_deadline,
        }),
    }
}

/// Sends a request and returns the whole body of the successful answer.
pub(crate) async fn send(req: HttpRequest) -> Result<Bytes> {
    let t = transport()?;
    let client = t.client.clone();
    let handle = t.runtime.spawn(async move {
        with_retries(
            &req.options.retry,
            req.wire.default_retries(),
            &req.provider_id,
            || async {
                let resp = send_once(&client, &req, true).await?;
                read_body(resp, &req, req.options.max_response_bytes, PastLimit::Fail).await
            },
        )
        .await
        .map_err(|e| e.redacted(req.secret.as_ref()))
    });
    // Dropping the caller's future (a timeout, `select!`, an aborted task) aborts the request
    // and its retry loop.
    let _abort = AbortOnDrop(handle.abort_handle());
    handle
        .await
        .map_err(|e| Error::Runtime(format!("HTTP task failed: {e}")))?
}

/// What to do with the bytes of a body past its limit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PastLimit {
    /// An answer: fail with `ResponseTooLarge`.
    Fail,
    /// An error body: keep the first `limit` bytes (enough for any error message).
    Truncate,
}

/// The most bytes of an error body that are read (the rest is not needed to name the error).
const MAX_ERROR_BODY_BYTES: u64 = 1024 * 1024;

/// Reads a body, chunk by chunk, each within the idle timeout, never holding more than `limit`
/// bytes (checked against `Content-Length` first), so a hostile server can neither stall us nor
/// make us buffer without bound.
async fn read_body(
    mut resp: reqwest::Response,
    req: &HttpRequest,
    limit: u64,
    past: PastLimit,
) -> Result<Bytes> {
    let too_large = || Error::ResponseTooLarge {
        provider: req.provider_id.clone(),
        limit,
    };
    if past == PastLimit::Fail && resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = bytes::BytesMut::new();
    let idle = req.options.idle_timeout;
    loop {
        let next = tokio::time::timeout(idle, resp.chunk())
            .await
            .map_err(|_| Error::Timeout {
                provider: req.provider_id.clone(),
                after: idle,
            })?
            .map_err(|e| map_reqwest_error(&req.provider_id, req.options.timeout, e))?;
        let Some(chunk) = next else { break };
        let room = usize::try_from(limit.saturating_sub(body.len() as u64)).unwrap_or(usize::MAX);
        if chunk.len() > room {
            if past == PastLimit::Fail {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk[..room]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Aborts a transport task when the future awaiting it is dropped before it finished.
struct AbortOnDrop(tokio::task::AbortHandle);

impl AbortOnDrop {
    /// Lets the task run on (its result is handed on).
    fn disarm(self) -> tokio::task::AbortHandle {
        let handle = self.0.clone();
        std::mem::forget(self);
        handle
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends a streaming request. Resolves once the answer's head arrived (HTTP errors and retries
/// happen before), then yields its events.
pub(crate) async fn open_stream(req: HttpRequest) -> Result<EventStream> {
    let t = transport()?;
    let client = t.client.clone();
    let secret = req.secret.clone();
    let (head_tx, head_rx) = oneshot::channel::<Result<()>>();
    let (tx, rx) = mpsc::channel::<Result<SseEvent>>(64);
    let task = t.runtime.spawn(async move {
        // The whole stream's deadline counts from its request.
        let stream_deadline = req
            .options
            .stream_deadline
            .map(|d| (tokio::time::Instant::now() + d, d));
        let resp = match with_retries(
            &req.options.retry,
            req.wire.default_retries(),
            &req.provider_id,
            || send_once(&client, &req, false),
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                let _ = head_tx.send(Err(e.redacted(req.secret.as_ref())));
                return;
            }
        };
        if head_tx.send(Ok(())).is_err() {
            return;
        }
        let idle = req.options.idle_timeout;
        // All of a stream's bytes count against the answer limit; one event (or one line, for a
        // server that never ends it) against the event limit, checked as the bytes arrive.
        let limit = req.options.max_response_bytes;
        let event_limit =
            usize::try_from(req.options.max_event_bytes.min(limit)).unwrap_or(usize::MAX);
        let mut decoder = SseDecoder::new(event_limit);
        let mut body = resp.bytes_stream();
        let mut seen: u64 = 0;
        let mut ready: std::collections::VecDeque<SseEvent> = Default::default();
        let mut decoded = Vec::new();
        // The wait for the next event starts when the last one was handed on.
        let mut event_deadline = tokio::time::Instant::now() + idle;
        loop {
            let item = if let Some(ev) = ready.pop_front() {
                event_deadline = tokio::time::Instant::now() + idle;
                Ok(ev)
            } else {
                let (deadline, after) = match stream_deadline {
                    Some((end, whole)) if end < event_deadline => (end, whole),
                    _ => (event_deadline, idle),
                };
                let next = tokio::select! {
                    _ = tx.closed() => return,
                    next = tokio::time::timeout_at(deadline, body.next()) => next,
                };
                match next {
                    Err(_) => Err(Error::Timeout {
                        provider: req.provider_id.clone(),
                        after,
                    }),
                    Ok(None) => return,
                    Ok(Some(Err(e))) => Err(map_reqwest_error(&req.provider_id, idle, e)),
                    Ok(Some(Ok(chunk))) => {
                        seen = seen.saturating_add(chunk.len() as u64);
                        if seen > limit {
                            Err(Error::ResponseTooLarge {
                                provider: req.provider_id.clone(),
                                limit,
                            })
                        } else {
                            match decoder.feed(&chunk, &mut decoded) {
                                Ok(()) => {
                                    ready.extend(decoded.drain(..));
                                    continue;
                                }
                                Err(SseError::TooLarge { limit }) => Err(Error::EventTooLarge {
                                    provider: req.provider_id.clone(),
                                    limit: limit as u64,
                                }),
                                Err(SseError::NotUtf8) => Err(Error::malformed(
                                    &req.provider_id,
                                    "invalid event stream: a line is not UTF-8".to_string(),
                                    b"",
                                )),
                            }
                        }
                    }
                }
            };
            let item = item.map_err(|e| e.redacted(req.secret.as_ref()));
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                return;
            }
        }
    });
    // Dropped before the head arrived: the request and its retries are aborted.
    let guard = AbortOnDrop(task.abort_handle());
    let head = head_rx.await;
    let abort = guard.disarm();
    match head {
        Ok(Ok(())) => Ok(EventStream {
            rx,
            task: abort,
            secret,
        }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::Runtime(
            "HTTP stream task ended before answering".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_context_headers_join_the_request_headers() {
        let mut map = headers(&[("authorization", "Bearer sk-x")]).expect("headers");
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        add_trace_context(
            &mut map,
            crate::genai::TraceContext {
                traceparent: traceparent.to_string(),
                tracestate: Some("k=v".to_string()),
            },
        );
        assert_eq!(map["traceparent"], traceparent);
        assert_eq!(map["tracestate"], "k=v");
        assert!(map["authorization"].is_sensitive());
        assert_eq!(map.len(), 4, "content-type, authorization and the two");
    }

    /// A trace state that is not a valid header value (set by another service) is left out
    /// instead of failing the call.
    #[test]
    fn a_trace_state_that_is_no_header_value_is_left_out() {
        let mut map = headers(&[]).expect("headers");
        add_trace_context(
            &mut map,
            crate::genai::TraceContext {
                traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
                tracestate: Some("k=v\r\nx: y".into()),
            },
        );
        assert!(map.contains_key("traceparent"));
        assert!(!map.contains_key("tracestate"));
    }
}
