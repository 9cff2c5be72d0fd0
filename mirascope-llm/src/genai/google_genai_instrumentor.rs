//! Spans, events and client metrics of the Gemini `generateContent` / `streamGenerateContent`
//! calls an application makes itself (through its own `reqwest` client), as
//! `opentelemetry-instrumentation-google-genai` 0.7b2 records them in the
//! `gen_ai_latest_experimental` mode Python Mirascope 2.8.2's `ops.instrument_google_genai()`
//! opts into (`mirascope/ops/_internal/instrumentation/providers/google_genai.py`). Each rule
//! cites the function of `opentelemetry/instrumentation/google_genai/{generate_content,message}.py`
//! it ports. The request body stands for the `generate_content` call's `contents` and `config`
//! (the SDK writes the config as `generationConfig`, `systemInstruction` and `tools`), the
//! answer's chunks for the SDK's parsed responses.
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

use std::time::Instant;

use serde_json::{json, Map, Value};
use tracing::field::Empty;
use tracing::Span;

use super::http_call::{redact, take_budget, truthy, Body, Fed, HttpRequest};
use super::keys::{
    ERROR_TYPE, GEN_AI_INPUT_MESSAGES, GEN_AI_OPERATION_NAME, GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_OUTPUT_TYPE, GEN_AI_REQUEST_CHOICE_COUNT, GEN_AI_REQUEST_FREQUENCY_PENALTY,
    GEN_AI_REQUEST_MAX_TOKENS, GEN_AI_REQUEST_MODEL, GEN_AI_REQUEST_PRESENCE_PENALTY,
    GEN_AI_REQUEST_SEED, GEN_AI_REQUEST_STOP_SEQUENCES, GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_K, GEN_AI_REQUEST_TOP_P, GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_SYSTEM_INSTRUCTIONS, GEN_AI_TOKEN_TYPE, GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_USAGE_INPUT_TOKENS, GEN_AI_USAGE_OUTPUT_TOKENS,
};
use super::metrics::{recorder, Measurement};
use super::{add_event, set_attributes, AttrValue};
use crate::pyrepr::py_json_dumps_compact;

/// The `tracing` target of these spans (under [`super::TARGET`]; [`SWITCH`] is their
/// switch).
pub const TARGET: &str = "mirascope_llm::genai::google_genai_instrumentor";
/// `_GENERATE_CONTENT_OP_NAME`.
pub const OPERATION: &str = "generate_content";
/// The log record the instrumentor writes at the end of a call (an event of the span here).
pub const DETAILS_EVENT: &str = "gen_ai.client.inference.operation.details";
/// `gen_ai.system` of the metrics (`_get_gemini_system_name`; `vertex_ai` for Vertex).
const GEMINI: &str = "gemini";
const VERTEX_AI: &str = "vertex_ai";
/// `code.function.name`.
const CODE_FUNCTION_NAME: &str = "code.function.name";

/// The switch of these spans (`mirascope-ops`' `instrument_google_genai()` sets it), with content capture
/// read once when switched on.
pub static SWITCH: super::http_call::Switch = super::http_call::Switch::new(false);

/// Whether these spans are on.
pub fn is_instrumented() -> bool {
    SWITCH.is_on()
}

/// `util/genai/utils.py::get_content_capturing_mode` for
/// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`: `SPAN_ONLY` and `SPAN_AND_EVENT`
/// capture on the span (and, for the latter, in the event); anything else does not.
pub fn content_enabled_from_env_value(value: Option<&str>) -> bool {
    matches!(
        value.map(|v| v.trim().to_ascii_uppercase()).as_deref(),
        Some("SPAN_ONLY") | Some("SPAN_AND_EVENT")
    )
}

/// The model and the method of a request path (`/v1beta/models/{model}:generateContent`), or
/// `None` when it is not a generate-content call.
pub fn generate_content_target(method: &str, path: &str) -> Option<(String, bool)> {
    if !method.eq_ignore_ascii_case("POST") {
        return None;
    }
    let (before, verb) = path.rsplit_once(':')?;
    let stream = match verb.split('?').next()? {
        "generateContent" => false,
        "streamGenerateContent" => true,
        _ => return None,
    };
    let model = before.rsplit_once("/models/")?.1;
    (!model.is_empty()).then(|| (model.to_string(), stream))
}

