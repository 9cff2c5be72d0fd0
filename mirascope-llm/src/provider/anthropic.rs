//! Anthropic Messages API (`POST {base}/v1/messages`).
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

use serde_json::{json, Map, Value};

use super::{
    count, count_sum, models, tool_result_text, DecodeContext, EncodeContext, ErrorDetails,
    StreamDecoder, StreamMeta, WireFormat,
};
use crate::answer::StreamChunk;
use crate::answer::{Decoded, Usage};
use crate::content::{DocumentSource, ImageSource, Message, Part};
use crate::error::{Error, ErrorClass, Result};
use crate::format::FormatMode;
use crate::params::ThinkingLevel;
use crate::pyrepr::py_json_dumps;
use crate::registry::ApiKey;
use crate::tool::{ToolSchema, FORMAT_TOOL_NAME};

const PROVIDER: &str = "anthropic";
/// Sent when the user sets no `max_tokens` (the API requires one); not recorded on spans.
const DEFAULT_MAX_TOKENS: i64 = 16000;

pub(crate) struct Anthropic {
    /// Every call on the beta API (`anthropic-beta/` model ids), not only those
    /// `_should_use_beta` sends there.
    beta_only: bool,
}

/// The Messages API, moving to the beta API where `_should_use_beta` says (`anthropic/`).
pub(crate) static ANTHROPIC: Anthropic = Anthropic { beta_only: false };
/// The beta API for every call (`anthropic-beta/`, `AnthropicBetaProvider`).
pub(crate) static ANTHROPIC_BETA: Anthropic = Anthropic { beta_only: true };

/// `THINKING_LEVEL_TO_EFFORT` (anthropic/_utils/encode.py), `medium` for the default level.
fn adaptive_effort(level: ThinkingLevel) -> &'static str {
    match level {
        ThinkingLevel::Minimal | ThinkingLevel::Low => "low",
        ThinkingLevel::High => "high",
        ThinkingLevel::Max => "max",
        _ => "medium",
    }
}

/// `compute_thinking_budget` (anthropic/_utils/encode.py): `0` disables, `None` leaves the
/// provider's default, otherwise a share of `max_tokens`, at least 1,024.
fn thinking_budget(level: ThinkingLevel, max_tokens: i64) -> Option<i64> {
    let multiplier = match level {
        ThinkingLevel::None => return Some(0),
        ThinkingLevel::Default => return None,
        ThinkingLevel::Minimal => 0.0,
        ThinkingLevel::Low => 0.2,
        ThinkingLevel::Medium => 0.4,
        ThinkingLevel::High => 0.6,
        ThinkingLevel::Max => 0.8,
    };
    Some(((multiplier * max_tokens as f64) as i64).max(1024))
}

/// A tool on the standard API (`convert_tool_to_tool_param`, anthropic/_utils/encode.py).
fn tool_param(t: &ToolSchema) -> Value {
    json!({"name": t.name, "description": t.description, "input_schema": t.parameters.to_wire_json()})
}

/// The beta header of the structured-outputs API on a stream (`"betas":
/// ["structured-outputs-2025-11-13"]` in `beta_encode_request`, which the SDK's
/// `beta.messages.stream` sends as `anthropic-beta`).
const STRUCTURED_OUTPUTS_BETA: &[(&str, &str)] =
    &[("anthropic-beta", "structured-outputs-2025-11-13")];

/// The same on a call: the SDK's `beta.messages.parse` (anthropic 0.125,
/// `resources/beta/messages/messages.py`) appends `structured-outputs-2025-12-15` to the betas.
const STRUCTURED_OUTPUTS_BETA_PARSE: &[(&str, &str)] = &[(
    "anthropic-beta",
    "structured-outputs-2025-11-13,structured-outputs-2025-12-15",
)];

/// Whether the call goes to the beta API (`_should_use_beta`, anthropic/provider.py): the model
/// supports strict structured outputs, and the format is strict (asked for, or a bare format,
/// which resolves to strict on such models) or some tool does not opt out of strict.
fn uses_beta(ctx: &EncodeContext<'_>, beta_only: bool) -> bool {
    beta_only
        || models::anthropic_supports_strict(ctx.model_name)
            && (ctx.format.is_some_and(|f| f.mode == FormatMode::Strict)
                || ctx
                    .tools
                    .iter()
                    .any(|t| t.provider_tool().is_none() && t.schema().strict != Some(false)))
}

