//! Google Gemini API (`POST {base}/v1beta/models/{model}:generateContent`, and
//! `:streamGenerateContent?alt=sse`).
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

use serde_json::{json, Map, Value};

use super::{
    count, count_sum, google_schema, models, DecodeContext, EncodeContext, ErrorDetails,
    StreamDecoder, StreamMeta, WireFormat,
};
use crate::answer::StreamChunk;
use crate::answer::{Decoded, Usage};
use crate::content::{AudioSource, DocumentSource, ImageSource, Message, Part};
use crate::error::{Error, ErrorClass, Result};
use crate::format::{resolve_refs, FormatMode};
use crate::params::ThinkingLevel;
use crate::pyrepr::py_json_dumps;
use crate::registry::ApiKey;
use crate::tool::{ToolSchema, FORMAT_TOOL_NAME};

const PROVIDER: &str = "google";
/// The id Mirascope gives function calls that Google sent without one.
const UNKNOWN_TOOL_ID: &str = "google_unknown_tool_id";

pub(crate) struct Google;

/// A function declaration (`_convert_tool_to_function_declaration`, google/_utils/encode.py):
/// `$ref`s resolved (`_resolve_refs`), each property filtered to Google's schema
/// (`_filter_schema`), as the SDK serializes it.
fn function_declaration(t: &ToolSchema) -> Result<Value> {
    let mut properties = Value::Object(t.parameters.properties.clone());
    if let Some(defs) = &t.parameters.defs {
        properties = resolve_refs(&properties, defs).map_err(|e| {
            Error::unsupported(PROVIDER, format!("tool `{}`'s parameters: {e}", t.name))
        })?;
    }
    let properties = properties.as_object().cloned().unwrap_or_default();
    Ok(
        json!({"name": t.name, "description": t.description, "parameters": google_schema::tool_parameters(&properties, &t.parameters.required)}),
    )
}

/// Bytes as the google-genai SDK serializes them: URL-safe base64 with padding
/// (`ser_json_bytes='base64'` on its models). Mirascope keeps standard base64 and the SDK
/// re-encodes the decoded bytes; a value that is not base64 is sent unchanged.
fn sdk_bytes(data: &str) -> String {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    use base64::Engine;
    match STANDARD.decode(data).or_else(|_| URL_SAFE.decode(data)) {
        Ok(bytes) => URL_SAFE.encode(bytes),
        Err(_) => data.to_string(),
    }
}

/// A re-sent raw `Content` with its byte fields (`thoughtSignature`, `inlineData.data`) in the
/// SDK's encoding (Mirascope re-sends the SDK object, which the SDK serializes again).
fn sdk_content(raw: &Value) -> Value {
    let mut raw = raw.clone();
    for part in raw
        .get_mut("parts")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        for pointer in ["/thoughtSignature", "/inlineData/data"] {
            if let Some(v) = part.pointer_mut(pointer) {
                if let Some(s) = v.as_str() {
                    *v = Value::String(sdk_bytes(s));
                }
            }
        }
    }
    raw
}

/// Which params are `float` fields of the SDK's `GenerateContentConfig` (sent as JSON floats).
fn is_float_param(google_key: &str) -> bool {
    matches!(google_key, "temperature" | "topP" | "topK")
}