/// `_create_request_attributes` with the default allow list: the renamed `generationConfig`
/// keys, and `gen_ai.output.type` from `responseMimeType`.
pub fn request_attributes(body: &Map<String, Value>) -> Vec<(&'static str, AttrValue)> {
    let mut out = Vec::new();
    let Some(config) = body.get("generationConfig").and_then(Value::as_object) else {
        return out;
    };
    const RENAMED: [(&str, &str); 9] = [
        ("temperature", GEN_AI_REQUEST_TEMPERATURE),
        ("topP", GEN_AI_REQUEST_TOP_P),
        ("topK", GEN_AI_REQUEST_TOP_K),
        ("maxOutputTokens", GEN_AI_REQUEST_MAX_TOKENS),
        ("stopSequences", GEN_AI_REQUEST_STOP_SEQUENCES),
        ("seed", GEN_AI_REQUEST_SEED),
        ("candidateCount", GEN_AI_REQUEST_CHOICE_COUNT),
        ("presencePenalty", GEN_AI_REQUEST_PRESENCE_PENALTY),
        ("frequencyPenalty", GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ];
    for (wire, key) in RENAMED {
        if let Some(v) = config.get(wire).and_then(scalar) {
            out.push((key, v));
        }
    }
    if let Some(mime) = config
        .get("responseMimeType")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
    {
        let kind = match mime {
            "text/plain" => "text",
            "application/json" => "json",
            other => other,
        };
        out.push((GEN_AI_OUTPUT_TYPE, AttrValue::Str(kind.to_string())));
    }
    out
}

/// A JSON value as an attribute: scalars and string arrays.
fn scalar(v: &Value) -> Option<AttrValue> {
    match v {
        Value::String(s) => Some(AttrValue::Str(s.clone())),
        Value::Bool(b) => Some(AttrValue::Bool(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(AttrValue::I64)
            .or_else(|| n.as_f64().map(AttrValue::F64)),
        Value::Array(items) if items.iter().all(Value::is_string) => Some(AttrValue::StrArray(
            items
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
        )),
        _ => None,
    }
}

/// `message.py::_to_part`: text, inline data, file data, function call and response; anything
/// else is dropped.
fn to_part(part: &Value, idx: usize) -> Option<Value> {
    let tool_call_id = |name: Option<&Value>| match name.and_then(Value::as_str) {
        Some(n) if !n.is_empty() => format!("{n}_{idx}"),
        _ => idx.to_string(),
    };
    if let Some(text) = part.get("text").filter(|t| !t.is_null()) {
        return Some(json!({"content": text, "type": "text"}));
    }
    if let Some(data) = part.get("inlineData").filter(|d| truthy(d)) {
        return Some(json!({
            "data": data.get("data").cloned().unwrap_or_else(|| json!("")),
            "mime_type": data.get("mimeType").cloned().unwrap_or_else(|| json!("")),
            "type": "blob",
        }));
    }
    if let Some(data) = part.get("fileData").filter(|d| truthy(d)) {
        return Some(json!({
            "mime_type": data.get("mimeType").cloned().unwrap_or_else(|| json!("")),
            "uri": data.get("fileUri").cloned().unwrap_or_else(|| json!("")),
            "type": "file_data",
        }));
    }
    if let Some(call) = part.get("functionCall").filter(|c| truthy(c)) {
        let id = call
            .get("id")
            .filter(|i| truthy(i))
            .cloned()
            .unwrap_or_else(|| json!(tool_call_id(call.get("name"))));
        return Some(json!({
            "arguments": call.get("args").cloned().unwrap_or(Value::Null),
            "name": call.get("name").cloned().unwrap_or_else(|| json!("")),
            "id": id,
            "type": "tool_call",
        }));
    }
    if let Some(response) = part.get("functionResponse").filter(|r| truthy(r)) {
        let id = response
            .get("id")
            .filter(|i| truthy(i))
            .cloned()
            .unwrap_or_else(|| json!(tool_call_id(response.get("name"))));
        return Some(json!({
            "response": response.get("response").cloned().unwrap_or(Value::Null),
            "id": id,
            "type": "tool_call_response",
        }));
    }
    None
}

/// A content's parts (`_to_input_message`'s, Nones filtered).
fn to_parts(content: &Value) -> Vec<Value> {
    content
        .get("parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(idx, p)| to_part(p, idx))
        .collect()
}

/// `message.py::_to_role`.
fn to_role(role: Option<&Value>) -> &'static str {
    match role.and_then(Value::as_str) {
        Some("user") => "user",
        Some("model") => "assistant",
        _ => "",
    }
}

/// `message.py::_to_finish_reason`.
fn to_finish_reason(reason: Option<&Value>) -> String {
    match reason.and_then(Value::as_str) {
        None => String::new(),
        Some("FINISH_REASON_UNSPECIFIED") | Some("OTHER") => "error".into(),
        Some("STOP") => "stop".into(),
        Some("MAX_TOKENS") => "length".into(),
        Some(other) => other.to_string(),
    }
}

/// The most levels of nested schema followed (a hostile request cannot recurse without end).
const MAX_SCHEMA_DEPTH: usize = 64;

/// `Schema.model_dump(exclude_none=True)` of a wire schema: Python's field names and order,
/// nested schemas likewise (a key in either spelling).
fn schema_dump(schema: &Value, depth: usize) -> Value {
    let Some(map) = schema.as_object().filter(|_| depth < MAX_SCHEMA_DEPTH) else {
        return schema.clone();
    };
    let mut out = Map::new();
    for &(wire, name) in crate::provider::google_schema::SCHEMA_FIELDS {
        // The SDK writes the outer keys in camelCase and leaves nested ones as given.
        let Some(v) = map
            .get(wire)
            .or_else(|| map.get(name))
            .filter(|v| !v.is_null())
        else {
            continue;
        };
        let v = match name {
            "properties" | "defs" => Value::Object(
                v.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, s)| (k.clone(), schema_dump(s, depth + 1)))
                    .collect(),
            ),
            "items" => schema_dump(v, depth + 1),
            "any_of" => Value::Array(
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| schema_dump(s, depth + 1))
                    .collect(),
            ),
            _ => v.clone(),
        };
        out.insert(name.to_string(), v);
    }
    Value::Object(out)
}

