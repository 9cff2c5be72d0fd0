//! The GenAI span of one model call: creation (name and kind fixed at creation), the request
//! attributes, the response attributes, errors, and the stream span's lifecycle.

use serde_json::Value;
use tracing::field::Empty;
use tracing::Span;

use super::{bridge, capture_content, encode, mirascope, AttrValue, TARGET};
use crate::error::Error;
use crate::format::ResolvedFormat;
use crate::model::CallRequest;
use crate::params::Params;
use crate::response::Response;

/// What the span needs to know about the call at creation.
pub(crate) struct CallInfo<'a> {
    pub model_id: &'a str,
    pub provider_id: &'a str,
    pub request: &'a CallRequest,
    pub format: Option<&'a ResolvedFormat>,
    pub base_url: &'a str,
}

/// Opens the GenAI span `chat {model_id}` (CLIENT) as a child of the current span and records
/// the request attributes. Builds nothing when no subscriber is interested.
pub(crate) fn start(info: &CallInfo<'_>) -> Span {
    let output_type = if info.request.format.is_some() {
        "json"
    } else {
        "text"
    };
    let span = tracing::info_span!(
        target: TARGET,
        "chat",
        otel.name = %format_args!("chat {}", info.model_id),
        otel.kind = "client",
        otel.status_code = Empty,
        otel.status_description = Empty,
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = info.provider_id,
        gen_ai.request.model = info.model_id,
        gen_ai.output.type = output_type,
        gen_ai.request.temperature = Empty,
        gen_ai.request.max_tokens = Empty,
        gen_ai.request.top_p = Empty,
        gen_ai.request.top_k = Empty,
        gen_ai.request.seed = Empty,
        gen_ai.request.frequency_penalty = Empty,
        gen_ai.request.presence_penalty = Empty,
        gen_ai.request.stop_sequences = Empty,
        gen_ai.request.choice.count = Empty,
        gen_ai.system_instructions = Empty,
        gen_ai.input.messages = Empty,
        gen_ai.tool.definitions = Empty,
        gen_ai.response.model = Empty,
        gen_ai.response.id = Empty,
        gen_ai.response.finish_reasons = Empty,
        gen_ai.output.messages = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.usage.cache_read.input_tokens = Empty,
        gen_ai.usage.cache_creation.input_tokens = Empty,
        gen_ai.usage.reasoning.output_tokens = Empty,
        gen_ai.conversation.id = Empty,
        mirascope.response.messages = Empty,
        mirascope.response.content = Empty,
        mirascope.response.usage = Empty,
        server.address = Empty,
        server.port = Empty,
        error.type = Empty,
        error.message = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    record_params(&span, &info.request.params);
    let capture = capture_content();
    let messages = &info.request.messages;
    if capture {
        if let Some(v) = encode::system_instructions(messages) {
            span.record("gen_ai.system_instructions", v);
        }
        if let Some(v) = encode::input_messages(messages) {
            span.record("gen_ai.input.messages", v);
        }
    }
    if let Some(v) = encode::tool_definitions(&info.request.tools, info.format) {
        span.record("gen_ai.tool.definitions", v);
    }
    if let Ok(url) = reqwest::Url::parse(info.base_url) {
        if let Some(host) = url.host_str() {
            span.record("server.address", host);
            if let Some(port) = url.port_or_known_default() {
                span.record("server.port", i64::from(port));
            }
        }
    }
    if let Some(id) = info.request.conversation_id.as_deref() {
        span.record("gen_ai.conversation.id", id);
    }
    span
}

/// A param value Mirascope records as an attribute (`str|int|float|bool|list[str]`).
fn is_primitive(v: &Value) -> bool {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    }
}

fn record_value(span: &Span, key: &'static str, v: &Value) {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => {
                span.record(key, i);
            }
            None => {
                span.record(key, n.as_f64().unwrap_or_default());
            }
        },
        Value::Bool(b) => {
            span.record(key, *b);
        }
        Value::String(s) => {
            span.record(key, s.as_str());
        }
        other => {
            span.record(key, other.to_string());
        }
    }
}