/// A tool on the beta API (`_beta_convert_tool_to_tool_param`, anthropic/_utils/beta_encode.py):
/// strict unless the tool opts out, and a strict schema gets `additionalProperties: false` and
/// its unenforceable constraints moved into descriptions.
fn beta_tool_param(t: &ToolSchema, model_supports_strict: bool) -> Value {
    let mut schema = t.parameters.to_wire_json();
    let strict = t.strict.unwrap_or(model_supports_strict);
    if strict {
        crate::format::ensure_additional_properties_false(&mut schema);
        schema = adapt_strict_tool_schema(&schema);
    }
    json!({"name": t.name, "description": t.description, "input_schema": schema, "strict": strict})
}

/// `_adapt_strict_tool_schema` (anthropic/_utils/beta_encode.py): constraints strict mode cannot
/// enforce are removed and described as `{key: value, ...}` after the description.
fn adapt_strict_tool_schema(schema: &Value) -> Value {
    let Value::Object(obj) = schema else {
        return schema.clone();
    };
    let mut result = obj.clone();
    let mut constraints = Vec::new();
    for key in [
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "maxItems",
    ] {
        if let Some(v) = result.remove(key) {
            constraints.push(format!("{key}: {}", crate::pyrepr::py_str(&v)));
        }
    }
    if result
        .get("minItems")
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
        > 1.0
    {
        if let Some(v) = result.remove("minItems") {
            constraints.push(format!("minItems: {}", crate::pyrepr::py_str(&v)));
        }
    }
    if let Some(v) = result.remove("pattern") {
        constraints.push(format!(
            "pattern: {}",
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        ));
    }
    if !constraints.is_empty() {
        let note = format!("{{{}}}", constraints.join(", "));
        let description = match result.get("description").and_then(Value::as_str) {
            Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
            _ => note,
        };
        result.insert("description".into(), Value::String(description));
    }
    for key in ["properties", "$defs"] {
        if let Some(Value::Object(m)) = result.get_mut(key) {
            for v in m.values_mut() {
                *v = adapt_strict_tool_schema(v);
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(v) = result.get_mut(key) {
            if v.is_object() {
                *v = adapt_strict_tool_schema(v);
            }
        }
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(items)) = result.get_mut(key) {
            for v in items.iter_mut() {
                *v = adapt_strict_tool_schema(v);
            }
        }
    }
    Value::Object(result)
}

/// A raw assistant message re-sent on the beta API: the beta decoder keeps
/// `model_dump(exclude_none=True)` of each block, and `parsed_output` is stripped
/// (`_beta_encode_message`, anthropic/_utils/beta_encode.py).
fn beta_raw_message(raw: &Value) -> Value {
    let mut raw = raw.clone();
    for block in raw
        .get_mut("content")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(obj) = block.as_object_mut() {
            obj.retain(|k, v| !v.is_null() && k != "parsed_output");
        }
    }
    raw
}

/// A `cache_control` breakpoint (`{"type": "ephemeral"}`).
fn ephemeral() -> Value {
    json!({"type": "ephemeral"})
}