/// The `Tool` fields other than `function_declarations`, in `model_dump` order, with their wire
/// names (`_tool_to_tool_definition`'s generic definitions).
const TOOL_FIELDS: [(&str, &str); 11] = [
    ("retrieval", "retrieval"),
    ("computerUse", "computer_use"),
    ("fileSearch", "file_search"),
    ("googleSearch", "google_search"),
    ("googleMaps", "google_maps"),
    ("codeExecution", "code_execution"),
    ("enterpriseWebSearch", "enterprise_web_search"),
    ("googleSearchRetrieval", "google_search_retrieval"),
    ("parallelAiSearch", "parallel_ai_search"),
    ("urlContext", "url_context"),
    ("mcpServers", "mcp_servers"),
];

/// `_tool_to_tool_definition` for every tool of the request; `with_parameters` false gives
/// `_tool_def_without_parameters_attr`'s form.
fn tool_definitions(body: &Map<String, Value>, with_parameters: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for tool in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for fd in tool
            .get("functionDeclarations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let parameters = if !with_parameters {
                Value::Null
            } else if let Some(p) = fd.get("parameters").filter(|p| !p.is_null()) {
                schema_dump(p, 0)
            } else {
                fd.get("parametersJsonSchema")
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            out.push(json!({
                "name": fd.get("name").cloned().unwrap_or(Value::Null),
                "description": fd.get("description").cloned().unwrap_or(Value::Null),
                "parameters": parameters,
                "type": "function",
            }));
        }
        for (wire, name) in TOOL_FIELDS {
            if tool.get(wire).is_some_and(|v| !v.is_null()) {
                out.push(json!({"name": name, "type": name}));
            }
        }
    }
    out
}

/// The most distinct finish reasons a call keeps (the API defines about twenty).
const MAX_FINISH_REASONS: usize = 64;

/// What the call gathers until it ends (`_GenerateContentInstrumentationHelper`'s state).
#[derive(Debug, Default)]
struct Gathered {
    /// Sorted and unique (`_finish_reasons_set`).
    finish_reasons: std::collections::BTreeSet<String>,
    input_tokens: i64,
    output_tokens: i64,
    error_type: Option<String>,
    /// Every candidate of every response, in order.
    candidates: Vec<Value>,
    /// Bytes of candidate content kept so far.
    kept: usize,
}

