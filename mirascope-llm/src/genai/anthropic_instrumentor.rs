//! Spans and client metrics of the Anthropic Messages calls an application makes itself (through
//! its own `reqwest` client), as `opentelemetry-instrumentation-anthropic` 0.62.4 records them:
//! the instrumentor Python Mirascope 2.8.2's `ops.instrument_anthropic()` turns on
//! (`mirascope/ops/_internal/instrumentation/providers/anthropic.py`). Each rule cites the
//! function of `opentelemetry/instrumentation/anthropic/{__init__,span_utils,streaming,utils}.py`
//! it ports. As in [`super::openai_v2`], the request body stands for the `create` call's keyword
//! arguments and the answer's body for the SDK's parsed result.
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

use std::time::Instant;

use serde_json::{json, Map, Value};
use tracing::field::Empty;
use tracing::Span;

use super::http_call::{bounded_index, redact, take_budget, truthy, Body, Fed, HttpRequest};
use super::metrics::{recorder, Measurement};
use super::{add_event, set_attributes, AttrValue};
use crate::pyrepr::py_json_dumps;

/// The `tracing` target of these spans (under [`super::TARGET`]; [`SWITCH`] is their
/// switch).
pub const TARGET: &str = "mirascope_llm::genai::anthropic_instrumentor";

/// The span name (`WRAPPED_METHODS`' `span_name` of `Messages.create`).
pub const SPAN_NAME: &str = "anthropic.chat";
/// `gen_ai.provider.name` of every span and measurement (`GenAiSystemValues.ANTHROPIC`).
pub const PROVIDER: &str = "anthropic";

/// `gen_ai.is_streaming` (`SpanAttributes.GEN_AI_IS_STREAMING`).
pub const GEN_AI_IS_STREAMING: &str = "gen_ai.is_streaming";
/// `gen_ai.usage.total_tokens`.
pub const GEN_AI_USAGE_TOTAL_TOKENS: &str = "gen_ai.usage.total_tokens";
/// `gen_ai.request.structured_output_schema`.
pub const GEN_AI_REQUEST_STRUCTURED_OUTPUT_SCHEMA: &str = "gen_ai.request.structured_output_schema";
/// `gen_ai.response.finish_reason` (the choice counter's attribute).
pub const GEN_AI_RESPONSE_FINISH_REASON: &str = "gen_ai.response.finish_reason";
/// The choice counter (`Meters.LLM_GENERATION_CHOICES`).
pub const GENERATION_CHOICES: &str = "gen_ai.client.generation.choices";
/// The exception counter (`Meters.LLM_ANTHROPIC_COMPLETION_EXCEPTIONS`).
pub const COMPLETION_EXCEPTIONS: &str = "llm.anthropic.completion.exceptions";

use super::keys::{
    ERROR_TYPE, GEN_AI_INPUT_MESSAGES, GEN_AI_OPERATION_NAME, GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_PROVIDER_NAME, GEN_AI_REQUEST_FREQUENCY_PENALTY, GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_MODEL, GEN_AI_REQUEST_PRESENCE_PENALTY, GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_P, GEN_AI_RESPONSE_FINISH_REASONS, GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_MODEL, GEN_AI_SYSTEM_INSTRUCTIONS, GEN_AI_TOKEN_TYPE, GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_INPUT_TOKENS, GEN_AI_USAGE_OUTPUT_TOKENS,
};

/// The switch of these spans (`mirascope-ops`' `instrument_anthropic()` sets it), with content capture
/// read once when switched on.
pub static SWITCH: super::http_call::Switch = super::http_call::Switch::new(true);

/// Whether these spans are on.
pub fn is_instrumented() -> bool {
    SWITCH.is_on()
}

/// `utils.py::should_send_prompts`: `(TRACELOOP_TRACE_CONTENT or "true").lower() == "true"`,
/// so capture is on unless the variable says otherwise.
pub fn content_enabled_from_env_value(value: Option<&str>) -> bool {
    value
        .filter(|v| !v.is_empty())
        .unwrap_or("true")
        .to_lowercase()
        == "true"
}

