//! Shared helpers of the behaviour tests: canned provider answers and replay servers.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mirascope::llm::replay::{Exchange, Matching, RecordedRequest, RecordedResponse, ReplayServer};
use mirascope::llm::{self, Model, RetryPolicy};
use serde_json::{json, Map, Value};

/// The model name the canned answers give (`model` / `modelVersion`), as providers name the
/// model that answered (`gpt-4o-mini-2024-07-18` for `gpt-4o-mini`).
pub const ANSWERING_MODEL: &str = "test-model-001";

/// The four wire formats under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Responses,
    Completions,
    Anthropic,
    Google,
}

pub const ALL: [Wire; 4] = [
    Wire::Responses,
    Wire::Completions,
    Wire::Anthropic,
    Wire::Google,
];

impl Wire {
    pub fn provider(self) -> &'static str {
        match self {
            Wire::Responses => "openai:responses",
            Wire::Completions => "openai:completions",
            Wire::Anthropic => "anthropic",
            Wire::Google => "google",
        }
    }

    /// The provider id recorded on spans and errors for a model of [`Wire::provider`]'s
    /// registration: the registered id (`openai:responses`, `openai:completions`), as
    /// Python's `OpenAIResponsesProvider.id` / `OpenAICompletionsProvider.id`.
    pub fn provider_id(self) -> &'static str {
        match self {
            Wire::Responses => "openai:responses",
            Wire::Completions => "openai:completions",
            Wire::Anthropic => "anthropic",
            Wire::Google => "google",
        }
    }

    pub fn path(self, stream: bool) -> String {
        match (self, stream) {
            (Wire::Responses, _) => "/v1/responses".into(),
            (Wire::Completions, _) => "/v1/chat/completions".into(),
            (Wire::Anthropic, _) => "/v1/messages".into(),
            (Wire::Google, false) => "/v1beta/models/test-model:generateContent".into(),
            (Wire::Google, true) => {
                "/v1beta/models/test-model:streamGenerateContent?alt=sse".into()
            }
        }
    }

    pub fn base_url(self, server: &ReplayServer) -> String {
        match self {
            Wire::Responses | Wire::Completions => format!("{}/v1", server.base_url()),
            Wire::Anthropic | Wire::Google => server.base_url(),
        }
    }

    /// A successful answer with `text`.
    pub fn text_body(self, text: &str) -> Value {
        match self {
            Wire::Responses => {
                json!({"id": "resp_1", "object": "response", "status": "completed", "model": ANSWERING_MODEL, "output": [{"id": "msg_1", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": text, "annotations": []}]}], "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}})
            }
            Wire::Completions => {
                json!({"id": "chatcmpl-1", "object": "chat.completion", "model": ANSWERING_MODEL, "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
            }
            Wire::Anthropic => {
                json!({"id": "msg_1", "type": "message", "role": "assistant", "model": ANSWERING_MODEL, "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 2}})
            }
            Wire::Google => {
                json!({"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2}, "modelVersion": ANSWERING_MODEL})
            }
        }
    }

    /// A streamed answer: `pieces` of text, complete unless `truncate`.
    pub fn sse_body(self, pieces: &[&str], truncate: bool) -> String {
        let mut frames: Vec<(Option<&str>, Value)> = Vec::new();
        match self {
            Wire::Responses => {
                frames.push((
                    Some("response.created"),
                    json!({"type": "response.created", "response": {"id": "resp_s", "model": ANSWERING_MODEL}}),
                ));
                frames.push((Some("response.content_part.added"), json!({"type": "response.content_part.added", "item_id": "msg_1", "part": {"type": "output_text", "text": ""}})));
                for p in pieces {
                    frames.push((Some("response.output_text.delta"), json!({"type": "response.output_text.delta", "item_id": "msg_1", "delta": p})));
                }
                if !truncate {
                    frames.push((
                        Some("response.content_part.done"),
                        json!({"type": "response.content_part.done", "item_id": "msg_1"}),
                    ));
                    frames.push((Some("response.completed"), json!({"type": "response.completed", "response": {"id": "resp_s", "usage": {"input_tokens": 3, "output_tokens": 2}}})));
                }
            }
            Wire::Completions => {
                for p in pieces {
                    frames.push((None, json!({"id": "chatcmpl-s", "model": ANSWERING_MODEL, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": null}]})));
                }
                if !truncate {
                    frames.push((None, json!({"id": "chatcmpl-s", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})));
                    frames.push((None, json!({"id": "chatcmpl-s", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}})));
                }
            }
            Wire::Anthropic => {
                frames.push((Some("message_start"), json!({"type": "message_start", "message": {"id": "msg_s", "model": ANSWERING_MODEL, "usage": {"input_tokens": 3, "output_tokens": 1}}})));
                frames.push((Some("content_block_start"), json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})));
                for p in pieces {
                    frames.push((Some("content_block_delta"), json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}})));
                }
                if !truncate {
                    frames.push((
                        Some("content_block_stop"),
                        json!({"type": "content_block_stop", "index": 0}),
                    ));
                    frames.push((Some("message_delta"), json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}})));
                    frames.push((Some("message_stop"), json!({"type": "message_stop"})));
                }
            }
            Wire::Google => {
                let n = pieces.len();
                for (i, p) in pieces.iter().enumerate() {
                    let mut chunk = json!({"candidates": [{"content": {"parts": [{"text": p}], "role": "model"}}], "usageMetadata": {"promptTokenCount": 3}, "modelVersion": ANSWERING_MODEL});
                    if i + 1 == n && !truncate {
                        chunk["candidates"][0]["finishReason"] = json!("STOP");
                        chunk["usageMetadata"]["candidatesTokenCount"] = json!(2);
                    }
                    frames.push((None, chunk));
                }
            }
        }
        let mut out = String::new();
        for (event, data) in frames {
            if let Some(e) = event {
                out.push_str(&format!("event: {e}\n"));
            }
            out.push_str(&format!("data: {data}\n\n"));
        }
        if self == Wire::Completions && !truncate {
            out.push_str("data: [DONE]\n\n");
        }
        out
    }

    /// A provider error body.
    pub fn error_body(self, status: u16, message: &str) -> Value {
        match self {
            Wire::Responses | Wire::Completions => {
                json!({"error": {"message": message, "type": "test_error", "param": null, "code": "test_code"}})
            }
            Wire::Anthropic => {
                json!({"type": "error", "error": {"type": "test_error", "message": message}})
            }
            Wire::Google => {
                json!({"error": {"code": status, "message": message, "status": "TEST_STATUS"}})
            }
        }
    }
}

pub fn json_response(status: u16, body: Value) -> RecordedResponse {
    let mut headers = Map::new();
    headers.insert("content-type".into(), json!("application/json"));
    RecordedResponse {
        status,
        headers,
        json: Some(body),
        sse: None,
        delay_ms: None,
    }
}

pub fn sse_response(body: String) -> RecordedResponse {
    let mut headers = Map::new();
    headers.insert("content-type".into(), json!("text/event-stream"));
    RecordedResponse {
        status: 200,
        headers,
        json: None,
        sse: Some(body),
        delay_ms: None,
    }
}

/// An exchange whose request is not checked (for Sequential servers).
pub fn answer(response: RecordedResponse) -> Exchange {
    Exchange {
        request: RecordedRequest {
            method: "POST".into(),
            path: String::new(),
            json: None,
        },
        response,
    }
}

static SCOPES: AtomicUsize = AtomicUsize::new(0);

/// Starts a replay server, registers `wire`'s provider for a fresh scope pointing at it, and
/// returns the server and a model of that scope (fast retries).
pub fn serve(wire: Wire, responses: Vec<RecordedResponse>) -> (ReplayServer, Model) {
    let server = ReplayServer::start(
        responses.into_iter().map(answer).collect(),
        Matching::Sequential,
    )
    .expect("replay server");
    let model = model_at(wire, &wire.base_url(&server));
    (server, model)
}

/// A model of a fresh scope served at `base_url`.
pub fn model_at(wire: Wire, base_url: &str) -> Model {
    let n = SCOPES.fetch_add(1, Ordering::SeqCst);
    let scope = format!("t{n}-{}/", wire.provider().replace(':', "-"));
    llm::Provider::new(wire.provider())
        .scope(scope.as_str())
        .api_key("sk-test-secret-key")
        .base_url(base_url)
        .register()
        .expect("register");
    llm::model(&format!("{scope}test-model"))
        .expect("model id")
        .with_retry(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(5)),
        )
}

