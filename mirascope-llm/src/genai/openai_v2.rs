//! Spans, events and client metrics of the Chat Completions calls an application makes to an
//! OpenAI-compatible server itself (through `async-openai`, or its own `reqwest` code), as
//! `opentelemetry-instrumentation-openai-v2` 2.3b0 records them. That is the instrumentor
//! Python Mirascope 2.8.2's `ops.instrument_openai()` turns on
//! (`mirascope/ops/_internal/instrumentation/providers/openai.py`), and each rule here cites the
//! function of `opentelemetry/instrumentation/openai_v2/{patch,utils}.py` it ports.
//!
//! Python wraps `Completions.create` and reads its keyword arguments and the SDK's parsed result;
//! here the same values are read from the HTTP exchange: the request body is what the SDK built
//! from those arguments, the response body what it parsed. [`ChatCall`] is fed the request, then
//! the response's status and its body as the bytes arrive (JSON or server-sent events), and ends
//! its span exactly once: at the end of the body, on an error, or when dropped.
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

use std::time::Instant;

use serde_json::{Map, Value};
use tracing::field::Empty;
use tracing::Span;

use super::http_call::{bounded_index, take_budget, truthy, Body, Fed, HttpRequest};
use super::metrics::{recorder, Measurement};
use super::{add_event, set_attribute, set_attributes, AttrValue};

/// The `tracing` target of these spans (under [`super::TARGET`], so `mirascope-ops` exports
/// them with the GenAI spans; [`super::TARGET`]'s `instrument_llm()` switch does not apply to
/// them: [`SWITCH`] is theirs).
pub const TARGET: &str = "mirascope_llm::genai::openai_v2";

/// The `gen_ai.system` value of every span, event and measurement (`GenAiSystemValues.OPENAI`).
pub const SYSTEM: &str = "openai";

/// `gen_ai.system` (the instrumentor predates `gen_ai.provider.name`).
pub const GEN_AI_SYSTEM: &str = "gen_ai.system";
/// `gen_ai.openai.request.response_format`.
pub const GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT: &str = "gen_ai.openai.request.response_format";
/// `gen_ai.openai.request.service_tier`.
pub const GEN_AI_OPENAI_REQUEST_SERVICE_TIER: &str = "gen_ai.openai.request.service_tier";
/// `gen_ai.openai.response.service_tier`.
pub const GEN_AI_OPENAI_RESPONSE_SERVICE_TIER: &str = "gen_ai.openai.response.service_tier";
/// `gen_ai.openai.response.system_fingerprint` (metrics only, as in the instrumentor).
pub const GEN_AI_OPENAI_RESPONSE_SYSTEM_FINGERPRINT: &str =
    "gen_ai.openai.response.system_fingerprint";

/// The switch of these spans (`mirascope-ops`' `instrument_openai()` sets it), with content capture
/// read once when switched on.
pub static SWITCH: super::http_call::Switch = super::http_call::Switch::new(false);

/// Whether these spans are on.
pub fn is_instrumented() -> bool {
    SWITCH.is_on()
}

/// `utils.py::is_content_enabled`: capture only when the variable is `true` (any case).
pub fn content_enabled_from_env_value(value: Option<&str>) -> bool {
    value.unwrap_or("false").to_lowercase() == "true"
}

/// `utils.py::value_is_set`: present and not null.
fn value_is_set(v: Option<&Value>) -> bool {
    v.is_some_and(|v| !v.is_null())
}

/// `utils.py::non_numerical_value_is_set`: truthy and set (so `0` and `""` are not).
fn non_numerical_value_is_set(v: Option<&Value>) -> bool {
    v.is_some_and(truthy)
}