/// `span_utils.py::_map_finish_reason`.
pub fn map_finish_reason(reason: Option<&Value>) -> String {
    match reason.filter(|r| truthy(r)) {
        None => String::new(),
        Some(r) => match r.as_str() {
            Some("end_turn") | Some("stop_sequence") => "stop".into(),
            Some("tool_use") => "tool_call".into(),
            Some("max_tokens") => "length".into(),
            _ => crate::pyrepr::py_str(r),
        },
    }
}

/// `utils.py::set_span_attribute`: any value but `None` and `""` (so `0` is kept).
fn push(out: &mut Vec<(&'static str, AttrValue)>, key: &'static str, v: Option<&Value>) {
    let Some(v) = v.filter(|v| !v.is_null() && v.as_str() != Some("")) else {
        return;
    };
    let value = match v {
        Value::String(s) => AttrValue::Str(s.clone()),
        Value::Bool(b) => AttrValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => AttrValue::I64(i),
            None => match n.as_f64() {
                Some(f) => AttrValue::F64(f),
                None => return,
            },
        },
        _ => return,
    };
    out.push((key, value));
}

/// `span_utils.py::_process_image_item` without an upload hook: the image inline.
fn image_part(item: &Map<String, Value>) -> Value {
    let source = item.get("source");
    let get = |k: &str| source.and_then(|s| s.get(k));
    match get("type").and_then(Value::as_str) {
        Some("base64") => json!({
            "type": "blob",
            "modality": "image",
            "mime_type": get("media_type").cloned().unwrap_or_else(|| json!("image/unknown")),
            "content": get("data").cloned().unwrap_or_else(|| json!("")),
        }),
        Some("url") => json!({
            "type": "uri",
            "modality": "image",
            "uri": get("url").cloned().unwrap_or_else(|| json!("")),
        }),
        _ => Value::Object(item.clone()),
    }
}

/// A tool call's arguments: a JSON string is parsed, anything else kept.
fn tool_arguments(input: Option<&Value>) -> Value {
    match input {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| json!(s)),
        Some(v) => v.clone(),
        None => Value::Null,
    }
}