/// `gen_ai.request.*` from the user's params (not from the wire request).
fn record_params(span: &Span, params: &Params) {
    // Later entries of each list win, whatever order the user set them in.
    const SCALARS: &[(&str, &[&str])] = &[
        ("gen_ai.request.temperature", &["temperature"]),
        (
            "gen_ai.request.max_tokens",
            &["max_tokens", "max_output_tokens", "max_completion_tokens"],
        ),
        ("gen_ai.request.top_p", &["top_p"]),
        ("gen_ai.request.top_k", &["top_k"]),
        ("gen_ai.request.seed", &["seed"]),
        ("gen_ai.request.frequency_penalty", &["frequency_penalty"]),
        ("gen_ai.request.presence_penalty", &["presence_penalty"]),
        ("gen_ai.request.choice.count", &["n", "choice_count"]),
    ];
    for (attr, names) in SCALARS {
        if let Some(v) = names
            .iter()
            .rev()
            .filter_map(|n| params.get(n))
            .find(|v| is_primitive(v) && !v.is_array())
        {
            record_value(span, attr, v);
        }
    }
    let stop = ["stop", "stop_sequences"]
        .iter()
        .filter_map(|n| params.get(n))
        .find(|v| is_primitive(v));
    if let Some(stop) = stop {
        let list: Vec<String> = match stop {
            Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Value::String(s) => vec![s.clone()],
            other => vec![other.to_string()],
        };
        set_string_array(span, "gen_ai.request.stop_sequences", list);
    }
}

/// Adds the `gen_ai.request.params.untracked` event for params that are not primitive values.
pub(crate) fn record_untracked_params(span: &Span, params: &Params) {
    if span.is_disabled() {
        return;
    }
    let untracked: Vec<(&str, &Value)> = params
        .iter()
        .filter(|(_, v)| !v.is_null() && !is_primitive(v))
        .collect();
    if untracked.is_empty() {
        return;
    }
    let mut json = serde_json::Map::new();
    for (k, v) in &untracked {
        json.insert(k.to_string(), (*v).clone());
    }
    add_event(
        span,
        "gen_ai.request.params.untracked",
        vec![
            (
                "gen_ai.untracked_params.count",
                AttrValue::I64(untracked.len() as i64),
            ),
            (
                "gen_ai.untracked_params.keys",
                AttrValue::StrArray(untracked.iter().map(|(k, _)| k.to_string()).collect()),
            ),
            (
                "gen_ai.untracked_params.json",
                AttrValue::Str(Value::Object(json).to_string()),
            ),
        ],
    );
}

fn set_string_array(span: &Span, key: &'static str, values: Vec<String>) {
    match bridge() {
        Some(b) => (b.set_string_array)(span, key, values),
        None => {
            span.record(key, Value::from(values).to_string());
        }
    }
}

fn add_event(span: &Span, name: &'static str, attrs: Vec<(&'static str, AttrValue)>) {
    match bridge() {
        Some(b) => (b.add_event)(span, name, attrs),
        None => {
            tracing::event!(target: TARGET, parent: span, tracing::Level::INFO, event = name, attributes = ?attrs)
        }
    }
}