impl Gathered {
    /// `_update_response`: finish reasons, token counts, the no-candidates error type; the
    /// candidates kept for the output messages.
    fn update(&mut self, response: &Value) {
        let candidates = response.get("candidates").and_then(Value::as_array);
        for c in candidates.into_iter().flatten() {
            if let Some(reason) = c.get("finishReason").and_then(Value::as_str) {
                let lower = reason.to_ascii_lowercase();
                let name = lower.strip_prefix("finish_reason_").unwrap_or(&lower);
                // A hostile stream cannot grow the set without end.
                if self.finish_reasons.len() < MAX_FINISH_REASONS {
                    self.finish_reasons.insert(name.to_string());
                }
            }
            let size = c.to_string().len();
            if take_budget(&mut self.kept, size) {
                self.candidates.push(c.clone());
            }
        }
        let usage = response.get("usageMetadata");
        let count = |k: &str| {
            usage
                .and_then(|u| u.get(k))
                .and_then(Value::as_i64)
                .filter(|&n| n != 0)
        };
        if let Some(n) = count("promptTokenCount") {
            self.input_tokens = n;
        }
        if let Some(n) = count("candidatesTokenCount") {
            self.output_tokens = n;
        }
        // `_maybe_update_error_type`.
        if candidates.is_none_or(|c| c.is_empty()) {
            let reason = response
                .pointer("/promptFeedback/blockReason")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty() && *r != "BLOCKED_REASON_UNSPECIFIED");
            self.error_type = Some(match reason {
                Some(r) => format!("BLOCKED_{}", r.to_ascii_uppercase()),
                None => "NO_CANDIDATES".to_string(),
            });
        }
    }
}

/// The span of one generate-content call.
#[derive(Debug)]
pub struct GenerateContentCall {
    span: Span,
    capture: bool,
    stream: bool,
    model: String,
    system: &'static str,
    started: Instant,
    status: Option<u16>,
    body: Body<()>,
    request: Map<String, Value>,
    gathered: Gathered,
    secret: Option<String>,
    ended: bool,
}

impl GenerateContentCall {
    /// Opens the span of a generate-content request (`instrumented_generate_content`:
    /// `start_span_as_current_span` with the request attributes), or `None` when the switch is
    /// off, the request is not such a call, its body is not a JSON object, or no subscriber
    /// records the span.
    pub fn start(request: HttpRequest<'_>) -> Option<GenerateContentCall> {
        if !is_instrumented() || !tracing::span_enabled!(target: TARGET, tracing::Level::INFO) {
            return None;
        }
        let path = request.path;
        let (model, stream) = generate_content_target(request.method, path)?;
        let body: Map<String, Value> = serde_json::from_slice(request.body?).ok()?;
        let span = tracing::info_span!(
            target: TARGET,
            "generate_content",
            otel.name = %format_args!("{OPERATION} {model}"),
            otel.kind = "internal",
            otel.status_code = Empty,
            otel.status_description = Empty,
        );
        if span.is_disabled() {
            return None;
        }
        let function = if stream {
            "google.genai.Models.generate_content_stream"
        } else {
            "google.genai.Models.generate_content"
        };
        let mut attrs = vec![
            (CODE_FUNCTION_NAME, AttrValue::Str(function.into())),
            (GEN_AI_REQUEST_MODEL, AttrValue::Str(model.clone())),
            (GEN_AI_OPERATION_NAME, AttrValue::Str(OPERATION.into())),
        ];
        attrs.extend(request_attributes(&body));
        set_attributes(&span, attrs);
        // `_get_is_vertexai`: a Vertex AI endpoint names a publisher.
        let system = if path.contains("/publishers/") {
            VERTEX_AI
        } else {
            GEMINI
        };
        let secret = request.secret().or_else(|| {
            request
                .url
                .split_once("key=")
                .map(|(_, k)| k.split('&').next().unwrap_or(k).to_string())
        });
        Some(GenerateContentCall {
            span,
            capture: SWITCH.captures(),
            stream,
            model,
            system,
            started: Instant::now(),
            status: None,
            body: Body::Buffered(Vec::new()),
            request: body,
            gathered: Gathered::default(),
            secret,
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
            self.body = Body::stream(());
        }
    }

    /// Bytes of the answer's body, as they arrive.
    pub fn body_bytes(&mut self, bytes: &[u8]) {
        let gathered = &mut self.gathered;
        let fed = self.body.feed(bytes, |_, event| {
            if let Ok(chunk) = serde_json::from_str::<Value>(&event.data) {
                gathered.update(&chunk);
            }
            Ok(())
        });
        if let Fed::Failed(_) = fed {
            self.body = Body::Ignored;
        }
    }

    /// The answer's body ended.
    pub fn body_ended(mut self) {
        if self.ended {
            return;
        }
        let status = self.status.unwrap_or(0);
        match self.body.take() {
            Body::Buffered(bytes) if (200..300).contains(&status) => {
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(response) => self.gathered.update(&response),
                    Err(_) => self.exception("JSONDecodeError", "the answer is not JSON"),
                }
            }
            Body::Buffered(bytes) => self.status_error(status, &bytes),
            _ => {}
        }
        self.finish();
    }

