//! OpenAI Responses API (`POST {base}/responses`), encoded as Python Mirascope 2.8.2 does.

use serde_json::{json, Map, Value};

use super::{
    openai_error_class, openai_usage, tool_result_text, DecodeContext, EncodeContext,
    StreamDecoder, StreamMeta, WireFormat,
};
use crate::content::{DocumentSource, Message, Part};
use crate::error::{Error, ErrorClass, Result};
use crate::format::{
    ensure_additional_properties_false, ensure_all_properties_required, FormatMode,
};
use crate::params::ThinkingLevel;
use crate::registry::ApiKey;
use crate::response::{Decoded, FinishReason};
use crate::stream::StreamChunk;
use crate::tool::{ToolSchema, FORMAT_TOOL_NAME};

const PROVIDER: &str = "openai";

pub(crate) struct OpenAiResponses;

/// Models that reject a `reasoning` config.
fn is_non_reasoning(model_name: &str) -> bool {
    [
        "gpt-4o",
        "gpt-4.1",
        "gpt-4-",
        "gpt-4",
        "gpt-3.5",
        "chatgpt-4o",
    ]
    .iter()
    .any(|p| model_name.starts_with(p))
}

fn effort(level: ThinkingLevel) -> &'static str {
    match level {
        ThinkingLevel::Default | ThinkingLevel::Medium => "medium",
        ThinkingLevel::None => "none",
        ThinkingLevel::Minimal => "minimal",
        ThinkingLevel::Low => "low",
        ThinkingLevel::High => "high",
        ThinkingLevel::Max => "xhigh",
    }
}

pub(crate) fn function_tool(t: &ToolSchema) -> Value {
    let mut params = t.parameters.to_wire_json();
    ensure_additional_properties_false(&mut params);
    let strict = t.strict.unwrap_or(true);
    if strict {
        ensure_all_properties_required(&mut params);
    }
    json!({"type": "function", "name": t.name, "description": t.description, "parameters": params, "strict": strict})
}

fn encode_user(content: &[Part], out: &mut Vec<Value>) -> Result<()> {
    if let [Part::Text { text }] = content {
        out.push(json!({"content": text, "role": "user"}));
        return Ok(());
    }
    let mut current: Vec<Value> = Vec::new();
    let flush = |current: &mut Vec<Value>, out: &mut Vec<Value>| {
        if !current.is_empty() {
            out.push(
                json!({"content": std::mem::take(current), "role": "user", "type": "message"}),
            );
        }
    };
    for part in content {
        match part {
            Part::Text { text } => current.push(json!({"text": text, "type": "input_text"})),
            Part::Image { source } => {
                let url = super::image_url(source);
                current.push(json!({"image_url": url, "detail": "auto", "type": "input_image"}));
            }
            Part::Document { source } => current.push(match source {
                DocumentSource::Base64 { data, media_type } => json!({"type": "input_file", "filename": "document.pdf", "file_data": format!("data:{media_type};base64,{data}")}),
                DocumentSource::Url { url } => json!({"type": "input_file", "file_url": url}),
                DocumentSource::Text { data, .. } => json!({"text": data, "type": "input_text"}),
            }),
            Part::ToolOutput { id, result, .. } => {
                flush(&mut current, out);
                out.push(json!({"call_id": id, "output": tool_result_text(result), "type": "function_call_output"}));
            }
            Part::Audio { .. } => return Err(Error::unsupported(PROVIDER, "audio input with the Responses API (use the ':completions' model suffix)")),
            Part::ToolCall { .. } | Part::Thought { .. } => return Err(Error::InvalidRequest("user messages cannot contain tool calls or thoughts".into())),
        }
    }
    flush(&mut current, out);
    Ok(())
}

fn encode_assistant(content: &[Part], encode_thoughts: bool, out: &mut Vec<Value>) -> Result<()> {
    for part in content {
        match part {
            Part::Text { text } => out.push(json!({"content": text, "role": "assistant"})),
            Part::Thought { thought } if encode_thoughts => out
                .push(json!({"content": format!("**Thinking:** {thought}"), "role": "assistant"})),
            Part::Thought { .. } => {}
            Part::ToolCall { id, name, args } => out.push(
                json!({"call_id": id, "name": name, "arguments": args, "type": "function_call"}),
            ),
            _ => {
                return Err(Error::InvalidRequest(
                    "assistant messages can only contain text, thoughts and tool calls".into(),
                ))
            }
        }
    }
    Ok(())
}

impl WireFormat for OpenAiResponses {
    fn path(&self, _model_name: &str, _stream: bool) -> String {
        "/responses".into()
    }

    fn auth_header(&self, key: &ApiKey) -> (&'static str, String) {
        ("authorization", format!("Bearer {}", key.expose()))
    }

    fn default_format_mode(&self) -> FormatMode {
        FormatMode::Strict
    }