/// A message's content (`encode_content`, anthropic/_utils/encode.py): a lone text stays a string
/// unless it carries the cache breakpoint; `cache` marks the last cacheable block.
fn encode_content(content: &[Part], encode_thoughts: bool, cache: bool) -> Result<Value> {
    if let [Part::Text { text }] = content {
        if text.is_empty() {
            return Err(Error::unsupported(PROVIDER, "empty message content"));
        }
        return Ok(if cache {
            json!([{"type": "text", "text": text, "cache_control": ephemeral()}])
        } else {
            json!(text)
        });
    }
    let cacheable = |p: &Part| match p {
        Part::Text { text } => !text.is_empty(),
        Part::Image { .. }
        | Part::Document { .. }
        | Part::ToolOutput { .. }
        | Part::ToolCall { .. } => true,
        _ => false,
    };
    let last_cacheable = if cache {
        content.iter().rposition(cacheable)
    } else {
        None
    };
    let mut blocks = Vec::new();
    for (i, part) in content.iter().enumerate() {
        // `TextBlockParam`, `ImageBlockParam`, `ToolResultBlockParam` and `ToolUseBlockParam` are
        // built with `cache_control=... if should_add_cache else None`, so the key is always
        // there (an explicit `null`); a document block gets it only when caching.
        let cache_control = if Some(i) == last_cacheable {
            ephemeral()
        } else {
            Value::Null
        };
        let block = match part {
            Part::Text { text } if text.is_empty() => continue,
            Part::Text { text } => {
                json!({"type": "text", "text": text, "cache_control": cache_control})
            }
            Part::Image { source } => json!({"type": "image", "source": match source {
                ImageSource::Base64 { mime_type, data } => {
                    if !matches!(mime_type.as_str(), "image/jpeg" | "image/png" | "image/gif" | "image/webp") {
                        return Err(Error::unsupported(PROVIDER, format!("images of type {mime_type}")));
                    }
                    json!({"type": "base64", "media_type": mime_type, "data": data})
                }
                ImageSource::Url { url } => json!({"type": "url", "url": url}),
            }, "cache_control": cache_control}),
            Part::Document { source } => {
                let mut doc = json!({"type": "document", "source": match source {
                    DocumentSource::Base64 { data, .. } => json!({"type": "base64", "data": data, "media_type": "application/pdf"}),
                    DocumentSource::Text { data, .. } => json!({"type": "text", "data": data, "media_type": "text/plain"}),
                    DocumentSource::Url { url } => json!({"type": "url", "url": url}),
                }});
                if !cache_control.is_null() {
                    doc["cache_control"] = cache_control;
                }
                doc
            }
            Part::Audio { .. } => return Err(Error::unsupported(PROVIDER, "audio input")),
            Part::ToolOutput { id, result, .. } => {
                json!({"type": "tool_result", "tool_use_id": id, "content": tool_result_text(result), "cache_control": cache_control})
            }
            // The format tool's call is re-sent as text (its arguments), so that no `tool_use`
            // is left without a `tool_result` (Mirascope issue #2503).
            Part::ToolCall { name, args, .. } if name.starts_with(FORMAT_TOOL_NAME) => {
                if args.is_empty() {
                    continue;
                }
                json!({"type": "text", "text": args, "cache_control": cache_control})
            }
            Part::ToolCall { id, name, args } => {
                json!({"type": "tool_use", "id": id, "name": name, "input": super::parse_args(name, args)?, "cache_control": cache_control})
            }
            Part::Thought { thought } if encode_thoughts => {
                json!({"type": "text", "text": format!("**Thinking:** {thought}")})
            }
            Part::Thought { .. } => continue,
        };
        blocks.push(block);
    }
    if blocks.is_empty() {
        return Err(Error::unsupported(PROVIDER, "empty message content"));
    }
    Ok(Value::Array(blocks))
}