    /// The exchange failed (a transport error of class `class`).
    pub fn failed(mut self, class: &str, message: &str) {
        if self.ended {
            return;
        }
        self.exception(class, message);
        self.finish();
    }

    /// The answer was an error status whose body the caller's stack already read.
    pub fn failed_with_status(mut self, status: u16, body: &[u8]) {
        if self.ended {
            return;
        }
        self.status_error(status, body);
        self.finish();
    }

    /// `errors.py::APIError.raise_for_response`: `ClientError` (4xx) or `ServerError` (5xx),
    /// whose text is `{code} {status}. {details}`.
    fn status_error(&mut self, status: u16, body: &[u8]) {
        let class = match status {
            400..=499 => "ClientError",
            500..=599 => "ServerError",
            _ => "APIError",
        };
        let details = serde_json::from_slice::<Value>(body).unwrap_or_else(
            |_| json!({"message": String::from_utf8_lossy(body), "status": Value::Null}),
        );
        let details = match details {
            Value::Array(mut items) if items.len() == 1 => items.remove(0),
            other => other,
        };
        let state = details
            .get("status")
            .or_else(|| details.pointer("/error/status"))
            .cloned()
            .unwrap_or(Value::Null);
        let message = if self.capture {
            format!(
                "{status} {}. {}",
                crate::pyrepr::py_str(&state),
                crate::pyrepr::py_repr(&details)
            )
        } else {
            format!("{status} {}.", crate::pyrepr::py_str(&state))
        };
        self.exception(class, &message);
    }

    /// The span's context manager records the exception (`record_exception`, status ERROR
    /// `{Class}: {message}`) and `process_error` keeps the class for `error.type`.
    fn exception(&mut self, class: &str, message: &str) {
        let message = redact(message, self.secret.as_deref());
        let qualified = match class {
            "ClientError" | "ServerError" | "APIError" => format!("google.genai.errors.{class}"),
            other => other.to_string(),
        };
        add_event(
            &self.span,
            "exception",
            vec![
                ("exception.type", AttrValue::Str(qualified)),
                ("exception.message", AttrValue::Str(message.clone())),
                ("exception.escaped", AttrValue::Str("False".into())),
            ],
        );
        self.span.record("otel.status_code", "error");
        self.span.record(
            "otel.status_description",
            format!("{class}: {message}").as_str(),
        );
        self.gathered.error_type = Some(class.to_string());
    }

    /// The `finally` of `instrumented_generate_content`: the final attributes, the completion
    /// details (span and event), the token and duration metrics; the span ends.
    fn finish(&mut self) {
        let g = &self.gathered;
        let mut final_attrs = vec![
            (GEN_AI_USAGE_INPUT_TOKENS, AttrValue::I64(g.input_tokens)),
            (GEN_AI_USAGE_OUTPUT_TOKENS, AttrValue::I64(g.output_tokens)),
            (
                GEN_AI_RESPONSE_FINISH_REASONS,
                AttrValue::StrArray(g.finish_reasons.iter().cloned().collect()),
            ),
        ];
        if let Some(e) = &g.error_type {
            final_attrs.push((ERROR_TYPE, AttrValue::Str(e.clone())));
        }
        // `_maybe_log_completion_details`.
        let details = self.completion_details();
        let mut span_attrs = final_attrs.clone();
        for (key, value) in &details {
            span_attrs.push((key, AttrValue::Str(py_json_dumps_compact(value))));
        }
        set_attributes(&self.span, span_attrs);
        let mut event = request_attributes(&self.request);
        event.extend(final_attrs);
        for (key, value) in details {
            // Structured attributes of the log record: JSON text on a span event.
            event.push((key, AttrValue::Str(py_json_dumps_compact(&value))));
        }
        add_event(&self.span, DETAILS_EVENT, event);
        self.record_metrics();
        self.ended = true;
        self.span = Span::none();
    }