    fn encode(&self, ctx: &EncodeContext<'_>) -> Result<Value> {
        let mut body = Map::new();
        body.insert("model".into(), json!(ctx.model_name));
        let p = ctx.params;
        if let Some(v) = p.get("temperature") {
            body.insert("temperature".into(), v.clone());
        }
        if let Some(v) = p.get("max_tokens") {
            body.insert("max_output_tokens".into(), v.clone());
        }
        if let Some(v) = p.get("top_p") {
            body.insert("top_p".into(), v.clone());
        }
        for unsupported in ["top_k", "seed", "stop_sequences"] {
            if p.get(unsupported).is_some() {
                tracing::warn!(target: "mirascope_llm", "skipping unsupported parameter {unsupported} (provider: openai:responses)");
            }
        }
        let thinking = p.get_thinking();
        let encode_thoughts = thinking
            .as_ref()
            .and_then(|t| t.encode_thoughts_as_text)
            .unwrap_or(false);
        if let Some(t) = &thinking {
            if is_non_reasoning(ctx.model_name) {
                tracing::warn!(target: "mirascope_llm", "skipping unsupported parameter thinking for non-reasoning model {}", ctx.model_id);
            } else {
                let mut reasoning = json!({"effort": effort(t.level)});
                if t.include_thoughts == Some(true) {
                    reasoning["summary"] = json!("auto");
                }
                body.insert("reasoning".into(), reasoning);
            }
        }

        let mut input = Vec::new();
        for m in ctx.messages {
            match m {
                Message::System(s) => {
                    input.push(json!({"role": "developer", "content": s.content.text}))
                }
                Message::Assistant(a)
                    if ctx.is_own(a) && a.raw_message.is_some() && !encode_thoughts =>
                {
                    match a.raw_message.as_ref() {
                        Some(Value::Array(items)) => input.extend(items.iter().cloned()),
                        Some(other) => input.push(other.clone()),
                        None => {}
                    }
                }
                Message::Assistant(a) => encode_assistant(&a.content, encode_thoughts, &mut input)?,
                Message::User(u) => encode_user(&u.content, &mut input)?,
            }
        }
        body.insert("input".into(), Value::Array(input));

        let user_tools: Vec<Value> = ctx
            .tools
            .iter()
            .map(|t| function_tool(t.schema()))
            .collect();
        let mut tools = user_tools.clone();
        if let Some(f) = ctx.format {
            match f.mode {
                FormatMode::Strict => {
                    let mut schema = f.schema.clone();
                    ensure_additional_properties_false(&mut schema);
                    let mut fmt = json!({"type": "json_schema", "name": f.name, "schema": schema});
                    if let Some(d) = f.description.as_deref().filter(|d| !d.is_empty()) {
                        fmt["description"] = json!(d);
                    }
                    fmt["strict"] = json!(true);
                    body.insert("text".into(), json!({"format": fmt}));
                }
                FormatMode::Tool => {
                    tools.push(function_tool(&f.tool_schema()));
                    let choice = if user_tools.is_empty() {
                        json!({"type": "function", "name": FORMAT_TOOL_NAME})
                    } else {
                        let names: Vec<Value> = tools
                            .iter()
                            .map(|t| json!({"type": "function", "name": t["name"]}))
                            .collect();
                        json!({"type": "allowed_tools", "mode": "required", "tools": names})
                    };
                    body.insert("tool_choice".into(), choice);
                }
                FormatMode::Json => {
                    body.insert("text".into(), json!({"format": {"type": "json_object"}}));
                }
            }
        }
        if !tools.is_empty() {
            body.insert("tools".into(), Value::Array(tools));
        }
        if ctx.stream {
            body.insert("stream".into(), json!(true));
        }
        Ok(Value::Object(body))
    }

    fn decode(&self, _ctx: &DecodeContext, body: Value) -> Result<Decoded> {
        let output = super::required_array(PROVIDER, &body, "output")?;
        let mut content = Vec::new();
        let mut finish_reason = None;
        for item in output {
            decode_item(item, &mut content, &mut finish_reason);
        }
        if let Some(reason) = body
            .pointer("/incomplete_details/reason")
            .and_then(Value::as_str)
        {
            finish_reason = super::finish_reason_from(reason).or(finish_reason);
        }
        Ok(Decoded {
            content,
            finish_reason,
            usage: body
                .get("usage")
                .filter(|u| u.is_object())
                .map(openai_usage),
            id: body.get("id").and_then(Value::as_str).map(str::to_string),
            raw_message: Some(Value::Array(output.clone())),
            raw: body,
        })
    }

    fn stream_decoder(&self, _ctx: &DecodeContext) -> Box<dyn StreamDecoder> {
        Box::new(ResponsesStream::default())
    }

    fn error_class(&self, status: u16) -> ErrorClass {
        openai_error_class(status)
    }
}