/// `google_thinking_config` (google/_utils/encode.py). Mirascope passes a `ThinkingConfigDict`
/// with snake-case keys, which the SDK forwards unchanged, so the keys stay snake case.
fn thinking_config(
    model_name: &str,
    level: ThinkingLevel,
    include: Option<bool>,
    max_tokens: Option<i64>,
) -> Value {
    let mut cfg = Map::new();
    let named = |l: ThinkingLevel, pro: bool| -> &'static str {
        match (l, pro) {
            (ThinkingLevel::Default, _) => "THINKING_LEVEL_UNSPECIFIED",
            (ThinkingLevel::None | ThinkingLevel::Minimal, true) | (ThinkingLevel::Low, _) => "LOW",
            (ThinkingLevel::None | ThinkingLevel::Minimal, false) => "MINIMAL",
            (ThinkingLevel::Medium, false) => "MEDIUM",
            _ => "HIGH",
        }
    };
    if model_name.contains("gemini-3-flash") {
        cfg.insert("thinking_level".into(), json!(named(level, false)));
    } else if model_name.contains("gemini-3-pro") {
        cfg.insert("thinking_level".into(), json!(named(level, true)));
    } else {
        let budget = match level {
            ThinkingLevel::Default => -1,
            ThinkingLevel::None => 0,
            l => {
                let m = match l {
                    ThinkingLevel::Minimal => 0.1,
                    ThinkingLevel::Low => 0.2,
                    ThinkingLevel::High => 0.6,
                    ThinkingLevel::Max => 0.8,
                    _ => 0.4,
                };
                (m * max_tokens.unwrap_or(16000) as f64) as i64
            }
        };
        cfg.insert("thinking_budget".into(), json!(budget));
    }
    if let Some(i) = include {
        cfg.insert("include_thoughts".into(), json!(i));
    }
    Value::Object(cfg)
}

/// A message's parts (`_encode_content`, google/_utils/encode.py).
fn encode_parts(content: &[Part], encode_thoughts: bool) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for part in content {
        out.push(match part {
            Part::Text { text } => json!({"text": text}),
            Part::Image { source: ImageSource::Base64 { mime_type, data } } | Part::Audio { source: AudioSource::Base64 { mime_type, data } } => {
                json!({"inlineData": {"data": sdk_bytes(data), "mimeType": mime_type}})
            }
            Part::Image { source: ImageSource::Url { .. } } => return Err(Error::unsupported(PROVIDER, "URL-referenced images (send the image bytes)")),
            Part::Document { source } => match source {
                DocumentSource::Base64 { data, media_type } => json!({"inlineData": {"data": sdk_bytes(data), "mimeType": media_type}}),
                DocumentSource::Text { data, media_type } => json!({"inlineData": {"data": base64_encode(data.as_bytes()), "mimeType": media_type}}),
                DocumentSource::Url { .. } => return Err(Error::unsupported(PROVIDER, "URL-referenced documents (send the document bytes)")),
            },
            Part::ToolCall { id, name, args } => {
                let mut fc = json!({"name": name, "args": super::parse_args(name, args)?});
                if id != UNKNOWN_TOOL_ID {
                    fc["id"] = json!(id);
                }
                json!({"functionCall": fc})
            }
            Part::ToolOutput { id, name, result } => {
                let response = if result.is_object() { result.clone() } else { json!({"output": result}) };
                let mut fr = json!({"name": name, "response": response});
                if id != UNKNOWN_TOOL_ID {
                    fr["id"] = json!(id);
                }
                json!({"functionResponse": fr})
            }
            Part::Thought { thought } if encode_thoughts => json!({"text": format!("**Thinking:** {thought}")}),
            Part::Thought { .. } => continue,
        });
    }
    Ok(out)
}