/// `span_utils.py::_content_to_parts`.
fn content_to_parts(content: Option<&Value>) -> Vec<Value> {
    match content {
        Some(Value::String(s)) => vec![json!({"type": "text", "content": s})],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|item| {
                let field = |k: &str| item.get(k).cloned().unwrap_or(Value::Null);
                let or_empty = |k: &str| item.get(k).cloned().unwrap_or_else(|| json!(""));
                match item.get("type").and_then(Value::as_str) {
                    Some("tool_use") => Some(json!({
                        "type": "tool_call",
                        "id": field("id"),
                        "name": field("name"),
                        "arguments": tool_arguments(item.get("input")),
                    })),
                    Some("thinking") => {
                        Some(json!({"type": "reasoning", "content": or_empty("thinking")}))
                    }
                    Some("redacted_thinking") => None,
                    Some("text") => Some(json!({"type": "text", "content": or_empty("text")})),
                    Some("image") => Some(image_part(item)),
                    Some("tool_result") => Some(json!({
                        "type": "tool_call_response",
                        "id": field("tool_use_id"),
                        "response": field("content"),
                    })),
                    _ => Some(Value::Object(item.clone())),
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `span_utils.py::_dump_system_content` (`None` for a system that is neither text nor a list).
fn dump_system_content(content: &Value) -> Option<String> {
    let parts: Vec<Value> = match content {
        Value::String(s) => vec![json!({"type": "text", "content": s})],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_object)
            .map(|item| match item.get("type").and_then(Value::as_str) {
                Some("text") => json!({
                    "type": "text",
                    "content": item.get("text").cloned().unwrap_or_else(|| json!("")),
                }),
                Some("image") => image_part(item),
                _ => Value::Object(item.clone()),
            })
            .collect(),
        _ => return None,
    };
    Some(py_json_dumps(&Value::Array(parts)))
}

/// `span_utils.py::aset_input_attributes`: the request's attributes, and with content capture
/// its system instructions, messages, tool definitions and output schema.
pub fn input_attributes(
    body: &Map<String, Value>,
    capture: bool,
) -> Vec<(&'static str, AttrValue)> {
    let mut out = Vec::with_capacity(10);
    push(&mut out, GEN_AI_REQUEST_MODEL, body.get("model"));
    // `kwargs.get("max_tokens_to_sample") or kwargs.get("max_tokens")`.
    let max = body
        .get("max_tokens_to_sample")
        .filter(|v| truthy(v))
        .or(body.get("max_tokens"));
    push(&mut out, GEN_AI_REQUEST_MAX_TOKENS, max);
    push(
        &mut out,
        GEN_AI_REQUEST_TEMPERATURE,
        body.get("temperature"),
    );
    push(&mut out, GEN_AI_REQUEST_TOP_P, body.get("top_p"));
    push(
        &mut out,
        GEN_AI_REQUEST_FREQUENCY_PENALTY,
        body.get("frequency_penalty"),
    );
    push(
        &mut out,
        GEN_AI_REQUEST_PRESENCE_PENALTY,
        body.get("presence_penalty"),
    );
    push(&mut out, GEN_AI_IS_STREAMING, body.get("stream"));
    if !capture {
        return out;
    }
    let text = |s: String| AttrValue::Str(s);
    if let Some(prompt) = body.get("prompt").filter(|p| !p.is_null()) {
        let messages = json!([{"role": "user", "parts": [{"type": "text", "content": prompt}]}]);
        out.push((GEN_AI_INPUT_MESSAGES, text(py_json_dumps(&messages))));
    } else if let Some(messages) = body.get("messages").filter(|m| !m.is_null()) {
        if let Some(system) = body.get("system").filter(|s| truthy(s)) {
            if let Some(dumped) = dump_system_content(system).filter(|d| !d.is_empty()) {
                out.push((GEN_AI_SYSTEM_INSTRUCTIONS, text(dumped)));
            }
        }
        let input: Vec<Value> = messages
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                json!({
                    "role": m.get("role").cloned().unwrap_or(Value::Null),
                    "parts": content_to_parts(m.get("content")),
                })
            })
            .collect();
        out.push((
            GEN_AI_INPUT_MESSAGES,
            text(py_json_dumps(&Value::Array(input))),
        ));
    }
    if let Some(tools) = body.get("tools").filter(|t| !t.is_null()) {
        let defs: Vec<Value> = tools
            .as_array()
            .into_iter()
            .flatten()
            .map(|tool| {
                let mut def = Map::new();
                def.insert(
                    "name".into(),
                    tool.get("name").cloned().unwrap_or(Value::Null),
                );
                if let Some(d) = tool.get("description").filter(|d| truthy(d)) {
                    def.insert("description".into(), d.clone());
                }
                if let Some(s) = tool.get("input_schema").filter(|s| !s.is_null()) {
                    def.insert("input_schema".into(), s.clone());
                }
                Value::Object(def)
            })
            .collect();
        out.push((
            GEN_AI_TOOL_DEFINITIONS,
            text(py_json_dumps(&Value::Array(defs))),
        ));
    }
    if let Some(format) = body.get("output_format").and_then(Value::as_object) {
        if format.get("type").and_then(Value::as_str) == Some("json_schema") {
            if let Some(schema) = format.get("schema").filter(|s| truthy(s)) {
                out.push((
                    GEN_AI_REQUEST_STRUCTURED_OUTPUT_SCHEMA,
                    text(py_json_dumps(schema)),
                ));
            }
        }
    }
    out
}

/// `span_utils.py::_build_output_messages_from_content` for a Messages answer.
fn output_messages(response: &Value) -> Vec<Value> {
    let parts: Vec<Value> = response
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|block| match block.get("type").and_then(Value::as_str) {
            Some("text") if block.get("text").is_some() => {
                Some(json!({"type": "text", "content": block["text"]}))
            }
            Some("thinking") => Some(json!({
                "type": "reasoning",
                "content": block.get("thinking").cloned().unwrap_or(Value::Null),
            })),
            Some("tool_use") => Some(json!({
                "type": "tool_call",
                "id": block.get("id").cloned().unwrap_or(Value::Null),
                "name": block.get("name").cloned().unwrap_or(Value::Null),
                "arguments": tool_arguments(block.get("input")),
            })),
            _ => None,
        })
        .collect();
    if parts.is_empty() {
        return Vec::new();
    }
    vec![json!({
        "role": response.get("role").cloned().unwrap_or_else(|| json!("assistant")),
        "parts": parts,
        "finish_reason": map_finish_reason(response.get("stop_reason")),
    })]
}