/// Records the response attributes.
pub(crate) fn record_response(span: &Span, resp: &Response, stream: bool) {
    if span.is_disabled() {
        return;
    }
    let capture = capture_content();
    span.record("gen_ai.response.model", resp.model_id());
    // Python Mirascope never records the id of streamed responses; we do when the provider sent one.
    if let Some(id) = resp.id() {
        span.record("gen_ai.response.id", id);
    }
    let _ = stream;
    set_string_array(
        span,
        "gen_ai.response.finish_reasons",
        vec![encode::finish_reason(resp.finish_reason()).to_string()],
    );
    if capture {
        let name = resp.messages().last().and_then(|m| m.name());
        span.record(
            "gen_ai.output.messages",
            encode::output_messages(resp.content(), resp.finish_reason(), name),
        );
    }
    if let Some(u) = resp.usage() {
        span.record("gen_ai.usage.input_tokens", u.input_tokens);
        span.record("gen_ai.usage.output_tokens", u.output_tokens);
        if u.cache_read_tokens > 0 {
            span.record("gen_ai.usage.cache_read.input_tokens", u.cache_read_tokens);
        }
        if u.cache_write_tokens > 0 {
            span.record(
                "gen_ai.usage.cache_creation.input_tokens",
                u.cache_write_tokens,
            );
        }
        if u.reasoning_tokens > 0 {
            span.record("gen_ai.usage.reasoning.output_tokens", u.reasoning_tokens);
        }
        span.record("mirascope.response.usage", mirascope::usage(u));
    }
    if capture {
        span.record(
            "mirascope.response.messages",
            mirascope::messages(resp.input_messages()),
        );
        span.record(
            "mirascope.response.content",
            mirascope::content(resp.content()),
        );
    }
}

/// Records a failure: `error.type` (Mirascope's class name), `error.message`, status ERROR and
/// one `exception` event.
pub(crate) fn record_error(span: &Span, err: &Error, stream: bool) {
    if span.is_disabled() {
        return;
    }
    let class = err.class().name();
    let message = err.to_string();
    span.record("error.type", class);
    if !message.is_empty() {
        span.record("error.message", message.as_str());
    }
    span.record("otel.status_code", "error");
    let description = if stream || message.is_empty() {
        message.clone()
    } else {
        format!("{class}: {message}")
    };
    span.record("otel.status_description", description.as_str());
    exception_event(span, err);
}

/// The OpenTelemetry `exception` event of an error.
pub(crate) fn exception_event(span: &Span, err: &Error) {
    add_event(
        span,
        "exception",
        vec![
            (
                "exception.type",
                AttrValue::Str(format!("mirascope_llm::{}", err.class().name())),
            ),
            ("exception.message", AttrValue::Str(err.to_string())),
            ("exception.stacktrace", AttrValue::Str(format!("{err:?}"))),
            ("exception.escaped", AttrValue::Str("False".into())),
        ],
    );
}

/// The span of a stream: open until the stream completes, fails or is dropped, ended once.
#[derive(Debug)]
pub struct StreamSpan {
    span: Option<Span>,
}

impl StreamSpan {
    pub(crate) fn new(span: Span) -> Self {
        StreamSpan { span: Some(span) }
    }

    /// Enters the span for one poll (a clone keeps it alive until the guard drops).
    pub(crate) fn enter(&self) -> Option<tracing::span::EnteredSpan> {
        self.span
            .as_ref()
            .filter(|s| !s.is_disabled())
            .map(|s| s.clone().entered())
    }

    pub(crate) fn is_open(&self) -> bool {
        self.span.is_some()
    }

    /// The stream completed.
    pub(crate) fn complete(&mut self, resp: &Response) {
        if let Some(span) = self.span.take() {
            record_response(&span, resp, true);
        }
    }

    /// The stream failed: partial response plus the error.
    pub(crate) fn fail(&mut self, partial: &Response, err: &Error) {
        if let Some(span) = self.span.take() {
            record_response(&span, partial, true);
            record_error(&span, err, true);
        }
    }

    /// The stream was dropped before its end: what was received, plus a cancellation event.
    pub(crate) fn cancel(&mut self, partial: &Response) {
        if let Some(span) = self.span.take() {
            if span.is_disabled() {
                return;
            }
            record_response(&span, partial, true);
            add_event(
                &span,
                "mirascope.stream.cancelled",
                vec![(
                    "mirascope.stream.received_parts",
                    AttrValue::I64(partial.content().len() as i64),
                )],
            );
        }
    }
}