/// The SDK's base64 of raw bytes (plain-text documents go to Google as inline data).
fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// `_raw_message_has_format_tool` (google/_utils/encode.py): such a raw message is re-encoded
/// from its parts instead of re-sent.
fn has_format_tool_call(raw: &Value) -> bool {
    raw.get("parts")
        .and_then(Value::as_array)
        .is_some_and(|parts| {
            parts.iter().any(|p| {
                p.pointer("/functionCall/name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.starts_with(FORMAT_TOOL_NAME))
            })
        })
}

impl WireFormat for Google {
    /// `/v1beta/{resource}:generateContent`, the resource as the SDK's `t_model` names it: a
    /// name already under `models/` or `tunedModels/` as it is, any other under `models/`.
    fn path(&self, model_name: &str, stream: bool) -> String {
        let resource =
            if model_name.starts_with("models/") || model_name.starts_with("tunedModels/") {
                super::model_path_segment(model_name).into_owned()
            } else {
                format!("models/{}", super::model_path_segment(model_name))
            };
        if stream {
            format!("/v1beta/{resource}:streamGenerateContent?alt=sse")
        } else {
            format!("/v1beta/{resource}:generateContent")
        }
    }

    fn auth_header(&self, key: &ApiKey) -> (&'static str, String) {
        ("x-goog-api-key", key.expose().to_string())
    }

    /// `tool` when tools are present and the model cannot combine a response schema with tools
    /// (`MODELS_WITHOUT_STRUCTURED_OUTPUT_AND_TOOLS_SUPPORT`), `strict` otherwise
    /// (`encode_request`, google/_utils/encode.py).
    fn default_format_mode(
        &self,
        _provider_id: &str,
        model_name: &str,
        has_tools: bool,
    ) -> FormatMode {
        if has_tools && !models::google_supports_format_with_tools(model_name) {
            FormatMode::Tool
        } else {
            FormatMode::Strict
        }
    }

    /// `google-genai` does not retry by default.
    fn default_retries(&self) -> usize {
        0
    }

    fn stream_opens_on_first_read(&self) -> bool {
        true
    }

    fn encode(&self, ctx: &EncodeContext<'_>) -> Result<Value> {
        let p = ctx.params;
        let mut config = Map::new();
        for (ours, theirs) in [
            ("temperature", "temperature"),
            ("max_tokens", "maxOutputTokens"),
            ("top_p", "topP"),
            ("top_k", "topK"),
            ("seed", "seed"),
            ("stop_sequences", "stopSequences"),
        ] {
            if let Some(v) = p.get(ours) {
                let v = match v.as_f64() {
                    Some(f) if is_float_param(theirs) => json!(f),
                    _ => v.clone(),
                };
                config.insert(theirs.into(), v);
            }
        }
        let thinking = p.get_thinking();
        let encode_thoughts = thinking
            .as_ref()
            .and_then(|t| t.encode_thoughts_as_text)
            .unwrap_or(false);
        if let Some(t) = &thinking {
            config.insert(
                "thinkingConfig".into(),
                thinking_config(
                    ctx.model_name,
                    t.level,
                    t.include_thoughts,
                    p.get_i64("max_tokens"),
                ),
            );
        }
        if ctx.tools.iter().any(|t| t.schema().strict == Some(true)) {
            return Err(Error::unsupported(
                PROVIDER,
                "strict tools (set strict to false or leave it unset)",
            ));
        }
        let mut body = Map::new();
        let mut tools = Vec::new();
        if let Some(f) = ctx.format {
            if matches!(f.mode, FormatMode::Strict | FormatMode::Json)
                && !ctx.tools.is_empty()
                && !models::google_supports_format_with_tools(ctx.model_name)
            {
                return Err(Error::unsupported(
                    PROVIDER,
                    format!(
                        "the {} formatting mode with tools on model {}",
                        f.mode.as_str(),
                        ctx.model_id
                    ),
                ));
            }
            match f.mode {
                FormatMode::Strict => {
                    config.insert("responseMimeType".into(), json!("application/json"));
                    config.insert(
                        "responseSchema".into(),
                        google_schema::response_schema(&f.schema),
                    );
                }
                FormatMode::Tool => {
                    tools.push(function_declaration(&f.tool_schema())?);
                    let mut fcc = json!({"mode": "ANY"});
                    if ctx.tools.is_empty() {
                        fcc["allowedFunctionNames"] = json!([FORMAT_TOOL_NAME]);
                    }
                    body.insert("toolConfig".into(), json!({"functionCallingConfig": fcc}));
                }
                FormatMode::Json => {
                    config.insert("responseMimeType".into(), json!("application/json"));
                }
            }
        }
        // Web search is a tool of its own (`google_search`); the SDK's `t_tools` puts such tools
        // first and merges every function declaration into one last tool.
        let mut other_tools = Vec::new();
        for t in ctx.tools {
            match t.provider_tool() {
                Some(crate::ProviderTool::WebSearch) => {
                    if other_tools.is_empty() {
                        other_tools.push(json!({"googleSearch": {}}));
                    }
                }
                None => tools.push(function_declaration(t.schema())?),
            }
        }

        let mut system = None;
        let mut contents = Vec::new();
        for (i, m) in ctx.messages.iter().enumerate() {
            match m {
                Message::System(s) if i == 0 => system = Some(s.content.text.clone()),
                Message::System(_) => {
                    tracing::warn!(target: "mirascope_llm", "skipping system message at index {i} because it is not the first message")
                }
                Message::Assistant(a)
                    if ctx.is_own(a)
                        && !encode_thoughts
                        && a.raw_message
                            .as_ref()
                            .is_some_and(|r| !has_format_tool_call(r)) =>
                {
                    contents.push(a.raw_message.as_ref().map(sdk_content).unwrap_or_default())
                }
                Message::Assistant(a) => contents.push(
                    json!({"parts": encode_parts(&a.content, encode_thoughts)?, "role": "model"}),
                ),
                Message::User(u) => contents.push(
                    json!({"parts": encode_parts(&u.content, encode_thoughts)?, "role": "user"}),
                ),
            }
        }
        body.insert("contents".into(), Value::Array(contents));
        if let Some(text) = system.filter(|s| !s.is_empty()) {
            body.insert(
                "systemInstruction".into(),
                json!({"parts": [{"text": text}], "role": "user"}),
            );
        }
        // google-genai's `t_tools` merges every function declaration into one `Tool`.
        if !tools.is_empty() {
            other_tools.push(json!({"functionDeclarations": tools}));
        }
        if !other_tools.is_empty() {
            body.insert("tools".into(), Value::Array(other_tools));
        }
        // Mirascope passes one `config` dict holding the params, the system instruction, the
        // tools and the tool config; the SDK sends `generationConfig` (possibly `{}`) whenever
        // that dict is not empty.
        let config_given = !config.is_empty()
            || ["systemInstruction", "tools", "toolConfig"]
                .iter()
                .any(|k| body.contains_key(*k));
        if config_given {
            body.insert("generationConfig".into(), Value::Object(config));
        }
        Ok(Value::Object(body))
    }

    /// `decode_response` (google/_utils/decode.py): an answer without candidates (a prompt
    /// blocked by `promptFeedback`) is an empty answer with no finish reason, its usage kept.
    /// An answer with neither candidates nor `promptFeedback` is not one Google sends: a
    /// `MalformedResponse` (Python's SDK would read it as an empty answer).
    fn decode(&self, ctx: &DecodeContext, body: Value) -> Result<Decoded> {
        if body.pointer("/candidates/0").is_none() && body.get("promptFeedback").is_none() {
            return Err(Error::malformed(
                PROVIDER,
                "no candidates and no promptFeedback",
                body.to_string().as_bytes(),
            ));
        }
        let no_candidate = Value::Null;
        let candidate = body.pointer("/candidates/0").unwrap_or(&no_candidate);
        let mut content = Vec::new();
        for p in candidate
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            check_part(p)?;
            match decode_part(p) {
                Some(Part::Thought { .. }) if !ctx.include_thoughts => {}
                Some(part) => content.push(part),
                None => {}
            }
        }
        Ok(Decoded {
            content,
            finish_reason: candidate
                .get("finishReason")
                .and_then(Value::as_str)
                .and_then(super::google_finish_reason),
            usage: body.get("usageMetadata").map(usage).transpose()?,
            // Python Mirascope reads `.id`, which Google responses do not have (`responseId`).
            id: None,
            response_model: super::answering_model(&body, "/modelVersion"),
            raw_message: candidate.get("content").cloned(),
            raw: body,
        })
    }

    fn stream_decoder(&self, ctx: &DecodeContext) -> Box<dyn StreamDecoder> {
        Box::new(GoogleStream {
            include_thoughts: ctx.include_thoughts,
            ..GoogleStream::default()
        })
    }

    /// `map_google_error` (google/_utils/errors.py): a 401, or a 400 whose text says
    /// "API key not valid", is an authentication error; 400 and 422 are bad requests; any
    /// other 4xx (the SDK's `ClientError`) is `APIError`.
    fn error_class(
        &self,
        _provider_id: &str,
        status: u16,
        _details: &ErrorDetails,
        body: &str,
    ) -> ErrorClass {
        match status {
            401 => ErrorClass::Authentication,
            400 if body.contains("API key not valid") => ErrorClass::Authentication,
            400 | 422 => ErrorClass::BadRequest,
            403 => ErrorClass::Permission,
            404 => ErrorClass::NotFound,
            429 => ErrorClass::RateLimit,
            400..=499 => ErrorClass::Api,
            s if s >= 500 => ErrorClass::Server,
            _ => ErrorClass::Provider,
        }
    }

    fn error_details(&self, body: &Value) -> ErrorDetails {
        let err = body.get("error").unwrap_or(body);
        ErrorDetails {
            error_type: err
                .get("status")
                .and_then(Value::as_str)
                .map(str::to_string),
            code: err.get("code").map(|c| c.to_string()),
            message: err
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }
}

/// A part's fields must have their documented types (`text` a string, a function call's `name` a
/// string): anything else is a `MalformedResponse`, not a part silently dropped.
fn check_part(p: &Value) -> Result<()> {
    super::event_opt_str(PROVIDER, "part", p, "/text")?;
    if p.get("functionCall").is_some() {
        super::event_str(PROVIDER, "part", p, "/functionCall/name")?;
        super::event_opt_str(PROVIDER, "part", p, "/functionCall/id")?;
    }
    Ok(())
}

/// One part of an answer (`_decode_content_part`, google/_utils/decode.py): empty text is no
/// part (`elif part.text:`), a function call without an id gets `UNKNOWN_TOOL_ID`
/// (`id or UNKNOWN_TOOL_ID`).
fn decode_part(p: &Value) -> Option<Part> {
    if let Some(text) = p
        .get("text")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        return Some(if p.get("thought").and_then(Value::as_bool) == Some(true) {
            Part::Thought {
                thought: text.to_string(),
            }
        } else {
            Part::text(text)
        });
    }
    let fc = p.get("functionCall")?;
    Some(Part::ToolCall {
        id: fc
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .unwrap_or(UNKNOWN_TOOL_ID)
            .to_string(),
        name: fc
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        // `json.dumps(args or {})`: absent, null or empty arguments are `{}`.
        args: py_json_dumps(
            fc.get("args")
                .filter(|a| crate::pyrepr::py_truthy(a))
                .unwrap_or(&json!({})),
        ),
    })
}