/// One content block of a stream (`streaming.py::_process_response_item`'s `events`).
#[derive(Debug, Default)]
struct BlockEvent {
    kind: String,
    text: String,
    id: Value,
    name: Value,
    input: Option<String>,
    finish_reason: Option<Value>,
}

/// `AnthropicStream._complete_response`.
#[derive(Debug, Default)]
struct StreamState {
    events: Vec<BlockEvent>,
    model: String,
    id: String,
    /// `dict(message.usage)`, with `message_delta`'s output tokens added.
    usage: Map<String, Value>,
    /// Bytes of text and arguments kept so far.
    kept: usize,
}

impl StreamState {
    /// `streaming.py::_process_response_item`.
    fn process(&mut self, item: &Value) {
        match item.get("type").and_then(Value::as_str) {
            Some("message_start") => {
                let message = &item["message"];
                self.model = message["model"].as_str().unwrap_or_default().to_string();
                self.usage = message["usage"].as_object().cloned().unwrap_or_default();
                self.id = message["id"].as_str().unwrap_or_default().to_string();
            }
            Some("content_block_start") => {
                let Some(index) = bounded_index(item) else {
                    return;
                };
                if self.events.len() <= index {
                    let block = &item["content_block"];
                    let kind = block["type"].as_str().unwrap_or_default().to_string();
                    self.events.push(BlockEvent {
                        kind: kind.clone(),
                        ..Default::default()
                    });
                    // `events[index]` past the end raises, and the rest is skipped.
                    if kind == "tool_use" && index < self.events.len() {
                        let event = &mut self.events[index];
                        event.id = block.get("id").cloned().unwrap_or(Value::Null);
                        event.name = block.get("name").cloned().unwrap_or(Value::Null);
                        event.input = Some(String::new());
                    }
                }
            }
            Some("content_block_delta") => {
                let Some(index) = bounded_index(item).filter(|&i| i < self.events.len()) else {
                    return;
                };
                let delta = &item["delta"];
                let piece = match delta["type"].as_str() {
                    Some("thinking_delta") => delta["thinking"].as_str(),
                    Some("text_delta") => delta["text"].as_str(),
                    Some("input_json_delta") => delta["partial_json"].as_str(),
                    _ => None,
                };
                let Some(piece) = piece else {
                    return;
                };
                if !take_budget(&mut self.kept, piece.len()) {
                    return;
                }
                let event = &mut self.events[index];
                match delta["type"].as_str() {
                    Some("input_json_delta") => {
                        if event.kind == "tool_use" {
                            event.input.get_or_insert_with(String::new).push_str(piece);
                        }
                    }
                    _ => event.text.push_str(piece),
                }
            }
            Some("message_delta") => {
                let reason = item["delta"].get("stop_reason").cloned();
                for event in &mut self.events {
                    event.finish_reason = reason.clone();
                }
                if let Some(usage) = item.get("usage").filter(|u| u.is_object()) {
                    let added = usage["output_tokens"].as_i64().unwrap_or(0);
                    let existing = self
                        .usage
                        .get("output_tokens")
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    self.usage.insert(
                        "output_tokens".into(),
                        json!(added.saturating_add(existing)),
                    );
                }
            }
            _ => {}
        }
    }
}

/// What a finished call reports to the metrics.
#[derive(Debug, Default)]
struct MetricAttrs {
    /// `gen_ai.response.model` (`shared_metrics_attributes`: kept unless `None`).
    response_model: Option<String>,
}

/// The span of one Messages call, open from the request until the answer's body ends, fails
/// or is dropped.
#[derive(Debug)]
pub struct MessagesCall {
    span: Span,
    capture: bool,
    stream: bool,
    started: Instant,
    status: Option<u16>,
    body: Body<StreamState>,
    secret: Option<String>,
    ended: bool,
}