/// Configures mirascope-ops once for this test binary, exporting to memory, with GenAI
/// instrumentation on.
pub fn otel() -> &'static mirascope::ops::testing::SpanExporter {
    use std::sync::OnceLock;
    static EXPORTER: OnceLock<mirascope::ops::testing::SpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let (provider, exporter) = mirascope::ops::testing::in_memory_provider();
        let guard = mirascope::ops::configure(provider).expect("configure");
        std::mem::forget(guard);
        mirascope::ops::instrument_llm().expect("instrument");
        exporter
    })
}

/// The finished spans whose `gen_ai.request.model` (or name) mentions `model_id`.
pub fn spans_of(model_id: &str) -> Vec<mirascope::ops::testing::SpanData> {
    otel()
        .get_finished_spans()
        .unwrap_or_default()
        .into_iter()
        .filter(|s| {
            s.name.ends_with(model_id)
                || s.attributes.iter().any(|kv| {
                    kv.key.as_str() == "gen_ai.request.model" && kv.value.as_str() == model_id
                })
        })
        .collect()
}

/// An attribute of a span, as a string.
pub fn attr(span: &mirascope::ops::testing::SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

/// Serves `routes` (tonic gRPC services: a real OTLP receiver) on a loopback port, on `rt`.
pub fn serve_grpc(
    rt: &tokio::runtime::Runtime,
    routes: tonic::service::Routes,
) -> std::net::SocketAddr {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    rt.spawn(async move {
        let incoming = futures_util::stream::unfold(listener, |l| async move {
            let r = l.accept().await.map(|(s, _)| s);
            Some((r, l))
        });
        tonic::transport::Server::builder()
            .add_routes(routes)
            .serve_with_incoming(incoming)
            .await
            .expect("gRPC receiver");
    });
    addr
}

/// Sets environment variables for the length of `f`, then removes them (tests that touch the
/// environment run in binaries of their own).
pub fn with_env<K: AsRef<str>, V: AsRef<str>, T>(vars: &[(K, V)], f: impl FnOnce() -> T) -> T {
    for (k, v) in vars {
        std::env::set_var(k.as_ref(), v.as_ref());
    }
    let out = f();
    for (k, _) in vars {
        std::env::remove_var(k.as_ref());
    }
    out
}

/// Reads an HTTP request's head (up to the blank line) from a raw socket, for test servers that
/// misbehave on purpose; false if the client went away first.
pub fn read_request_head(stream: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            return false;
        }
        head.push(byte[0]);
    }
    true
}