/// Mirascope's usage of a Google answer: output tokens include the thoughts.
/// Google's usage as Mirascope reads it: input is the prompt's tokens plus those of tool results
/// given back to the model (`toolUsePromptTokenCount`: URL context, search, code execution);
/// output is candidates plus thoughts. Follows Mirascope 2.8.2
/// `google/_utils/decode.py::_decode_usage` (and `_GoogleChunkProcessor.process_chunk` for
/// streams, which read each chunk's usage the same way).
fn usage(u: &Value) -> Result<Usage> {
    let thoughts = count(PROVIDER, u, &["thoughtsTokenCount"])?;
    let candidates = count(PROVIDER, u, &["candidatesTokenCount"])?;
    let prompt = count(PROVIDER, u, &["promptTokenCount"])?;
    let tool_use = count(PROVIDER, u, &["toolUsePromptTokenCount"])?;
    Ok(Usage {
        input_tokens: count_sum(
            PROVIDER,
            "usageMetadata.promptTokenCount",
            &[prompt, tool_use],
        )?,
        output_tokens: count_sum(
            PROVIDER,
            "usageMetadata.candidatesTokenCount",
            &[candidates, thoughts],
        )?,
        cache_read_tokens: count(PROVIDER, u, &["cachedContentTokenCount"])?,
        cache_write_tokens: 0,
        reasoning_tokens: thoughts,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Open {
    None,
    Text,
    Thought,
}

/// Google's stream: each chunk is a whole `GenerateContentResponse` with cumulative usage; the
/// stream ends after the chunk with a `finishReason`.
struct GoogleStream {
    include_thoughts: bool,
    open: Open,
    parts: Vec<Value>,
    last_usage: Usage,
    finished: bool,
    response_model: Option<String>,
    skipped: u64,
}

impl Default for GoogleStream {
    fn default() -> Self {
        GoogleStream {
            include_thoughts: false,
            open: Open::None,
            parts: Vec::new(),
            last_usage: Usage::default(),
            skipped: 0,
            finished: false,
            response_model: None,
        }
    }
}

impl GoogleStream {
    fn switch(&mut self, to: Open, out: &mut Vec<StreamChunk>) {
        if self.open == to {
            return;
        }
        // Thoughts are only streamed when asked for (`thinking.include_thoughts`).
        match self.open {
            Open::Text => out.push(StreamChunk::TextEnd),
            Open::Thought if self.include_thoughts => out.push(StreamChunk::ThoughtEnd),
            _ => {}
        }
        match to {
            Open::Text => out.push(StreamChunk::TextStart),
            Open::Thought if self.include_thoughts => out.push(StreamChunk::ThoughtStart),
            _ => {}
        }
        self.open = to;
    }
}

impl StreamDecoder for GoogleStream {
    fn event(&mut self, _event: &str, data: &str, out: &mut Vec<StreamChunk>) -> Result<()> {
        const CHUNK: &str = "GenerateContentResponse";
        let v = super::parse_event(PROVIDER, data)?;
        super::event_object(PROVIDER, CHUNK, &v)?;
        if v.get("error").is_some() {
            return Err(super::stream_error(&Google, PROVIDER, &v));
        }
        // Every chunk carries candidates, usage or the prompt's feedback: anything else is a
        // shape this wire format does not document, skipped and counted.
        let candidates = super::event_opt_array(PROVIDER, CHUNK, &v, "/candidates")?;
        let usage_meta = super::event_opt_object(PROVIDER, CHUNK, &v, "/usageMetadata")?;
        if candidates.is_none() && usage_meta.is_none() && v.get("promptFeedback").is_none() {
            super::skip_unknown_event(
                PROVIDER,
                "(a chunk without candidates or usage)",
                &mut self.skipped,
            );
            return Ok(());
        }
        if self.response_model.is_none() {
            self.response_model = super::answering_model(&v, "/modelVersion");
        }
        let candidate = candidates.and_then(|c| c.first());
        // A prompt blocked by `promptFeedback` gets no candidate: the answer is empty, and
        // complete (Python's stream simply ends; `decode_response` gives an empty message).
        if candidate.is_none() && v.pointer("/promptFeedback/blockReason").is_some() {
            self.finished = true;
        }
        if candidate.is_some() {
            super::event_opt_object(PROVIDER, CHUNK, &v, "/candidates/0")?;
            super::event_opt_object(PROVIDER, CHUNK, &v, "/candidates/0/content")?;
        }
        let parts = match candidate {
            Some(_) => super::event_opt_array(PROVIDER, CHUNK, &v, "/candidates/0/content/parts")?,
            None => None,
        };
        for p in parts.into_iter().flatten() {
            check_part(p)?;
            // As Mirascope 2.8.2 `google/_utils/decode.py::_GoogleChunkProcessor.process_chunk`:
            // a part that is not a thought ends an open thought; a part without text ends open
            // text; an empty text part opens nothing (`elif part.text:`).
            let is_thought = p.get("thought").and_then(Value::as_bool) == Some(true);
            let text = p
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty());
            let ends_open = match self.open {
                Open::Thought => !is_thought,
                Open::Text => text.is_none(),
                Open::None => false,
            };
            if ends_open {
                self.switch(Open::None, out);
            }
            match decode_part(p) {
                Some(Part::Text { text }) if !text.is_empty() => {
                    self.switch(Open::Text, out);
                    out.push(StreamChunk::TextDelta(text));
                }
                Some(Part::Thought { thought }) => {
                    self.switch(Open::Thought, out);
                    if self.include_thoughts && !thought.is_empty() {
                        out.push(StreamChunk::ThoughtDelta(thought));
                    }
                }
                Some(Part::ToolCall { id, name, args }) => {
                    self.switch(Open::None, out);
                    out.push(StreamChunk::ToolCallStart {
                        id: id.clone(),
                        name,
                    });
                    out.push(StreamChunk::ToolCallDelta {
                        id: id.clone(),
                        delta: args,
                    });
                    out.push(StreamChunk::ToolCallEnd { id });
                }
                _ => {}
            }
            // The raw message keeps every streamed part as it came (`process_chunk`'s
            // `accumulated_parts`): merging would join a signed part with unsigned ones.
            self.parts.push(p.clone());
        }
        if let Some(u) = v.get("usageMetadata") {
            let total = usage(u)?;
            let delta = super::usage_growth(&total, &self.last_usage);
            self.last_usage = total;
            out.push(StreamChunk::UsageDelta(delta));
        }
        let reason = match candidate {
            Some(c) => super::event_opt_str(PROVIDER, CHUNK, c, "/finishReason")?,
            None => None,
        };
        if let Some(reason) = reason {
            self.switch(Open::None, out);
            if let Some(r) = super::google_finish_reason(reason) {
                out.push(StreamChunk::FinishReason(r));
            }
            self.finished = true;
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.finished
    }

    fn skipped_events(&self) -> u64 {
        self.skipped
    }

    fn response_model(&self) -> Option<&str> {
        self.response_model.as_deref()
    }

    fn finish(&mut self) -> StreamMeta {
        StreamMeta {
            id: None,
            response_model: self.response_model.take(),
            raw_message: Some(json!({"parts": std::mem::take(&mut self.parts), "role": "model"})),
            raw: Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thoughts_only_when_asked_for() {
        let body = serde_json::json!({"candidates": [{"content": {"parts": [{"text": "hmm", "thought": true}, {"text": "4"}], "role": "model"}, "finishReason": "STOP"}]});
        let ctx = |include_thoughts| DecodeContext {
            provider_id: "google".into(),
            include_thoughts,
        };
        assert_eq!(
            Google.decode(&ctx(false), body.clone()).unwrap().content,
            vec![Part::text("4")]
        );
        assert_eq!(
            Google.decode(&ctx(true), body).unwrap().content,
            vec![
                Part::Thought {
                    thought: "hmm".into()
                },
                Part::text("4")
            ]
        );
        let mut stream = Google.stream_decoder(&ctx(false));
        let mut out = Vec::new();
        stream
            .event(
                "",
                r#"{"candidates": [{"content": {"parts": [{"text": "hmm", "thought": true}]}}]}"#,
                &mut out,
            )
            .unwrap();
        stream.event("", r#"{"candidates": [{"content": {"parts": [{"text": "4"}]}, "finishReason": "STOP"}]}"#, &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                StreamChunk::TextStart,
                StreamChunk::TextDelta("4".into()),
                StreamChunk::TextEnd
            ]
        );
        assert!(stream.is_done());
    }

    #[test]
    fn base64_matches_standard() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }
}