impl MessagesCall {
    /// Opens the span of a Messages request (`__init__.py::_wrap`: the span with the provider
    /// and operation, then `_handle_input`), or `None` when the switch is off, the request is
    /// not a Messages call, its body is not a JSON object, or no subscriber records the span.
    pub fn start(request: HttpRequest<'_>) -> Option<MessagesCall> {
        if !is_instrumented()
            || !super::http_call::is_post_to(request.method, request.path, "/v1/messages")
            || !tracing::span_enabled!(target: TARGET, tracing::Level::INFO)
        {
            return None;
        }
        let body: Map<String, Value> = serde_json::from_slice(request.body?).ok()?;
        let capture = SWITCH.captures();
        let span = tracing::info_span!(
            target: TARGET,
            "chat",
            otel.name = SPAN_NAME,
            otel.kind = "client",
            otel.status_code = Empty,
            otel.status_description = Empty,
        );
        if span.is_disabled() {
            return None;
        }
        let mut attrs = vec![
            (GEN_AI_PROVIDER_NAME, AttrValue::Str(PROVIDER.into())),
            (GEN_AI_OPERATION_NAME, AttrValue::Str("chat".into())),
        ];
        attrs.extend(input_attributes(&body, capture));
        set_attributes(&span, attrs);
        Some(MessagesCall {
            span,
            capture,
            stream: body.get("stream").is_some_and(truthy),
            started: Instant::now(),
            status: None,
            body: Body::Buffered(Vec::new()),
            secret: request.secret(),
            ended: false,
        })
    }

    /// The span.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// The answer's status arrived; a streamed success is read event by event from now on.
    pub fn response_started(&mut self, status: u16) {
        self.status = Some(status);
        if (200..300).contains(&status) && self.stream {
            self.body = Body::stream(StreamState::default());
        }
    }