/// A `Write` whose bytes the test can read back (logs, console output).
#[derive(Clone, Default)]
pub struct SharedWriter(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedWriter {
    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Client metrics through the real SDK into memory, installed with `configure` (spans to
/// memory too), GenAI instrumentation on: the guard, the metrics exporter, the meter provider
/// (to flush) and the span exporter.
pub fn metrics_to_memory() -> (
    mirascope::ops::OpsGuard,
    opentelemetry_sdk::metrics::InMemoryMetricExporter,
    opentelemetry_sdk::metrics::SdkMeterProvider,
    mirascope::ops::testing::SpanExporter,
) {
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
    let (tracer_provider, spans) = mirascope::ops::testing::in_memory_provider();
    let exporter = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let guard = mirascope::ops::Configuration::new(tracer_provider)
        .meter_provider(meter_provider.clone())
        .install()
        .expect("configure");
    mirascope::ops::instrument_llm().expect("instrument");
    (guard, exporter, meter_provider, spans)
}

/// An OpenTelemetry attribute value as JSON (arrays as JSON arrays).
pub fn otel_value(v: &opentelemetry::Value) -> Value {
    use opentelemetry::{Array, Value as V};
    match v {
        V::Bool(b) => json!(b),
        V::I64(i) => json!(i),
        V::F64(f) => json!(f),
        V::String(s) => json!(s.as_str()),
        V::Array(Array::String(items)) => {
            Value::Array(items.iter().map(|s| json!(s.as_str())).collect())
        }
        V::Array(Array::I64(items)) => json!(items),
        V::Array(Array::F64(items)) => json!(items),
        V::Array(Array::Bool(items)) => json!(items),
        other => json!(other.to_string()),
    }
}