/// A JSON value as an OpenTelemetry attribute, where the SDK would accept it (scalars, and
/// arrays of one primitive type).
fn attr(v: &Value) -> Option<AttrValue> {
    match v {
        Value::String(s) => Some(AttrValue::Str(s.clone())),
        Value::Bool(b) => Some(AttrValue::Bool(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(AttrValue::I64(i)),
            None => n.as_f64().map(AttrValue::F64),
        },
        Value::Array(items) => {
            if items.iter().all(Value::is_string) {
                Some(AttrValue::StrArray(
                    items
                        .iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect(),
                ))
            } else if items.iter().all(|i| i.as_i64().is_some()) {
                Some(AttrValue::I64Array(
                    items.iter().filter_map(Value::as_i64).collect(),
                ))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `str()` of a value the span name interpolates (`None` when absent).
fn py_str_opt(v: Option<&Value>) -> String {
    v.map_or_else(|| "None".to_string(), crate::pyrepr::py_str)
}

/// Whether an HTTP request is a Chat Completions call: a POST to a path ending in
/// `/chat/completions` (what `Completions.create` posts to, under any base URL).
pub fn is_chat_completions(method: &str, path: &str) -> bool {
    super::http_call::is_post_to(method, path, "/chat/completions")
}

/// `utils.py::set_server_address_and_port`: the host of the base URL, and its port unless it
/// is the scheme's default (httpx leaves that out), 443, or not positive.
pub fn server_address_and_port(url: &str) -> (Option<String>, Option<i64>) {
    let Some((scheme, host, port)) = super::span::authority(url) else {
        return (None, None);
    };
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    let port = port
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|&p| Some(p) != default && p != 443 && p > 0);
    (Some(host.to_ascii_lowercase()), port)
}

/// `utils.py::get_llm_request_attributes` for a chat operation: the span's attributes, in the
/// order Python builds its dict, values that are not set left out.
pub fn request_attributes(body: &Map<String, Value>, url: &str) -> Vec<(&'static str, AttrValue)> {
    let mut out: Vec<(&'static str, AttrValue)> = vec![
        (
            super::keys::GEN_AI_OPERATION_NAME,
            AttrValue::Str("chat".into()),
        ),
        (GEN_AI_SYSTEM, AttrValue::Str(SYSTEM.into())),
    ];
    fn put(out: &mut Vec<(&'static str, AttrValue)>, key: &'static str, v: Option<&Value>) {
        if value_is_set(v) {
            if let Some(a) = v.and_then(attr) {
                out.push((key, a));
            }
        }
    }
    put(
        &mut out,
        super::keys::GEN_AI_REQUEST_MODEL,
        body.get("model"),
    );
    put(
        &mut out,
        super::keys::GEN_AI_REQUEST_TEMPERATURE,
        body.get("temperature"),
    );
    // `kwargs.get("p") or kwargs.get("top_p")`.
    let top_p = body.get("p").filter(|v| truthy(v)).or(body.get("top_p"));
    put(&mut out, super::keys::GEN_AI_REQUEST_TOP_P, top_p);
    put(
        &mut out,
        super::keys::GEN_AI_REQUEST_MAX_TOKENS,
        body.get("max_tokens"),
    );
    put(
        &mut out,
        super::keys::GEN_AI_REQUEST_PRESENCE_PENALTY,
        body.get("presence_penalty"),
    );
    put(
        &mut out,
        super::keys::GEN_AI_REQUEST_FREQUENCY_PENALTY,
        body.get("frequency_penalty"),
    );
    put(&mut out, super::keys::GEN_AI_REQUEST_SEED, body.get("seed"));
    // Only a count other than the default 1.
    if let Some(n) = body.get("n").and_then(Value::as_i64).filter(|&n| n != 1) {
        out.push((super::keys::GEN_AI_REQUEST_CHOICE_COUNT, AttrValue::I64(n)));
    }
    match body.get("stop") {
        Some(Value::String(s)) => out.push((
            super::keys::GEN_AI_REQUEST_STOP_SEQUENCES,
            AttrValue::StrArray(vec![s.clone()]),
        )),
        Some(v @ Value::Array(_)) => {
            if let Some(a) = attr(v) {
                out.push((super::keys::GEN_AI_REQUEST_STOP_SEQUENCES, a));
            }
        }
        _ => {}
    }
    // A mapping gives its `type`; anything else is recorded as it is.
    match body.get("response_format") {
        Some(Value::Object(m)) => put(
            &mut out,
            GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT,
            m.get("type"),
        ),
        other => put(&mut out, GEN_AI_OPENAI_REQUEST_RESPONSE_FORMAT, other),
    }
    // `extra_body={"service_tier": ...}` is merged into the body by the SDK; `auto` is left out.
    let tier = body
        .get("service_tier")
        .filter(|t| t.as_str() != Some("auto"));
    put(&mut out, GEN_AI_OPENAI_REQUEST_SERVICE_TIER, tier);
    let (host, port) = server_address_and_port(url);
    if let Some(h) = host {
        out.push((super::keys::SERVER_ADDRESS, AttrValue::Str(h)));
    }
    if let Some(p) = port {
        out.push((super::keys::SERVER_PORT, AttrValue::I64(p)));
    }
    out
}

/// `utils.py::extract_tool_calls`: each call's id, type and function name, and its arguments
/// (newlines removed) only with content capture.
fn extract_tool_calls(item: &Value, capture: bool) -> Option<Vec<Value>> {
    let calls = item.get("tool_calls").filter(|v| !v.is_null())?;
    let mut out = Vec::new();
    for call in calls.as_array().into_iter().flatten() {
        let mut dict = Map::new();
        if let Some(id) = call.get("id").filter(|v| truthy(v)) {
            dict.insert("id".into(), id.clone());
        }
        if let Some(t) = call.get("type").filter(|v| truthy(v)) {
            dict.insert("type".into(), t.clone());
        }
        if let Some(func) = call.get("function").filter(|v| truthy(v)) {
            let mut f = Map::new();
            if let Some(name) = func.get("name").filter(|v| truthy(v)) {
                f.insert("name".into(), name.clone());
            }
            if let Some(args) = func.get("arguments").filter(|v| capture && truthy(v)) {
                let args = match args {
                    Value::String(s) => Value::String(s.replace('\n', "")),
                    other => other.clone(),
                };
                f.insert("arguments".into(), args);
            }
            dict.insert("function".into(), Value::Object(f));
        }
        out.push(Value::Object(dict));
    }
    Some(out)
}

/// One content event: the instrumentor's log record (`event_name`, `gen_ai.system`, body).
#[derive(Debug, Clone, PartialEq)]
pub struct ContentEvent {
    /// `gen_ai.{role}.message` or `gen_ai.choice`.
    pub name: String,
    /// The record's body (`None` when Python's would be empty).
    pub body: Option<Value>,
}

/// `utils.py::message_to_event`.
pub fn message_to_event(message: &Value, capture: bool) -> ContentEvent {
    let role = message
        .get("role")
        .map_or_else(|| "None".into(), crate::pyrepr::py_str);
    let mut body = Map::new();
    if let Some(content) = message.get("content").filter(|c| capture && truthy(c)) {
        body.insert("content".into(), content.clone());
    }
    if role == "assistant" {
        if let Some(calls) = extract_tool_calls(message, capture).filter(|c| !c.is_empty()) {
            // The calls replace the body, content and all.
            body = Map::new();
            body.insert("tool_calls".into(), Value::Array(calls));
        }
    } else if role == "tool" {
        if let Some(id) = message.get("tool_call_id").filter(|v| truthy(v)) {
            body.insert("id".into(), id.clone());
        }
    }
    ContentEvent {
        name: format!("gen_ai.{role}.message"),
        body: (!body.is_empty()).then_some(Value::Object(body)),
    }
}

/// `utils.py::choice_to_event`.
pub fn choice_to_event(choice: &Value, capture: bool) -> ContentEvent {
    let mut body = Map::new();
    body.insert(
        "index".into(),
        choice.get("index").cloned().unwrap_or(Value::Null),
    );
    body.insert("finish_reason".into(), finish_reason(choice));
    if let Some(message) = choice.get("message").filter(|m| m.is_object()) {
        let mut m = Map::new();
        m.insert(
            "role".into(),
            message
                .get("role")
                .filter(|r| truthy(r))
                .cloned()
                .unwrap_or(Value::Null),
        );
        if let Some(calls) = extract_tool_calls(message, capture).filter(|c| !c.is_empty()) {
            m.insert("tool_calls".into(), Value::Array(calls));
        }
        if let Some(content) = message.get("content").filter(|c| capture && truthy(c)) {
            m.insert("content".into(), content.clone());
        }
        body.insert("message".into(), Value::Object(m));
    }
    ContentEvent {
        name: "gen_ai.choice".into(),
        body: Some(Value::Object(body)),
    }
}

/// `utils.py::set_span_attribute`: only a value that is set and true (so no `0`, `""`, `[]`),
/// gathered into `out` to be set at once.
fn push_if_set(out: &mut Vec<(&'static str, AttrValue)>, key: &'static str, v: Option<&Value>) {
    if non_numerical_value_is_set(v) {
        if let Some(a) = v.and_then(attr) {
            out.push((key, a));
        }
    }
}

/// `choice.finish_reason or "error"`.
fn finish_reason(choice: &Value) -> Value {
    choice
        .get("finish_reason")
        .filter(|f| truthy(f))
        .cloned()
        .unwrap_or_else(|| Value::String("error".into()))
}

/// The class name Python records as `error.type` for an HTTP error status, from the SDK's
/// `OpenAI._make_status_error`.
pub fn status_error_class(status: u16) -> &'static str {
    match status {
        400 => "BadRequestError",
        401 => "AuthenticationError",
        403 => "PermissionDeniedError",
        404 => "NotFoundError",
        409 => "ConflictError",
        422 => "UnprocessableEntityError",
        429 => "RateLimitError",
        s if s >= 500 => "InternalServerError",
        _ => "APIStatusError",
    }
}

/// `str()` of the SDK's status error (`BaseClient._make_status_error_from_response`):
/// `Error code: {status} - {body}` with the body parsed from JSON and written as Python's repr,
/// else the body text, else `Error code: {status}`.
pub fn status_error_message(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match serde_json::from_str::<Value>(text) {
        Ok(v) => format!("Error code: {status} - {}", crate::pyrepr::py_repr(&v)),
        Err(_) if !text.is_empty() => text.to_string(),
        Err(_) => format!("Error code: {status}"),
    }
}

/// What a finished call reports to the metrics (`patch.py::_record_metrics`'s `result`).
#[derive(Debug, Default)]
struct MetricResult {
    response_model: Option<String>,
    service_tier: Option<String>,
    system_fingerprint: Option<String>,
    /// `(prompt_tokens, completion_tokens)`.
    usage: Option<(u64, u64)>,
}

/// `patch.py::ChoiceBuffer`.
#[derive(Debug, Default)]
struct ChoiceBuffer {
    finish_reason: Option<Value>,
    text: Vec<String>,
    tool_calls: Vec<Option<ToolCallBuffer>>,
}

/// `patch.py::ToolCallBuffer`.
#[derive(Debug)]
struct ToolCallBuffer {
    id: Value,
    name: Value,
    arguments: String,
}

/// `patch.py::StreamWrapper`'s state.
#[derive(Debug, Default)]
struct StreamState {
    response_id: Option<Value>,
    response_model: Option<Value>,
    service_tier: Option<Value>,
    prompt_tokens: Option<Value>,
    completion_tokens: Option<Value>,
    choices: Vec<ChoiceBuffer>,
    /// Bytes of text and arguments kept so far (at most `http_call::MAX_JSON_BODY`).
    kept: usize,
}

/// Grows `items` with `fill` until `index` is in it.
fn grow_to<T>(items: &mut Vec<T>, index: usize, fill: impl Fn() -> T) {
    while items.len() <= index {
        items.push(fill());
    }
}

impl StreamState {
    /// `StreamWrapper.process_chunk`.
    fn process_chunk(&mut self, chunk: &Value) {
        let first_truthy = |slot: &mut Option<Value>, v: Option<&Value>| {
            if slot.as_ref().is_none_or(|s| !truthy(s)) {
                if let Some(v) = v.filter(|v| truthy(v)) {
                    *slot = Some(v.clone());
                }
            }
        };
        first_truthy(&mut self.response_id, chunk.get("id"));
        first_truthy(&mut self.response_model, chunk.get("model"));
        first_truthy(&mut self.service_tier, chunk.get("service_tier"));
        self.build_streaming_response(chunk);
        // `set_usage`.
        if let Some(usage) = chunk.get("usage").filter(|u| truthy(u)) {
            self.completion_tokens = usage.get("completion_tokens").cloned();
            self.prompt_tokens = usage.get("prompt_tokens").cloned();
        }
    }

    /// `StreamWrapper.build_streaming_response`.
    fn build_streaming_response(&mut self, chunk: &Value) {
        let Some(choices) = chunk.get("choices").and_then(Value::as_array) else {
            return;
        };
        for choice in choices {
            // `if not choice.delta`: the SDK's delta is an object, true even when empty.
            let Some(delta) = choice.get("delta").filter(|d| !d.is_null()) else {
                continue;
            };
            let Some(index) = bounded_index(choice) else {
                continue;
            };
            grow_to(&mut self.choices, index, ChoiceBuffer::default);
            let buffer = &mut self.choices[index];
            if let Some(reason) = choice.get("finish_reason").filter(|f| truthy(f)) {
                buffer.finish_reason = Some(reason.clone());
            }
            if let Some(text) = delta.get("content").and_then(Value::as_str) {
                if take_budget(&mut self.kept, text.len()) {
                    buffer.text.push(text.to_string());
                }
            }
            for call in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(idx) = bounded_index(call) else {
                    continue;
                };
                grow_to(&mut buffer.tool_calls, idx, || None);
                let function = call.get("function");
                let slot = buffer.tool_calls[idx].get_or_insert_with(|| ToolCallBuffer {
                    id: call.get("id").cloned().unwrap_or(Value::Null),
                    name: function
                        .and_then(|f| f.get("name"))
                        .cloned()
                        .unwrap_or(Value::Null),
                    arguments: String::new(),
                });
                if let Some(args) = function
                    .and_then(|f| f.get("arguments"))
                    .and_then(Value::as_str)
                {
                    if take_budget(&mut self.kept, args.len()) {
                        slot.arguments.push_str(args);
                    }
                }
            }
        }
    }

    /// The `gen_ai.choice` events of `StreamWrapper.cleanup`.
    fn choice_events(&self, capture: bool) -> Vec<ContentEvent> {
        self.choices
            .iter()
            .enumerate()
            .map(|(idx, choice)| {
                let mut message = Map::new();
                message.insert("role".into(), Value::String("assistant".into()));
                if capture && !choice.text.is_empty() {
                    message.insert("content".into(), Value::String(choice.text.concat()));
                }
                if !choice.tool_calls.is_empty() {
                    let calls = choice
                        .tool_calls
                        .iter()
                        .flatten()
                        .map(|call| {
                            let mut function = Map::new();
                            function.insert("name".into(), call.name.clone());
                            if capture {
                                function.insert(
                                    "arguments".into(),
                                    Value::String(call.arguments.clone()),
                                );
                            }
                            serde_json::json!({
                                "id": call.id,
                                "type": "function",
                                "function": function,
                            })
                        })
                        .collect();
                    message.insert("tool_calls".into(), Value::Array(calls));
                }
                let mut body = Map::new();
                body.insert("index".into(), Value::from(idx));
                body.insert(
                    "finish_reason".into(),
                    choice
                        .finish_reason
                        .clone()
                        .unwrap_or_else(|| Value::String("error".into())),
                );
                body.insert("message".into(), Value::Object(message));
                ContentEvent {
                    name: "gen_ai.choice".into(),
                    body: Some(Value::Object(body)),
                }
            })
            .collect()
    }
}

/// The span of one Chat Completions call, open from the request until the answer's body ends,
/// fails or is dropped.
#[derive(Debug)]
pub struct ChatCall {
    span: Span,
    capture: bool,
    stream: bool,
    /// The request attributes the metrics repeat (`_record_metrics`' `request_attributes`).
    request_model: Option<AttrValue>,
    server_address: Option<String>,
    server_port: Option<i64>,
    started: Instant,
    status: Option<u16>,
    body: Body<StreamState>,
    /// The request's API key, kept out of everything recorded.
    secret: Option<String>,
    ended: bool,
}

impl ChatCall {
    /// Opens the span of a Chat Completions request (`patch.py::chat_completions_create`'s
    /// `traced_method`: the request attributes, then one event per input message), or `None`
    /// when the switch is off, the request is not a Chat Completions call, its body is not a
    /// JSON object, or no subscriber records the span.
    pub fn start(request: HttpRequest<'_>) -> Option<ChatCall> {
        if !is_instrumented()
            || !is_chat_completions(request.method, request.path)
            || !tracing::span_enabled!(target: TARGET, tracing::Level::INFO)
        {
            return None;
        }
        let body: Map<String, Value> = serde_json::from_slice(request.body?).ok()?;
        let capture = SWITCH.captures();
        let attributes = request_attributes(&body, request.url);
        let name = format!("chat {}", py_str_opt(body.get("model")));
        let span = tracing::info_span!(
            target: TARGET,
            "chat",
            otel.name = name.as_str(),
            otel.kind = "client",
            otel.status_code = Empty,
            otel.status_description = Empty,
        );
        if span.is_disabled() {
            return None;
        }
        let find = |key: &str| {
            attributes
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        };
        let request_model = find(super::keys::GEN_AI_REQUEST_MODEL);
        let server_address = match find(super::keys::SERVER_ADDRESS) {
            Some(AttrValue::Str(s)) => Some(s),
            _ => None,
        };
        let server_port = match find(super::keys::SERVER_PORT) {
            Some(AttrValue::I64(p)) => Some(p),
            _ => None,
        };
        set_attributes(&span, attributes);
        let secret = request.secret();
        let call = ChatCall {
            span,
            capture,
            stream: non_numerical_value_is_set(body.get("stream")),
            request_model,
            server_address,
            server_port,
            started: Instant::now(),
            status: None,
            body: Body::Buffered(Vec::new()),
            secret,
            ended: false,
        };
        for message in body
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            call.emit(message_to_event(message, capture));
        }
        Some(call)
    }

    /// The span (the parent of anything the transport does for this call).
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// The answer's status arrived. A streamed success is read event by event from now on; its
    /// duration metric is recorded now, as Python records it when `create` returns the stream.
    pub fn response_started(&mut self, status: u16) {
        self.status = Some(status);
        if (200..300).contains(&status) && self.stream {
            self.body = Body::stream(StreamState::default());
            self.record_metrics(None, &MetricResult::default());
        }
    }

    /// Bytes of the answer's body, as they arrive.
    pub fn body_bytes(&mut self, bytes: &[u8]) {
        if let Fed::Failed(message) = self
            .body
            .feed(bytes, |state, event| Self::stream_event(state, &event.data))
        {
            let failed = message.is_some();
            if let Some(message) = message {
                // `StreamWrapper.__next__`: `handle_span_exception`, then `cleanup`.
                self.fail("APIError", &message);
            }
            if let Body::Stream(state) = self.body.take() {
                self.stream_cleanup(&state.1, failed);
            }
            self.end();
        }
    }

    /// One server-sent event of a Chat Completions stream (`Stream.__stream__`): `[DONE]` ends
    /// it, an `error` member is the SDK's `APIError`, anything else is a chunk.
    fn stream_event(state: &mut StreamState, data: &str) -> Result<(), String> {
        if data.starts_with("[DONE]") {
            return Ok(());
        }
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            return Ok(());
        };
        if let Some(error) = chunk.get("error").filter(|e| truthy(e)) {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .unwrap_or("An error occurred during streaming");
            return Err(message.to_string());
        }
        state.process_chunk(&chunk);
        Ok(())
    }

    /// The answer's body ended: the span records the answer (or the error status) and ends.
    pub fn body_ended(mut self) {
        if self.ended {
            return;
        }
        let status = self.status.unwrap_or(0);
        let body = self.body.take();
        if !(200..300).contains(&status) {
            let bytes = match &body {
                Body::Buffered(b) => b.as_slice(),
                _ => &[],
            };
            let class = status_error_class(status);
            let message = if self.capture {
                status_error_message(status, bytes)
            } else {
                format!("Error code: {status}")
            };
            self.fail(class, &message);
            self.record_metrics(Some(class), &MetricResult::default());
            self.end();
            return;
        }
        match body {
            Body::Buffered(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(result) => {
                    let metrics = self.record_response(&result);
                    self.record_metrics(None, &metrics);
                }
                Err(_) => {
                    self.fail("JSONDecodeError", "the answer is not JSON");
                    self.record_metrics(Some("JSONDecodeError"), &MetricResult::default());
                }
            },
            Body::Stream(state) => self.stream_cleanup(&state.1, false),
            Body::Ignored if !self.stream => {
                self.fail(
                    "AnswerTooLarge",
                    "the answer passed the bound on what is read",
                );
                self.record_metrics(Some("AnswerTooLarge"), &MetricResult::default());
            }
            Body::Ignored => {}
        }
        self.end();
    }

    /// The exchange failed before or while the answer arrived (`handle_span_exception` with
    /// the transport's error, whose class is `class`).
    pub fn failed(mut self, class: &str, message: &str) {
        if self.ended {
            return;
        }
        self.fail(class, message);
        match self.body.take() {
            Body::Stream(state) => self.stream_cleanup(&state.1, true),
            _ => self.record_metrics(Some(class), &MetricResult::default()),
        }
        self.end();
    }

    /// The answer was an error status whose body (`body`) the caller's stack already read (a
    /// retry layer that looked at a 429, say): as if it had arrived here.
    pub fn failed_with_status(mut self, status: u16, body: &[u8]) {
        if self.ended {
            return;
        }
        self.status = Some(status);
        self.body = Body::Buffered(body.to_vec());
        self.body_ended();
    }

    /// `patch.py::_set_response_attributes` and the `gen_ai.choice` events of a JSON answer.
    fn record_response(&self, result: &Value) -> MetricResult {
        let mut out = Vec::with_capacity(6);
        push_if_set(
            &mut out,
            super::keys::GEN_AI_RESPONSE_MODEL,
            result.get("model"),
        );
        let choices = result.get("choices").and_then(Value::as_array);
        if let Some(choices) = choices.filter(|c| !c.is_empty()) {
            let reasons: Vec<Value> = choices.iter().map(finish_reason).collect();
            push_if_set(
                &mut out,
                super::keys::GEN_AI_RESPONSE_FINISH_REASONS,
                Some(&Value::Array(reasons)),
            );
        }
        push_if_set(&mut out, super::keys::GEN_AI_RESPONSE_ID, result.get("id"));
        push_if_set(
            &mut out,
            GEN_AI_OPENAI_RESPONSE_SERVICE_TIER,
            result.get("service_tier"),
        );
        let usage = result.get("usage").filter(|u| truthy(u));
        if let Some(usage) = usage {
            push_if_set(
                &mut out,
                super::keys::GEN_AI_USAGE_INPUT_TOKENS,
                usage.get("prompt_tokens"),
            );
            push_if_set(
                &mut out,
                super::keys::GEN_AI_USAGE_OUTPUT_TOKENS,
                usage.get("completion_tokens"),
            );
        }
        set_attributes(&self.span, out);
        for choice in choices.into_iter().flatten() {
            self.emit(choice_to_event(choice, self.capture));
        }
        let text = |v: Option<&Value>| v.filter(|v| truthy(v)).map(crate::pyrepr::py_str);
        MetricResult {
            response_model: text(result.get("model")),
            service_tier: text(result.get("service_tier")),
            system_fingerprint: text(result.get("system_fingerprint")),
            usage: usage.map(|u| {
                let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
                (n("prompt_tokens"), n("completion_tokens"))
            }),
        }
    }

    /// `StreamWrapper.cleanup`: what the stream gathered, then one `gen_ai.choice` event a
    /// choice. (`finish_reasons` is a list the wrapper never fills, so a stream's span has no
    /// `gen_ai.response.finish_reasons`, as in Python.)
    ///
    /// After a failure Python has already ended the span (`handle_span_exception` ends it), so
    /// only the events follow (`failed`).
    fn stream_cleanup(&self, state: &StreamState, failed: bool) {
        if failed {
            for event in state.choice_events(self.capture) {
                self.emit(event);
            }
            return;
        }
        let mut out = Vec::with_capacity(5);
        push_if_set(
            &mut out,
            super::keys::GEN_AI_RESPONSE_MODEL,
            state.response_model.as_ref(),
        );
        push_if_set(
            &mut out,
            super::keys::GEN_AI_RESPONSE_ID,
            state.response_id.as_ref(),
        );
        push_if_set(
            &mut out,
            super::keys::GEN_AI_USAGE_INPUT_TOKENS,
            state.prompt_tokens.as_ref(),
        );
        push_if_set(
            &mut out,
            super::keys::GEN_AI_USAGE_OUTPUT_TOKENS,
            state.completion_tokens.as_ref(),
        );
        push_if_set(
            &mut out,
            GEN_AI_OPENAI_RESPONSE_SERVICE_TIER,
            state.service_tier.as_ref(),
        );
        set_attributes(&self.span, out);
        for event in state.choice_events(self.capture) {
            self.emit(event);
        }
    }

    /// `utils.py::handle_span_exception`: status ERROR with the error's text, `error.type`.
    fn fail(&self, class: &str, message: &str) {
        let message = super::http_call::redact(message, self.secret.as_deref());
        self.span.record("otel.status_code", "error");
        self.span
            .record("otel.status_description", message.as_str());
        set_attribute(
            &self.span,
            super::keys::ERROR_TYPE,
            AttrValue::Str(class.to_string()),
        );
    }

    /// One content event on the span (the instrumentor's log record; see the module docs).
    fn emit(&self, event: ContentEvent) {
        let mut attrs = vec![(GEN_AI_SYSTEM, AttrValue::Str(SYSTEM.into()))];
        if let Some(body) = event.body {
            attrs.push(("body", AttrValue::Str(body.to_string())));
        }
        add_event(&self.span, event.name, attrs);
    }

    /// `patch.py::_record_metrics` for a chat operation.
    fn record_metrics(&self, error_type: Option<&str>, result: &MetricResult) {
        let Some(recorder) = recorder() else {
            return;
        };
        let duration = self.started.elapsed().as_secs_f64();
        let mut attrs: Vec<(&'static str, AttrValue)> = vec![
            (
                super::keys::GEN_AI_OPERATION_NAME,
                AttrValue::Str("chat".into()),
            ),
            (GEN_AI_SYSTEM, AttrValue::Str(SYSTEM.into())),
        ];
        if let Some(model) = &self.request_model {
            attrs.push((super::keys::GEN_AI_REQUEST_MODEL, model.clone()));
        }
        if let Some(e) = error_type {
            attrs.push((super::keys::ERROR_TYPE, AttrValue::Str(e.to_string())));
        }
        if let Some(m) = &result.response_model {
            attrs.push((
                super::keys::GEN_AI_RESPONSE_MODEL,
                AttrValue::Str(m.clone()),
            ));
        }
        if let Some(t) = &result.service_tier {
            attrs.push((
                GEN_AI_OPENAI_RESPONSE_SERVICE_TIER,
                AttrValue::Str(t.clone()),
            ));
        }
        if let Some(f) = &result.system_fingerprint {
            attrs.push((
                GEN_AI_OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
                AttrValue::Str(f.clone()),
            ));
        }
        if let Some(h) = &self.server_address {
            attrs.push((super::keys::SERVER_ADDRESS, AttrValue::Str(h.clone())));
        }
        if let Some(p) = self.server_port {
            attrs.push((super::keys::SERVER_PORT, AttrValue::I64(p)));
        }
        recorder.record_measurement(&Measurement::OperationDuration {
            seconds: duration,
            attributes: &attrs,
        });
        if let Some((input, output)) = result.usage {
            let mut with_type = attrs.clone();
            with_type.push((
                super::keys::GEN_AI_TOKEN_TYPE,
                AttrValue::Str("input".into()),
            ));
            recorder.record_measurement(&Measurement::TokenUsage {
                tokens: input,
                attributes: &with_type,
            });
            if let Some(last) = with_type.last_mut() {
                last.1 = AttrValue::Str("output".into());
            }
            recorder.record_measurement(&Measurement::TokenUsage {
                tokens: output,
                attributes: &with_type,
            });
        }
    }

    /// Ends the span now (it is dropped), once.
    fn end(&mut self) {
        self.ended = true;
        self.span = Span::none();
    }
}

impl Drop for ChatCall {
    /// Dropped before its body ended (the caller stopped reading, or cancelled the request):
    /// a stream records what it gathered, as `StreamWrapper.close()` does; a JSON call records
    /// only its duration, with `error.type` `cancelled`.
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        match (self.body.take(), self.status) {
            (Body::Stream(state), _) => self.stream_cleanup(&state.1, false),
            // An error status whose body was not read: what the SDK says without its body.
            (_, Some(status)) if !(200..300).contains(&status) => {
                let class = status_error_class(status);
                self.fail(class, &format!("Error code: {status}"));
                self.record_metrics(Some(class), &MetricResult::default());
            }
            // A stream's duration was recorded when its answer began.
            (_, Some(_)) if self.stream => {}
            _ => self.record_metrics(Some(super::metrics::CANCELLED), &MetricResult::default()),
        }
    }
}

#[cfg(test)]
impl ChatCall {
    /// A call whose span records nothing, for the fuzz targets (every rule still runs).
    pub(crate) fn for_fuzz(request: &Map<String, Value>, stream: bool, capture: bool) -> Self {
        let _ = request_attributes(request, "http://127.0.0.1:1/v1");
        for message in request
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let _ = message_to_event(message, capture);
        }
        ChatCall {
            span: Span::none(),
            capture,
            stream,
            request_model: None,
            server_address: None,
            server_port: None,
            started: Instant::now(),
            status: None,
            body: Body::Buffered(Vec::new()),
            secret: Some("sk-fuzz".into()),
            ended: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_attributes_follow_get_llm_request_attributes() {
        let body = json!({
            "model": "gpt-4o-mini", "temperature": 0, "top_p": 0.5, "max_tokens": 10,
            "seed": 7, "n": 2, "stop": "END", "response_format": {"type": "json_object"},
            "service_tier": "auto", "messages": [],
        });
        let attrs = request_attributes(body.as_object().unwrap(), "http://127.0.0.1:8080/v1");
        let keys: Vec<&str> = attrs.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "gen_ai.operation.name",
                "gen_ai.system",
                "gen_ai.request.model",
                "gen_ai.request.temperature",
                "gen_ai.request.top_p",
                "gen_ai.request.max_tokens",
                "gen_ai.request.seed",
                "gen_ai.request.choice.count",
                "gen_ai.request.stop_sequences",
                "gen_ai.openai.request.response_format",
                "server.address",
                "server.port",
            ]
        );
        assert_eq!(attrs[3].1, AttrValue::I64(0), "an int stays an int");
        assert_eq!(attrs[8].1, AttrValue::StrArray(vec!["END".into()]));
    }

    #[test]
    fn server_port_is_left_out_when_default_or_443() {
        assert_eq!(
            server_address_and_port("https://api.openai.com/v1"),
            (Some("api.openai.com".into()), None)
        );
        assert_eq!(server_address_and_port("http://localhost/v1").1, None);
        assert_eq!(server_address_and_port("http://localhost:443/v1").1, None);
        assert_eq!(
            server_address_and_port("http://[::1]:9000/v1").1,
            Some(9000)
        );
    }

    #[test]
    fn assistant_tool_calls_replace_the_body() {
        let message = json!({"role": "assistant", "content": "hi", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\n\"a\": 1}"}}
        ]});
        let on = message_to_event(&message, true);
        assert_eq!(on.name, "gen_ai.assistant.message");
        assert_eq!(
            on.body,
            Some(
                json!({"tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]})
            )
        );
        let off = message_to_event(&message, false);
        assert_eq!(
            off.body,
            Some(
                json!({"tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f"}}]})
            )
        );
        let user = message_to_event(&json!({"role": "user", "content": "secret"}), false);
        assert_eq!(user.body, None, "no content without capture");
    }

    #[test]
    fn stream_state_gathers_choices_and_calls() {
        let mut s = StreamState::default();
        s.process_chunk(&json!({"id": "x", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "He"}}]}));
        s.process_chunk(&json!({"id": "y", "choices": [{"index": 0, "delta": {"content": "llo", "tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "stop"}]}));
        s.process_chunk(
            &json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}),
        );
        assert_eq!(s.response_id, Some(json!("x")));
        let events = s.choice_events(true);
        assert_eq!(
            events[0].body,
            Some(
                json!({"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hello", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}})
            )
        );
        // A hostile index allocates nothing.
        s.process_chunk(
            &json!({"choices": [{"index": 1_000_000_000u64, "delta": {"content": "x"}}]}),
        );
        assert_eq!(s.choices.len(), 1);
    }

    #[test]
    fn status_errors_read_as_the_sdk_writes_them() {
        assert_eq!(status_error_class(401), "AuthenticationError");
        assert_eq!(status_error_class(503), "InternalServerError");
        assert_eq!(status_error_class(418), "APIStatusError");
        assert_eq!(
            status_error_message(401, br#"{"error": {"message": "bad key", "code": null}}"#),
            "Error code: 401 - {'error': {'message': 'bad key', 'code': None}}"
        );
        assert_eq!(status_error_message(502, b" gateway "), "gateway");
        assert_eq!(status_error_message(502, b""), "Error code: 502");
    }
}