    /// Bytes of the answer's body, as they arrive.
    pub fn body_bytes(&mut self, bytes: &[u8]) {
        let fed = self.body.feed(bytes, |state, event| {
            // `Stream.__stream__`: an `error` event raises the SDK's status error.
            if event.event == "error" {
                return Err(event.data.clone());
            }
            if let Ok(item) = serde_json::from_str::<Value>(&event.data) {
                state.process(&item);
            }
            Ok(())
        });
        if let Fed::Failed(message) = fed {
            // The SDK raises `APIStatusError`; the wrapper counts it and leaves the span open
            // for ever. Ours ends now, failed (see the README's Differences).
            let description = match (&message, self.capture) {
                (Some(body), true) => status_error_text(body),
                _ => "An error occurred during streaming".to_string(),
            };
            self.exception("APIStatusError", &description);
            self.end();
        }
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
            self.status_failure(status, bytes);
            return;
        }
        match body {
            Body::Buffered(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(response) => self.record_response(&response),
                Err(_) => self.failure("JSONDecodeError", "the answer is not JSON"),
            },
            Body::Stream(state) => self.complete_stream(&state.1),
            Body::Ignored if !self.stream => self.failure(
                "AnswerTooLarge",
                "the answer passed the bound on what is read",
            ),
            Body::Ignored => {}
        }
        self.end();
    }

    /// The exchange failed (`_wrap`'s `except` with the SDK's transport error `class`).
    pub fn failed(mut self, class: &str, message: &str) {
        if self.ended {
            return;
        }
        match self.body.take() {
            // Mid-stream: `AnthropicStream.__next__` counts it; the span ends failed here.
            Body::Stream(_) => self.exception(class, message),
            _ => self.failure(class, message),
        }
        self.end();
    }

    /// The answer was an error status whose body the caller's stack already read.
    pub fn failed_with_status(mut self, status: u16, body: &[u8]) {
        if self.ended {
            return;
        }
        self.status_failure(status, body);
    }

    /// An error status: the SDK's class (`AnthropicClient._make_status_error`) and message.
    fn status_failure(&mut self, status: u16, body: &[u8]) {
        let class = status_error_class(status);
        let message = if self.capture {
            super::openai_v2::status_error_message(status, body)
        } else {
            format!("Error code: {status}")
        };
        self.failure(class, &message);
        self.end();
    }

    /// `_wrap`'s `except`: the duration and exception counter with `error.type`, the span's
    /// `error.type`, its `exception` event and status ERROR.
    fn failure(&self, class: &str, message: &str) {
        self.error(class, message, true);
    }

    /// A failure after the answer began (a stream's `error` event or a broken connection):
    /// counted as `AnthropicStream.__next__` counts it (no duration, no `exception` event), and
    /// the span ends failed.
    fn exception(&self, class: &str, message: &str) {
        self.error(class, message, false);
    }

    fn error(&self, class: &str, message: &str, raised_by_create: bool) {
        let attrs = [
            (GEN_AI_PROVIDER_NAME, AttrValue::Str(PROVIDER.into())),
            (ERROR_TYPE, AttrValue::Str(class.to_string())),
        ];
        if let Some(r) = recorder() {
            if raised_by_create {
                r.record_measurement(&Measurement::OperationDuration {
                    seconds: self.started.elapsed().as_secs_f64(),
                    attributes: &attrs,
                });
            }
            r.record_measurement(&Measurement::Counter {
                name: COMPLETION_EXCEPTIONS,
                value: 1,
                attributes: &attrs,
            });
        }
        let message = redact(message, self.secret.as_deref());
        set_attributes(
            &self.span,
            vec![(ERROR_TYPE, AttrValue::Str(class.to_string()))],
        );
        if raised_by_create {
            add_event(
                &self.span,
                "exception",
                vec![
                    ("exception.type", AttrValue::Str(exception_type(class))),
                    ("exception.message", AttrValue::Str(message.clone())),
                    ("exception.escaped", AttrValue::Str("False".into())),
                ],
            );
        }
        self.span.record("otel.status_code", "error");
        self.span
            .record("otel.status_description", message.as_str());
    }

    /// A JSON answer: `_wrap`'s success path (`shared_metrics_attributes`, the duration,
    /// `set_response_attributes`, `_set_token_usage`, status OK).
    fn record_response(&self, response: &Value) {
        let metric = MetricAttrs {
            response_model: response
                .get("model")
                .filter(|m| !m.is_null())
                .map(crate::pyrepr::py_str),
        };
        self.record_duration(&metric);
        let mut out = Vec::with_capacity(14);
        push(&mut out, GEN_AI_RESPONSE_MODEL, response.get("model"));
        push(&mut out, GEN_AI_RESPONSE_ID, response.get("id"));
        let stop_reason = response.get("stop_reason");
        if stop_reason.is_some_and(truthy) {
            out.push((
                GEN_AI_RESPONSE_FINISH_REASONS,
                AttrValue::StrArray(vec![map_finish_reason(stop_reason)]),
            ));
        }
        if self.capture {
            let messages = output_messages(response);
            if !messages.is_empty() {
                out.push((
                    GEN_AI_OUTPUT_MESSAGES,
                    AttrValue::Str(py_json_dumps(&Value::Array(messages))),
                ));
            }
        }
        // `_set_token_usage`: input tokens include the cache's.
        let usage = response.get("usage").filter(|u| u.is_object());
        let n = |k: &str| {
            usage
                .and_then(|u| u.get(k))
                .and_then(Value::as_i64)
                .unwrap_or(0)
        };
        let (input, output, cache_read, cache_write) = token_counts(n);
        let blocks = response
            .get("content")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        self.record_tokens(&metric, input, output);
        if blocks > 0 {
            self.record_choices(&metric, blocks as u64, &map_finish_reason(stop_reason));
        }
        self.push_usage(&mut out, input, output, cache_read, cache_write);
        set_attributes(&self.span, out);
        self.span.record("otel.status_code", "ok");
    }

    /// `AnthropicStream._handle_completion`.
    fn complete_stream(&self, state: &StreamState) {
        let metric = MetricAttrs {
            response_model: Some(state.model.clone()),
        };
        let mut out = Vec::with_capacity(12);
        push(&mut out, GEN_AI_RESPONSE_ID, Some(&json!(state.id)));
        self.record_duration(&metric);
        // `_resolve_stream_token_usage`: nothing without usage.
        if !state.usage.is_empty() {
            let (input, output, cache_read, cache_write) =
                token_counts(|k: &str| state.usage.get(k).and_then(Value::as_i64).unwrap_or(0));
            self.push_usage(&mut out, input, output, cache_read, cache_write);
            push(&mut out, GEN_AI_RESPONSE_MODEL, Some(&json!(state.model)));
            self.record_tokens(&metric, input, output);
            for event in &state.events {
                self.record_choices(&metric, 1, &map_finish_reason(event.finish_reason.as_ref()));
            }
        }
        // `set_streaming_response_attributes`.
        if !state.events.is_empty() {
            let mut reasons: Vec<String> = Vec::new();
            let mut parts = Vec::new();
            for event in &state.events {
                if event.finish_reason.as_ref().is_some_and(truthy) {
                    let mapped = map_finish_reason(event.finish_reason.as_ref());
                    if !reasons.contains(&mapped) {
                        reasons.push(mapped);
                    }
                }
                if self.capture {
                    match event.kind.as_str() {
                        "thinking" => parts.push(json!({"type": "reasoning", "content": event.text})),
                        "tool_use" => parts.push(json!({
                            "type": "tool_call",
                            "id": event.id,
                            "name": event.name,
                            "arguments": tool_arguments(event.input.as_ref().map(|s| json!(s)).as_ref()),
                        })),
                        "text" => parts.push(json!({"type": "text", "content": event.text})),
                        _ => {}
                    }
                }
            }
            let last = reasons.last().cloned().unwrap_or_default();
            if !reasons.is_empty() {
                out.push((GEN_AI_RESPONSE_FINISH_REASONS, AttrValue::StrArray(reasons)));
            }
            if !parts.is_empty() {
                let messages =
                    json!([{"role": "assistant", "parts": parts, "finish_reason": last}]);
                out.push((
                    GEN_AI_OUTPUT_MESSAGES,
                    AttrValue::Str(py_json_dumps(&messages)),
                ));
            }
        }
        set_attributes(&self.span, out);
        self.span.record("otel.status_code", "ok");
    }

    /// The usage attributes `_set_token_usage` sets (zeros included).
    fn push_usage(
        &self,
        out: &mut Vec<(&'static str, AttrValue)>,
        input: i64,
        output: i64,
        cache_read: i64,
        cache_creation: i64,
    ) {
        out.push((GEN_AI_USAGE_INPUT_TOKENS, AttrValue::I64(input)));
        out.push((GEN_AI_USAGE_OUTPUT_TOKENS, AttrValue::I64(output)));
        out.push((
            GEN_AI_USAGE_TOTAL_TOKENS,
            AttrValue::I64(input.saturating_add(output)),
        ));
        out.push((
            GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
            AttrValue::I64(cache_read),
        ));
        out.push((
            GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
            AttrValue::I64(cache_creation),
        ));
    }

    /// `utils.py::shared_metrics_attributes`.
    fn metric_attributes(metric: &MetricAttrs) -> Vec<(&'static str, AttrValue)> {
        let mut attrs = vec![(GEN_AI_PROVIDER_NAME, AttrValue::Str(PROVIDER.into()))];
        if let Some(m) = &metric.response_model {
            attrs.push((GEN_AI_RESPONSE_MODEL, AttrValue::Str(m.clone())));
        }
        attrs
    }

    fn record_duration(&self, metric: &MetricAttrs) {
        if let Some(r) = recorder() {
            r.record_measurement(&Measurement::OperationDuration {
                seconds: self.started.elapsed().as_secs_f64(),
                attributes: &Self::metric_attributes(metric),
            });
        }
    }

    /// The token histogram: input and output (only counts that are not negative).
    fn record_tokens(&self, metric: &MetricAttrs, input: i64, output: i64) {
        let Some(r) = recorder() else {
            return;
        };
        for (kind, tokens) in [("input", input), ("output", output)] {
            let Ok(tokens) = u64::try_from(tokens) else {
                continue;
            };
            let mut attrs = Self::metric_attributes(metric);
            attrs.push((GEN_AI_TOKEN_TYPE, AttrValue::Str(kind.into())));
            r.record_measurement(&Measurement::TokenUsage {
                tokens,
                attributes: &attrs,
            });
        }
    }

    fn record_choices(&self, metric: &MetricAttrs, count: u64, finish_reason: &str) {
        if let Some(r) = recorder() {
            let mut attrs = Self::metric_attributes(metric);
            attrs.push((
                GEN_AI_RESPONSE_FINISH_REASON,
                AttrValue::Str(finish_reason.to_string()),
            ));
            r.record_measurement(&Measurement::Counter {
                name: GENERATION_CHOICES,
                value: count,
                attributes: &attrs,
            });
        }
    }

    fn end(&mut self) {
        self.ended = true;
        self.span = Span::none();
    }
}