/// `raw_message_has_format_tool` (anthropic/_utils/encode.py): such a raw message is re-encoded
/// from its parts instead of re-sent.
fn has_format_tool_call(raw: &Value) -> bool {
    raw.get("content")
        .and_then(Value::as_array)
        .is_some_and(|blocks| {
            blocks.iter().any(|b| {
                b["type"] == "tool_use"
                    && b["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with(FORMAT_TOOL_NAME))
            })
        })
}

impl WireFormat for Anthropic {
    fn path(&self, _model_name: &str, _stream: bool) -> String {
        "/v1/messages".into()
    }

    fn auth_header(&self, key: &ApiKey) -> (&'static str, String) {
        ("x-api-key", key.expose().to_string())
    }

    fn fixed_headers(&self) -> &'static [(&'static str, &'static str)] {
        &[("anthropic-version", "2023-06-01")]
    }

    /// `strict` on models with strict structured outputs (a bare format sends them to the beta
    /// API, whose `DEFAULT_FORMAT_MODE` is `strict`) and always on the `anthropic-beta/`
    /// provider (`beta_encode.py`: on a model without strict outputs that is then
    /// `FeatureNotSupportedError`), `tool` otherwise (`encode.py`'s default).
    fn default_format_mode(
        &self,
        _provider_id: &str,
        model_name: &str,
        _has_tools: bool,
    ) -> FormatMode {
        if self.beta_only || models::anthropic_supports_strict(model_name) {
            return FormatMode::Strict;
        }
        FormatMode::Tool
    }

    fn stream_opens_on_first_read(&self) -> bool {
        true
    }

    fn query(&self, ctx: &EncodeContext<'_>) -> &'static str {
        if uses_beta(ctx, self.beta_only) {
            "?beta=true"
        } else {
            ""
        }
    }

    fn variant_headers(&self, ctx: &EncodeContext<'_>) -> &'static [(&'static str, &'static str)] {
        match (uses_beta(ctx, self.beta_only), ctx.stream) {
            (true, true) => STRUCTURED_OUTPUTS_BETA,
            (true, false) => STRUCTURED_OUTPUTS_BETA_PARSE,
            (false, _) => &[],
        }
    }

    fn encode(&self, ctx: &EncodeContext<'_>) -> Result<Value> {
        let p = ctx.params;
        let max_tokens = p.get_i64("max_tokens").unwrap_or(DEFAULT_MAX_TOKENS);
        let mut body = Map::new();
        body.insert("model".into(), json!(ctx.model_name));
        body.insert("max_tokens".into(), json!(max_tokens));
        for key in ["temperature", "top_p", "top_k", "stop_sequences"] {
            if let Some(v) = p.get(key) {
                body.insert(key.into(), v.clone());
            }
        }
        if p.get("seed").is_some() {
            tracing::warn!(target: "mirascope_llm", "skipping unsupported parameter seed (provider: anthropic)");
        }
        let thinking = p.get_thinking();
        let encode_thoughts = thinking
            .as_ref()
            .and_then(|t| t.encode_thoughts_as_text)
            .unwrap_or(false);
        // `process_params` (anthropic/_utils/encode.py): disabled, adaptive (Claude 4.7 and
        // later, with an effort), or a budget.
        if let Some(t) = &thinking {
            match thinking_budget(t.level, max_tokens) {
                Some(0) if models::anthropic_always_thinks(ctx.model_name) => {
                    return Err(Error::unsupported(
                        PROVIDER,
                        format!(
                            "thinking level 'none' with {} (it cannot disable thinking; use 'low')",
                            ctx.model_id
                        ),
                    ))
                }
                Some(0) => {
                    body.insert("thinking".into(), json!({"type": "disabled"}));
                }
                _ if models::anthropic_adaptive_thinking_only(ctx.model_name) => {
                    body.insert("thinking".into(), json!({"type": "adaptive"}));
                    body.insert(
                        "output_config".into(),
                        json!({"effort": adaptive_effort(t.level)}),
                    );
                }
                Some(budget) => {
                    body.insert(
                        "thinking".into(),
                        json!({"type": "enabled", "budget_tokens": budget}),
                    );
                }
                None => {}
            }
        }
        let beta = uses_beta(ctx, self.beta_only);
        let strict_model = models::anthropic_supports_strict(ctx.model_name);
        // Both APIs refuse strict tools on a model without strict structured outputs
        // (`beta_encode_request`'s `has_strict_tools` check; on the standard API such a tool
        // would have sent the call to the beta API, had the model supported it).
        if !strict_model && ctx.tools.iter().any(|t| t.schema().strict == Some(true)) {
            return Err(Error::unsupported(
                PROVIDER,
                format!(
                    "strict tools with model {} (it has no strict structured outputs)",
                    ctx.model_id
                ),
            ));
        }
        let convert = |t: &ToolSchema| {
            if beta {
                beta_tool_param(t, strict_model)
            } else {
                tool_param(t)
            }
        };
        // `convert_tool_to_tool_param` (and its beta twin): web search as
        // `web_search_20250305`.
        let mut tools: Vec<Value> = ctx
            .tools
            .iter()
            .map(|t| match t.provider_tool() {
                Some(crate::ProviderTool::WebSearch) => {
                    json!({"type": "web_search_20250305", "name": "web_search"})
                }
                None => convert(t.schema()),
            })
            .collect();
        if let Some(f) = ctx.format {
            match f.mode {
                // `beta_encode_request`: strict output needs a model with strict outputs.
                FormatMode::Strict if beta && !strict_model => {
                    return Err(Error::unsupported(
                        PROVIDER,
                        format!("the strict formatting mode with model {}", ctx.model_id),
                    ))
                }
                FormatMode::Strict if beta => {
                    let format = json!({"type": "json_schema", "schema": super::anthropic_schema::transform_schema(&f.schema)});
                    match body.get_mut("output_config").and_then(Value::as_object_mut) {
                        Some(cfg) => {
                            cfg.insert("format".into(), format);
                        }
                        None => {
                            body.insert("output_config".into(), json!({ "format": format }));
                        }
                    }
                }
                FormatMode::Strict => {
                    return Err(Error::unsupported(
                        PROVIDER,
                        format!("the strict formatting mode with model {}", ctx.model_id),
                    ))
                }
                FormatMode::Tool => {
                    let choice = if tools.is_empty() {
                        json!({"type": "tool", "name": FORMAT_TOOL_NAME, "disable_parallel_tool_use": true})
                    } else {
                        json!({"type": "any"})
                    };
                    tools.push(convert(&f.tool_schema()));
                    body.insert("tool_choice".into(), choice);
                }
                FormatMode::Json => {}
            }
        }
        if let Some(last) = tools.last_mut() {
            last["cache_control"] = ephemeral();
        }
        if !tools.is_empty() {
            body.insert("tools".into(), Value::Array(tools));
        }

        let mut system = None;
        let mut rest: Vec<&Message> = Vec::new();
        for (i, m) in ctx.messages.iter().enumerate() {
            match m {
                Message::System(s) if i == 0 => system = Some(s.content.text.clone()),
                Message::System(_) => {
                    tracing::warn!(target: "mirascope_llm", "skipping system message at index {i} because it is not the first message")
                }
                other => rest.push(other),
            }
        }
        let multi_turn = rest.iter().any(|m| matches!(m, Message::Assistant(_)));
        let mut messages = Vec::with_capacity(rest.len());
        for (i, m) in rest.iter().enumerate() {
            let cache = multi_turn && i == rest.len() - 1;
            let encoded = match m {
                Message::Assistant(a)
                    if ctx.is_own(a)
                        && !encode_thoughts
                        && !cache
                        && a.raw_message
                            .as_ref()
                            .is_some_and(|r| !has_format_tool_call(r)) =>
                {
                    match &a.raw_message {
                        Some(raw) if beta => beta_raw_message(raw),
                        raw => raw.clone().unwrap_or_default(),
                    }
                }
                Message::Assistant(a) => {
                    json!({"role": "assistant", "content": encode_content(&a.content, encode_thoughts, cache)?})
                }
                Message::User(u) => {
                    json!({"role": "user", "content": encode_content(&u.content, encode_thoughts, cache)?})
                }
                Message::System(_) => continue,
            };
            messages.push(encoded);
        }
        body.insert("messages".into(), Value::Array(messages));
        if let Some(text) = system.filter(|s| !s.is_empty()) {
            body.insert(
                "system".into(),
                json!([{"type": "text", "text": text, "cache_control": ephemeral()}]),
            );
        }
        if ctx.stream {
            body.insert("stream".into(), json!(true));
        }
        Ok(Value::Object(body))
    }

    fn decode(&self, ctx: &DecodeContext, body: Value) -> Result<Decoded> {
        let blocks = super::required_array(PROVIDER, &body, "content")?;
        let mut content = Vec::new();
        for b in blocks {
            match b.get("type").and_then(Value::as_str) {
                Some("text") => content.push(Part::text(b["text"].as_str().unwrap_or_default())),
                Some("thinking") if ctx.include_thoughts => content.push(Part::Thought {
                    thought: b["thinking"].as_str().unwrap_or_default().to_string(),
                }),
                Some("tool_use") => content.push(Part::ToolCall {
                    id: b["id"].as_str().unwrap_or_default().to_string(),
                    name: b["name"].as_str().unwrap_or_default().to_string(),
                    args: py_json_dumps(b.get("input").unwrap_or(&json!({}))),
                }),
                _ => {}
            }
        }
        let usage = match body.get("usage").filter(|u| u.is_object()) {
            Some(u) => Some(usage(
                count(PROVIDER, u, &["input_tokens"])?,
                count(PROVIDER, u, &["output_tokens"])?,
                count(PROVIDER, u, &["cache_read_input_tokens"])?,
                count(PROVIDER, u, &["cache_creation_input_tokens"])?,
            )?),
            None => None,
        };
        Ok(Decoded {
            content,
            finish_reason: body
                .get("stop_reason")
                .and_then(Value::as_str)
                .and_then(super::anthropic_finish_reason),
            usage,
            id: body.get("id").and_then(Value::as_str).map(str::to_string),
            response_model: super::answering_model(&body, "/model"),
            raw_message: Some(
                json!({"role": body.get("role").cloned().unwrap_or(json!("assistant")), "content": sdk_blocks(blocks)}),
            ),
            raw: body,
        })
    }

    fn stream_decoder(&self, ctx: &DecodeContext) -> Box<dyn StreamDecoder> {
        Box::new(AnthropicStream {
            include_thoughts: ctx.include_thoughts,
            ..Default::default()
        })
    }

    /// `ANTHROPIC_ERROR_MAP` (anthropic/_utils/errors.py), by the status the anthropic SDK maps to
    /// each of its exception classes.
    fn error_class(
        &self,
        _provider_id: &str,
        status: u16,
        _details: &ErrorDetails,
        _body: &str,
    ) -> ErrorClass {
        match status {
            400 | 409 | 422 => ErrorClass::BadRequest,
            401 => ErrorClass::Authentication,
            403 => ErrorClass::Permission,
            404 => ErrorClass::NotFound,
            429 => ErrorClass::RateLimit,
            // The anthropic SDK (0.125 `_make_status_error`) gives 529 a class of its own
            // (`OverloadedError`), which Mirascope's `ANTHROPIC_ERROR_MAP` does not map: it
            // surfaces as ProviderError. 503 and 504 are `InternalServerError`: ServerError.
            529 => ErrorClass::Provider,
            s if s >= 500 => ErrorClass::Server,
            _ => ErrorClass::Provider,
        }
    }
}

/// Content blocks as Mirascope re-sends them (`block.model_dump()` of the anthropic SDK: text
/// blocks carry `citations`, null when absent).
/// The fields of the anthropic SDK's response content-block models (anthropic 0.125): a block's
/// `model_dump()` carries each of them, `null` when the API left it out.
const SDK_BLOCK_FIELDS: &[(&str, &[&str])] = &[
    ("text", &["citations", "text", "type"]),
    (
        "tool_use",
        &["id", "caller", "input", "name", "type", "toolset_name"],
    ),
    ("thinking", &["signature", "thinking", "type"]),
    ("redacted_thinking", &["data", "type"]),
    (
        "server_tool_use",
        &["id", "caller", "input", "name", "type"],
    ),
    (
        "web_search_tool_result",
        &["caller", "content", "tool_use_id", "type"],
    ),
];

/// The raw message Mirascope keeps of a (non-streamed) answer: `[part.model_dump() for part in
/// response.content]` (anthropic/_utils/decode.py), so every known field is present.
fn sdk_blocks(blocks: &[Value]) -> Vec<Value> {
    blocks
        .iter()
        .map(|b| {
            let mut b = b.clone();
            let fields = SDK_BLOCK_FIELDS
                .iter()
                .find(|(ty, _)| b["type"] == *ty)
                .map(|(_, f)| *f)
                .unwrap_or(&[]);
            if let Some(obj) = b.as_object_mut() {
                for f in fields {
                    obj.entry(*f).or_insert(Value::Null);
                }
            }
            b
        })
        .collect()
}

/// The Messages event stream: `message_start` ... `message_stop`.
/// Mirascope's normalized usage of an Anthropic answer (`_utils/decode.py`): input tokens
/// include the cache reads and writes, which Anthropic reports apart.
fn usage(input: u64, output: u64, cache_read: u64, cache_write: u64) -> Result<Usage> {
    Ok(Usage {
        input_tokens: count_sum(
            PROVIDER,
            "usage.input_tokens",
            &[input, cache_read, cache_write],
        )?,
        output_tokens: output,
        cache_read_tokens: cache_read,
        cache_write_tokens: cache_write,
        reasoning_tokens: 0,
    })
}

#[derive(Default)]
struct AnthropicStream {
    include_thoughts: bool,
    id: Option<String>,
    response_model: Option<String>,
    /// The last usage event's counts as Anthropic reports them (cumulative): `input_tokens`,
    /// `output_tokens`, `cache_read_input_tokens`, `cache_creation_input_tokens`.
    previous_usage: Value,
    /// The usage already sent on as `UsageDelta`s (Anthropic reports cumulative counts).
    counted: Usage,
    /// The block being streamed and the JSON of a tool call's input so far.
    current: Option<Value>,
    tool_json: String,
    blocks: Vec<Value>,
    done: bool,
    skipped: u64,
}

impl StreamDecoder for AnthropicStream {
    fn event(&mut self, _event: &str, data: &str, out: &mut Vec<StreamChunk>) -> Result<()> {
        let v = super::parse_event(PROVIDER, data)?;
        super::event_object(PROVIDER, "(any)", &v)?;
        let kind = super::event_opt_str(PROVIDER, "(any)", &v, "/type")?.unwrap_or_default();
        match kind {
            "message_start" => {
                self.id =
                    super::event_opt_str(PROVIDER, kind, &v, "/message/id")?.map(str::to_string);
                self.response_model = super::answering_model(&v, "/message/model");
                self.previous_usage = v.pointer("/message/usage").cloned().unwrap_or(Value::Null);
                // Counted now, so a stream that breaks later keeps its input tokens.
                let s = &self.previous_usage;
                let total = usage(
                    count(PROVIDER, s, &["input_tokens"])?,
                    count(PROVIDER, s, &["output_tokens"])?,
                    count(PROVIDER, s, &["cache_read_input_tokens"])?,
                    count(PROVIDER, s, &["cache_creation_input_tokens"])?,
                )?;
                out.push(StreamChunk::UsageDelta(super::usage_growth(
                    &total,
                    &self.counted,
                )));
                self.counted = total;
            }
            "content_block_start" => {
                let block = &v["content_block"];
                super::event_opt_object(PROVIDER, kind, &v, "/content_block")?;
                match super::event_str(PROVIDER, kind, &v, "/content_block/type")? {
                    "text" => {
                        let text = super::event_opt_str(PROVIDER, kind, &v, "/content_block/text")?;
                        self.current =
                            Some(json!({"type": "text", "text": text.unwrap_or_default()}));
                        out.push(StreamChunk::TextStart);
                    }
                    "tool_use" => {
                        let (id, name) = (
                            super::event_str(PROVIDER, kind, &v, "/content_block/id")?,
                            super::event_str(PROVIDER, kind, &v, "/content_block/name")?,
                        );
                        self.current =
                            Some(json!({"type": "tool_use", "id": id, "name": name, "input": {}}));
                        self.tool_json.clear();
                        out.push(StreamChunk::ToolCallStart {
                            id: id.into(),
                            name: name.into(),
                        });
                    }
                    "thinking" => {
                        self.current =
                            Some(json!({"type": "thinking", "thinking": "", "signature": ""}));
                        if self.include_thoughts {
                            out.push(StreamChunk::ThoughtStart);
                        }
                    }
                    "redacted_thinking" => self.current = Some(block.clone()),
                    other => {
                        // A block type this decoder does not read (a server tool's, say):
                        // skipped, and counted.
                        super::skip_unknown_event(PROVIDER, other, &mut self.skipped);
                        self.current = None
                    }
                }
            }
            "content_block_delta" => {
                let Some(cur) = self.current.as_mut() else {
                    return Ok(());
                };
                let append = super::append_str;
                match super::event_str(PROVIDER, kind, &v, "/delta/type")? {
                    "text_delta" => {
                        let t =
                            super::event_str(PROVIDER, "content_block_delta", &v, "/delta/text")?;
                        append(cur, "text", t);
                        out.push(StreamChunk::TextDelta(t.into()));
                    }
                    "input_json_delta" => {
                        let j = super::event_str(
                            PROVIDER,
                            "content_block_delta",
                            &v,
                            "/delta/partial_json",
                        )?;
                        self.tool_json.push_str(j);
                        out.push(StreamChunk::ToolCallDelta {
                            id: cur["id"].as_str().unwrap_or_default().into(),
                            delta: j.into(),
                        });
                    }
                    "thinking_delta" => {
                        let t = super::event_str(
                            PROVIDER,
                            "content_block_delta",
                            &v,
                            "/delta/thinking",
                        )?;
                        append(cur, "thinking", t);
                        if self.include_thoughts {
                            out.push(StreamChunk::ThoughtDelta(t.into()));
                        }
                    }
                    "signature_delta" => append(
                        cur,
                        "signature",
                        super::event_str(PROVIDER, "content_block_delta", &v, "/delta/signature")?,
                    ),
                    other => super::skip_unknown_event(PROVIDER, other, &mut self.skipped),
                }
            }
            "content_block_stop" => {
                if let Some(mut cur) = self.current.take() {
                    match cur["type"].as_str() {
                        Some("text") => out.push(StreamChunk::TextEnd),
                        Some("tool_use") => {
                            // `_AnthropicChunkProcessor.process_event`: `json.loads` of the
                            // streamed input, which raises when it is not JSON. No excerpt: the
                            // arguments are the model's output.
                            cur["input"] = if self.tool_json.is_empty() {
                                json!({})
                            } else {
                                serde_json::from_str(&self.tool_json).map_err(|e| {
                                    Error::malformed(
                                        PROVIDER,
                                        format!("a streamed tool_use input is not JSON: {e}"),
                                        b"",
                                    )
                                })?
                            };
                            out.push(StreamChunk::ToolCallEnd {
                                id: cur["id"].as_str().unwrap_or_default().into(),
                            });
                        }
                        Some("thinking") if self.include_thoughts => {
                            out.push(StreamChunk::ThoughtEnd)
                        }
                        _ => {}
                    }
                    self.blocks.push(cur);
                }
            }
            "message_delta" => {
                if let Some(r) = super::event_opt_str(PROVIDER, kind, &v, "/delta/stop_reason")?
                    .and_then(super::anthropic_finish_reason)
                {
                    out.push(StreamChunk::FinishReason(r));
                }
                let u = &v["usage"];
                // message_delta carries cumulative usage; a field it omits keeps its value from
                // the preceding usage event (`_AnthropicChunkProcessor.process_event`,
                // `previous_usage`), which becomes this one.
                let mut current = serde_json::Map::new();
                for k in [
                    "input_tokens",
                    "output_tokens",
                    "cache_read_input_tokens",
                    "cache_creation_input_tokens",
                ] {
                    let from = match u.get(k).filter(|v| !v.is_null()) {
                        Some(_) => u,
                        None => &self.previous_usage,
                    };
                    current.insert(k.into(), json!(count(PROVIDER, from, &[k])?));
                }
                let current = Value::Object(current);
                let pick = |k: &str| count(PROVIDER, &current, &[k]);
                let total = usage(
                    pick("input_tokens")?,
                    pick("output_tokens")?,
                    pick("cache_read_input_tokens")?,
                    pick("cache_creation_input_tokens")?,
                )?;
                self.previous_usage = current;
                out.push(StreamChunk::UsageDelta(super::usage_growth(
                    &total,
                    &self.counted,
                )));
                self.counted = total;
            }
            "message_stop" => self.done = true,
            "error" => {
                return Err(super::stream_error(&ANTHROPIC, PROVIDER, &v));
            }
            "ping" => {}
            kind => super::skip_unknown_event(PROVIDER, kind, &mut self.skipped),
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn skipped_events(&self) -> u64 {
        self.skipped
    }

    fn response_model(&self) -> Option<&str> {
        self.response_model.as_deref()
    }

    fn finish(&mut self) -> StreamMeta {
        StreamMeta {
            id: self.id.take(),
            response_model: self.response_model.take(),
            raw_message: Some(
                json!({"role": "assistant", "content": std::mem::take(&mut self.blocks)}),
            ),
            raw: Value::Null,
        }
    }
}