fn decode_item(item: &Value, content: &mut Vec<Part>, finish_reason: &mut Option<FinishReason>) {
    match item.get("type").and_then(Value::as_str) {
        Some("message") => {
            for c in item
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match c.get("type").and_then(Value::as_str) {
                    Some("output_text") => content.push(Part::text(
                        c.get("text").and_then(Value::as_str).unwrap_or_default(),
                    )),
                    Some("refusal") => {
                        content.push(Part::text(
                            c.get("refusal").and_then(Value::as_str).unwrap_or_default(),
                        ));
                        *finish_reason = Some(FinishReason::Refusal);
                    }
                    _ => {}
                }
            }
        }
        Some("function_call") => content.push(Part::ToolCall {
            id: str_of(item, "call_id"),
            name: str_of(item, "name"),
            args: str_of(item, "arguments"),
        }),
        Some("reasoning") => {
            for s in item
                .get("summary")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(text) = s.get("text").and_then(Value::as_str) {
                    content.push(Part::Thought {
                        thought: text.to_string(),
                    });
                }
            }
        }
        _ => {}
    }
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The Responses event stream: `response.created` ... `response.completed`.
#[derive(Default)]
struct ResponsesStream {
    /// item id -> call id of function calls.
    calls: Vec<(String, String)>,
    done: bool,
    id: Option<String>,
    items: Vec<Value>,
    raw: Value,
}

impl ResponsesStream {
    fn call_id(&self, item_id: &str) -> String {
        self.calls
            .iter()
            .find(|(i, _)| i == item_id)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| item_id.to_string())
    }
}

impl StreamDecoder for ResponsesStream {
    fn event(&mut self, _event: &str, data: &str, out: &mut Vec<StreamChunk>) -> Result<()> {
        let v = super::parse_event(PROVIDER, data)?;
        let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "response.created" | "response.in_progress" => {
                if let Some(id) = v.pointer("/response/id").and_then(Value::as_str) {
                    self.id = Some(id.to_string());
                }
            }
            "response.output_item.added" => {
                let item = &v["item"];
                if item.get("type").and_then(Value::as_str) == Some("function_call") {
                    let call_id = str_of(item, "call_id");
                    self.calls.push((str_of(item, "id"), call_id.clone()));
                    out.push(StreamChunk::ToolCallStart {
                        id: call_id,
                        name: str_of(item, "name"),
                    });
                }
            }
            "response.content_part.added" => out.push(StreamChunk::TextStart),
            "response.output_text.delta" | "response.refusal.delta" => {
                out.push(StreamChunk::TextDelta(str_of(&v, "delta")))
            }
            "response.content_part.done" => out.push(StreamChunk::TextEnd),
            "response.refusal.done" => out.push(StreamChunk::FinishReason(FinishReason::Refusal)),
            "response.function_call_arguments.delta" => out.push(StreamChunk::ToolCallDelta {
                id: self.call_id(&str_of(&v, "item_id")),
                delta: str_of(&v, "delta"),
            }),
            "response.reasoning_summary_part.added" => out.push(StreamChunk::ThoughtStart),
            "response.reasoning_summary_text.delta" => {
                out.push(StreamChunk::ThoughtDelta(str_of(&v, "delta")))
            }
            "response.reasoning_summary_part.done" => out.push(StreamChunk::ThoughtEnd),
            "response.output_item.done" => {
                let item = v["item"].clone();
                if item.get("type").and_then(Value::as_str) == Some("function_call") {
                    out.push(StreamChunk::ToolCallEnd {
                        id: str_of(&item, "call_id"),
                    });
                }
                self.items.push(item);
            }
            "response.completed" | "response.incomplete" => {
                let resp = &v["response"];
                if let Some(reason) = resp
                    .pointer("/incomplete_details/reason")
                    .and_then(Value::as_str)
                {
                    if let Some(r) = super::finish_reason_from(reason) {
                        out.push(StreamChunk::FinishReason(r));
                    }
                }
                if let Some(u) = resp.get("usage").filter(|u| u.is_object()) {
                    out.push(StreamChunk::UsageDelta(openai_usage(u)));
                }
                if let Some(id) = resp.get("id").and_then(Value::as_str) {
                    self.id = Some(id.to_string());
                }
                self.raw = resp.clone();
                self.done = true;
            }
            "response.failed" => {
                return Err(super::stream_error(
                    &OpenAiResponses,
                    PROVIDER,
                    v.get("response").unwrap_or(&v),
                ))
            }
            "error" => return Err(super::stream_error(&OpenAiResponses, PROVIDER, &v)),
            _ => {}
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn finish(&mut self) -> StreamMeta {
        StreamMeta {
            id: self.id.take(),
            raw_message: Some(Value::Array(std::mem::take(&mut self.items))),
            raw: std::mem::take(&mut self.raw),
        }
    }
}