/// The text of a stream's `error` event as the SDK raises it (`f"{body}"`: the parsed body's
/// repr, else the data).
fn status_error_text(data: &str) -> String {
    match serde_json::from_str::<Value>(data) {
        Ok(v) => crate::pyrepr::py_repr(&v),
        Err(_) => data.to_string(),
    }
}

/// `exception.type` as Python's `record_exception` writes it: the SDK's classes under the
/// module that exports them (`anthropic.AuthenticationError`), anything else as it is.
fn exception_type(class: &str) -> String {
    const SDK: [&str; 14] = [
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "ConflictError",
        "RequestTooLargeError",
        "UnprocessableEntityError",
        "RateLimitError",
        "OverloadedError",
        "InternalServerError",
        "APIStatusError",
        "APIConnectionError",
        "APITimeoutError",
        "APIError",
    ];
    if SDK.contains(&class) {
        format!("anthropic.{class}")
    } else {
        class.to_string()
    }
}

/// The class the anthropic SDK raises for an error status (`Anthropic._make_status_error`).
pub fn status_error_class(status: u16) -> &'static str {
    match status {
        400 => "BadRequestError",
        401 => "AuthenticationError",
        403 => "PermissionDeniedError",
        404 => "NotFoundError",
        409 => "ConflictError",
        413 => "RequestTooLargeError",
        422 => "UnprocessableEntityError",
        429 => "RateLimitError",
        529 => "OverloadedError",
        s if s >= 500 => "InternalServerError",
        _ => "APIStatusError",
    }
}