    /// `_create_completion_details_attributes` with content capture, else only the tool
    /// definitions without their parameters.
    fn completion_details(&self) -> Vec<(&'static str, Value)> {
        let tools = tool_definitions(&self.request, self.capture);
        if !self.capture {
            return if tools.is_empty() {
                Vec::new()
            } else {
                vec![(GEN_AI_TOOL_DEFINITIONS, Value::Array(tools))]
            };
        }
        let input: Vec<Value> = self
            .request
            .get("contents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| json!({"role": to_role(c.get("role")), "parts": to_parts(c)}))
            .collect();
        let output: Vec<Value> = self
            .gathered
            .candidates
            .iter()
            .filter_map(|c| {
                let content = c.get("content").filter(|v| truthy(v))?;
                Some(json!({
                    "role": to_role(content.get("role")),
                    "parts": to_parts(content),
                    "finish_reason": to_finish_reason(c.get("finishReason")),
                }))
            })
            .collect();
        let mut out = vec![
            (GEN_AI_INPUT_MESSAGES, Value::Array(input)),
            (GEN_AI_OUTPUT_MESSAGES, Value::Array(output)),
        ];
        if let Some(system) = self.request.get("systemInstruction").filter(|s| truthy(s)) {
            let parts = to_parts(system);
            if !parts.is_empty() {
                out.push((GEN_AI_SYSTEM_INSTRUCTIONS, Value::Array(parts)));
            }
        }
        if !tools.is_empty() {
            out.push((GEN_AI_TOOL_DEFINITIONS, Value::Array(tools)));
        }
        out
    }

    /// `_record_token_usage_metric` and `_record_duration_metric`.
    fn record_metrics(&self) {
        let Some(r) = recorder() else {
            return;
        };
        let base = [
            ("gen_ai.system", AttrValue::Str(self.system.into())),
            (GEN_AI_REQUEST_MODEL, AttrValue::Str(self.model.clone())),
            (GEN_AI_OPERATION_NAME, AttrValue::Str(OPERATION.into())),
        ];
        for (kind, tokens) in [
            ("input", self.gathered.input_tokens),
            ("output", self.gathered.output_tokens),
        ] {
            let mut attrs = vec![(GEN_AI_TOKEN_TYPE, AttrValue::Str(kind.into()))];
            attrs.extend(base.iter().cloned());
            r.record_measurement(&Measurement::TokenUsage {
                tokens: u64::try_from(tokens).unwrap_or(0),
                attributes: &attrs,
            });
        }
        let mut attrs = base.to_vec();
        if let Some(e) = &self.gathered.error_type {
            attrs.push((ERROR_TYPE, AttrValue::Str(e.clone())));
        }
        r.record_measurement(&Measurement::OperationDuration {
            seconds: self.started.elapsed().as_secs_f64(),
            attributes: &attrs,
        });
    }
}

impl Drop for GenerateContentCall {
    /// Dropped before the body ended: as Python's generator closed early, the `finally` runs
    /// with what came.
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        if let Some(status) = self.status.filter(|s| !(200..300).contains(s)) {
            self.status_error(status, &[]);
        }
        self.finish();
    }
}

#[cfg(test)]
impl GenerateContentCall {
    /// A call whose span records nothing, for the fuzz targets (every rule still runs).
    pub(crate) fn for_fuzz(request: &Map<String, Value>, stream: bool, capture: bool) -> Self {
        let _ = request_attributes(request);
        GenerateContentCall {
            span: Span::none(),
            capture,
            stream,
            model: "fuzz".into(),
            system: GEMINI,
            started: Instant::now(),
            status: None,
            body: Body::Buffered(Vec::new()),
            request: request.clone(),
            gathered: Gathered::default(),
            secret: Some("fuzz-key".into()),
            ended: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_content_paths() {
        assert_eq!(
            generate_content_target("POST", "/v1beta/models/gemini-2.5-flash:generateContent"),
            Some(("gemini-2.5-flash".into(), false))
        );
        assert_eq!(
            generate_content_target("POST", "/v1beta/models/g:streamGenerateContent?alt=sse"),
            Some(("g".into(), true))
        );
        assert_eq!(generate_content_target("POST", "/v1/messages"), None);
        assert_eq!(
            generate_content_target("GET", "/v1beta/models/g:generateContent"),
            None
        );
    }

    #[test]
    fn schemas_dump_in_python_field_order() {
        let wire = json!({"type": "OBJECT", "properties": {"cityName": {"type": "STRING", "maxLength": 9}}, "required": ["cityName"]});
        assert_eq!(
            py_json_dumps_compact(&schema_dump(&wire, 0)),
            r#"{"properties":{"cityName":{"max_length":9,"type":"STRING"}},"required":["cityName"],"type":"OBJECT"}"#
        );
    }
}