impl Drop for MessagesCall {
    /// Dropped before its body ended (the caller stopped reading, or cancelled the request).
    /// Python's wrapper would leave the span open; ours records what came and ends it.
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        match (self.body.take(), self.status) {
            (Body::Stream(state), _) => self.complete_stream(&state.1),
            (_, Some(status)) if !(200..300).contains(&status) => {
                let class = status_error_class(status);
                self.failure(class, &format!("Error code: {status}"));
            }
            _ => self.failure(super::metrics::CANCELLED, "the call was cancelled"),
        }
    }
}

/// `(input, output, cache read, cache creation)` tokens from a usage object's counts (`n`), as
/// `_set_token_usage` reads them: the input includes the cache's tokens.
fn token_counts(n: impl Fn(&str) -> i64) -> (i64, i64, i64, i64) {
    let (cache_read, cache_write) = (
        n("cache_read_input_tokens"),
        n("cache_creation_input_tokens"),
    );
    let input = n("input_tokens")
        .saturating_add(cache_read)
        .saturating_add(cache_write);
    (input, n("output_tokens"), cache_read, cache_write)
}

#[cfg(test)]
impl MessagesCall {
    /// A call whose span records nothing, for the fuzz targets (every rule still runs).
    pub(crate) fn for_fuzz(stream: bool, capture: bool) -> Self {
        MessagesCall {
            span: Span::none(),
            capture,
            stream,
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

    #[test]
    fn finish_reasons_map_as_the_instrumentor_maps_them() {
        assert_eq!(map_finish_reason(Some(&json!("end_turn"))), "stop");
        assert_eq!(map_finish_reason(Some(&json!("tool_use"))), "tool_call");
        assert_eq!(map_finish_reason(Some(&json!("pause_turn"))), "pause_turn");
        assert_eq!(map_finish_reason(None), "");
    }

    #[test]
    fn capture_is_on_unless_the_variable_says_otherwise() {
        assert!(content_enabled_from_env_value(None));
        assert!(content_enabled_from_env_value(Some("")));
        assert!(content_enabled_from_env_value(Some("TRUE")));
        assert!(!content_enabled_from_env_value(Some("false")));
        assert!(!content_enabled_from_env_value(Some("0")));
    }

    #[test]
    fn stream_state_adds_delta_output_tokens_and_bounds_indices() {
        let mut s = StreamState::default();
        s.process(&json!({"type": "message_start", "message": {"id": "m", "model": "c", "usage": {"input_tokens": 3, "output_tokens": 1}}}));
        s.process(&json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}));
        s.process(&json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}));
        s.process(&json!({"type": "content_block_start", "index": 99_999_999, "content_block": {"type": "text"}}));
        s.process(&json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}}));
        assert_eq!(s.usage["output_tokens"], json!(5));
        assert_eq!(s.events.len(), 1);
        assert_eq!(s.events[0].text, "Hi");
    }
}
